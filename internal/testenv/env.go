package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Env is a running control plane.
type Env struct {
	// Config reaches the API server as a cluster administrator (system:masters).
	Config *rest.Config
	// IssuerURL is the service-account token issuer, which also serves the OIDC discovery
	// document and JWKS to anonymous clients.
	IssuerURL string
	// CAPEM is the CA that signed the API server's serving certificate: trust it to fetch the
	// issuer's discovery document.
	CAPEM []byte
	// Kubeconfig is the path of a kubeconfig file for Config, for kubectl and the azimuth CLI.
	Kubeconfig string
	// Dir is the working directory, removed by Stop.
	Dir string

	ownDir          bool // Start made Dir, so Stop removes it
	etcd, apiserver *process
	authnConfig     string // the --authentication-config file SetJWTAuthenticators rewrites
}

// Options tune Start. The zero value is ready to use.
type Options struct {
	// BinDir holds the etcd and kube-apiserver binaries. Default: $AZIMUTH_BIN_DIR, or bin/ at
	// the root of the repository holding the working directory.
	BinDir string
	// Dir is the working directory; Stop leaves a directory it was given. Default: a new
	// temporary directory.
	Dir string
	// StartTimeout bounds the wait for the API server to become ready. Default: 2m.
	StartTimeout time.Duration
	// HTTPSProxy is the API server's HTTPS_PROXY: the way its JWT authenticators reach their
	// issuers (SetJWTAuthenticators), such as the local Azure's proxy to Entra ID. Default: none.
	HTTPSProxy string
	// ServingNames are host names the API server's certificate holds besides localhost and
	// 127.0.0.1, for clients that reach it by another name through a connect-to map (a local AKS
	// cluster's FQDN). Default: none.
	ServingNames []string
}

// Start runs etcd and kube-apiserver and waits until the API server is ready. On error nothing
// is left running.
func Start(ctx context.Context, opts *Options) (env *Env, err error) {
	if opts == nil {
		opts = &Options{}
	}
	bin := opts.BinDir
	if bin == "" {
		if bin, err = binDir(); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return nil, fmt.Errorf("%s is missing from %s: run `make tools` first", name, bin)
		}
	}
	env = &Env{Dir: opts.Dir, ownDir: opts.Dir == ""}
	if env.ownDir {
		if env.Dir, err = makeDir(); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			env.Stop()
			env = nil
		}
	}()
	certs, err := newPKI(env.Dir, opts.ServingNames)
	if err != nil {
		return nil, fmt.Errorf("creating certificates: %w", err)
	}
	etcdURL, err := env.startEtcd(bin)
	if err != nil {
		return nil, err
	}
	if err := env.startAPIServer(bin, etcdURL, certs, opts.HTTPSProxy); err != nil {
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	if err := env.waitReady(ctx, timeout); err != nil {
		return nil, err
	}
	if err := env.allowIssuerDiscovery(ctx); err != nil {
		return nil, err
	}
	return env, env.writeKubeconfig()
}

func (e *Env) startEtcd(bin string) (string, error) {
	client, err := freePort()
	if err != nil {
		return "", err
	}
	peer, err := freePort()
	if err != nil {
		return "", err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(client)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
	e.etcd, err = startProcess("etcd", filepath.Join(bin, "etcd"), nil,
		"--name=default",
		"--data-dir="+filepath.Join(e.Dir, "etcd"),
		"--listen-client-urls="+clientURL, "--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		"--unsafe-no-fsync", // a test cluster's data is thrown away; fsync only costs time
		"--log-level=warn")
	return clientURL, err
}

func (e *Env) startAPIServer(bin, etcdURL string, certs *pki, httpsProxy string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	e.authnConfig = filepath.Join(e.Dir, "authentication.json")
	if err := writeAuthenticationConfig(e.authnConfig, nil); err != nil {
		return err
	}
	var env []string
	if httpsProxy != "" {
		env = []string{"HTTPS_PROXY=" + httpsProxy, "NO_PROXY=127.0.0.1,localhost"}
	}
	e.IssuerURL = "https://127.0.0.1:" + strconv.Itoa(port)
	e.CAPEM = certs.caPEM
	e.apiserver, err = startProcess("kube-apiserver", filepath.Join(bin, "kube-apiserver"), env,
		"--etcd-servers="+etcdURL,
		"--authentication-config="+e.authnConfig,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(e.Dir, "apiserver"),
		"--tls-cert-file="+certs.servingCert, "--tls-private-key-file="+certs.servKey,
		"--client-ca-file="+certs.caCert,
		"--authorization-mode=RBAC",
		"--service-account-issuer="+e.IssuerURL,
		"--service-account-key-file="+certs.saPublic,
		"--service-account-signing-key-file="+certs.saPrivate,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--enable-priority-and-fairness=false",
		"--v=0")
	e.Config = &rest.Config{
		Host: e.IssuerURL,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: certs.caPEM, CertData: certs.adminCertPEM, KeyData: certs.adminKeyPEM,
		},
		QPS: 100, Burst: 200,
	}
	return err
}

func (e *Env) waitReady(ctx context.Context, timeout time.Duration) error {
	client, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		for _, p := range []*process{e.etcd, e.apiserver} {
			if err := p.exited(); err != nil {
				return err
			}
		}
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil {
			return nil
		}
		last = fmt.Errorf("%w: %s", err, body)
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready after %s: %v; its last output:\n%s", timeout, last, e.apiserver.log.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// allowIssuerDiscovery lets anyone read the OIDC discovery document and JWKS, as a cloud
// provider's cluster does, so that Entra ID can verify the cluster's tokens.
func (e *Env) allowIssuerDiscovery(ctx context.Context) error {
	client, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		return err
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "service-account-issuer-discovery-unauthenticated"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:service-account-issuer-discovery"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:unauthenticated"}},
	}
	_, err = client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (e *Env) writeKubeconfig() error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["azimuth"] = &clientcmdapi.Cluster{Server: e.Config.Host, CertificateAuthorityData: e.Config.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: e.Config.CertData, ClientKeyData: e.Config.KeyData}
	cfg.Contexts["azimuth"] = &clientcmdapi.Context{Cluster: "azimuth", AuthInfo: "admin"}
	cfg.CurrentContext = "azimuth"
	e.Kubeconfig = filepath.Join(e.Dir, "kubeconfig")
	return clientcmd.WriteToFile(*cfg, e.Kubeconfig)
}

// ServiceAccountToken returns a token for the service account namespace/name from the
// TokenRequest API, creating the namespace and the account when they do not exist.
func (e *Env) ServiceAccountToken(ctx context.Context, namespace, name string, audiences ...string) (string, error) {
	client, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		return "", err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if _, err := client.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", err
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences}}
	resp, err := client.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, req, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return resp.Status.Token, nil
}

// Stop stops the API server, then etcd, and removes the working directory if Start made it.
func (e *Env) Stop() error {
	if e == nil {
		return nil
	}
	for _, p := range []*process{e.apiserver, e.etcd} {
		if p != nil {
			p.stop(10 * time.Second)
		}
	}
	if e.ownDir {
		return os.RemoveAll(e.Dir)
	}
	return nil
}

var errNotStarted = errors.New("testenv: the control plane failed to start earlier in this test binary")
