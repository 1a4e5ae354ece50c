package eventhubs_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	tenantID  = "6d1c3b0e-4c38-4a8c-9a57-2b6a0f7f5a11"
	subID     = "3f2b9d4e-1a6c-4b8e-9d0f-5c7a2e4b6d81"
	secret    = "eventhubs-test-secret"
	namespace = "ehtest-ns"
	hub       = "flux-events"
	hubKey    = "hub-send-key-value"
	nsScope   = "/subscriptions/" + subID + "/resourceGroups/eh/providers/Microsoft.EventHub/namespaces/" + namespace
)

type app struct{ name, clientID, objectID string }

var (
	sender   = app{"sender", "0c5a1e2b-3d4f-4a6b-8c7d-9e0f1a2b3c4d", "1d6b2f3c-4e5a-4b7c-9d8e-0f1a2b3c4d5e"}
	receiver = app{"receiver", "2e7c3a4d-5f6b-4c8d-8e9f-1a2b3c4d5e6f", "3f8d4b5e-6a7c-4d9e-9fa0-2b3c4d5e6f70"}
	nobody   = app{"nobody", "4a9e5c6f-7b8d-4eaf-8ab1-3c4d5e6f7081", "5bafd67a-8c9e-4fb0-9bc2-4d5e6f708192"}
)

func testDirectory() string {
	var apps strings.Builder
	for _, a := range []app{sender, receiver, nobody} {
		fmt.Fprintf(&apps, "  - {name: %s, clientId: %s, principalId: %s, clientSecrets: [{value: %s}]}\n", a.name, a.clientID, a.objectID, secret)
	}
	return `
tenants: [{id: ` + tenantID + `}]
subscriptions: [{id: ` + subID + `}]
applications:
` + apps.String() + `
resources:
  eventHubsNamespaces:
    - name: ` + namespace + `
      subscription: ` + subID + `
      resourceGroup: eh
      eventHubs:
        - name: ` + hub + `
          authorizationRules:
            - {name: hub-send, rights: [Send], primaryKey: ` + hubKey + `}
        - {name: other, partitionCount: 2}
roleAssignments:
  - {principal: sender, role: Azure Event Hubs Data Sender, scope: ` + nsScope + `/eventhubs/` + hub + `}
  - {principal: receiver, role: Azure Event Hubs Data Receiver, scope: /subscriptions/` + subID + `}
`
}

var local *azuretest.Azure

func TestMain(m *testing.M) { azuretest.Main(m, run) }

func run(m *testing.M) (int, error) {
	a, err := azuretest.StartAzure(testDirectory(), nil)
	if err != nil {
		return 0, err
	}
	defer a.Stop()
	local = a
	return m.Run(), nil
}

func credential(t *testing.T, a app) azcore.TokenCredential {
	t.Helper()
	rules, err := transport.ParseConnectToList(strings.Join(local.ConnectTo(), "\n"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transport.New(&transport.Options{ConnectTo: rules, RootCAs: local.CAPool()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	cred, err := azidentity.NewClientSecretCredential(tenantID, a.clientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: tr}}})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func fqdn() string { return namespace + ".servicebus.windows.net" }

// options reach the local Event Hubs over TLS on 5671 or, with ws, over WebSockets on 443.
func options(ws bool) (*azeventhubs.ProducerClientOptions, *azeventhubs.ConsumerClientOptions) {
	retry := azeventhubs.RetryOptions{MaxRetries: -1}
	if ws {
		dial := azuretest.EventHubsWebSocket(local.Azure)
		f := func(ctx context.Context, p azeventhubs.WebSocketConnParams) (net.Conn, error) {
			return dial(ctx, p.Host)
		}
		return &azeventhubs.ProducerClientOptions{NewWebSocketConn: f, RetryOptions: retry},
			&azeventhubs.ConsumerClientOptions{NewWebSocketConn: f, RetryOptions: retry}
	}
	endpoint, cfg := azuretest.EventHubsTLS(local.Azure, namespace)
	return &azeventhubs.ProducerClientOptions{CustomEndpoint: endpoint, TLSConfig: cfg, RetryOptions: retry},
		&azeventhubs.ConsumerClientOptions{CustomEndpoint: endpoint, TLSConfig: cfg, RetryOptions: retry}
}

func rootConnectionString(t *testing.T) string {
	ns, ok := local.Directory().EventHubsNamespace(namespace)
	if !ok {
		t.Fatal("no namespace")
	}
	return fmt.Sprintf("Endpoint=sb://%s/;SharedAccessKeyName=%s;SharedAccessKey=%s", fqdn(), directory.RootManageSharedAccessKey, ns.AuthorizationRules[0].PrimaryKey)
}

func send(ctx context.Context, p *azeventhubs.ProducerClient, bodies ...string) error {
	batch, err := p.NewEventDataBatch(ctx, nil)
	if err != nil {
		return err
	}
	for _, b := range bodies {
		if err := batch.AddEventData(&azeventhubs.EventData{Body: []byte(b), Properties: map[string]any{"kind": "test"}}, nil); err != nil {
			return err
		}
	}
	return p.SendEventDataBatch(ctx, batch, nil)
}

// receive reads n events from partition 0 of the hub, from Latest (started before the send) or
// Earliest.
func receive(ctx context.Context, pc *azeventhubs.PartitionClient, n int) ([]string, error) {
	var got []string
	for len(got) < n {
		events, err := pc.ReceiveEvents(ctx, n-len(got), nil)
		if err != nil {
			return got, err
		}
		for _, ev := range events {
			got = append(got, string(ev.Body))
		}
	}
	return got, nil
}

func TestSASSendReceive(t *testing.T) {
	for _, ws := range []bool{false, true} {
		t.Run(map[bool]string{false: "amqps", true: "websockets"}[ws], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			popts, copts := options(ws)
			cc, err := azeventhubs.NewConsumerClientFromConnectionString(rootConnectionString(t), hub, azeventhubs.DefaultConsumerGroup, copts)
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close(ctx)
			pc, err := cc.NewPartitionClient("0", &azeventhubs.PartitionClientOptions{StartPosition: azeventhubs.StartPosition{Latest: to(true)}})
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close(ctx)
			// The receiver link attaches on the first ReceiveEvents; start it before sending.
			first := make(chan error, 1)
			var got []string
			go func() {
				var err error
				got, err = receive(ctx, pc, 2)
				first <- err
			}()
			time.Sleep(500 * time.Millisecond)
			p, err := azeventhubs.NewProducerClientFromConnectionString(rootConnectionString(t), hub, popts)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(ctx)
			want := []string{"one " + t.Name(), "two " + t.Name()}
			if err := send(ctx, p, want...); err != nil {
				t.Fatal(err)
			}
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("received %q, want %q", got, want)
			}
			// Earliest reads back every event the partition holds.
			pe, err := cc.NewPartitionClient("0", &azeventhubs.PartitionClientOptions{StartPosition: azeventhubs.StartPosition{Earliest: to(true)}})
			if err != nil {
				t.Fatal(err)
			}
			defer pe.Close(ctx)
			all := len(local.EventHubs().Events(namespace, hub, 0))
			events, err := receive(ctx, pe, all)
			if err != nil {
				t.Fatal(err)
			}
			if events[len(events)-1] != want[1] {
				t.Errorf("earliest: last event %q, want %q", events[len(events)-1], want[1])
			}
		})
	}
}

func to[T any](v T) *T { return &v }

func TestHubRuleSAS(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	popts, _ := options(false)
	cs := fmt.Sprintf("Endpoint=sb://%s/;SharedAccessKeyName=hub-send;SharedAccessKey=%s;EntityPath=%s", fqdn(), hubKey, hub)
	p, err := azeventhubs.NewProducerClientFromConnectionString(cs, "", popts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if err := send(ctx, p, "hub rule"); err != nil {
		t.Fatal(err)
	}
	evs := local.EventHubs().Events(namespace, hub, 0)
	if len(evs) == 0 || string(evs[len(evs)-1].Body) != "hub rule" || evs[len(evs)-1].Properties["kind"] != "test" {
		t.Fatalf("stored events %+v", evs)
	}
	// A wrong key is refused with Event Hubs' 401.
	bad := fmt.Sprintf("Endpoint=sb://%s/;SharedAccessKeyName=hub-send;SharedAccessKey=wrong;EntityPath=%s", fqdn(), hub)
	pb, err := azeventhubs.NewProducerClientFromConnectionString(bad, "", popts)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close(ctx)
	err = send(ctx, pb, "refused")
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "InvalidSignature") {
		t.Fatalf("wrong key: got %v, want a 401 InvalidSignature", err)
	}
}

func TestEntra(t *testing.T) {
	for _, ws := range []bool{false, true} {
		t.Run(map[bool]string{false: "amqps", true: "websockets"}[ws], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			popts, _ := options(ws)
			p, err := azeventhubs.NewProducerClient(fqdn(), hub, credential(t, sender), popts)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(ctx)
			if err := send(ctx, p, "entra "+t.Name()); err != nil {
				t.Fatal(err)
			}
			evs := local.EventHubs().Events(namespace, hub, 0)
			if string(evs[len(evs)-1].Body) != "entra "+t.Name() {
				t.Fatalf("last event %q", evs[len(evs)-1].Body)
			}
		})
	}
}

func TestEntraWithoutRole(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	popts, _ := options(false)
	for _, a := range []app{nobody, receiver} {
		p, err := azeventhubs.NewProducerClient(fqdn(), hub, credential(t, a), popts)
		if err != nil {
			t.Fatal(err)
		}
		err = send(ctx, p, "refused")
		p.Close(ctx)
		var ehErr *azeventhubs.Error
		if !errors.As(err, &ehErr) || ehErr.Code != azeventhubs.ErrorCodeUnauthorizedAccess {
			t.Fatalf("%s: got %v, want an unauthorized access error", a.name, err)
		}
		if !strings.Contains(err.Error(), "Unauthorized access. 'Send' claim(s) are required to perform this operation. Resource: 'sb://"+namespace+".servicebus.windows.net/"+hub+"'") {
			t.Errorf("%s: error %q lacks Event Hubs' description", a.name, err)
		}
	}
}

// audience replaces the scopes the SDK asks for, as a client that gets its token for the wrong
// resource does.
type audience struct {
	azcore.TokenCredential
	scope string
}

func (a audience) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	o.Scopes = []string{a.scope}
	return a.TokenCredential.GetToken(ctx, o)
}

func TestWrongAudience(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	popts, _ := options(false)
	p, err := azeventhubs.NewProducerClient(fqdn(), hub, audience{credential(t, sender), "https://vault.azure.net/.default"}, popts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	err = send(ctx, p, "refused")
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "InvalidAudience") {
		t.Fatalf("got %v, want a 401 InvalidAudience", err)
	}
}

func TestUnknownHub(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	popts, _ := options(false)
	p, err := azeventhubs.NewProducerClientFromConnectionString(rootConnectionString(t), "missing", popts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	err = send(ctx, p, "nowhere")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("got %v, want a 404", err)
	}
}

func TestHubProperties(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	popts, _ := options(false)
	p, err := azeventhubs.NewProducerClientFromConnectionString(rootConnectionString(t), "other", popts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	props, err := p.GetEventHubProperties(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if props.Name != "other" || strings.Join(props.PartitionIDs, ",") != "0,1" {
		t.Errorf("properties %+v", props)
	}
	if err := send(ctx, p, "to a partition"); err != nil {
		t.Fatal(err)
	}
	pp, err := p.GetPartitionProperties(ctx, "0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if pp.PartitionID != "0" || pp.IsEmpty || pp.LastEnqueuedSequenceNumber != 0 || pp.LastEnqueuedOffset != "0" {
		t.Errorf("partition properties %+v", pp)
	}
}

// TestEntraConsumer: Data Receiver reads a partition; Data Sender may not (Listen is refused).
func TestEntraConsumer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	popts, copts := options(false)
	p, err := azeventhubs.NewProducerClient(fqdn(), hub, credential(t, sender), popts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if err := send(ctx, p, "for the receiver"); err != nil {
		t.Fatal(err)
	}
	last := local.EventHubs().Events(namespace, hub, 0)
	seq := last[len(last)-1].SequenceNumber
	cc, err := azeventhubs.NewConsumerClient(fqdn(), hub, azeventhubs.DefaultConsumerGroup, credential(t, receiver), copts)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close(ctx)
	pc, err := cc.NewPartitionClient("0", &azeventhubs.PartitionClientOptions{StartPosition: azeventhubs.StartPosition{SequenceNumber: &seq, Inclusive: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(ctx)
	events, err := pc.ReceiveEvents(ctx, 1, nil)
	if err != nil || len(events) != 1 || string(events[0].Body) != "for the receiver" || events[0].SequenceNumber != seq || events[0].EnqueuedTime == nil {
		t.Fatalf("received %+v, %v", events, err)
	}
	refused, err := azeventhubs.NewConsumerClient(fqdn(), hub, azeventhubs.DefaultConsumerGroup, credential(t, sender), copts)
	if err != nil {
		t.Fatal(err)
	}
	defer refused.Close(ctx)
	rp, err := refused.NewPartitionClient("0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close(ctx)
	_, err = rp.ReceiveEvents(ctx, 1, nil)
	var ehErr *azeventhubs.Error
	if !errors.As(err, &ehErr) || ehErr.Code != azeventhubs.ErrorCodeUnauthorizedAccess || !strings.Contains(err.Error(), "'Listen' claim(s) are required") {
		t.Fatalf("sender as consumer: got %v, want unauthorized access for Listen", err)
	}
}
