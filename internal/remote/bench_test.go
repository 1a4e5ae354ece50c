package remote

import (
	"context"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/azure/aks"
)

// BenchmarkRemoteRequest is the cost of a request to an AKS API server through a Target, whose
// every request asks the credential for the identity's token (a token cache hit), against the
// reference: client-go with the same token set once in rest.Config.BearerToken, as a static
// kubeconfig would hold it. Both read /version from the same API server and decode it.
//
//	go test -run XXX -bench RemoteRequest ./internal/remote
func BenchmarkRemoteRequest(b *testing.B) {
	w := local(b)
	ctx := context.Background()
	ns := w.configMap(b, "bench", map[string]string{"provider": "azure", "cluster": fleetID})
	target, err := w.resolver(member).Target(ctx, ns, "bench")
	if err != nil {
		b.Fatal(err)
	}
	cred, err := w.resolver(member).access.Credential(ctx, access.Spec{Namespace: ns, KubeConfig: true}, access.Connection{})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{aks.ServerScope}})
	if err != nil {
		b.Fatal(err)
	}
	// Neither is rate limited: client-go's default of 5 requests a second would time its limiter.
	ours := rest.CopyConfig(target.Config)
	ours.QPS = -1
	static := rest.CopyConfig(ours)
	static.WrapTransport = nil
	static.BearerToken = tok.Token
	for _, c := range []struct {
		name string
		cfg  *rest.Config
	}{{"azimuth", ours}, {"client-go-static-token", static}} {
		b.Run(c.name, func(b *testing.B) {
			cs, err := kubernetes.NewForConfig(c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				v, err := cs.Discovery().ServerVersion()
				if err != nil {
					b.Fatal(err)
				}
				if v.Major == "" {
					b.Fatal("no version")
				}
			}
		})
	}
}
