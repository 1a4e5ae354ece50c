package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// TestDefaultDirectoryHoldsTheSamples: the built-in directory has every name the samples use,
// and the tenant meant to fail holds no role that would let it pull.
func TestDefaultDirectoryHoldsTheSamples(t *testing.T) {
	d := directory.Default()
	n, err := lookup(d)
	if err != nil {
		t.Fatal(err)
	}
	if n.registryHost() != "azimuthlocal.azurecr.io" || n.node.Name != "node-kubelet" || n.pushID == "" {
		t.Fatalf("names = %+v", n)
	}
	for _, tn := range tenants() {
		if !tn.denied {
			continue
		}
		for _, ra := range d.Spec().RoleAssignments {
			if strings.EqualFold(ra.Principal, tn.identity) {
				t.Errorf("%s is meant to hold no role, but has %s on %s", tn.identity, ra.Role, ra.Scope)
			}
		}
	}
}

func TestLookupNamesWhatIsMissing(t *testing.T) {
	spec := directory.Default().Spec()
	var kept []directory.ManagedIdentity
	for _, mi := range spec.ManagedIdentities {
		if mi.Name != "team-apps" {
			kept = append(kept, mi)
		}
	}
	spec.ManagedIdentities = kept
	d, err := directory.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lookup(d)
	if err == nil || !strings.Contains(err.Error(), "'team-apps'") || !strings.Contains(err.Error(), "--print-directory") {
		t.Fatalf("err = %v", err)
	}
}

// TestStateDirIsLocked: two runs never share a state directory, and a run clears what the
// previous one left of its cluster but keeps the local Azure's CA.
func TestStateDirIsLocked(t *testing.T) {
	dir := t.TempDir()
	first := &System{opts: Options{StateDir: dir}}
	if err := first.prepareStateDir(); err != nil {
		t.Fatal(err)
	}
	second := &System{opts: Options{StateDir: dir}}
	if err := second.prepareStateDir(); err == nil || !strings.Contains(err.Error(), "another azimuth dev up") {
		t.Fatalf("second run: err = %v, want the state directory in use", err)
	}
	first.Stop()
	for _, f := range []string{"kube/etcd/db", "azure/ca.pem"} {
		writeFile(t, dir+"/"+f)
	}
	third := &System{opts: Options{StateDir: dir}}
	if err := third.prepareStateDir(); err != nil {
		t.Fatalf("after the first run stopped: %v", err)
	}
	defer third.Stop()
	if exists(dir + "/kube") {
		t.Error("the previous run's cluster is still there")
	}
	if !exists(dir + "/azure/ca.pem") {
		t.Error("the local Azure's CA was removed")
	}
}

func TestProblem(t *testing.T) {
	ready := func(o object, status metav1.ConditionStatus, reason string) Row {
		o.(interface{ SetConditions([]metav1.Condition) }).SetConditions([]metav1.Condition{{Type: meta.ReadyCondition, Status: status, Reason: reason}})
		return Row{Ready: status, Reason: reason}
	}
	oci := func(revision string) *sourcev1.OCIRepository {
		o := &sourcev1.OCIRepository{}
		if revision != "" {
			o.Status.Artifact = &meta.Artifact{Revision: revision}
		}
		return o
	}
	policy := func(tag string) *imagev1.ImagePolicy {
		return &imagev1.ImagePolicy{Status: imagev1.ImagePolicyStatus{LatestRef: &imagev1.ImageRef{Tag: tag}}}
	}
	for _, tc := range []struct {
		name       string
		obj        object
		status     metav1.ConditionStatus
		reason     string
		failReason string
		want       string
	}{
		{"ready with the latest artifact", oci("1.1.0@sha256:abc"), metav1.ConditionTrue, meta.SucceededReason, "", ""},
		{"ready with an older artifact", oci("1.0.0@sha256:abc"), metav1.ConditionTrue, meta.SucceededReason, "", "want the artifact of 1.1.0"},
		{"not ready", oci(""), metav1.ConditionFalse, sourcev1.AuthenticationFailedReason, "", "not Ready"},
		{"failed as expected", oci(""), metav1.ConditionFalse, sourcev1.AuthenticationFailedReason, sourcev1.AuthenticationFailedReason, ""},
		{"failed otherwise", oci(""), metav1.ConditionFalse, sourcev1.OCIPullFailedReason, sourcev1.AuthenticationFailedReason, "want Ready=False with reason AuthenticationFailed"},
		{"ready though meant to fail", oci("1.1.0@sha256:abc"), metav1.ConditionTrue, meta.SucceededReason, sourcev1.AuthenticationFailedReason, "want Ready=False with reason AuthenticationFailed"},
		{"policy on the latest release", policy("6.7.1"), metav1.ConditionTrue, meta.SucceededReason, "", ""},
		{"policy on the release candidate", policy("7.0.0-rc.1"), metav1.ConditionTrue, meta.SucceededReason, "", "want the latest tag 6.7.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := problem(tc.obj, ready(tc.obj, tc.status, tc.reason), tc.failReason); got != tc.want {
				t.Fatalf("problem = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBrief(t *testing.T) {
	digest := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	for _, tc := range []struct {
		message string
		ready   bool
		want    string
	}{
		{"successful scan: found 4 tags", true, "successful scan: found 4 tags"},
		{"stored artifact for digest '1.1.0@" + digest + "'", true, "stored artifact for digest '1.1.0@sha256:0123456789ab…'"},
		{"stored artifact for revision 'main@sha1:" + strings.Repeat("0123456789", 4) + "'", true, "stored artifact for revision 'main@sha1:012345678901…'"},
		{"Latest image tag for 'azimuthlocal.azurecr.io/samples/podinfo' resolved to 6.7.1", true,
			"Latest image tag for 'azimuthlo…mples/podinfo' resolved to 6.7.1"},
		{"workload identity (client ID bca54e62-4c56-40ce-9b34-044a9a5f57b4, tenant 2e811126-9388-40f9-a8e4-23ac7e094717) from service account team-denied/source was refused", false,
			"workload identity (client ID bca54e62…, tenant 2e811126…) from …"},
		{"two\nlines", false, "two lines"},
	} {
		got := brief(tc.message, tc.ready)
		if got != tc.want {
			t.Errorf("brief(%q) = %q, want %q", tc.message, got, tc.want)
		}
		if n := len([]rune(got)); n > messageWidth {
			t.Errorf("brief(%q) is %d runes wide", tc.message, n)
		}
	}
}

func TestTableMarksExpectedFailures(t *testing.T) {
	table := Table{
		{Kind: "OCIRepository", Namespace: "team-apps", Name: "manifests", Identity: Identity{Method: "object WI", Principal: "team-apps/source", ClientID: "9900c650-986a-47f1-867b-f67a2171f746"},
			Ready: metav1.ConditionTrue, Message: "stored", Expected: "Ready"},
		{Kind: "OCIRepository", Namespace: "team-denied", Name: "manifests", Identity: Identity{Method: "object WI", Principal: "team-denied/source", ClientID: "bca54e62-4c56-40ce-9b34-044a9a5f57b4"},
			Ready: metav1.ConditionFalse, Reason: "AuthenticationFailed", Message: "refused: az role assignment create", Expected: "AuthenticationFailed"},
	}
	var out bytes.Buffer
	if err := table.Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"object WI team-apps/source (9900c650…)", "False (expected)", "team-denied/manifests is not Ready (AuthenticationFailed):\n  refused: az role assignment create"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if err := table.Err(); err != nil {
		t.Fatalf("Err = %v for a table as expected", err)
	}
	table[0].Ready, table[0].Problem = metav1.ConditionFalse, "not Ready"
	if err := table.Err(); err == nil || !strings.Contains(err.Error(), "1 of 2") {
		t.Fatalf("Err = %v", err)
	}
	if table.final() {
		t.Error("final with an object that is not Ready yet")
	}
	out.Reset()
	table[0].Ready, table[0].Problem = metav1.ConditionTrue, "want the artifact of 1.1.0"
	if err := table.Write(&out); err != nil {
		t.Fatal(err)
	}
	if !table.final() || !strings.Contains(out.String(), "True (unexpected)") || !strings.Contains(out.String(), "team-apps/manifests: want the artifact of 1.1.0") {
		t.Errorf("final = %v; table:\n%s", table.final(), out.String())
	}
}

func TestProgressLines(t *testing.T) {
	var out bytes.Buffer
	now := time.Unix(0, 0)
	p := &progress{w: &out, now: func() time.Time { return now }, start: now}
	done := p.step("etcd and kube-apiserver")
	now = now.Add(6100 * time.Millisecond)
	done("", nil)
	p.step("samples")("2 tags", nil)
	if got := out.String(); !strings.Contains(got, "  etcd and kube-apiserver ....") || !strings.Contains(got, " ready in 6.1s\n") || !strings.Contains(got, "ready in 0.0s: 2 tags\n") {
		t.Fatalf("progress:\n%s", got)
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
