package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/azure/devops"
	"github.com/azimuth-gitops/azimuth/internal/notify"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// The notification samples. Providers and Alerts (v1beta3) are static: they have no status, so
// their rows say what reached the endpoint, read back from it, and are Ready only once something
// was delivered:
//
//   - TeamsTenant: an msteams Provider whose secret holds a Teams Workflows URL of the local
//     Azure (TeamsWebhook), and an Alert of every event of the tenant's sources and
//     Kustomizations. The rows count the cards the local Teams recorded.
//   - CommitStatusTenant: an azuredevops Provider on the Git samples' repository, as the
//     controller's identity (flux-controller, a Contributor of the project), and an Alert of its
//     Kustomization SecretsKustomization, which applies that repository: a commit status on the
//     applied commit. The rows read the commit's statuses back with the statuses REST API, as the
//     owner of the directory's PAT.
//   - EventHubsProvider, in CommitStatusTenant too: an azureeventhub Provider sending to the
//     directory's hub EventHubsHub of namespace EventHubsNamespace as the controller's identity
//     (flux-controller, Azure Event Hubs Data Sender on the namespace), and an Alert of the
//     tenant's Kustomizations. The rows count the Flux events the local Event Hubs holds.
const (
	// TeamsTenant holds the Teams Provider and Alert; CommitStatusTenant the Azure DevOps ones.
	TeamsTenant        = "team-apps"
	CommitStatusTenant = "team-platform"
	// TeamsProvider, TeamsSecret: the msteams Provider and the secret with its address.
	TeamsProvider = "teams"
	TeamsSecret   = "teams-webhook"
	// CommitStatusProvider is the azuredevops Provider.
	CommitStatusProvider = "azure-devops"
	// EventHubsProvider is the azureeventhub Provider; EventHubsNamespace and EventHubsHub the
	// built-in directory's namespace and hub it sends to.
	EventHubsProvider  = "event-hub"
	EventHubsNamespace = "azimuth-local"
	EventHubsHub       = "flux-events"
	// TeamsHost and TeamsPath are the Workflows URL's host and path, as the local Teams records
	// its posts; TeamsWebhook is the URL, signature included (any sig is accepted locally).
	TeamsHost    = "prod-00.westeurope.logic.azure.com"
	TeamsPath    = "/workflows/a3c5e1f0d2b94c7e8f6a1b2c3d4e5f60/triggers/manual/paths/invoke"
	TeamsWebhook = "https://" + TeamsHost + ":443" + TeamsPath + "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=azimuth-local-signature"
)

// notFoundSource matches the messages of a Kustomization whose source has no artifact yet: they
// name no revision to set a commit status on, so the commit status Alert leaves them out.
const notFoundSource = `^Source .* (is not ready|not found)`

// delivery says what reached a Provider's endpoint, for a row: Ready True only once something
// was delivered. obj is the Provider or Alert as read.
type delivery func(ctx context.Context, obj client.Object) (ready metav1.ConditionStatus, reason, message string)

// notificationSamples are t's Providers and Alerts, and the secrets they need.
func (s *System) notificationSamples(t tenant, id Identity) ([]*corev1.Secret, []sample) {
	switch {
	case t.namespace == TeamsTenant:
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: TeamsSecret}, StringData: map[string]string{"address": TeamsWebhook}}
		provider := &notificationv1.Provider{
			ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: TeamsProvider},
			Spec:       notificationv1.ProviderSpec{Type: notificationv1.MSTeamsProvider, SecretRef: &meta.LocalObjectReference{Name: TeamsSecret}},
		}
		var sources []notificationv1.CrossNamespaceObjectReference
		for _, kind := range []string{sourcev1.OCIRepositoryKind, sourcev1.GitRepositoryKind, sourcev1.BucketKind, kustomizev1.KustomizationKind} {
			sources = append(sources, notificationv1.CrossNamespaceObjectReference{Kind: kind, Name: "*"})
		}
		alert := &notificationv1.Alert{
			ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: TeamsProvider},
			Spec: notificationv1.AlertSpec{
				ProviderRef: meta.LocalObjectReference{Name: TeamsProvider}, EventSeverity: notificationv1.EventSeverityInfo,
				EventSources: sources, EventMetadata: map[string]string{"cluster": "azimuth-dev-up"},
			},
		}
		return []*corev1.Secret{secret}, []sample{
			{obj: provider, identity: Identity{Method: "webhook URL", Principal: "(secret " + TeamsSecret + ")"}, delivered: s.teamsProviderDelivered},
			{obj: alert, identity: alertIdentity(TeamsProvider), delivered: s.teamsAlertDelivered},
		}
	case t.namespace == CommitStatusTenant && s.names.ado.name != "" && s.names.vault != "":
		provider := &notificationv1.Provider{
			ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: CommitStatusProvider},
			Spec:       notificationv1.ProviderSpec{Type: notificationv1.AzureDevOpsProvider, Address: s.names.ado.url()},
		}
		alert := &notificationv1.Alert{
			ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: CommitStatusProvider},
			Spec: notificationv1.AlertSpec{
				ProviderRef: meta.LocalObjectReference{Name: CommitStatusProvider}, EventSeverity: notificationv1.EventSeverityInfo,
				EventSources:  []notificationv1.CrossNamespaceObjectReference{{Kind: kustomizev1.KustomizationKind, Name: SecretsKustomization}},
				ExclusionList: []string{notFoundSource},
			},
		}
		samples := []sample{
			{obj: provider, identity: id, delivered: s.commitStatusDelivered(false)},
			{obj: alert, identity: alertIdentity(CommitStatusProvider), delivered: s.commitStatusDelivered(true)},
		}
		return nil, append(samples, s.eventHubsSamples(t, id)...)
	}
	return nil, nil
}

// eventHubsSamples are the azureeventhub Provider and Alert of t, when the directory has the hub.
func (s *System) eventHubsSamples(t tenant, id Identity) []sample {
	if s.names.eventHubs.Name == "" {
		return nil
	}
	provider := &notificationv1.Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: EventHubsProvider},
		Spec:       notificationv1.ProviderSpec{Type: notificationv1.AzureEventHubProvider, Address: EventHubsHub, Channel: EventHubsNamespace},
	}
	alert := &notificationv1.Alert{
		ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: EventHubsProvider},
		Spec: notificationv1.AlertSpec{
			ProviderRef: meta.LocalObjectReference{Name: EventHubsProvider}, EventSeverity: notificationv1.EventSeverityInfo,
			EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: kustomizev1.KustomizationKind, Name: "*"}},
		},
	}
	return []sample{
		{obj: provider, identity: id, delivered: s.eventHubsDelivered(false)},
		{obj: alert, identity: alertIdentity(EventHubsProvider), delivered: s.eventHubsDelivered(true)},
	}
}

// hubEvents are the Flux events of namespace's objects on the hub's partition 0, by object.
func (s *System) hubEvents(namespace string) (events int, objects []string) {
	for _, ev := range s.Env.Azure.EventHubs().Events(EventHubsNamespace, EventHubsHub, 0) {
		var e notify.Event
		if json.Unmarshal(ev.Body, &e) != nil || e.InvolvedObject.Namespace != namespace {
			continue
		}
		events++
		if o := strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name; !slices.Contains(objects, o) {
			objects = append(objects, o)
		}
	}
	return events, objects
}

// eventHubsDelivered counts the events of the Provider's namespace on the hub.
func (s *System) eventHubsDelivered(alert bool) delivery {
	return func(ctx context.Context, obj client.Object) (metav1.ConditionStatus, string, string) {
		n, objects := s.hubEvents(obj.GetNamespace())
		ready, reason, message := metav1.ConditionUnknown, "NothingDelivered", "no event on the event hub "+EventHubsHub+" yet"
		if n > 0 {
			ready, reason, message = metav1.ConditionTrue, "Delivered", fmt.Sprintf("%s of %s on the event hub %s/%s", count(n, "event"), count(len(objects), "object"), EventHubsNamespace, EventHubsHub)
		}
		if alert {
			return s.withFailures(ctx, obj, ready, reason, message)
		}
		return ready, reason, message
	}
}

func alertIdentity(provider string) Identity {
	return Identity{Method: "none", Principal: "(delivers through Provider " + provider + ")"}
}

// isNotification says whether obj is a Provider or an Alert, which are created before the other
// samples so that the events of their first reconciles are delivered.
func isNotification(obj client.Object) bool {
	switch obj.(type) {
	case *notificationv1.Provider, *notificationv1.Alert:
		return true
	}
	return false
}

// teamsCards are the cards the local Teams recorded at TeamsWebhook: the object each names
// (kind/name.namespace, as Flux titles them) for those it accepted, and how many it refused.
func (s *System) teamsCards() (objects []string, refused int) {
	for _, p := range s.Env.Azure.Teams().Posts() {
		if p.Host != TeamsHost || p.Path != TeamsPath {
			continue
		}
		if p.Status < 200 || p.Status > 299 {
			refused++
			continue
		}
		var msg notify.AdaptiveCardMessage
		title := "?"
		if json.Unmarshal(p.Body, &msg) == nil && len(msg.Attachments) > 0 && len(msg.Attachments[0].Content.Body) > 0 {
			if items := msg.Attachments[0].Content.Body[0].Items; len(items) > 0 {
				title = items[0].Text
			}
		}
		objects = append(objects, title)
	}
	return objects, refused
}

// teamsProviderDelivered counts the cards the Teams webhook accepted.
func (s *System) teamsProviderDelivered(context.Context, client.Object) (metav1.ConditionStatus, string, string) {
	cards, refused := s.teamsCards()
	switch {
	case len(cards) > 0:
		msg := fmt.Sprintf("%s accepted by the Teams webhook", count(len(cards), "Adaptive Card"))
		if refused > 0 {
			msg += fmt.Sprintf(" (%d refused)", refused)
		}
		return metav1.ConditionTrue, "Delivered", msg
	case refused > 0:
		return metav1.ConditionFalse, "Refused", fmt.Sprintf("the Teams webhook %s refused %s", TeamsHost, count(refused, "post"))
	}
	return metav1.ConditionUnknown, "NothingDelivered", "no card has reached the Teams webhook yet"
}

// teamsAlertDelivered says which of the Alert's objects reached Teams, or the Alert's last
// delivery failure.
func (s *System) teamsAlertDelivered(ctx context.Context, obj client.Object) (metav1.ConditionStatus, string, string) {
	cards, _ := s.teamsCards()
	var objects []string
	events := 0
	for _, c := range cards {
		if !strings.HasSuffix(c, "."+obj.GetNamespace()) {
			continue
		}
		events++
		if !slices.Contains(objects, c) {
			objects = append(objects, c)
		}
	}
	if len(objects) == 0 {
		return s.withFailures(ctx, obj, metav1.ConditionUnknown, "NothingDelivered", "no event delivered to Teams yet")
	}
	return s.withFailures(ctx, obj, metav1.ConditionTrue, "Delivered", fmt.Sprintf("%s of %s posted to Teams", count(events, "event"), count(len(objects), "object")))
}

// alertFailures are the Warning events on the Alert obj (NotificationDispatchFailed,
// InvalidConfig): how many, and the reason and message of the last.
func (s *System) alertFailures(ctx context.Context, obj client.Object) (n int, reason, message string) {
	var list eventsv1.EventList
	if err := s.Env.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		return 0, "", ""
	}
	var last *eventsv1.Event
	for i, e := range list.Items {
		if e.Type != corev1.EventTypeWarning || e.Regarding.Kind != notificationv1.AlertKind || e.Regarding.Name != obj.GetName() {
			continue
		}
		n++
		if last == nil || e.CreationTimestamp.After(last.CreationTimestamp.Time) {
			last = &list.Items[i]
		}
	}
	if last == nil {
		return 0, "", ""
	}
	return n, last.Reason, last.Note
}

// withFailures completes an Alert's row: Ready only when something was delivered, and saying
// how many deliveries failed (Warning events on the Alert); False with the last failure when
// nothing was delivered.
func (s *System) withFailures(ctx context.Context, obj client.Object, ready metav1.ConditionStatus, reason, message string) (metav1.ConditionStatus, string, string) {
	n, failReason, failMessage := s.alertFailures(ctx, obj)
	switch {
	case n == 0:
		return ready, reason, message
	case ready == metav1.ConditionTrue:
		return ready, reason, fmt.Sprintf("%s; %s failed (kubectl events -n %s --for alert/%s)", message, count(n, "delivery"), obj.GetNamespace(), obj.GetName())
	}
	return metav1.ConditionFalse, failReason, failMessage
}

// commitStatusDelivered reads back the statuses of the commit that CommitStatusTenant's
// Kustomization SecretsKustomization applied, and finds those of the Provider (every status its
// UID names) or, for the Alert, of the Kustomization it selects.
func (s *System) commitStatusDelivered(alert bool) delivery {
	return func(ctx context.Context, obj client.Object) (metav1.ConditionStatus, string, string) {
		ready, reason, message := s.commitStatuses(ctx, obj.GetNamespace(), alert)
		if alert {
			return s.withFailures(ctx, obj, ready, reason, message)
		}
		return ready, reason, message
	}
}

// commitStatuses is commitStatusDelivered's reading of the statuses, in namespace.
func (s *System) commitStatuses(ctx context.Context, namespace string, alert bool) (metav1.ConditionStatus, string, string) {
	var provider notificationv1.Provider
	if err := s.Env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: CommitStatusProvider}, &provider); err != nil {
		return metav1.ConditionUnknown, "", err.Error()
	}
	var k kustomizev1.Kustomization
	if err := s.Env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: SecretsKustomization}, &k); err != nil {
		return metav1.ConditionUnknown, "", err.Error()
	}
	revision := k.Status.LastAppliedRevision
	_, sha, ok := strings.Cut(revision, "@sha1:")
	if !ok {
		return metav1.ConditionUnknown, "NothingDelivered", "Kustomization " + SecretsKustomization + " has applied no commit yet"
	}
	statuses, err := s.readStatuses(ctx, sha)
	if err != nil {
		return metav1.ConditionUnknown, "ReadBackFailed", err.Error()
	}
	uid, _, _ := strings.Cut(string(provider.UID), "-")
	selected := strings.ToLower(kustomizev1.KustomizationKind + "/" + SecretsKustomization + "/" + uid)
	var mine []devops.Status
	for _, st := range statuses {
		if alert && st.Context.Name == selected || !alert && strings.HasSuffix(st.Context.Name, "/"+uid) {
			mine = append(mine, st)
		}
	}
	if len(mine) == 0 {
		return metav1.ConditionUnknown, "NothingDelivered", "no commit status of Provider " + CommitStatusProvider + " on " + revision + " yet"
	}
	last := mine[0] // the newest first
	ready := metav1.ConditionTrue
	if last.State != devops.StateSucceeded {
		ready = metav1.ConditionFalse
	}
	short := sha[:min(12, len(sha))]
	if alert {
		return ready, "Delivered", fmt.Sprintf("commit %s: %s, %s", short, last.State, last.Description)
	}
	return ready, "Delivered", fmt.Sprintf("commit %s: %s %s", short, last.Context.Name, last.State)
}

// readStatuses lists the statuses of commit in the Git samples' repository with the REST API,
// as the owner of the directory's PAT (a Contributor) would read them.
func (s *System) readStatuses(ctx context.Context, commit string) ([]devops.Status, error) {
	if s.statuses == nil {
		rt, err := transport.New(&s.Env.Transport)
		if err != nil {
			return nil, err
		}
		if s.statuses, err = devops.NewStatuses(s.names.ado.url(), rt, devops.StatusAuth{PAT: s.names.ado.pat}); err != nil {
			return nil, err
		}
		s.closeStatuses = rt.CloseIdleConnections
	}
	return s.statuses.List(ctx, commit)
}

// notificationUsage says how to read back what the Providers delivered, through the proxy.
func (s *System) notificationUsage() string {
	if s.names.ado.pat == "" || s.names.vault == "" {
		return ""
	}
	r := s.names.ado
	out := fmt.Sprintf("  SHA=$(kubectl -n %s get kustomization %s -o jsonpath='{.status.lastAppliedRevision}' | cut -d: -f2)\n"+
		"  curl -su :%s \"https://dev.azure.com/%s/%s/_apis/git/repositories/%s/commits/$SHA/statuses?api-version=%s\"   # the commit status of Provider %s/%s\n",
		CommitStatusTenant, SecretsKustomization, r.pat, r.org, r.project, r.name, devops.StatusesAPIVersion, CommitStatusTenant, CommitStatusProvider)
	return out + s.eventHubsUsage()
}

// eventHubsUsage says where Provider EventHubsProvider's events are and how to read them.
func (s *System) eventHubsUsage() string {
	ns := s.names.eventHubs
	if ns.Name == "" || len(ns.AuthorizationRules) == 0 {
		return ""
	}
	return fmt.Sprintf("\nProvider %s/%s sends the Flux event JSON of its Kustomizations to the event hub %s of %s.servicebus.windows.net\n"+
		"(AMQP on 5671, or AMQP over WebSockets on 443 through the proxy above). Read partition 0 with any Event Hubs\n"+
		"consumer (the azeventhubs ConsumerClient, Python's azure-eventhub with transport_type=AmqpOverWebsocket and\n"+
		"the proxy, trusting the local CA) and this connection string:\n\n"+
		"  Endpoint=sb://%s.servicebus.windows.net/;SharedAccessKeyName=%s;SharedAccessKey=%s;EntityPath=%s\n",
		CommitStatusTenant, EventHubsProvider, EventHubsHub, EventHubsNamespace,
		EventHubsNamespace, ns.AuthorizationRules[0].Name, ns.AuthorizationRules[0].PrimaryKey, EventHubsHub)
}
