package directory

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// ManagedCluster is an Azure Kubernetes Service cluster (Microsoft.ContainerService/managedClusters):
// what Azure Resource Manager (azurelocal/arm) says of it, its user kubeconfig among it. The local
// Azure runs no Kubernetes API server: whoever runs one for the cluster (a test, `azimuth dev up`)
// serves it on Host() and records its CA with SetManagedClusterEndpoint.
type ManagedCluster struct {
	Resource
	// Location is the Azure region, lower-case letters and digits (westeurope); it is part of the
	// default host. Default: eastus.
	Location string `json:"location,omitempty"`
	// FQDN is the host name of the cluster's API server, which its kubeconfig names as
	// https://FQDN:443. Default: empty, for the name AKS would make (see Host).
	FQDN string `json:"fqdn,omitempty"`
	// LocalAccountsOnly turns AKS-managed Microsoft Entra ID integration off: the cluster has no
	// aadProfile, and its user kubeconfig holds a local account's token. Default: false, an
	// Entra ID cluster whose kubeconfig runs kubelogin for the AKS server application.
	LocalAccountsOnly bool `json:"localAccountsOnly,omitempty"`
	// CertificateAuthority is the PEM of the CA that signs the API server's certificate, which the
	// kubeconfig carries as certificate-authority-data. Whoever runs the API server sets it;
	// empty, the kubeconfig carries none.
	CertificateAuthority string `json:"certificateAuthority,omitempty"`
}

// DefaultClusterLocation is the location of a cluster that names none.
const DefaultClusterLocation = "eastus"

// maxDNSPrefix is AKS's bound of a DNS prefix, which the host's first label adds 9 characters to.
const maxDNSPrefix = 54

// Host returns the host name of the cluster's API server: FQDN, or when it is empty the name AKS
// gives a cluster whose DNS prefix is NAME-dns (as the Azure portal makes it), in lower case:
// NAME-dns-HASH.hcp.LOCATION.azmk8s.io, HASH being the first 8 hex digits of the SHA-256 of the
// lower-case resource ID. Underscores of the name become hyphens and the prefix is cut to AKS's
// 54 characters, so the label stays a DNS label.
func (c ManagedCluster) Host() string {
	if c.FQDN != "" {
		return c.FQDN
	}
	location := c.Location
	if location == "" {
		location = DefaultClusterLocation
	}
	prefix := strings.ReplaceAll(strings.ToLower(c.Name), "_", "-") + "-dns"
	if len(prefix) > maxDNSPrefix {
		prefix = strings.TrimRight(prefix[:maxDNSPrefix], "-")
	}
	sum := sha256.Sum256([]byte(strings.ToLower(c.ID())))
	return prefix + "-" + hex.EncodeToString(sum[:])[:8] + ".hcp." + strings.ToLower(location) + ".azmk8s.io"
}

func (c *ManagedCluster) applyDefaults() {
	c.Kind = KindManagedCluster
	if c.Location == "" {
		c.Location = DefaultClusterLocation
	}
}

func (st *state) indexManagedClusters(spec Spec, v *validator) {
	names := map[string]bool{}
	hosts := map[string]string{}
	for i, c := range spec.Resources.ManagedClusters {
		where := v.at("resources.managedClusters", i, c.Name)
		v.resource(where, c.Resource, spec)
		if c.Name != "" && !ValidManagedClusterName(c.Name) {
			v.addf("%s: name '%s' must be 1 to 63 letters, digits, hyphens and underscores, starting and ending with a letter or digit", where, c.Name)
		}
		if !validLocation(c.Location) {
			v.addf("%s: location '%s' is not an Azure region name: lower-case letters and digits, such as westeurope", where, c.Location)
		}
		if c.FQDN != "" && !ValidHostName(c.FQDN) {
			v.addf("%s: fqdn '%s' is not a host name: dot-separated labels of letters, digits and hyphens, at most 63 characters each, without a scheme, port or path", where, c.FQDN)
		}
		if c.CertificateAuthority != "" {
			if _, err := ParseCertificatePEM(c.CertificateAuthority); err != nil {
				v.addf("%s: certificateAuthority: %v", where, err)
			}
		}
		if names[strings.ToLower(c.Name)] {
			v.addf("%s: the name is used twice (the directory finds a cluster by its name)", where)
			continue
		}
		names[strings.ToLower(c.Name)] = true
		host := strings.ToLower(c.Host())
		if other, dup := hosts[host]; dup {
			v.addf("%s: host '%s' is already the API server of cluster '%s'", where, c.Host(), other)
		}
		hosts[host] = c.Name
		st.resources[KindManagedCluster] = append(st.resources[KindManagedCluster], c.Resource)
	}
}

// ValidManagedClusterName reports whether s is a cluster name AKS accepts: 1 to 63 letters,
// digits, hyphens and underscores, starting and ending with a letter or digit.
func ValidManagedClusterName(s string) bool {
	if len(s) < 1 || len(s) > 63 || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
}

// ValidHostName reports whether s is a DNS host name: at most 253 characters in dot-separated
// labels of 1 to 63 letters, digits and hyphens that neither start nor end with a hyphen.
func ValidHostName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return false
		}
	}
	return true
}

func validLocation(s string) bool {
	return len(s) >= 1 && len(s) <= 64 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789") == ""
}

// ManagedCluster finds a cluster by name, ignoring case, and returns a copy of it with defaults
// filled in.
func (d *Directory) ManagedCluster(name string) (ManagedCluster, bool) {
	for _, c := range d.snapshot().spec.Resources.ManagedClusters {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return ManagedCluster{}, false
}

// ManagedClusters returns the clusters, in file order, with defaults filled in.
func (d *Directory) ManagedClusters() []ManagedCluster {
	return append([]ManagedCluster(nil), d.snapshot().spec.Resources.ManagedClusters...)
}

// SetManagedClusterEndpoint replaces the API server of the cluster named name (ignoring case):
// its host name (fqdn; empty restores the default, see ManagedCluster.Host) and the PEM of its CA
// (certificateAuthority; empty removes it). The change is validated like the file and published
// at once, so the next kubeconfig that Azure Resource Manager hands out names them.
func (d *Directory) SetManagedClusterEndpoint(name, fqdn, certificateAuthority string) error {
	return d.update(func(s *Spec, _ *state) error {
		for i := range s.Resources.ManagedClusters {
			c := &s.Resources.ManagedClusters[i]
			if strings.EqualFold(c.Name, name) {
				c.FQDN, c.CertificateAuthority = fqdn, certificateAuthority
				return nil
			}
		}
		return fmt.Errorf("no managed cluster named '%s' in resources.managedClusters", name)
	})
}
