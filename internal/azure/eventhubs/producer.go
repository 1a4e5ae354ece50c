package eventhubs

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	xproxy "golang.org/x/net/proxy"
	"golang.org/x/net/websocket"

	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Port is Event Hubs' AMQP over TLS port.
const Port = "5671"

// webSocketProtocol is the WebSocket subprotocol of AMQP over WebSockets.
const webSocketProtocol = "AMQPWSB10"

// Target is where events go: the namespace's host and the event hub.
type Target struct {
	// Host is the namespace's host name, such as NS.servicebus.windows.net.
	Host string
	Hub  string
}

// Auth is how the sender proves itself: a SAS connection string, or a token credential (an
// Entra identity, or a static token).
type Auth struct {
	// ConnectionString is a SAS connection string with its EntityPath, which names the hub.
	ConnectionString string
	// Credential gets tokens for Scope.
	Credential azcore.TokenCredential
}

// Send sends body as one event to t, over a connection opened for it and closed after, as
// Flux's notifier does. net is how Azimuth reaches the outside: AMQP over TLS on port 5671
// through its connect-to map and trusting its CAs; when net has a proxy, AMQP over WebSockets
// (wss://HOST/$servicebus/websocket on 443) through that proxy instead, which Flux does not do.
// Refusals are explained by Explain.
func Send(ctx context.Context, t Target, auth Auth, net *transport.Options, body []byte) error {
	opts, err := clientOptions(t.Host, net)
	if err != nil {
		return err
	}
	var producer *azeventhubs.ProducerClient
	if auth.ConnectionString != "" {
		producer, err = azeventhubs.NewProducerClientFromConnectionString(auth.ConnectionString, "", opts)
	} else {
		producer, err = azeventhubs.NewProducerClient(t.Host, t.Hub, auth.Credential, opts)
	}
	if err != nil {
		return fmt.Errorf("event hub %s/%s: %w", t.Host, t.Hub, err)
	}
	defer producer.Close(context.WithoutCancel(ctx))
	batch, err := producer.NewEventDataBatch(ctx, nil)
	if err != nil {
		return Explain(err, auth.Credential, t)
	}
	if err := batch.AddEventData(&azeventhubs.EventData{Body: body}, nil); err != nil {
		return fmt.Errorf("event hub %s/%s: %w", t.Host, t.Hub, err)
	}
	if err := producer.SendEventDataBatch(ctx, batch, nil); err != nil {
		return Explain(err, auth.Credential, t)
	}
	return nil
}

// clientOptions makes the SDK dial as Azimuth does. The SDK opens its AMQP connection itself,
// with no dialer option: over TLS it dials CustomEndpoint (the address the connect-to map sends
// HOST:5671 to, when it sends it elsewhere) with TLSConfig (Azimuth's CAs, the namespace's
// name); over WebSockets it takes the connection NewWebSocketConn makes.
func clientOptions(host string, o *transport.Options) (*azeventhubs.ProducerClientOptions, error) {
	if o == nil {
		o = &transport.Options{}
	}
	cfg, err := o.TLSConfig(host)
	if err != nil {
		return nil, err
	}
	opts := &azeventhubs.ProducerClientOptions{
		TLSConfig: cfg,
		// Bounded: the dispatcher retries a failed delivery itself.
		RetryOptions: azeventhubs.RetryOptions{MaxRetries: 2, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 2 * time.Second},
	}
	if o.Proxy != nil {
		opts.NewWebSocketConn = func(ctx context.Context, p azeventhubs.WebSocketConnParams) (net.Conn, error) {
			return dialWebSocket(ctx, o, p.Host)
		}
		return opts, nil
	}
	addr := net.JoinHostPort(host, Port)
	if to := o.ConnectTo.Resolve(addr); to != addr {
		opts.CustomEndpoint = to
	}
	return opts, nil
}

// dialWebSocket opens AMQP over WebSockets to wssURL through o's proxy: CONNECT to HOST:443
// (or SOCKS5), TLS with o's CAs, then the WebSocket handshake with the AMQPWSB10 subprotocol.
func dialWebSocket(ctx context.Context, o *transport.Options, wssURL string) (net.Conn, error) {
	u, err := url.Parse(wssURL)
	if err != nil || u.Scheme != "wss" {
		return nil, fmt.Errorf("AMQP over WebSockets: %q is not a wss:// URL", wssURL)
	}
	host := u.Hostname()
	addr := net.JoinHostPort(host, "443")
	raw, err := dialThroughProxy(ctx, o, addr)
	if err != nil {
		return nil, err
	}
	cfg, err := o.TLSConfig(host)
	if err != nil {
		raw.Close()
		return nil, err
	}
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("AMQP over WebSockets to %s: %w", addr, err)
	}
	wc, err := websocket.NewConfig(wssURL, "https://"+u.Host)
	if err != nil {
		tc.Close()
		return nil, err
	}
	wc.Protocol = []string{webSocketProtocol}
	if d, ok := ctx.Deadline(); ok {
		_ = tc.SetDeadline(d)
	}
	ws, err := websocket.NewClient(wc, tc)
	if err != nil {
		tc.Close()
		return nil, fmt.Errorf("AMQP over WebSockets to %s: %w", wssURL, err)
	}
	_ = tc.SetDeadline(time.Time{})
	ws.PayloadType = websocket.BinaryFrame
	return ws, nil
}

// dialThroughProxy opens a tunnel to addr through o.Proxy: HTTP CONNECT (over TLS for an https
// proxy) or SOCKS5. The proxy itself is dialled through the connect-to map.
func dialThroughProxy(ctx context.Context, o *transport.Options, addr string) (net.Conn, error) {
	p := o.Proxy
	proxyAddr := p.Host
	if p.Port() == "" {
		port := map[string]string{"http": "80", "https": "443", "socks5": "1080"}[p.Scheme]
		proxyAddr = net.JoinHostPort(p.Hostname(), port)
	}
	if p.Scheme == "socks5" {
		var auth *xproxy.Auth
		if p.User != nil {
			pw, _ := p.User.Password()
			auth = &xproxy.Auth{User: p.User.Username(), Password: pw}
		}
		d, err := xproxy.SOCKS5("tcp", proxyAddr, auth, dialerFunc(o.Dial))
		if err != nil {
			return nil, err
		}
		conn, err := d.(xproxy.ContextDialer).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("through the SOCKS5 proxy %s to %s: %w", p.Host, addr, err)
		}
		return conn, nil
	}
	conn, err := o.Dial(ctx, "tcp", proxyAddr)
	if err != nil {
		return nil, fmt.Errorf("the proxy %s: %w", p.Host, err)
	}
	if p.Scheme == "https" {
		cfg, err := o.TLSConfig(p.Hostname())
		if err != nil {
			conn.Close()
			return nil, err
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("the proxy %s: %w", p.Host, err)
		}
		conn = tc
	}
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	if p.User != nil {
		pw, _ := p.User.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(p.User.Username()+":"+pw)))
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("the proxy %s: %w", p.Host, err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("the proxy %s: %w", p.Host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		conn.Close()
		return nil, fmt.Errorf("the proxy %s refused the tunnel to %s: %s", p.Host, addr, resp.Status)
	}
	if br.Buffered() > 0 {
		conn.Close()
		return nil, errors.New("the proxy sent data before the tunnel was used")
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, nil
}

type dialerFunc func(ctx context.Context, network, address string) (net.Conn, error)

func (f dialerFunc) Dial(network, address string) (net.Conn, error) {
	return f(context.Background(), network, address)
}

func (f dialerFunc) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

// StaticToken is a credential that returns a fixed token with no expiry: the deprecated
// 'token' of an azureeventhub Provider's secret, as Flux uses it.
type StaticToken string

// GetToken returns the token.
func (s StaticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s)}, nil
}

// String hides the token.
func (StaticToken) String() string { return "the static token of the Provider's secret" }
