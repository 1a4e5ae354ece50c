package remote

import (
	"errors"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// The whole path, as a Kustomization takes it: the ConfigMap names the cluster, Azure Resource
// Manager says where its API server is and which CA it has, and the API server takes the
// identity's Entra token, naming the identity by its object ID in RBAC.
func TestTargetReachesAKSCluster(t *testing.T) {
	w := local(t)
	ns := w.configMap(t, "fleet", map[string]string{"provider": "azure", "cluster": fleetID})
	target, err := w.resolver(member).Target(t.Context(), ns, "fleet")
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://" + fleetHost + ":443"; target.Config.Host != want {
		t.Errorf("host %s, want %s", target.Config.Host, want)
	}
	if !strings.Contains(target.Cluster, "AKS cluster 'fleet' of ConfigMap 'fleet'") {
		t.Errorf("cluster described as %q", target.Cluster)
	}
	cs := whoAmI(t, target, memberOID)
	// Kubernetes RBAC decides what the identity may do there.
	_, err = cs.CoreV1().Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), memberOID) {
		t.Fatalf("before any binding: %v, want Forbidden for user %s", err, memberOID)
	}
	w.grant(t, memberOID, "cluster-admin")
	// The authorizer sees a new binding once its informer has it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err = cs.CoreV1().Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsForbidden(err) || time.Now().After(deadline) {
			t.Fatalf("after binding cluster-admin: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The same ConfigMap and identity give the same target; another identity another.
	again, err := w.resolver(member).Target(t.Context(), ns, "fleet")
	if err != nil {
		t.Fatal(err)
	}
	if again.Key != target.Key {
		t.Error("the same ConfigMap and identity gave another key")
	}
}

// An address and a CA in the ConfigMap need nothing of Azure Resource Manager: an identity with
// no Azure role at all reaches the cluster, since only the API server judges its token.
func TestTargetFromAddressAndCA(t *testing.T) {
	w := local(t)
	ns := w.configMap(t, "direct", map[string]string{
		"provider": "azure", "address": "https://" + strings.ToUpper(fleetHost), "ca.crt": string(w.env.CAPEM),
	})
	target, err := w.resolver(stranger).Target(t.Context(), ns, "direct")
	if err != nil {
		t.Fatal(err)
	}
	whoAmI(t, target, strangerOID)
}

// Every way Azure can refuse is told in words that say what to change.
func TestTargetRefusals(t *testing.T) {
	w := local(t)
	cases := []struct {
		name     string
		clientID string
		data     map[string]string
		want     []string
		role     bool // an *entra.RoleError
	}{
		{name: "no role", clientID: stranger, data: map[string]string{"provider": "azure", "cluster": fleetID}, role: true,
			want: []string{"Azure Kubernetes Service Cluster User Role", fleetID, "az role assignment create --assignee " + stranger}},
		{name: "reader cannot list credentials", clientID: reader, data: map[string]string{"provider": "azure", "cluster": fleetID}, role: true,
			want: []string{"Azure Kubernetes Service Cluster User Role"}},
		{name: "no Entra integration", clientID: member, data: map[string]string{"provider": "azure", "cluster": legacyID},
			want: []string{"AKS cluster 'legacy' has no Microsoft Entra ID integration", "--enable-aad"}},
		{name: "unknown cluster", clientID: member, data: map[string]string{"provider": "azure", "cluster": clusters + "fleat"},
			want: []string{"was not found (404", "fix the ConfigMap's 'cluster' key"}},
		{name: "address not the cluster's", clientID: member, data: map[string]string{"provider": "azure", "cluster": fleetID, "address": "https://elsewhere.example.com"},
			want: []string{"'https://elsewhere.example.com:443' is not one of AKS cluster 'fleet''s API server addresses (https://" + fleetHost + ":443)"}},
		{name: "bad cluster ID", clientID: member, data: map[string]string{"provider": "azure", "cluster": "fleet"},
			want: []string{"the 'cluster' of ConfigMap 'cm'", "invalid AKS cluster ID 'fleet'"}},
		{name: "provider missing", clientID: member, data: map[string]string{"cluster": fleetID},
			want: []string{"ConfigMap 'cm' has no 'provider' key"}},
		{name: "provider not supported", clientID: member, data: map[string]string{"provider": "gcp", "cluster": fleetID},
			want: []string{"provider 'gcp', which Azimuth does not support yet"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := w.configMap(t, "cm", c.data)
			_, err := w.resolver(c.clientID).Target(t.Context(), ns, "cm")
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range c.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			var re *entra.RoleError
			if errors.As(err, &re) != c.role {
				t.Errorf("error %T: RoleError %v, want %v", err, !c.role, c.role)
			}
			if strings.Contains(err.Error(), secret) {
				t.Error("the error holds the client secret")
			}
		})
	}
}

// A ConfigMap that does not exist is told by name.
func TestTargetConfigMapMissing(t *testing.T) {
	w := local(t)
	ns := w.configMap(t, "other", map[string]string{"provider": "azure"})
	_, err := w.resolver(member).Target(t.Context(), ns, "absent")
	if err == nil || !strings.Contains(err.Error(), "ConfigMap 'absent' not found in namespace '"+ns+"'") {
		t.Fatalf("error %v", err)
	}
}

// whoAmI checks that target's API server takes its requests as the user oid (the identity's
// object ID, as AKS names Entra identities in RBAC), and returns a clientset on target.
func whoAmI(t *testing.T, target Target, oid string) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(target.Config)
	if err != nil {
		t.Fatal(err)
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(t.Context(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := review.Status.UserInfo.Username; got != oid {
		t.Errorf("the API server took the token for %q, want the identity's object ID %s", got, oid)
	}
	return cs
}
