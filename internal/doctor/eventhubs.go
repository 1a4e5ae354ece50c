package doctor

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"

	"github.com/azimuth-gitops/azimuth/internal/azure/eventhubs"
	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// eventHubsLink opens a sender link to the event hub and closes it, sending nothing. That is the
// cheapest call the role Azure Event Hubs Data Sender allows: Event Hubs checks the Send claim
// when the link attaches, while reading the hub's properties ($management) needs Listen, which
// that role does not grant.
func (o Options) eventHubsLink(ctx context.Context, cred *entra.Credential, t target) Link {
	if o.Transport.Proxy != nil {
		return Link{Name: "role", OK: true, Skipped: true, Detail: "the doctor does not reach Event Hubs through a proxy (AMQP over WebSockets): the Entra token is good"}
	}
	tgt := eventhubs.Target{Host: eventhubs.NamespaceHost(t.channel, cred.Cloud()), Hub: t.url}
	tlsConfig, err := o.Transport.TLSConfig(tgt.Host)
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	opts := &azeventhubs.ProducerClientOptions{TLSConfig: tlsConfig,
		RetryOptions: azeventhubs.RetryOptions{MaxRetries: -1, RetryDelay: 200 * time.Millisecond}}
	addr := net.JoinHostPort(tgt.Host, eventhubs.Port)
	if to := o.Transport.ConnectTo.Resolve(addr); to != addr {
		opts.CustomEndpoint = to
	}
	producer, err := azeventhubs.NewProducerClient(tgt.Host, tgt.Hub, cred, opts)
	if err != nil {
		return Link{Name: "role", Detail: fmt.Sprintf("event hub %s/%s: %v", tgt.Host, tgt.Hub, err)}
	}
	defer producer.Close(context.WithoutCancel(ctx))
	// A batch attaches the sender link (after the put-token of the Entra token) to learn the
	// hub's largest message: nothing is sent.
	if _, err := producer.NewEventDataBatch(ctx, nil); err != nil {
		return roleLink(eventhubs.Explain(err, cred, tgt), "eventhubs")
	}
	return Link{Name: "role", OK: true, Detail: fmt.Sprintf("Event Hubs %s lets it attach a sender to %s (nothing sent)", tgt.Host, tgt.Hub)}
}
