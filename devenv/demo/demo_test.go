package demo

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/doctor"
	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// The table of a run with the built-in directory: 43 rows, of which these are Ready and these
// fail on purpose, each with its reason.
const (
	wantRows = 43
	// 9 of the ACR slice, 6 GitRepositories, 4 application Kustomizations, 4 decrypting ones,
	// 3 applying to the AKS cluster, 1 ImageUpdateAutomation, 5 Buckets, 3 Providers and 3
	// Alerts that delivered.
	wantReady = 38
)

var wantDenied = map[string]string{
	"OCIRepository team-denied/manifests": sourcev1.AuthenticationFailedReason,
	"GitRepository team-denied/fleet":     sourcev1.AuthenticationFailedReason,
	"Bucket team-denied/manifests":        sourcev1.BucketOperationFailedReason,
	"Kustomization team-denied/secrets":   kustomizev1.DecryptionFailedReason,
	"Kustomization team-denied/aks":       meta.ReconciliationFailedReason,
}

// TestDevUp runs the demo end to end, as `azimuth dev up --once` does: every object settles as
// expected, the Kustomizations applied the application and the Secret decrypted with Key Vault
// in each tenant whose identity holds Key Vault Crypto User, and team-denied's decryption failed
// naming the role and the command that grants it.
func TestDevUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	sys, err := Start(ctx, &Options{StateDir: t.TempDir(), Progress: &progress})
	if err != nil {
		t.Fatalf("Start: %v\n%s", err, progress.String())
	}
	defer sys.Stop()
	table := sys.Settle(ctx)
	var out bytes.Buffer
	if err := table.Write(&out); err != nil {
		t.Fatal(err)
	}
	t.Logf("azimuth dev up:\n%s\n%s", progress.String(), out.String())
	if err := table.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "azimuthlocal/manifests: 6 blobs as flux-secret-app, 3 role assignments") {
		t.Error("the progress lacks the blob upload")
	}
	if !strings.Contains(progress.String(), "SOPS Secret encrypted with Key Vault") || !strings.Contains(progress.String(), "wrapped by azimuth-local/keys/sops as flux-secret-app") {
		t.Error("the progress lacks the SOPS encryption step")
	}
	ready, denied := 0, map[string]string{}
	for _, r := range table {
		switch r.Ready {
		case metav1.ConditionTrue:
			ready++
		case metav1.ConditionFalse:
			denied[r.Object()] = r.Reason
		}
	}
	if len(table) != wantRows || ready != wantReady {
		t.Errorf("%d rows, %d Ready; want %d and %d", len(table), ready, wantRows, wantReady)
	}
	if !maps.Equal(denied, wantDenied) {
		t.Errorf("not Ready: %v, want %v", denied, wantDenied)
	}
	want := map[string]string{ // the Kustomizations' identities, as the table shows them
		"Kustomization team-apps/podinfo":     "none (applies OCIRepository manifests)",
		"Kustomization team-apps/secrets":     "object WI team-apps/source (9900c650…)",
		"Kustomization team-platform/secrets": "controller WI flux-controller (213d8012…)",
		"Kustomization team-node/secrets":     "node MI node-kubelet (4817e33f…)",
		"Kustomization team-secrets/podinfo":  "none (applies GitRepository fleet-pat)",
		"Kustomization team-secrets/secrets":  "client secret flux-secret-app (secret sops-keys) (7e477dda…)",
		"Kustomization team-denied/secrets":   "object WI team-denied/source (bca54e62…)",
		"Kustomization team-platform/podinfo": "none (applies OCIRepository manifests)",
		"Kustomization team-node/podinfo":     "none (applies OCIRepository manifests)",
		"OCIRepository team-denied/manifests": "object WI team-denied/source (bca54e62…)",
		// the AKS cluster, one per identity kind
		"Kustomization team-apps/aks":     "object WI team-apps/source (9900c650…)",
		"Kustomization team-platform/aks": "controller WI flux-controller (213d8012…)",
		"Kustomization team-node/aks":     "node MI node-kubelet (4817e33f…)",
		"Kustomization team-denied/aks":   "object WI team-denied/source (bca54e62…)",
		// the Buckets, one per identity kind
		"Bucket team-apps/manifests":        "object WI team-apps/source (9900c650…)",
		"Bucket team-platform/manifests":    "controller WI flux-controller (213d8012…)",
		"Bucket team-node/manifests":        "node MI node-kubelet (4817e33f…)",
		"Bucket team-denied/manifests":      "object WI team-denied/source (bca54e62…)",
		"Bucket team-secrets/manifests-key": "account key azimuthlocal (secret blob-key)",
		"Bucket team-secrets/manifests-app": "client secret flux-secret-app (secret blob-app) (7e477dda…)",
		// the notifications
		"Provider team-apps/teams":            "webhook URL (secret teams-webhook)",
		"Alert team-apps/teams":               "none (delivers through Provider teams)",
		"Provider team-platform/azure-devops": "controller WI flux-controller (213d8012…)",
		"Alert team-platform/azure-devops":    "none (delivers through Provider azure-devops)",
		"Provider team-platform/event-hub":    "controller WI flux-controller (213d8012…)",
		"Alert team-platform/event-hub":       "none (delivers through Provider event-hub)",
	}
	for _, r := range table {
		if id, ok := want[r.Object()]; ok {
			if r.Identity.String() != id {
				t.Errorf("%s acts as %q, want %q", r.Object(), r.Identity, id)
			}
			delete(want, r.Object())
		}
	}
	if len(want) > 0 {
		t.Errorf("rows missing: %v", want)
	}
	for _, w := range []string{
		"Kustomization team-denied/secrets is not Ready (DecryptionFailed):\n  cannot decrypt Secret team-denied/db",
		"https://azimuth-local.vault.azure.net/keys/sops/",
		`it needs the role "Key Vault Crypto User" on the vault azimuth-local`,
		`az role assignment create --assignee bca54e62-4c56-40ce-9b34-044a9a5f57b4 --role "Key Vault Crypto User"`,
		"Kustomization team-denied/aks is not Ready (ReconciliationFailed):",
		`it needs the role "Azure Kubernetes Service Cluster User Role" on the AKS cluster fleet`,
		`az role assignment create --assignee bca54e62-4c56-40ce-9b34-044a9a5f57b4 --role "Azure Kubernetes Service Cluster User Role"`,
		"Bucket team-denied/manifests is not Ready (BucketOperationFailed):",
		`it needs the role "Storage Blob Data Reader" on the storage account azimuthlocal`,
		`az role assignment create --assignee bca54e62-4c56-40ce-9b34-044a9a5f57b4 --role "Storage Blob Data Reader"`,
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("the table lacks %q", w)
		}
	}

	c := sys.Env.Client
	for _, ns := range []string{"team-apps", "team-platform", "team-node", SecretsTenant} {
		var secret corev1.Secret
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: SOPSSecret}, &secret); err != nil {
			t.Errorf("the decrypted Secret: %v", err)
		} else if got := string(secret.Data["password"]); got != SOPSPassword {
			t.Errorf("Secret %s/%s password = %q, want the plaintext", ns, SOPSSecret, got)
		}
		for _, obj := range []client.Object{&corev1.ConfigMap{}, &corev1.Service{}, &appsv1.Deployment{}} {
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, obj); err != nil {
				t.Errorf("the application in %s: %v", ns, err)
			} else if obj.GetLabels()[kustomizev1.NameLabel] != AppKustomization {
				t.Errorf("%T %s/podinfo lacks the label of Kustomization %s: %v", obj, ns, AppKustomization, obj.GetLabels())
			}
		}
	}
	var secret corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: "team-denied", Name: SOPSSecret}, &secret); err == nil {
		t.Error("team-denied's Secret was applied though its identity may not decrypt")
	}
	checkFleet(ctx, t, sys)
	checkBuckets(ctx, t, sys, table)
	checkNotifications(ctx, t, sys, table)
	checkAutomation(ctx, t, sys, table)
}

// TestSamplesPlan: with the built-in directory, every tenant with a source that can become Ready
// gets the application, every identity kind decrypts the SOPS Secret, and team-denied's
// decryption is the one meant to fail.
func TestSamplesPlan(t *testing.T) {
	n, err := lookup(directory.Default())
	if err != nil {
		t.Fatal(err)
	}
	if n.vault != "azimuth-local" {
		t.Fatalf("vault = %q", n.vault)
	}
	s := &System{names: n}
	samples := func() []sample { _, out := s.samples(); return out }
	_, extra, err := s.secretsTenantKustomizations()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, smp := range append(samples(), extra...) {
		k, ok := smp.obj.(*kustomizev1.Kustomization)
		if !ok {
			continue
		}
		line := k.Namespace + "/" + k.Name + " from " + k.Spec.SourceRef.Kind + " " + k.Spec.SourceRef.Name
		if k.Spec.SourceRef.Namespace != "" {
			line += " of " + k.Spec.SourceRef.Namespace
		}
		if d := k.Spec.Decryption; d != nil {
			line += ", decrypting as " + smp.identity.Method
			if d.ServiceAccountName != "" {
				line += " " + d.ServiceAccountName
			}
			if d.SecretRef != nil {
				line += " secret " + d.SecretRef.Name
			}
		}
		if k.Spec.KubeConfig != nil {
			line += " to " + k.Spec.TargetNamespace + " of ConfigMap " + k.Spec.KubeConfig.ConfigMapRef.Name
		}
		if smp.failReason != "" {
			line += ", fails with " + smp.failReason
		}
		if k.Spec.Wait || (k.Spec.TargetNamespace != k.Namespace && k.Spec.KubeConfig == nil) || !k.Spec.Prune {
			t.Errorf("%s: wait %v, targetNamespace %q, prune %v", line, k.Spec.Wait, k.Spec.TargetNamespace, k.Spec.Prune)
		}
		got = append(got, line)
	}
	want := []string{
		"team-apps/podinfo from OCIRepository manifests",
		"team-apps/secrets from GitRepository fleet, decrypting as object WI source",
		"team-apps/aks from OCIRepository manifests to team-apps-aks of ConfigMap aks",
		"team-platform/podinfo from OCIRepository manifests",
		"team-platform/secrets from GitRepository fleet, decrypting as controller WI",
		"team-platform/aks from OCIRepository manifests to team-platform-aks of ConfigMap aks",
		"team-node/podinfo from OCIRepository manifests",
		"team-node/secrets from GitRepository fleet, decrypting as node MI",
		"team-node/aks from OCIRepository manifests to team-node-aks of ConfigMap aks",
		"team-denied/secrets from OCIRepository manifests of team-apps, decrypting as object WI source, fails with DecryptionFailed",
		"team-denied/aks from OCIRepository manifests of team-apps to team-denied-aks of ConfigMap aks, fails with ReconciliationFailed",
		"team-secrets/podinfo from GitRepository fleet-pat",
		"team-secrets/secrets from GitRepository fleet-pat, decrypting as client secret secret sops-keys",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Kustomizations:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	// A directory without Azure DevOps decrypts from the OCIRepositories; one without the vault
	// applies the application alone, and nothing is meant to fail decrypting.
	s.names.ado = adoRepo{}
	for _, smp := range samples() {
		if k, ok := smp.obj.(*kustomizev1.Kustomization); ok && k.Spec.SourceRef.Kind != sourcev1.OCIRepositoryKind {
			t.Errorf("without Azure DevOps, %s/%s reads a %s", k.Namespace, k.Name, k.Spec.SourceRef.Kind)
		}
	}
	s.names.vault = ""
	_, extra, _ = s.secretsTenantKustomizations()
	for _, smp := range append(samples(), extra...) {
		if k, ok := smp.obj.(*kustomizev1.Kustomization); ok && (k.Spec.Decryption != nil || (smp.failReason != "" && k.Spec.KubeConfig == nil)) {
			t.Errorf("without a vault, %s/%s decrypts (or must fail: %q)", k.Namespace, k.Name, smp.failReason)
		}
	}
}

// TestManifestsAreObjects: every file of the samples is a Kubernetes object kustomize can build
// (or a kustomization.yaml listing them), and the Secret is only there once encrypted.
func TestManifestsAreObjects(t *testing.T) {
	plain := manifests("azimuthlocal.azurecr.io", latestManifests, nil)
	if _, ok := plain[SecretsPath+"/kustomization.yaml"]; ok {
		t.Error("the secrets directory without a secret")
	}
	files := manifests("azimuthlocal.azurecr.io", latestManifests, []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nsops: {}\n"))
	for name, content := range files {
		var obj struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Resources []string `json:"resources"`
		}
		if err := yaml.Unmarshal([]byte(content), &obj); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if filepath.Base(name) == "kustomization.yaml" {
			for _, r := range obj.Resources {
				if _, ok := files[filepath.Join(filepath.Dir(name), r)]; !ok {
					t.Errorf("%s lists %s, which is not there", name, r)
				}
			}
			continue
		}
		if obj.APIVersion == "" || obj.Kind == "" || obj.Metadata.Name == "" {
			t.Errorf("%s is not a Kubernetes object:\n%s", name, content)
		}
	}
	if !strings.Contains(files[AppPath+"/configmap.yaml"], "name: "+AppConfigMap) {
		t.Errorf("the application's ConfigMap is not %s", AppConfigMap)
	}
}

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
	var assignments []directory.RoleAssignment // the directory refuses roles of a principal it lacks
	for _, ra := range spec.RoleAssignments {
		if ra.Principal != "team-apps" {
			assignments = append(assignments, ra)
		}
	}
	spec.RoleAssignments = assignments
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
	kustomization := func(source, applied string) *kustomizev1.Kustomization {
		k := &kustomizev1.Kustomization{}
		k.Spec.SourceRef.Kind, k.Status.LastAppliedRevision = source, applied
		return k
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
		{"kustomization of the latest artifact", kustomization(sourcev1.OCIRepositoryKind, "1.1.0@sha256:abc"), metav1.ConditionTrue, meta.ReconciliationSucceededReason, "", ""},
		{"kustomization of an older artifact", kustomization(sourcev1.OCIRepositoryKind, "1.0.0@sha256:abc"), metav1.ConditionTrue, meta.ReconciliationSucceededReason, "", "want the revision 1.1.0 applied"},
		{"kustomization of a branch", kustomization(sourcev1.GitRepositoryKind, "main@sha1:abc"), metav1.ConditionTrue, meta.ReconciliationSucceededReason, "", ""},
		{"decryption failed as expected", kustomization(sourcev1.OCIRepositoryKind, ""), metav1.ConditionFalse, kustomizev1.DecryptionFailedReason, kustomizev1.DecryptionFailedReason, ""},
		{"artifact not there yet", kustomization(sourcev1.OCIRepositoryKind, ""), metav1.ConditionFalse, kustomizev1.ArtifactFailedReason, kustomizev1.DecryptionFailedReason, "want Ready=False with reason DecryptionFailed"},
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

// checkFleet: the Kustomizations of the AKS cluster applied the application there (the control
// plane, serving as the cluster), each as its identity, and team-denied's applied nothing.
func checkFleet(ctx context.Context, t *testing.T, sys *System) {
	t.Helper()
	c := sys.Env.Client
	for _, ns := range []string{"team-apps", "team-platform", "team-node"} {
		var cm corev1.ConfigMap
		key := client.ObjectKey{Namespace: ns + FleetSuffix, Name: AppConfigMap}
		if err := c.Get(ctx, key, &cm); err != nil {
			t.Errorf("the application in the AKS cluster: %v", err)
		} else if cm.GetLabels()[kustomizev1.NameLabel] != FleetKustomization || cm.GetLabels()[kustomizev1.NamespaceLabel] != ns {
			t.Errorf("ConfigMap %s lacks the labels of Kustomization %s/%s: %v", key, ns, FleetKustomization, cm.GetLabels())
		}
	}
	var cm corev1.ConfigMap
	if err := c.Get(ctx, client.ObjectKey{Namespace: "team-denied" + FleetSuffix, Name: AppConfigMap}, &cm); err == nil {
		t.Error("team-denied's application reached the AKS cluster though its identity holds no role there")
	}

	// The doctor walks the same chain: the ConfigMap, the identity, Entra ID, Azure Resource
	// Manager, and the API server, which names the identity by its object ID.
	base := sys.Env.Transport
	o := doctor.Options{Kube: c, FeatureGate: true, Entra: entra.NewProvider(&entra.Options{Transport: &base}), Transport: base}
	r, err := doctor.Diagnose(ctx, o, "kustomization", "team-apps", FleetKustomization)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	r.Print(&out)
	oid := sys.names.identities["team-apps"].PrincipalID
	for _, want := range []string{"✔ kubeconfig: ConfigMap aks", "✔ entra exchange", "6dae42f8-4368-4678-94ff-3960e28e3630/.default",
		"✔ role: Azure Resource Manager lets it read the user kubeconfig of AKS cluster fleet", `✔ API server: `, `takes the token as user "` + oid + `"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the doctor's report of team-apps/aks lacks %q:\n%s", want, out.String())
		}
	}
	if !r.OK() {
		t.Errorf("the doctor finds team-apps/aks broken:\n%s", out.String())
	}
	if r, err = doctor.Diagnose(ctx, o, "kustomization", "team-denied", FleetKustomization); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	r.Print(&out)
	if want := `az role assignment create --assignee ` + sys.names.identities["team-denied"].ClientID + ` --role "Azure Kubernetes Service Cluster User Role"`; r.OK() || !strings.Contains(out.String(), want) {
		t.Errorf("the doctor's report of team-denied/aks lacks %q:\n%s", want, out.String())
	}
}
