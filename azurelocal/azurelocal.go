// Package azurelocal runs the local Azure: one HTTPS gateway that serves the real Azure host
// names, Entra ID on the login hosts, IMDS on a plain-HTTP port, and the directory that says who
// exists and who may do what. Later emulators (ACR, Azure DevOps, Blob, Key Vault, Event Hubs)
// plug into the same gateway with Register.
//
// Clients reach it through two standard knobs and nothing else (see DESIGN.md, "The local
// Azure"): the connect-to map written to STATE/connect-to, and trust of the CA in STATE/ca.pem.
// `azimuth dev azure` is a thin command over Start; tests call Start directly.
//
// Not emulated: see the package documentation of azurelocal/entra, azurelocal/imds,
// azurelocal/gateway and azurelocal/directory.
package azurelocal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/acr"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
	"github.com/azimuth-gitops/azimuth/azurelocal/gateway"
	"github.com/azimuth-gitops/azimuth/azurelocal/imds"
	"github.com/azimuth-gitops/azimuth/azurelocal/pki"
)

// Hosts are the Azure host names the gateway serves and the connect-to map redirects.
var Hosts = []string{
	"login.microsoftonline.com",
	"login.microsoftonline.us",
	"login.chinacloudapi.cn",
	"*.azurecr.io",
	"*.azurecr.us",
	"*.azurecr.cn",
	"dev.azure.com",
	"*.blob.core.windows.net",
	"*.vault.azure.net",
	"*.servicebus.windows.net",
}

// Files written to the state directory, besides pki.CAFile and pki.CAKeyFile.
const (
	ConnectToFile = "connect-to"
	// TLSCertFile and TLSKeyFile hold the gateway's leaf certificate, for servers started in their
	// own process that must present the same names (Azurite's --cert and --key).
	TLSCertFile = "tls.pem"
	TLSKeyFile  = "tls-key.pem"
	// CertificateAppFile holds the certificate and key of the default directory's certificate
	// application; it is written only when the default directory is in use.
	CertificateAppFile = "certificate-app.pem"
)

// Options configure Start. The zero value is valid.
type Options struct {
	// StateDir keeps the CA across restarts and receives ca.pem and connect-to. Default: the user
	// cache directory's azimuth/local-azure.
	StateDir string
	// Directory is the directory to serve. Default: directory.Default().
	Directory *directory.Directory
	// Listen is the gateway's TCP address. Default: 127.0.0.1:0 (a free port).
	Listen string
	// IMDSListen is the IMDS address. Default: 127.0.0.1:0.
	IMDSListen string
	// IssuerCAs are PEM CAs trusted for external OIDC issuers of federated credentials, such as a
	// test kube-apiserver's. Default: none beyond the system roots.
	IssuerCAs [][]byte
	// Clock replaces time.Now for token times and assertion checks. Default: time.Now.
	Clock func() time.Time
	// ObserveToken is called after every token request to Entra and IMDS. Default: none.
	ObserveToken func(entra.Record)
	// GateToken is called when an Entra token request arrives and may block; see entra.WithGate.
	// Default: none.
	GateToken func(context.Context, entra.Record)
	// Logger receives server errors. Default: slog.Default().
	Logger *slog.Logger
}

// Azure is a running local Azure.
type Azure struct {
	stateDir  string
	dir       *directory.Directory
	ca        *pki.CA
	entra     *entra.Server
	registry  *acr.Server
	gateway   *gateway.Gateway
	gwAddr    string
	imdsAddr  string
	servers   []*http.Server
	stopOnce  sync.Once
	stopErr   error
	stopCtx   func() bool
	connectTo []string
}

// Start brings up the gateway (with Entra ID on the login hosts) and IMDS, writes the state files
// and returns once both listeners accept connections. Cancelling ctx stops it, like Stop.
func Start(ctx context.Context, opts *Options) (*Azure, error) {
	o := withDefaults(opts)
	if o.StateDir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("choose a state directory: %w (set one explicitly)", err)
		}
		o.StateDir = filepath.Join(cache, "azimuth", "local-azure")
	}
	ca, err := pki.LoadOrCreateCA(o.StateDir)
	if err != nil {
		return nil, err
	}
	leaf, err := ca.Issue(append(append([]string(nil), Hosts...), "localhost", "127.0.0.1"))
	if err != nil {
		return nil, err
	}
	a := &Azure{stateDir: o.StateDir, dir: o.Directory, ca: ca, gateway: gateway.New()}
	if err := a.startEmulators(o); err != nil {
		return nil, err
	}
	if err := a.listen(o, leaf); err != nil {
		a.Stop()
		return nil, err
	}
	if err := a.writeState(leaf, opts == nil || opts.Directory == nil); err != nil {
		a.Stop()
		return nil, err
	}
	a.stopCtx = context.AfterFunc(ctx, func() { a.Stop() })
	return a, nil
}

func withDefaults(opts *Options) Options {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Directory == nil {
		o.Directory = directory.Default()
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.IMDSListen == "" {
		o.IMDSListen = "127.0.0.1:0"
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

func (a *Azure) startEmulators(o Options) error {
	entraOpts := []entra.Option{entra.WithClock(o.Clock), entra.WithIssuerCAs(o.IssuerCAs...)}
	if o.ObserveToken != nil {
		entraOpts = append(entraOpts, entra.WithObserver(o.ObserveToken))
	}
	if o.GateToken != nil {
		entraOpts = append(entraOpts, entra.WithGate(o.GateToken))
	}
	srv, err := entra.New(a.dir, entraOpts...)
	if err != nil {
		return err
	}
	a.entra = srv
	for _, h := range entra.Hosts() {
		if err := a.gateway.Register(h, srv); err != nil {
			return err
		}
	}
	registry, err := acr.New(a.dir, srv.Verifier(), acr.WithClock(o.Clock), acr.WithLogger(o.Logger))
	if err != nil {
		return err
	}
	a.registry = registry
	for _, h := range acr.Hosts() {
		if err := a.gateway.Register(h, registry); err != nil {
			return err
		}
	}
	imdsOpts := []imds.Option{imds.WithClock(o.Clock)}
	if o.ObserveToken != nil {
		imdsOpts = append(imdsOpts, imds.WithObserver(o.ObserveToken))
	}
	imdsHandler := imds.New(a.dir, srv, imdsOpts...)
	a.servers = append(a.servers,
		&http.Server{Handler: a.gateway, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn)},
		&http.Server{Handler: imdsHandler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn)},
	)
	return nil
}

// listen opens both listeners before serving, so a port conflict fails Start instead of a
// goroutine later.
func (a *Azure) listen(o Options, leaf *pki.Leaf) error {
	gw, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("gateway listener: %w", err)
	}
	md, err := net.Listen("tcp", o.IMDSListen)
	if err != nil {
		gw.Close()
		return fmt.Errorf("IMDS listener: %w", err)
	}
	a.gwAddr, a.imdsAddr = gw.Addr().String(), md.Addr().String()
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{leaf.TLS}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	a.servers[0].TLSConfig = tlsConfig
	go a.serve(a.servers[0], tls.NewListener(gw, tlsConfig), o.Logger)
	go a.serve(a.servers[1], md, o.Logger)
	return nil
}

func (a *Azure) serve(s *http.Server, l net.Listener, log *slog.Logger) {
	if err := s.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("azurelocal: server stopped", "addr", l.Addr().String(), "error", err)
	}
}

func (a *Azure) writeState(leaf *pki.Leaf, defaultDirectory bool) error {
	a.connectTo = gateway.ConnectToRules(Hosts, a.gwAddr, a.imdsAddr)
	header := "# Written by azurelocal: send these Azure hosts to the local Azure (curl --connect-to form).\n"
	if err := pki.WriteFileAtomic(filepath.Join(a.stateDir, ConnectToFile), []byte(header+strings.Join(a.connectTo, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if err := leaf.WriteFiles(filepath.Join(a.stateDir, TLSCertFile), filepath.Join(a.stateDir, TLSKeyFile)); err != nil {
		return err
	}
	if defaultDirectory {
		return pki.WriteFileAtomic(filepath.Join(a.stateDir, CertificateAppFile), directory.DefaultCertificateAppPEM(), 0o600)
	}
	return nil
}

// Register serves the host pattern with h, for emulators added after Start. The pattern must be
// one of Hosts, which the certificate and the connect-to map already cover.
func (a *Azure) Register(pattern string, h http.Handler) error {
	for _, known := range Hosts {
		if strings.EqualFold(known, pattern) || gateway.MatchHost(known, pattern) {
			return a.gateway.Register(pattern, h)
		}
	}
	return fmt.Errorf("azurelocal: host '%s' is not covered by the gateway certificate; add it to azurelocal.Hosts", pattern)
}

// Stop shuts the servers down, waiting up to five seconds for requests in flight. It is safe to
// call more than once.
func (a *Azure) Stop() error {
	a.stopOnce.Do(func() {
		if a.stopCtx != nil {
			a.stopCtx()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, s := range a.servers {
			errs = append(errs, s.Shutdown(ctx))
		}
		a.stopErr = errors.Join(errs...)
	})
	return a.stopErr
}

// ConnectTo returns the connect-to rules, HOST:PORT:ADDR:PORT, as written to STATE/connect-to.
func (a *Azure) ConnectTo() []string { return append([]string(nil), a.connectTo...) }

// CAPEM returns the local CA certificate in PEM form.
func (a *Azure) CAPEM() []byte { return append([]byte(nil), a.ca.CertPEM...) }

// CAPool returns a pool holding only the local CA.
func (a *Azure) CAPool() *x509.CertPool { return a.ca.Pool() }

// Directory returns the served directory; changes to it take effect at once.
func (a *Azure) Directory() *directory.Directory { return a.dir }

// StateDir returns the state directory.
func (a *Azure) StateDir() string { return a.stateDir }

// GatewayAddr returns the gateway's listening address.
func (a *Azure) GatewayAddr() string { return a.gwAddr }

// IMDSAddr returns the IMDS listening address.
func (a *Azure) IMDSAddr() string { return a.imdsAddr }

// Entra returns the Entra ID emulator, for its Verifier and TrustIssuerCA.
func (a *Azure) Entra() *entra.Server { return a.entra }

// Registry returns the container registries (*.azurecr.io) of the directory.
func (a *Azure) Registry() *acr.Server { return a.registry }
