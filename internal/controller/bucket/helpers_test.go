package bucket_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	localblob "github.com/azimuth-gitops/azimuth/azurelocal/blob"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// bucket is a Bucket of container that checks every hour, so that only the test makes it
// reconcile again.
func bucket(ns, name, acct, container string, mutate func(*sourcev1.BucketSpec)) *sourcev1.Bucket {
	obj := &sourcev1.Bucket{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: sourcev1.BucketSpec{
		Provider: sourcev1.AzureBucketProvider, BucketName: container, Endpoint: "https://" + acct + localblob.Suffix,
		Interval: metav1.Duration{Duration: time.Hour},
	}}
	if mutate != nil {
		mutate(&obj.Spec)
	}
	return obj
}

func (fx *fixture) namespace(t *testing.T) string {
	t.Helper()
	return testenv.Namespace(t, fx.kube, "bucket-")
}

func (fx *fixture) create(t *testing.T, objs ...client.Object) {
	t.Helper()
	testenv.Create(t, fx.kube, objs...)
}

var secrets atomic.Int32

// secret creates a secret with data in ns, and returns its name.
func (fx *fixture) secret(t *testing.T, ns string, data map[string]string) string {
	t.Helper()
	name := fmt.Sprintf("azure-%d", secrets.Add(1))
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: data}
	fx.create(t, s)
	return name
}

// serviceAccount creates a service account annotated for the managed identity clientID, and
// lets it act as that identity.
func (fx *fixture) serviceAccount(t *testing.T, ns, name, clientID string) {
	t.Helper()
	fx.create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{
		identity.ClientIDAnnotation: clientID, identity.TenantIDAnnotation: tenantID,
	}}})
	err := fx.azure.Directory().AddFederatedCredential(clientID, directory.FederatedCredential{
		Name: ns + "-" + name, Issuer: fx.env.IssuerURL, Subject: "system:serviceaccount:" + ns + ":" + name,
	})
	if err != nil {
		t.Fatal(err)
	}
}

var containers atomic.Int32

// container creates a container of its own in acct holding files, and returns its name.
func (fx *fixture) container(t *testing.T, acct string, files map[string]string) string {
	t.Helper()
	name := fmt.Sprintf("fleet-%d-%d", time.Now().UnixNano()%1e6, containers.Add(1))
	if _, err := fx.sharedKeyClient(t, acct).CreateContainer(t.Context(), name, nil); err != nil {
		t.Fatal(err)
	}
	fx.upload(t, acct, name, files)
	return name
}

func (fx *fixture) upload(t *testing.T, acct, container string, files map[string]string) {
	t.Helper()
	c := fx.sharedKeyClient(t, acct)
	for name, content := range files {
		if _, err := c.UploadBuffer(t.Context(), container, name, []byte(content), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// sas is a service SAS of the container with read and list, valid until expiry.
func (fx *fixture) sas(t *testing.T, container string, expiry time.Time) string {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(account, key)
	if err != nil {
		t.Fatal(err)
	}
	q, err := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPS, StartTime: expiry.Add(-2 * time.Hour), ExpiryTime: expiry,
		Permissions: (&sas.ContainerPermissions{Read: true, List: true}).String(), ContainerName: container,
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	return q.Encode()
}

// listETags lists the container's blobs under prefix with their ETags, quoted as in headers.
func (fx *fixture) listETags(t *testing.T, acct, container, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	pager := fx.sharedKeyClient(t, acct).NewListBlobsFlatPager(container, &azblob.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			etag := string(*b.Properties.ETag)
			if !strings.HasPrefix(etag, `"`) {
				etag = `"` + etag + `"`
			}
			out[*b.Name] = etag
		}
	}
	return out
}

// revision is Flux's revision of the container's blobs under prefix but .sourceignore.
func (fx *fixture) revision(t *testing.T, acct, container, prefix string) string {
	t.Helper()
	etags := fx.listETags(t, acct, container, prefix)
	delete(etags, ".sourceignore")
	return revisionOf(etags, etags)
}

// revisionOf is the SHA-256 of "NAME ETAG" lines of the blobs of want, in name order, as Flux's
// index digests them.
func revisionOf(etags map[string]string, want map[string]string) string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		fmt.Fprintf(h, "%s %s\n", name, etags[name])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// expectArtifact fails the test unless obj's artifact has revision and holds exactly files.
func (fx *fixture) expectArtifact(t *testing.T, obj *sourcev1.Bucket, files map[string]string, revision string) {
	t.Helper()
	a := obj.Status.Artifact
	if a == nil || a.Revision != revision {
		t.Fatalf("status.artifact = %+v, want revision %s", a, revision)
	}
	if want := "bucket/" + obj.Namespace + "/" + obj.Name + "/" + strings.TrimPrefix(revision, "sha256:") + ".tar.gz"; a.Path != want || obj.Status.URL != a.URL {
		t.Errorf("artifact path %s, url %s; want path %s and status.url the artifact's", a.Path, obj.Status.URL, want)
	}
	if got := fx.artifactFiles(t, a); !maps.Equal(got, files) {
		t.Fatalf("the artifact holds %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(files)))
	}
}

// artifactFiles downloads the artifact from the manager's artifact server and returns its files.
func (fx *fixture) artifactFiles(t *testing.T, a *meta.Artifact) map[string]string {
	t.Helper()
	resp, err := http.Get(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", a.URL, resp.Status, err)
	}
	sum := sha256.Sum256(body)
	if "sha256:"+hex.EncodeToString(sum[:]) != a.Digest {
		t.Errorf("the served artifact does not have the digest status.artifact.digest says")
	}
	gz, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			data, _ := io.ReadAll(tr)
			files[hdr.Name] = string(data)
		}
	}
}

// reconcileAndWait asks for a reconcile, as `flux reconcile source bucket` does, and waits until
// obj handled it and is Ready.
func (fx *fixture) reconcileAndWait(t *testing.T, obj *sourcev1.Bucket) {
	t.Helper()
	token := fmt.Sprint(time.Now().UnixNano())
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := fx.kube.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		a := obj.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[meta.ReconcileRequestAnnotation] = token
		obj.SetAnnotations(a)
		return fx.kube.Update(t.Context(), obj)
	})
	if err != nil {
		t.Fatal(err)
	}
	fx.waitFor(t, obj, "the reconcile request handled", func() bool {
		return obj.Status.LastHandledReconcileAt == token && ready(obj)()
	})
}

// waitFor reads obj until ok holds, and fails the test with its last state when it does not in
// time.
func (fx *fixture) waitFor(t *testing.T, obj *sourcev1.Bucket, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		err := fx.kube.Get(t.Context(), client.ObjectKeyFromObject(obj), obj)
		if err == nil && ok() {
			return
		}
		if time.Now().After(deadline) {
			out, _ := yaml.Marshal(obj)
			t.Fatalf("Bucket %s/%s: gave up waiting until %s (last error: %v); last state:\n%s", obj.Namespace, obj.Name, what, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitEvent waits for an event about obj with the type, reason and a note containing note.
func (fx *fixture) waitEvent(t *testing.T, obj *sourcev1.Bucket, eventType, reason, note string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		var list eventsv1.EventList
		if err := fx.kube.List(t.Context(), &list, client.InNamespace(obj.Namespace)); err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, e := range list.Items {
			if e.Regarding.Kind == sourcev1.BucketKind && e.Regarding.Name == obj.Name {
				if e.Type == eventType && e.Reason == reason && strings.Contains(e.Note, note) {
					return
				}
				seen = append(seen, e.Type+" "+e.Reason+": "+e.Note)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s %s event saying %q; seen:\n%s", eventType, reason, note, strings.Join(seen, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func condition(obj *sourcev1.Bucket, typ string) *metav1.Condition {
	return apimeta.FindStatusCondition(obj.GetConditions(), typ)
}

// is returns a check that obj's condition typ has status and reason for its generation.
func is(obj *sourcev1.Bucket, typ string, status metav1.ConditionStatus, reason string) func() bool {
	return func() bool {
		c := condition(obj, typ)
		return c != nil && c.Status == status && c.Reason == reason && c.ObservedGeneration == obj.Generation
	}
}

func ready(obj *sourcev1.Bucket) func() bool {
	return is(obj, meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason)
}

// stalled is Ready=False and Stalled=True with reason, and not Reconciling.
func stalled(obj *sourcev1.Bucket, reason string) func() bool {
	notReady, stall := is(obj, meta.ReadyCondition, metav1.ConditionFalse, reason), is(obj, meta.StalledCondition, metav1.ConditionTrue, reason)
	return func() bool { return notReady() && stall() && condition(obj, meta.ReconcilingCondition) == nil }
}

func expectCondition(t *testing.T, obj *sourcev1.Bucket, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	if c := condition(obj, typ); c == nil || c.Status != status || c.Reason != reason {
		t.Fatalf("condition %s = %+v, want status %s and reason %s", typ, c, status, reason)
	}
}

func unstructuredOf(m map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: m}
}
