package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/teams"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// nsNotify holds the notification test's objects; the first manager (gate on) reconciles it.
const nsNotify = "tenant-notify"

// nsNotifyOCI holds the commit status test of an OCI artifact; the first manager reconciles it.
const nsNotifyOCI = "tenant-notify-oci"

// teamsWebhook is a Teams Workflows URL of the local Azure's region, as Teams gives them.
const teamsWebhook = "https://prod-00.westeurope.logic.azure.com:443/workflows/5e0f/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=local-signature"

// TestCommitStatusAndTeams is Flux's commit status scenario on Azure DevOps: a Kustomization
// applies a GitRepository of the local Azure Repos, and an Alert with an azuredevops Provider
// (object-level workload identity of a Contributor) puts exactly one status on the pushed commit,
// read back with the statuses REST API. The same event reaches a Teams channel as an Adaptive
// Card; and a Provider whose identity is only a Reader is refused, which its Alert's event says.
func TestCommitStatusAndTeams(t *testing.T) {
	s := system(t)
	s.tenant(t, nsNotify, controllerMI, controllerID)
	head := s.pushToAzureDevOps(t, map[string]string{
		"deploy/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notified\ndata:\n  from: azure-devops\n",
	})
	ado := &notificationv1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: nsNotify, Name: "azure-devops"}, Spec: notificationv1.ProviderSpec{
		Type: notificationv1.AzureDevOpsProvider, Address: adoURL, ServiceAccountName: "source",
	}}
	reader := &notificationv1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: nsNotify, Name: "node-reader"}, Spec: notificationv1.ProviderSpec{
		Type: notificationv1.AzureDevOpsProvider, Address: adoURL, // the controller's identity: node-kubelet, a Reader
	}}
	teamsSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: nsNotify, Name: "teams-webhook"}, StringData: map[string]string{"address": teamsWebhook}}
	teamsProvider := &notificationv1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: nsNotify, Name: "teams"}, Spec: notificationv1.ProviderSpec{
		Type: notificationv1.MSTeamsProvider, SecretRef: &meta.LocalObjectReference{Name: teamsSecret.Name},
	}}
	alert := func(name, provider string, md map[string]string) *notificationv1.Alert {
		return &notificationv1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: nsNotify, Name: name}, Spec: notificationv1.AlertSpec{
			ProviderRef: meta.LocalObjectReference{Name: provider}, EventSeverity: notificationv1.EventSeverityInfo, EventMetadata: md,
			EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: kustomizev1.KustomizationKind, Name: "*"}},
		}}
	}
	repo := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: nsNotify, Name: "fleet"}, Spec: sourcev1.GitRepositorySpec{
		URL: adoURL, Provider: sourcev1.AzureGitProvider, ServiceAccountName: "source", Interval: metav1.Duration{Duration: time.Hour},
		Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
	}}
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: nsNotify, Name: "fleet"}, Spec: kustomizev1.KustomizationSpec{
		SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "fleet"},
		Path:      "./deploy", Prune: true, TargetNamespace: nsNotify, Interval: metav1.Duration{Duration: time.Hour},
	}}
	s.applyThrough(t, repo, ks, ado, reader, teamsSecret, teamsProvider,
		alert("commit-status", ado.Name, nil), alert("reader", reader.Name, nil), alert("teams", teamsProvider.Name, map[string]string{"cluster": "local"}))

	// The status, read back as a user would: the REST API with the developer's PAT.
	statuses := s.commitStatuses(t, head)
	deadline := time.Now().Add(30 * time.Second)
	for len(statuses) == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		statuses = s.commitStatuses(t, head)
	}
	time.Sleep(2 * time.Second) // anything else on its way arrives
	statuses = s.commitStatuses(t, head)
	if err := s.env.Client.Get(t.Context(), client.ObjectKeyFromObject(ado), ado); err != nil {
		t.Fatal(err)
	}
	name := "kustomization/fleet/" + strings.Split(string(ado.UID), "-")[0]
	if len(statuses) != 1 || statuses[0].State != "succeeded" || statuses[0].Description != "reconciliation succeeded" ||
		statuses[0].Context.Genre != "fluxcd" || statuses[0].Context.Name != name {
		t.Fatalf("statuses of %s: %+v; want exactly one, succeeded, named %s", head, statuses, name)
	}

	// The Teams channel got the Adaptive Card of the same event.
	var post *teams.Post
	for deadline := time.Now().Add(30 * time.Second); post == nil && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for _, p := range s.env.Azure.Teams().Posts() {
			if p.Host == "prod-00.westeurope.logic.azure.com" && strings.Contains(string(p.Body), "kustomization/fleet."+nsNotify) {
				post = &p
			}
		}
	}
	if post == nil || post.Status != http.StatusAccepted || !strings.Contains(string(post.Body), `"contentType":"application/vnd.microsoft.card.adaptive"`) ||
		!strings.Contains(string(post.Body), `{"title":"cluster","value":"local"}`) || !strings.Contains(string(post.Body), head) {
		t.Fatalf("the Teams post: %+v", post)
	}

	// The Reader's refusal is on its Alert, naming the group it needs.
	var refusal string
	for deadline := time.Now().Add(30 * time.Second); refusal == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var list eventsv1.EventList
		if err := s.env.Client.List(t.Context(), &list, client.InNamespace(nsNotify)); err != nil {
			t.Fatal(err)
		}
		for _, e := range list.Items {
			if e.Regarding.Kind == notificationv1.AlertKind && e.Regarding.Name == "reader" && e.Reason == notificationv1.NotificationDispatchFailedReason {
				refusal = e.Note
			}
		}
	}
	for _, want := range []string{"failed to send notification for Kustomization/" + nsNotify + "/fleet", "could not create commit status", "Contributors group", "organization azimuth-local"} {
		if !strings.Contains(refusal, want) {
			t.Errorf("the reader's refusal %q lacks %q", refusal, want)
		}
	}
}

// TestCommitStatusOfAnOCIArtifact: manifests pushed to ACR as an OCI artifact from an Azure
// Repos commit (`flux push artifact --revision main@sha1:SHA`) are applied by a Kustomization,
// and the azuredevops Provider puts the status on that commit: the artifact's own revision is a
// tag and a digest, and only its origin revision names a commit.
func TestCommitStatusOfAnOCIArtifact(t *testing.T) {
	s := system(t)
	s.tenant(t, nsNotifyOCI, controllerMI, controllerID) // flux-controller: AcrPull, and a Contributor in Azure DevOps
	head := s.pushToAzureDevOps(t, map[string]string{"deploy/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-oci\n"})
	origin := "main@sha1:" + head
	s.pushAnnotated(t, "fleet/manifests", head[:12], map[string]string{"settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-oci\n"},
		map[string]string{sourcev1.OCIRevisionAnnotation: origin})
	ado := &notificationv1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: nsNotifyOCI, Name: "azure-devops"}, Spec: notificationv1.ProviderSpec{
		Type: notificationv1.AzureDevOpsProvider, Address: adoURL, ServiceAccountName: "source",
	}}
	alert := &notificationv1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: nsNotifyOCI, Name: "commit-status"}, Spec: notificationv1.AlertSpec{
		ProviderRef: meta.LocalObjectReference{Name: ado.Name}, EventSeverity: notificationv1.EventSeverityInfo,
		EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: kustomizev1.KustomizationKind, Name: "*"}},
	}}
	repo := &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Namespace: nsNotifyOCI, Name: "fleet"}, Spec: sourcev1.OCIRepositorySpec{
		URL: "oci://" + registryHost + "/fleet/manifests", Reference: &sourcev1.OCIRepositoryRef{Tag: head[:12]},
		Provider: sourcev1.AzureOCIProvider, ServiceAccountName: "source", Interval: metav1.Duration{Duration: time.Hour},
	}}
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: nsNotifyOCI, Name: "fleet"}, Spec: kustomizev1.KustomizationSpec{
		SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: repo.Name},
		Path:      "./", TargetNamespace: nsNotifyOCI, Interval: metav1.Duration{Duration: time.Hour},
	}}
	s.applyThrough(t, repo, ks, ado, alert)
	if ks.Status.LastAppliedOriginRevision != origin {
		t.Errorf("lastAppliedOriginRevision = %q, want %q", ks.Status.LastAppliedOriginRevision, origin)
	}

	statuses := s.commitStatuses(t, head)
	for deadline := time.Now().Add(30 * time.Second); len(statuses) == 0 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		statuses = s.commitStatuses(t, head)
	}
	if len(statuses) != 1 || statuses[0].State != "succeeded" || !strings.HasPrefix(statuses[0].Context.Name, "kustomization/fleet/") {
		t.Fatalf("statuses of %s: %+v; want one, succeeded, of kustomization/fleet", head, statuses)
	}
}

// commitStatuses reads the statuses of commit with the statuses REST API, as the developer.
func (s *suite) commitStatuses(t *testing.T, commit string) []struct {
	State, Description string
	Context            struct{ Name, Genre string }
} {
	t.Helper()
	tr, err := transport.New(&s.env.Transport)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://dev.azure.com/"+adoOrg+"/"+adoProject+"/_apis/git/repositories/"+adoRepo+"/commits/"+commit+"/statuses?api-version=6.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(":"+adoPAT)))
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Value []struct {
			State, Description string
			Context            struct{ Name, Genre string }
		}
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil {
		t.Fatalf("statuses: %d %s", resp.StatusCode, body)
	}
	return out.Value
}
