package kustomization

import (
	"fmt"
	"sync"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Clients are the API clients Kustomizations apply with: the controller's own, or one that
// impersonates a service account of the Kustomization's namespace. They read the API server
// directly, not a cache: a Kustomization applies objects of any kind, and watching every kind
// to cache it would cost more than the reads do. Safe for concurrent use.
type Clients struct {
	config *rest.Config
	scheme *runtime.Scheme
	mapper apimeta.RESTMapper
	// defaultServiceAccount is --default-service-account: Kustomizations naming no service
	// account act as this one of their own namespace, never as the controller.
	defaultServiceAccount string

	mu     sync.Mutex
	byUser map[string]client.Client
	remote map[string]client.Client // by the kubeconfig's digest and the user (Remote)
}

// NewClients returns Clients on config, sharing scheme and mapper (the manager's, which learns
// of new kinds as CRDs are applied). defaultServiceAccount is --default-service-account.
func NewClients(config *rest.Config, scheme *runtime.Scheme, mapper apimeta.RESTMapper, defaultServiceAccount string) *Clients {
	return &Clients{config: config, scheme: scheme, mapper: mapper, defaultServiceAccount: defaultServiceAccount, byUser: map[string]client.Client{}, remote: map[string]client.Client{}}
}

// For returns the client a Kustomization of namespace applies with when it names
// serviceAccount ("" for none), and the user it acts as ("" for the controller).
func (c *Clients) For(namespace, serviceAccount string) (client.Client, string, error) {
	user := c.impersonated(namespace, serviceAccount)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.byUser[user]; ok {
		return cl, user, nil
	}
	cfg := rest.CopyConfig(c.config)
	if user != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	}
	cl, err := client.New(cfg, client.Options{Scheme: c.scheme, Mapper: c.mapper})
	if err != nil {
		return nil, "", fmt.Errorf("creating the API client for %s: %w", describeUser(user), err)
	}
	c.byUser[user] = cl
	return cl, user, nil
}

// impersonated is the user a Kustomization of namespace acts as: serviceAccount, else
// --default-service-account, of that namespace; "" for none.
func (c *Clients) impersonated(namespace, serviceAccount string) string {
	if serviceAccount == "" {
		serviceAccount = c.defaultServiceAccount
	}
	if serviceAccount == "" {
		return ""
	}
	return fmt.Sprintf("system:serviceaccount:%s:%s", namespace, serviceAccount)
}

func describeUser(user string) string {
	if user == "" {
		return "the controller"
	}
	return "'" + user + "'"
}
