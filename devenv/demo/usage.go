package demo

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/pki"
	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// Usage is what `azimuth dev up` prints once the table is out: which namespaces the controllers
// watch, how to reach the cluster with kubectl, how to get a token as a tenant's object and as
// the controller would with `azimuth token` (azimuth names the binary), and how other clients
// reach the local Azure through its proxy.
func (s *System) Usage(azimuth string) string {
	azureDir := s.Env.Azure.StateDir()
	kubeconfig := s.Env.Kube.Kubeconfig
	connectTo := filepath.Join(azureDir, "connect-to")
	ca := filepath.Join(azureDir, pki.CAFile)
	var b strings.Builder
	fmt.Fprintf(&b, "\nAzimuth is running. Look at it with kubectl:\n\n")
	fmt.Fprintf(&b, "  export KUBECONFIG=%s\n", kubeconfig)
	fmt.Fprintf(&b, "  kubectl get ocirepositories,gitrepositories,buckets,imagerepositories,imagepolicies,kustomizations -A\n")
	fmt.Fprintf(&b, "  kubectl get providers,alerts -A                 # no status: the table reads what they delivered\n")
	fmt.Fprintf(&b, "  kubectl -n team-denied describe ocirepository manifests\n")
	if s.names.storage.Name != "" {
		fmt.Fprintf(&b, "  kubectl -n team-denied describe bucket %s             # the role it lacks on the container\n", BucketName)
	}
	if s.names.vault != "" {
		fmt.Fprintf(&b, "  kubectl -n team-denied describe kustomization %s\n", SecretsKustomization)
		fmt.Fprintf(&b, "  kubectl -n team-apps get secret %s -o jsonpath='{.data.password}' | base64 -d   # decrypted with Key Vault\n", SOPSSecret)
	}
	var watched []string
	for _, sh := range s.shards() {
		watched = append(watched, sh.namespaces...)
	}
	fmt.Fprintf(&b, "\nThe controllers watch only the sample namespaces: %s.\n", strings.Join(watched, ", "))
	fmt.Fprintf(&b, "Objects applied elsewhere are not reconciled; try yours in one of them, for example -n team-apps.\n")
	fmt.Fprintf(&b, "\nGet a token as team-apps' objects do (object-level workload identity):\n\n")
	fmt.Fprintf(&b, "  export AZIMUTH_CONNECT_TO=\"$(cat %s)\"\n", connectTo)
	fmt.Fprintf(&b, "  %s token --kubeconfig %s --ca-file %s \\\n", azimuth, kubeconfig, ca)
	fmt.Fprintf(&b, "    --feature-gates=%s=true -n team-apps --service-account %s --scope acr\n", identity.FeatureGate, TenantServiceAccount)
	fmt.Fprintf(&b, "\nand as the controller does for team-platform (controller-level workload identity):\n\n")
	fmt.Fprintf(&b, "  AZURE_TENANT_ID=%s AZURE_CLIENT_ID=%s \\\n", s.names.tenantID, s.names.controller.ClientID)
	fmt.Fprintf(&b, "  AZURE_FEDERATED_TOKEN_FILE=%s \\\n", filepath.Join(s.StateDir, TokenFile))
	fmt.Fprintf(&b, "    %s token --ca-file %s --scope acr\n", azimuth, ca)
	fmt.Fprintf(&b, "\nOther clients (crane, docker, git, the flux CLI, any SDK) reach the local Azure, and only it,\n")
	fmt.Fprintf(&b, "through its proxy; for example, as the application %s that pushed the samples:\n\n", PushApplication)
	b.WriteString(s.Env.Azure.ProxyExports("  "))
	secret := `"$CLIENT_SECRET"`
	if p, ok := s.Env.Azure.Directory().Principal(s.names.pushID); ok && p.Application != nil && len(p.Application.ClientSecrets) > 0 {
		secret = "'" + strings.ReplaceAll(p.Application.ClientSecrets[0].Value, "'", `'\''`) + "'"
	}
	fmt.Fprintf(&b, "  crane auth login %s -u %s -p %s\n", s.names.registryHost(), s.names.pushID, secret)
	fmt.Fprintf(&b, "  crane ls %s/samples/podinfo\n", s.names.registryHost())
	b.WriteString(s.automationUsage())
	b.WriteString(s.notificationUsage())
	if s.logs != nil {
		fmt.Fprintf(&b, "\nThe controllers' logs: %s\n", s.logs.Name())
	}
	return b.String()
}
