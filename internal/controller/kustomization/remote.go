package kustomization

import (
	"crypto/sha256"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// kubeconfigKeys are the keys a kubeconfig secret is read from when spec.kubeConfig.secretRef
// names none, in Flux's order: 'value', then 'value.yaml', the key Cluster API writes.
var kubeconfigKeys = []string{"value", "value.yaml"}

// maxRemoteClients bounds the clients kept for remote clusters: a kubeconfig that changes (a
// rotated token) makes a new one, and the old ones go when the bound is reached.
const maxRemoteClients = 100

// Remote returns the client a Kustomization of namespace applies with when spec.kubeConfig
// names secret ref, whose data is data, and the user it acts as there: serviceAccount of
// namespace, else --default-service-account, impersonated in the remote cluster as Flux does,
// else the kubeconfig's own user (""). Clients are kept by the kubeconfig's bytes and the
// user, so that a changed secret takes effect at the next reconcile.
func (c *Clients) Remote(namespace string, ref *meta.SecretKeyReference, data map[string][]byte, serviceAccount string) (client.Client, string, error) {
	raw, err := kubeconfigData(ref, data)
	if err != nil {
		return nil, "", err
	}
	user := c.impersonated(namespace, serviceAccount)
	sum := sha256.Sum256(raw)
	key := string(sum[:]) + "\x00" + user
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.remote[key]; ok {
		return cl, user, nil
	}
	cfg, err := c.restConfig(ref.Name, raw, user)
	if err != nil {
		return nil, "", err
	}
	cl, err := c.newRemote(cfg, fmt.Sprintf("the kubeconfig of secret '%s'", ref.Name), fmt.Sprintf("the cluster of the kubeconfig in secret '%s'", ref.Name))
	if err != nil {
		return nil, "", err
	}
	c.keepRemote(key, cl)
	return cl, user, nil
}

// RemoteConfig returns the client a Kustomization of namespace applies with on the cluster cfg
// reaches (a remote.Target, kept by its key), impersonating serviceAccount (or
// --default-service-account) there as Remote does; cluster describes it for messages.
func (c *Clients) RemoteConfig(namespace, key string, cfg *rest.Config, serviceAccount, cluster string) (client.Client, string, error) {
	user := c.impersonated(namespace, serviceAccount)
	key = "target\x00" + key + "\x00" + user
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.remote[key]; ok {
		return cl, user, nil
	}
	cfg = rest.CopyConfig(cfg)
	if user != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	}
	cfg.QPS, cfg.Burst, cfg.UserAgent = c.config.QPS, c.config.Burst, c.config.UserAgent
	cl, err := c.newRemote(cfg, cluster, cluster)
	if err != nil {
		return nil, "", err
	}
	c.keepRemote(key, cl)
	return cl, user, nil
}

// newRemote makes a client of a remote cluster, which discovers that cluster's kinds as they are
// needed. what and where name the configuration and the cluster in errors.
func (c *Clients) newRemote(cfg *rest.Config, what, where string) (client.Client, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("reaching %s: %w", where, err)
	}
	cl, err := client.New(cfg, client.Options{Scheme: c.scheme, Mapper: mapper, HTTPClient: httpClient})
	if err != nil {
		return nil, fmt.Errorf("creating the API client of %s: %w", what, err)
	}
	return cl, nil
}

// keepRemote keeps cl by key, within maxRemoteClients. Call with c.mu held.
func (c *Clients) keepRemote(key string, cl client.Client) {
	if len(c.remote) >= maxRemoteClients {
		clear(c.remote)
	}
	c.remote[key] = cl
}

// restConfig is the REST config of a remote client acting as user ("" for the kubeconfig's
// own), with the rate limits and user agent of the controller's own clients: client-go's
// defaults (5 requests a second) would take minutes to apply a thousand objects.
func (c *Clients) restConfig(secret string, raw []byte, user string) (*rest.Config, error) {
	cfg, err := remoteConfig(secret, raw)
	if err != nil {
		return nil, err
	}
	if user != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	}
	cfg.QPS, cfg.Burst, cfg.UserAgent = c.config.QPS, c.config.Burst, c.config.UserAgent
	return cfg, nil
}

// kubeconfigData is the kubeconfig in a secret's data: under ref.Key, or the first of
// kubeconfigKeys present.
func kubeconfigData(ref *meta.SecretKeyReference, data map[string][]byte) ([]byte, error) {
	if ref.Key != "" {
		raw, ok := data[ref.Key]
		if !ok || len(raw) == 0 {
			return nil, fmt.Errorf("secret '%s' has no key '%s': put the kubeconfig there, or fix spec.kubeConfig.secretRef.key", ref.Name, ref.Key)
		}
		return raw, nil
	}
	for _, k := range kubeconfigKeys {
		if raw := data[k]; len(raw) > 0 {
			return raw, nil
		}
	}
	return nil, fmt.Errorf("secret '%s' has neither a 'value' nor a 'value.yaml' key: put the kubeconfig under one of them, or name its key in spec.kubeConfig.secretRef.key", ref.Name)
}

// remoteConfig is the REST config of a tenant's kubeconfig, which Azimuth reads with the
// controller's privileges: so it refuses what would run or read something of the controller's
// (an exec plugin, an auth provider, paths to files) and what would skip verifying the remote
// cluster's certificate. Its messages name fields, never their values.
func remoteConfig(secret string, raw []byte) (*rest.Config, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("the kubeconfig in secret '%s' %s", secret, fmt.Sprintf(format, args...))
	}
	kc, err := clientcmd.Load(raw)
	if err != nil {
		return nil, fail("cannot be read: %v", err)
	}
	name := kc.CurrentContext
	if name == "" && len(kc.Contexts) == 1 {
		for n := range kc.Contexts {
			name = n
		}
	}
	ctx, ok := kc.Contexts[name]
	if !ok {
		return nil, fail("has no current context: set current-context to one of its contexts")
	}
	cluster, ok := kc.Clusters[ctx.Cluster]
	if !ok {
		return nil, fail("names cluster '%s' in context '%s', which it does not define", ctx.Cluster, name)
	}
	switch {
	case cluster.InsecureSkipTLSVerify:
		return nil, fail("sets insecure-skip-tls-verify for cluster '%s': give the cluster's CA in certificate-authority-data instead", ctx.Cluster)
	case cluster.CertificateAuthority != "":
		return nil, fail("names a file in certificate-authority, which would be read from the controller's disk: give the CA in certificate-authority-data instead")
	}
	if auth, ok := kc.AuthInfos[ctx.AuthInfo]; ok {
		switch {
		case auth.Exec != nil:
			return nil, fail("runs an exec plugin for user '%s', which Azimuth does not run in the controller: use a token or a client certificate", ctx.AuthInfo)
		case auth.AuthProvider != nil:
			return nil, fail("uses an auth provider for user '%s', which Azimuth does not run: use a token or a client certificate", ctx.AuthInfo)
		case auth.TokenFile != "" || auth.ClientCertificate != "" || auth.ClientKey != "":
			return nil, fail("names files for user '%s' (tokenFile, client-certificate or client-key), which would be read from the controller's disk: "+
				"give token, client-certificate-data and client-key-data instead", ctx.AuthInfo)
		}
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*kc, name, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, fail("is not usable: %v", err)
	}
	return cfg, nil
}
