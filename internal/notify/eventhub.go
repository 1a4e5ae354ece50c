package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/azure/eventhubs"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// azureEventHub builds the sender of an azureeventhub Provider, with Flux's rules: an address
// holding "SharedAccessKey" is a SAS connection string (its EntityPath names the hub), which
// neither a token nor spec.serviceAccountName may accompany; otherwise the address is the hub
// and spec.channel the namespace, reached with the secret's token (deprecated) or an Entra
// identity (the secret's, the service account's, the controller's, the node's).
func (d *Dispatcher) azureEventHub(ctx context.Context, p *notificationv1.Provider, c *providerConfig) (sender, error) {
	net := c.conn.Options
	if strings.Contains(c.address, "SharedAccessKey") {
		if c.token != "" {
			return nil, terminalf("provider '%s/%s': jwt token and SAS authentication cannot be set at the same time", p.Namespace, p.Name)
		}
		if p.Spec.ServiceAccountName != "" {
			return nil, terminalf("provider '%s/%s': serviceAccountName and SAS authentication cannot be set at the same time", p.Namespace, p.Name)
		}
		cs, err := access.ParseEventHubsConnectionString(c.address)
		if err != nil {
			return nil, terminalf("provider '%s/%s': invalid SAS connection string in the key 'address' of its secret: %v", p.Namespace, p.Name, err)
		}
		return &eventHub{target: eventhubs.Target{Host: cs.Host, Hub: cs.EntityPath}, auth: eventhubs.Auth{ConnectionString: cs.Raw}, net: &net}, nil
	}
	if c.token != "" && p.Spec.ServiceAccountName != "" {
		return nil, terminalf("provider '%s/%s': serviceAccountName and jwt token authentication cannot be set at the same time", p.Namespace, p.Name)
	}
	if strings.TrimSpace(p.Spec.Channel) == "" {
		return nil, terminalf("provider '%s/%s' of type azureeventhub needs spec.channel, the Event Hubs namespace (its name or its host name), when the address names the event hub", p.Namespace, p.Name)
	}
	if strings.ContainsAny(c.address, "/:;?# ") {
		return nil, terminalf("provider '%s/%s': the address of an azureeventhub Provider is the event hub's name, or a SAS connection string with SharedAccessKey", p.Namespace, p.Name)
	}
	var cred azcore.TokenCredential
	cloud := entra.CloudForAuthority(os.Getenv("AZURE_AUTHORITY_HOST"))
	if c.token != "" {
		d.log.Info("the 'token' of an azureeventhub Provider's secret is deprecated: use an Entra identity or a SAS connection string", "provider", p.Namespace+"/"+p.Name)
		cred = eventhubs.StaticToken(c.token)
	} else {
		ec, err := d.access.Credential(ctx, access.Spec{
			Namespace: p.Namespace, ServiceAccountName: p.Spec.ServiceAccountName, IdentitySecret: c.identitySecret,
		}, c.conn)
		if err != nil {
			return nil, fmt.Errorf("failed to acquire azure event hubs token: %w", err)
		}
		cred, cloud = ec, ec.Cloud()
	}
	target := eventhubs.Target{Host: eventhubs.NamespaceHost(p.Spec.Channel, cloud), Hub: c.address}
	return &eventHub{target: target, auth: eventhubs.Auth{Credential: cred}, net: &net}, nil
}

// eventHub sends the Flux event JSON as one event, as Flux's azureeventhub notifier.
type eventHub struct {
	target eventhubs.Target
	auth   eventhubs.Auth
	net    *transport.Options
}

func (h *eventHub) send(ctx context.Context, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return eventhubs.Send(ctx, h.target, h.auth, h.net, body)
}
