package eventhubs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	tenantID = "6d1c3b0e-4c38-4a8c-9a57-2b6a0f7f5a11"
	subID    = "3f2b9d4e-1a6c-4b8e-9d0f-5c7a2e4b6d81"
	secret   = "eventhubs-adapter-secret"
	ns       = "adapter-ns"
	hub      = "flux-events"
	senderID = "0c5a1e2b-3d4f-4a6b-8c7d-9e0f1a2b3c4d"
	nobodyID = "4a9e5c6f-7b8d-4eaf-8ab1-3c4d5e6f7081"
)

const dir = `
tenants: [{id: ` + tenantID + `}]
subscriptions: [{id: ` + subID + `}]
applications:
  - {name: sender, clientId: ` + senderID + `, principalId: 1d6b2f3c-4e5a-4b7c-9d8e-0f1a2b3c4d5e, clientSecrets: [{value: ` + secret + `}]}
  - {name: nobody, clientId: ` + nobodyID + `, principalId: 5bafd67a-8c9e-4fb0-9bc2-4d5e6f708192, clientSecrets: [{value: ` + secret + `}]}
resources:
  eventHubsNamespaces:
    - name: ` + ns + `
      subscription: ` + subID + `
      resourceGroup: eh
      eventHubs:
        - {name: ` + hub + `}
roleAssignments:
  - {principal: sender, role: Azure Event Hubs Data Sender, scope: /subscriptions/` + subID + `/resourceGroups/eh/providers/Microsoft.EventHub/namespaces/` + ns + `}
`

func TestNamespaceHost(t *testing.T) {
	for _, c := range []struct {
		channel string
		cloud   entra.Cloud
		want    string
	}{
		{"ns", entra.AzurePublic, "ns.servicebus.windows.net"},
		{"ns", entra.AzureChina, "ns.servicebus.chinacloudapi.cn"},
		{"ns", entra.AzureGovernment, "ns.servicebus.usgovcloudapi.net"},
		{"ns.servicebus.windows.net", entra.AzureChina, "ns.servicebus.windows.net"},
		{"ns", entra.CloudForAuthority("https://login.example.internal/"), "ns.servicebus.windows.net"},
	} {
		if got := NamespaceHost(c.channel, c.cloud); got != c.want {
			t.Errorf("NamespaceHost(%q, %s) = %q, want %q", c.channel, c.cloud.Name, got, c.want)
		}
	}
}

func TestClientOptions(t *testing.T) {
	rules, _ := transport.ParseConnectToList("*.servicebus.windows.net:5671:127.0.0.1:15671")
	o, err := clientOptions("ns.servicebus.windows.net", &transport.Options{ConnectTo: rules})
	if err != nil {
		t.Fatal(err)
	}
	if o.CustomEndpoint != "127.0.0.1:15671" || o.TLSConfig.ServerName != "ns.servicebus.windows.net" || o.NewWebSocketConn != nil {
		t.Errorf("through the connect-to map: endpoint %q, server name %q", o.CustomEndpoint, o.TLSConfig.ServerName)
	}
	if o, _ := clientOptions("ns.servicebus.windows.net", nil); o.CustomEndpoint != "" {
		t.Errorf("production dials the namespace itself, not %q", o.CustomEndpoint)
	}
}

// local is the local Azure with one namespace, and the options that reach it.
func local(t *testing.T) (*azurelocal.Azure, transport.Options) {
	a := azuretest.Start(t, dir, nil)
	rules, err := transport.ParseConnectToList(strings.Join(a.ConnectTo(), "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return a, transport.Options{ConnectTo: rules, RootCAs: a.CAPool()}
}

func credential(t *testing.T, o *transport.Options, clientID string) azcore.TokenCredential {
	tr, err := transport.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: tr}}})
	if err != nil {
		t.Fatal(err)
	}
	return named{cred, clientID}
}

// named stands for *entra.Credential, which names its identity.
type named struct {
	azcore.TokenCredential
	id string
}

func (n named) String() string   { return "application " + n.id }
func (n named) ClientID() string { return n.id }

func (n named) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return n.TokenCredential.GetToken(ctx, o)
}

func bodies(a *azurelocal.Azure) []string {
	var out []string
	for _, e := range a.EventHubs().Events(ns, hub, 0) {
		out = append(out, string(e.Body))
	}
	return out
}

// TestSend: the event arrives over TLS through the connect-to map with a SAS connection string
// and with an Entra identity holding Data Sender; over WebSockets through an HTTP proxy; and an
// identity without the role gets an *entra.RoleError.
func TestSend(t *testing.T) {
	a, o := local(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	host := ns + ".servicebus.windows.net"
	target := Target{Host: host, Hub: hub}
	nsd, _ := a.Directory().EventHubsNamespace(ns)
	key := nsd.AuthorizationRules[0].PrimaryKey
	cs := fmt.Sprintf("Endpoint=sb://%s/;SharedAccessKeyName=%s;SharedAccessKey=%s;EntityPath=%s", host, directory.RootManageSharedAccessKey, key, hub)

	if err := Send(ctx, target, Auth{ConnectionString: cs}, &o, []byte(`{"via":"sas"}`)); err != nil {
		t.Fatalf("SAS: %v", err)
	}
	if err := Send(ctx, target, Auth{Credential: credential(t, &o, senderID)}, &o, []byte(`{"via":"entra"}`)); err != nil {
		t.Fatalf("Entra: %v", err)
	}

	// The deprecated static token: a token got elsewhere, sent as it is.
	tok, err := credential(t, &o, senderID).GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}})
	if err != nil {
		t.Fatal(err)
	}
	if err := Send(ctx, target, Auth{Credential: StaticToken(tok.Token)}, &o, []byte(`{"via":"token"}`)); err != nil {
		t.Fatalf("static token: %v", err)
	}

	// An HTTP proxy that resolves through the connect-to map, as a proxy in front of Azure would
	// resolve the real host.
	var tunnels atomic.Int32
	proxy := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := o.Dial(r.Context(), "tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		tunnels.Add(1)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { io.Copy(up, buf); up.Close() }()
		io.Copy(conn, up)
		conn.Close()
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go proxy.Serve(ln)
	t.Cleanup(func() { proxy.Close() })
	po := o
	po.Proxy = mustURL(t, "http://"+ln.Addr().String())
	if err := Send(ctx, target, Auth{ConnectionString: cs}, &po, []byte(`{"via":"proxy"}`)); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	if tunnels.Load() == 0 {
		t.Error("the proxy saw no tunnel")
	}
	if got := strings.Join(bodies(a), " "); got != `{"via":"sas"} {"via":"entra"} {"via":"token"} {"via":"proxy"}` {
		t.Errorf("events: %s", got)
	}

	err = Send(ctx, target, Auth{Credential: credential(t, &o, nobodyID)}, &o, []byte(`{"via":"nobody"}`))
	var re *entra.RoleError
	if !errors.As(err, &re) || re.Role != RoleDataSender || re.ClientID != nobodyID {
		t.Fatalf("a denied identity: %v", err)
	}
	for _, want := range []string{"application " + nobodyID, `"Azure Event Hubs Data Sender"`, "az role assignment create --assignee " + nobodyID, ns} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	bad := strings.Replace(cs, key, "d3Jvbmcta2V5LXZhbHVlLTAxMjM0NTY3ODk=", 1)
	err = Send(ctx, target, Auth{ConnectionString: bad}, &o, []byte(`{}`))
	if err == nil || !strings.Contains(err.Error(), "refused the SAS key") || strings.Contains(err.Error(), "d3Jvbmcta2V5LXZhbHVlLTAxMjM0NTY3ODk=") || strings.Contains(err.Error(), key) {
		t.Errorf("a wrong key: %v", err)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
