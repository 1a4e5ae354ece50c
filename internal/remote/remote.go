package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"k8s.io/client-go/rest"

	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/azure/aks"
	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// targetTTL bounds how long a described cluster is trusted: a cluster's CA rotated or an
// address changed in Azure is read again within it.
const targetTTL = 10 * time.Minute

// maxTargets bounds the targets kept; the oldest go first.
const maxTargets = 200

// Target is a remote cluster as one identity reaches it.
type Target struct {
	// Key changes with anything the target was made of (the ConfigMap, the identity, what Azure
	// said of the cluster), so that clients built on Config can be kept by it.
	Key string
	// Config reaches the API server; every request carries a token of the identity.
	Config *rest.Config
	// Cluster describes the target for messages: "AKS cluster 'NAME' of ConfigMap 'CM'".
	Cluster string
	// Identity describes who the requests go out as, for messages.
	Identity string
}

// Resolver makes Targets. Safe for concurrent use.
type Resolver struct {
	access *access.Resolver
	now    func() time.Time

	mu      sync.Mutex
	targets map[string]cachedTarget
}

type cachedTarget struct {
	target  Target
	created time.Time
}

// NewResolver returns a Resolver that gets connections and credentials from a.
func NewResolver(a *access.Resolver) *Resolver {
	return &Resolver{access: a, now: time.Now, targets: map[string]cachedTarget{}}
}

// Target reads ConfigMap name of namespace and returns how to reach its cluster. The identity is
// resolved, and a token for the API server obtained, on every call, so that a refused identity
// fails here with Entra ID's explanation rather than as an API error later.
func (r *Resolver) Target(ctx context.Context, namespace, name string) (Target, error) {
	data, err := r.access.ConfigMap(ctx, namespace, name)
	if err != nil {
		return Target{}, err
	}
	cm, err := ParseConfigMap(name, data)
	if err != nil {
		return Target{}, err
	}
	spec := access.Spec{Namespace: namespace, ServiceAccountName: cm.ServiceAccountName, KubeConfig: true, Audiences: cm.Audiences}
	conn, err := r.access.Connect(ctx, spec)
	if err != nil {
		return Target{}, err
	}
	cred, err := r.access.Credential(ctx, spec, conn)
	if err != nil {
		return Target{}, err
	}
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{aks.ServerScope}}); err != nil {
		return Target{}, fmt.Errorf("a token for the API server of the cluster of ConfigMap '%s': %w", name, err)
	}
	key := targetKey(namespace, data, cred.Identity().String(), cred.Identity().TenantID, cred.ClientID())
	r.mu.Lock()
	if c, ok := r.targets[key]; ok && r.now().Sub(c.created) < targetTTL {
		r.mu.Unlock()
		return c.target, nil
	}
	r.mu.Unlock()

	ep, where, err := endpoint(ctx, cm, cred, conn)
	if err != nil {
		return Target{}, err
	}
	cfg := &rest.Config{
		Host:            ep.Address,
		TLSClientConfig: rest.TLSClientConfig{CAData: ep.CAData},
		Dial:            conn.Options.Dial,
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			return &bearer{next: rt, cred: cred}
		},
	}
	if conn.Proxy != nil {
		cfg.Proxy = http.ProxyURL(conn.Proxy)
	}
	t := Target{Key: targetKey(key, nil, ep.Address, string(ep.CAData)), Config: cfg, Cluster: where, Identity: cred.String()}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.targets) >= maxTargets {
		r.evictOldest()
	}
	r.targets[key] = cachedTarget{target: t, created: r.now()}
	return t, nil
}

// endpoint is the API server's address and CA: the ConfigMap's when it gives both, else what
// Azure Resource Manager says of the cluster (with the ConfigMap's CA, if any, preferred).
func endpoint(ctx context.Context, cm ConfigMap, cred *entra.Credential, conn access.Connection) (aks.Endpoint, string, error) {
	if cm.Address != "" && len(cm.CA) > 0 {
		return aks.Endpoint{Address: cm.Address, CAData: cm.CA}, fmt.Sprintf("the cluster at %s of ConfigMap '%s'", cm.Address, cm.Name), nil
	}
	id, err := aks.ParseClusterID(cm.Cluster)
	if err != nil {
		return aks.Endpoint{}, "", configError("the '%s' of ConfigMap '%s': %v", KeyCluster, cm.Name, err)
	}
	ep, err := aks.Describe(ctx, cred, id, aks.DescribeOptions{Cloud: cred.Cloud(), Transport: conn.Transport, Address: cm.Address})
	if err != nil {
		return aks.Endpoint{}, "", err
	}
	if len(cm.CA) > 0 {
		ep.CAData = cm.CA
	}
	return ep, fmt.Sprintf("AKS cluster '%s' of ConfigMap '%s'", id.Name, cm.Name), nil
}

func (r *Resolver) evictOldest() {
	var oldest string
	var at time.Time
	for k, c := range r.targets {
		if oldest == "" || c.created.Before(at) {
			oldest, at = k, c.created
		}
	}
	delete(r.targets, oldest)
}

// targetKey digests what a target is made of: the namespace, the ConfigMap's data, then more
// (who asks; what Azure said of the cluster).
func targetKey(namespace string, data map[string]string, more ...string) string {
	h := sha256.New()
	write := func(s string) {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	write(namespace)
	for _, k := range []string{KeyProvider, KeyCluster, KeyAddress, KeyCA, KeyAudiences, KeyServiceAccountName} {
		write(k)
		write(data[k])
	}
	for _, s := range more {
		write(s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// bearer adds the identity's token for AKS API servers to every request. The credential's cache
// answers from memory until the token nears its end.
type bearer struct {
	next http.RoundTripper
	cred azcore.TokenCredential
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := b.cred.GetToken(req.Context(), policy.TokenRequestOptions{Scopes: []string{aks.ServerScope}})
	if err != nil {
		return nil, fmt.Errorf("a token for the AKS API server: %w", err)
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	return b.next.RoundTrip(req)
}
