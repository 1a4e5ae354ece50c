package azuretest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"

	"golang.org/x/net/websocket"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/eventhubs"
)

// EventHubsTLS returns what an AMQP client of NAMESPACE.servicebus.windows.net needs to reach the
// local Event Hubs over TLS on port 5671: the address the connect-to map sends it to (the
// azeventhubs options' CustomEndpoint) and a TLS configuration that trusts the local CA and
// checks the namespace's name (their TLSConfig). The audience of the SDK's tokens stays the
// namespace's.
func EventHubsTLS(a *azurelocal.Azure, namespace string) (endpoint string, cfg *tls.Config) {
	host := namespace + eventhubs.Suffix
	return a.EventHubsAddr(), &tls.Config{RootCAs: a.CAPool(), ServerName: host, MinVersion: tls.VersionTLS12}
}

// EventHubsWebSocket returns a dialer of AMQP over WebSockets (the azeventhubs options'
// NewWebSocketConn takes it with the wss:// URL it is given): TLS to the gateway as the
// connect-to map sends it, trusting the local CA, and the WebSocket handshake with the AMQPWSB10
// subprotocol.
func EventHubsWebSocket(a *azurelocal.Azure) func(ctx context.Context, wssURL string) (net.Conn, error) {
	return func(ctx context.Context, wssURL string) (net.Conn, error) {
		u, err := url.Parse(wssURL)
		if err != nil {
			return nil, err
		}
		if u.Scheme != "wss" {
			return nil, fmt.Errorf("azuretest: %s is not a wss:// URL", wssURL)
		}
		// The connect-to map sends every *.servicebus.windows.net:443 to the gateway.
		raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", a.GatewayAddr())
		if err != nil {
			return nil, err
		}
		tc := tls.Client(raw, &tls.Config{RootCAs: a.CAPool(), ServerName: u.Hostname(), MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		cfg, err := websocket.NewConfig(wssURL, "https://"+u.Host)
		if err != nil {
			tc.Close()
			return nil, err
		}
		cfg.Protocol = []string{eventhubs.WebSocketProtocol}
		ws, err := websocket.NewClient(cfg, tc)
		if err != nil {
			tc.Close()
			return nil, err
		}
		ws.PayloadType = websocket.BinaryFrame
		return ws, nil
	}
}
