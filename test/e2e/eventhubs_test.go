package e2e

import (
	"encoding/json"
	"fmt"
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
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// nsEventHubs holds the Event Hubs test's objects; the first manager (gate on) reconciles it.
const nsEventHubs = "tenant-eventhubs"

// The default directory's namespace and hub.
const (
	ehNamespace = "azimuth-local"
	ehHub       = "flux-events"
)

// TestEventHubs is Flux's Event Hubs scenario: a Kustomization's event arrives on the hub as the
// Flux event JSON, whose involvedObject is the Kustomization, read back from the local Event
// Hubs' partition 0. Three Providers send it: a SAS connection string; the object-level workload
// identity of flux-controller (Data Sender on the namespace); an application in a secret
// (tenantId, clientId, clientSecret), granted Data Sender at run time. A fourth, the node's
// identity, holds no role: its Alert's Warning event names the role and the az command.
func TestEventHubs(t *testing.T) {
	s := system(t)
	s.tenant(t, nsEventHubs, controllerMI, controllerID)
	dir := s.env.Azure.Directory()
	ns, ok := dir.EventHubsNamespace(ehNamespace)
	if !ok {
		t.Fatalf("the directory has no Event Hubs namespace %s", ehNamespace)
	}
	err := dir.AddRoleAssignment(directory.RoleAssignment{Principal: pushAppID, Role: "Azure Event Hubs Data Sender", Scope: ns.ID() + "/eventhubs/" + ehHub})
	if err != nil {
		t.Fatal(err)
	}
	key := ns.AuthorizationRules[0].PrimaryKey
	sas := fmt.Sprintf("Endpoint=sb://%s.servicebus.windows.net/;SharedAccessKeyName=%s;SharedAccessKey=%s;EntityPath=%s", ehNamespace, directory.RootManageSharedAccessKey, key, ehHub)
	head := s.pushToAzureDevOps(t, map[string]string{
		"eventhubs/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sent-to-event-hubs\ndata:\n  from: azure-devops\n",
	})

	secret := func(name string, data map[string]string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: nsEventHubs, Name: name}, StringData: data}
	}
	provider := func(name string, spec notificationv1.ProviderSpec) *notificationv1.Provider {
		spec.Type = notificationv1.AzureEventHubProvider
		return &notificationv1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: nsEventHubs, Name: name}, Spec: spec}
	}
	alert := func(name string) *notificationv1.Alert {
		return &notificationv1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: nsEventHubs, Name: name}, Spec: notificationv1.AlertSpec{
			ProviderRef: meta.LocalObjectReference{Name: name}, EventSeverity: notificationv1.EventSeverityInfo, EventMetadata: map[string]string{"via": name},
			EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: kustomizev1.KustomizationKind, Name: "*"}},
		}}
	}
	objs := []client.Object{
		secret("sas", map[string]string{"address": sas}),
		secret("app", map[string]string{"tenantId": tenantID, "clientId": pushAppID, "clientSecret": pushAppSecret}),
		provider("sas", notificationv1.ProviderSpec{SecretRef: &meta.LocalObjectReference{Name: "sas"}}),
		provider("workload", notificationv1.ProviderSpec{Address: ehHub, Channel: ehNamespace, ServiceAccountName: "source"}),
		provider("app", notificationv1.ProviderSpec{Address: ehHub, Channel: ehNamespace + ".servicebus.windows.net", SecretRef: &meta.LocalObjectReference{Name: "app"}}),
		provider("node", notificationv1.ProviderSpec{Address: ehHub, Channel: ehNamespace}), // the controller's identity: node-kubelet, no role
		alert("sas"), alert("workload"), alert("app"), alert("node"),
	}
	repo := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: nsEventHubs, Name: "fleet"}, Spec: sourcev1.GitRepositorySpec{
		URL: adoURL, Provider: sourcev1.AzureGitProvider, ServiceAccountName: "source", Interval: metav1.Duration{Duration: time.Hour},
		Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
	}}
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: nsEventHubs, Name: "fleet"}, Spec: kustomizev1.KustomizationSpec{
		SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "fleet"},
		Path:      "./eventhubs", Prune: true, TargetNamespace: nsEventHubs, Interval: metav1.Duration{Duration: time.Hour},
	}}
	s.applyThrough(t, repo, ks, objs...)

	// The events on partition 0, as a consumer reading from Latest before the Kustomization ran
	// would see them: the Flux event JSON.
	type fluxEvent struct {
		InvolvedObject      corev1.ObjectReference `json:"involvedObject"`
		Severity, Message   string
		Reason              string            `json:"reason"`
		Metadata            map[string]string `json:"metadata"`
		ReportingController string            `json:"reportingController"`
	}
	got := map[string]fluxEvent{}
	for deadline := time.Now().Add(60 * time.Second); len(got) < 3 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for _, ev := range s.env.Azure.EventHubs().Events(ehNamespace, ehHub, 0) {
			var e fluxEvent
			if json.Unmarshal(ev.Body, &e) != nil || e.InvolvedObject.Namespace != nsEventHubs {
				continue
			}
			got[e.Metadata["via"]] = e
		}
	}
	for _, via := range []string{"sas", "workload", "app"} {
		e, ok := got[via]
		if !ok {
			t.Errorf("no event sent by the %s Provider; events: %+v", via, got)
			continue
		}
		if e.InvolvedObject.Kind != kustomizev1.KustomizationKind || e.InvolvedObject.Name != "fleet" || e.Severity != "info" ||
			e.ReportingController != "kustomize-controller" || !strings.Contains(e.Metadata["revision"], head) {
			t.Errorf("the %s Provider's event: %+v", via, e)
		}
	}
	if _, ok := got["node"]; ok {
		t.Error("the node's identity, which holds no role, sent an event")
	}

	// The node's refusal is on its Alert, naming the role and the command that grants it.
	var refusal string
	for deadline := time.Now().Add(60 * time.Second); refusal == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var list eventsv1.EventList
		if err := s.env.Client.List(t.Context(), &list, client.InNamespace(nsEventHubs)); err != nil {
			t.Fatal(err)
		}
		for _, e := range list.Items {
			if e.Regarding.Kind == notificationv1.AlertKind && e.Regarding.Name == "node" && e.Type == corev1.EventTypeWarning && e.Reason == notificationv1.NotificationDispatchFailedReason {
				refusal = e.Note
			}
		}
	}
	for _, want := range []string{"failed to send notification for Kustomization/" + nsEventHubs + "/fleet", `"Azure Event Hubs Data Sender"`,
		"az role assignment create --assignee " + nodeIdentityID, ehNamespace + ".servicebus.windows.net"} {
		if !strings.Contains(refusal, want) {
			t.Errorf("the node's refusal %q lacks %q", refusal, want)
		}
	}
	if strings.Contains(refusal, key) {
		t.Error("the refusal shows the SAS key")
	}
}
