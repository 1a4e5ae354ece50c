package bucket

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// TestIndexRevision: the revision is Flux's, the SHA-256 of "NAME ETAG" lines in name order.
func TestIndexRevision(t *testing.T) {
	i := Index{"deploy/svc.yaml": `"0x8DC2"`, "deploy/app.yaml": `"0x8DC1"`, "a b.yaml": `"0x8DC3"`}
	sum := sha256.Sum256([]byte("a b.yaml \"0x8DC3\"\ndeploy/app.yaml \"0x8DC1\"\ndeploy/svc.yaml \"0x8DC2\"\n"))
	if got, want := i.Revision(), "sha256:"+hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("revision %s, want %s", got, want)
	}
	var buf strings.Builder
	if _, err := i.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadIndex(strings.NewReader(buf.String()), i.Revision())
	if err != nil || !maps.Equal(back, i) {
		t.Fatalf("read back %v, %v", back, err)
	}
	if _, err := ReadIndex(strings.NewReader(buf.String()), Index{}.Revision()); !errors.Is(err, ErrIndexMismatch) {
		t.Fatalf("an index read for another revision: %v", err)
	}
	if (Index{}).Revision() != "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatal("the empty index is not the digest of nothing")
	}
}

// TestList: the prefix selects, the root .sourceignore and then spec.ignore leave out, and names
// that cannot be paths are skipped, as are directory markers.
func TestList(t *testing.T) {
	s := newFakeService(map[string]string{
		".sourceignore":         "*.md\n!/deploy/KEEP.md\n",
		"deploy/app.yaml":       "kind: ConfigMap\n",
		"deploy/README.md":      "# no\n",
		"deploy/KEEP.md":        "# yes\n",
		"deploy/secret.enc":     "x",
		"deploy/dir/":           "",
		"deploy/sub":            "",
		"deploy/sub/x.yaml":     "kind: Service\n",
		"deploy/../escape.yaml": "x",
		"other/app.yaml":        "kind: Other\n",
	})
	b := s.open(t)
	ignore := "*.enc\n"
	l, err := b.List(t.Context(), "deploy/", &ignore, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(maps.Keys(l.Index))
	if want := []string{"deploy/KEEP.md", "deploy/app.yaml", "deploy/sub/x.yaml"}; !slices.Equal(names, want) {
		t.Errorf("indexed %v, want %v", names, want)
	}
	if !slices.Contains(l.Skipped, "deploy/../escape.yaml") || !slices.Contains(l.Skipped, "deploy/sub") {
		t.Errorf("skipped %v", l.Skipped)
	}
	if !strings.HasPrefix(l.Index["deploy/app.yaml"], `"0x8DC`) {
		t.Errorf("ETag %q is not in the quoted form", l.Index["deploy/app.yaml"])
	}
	if l.Size != int64(len("kind: ConfigMap\n")+len("# yes\n")+len("kind: Service\n")) {
		t.Errorf("size %d", l.Size)
	}

	s.put("deploy/sub", "content")
	if _, err := b.List(t.Context(), "deploy/", nil, nil); err == nil || !strings.Contains(err.Error(), "is a file and the directory") {
		t.Errorf("a blob that is a file and a directory: %v", err)
	}
	var limit *LimitError
	if _, err := b.List(t.Context(), "", nil, &Limits{MaxBlobs: 2}); !errors.As(err, &limit) {
		t.Errorf("MaxBlobs: %v", err)
	}
	if _, err := b.List(t.Context(), "deploy/app", nil, &Limits{MaxSize: 4}); !errors.As(err, &limit) {
		t.Errorf("MaxSize: %v", err)
	}
}

// TestFetch: blobs whose ETags the directory holds already are not downloaded; a blob deleted
// between the listing and its download leaves the index; a changed one is downloaded with its
// new ETag.
func TestFetch(t *testing.T) {
	files := map[string]string{"deploy/a.yaml": "a", "deploy/b.yaml": "b", "deploy/c/d.yaml": "d"}
	for i := range 20 {
		files["deploy/many/"+string(rune('a'+i))+".yaml"] = strings.Repeat("x", i)
	}
	s := newFakeService(files)
	b := s.open(t)
	l, err := b.List(t.Context(), "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := s.takeDownloads(); len(d) != 0 {
		t.Errorf("listing a container without %s downloaded %v", IgnoreFile, d)
	}
	dir := t.TempDir()
	got, err := b.Fetch(t.Context(), dir, l.Index, nil, 0)
	if err != nil || got.Downloaded != len(files) || got.Index.Revision() != l.Index.Revision() {
		t.Fatalf("first fetch: %+v, %v", got, err)
	}
	for name, content := range files {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(data) != content {
			t.Errorf("%s holds %q, %v", name, data, err)
		}
	}
	s.takeDownloads()

	// Nothing changed: nothing is downloaded.
	if again, err := b.Fetch(t.Context(), dir, l.Index, l.Index, 0); err != nil || again.Downloaded != 0 || len(s.takeDownloads()) != 0 {
		t.Fatalf("unchanged: %+v, %v", again, err)
	}

	s.put("deploy/a.yaml", "a2")
	s.put("deploy/b.yaml", "b2")
	l2, err := b.List(t.Context(), "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.gone["deploy/b.yaml"] = true
	got, err = b.Fetch(t.Context(), dir, l2.Index, l.Index, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := s.takeDownloads(); !slices.Equal(d, []string{"deploy/a.yaml"}) {
		t.Errorf("downloaded %v, want only the changed blob", d)
	}
	if _, ok := got.Index["deploy/b.yaml"]; ok || got.Index["deploy/a.yaml"] == l.Index["deploy/a.yaml"] {
		t.Errorf("index after changes %v", got.Index)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "deploy/a.yaml")); string(data) != "a2" {
		t.Errorf("deploy/a.yaml holds %q", data)
	}

	var limit *LimitError
	if _, err := b.Fetch(t.Context(), t.TempDir(), l.Index, nil, 10); !errors.As(err, &limit) {
		t.Errorf("maxSize: %v", err)
	}
}

// TestAuth: a Bucket's secret chooses its credential as Flux's does: an application's secret or
// certificate, then a managed identity's clientId, then accountKey, then sasKey; without a
// secret, the service account (behind the gate) or the controller's identity.
func TestAuth(t *testing.T) {
	cert := azuretest.NewKeyPair("app", nil).PEM()
	secrets := map[string]map[string]string{
		"app":        {"tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "clientId": "0b0b0b0b-0000-4000-8000-00000000000a", "clientSecret": "s3cret", "accountKey": "a2V5"},
		"cert":       {"tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "clientId": "0b0b0b0b-0000-4000-8000-00000000000a", "clientCertificate": string(cert)},
		"mi":         {"clientId": "0b0b0b0b-0000-4000-8000-00000000000b", "accountKey": "a2V5", "sasKey": "sig=x"},
		"key":        {"accountKey": "a2V5", "sasKey": "?sv=1&sig=x"},
		"sas":        {"sasKey": "?sv=2022-11-02&sp=rl&sig=abc"},
		"authority":  {"authorityHost": "https://login.microsoftonline.us/"},
		"empty":      {"unrelated": "x"},
		"tenantOnly": {"tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "clientSecret": "s3cret"},
	}
	var objs []runtime.Object
	for name, data := range secrets {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		objs = append(objs, s)
	}
	c := fake.NewClientBuilder().WithRuntimeObjects(objs...).Build()
	ids, err := identity.NewResolver(c, &identity.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	f := NewFactory(access.NewResolver(c, ids, entra.NewProvider(nil), transport.Options{}))
	tests := []struct {
		secret, sa string
		kind       string // token: the credential's String contains it; "key", "sas"
		refuse     string
	}{
		{secret: "app", kind: "client secret"},
		{secret: "cert", kind: "certificate"},
		{secret: "mi", kind: "managed identity"},
		{secret: "key", kind: "key"},
		{secret: "sas", kind: "sas"},
		{secret: "authority", refuse: "sets only 'authorityHost'"},
		{secret: "empty", refuse: "requires a 'clientId' or 'accountKey' field"},
		{secret: "tenantOnly", refuse: "requires a 'clientId' or 'accountKey' field"},
		{secret: "missing", refuse: "secret 'missing' not found in namespace 'ns'"},
		{sa: "reader", refuse: "ObjectLevelWorkloadIdentity"},
		{kind: "node's managed identity"},
	}
	for _, tt := range tests {
		t.Run(tt.secret+tt.sa+tt.kind, func(t *testing.T) {
			spec := Spec{Spec: access.Spec{Namespace: "ns", ServiceAccountName: tt.sa}, SecretRef: tt.secret}
			auth, err := f.auth(t.Context(), spec, access.Connection{})
			if tt.refuse != "" {
				if err == nil || !strings.Contains(err.Error(), tt.refuse) {
					t.Fatalf("err = %v, want one saying %q", err, tt.refuse)
				}
				for _, v := range secrets[tt.secret] {
					if len(v) > 4 && strings.Contains(err.Error(), v) && !strings.HasPrefix(v, "https://") {
						t.Errorf("the error shows a value of the secret: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch tt.kind {
			case "key":
				if auth.AccountKey != "a2V5" || auth.Token != nil || !strings.Contains(auth.Who, "account key of secret ns/key") {
					t.Errorf("auth = %+v", auth)
				}
			case "sas":
				if auth.SAS != "sv=2022-11-02&sp=rl&sig=abc" || auth.AccountKey != "" || !strings.Contains(auth.Who, "SAS of secret ns/sas") {
					t.Errorf("auth = %+v", auth)
				}
			default:
				if auth.Token == nil || auth.AccountKey != "" || !strings.Contains(auth.Token.(interface{ String() string }).String(), tt.kind) {
					t.Errorf("auth = %+v (%v)", auth, auth.Token)
				}
			}
		})
	}
}

// TestOpenRefusesConfiguration: what the controller cannot serve stalls, with Flux's reasons.
func TestOpenRefusesConfiguration(t *testing.T) {
	f := NewFactory(access.NewResolver(nil, nil, nil, transport.Options{}))
	tests := []struct {
		spec   Spec
		reason string
		says   string
	}{
		{Spec{Provider: "generic", Endpoint: "https://minio.example.com", Container: "podinfo"}, "InvalidProviderConfiguration", "set spec.provider to 'azure'"},
		{Spec{Provider: "aws", Endpoint: "https://s3.amazonaws.com", Container: "podinfo"}, "InvalidProviderConfiguration", "not served"},
		{Spec{Provider: "azure", Endpoint: "https://minio.example.com", Container: "podinfo"}, "URLInvalid", "is not an Azure Blob Storage endpoint"},
		{Spec{Provider: "azure", Endpoint: "https://acct.blob.core.windows.net", Container: "Pod_Info"}, "URLInvalid", "spec.bucketName"},
	}
	for _, tt := range tests {
		_, err := f.Open(t.Context(), tt.spec)
		var ce *ConfigError
		if !errors.As(err, &ce) || !ce.Terminal() || ce.Reason() != tt.reason || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%+v: err = %v (%T)", tt.spec, err, err)
		}
	}
}
