// Package azurelocal runs the local Azure: one HTTPS gateway that serves the real Azure host
// names, Entra ID on the login hosts, ACR on the registry hosts, Azure Repos on dev.azure.com
// (and its SSH endpoint, ssh.dev.azure.com:22, on a listener of its own), Key Vault on the vault
// hosts, Blob Storage on the blob hosts when asked (Azurite behind the gateway, see
// azurelocal/blob), IMDS on a plain-HTTP port, and the directory that says who exists and who may
// do what, and Event Hubs on NAMESPACE.servicebus.windows.net: AMQP on port 5671 (a listener of its
// own) and AMQP over WebSockets on the gateway. Later emulators plug in with Register.
//
// Clients reach it through two standard knobs and nothing else (see DESIGN.md, "The local
// Azure"): the connect-to map written to STATE/connect-to, and trust of the CA in STATE/ca.pem.
// Clients that have no connect-to setting (crane, docker, git, any SDK) use the same map through
// an HTTP proxy (azurelocal/proxy): HTTPS_PROXY and SSL_CERT_FILE, as ProxyEnv gives them.
// `azimuth dev azure` is a thin command over Start; tests call Start directly.
//
// Not emulated: see the package documentation of azurelocal/entra, azurelocal/imds,
// azurelocal/gateway and azurelocal/directory.
//
// In docs/architecture.md's flow it stands in for Azure itself, at the far end of every arrow that
// leaves the process; the engine reaches it only through the connect-to map and the local CA, and
// it imports nothing of the engine.
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
	"github.com/azimuth-gitops/azimuth/azurelocal/arm"
	"github.com/azimuth-gitops/azimuth/azurelocal/blob"
	"github.com/azimuth-gitops/azimuth/azurelocal/devops"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
	"github.com/azimuth-gitops/azimuth/azurelocal/eventhubs"
	"github.com/azimuth-gitops/azimuth/azurelocal/gateway"
	"github.com/azimuth-gitops/azimuth/azurelocal/imds"
	"github.com/azimuth-gitops/azimuth/azurelocal/keyvault"
	"github.com/azimuth-gitops/azimuth/azurelocal/pki"
	"github.com/azimuth-gitops/azimuth/azurelocal/proxy"
	"github.com/azimuth-gitops/azimuth/azurelocal/teams"
)

// Hosts are the Azure host names the gateway serves (HTTPS) and the connect-to map redirects.
// SSHHosts are served on port 22 by a listener of their own.
var Hosts = []string{
	"login.microsoftonline.com",
	"login.microsoftonline.us",
	"login.chinacloudapi.cn",
	"*.azurecr.io",
	"*.azurecr.us",
	"*.azurecr.cn",
	"dev.azure.com",
	// Azure DevOps' entitlements and graph (azurelocal/devops): organization members and groups.
	"vsaex.dev.azure.com",
	"vssps.dev.azure.com",
	"*.blob.core.windows.net",
	"*.vault.azure.net",
	"*.servicebus.windows.net",
	// Azure Resource Manager (azurelocal/arm): role assignments, identities, federated credentials.
	"management.azure.com",
	// Microsoft Teams incoming webhooks: Office 365 connectors and Workflows (azurelocal/teams).
	"*.webhook.office.com",
	"*.westeurope.logic.azure.com",
	"*.westus.logic.azure.com",
}

// SSHHosts are the Azure host names served over SSH on port 22: Azure Repos' ssh.dev.azure.com.
// The connect-to map sends HOST:22 to the SSH listener.
var SSHHosts = []string{devops.SSHHost}

// AMQPHosts are the Azure host names served over AMQP 1.0 with TLS on port 5671 (eventhubs.Port)
// by a listener of their own: Event Hubs namespaces. The connect-to map sends HOST:5671 to it.
var AMQPHosts = eventhubs.Hosts()

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
	// KnownHostsFile holds the known_hosts line of the SSH host key of ssh.dev.azure.com, for
	// ssh -o UserKnownHostsFile= and for a Flux secret's known_hosts.
	KnownHostsFile = "known_hosts"
	// BlobDir holds Azurite's blobs and metadata when BlobOptions.Persist is set.
	BlobDir = "blob"
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
	// ProxyListen is the address of the HTTP proxy that applies the connect-to map (see
	// ProxyEnv). Default: 127.0.0.1:0.
	ProxyListen string
	// SSHListen is the address of the SSH server of ssh.dev.azure.com. Default: 127.0.0.1:0.
	SSHListen string
	// EventHubsListen is the address of Event Hubs' AMQP over TLS listener
	// (NAMESPACE.servicebus.windows.net:5671). Default: 127.0.0.1:0.
	EventHubsListen string
	// IssuerCAs are PEM CAs trusted for external OIDC issuers of federated credentials, such as a
	// test kube-apiserver's. Default: none beyond the system roots.
	IssuerCAs [][]byte
	// Clock replaces time.Now for token times and assertion checks. Default: time.Now.
	Clock func() time.Time
	// ObserveToken is called after every token request to Entra and IMDS. Default: none.
	ObserveToken func(entra.Record)
	// ObserveDevOps is called after every request to Azure Repos, over HTTPS and SSH. Default:
	// none.
	ObserveDevOps func(devops.Record)
	// GateToken is called when an Entra token request arrives and may block; see entra.WithGate.
	// Default: none.
	GateToken func(context.Context, entra.Record)
	// Blob starts Blob Storage for the directory's storage accounts: Azurite, behind the gateway
	// on *.blob.core.windows.net. Azurite takes a second or two to start, so it runs only when
	// asked. Default: nil, no Blob; the blob hosts answer 501 NotImplemented saying so.
	Blob *BlobOptions
	// Logger receives server errors. Default: slog.Default().
	Logger *slog.Logger
}

// BlobOptions configure the local Blob Storage. The zero value is valid: blobs in memory.
type BlobOptions struct {
	// Persist keeps blobs in STATE/blob (BlobDir) across restarts, as `azimuth dev up` does.
	// Default: false, blobs live in memory and end with Stop.
	Persist bool
	// Azurite is the azurite-blob executable. Default: blob.FindAzurite's answer
	// ($AZIMUTH_AZURITE, the repository's hack/azurite, or azurite-blob on PATH).
	Azurite string
}

// Azure is a running local Azure.
type Azure struct {
	stateDir  string
	dir       *directory.Directory
	ca        *pki.CA
	entra     *entra.Server
	registry  *acr.Server
	devops    *devops.Server
	keyVault  *keyvault.Server
	teams     *teams.Server
	eventHubs *eventhubs.Server
	blob      *blob.Server
	arm       *arm.Server
	azurite   *blob.Azurite
	gateway   *gateway.Gateway
	proxy     *proxy.Proxy
	gwAddr    string
	imdsAddr  string
	proxyAddr string
	sshAddr   string
	amqpAddr  string
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
	if o.Blob != nil {
		if err := a.startBlob(ctx, o); err != nil {
			a.Stop()
			return nil, err
		}
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
	if o.ProxyListen == "" {
		o.ProxyListen = "127.0.0.1:0"
	}
	if o.SSHListen == "" {
		o.SSHListen = "127.0.0.1:0"
	}
	if o.EventHubsListen == "" {
		o.EventHubsListen = "127.0.0.1:0"
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
	registry, err := acr.New(a.dir, srv.Verifier(), acr.WithClock(o.Clock), acr.WithLogger(o.Logger), acr.WithEntra(srv))
	if err != nil {
		return err
	}
	a.registry = registry
	for _, h := range acr.Hosts() {
		if err := a.gateway.Register(h, registry); err != nil {
			return err
		}
	}
	devopsOpts := []devops.Option{devops.WithClock(o.Clock), devops.WithLogger(o.Logger)}
	if o.ObserveDevOps != nil {
		devopsOpts = append(devopsOpts, devops.WithObserver(o.ObserveDevOps))
	}
	repos, err := devops.New(a.dir, srv.Verifier(), a.stateDir, devopsOpts...)
	if err != nil {
		return err
	}
	a.devops = repos
	for _, h := range devops.Hosts() {
		if err := a.gateway.Register(h, repos); err != nil {
			return err
		}
	}
	vaults, err := keyvault.New(a.dir, srv.Verifier(), a.stateDir, keyvault.WithClock(o.Clock), keyvault.WithLogger(o.Logger))
	if err != nil {
		return err
	}
	a.keyVault = vaults
	for _, h := range keyvault.Hosts() {
		if err := a.gateway.Register(h, vaults); err != nil {
			return err
		}
	}
	a.eventHubs = eventhubs.New(a.dir, srv.Verifier(), eventhubs.WithClock(o.Clock), eventhubs.WithLogger(o.Logger))
	for _, h := range eventhubs.Hosts() {
		if err := a.gateway.Register(h, a.eventHubs); err != nil {
			return err
		}
	}
	for _, h := range blob.Hosts() {
		if err := a.gateway.Register(h, blob.NotRunning()); err != nil {
			return err
		}
	}
	a.arm = arm.New(a.dir, srv.Verifier(), arm.WithClock(o.Clock), arm.WithLogger(o.Logger))
	for _, h := range arm.Hosts() {
		if err := a.gateway.Register(h, a.arm); err != nil {
			return err
		}
	}
	a.teams = teams.New()
	for _, h := range teams.Hosts() {
		if err := a.gateway.Register(h, a.teams); err != nil {
			return err
		}
	}
	imdsOpts := []imds.Option{imds.WithClock(o.Clock)}
	if o.ObserveToken != nil {
		imdsOpts = append(imdsOpts, imds.WithObserver(o.ObserveToken))
	}
	imdsHandler := imds.New(a.dir, srv, imdsOpts...)
	errorLog := slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn)
	a.servers = append(a.servers,
		&http.Server{Handler: a.gateway, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errorLog},
		&http.Server{Handler: imdsHandler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errorLog},
		&http.Server{ReadHeaderTimeout: 10 * time.Second, ErrorLog: errorLog}, // the proxy, once the map is known
	)
	return nil
}

// listen opens the gateway, IMDS, proxy, SSH and Event Hubs listeners before serving, so a port conflict
// fails Start instead of a goroutine later. The proxy applies the connect-to map of the others.
func (a *Azure) listen(o Options, leaf *pki.Leaf) error {
	var ls []net.Listener
	for _, l := range []struct{ what, addr string }{{"gateway", o.Listen}, {"IMDS", o.IMDSListen}, {"proxy", o.ProxyListen}, {"SSH", o.SSHListen}, {"Event Hubs", o.EventHubsListen}} {
		nl, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, open := range ls {
				open.Close()
			}
			return fmt.Errorf("%s listener: %w", l.what, err)
		}
		ls = append(ls, nl)
	}
	a.gwAddr, a.imdsAddr, a.proxyAddr, a.sshAddr = ls[0].Addr().String(), ls[1].Addr().String(), ls[2].Addr().String(), ls[3].Addr().String()
	a.amqpAddr = ls[4].Addr().String()
	a.connectTo = gateway.ConnectToRules(Hosts, a.gwAddr, a.imdsAddr)
	for _, h := range SSHHosts {
		a.connectTo = append(a.connectTo, h+":22:"+bracketHostPort(a.sshAddr))
	}
	for _, h := range AMQPHosts {
		a.connectTo = append(a.connectTo, fmt.Sprintf("%s:%d:%s", h, eventhubs.Port, bracketHostPort(a.amqpAddr)))
	}
	p, err := proxy.New(a.connectTo, proxy.WithLogger(o.Logger))
	if err != nil {
		for _, open := range ls {
			open.Close()
		}
		return err
	}
	a.proxy, a.servers[2].Handler = p, p
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{leaf.TLS}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	a.servers[0].TLSConfig = tlsConfig
	go a.serve(a.servers[0], tls.NewListener(ls[0], tlsConfig), o.Logger)
	go a.serve(a.servers[1], ls[1], o.Logger)
	go a.serve(a.servers[2], ls[2], o.Logger)
	go func() {
		if err := a.devops.ServeSSH(ls[3]); err != nil {
			o.Logger.Error("azurelocal: SSH server stopped", "addr", a.sshAddr, "error", err)
		}
	}()
	// AMQP has no ALPN of its own; the same leaf certificate covers *.servicebus.windows.net.
	amqpTLS := &tls.Config{Certificates: []tls.Certificate{leaf.TLS}, MinVersion: tls.VersionTLS12}
	go func() {
		if err := a.eventHubs.Serve(tls.NewListener(ls[4], amqpTLS)); err != nil {
			o.Logger.Error("azurelocal: Event Hubs AMQP server stopped", "addr", a.amqpAddr, "error", err)
		}
	}()
	return nil
}

// startBlob starts Azurite with the gateway's certificate, for the directory's storage accounts,
// and serves it on the blob hosts.
func (a *Azure) startBlob(ctx context.Context, o Options) error {
	azOpts := &blob.AzuriteOptions{
		Command:  o.Blob.Azurite,
		Accounts: a.dir.StorageAccounts(),
		CertFile: filepath.Join(a.stateDir, TLSCertFile),
		KeyFile:  filepath.Join(a.stateDir, TLSKeyFile),
		RootCAs:  a.ca.Pool(),
	}
	if o.Blob.Persist {
		azOpts.Location = filepath.Join(a.stateDir, BlobDir)
	}
	azurite, err := blob.StartAzurite(ctx, azOpts)
	if err != nil {
		return err
	}
	a.azurite = azurite
	srv, err := blob.New(a.dir, a.entra.Verifier(), azurite, blob.WithClock(o.Clock), blob.WithLogger(o.Logger))
	if err != nil {
		return err
	}
	a.blob = srv
	for _, h := range blob.Hosts() {
		if err := a.gateway.Register(h, srv); err != nil {
			return err
		}
	}
	return nil
}

// bracketHostPort renders host:port with an IPv6 host in brackets, as curl's connect-to form
// writes it.
func bracketHostPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !strings.Contains(host, ":") {
		return addr
	}
	return "[" + host + "]:" + port
}

func (a *Azure) serve(s *http.Server, l net.Listener, log *slog.Logger) {
	if err := s.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("azurelocal: server stopped", "addr", l.Addr().String(), "error", err)
	}
}

func (a *Azure) writeState(leaf *pki.Leaf, defaultDirectory bool) error {
	header := "# Written by azurelocal: send these Azure hosts to the local Azure (curl --connect-to form).\n"
	if err := pki.WriteFileAtomic(filepath.Join(a.stateDir, ConnectToFile), []byte(header+strings.Join(a.connectTo, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if err := leaf.WriteFiles(filepath.Join(a.stateDir, TLSCertFile), filepath.Join(a.stateDir, TLSKeyFile)); err != nil {
		return err
	}
	if err := pki.WriteFileAtomic(filepath.Join(a.stateDir, KnownHostsFile), []byte(a.devops.KnownHostsLine(SSHHosts...)+"\n"), 0o644); err != nil {
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
		if a.proxy != nil {
			// Its tunnels are hijacked connections, which Shutdown does not see; ended first, they
			// leave the gateway no request in flight to wait for.
			a.proxy.Close()
		}
		var errs []error
		if a.devops != nil {
			errs = append(errs, a.devops.Close())
		}
		if a.eventHubs != nil {
			// Its connections (AMQP, and WebSockets the gateway hijacked) before the gateway's
			// Shutdown, which does not see hijacked connections.
			errs = append(errs, a.eventHubs.Close())
		}
		for _, s := range a.servers {
			errs = append(errs, s.Shutdown(ctx))
		}
		if a.azurite != nil {
			// After the gateway, which forwards to it, has finished its requests.
			errs = append(errs, a.azurite.Stop())
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

// ProxyURL returns the URL of the HTTP proxy that applies the connect-to map, such as
// http://127.0.0.1:40123.
func (a *Azure) ProxyURL() string { return "http://" + a.proxyAddr }

// ProxyEnv returns the environment, NAME=VALUE, that sends a client with no connect-to setting to
// the local Azure through the proxy: HTTPS_PROXY (and HTTP_PROXY, for IMDS), NO_PROXY for the
// loopback servers of this machine (such as a local kube-apiserver), and the local CA as
// SSL_CERT_FILE (Go programs, OpenSSL), CURL_CA_BUNDLE (curl, which ignores SSL_CERT_FILE) and
// GIT_SSL_CAINFO (git, whose Debian build uses GnuTLS). With these set, the client trusts the
// local CA only.
func (a *Azure) ProxyEnv() []string {
	ca := filepath.Join(a.stateDir, pki.CAFile)
	return []string{
		"HTTPS_PROXY=" + a.ProxyURL(),
		"HTTP_PROXY=" + a.ProxyURL(),
		"NO_PROXY=localhost,127.0.0.1,::1",
		"SSL_CERT_FILE=" + ca,
		"CURL_CA_BUNDLE=" + ca,
		"GIT_SSL_CAINFO=" + ca,
	}
}

// ProxyExports renders ProxyEnv as shell export lines, each starting with indent.
func (a *Azure) ProxyExports(indent string) string {
	var b strings.Builder
	for _, kv := range a.ProxyEnv() {
		name, value, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "%sexport %s=%s\n", indent, name, shellQuote(value))
	}
	return b.String()
}

// Entra returns the Entra ID emulator, for its Verifier and TrustIssuerCA.
func (a *Azure) Entra() *entra.Server { return a.entra }

// Registry returns the container registries (*.azurecr.io) of the directory.
func (a *Azure) Registry() *acr.Server { return a.registry }

// DevOps returns Azure Repos (dev.azure.com and ssh.dev.azure.com) for the DevOps organizations
// of the directory.
func (a *Azure) DevOps() *devops.Server { return a.devops }

// KeyVault returns Key Vault (*.vault.azure.net) for the vaults of the directory.
func (a *Azure) KeyVault() *keyvault.Server { return a.keyVault }

// ARM returns Azure Resource Manager (management.azure.com) over the directory.
func (a *Azure) ARM() *arm.Server { return a.arm }

// Teams returns the Microsoft Teams webhooks (*.webhook.office.com, *.REGION.logic.azure.com),
// which record what they are posted.
func (a *Azure) Teams() *teams.Server { return a.teams }

// Blob returns Blob Storage (*.blob.core.windows.net) for the storage accounts of the directory,
// or nil when Options.Blob did not ask for it. Its Azurite serves tests' own blob.Server too
// (azuretest.ServeBlob).
func (a *Azure) Blob() *blob.Server { return a.blob }

// EventHubs returns Event Hubs (*.servicebus.windows.net: AMQP on 5671, AMQP over WebSockets on
// 443) for the namespaces of the directory, with the events its hubs received.
func (a *Azure) EventHubs() *eventhubs.Server { return a.eventHubs }

// EventHubsAddr returns the listening address of Event Hubs' AMQP over TLS, which the connect-to
// map names for *.servicebus.windows.net:5671.
func (a *Azure) EventHubsAddr() string { return a.amqpAddr }

// SSHAddr returns the listening address of the SSH server of ssh.dev.azure.com, which the
// connect-to map names for ssh.dev.azure.com:22.
func (a *Azure) SSHAddr() string { return a.sshAddr }

// Inject makes the gateway answer f, in place of the emulator, for the hosts matching pattern
// (such as login.microsoftonline.com or *.azurecr.io): a throttled, failing, hanging or
// resetting Azure, for tests that clients meet it well and recover once Clear is called.
func (a *Azure) Inject(pattern string, f gateway.Fault) error { return a.gateway.Inject(pattern, f) }

// Clear ends the fault injected for pattern.
func (a *Azure) Clear(pattern string) { a.gateway.Clear(pattern) }
