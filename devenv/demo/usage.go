package demo

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/pki"
	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// Usage is what `azimuth dev up` prints once the table is out: how to reach the cluster with
// kubectl, and how to get a token as a tenant's object and as the controller would with
// `azimuth token` (azimuth names the binary).
func (s *System) Usage(azimuth string) string {
	azureDir := s.Env.Azure.StateDir()
	kubeconfig := s.Env.Kube.Kubeconfig
	connectTo := filepath.Join(azureDir, "connect-to")
	ca := filepath.Join(azureDir, pki.CAFile)
	var b strings.Builder
	fmt.Fprintf(&b, "\nAzimuth is running. Look at it with kubectl:\n\n")
	fmt.Fprintf(&b, "  export KUBECONFIG=%s\n", kubeconfig)
	fmt.Fprintf(&b, "  kubectl get ocirepositories,imagerepositories,imagepolicies -A\n")
	fmt.Fprintf(&b, "  kubectl -n team-denied describe ocirepository manifests\n")
	fmt.Fprintf(&b, "\nGet a token as team-apps' objects do (object-level workload identity):\n\n")
	fmt.Fprintf(&b, "  export AZIMUTH_CONNECT_TO=\"$(cat %s)\"\n", connectTo)
	fmt.Fprintf(&b, "  %s token --kubeconfig %s --ca-file %s \\\n", azimuth, kubeconfig, ca)
	fmt.Fprintf(&b, "    --feature-gates=%s=true -n team-apps --service-account %s --scope acr\n", identity.FeatureGate, TenantServiceAccount)
	fmt.Fprintf(&b, "\nand as the controller does for team-platform (controller-level workload identity):\n\n")
	fmt.Fprintf(&b, "  AZURE_TENANT_ID=%s AZURE_CLIENT_ID=%s \\\n", s.names.tenantID, s.names.controller.ClientID)
	fmt.Fprintf(&b, "  AZURE_FEDERATED_TOKEN_FILE=%s \\\n", filepath.Join(s.StateDir, TokenFile))
	fmt.Fprintf(&b, "    %s token --ca-file %s --scope acr\n", azimuth, ca)
	if s.logs != nil {
		fmt.Fprintf(&b, "\nThe controllers' logs: %s\n", s.logs.Name())
	}
	return b.String()
}
