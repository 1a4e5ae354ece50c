package notify

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/api/meta"
	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const ehSASKey = "c2VjcmV0LWtleS1vZi10aGUtcnVsZS1kby1ub3QtbG9n"

// TestAzureEventHubRules: Flux's exclusion rules of the azureeventhub Provider, refused before
// anything is dialled, with Flux's texts, and never showing a key or a token.
func TestAzureEventHubRules(t *testing.T) {
	sas := "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + ehSASKey + ";EntityPath=hub"
	noHub := "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + ehSASKey
	secret := func(name string, data map[string]string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name}, StringData: data, Data: bytesOf(data)}
	}
	ref := func(name string) func(*notificationv1.Provider) {
		return func(p *notificationv1.Provider) { p.Spec.SecretRef = &meta.LocalObjectReference{Name: name} }
	}
	sa := func(p *notificationv1.Provider) { p.Spec.ServiceAccountName = "sender" }
	channel := func(p *notificationv1.Provider) { p.Spec.Channel = "ns" }
	cases := map[string]struct {
		p    *notificationv1.Provider
		want string
	}{
		"sas-token":   {provider("sas-token", "azureeventhub", "", ref("sas-token")), "jwt token and SAS authentication cannot be set at the same time"},
		"sas-sa":      {provider("sas-sa", "azureeventhub", "", ref("sas"), sa), "serviceAccountName and SAS authentication cannot be set at the same time"},
		"token-sa":    {provider("token-sa", "azureeventhub", "hub", ref("token"), sa, channel), "serviceAccountName and jwt token authentication cannot be set at the same time"},
		"no-channel":  {provider("no-channel", "azureeventhub", "hub", ref("token")), "needs spec.channel"},
		"no-hub":      {provider("no-hub", "azureeventhub", "", ref("no-hub")), "has no EntityPath"},
		"no-address":  {provider("no-address", "azureeventhub", ""), "endpoint URL cannot be empty"},
		"bad-address": {provider("bad-address", "azureeventhub", "https://ns.servicebus.windows.net/hub", channel), "the address of an azureeventhub Provider is the event hub's name"},
	}
	objs := []client.Object{
		secret("sas-token", map[string]string{"address": sas, "token": "jwt-0123456789"}),
		secret("sas", map[string]string{"address": sas}),
		secret("token", map[string]string{"token": "jwt-0123456789"}),
		secret("no-hub", map[string]string{"address": noHub}),
	}
	for name, c := range cases {
		objs = append(objs, c.p, alert(name, c.p.Name, func(a *notificationv1.Alert) { a.Spec.EventSources[0].Name = name }))
	}
	h := start(t, Options{MaxAttempts: 1}, transport.Options{}, objs...)
	for name := range cases {
		if err := h.d.Submit(*kustomizationEvent("apps", name, SeverityInfo, "m")); err != nil {
			t.Fatal(err)
		}
	}
	for name, c := range cases {
		eventually(t, name, func() bool { return h.events.find(c.want) != "" })
		e := h.events.find(c.want)
		if !strings.HasPrefix(e, name+" Warning NotificationDispatchFailed") || strings.Contains(e, ehSASKey) || strings.Contains(e, "jwt-0123456789") {
			t.Errorf("%s: %q", name, e)
		}
	}
}

func bytesOf(m map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}
