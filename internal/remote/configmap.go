package remote

import (
	"fmt"
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/azure/aks"
	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// The keys of a kubeconfig ConfigMap, as Flux names them.
const (
	KeyProvider           = "provider"
	KeyCluster            = "cluster"
	KeyAddress            = "address"
	KeyCA                 = "ca.crt"
	KeyAudiences          = "audiences"
	KeyServiceAccountName = "serviceAccountName"
)

// ProviderAzure is the one provider Azimuth reaches clusters with.
const ProviderAzure = "azure"

// ConfigMap is a kubeconfig ConfigMap, read.
type ConfigMap struct {
	// Name is the ConfigMap's, for messages.
	Name string
	// Provider is 'azure'.
	Provider string
	// Cluster is the AKS cluster's resource ID; needed when Address or CA is missing.
	Cluster string
	// Address is the API server's address, canonical (https://HOST:PORT, the host in lower
	// case), and must be one of the cluster's when Cluster is described; empty for the first.
	Address string
	// CA is the API server's CA bundle, PEM; empty for the cluster's own, from Azure.
	CA []byte
	// Audiences are the service account token's audiences, one a line; empty for Entra ID's.
	Audiences []string
	// ServiceAccountName is the identity, a service account of the Kustomization's namespace.
	ServiceAccountName string
}

// Error is a ConfigMap that cannot work as it is: retrying does not help until it changes.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

// Terminal reports that retrying cannot help.
func (e *Error) Terminal() bool { return true }

func configError(format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// ParseConfigMap reads the data of ConfigMap name. Errors name the ConfigMap and its keys.
func ParseConfigMap(name string, data map[string]string) (ConfigMap, error) {
	cm := ConfigMap{
		Name:               name,
		Provider:           strings.TrimSpace(data[KeyProvider]),
		Cluster:            strings.TrimSpace(data[KeyCluster]),
		Address:            strings.TrimSpace(data[KeyAddress]),
		CA:                 []byte(data[KeyCA]),
		ServiceAccountName: strings.TrimSpace(data[KeyServiceAccountName]),
	}
	for _, a := range strings.Split(data[KeyAudiences], "\n") {
		if a = strings.TrimSpace(a); a != "" {
			cm.Audiences = append(cm.Audiences, a)
		}
	}
	switch cm.Provider {
	case ProviderAzure:
	case "":
		return ConfigMap{}, configError("ConfigMap '%s' has no '%s' key: set it to '%s' for an AKS cluster", name, KeyProvider, ProviderAzure)
	case "aws", "gcp", "generic":
		return ConfigMap{}, configError("ConfigMap '%s' names provider '%s', which Azimuth does not support yet: use '%s' for an AKS cluster, or spec.kubeConfig.secretRef",
			name, cm.Provider, ProviderAzure)
	default:
		return ConfigMap{}, configError("ConfigMap '%s' names provider '%s': the providers are aws, azure, gcp and generic, and Azimuth supports '%s'",
			name, clip.String(cm.Provider, 100), ProviderAzure)
	}
	if cm.Cluster == "" && (cm.Address == "" || len(cm.CA) == 0) {
		return ConfigMap{}, configError("ConfigMap '%s' needs the key '%s' (the AKS cluster's resource ID), unless it gives both '%s' and '%s'",
			name, KeyCluster, KeyAddress, KeyCA)
	}
	if cm.Address != "" {
		address, err := aks.CanonicalAddress(cm.Address)
		if err != nil {
			return ConfigMap{}, configError("the '%s' of ConfigMap '%s': %v", KeyAddress, name, err)
		}
		cm.Address = address
	}
	if strings.ContainsAny(cm.ServiceAccountName, "/:") {
		return ConfigMap{}, configError("the '%s' of ConfigMap '%s' must name a service account of the Kustomization's namespace, without a namespace",
			KeyServiceAccountName, name)
	}
	return cm, nil
}
