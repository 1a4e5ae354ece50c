package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Options describe how a client reaches the outside world. The zero value dials every address as
// it is, trusts the system roots and takes its proxy from the environment.
type Options struct {
	// ConnectTo redirects connections; see Rule. Default: none.
	ConnectTo ConnectTo
	// RootCAs replaces the roots of trust. Default: the system pool, which honours SSL_CERT_FILE.
	RootCAs *x509.CertPool
	// ExtraCAs are PEM certificates trusted on top of RootCAs (or the system pool), such as an
	// object's certSecretRef ca.crt. Default: none.
	ExtraCAs []byte
	// ClientCert is presented to servers that ask for a client certificate (mutual TLS), such
	// as an object's certSecretRef tls.crt and tls.key. Default: none.
	ClientCert *tls.Certificate
	// Proxy sends HTTP requests through this proxy, ignoring HTTP_PROXY, HTTPS_PROXY and NO_PROXY.
	// Default: the environment's proxy settings.
	Proxy *url.URL
	// DialTimeout bounds establishing a TCP connection. Default: 30s.
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake. Default: 10s.
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a response's headers after a request is written,
	// so a server that accepts a connection and never answers cannot hang a reconcile. Default: 60s.
	ResponseHeaderTimeout time.Duration
}

func (o *Options) orDefault() *Options {
	if o == nil {
		return &Options{}
	}
	return o
}

// Dial connects to address, or to where the connect-to map sends it. Non-HTTP clients (AMQP,
// Git over other transports) use it directly.
func (o *Options) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	o = o.orDefault()
	d := net.Dialer{Timeout: durationOr(o.DialTimeout, 30*time.Second), KeepAlive: 30 * time.Second}
	return d.DialContext(ctx, network, o.ConnectTo.Resolve(address))
}

// TLSConfig returns a client TLS configuration with the configured roots of trust, for
// serverName (empty lets crypto/tls and net/http fill it in from the address).
func (o *Options) TLSConfig(serverName string) (*tls.Config, error) {
	o = o.orDefault()
	pool := o.RootCAs
	if len(o.ExtraCAs) > 0 {
		if pool == nil {
			system, err := x509.SystemCertPool()
			if err != nil {
				system = x509.NewCertPool()
			}
			pool = system
		} else {
			pool = pool.Clone()
		}
		if !pool.AppendCertsFromPEM(o.ExtraCAs) {
			return nil, fmt.Errorf("the extra CA bundle holds no PEM certificate")
		}
	}
	c := &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
	if o.ClientCert != nil {
		c.Certificates = []tls.Certificate{*o.ClientCert}
	}
	return c, nil
}

// New returns an HTTP transport that dials through the connect-to map, trusts the configured
// roots and uses the configured proxy. It fails only when ExtraCAs holds no certificate.
func New(opts *Options) (*http.Transport, error) {
	o := opts.orDefault()
	tlsConfig, err := o.TLSConfig("")
	if err != nil {
		return nil, err
	}
	proxy := http.ProxyFromEnvironment
	if o.Proxy != nil {
		proxy = http.ProxyURL(o.Proxy)
	}
	return &http.Transport{
		Proxy:                 proxy,
		DialContext:           o.Dial,
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   durationOr(o.TLSHandshakeTimeout, 10*time.Second),
		ResponseHeaderTimeout: durationOr(o.ResponseHeaderTimeout, 60*time.Second),
		ExpectContinueTimeout: time.Second,
	}, nil
}

// NewClient returns an HTTP client over New's transport whose requests, bodies included, end
// after timeout (0 means no limit beyond the transport's own timeouts).
func NewClient(opts *Options, timeout time.Duration) (*http.Client, error) {
	t, err := New(opts)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: t, Timeout: timeout}, nil
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
