package entra

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Cloud is an Azure cloud: where Entra ID is, and the scopes of the services Azimuth calls there.
type Cloud struct {
	Name string
	// AuthorityHost is Entra ID's address, with a trailing slash.
	AuthorityHost string
	// RegistrySuffixes are the DNS suffixes of Azure Container Registry, with a leading dot.
	RegistrySuffixes []string

	ContainerRegistryScope string
	StorageScope           string
	KeyVaultScope          string
	EventHubsScope         string
	DevOpsScope            string
	ResourceManagerScope   string
}

// The scopes of services whose audience is the same in every cloud.
const (
	ContainerRegistryScope = "https://containerregistry.azure.net/.default"
	StorageScope           = "https://storage.azure.com/.default"
	// EventHubsScope has a double slash: the Event Hubs SDK asks for exactly this.
	EventHubsScope = "https://eventhubs.azure.net//.default"
	// DevOpsScope is Azure DevOps' resource application ID.
	DevOpsScope = "499b84ac-1321-427f-aa17-267ca6975798/.default"
)

var (
	// AzurePublic is the global Azure cloud.
	AzurePublic = Cloud{
		Name: "AzurePublic", AuthorityHost: "https://login.microsoftonline.com/",
		RegistrySuffixes:       []string{".azurecr.io", ".azurecr.de"},
		ContainerRegistryScope: ContainerRegistryScope, StorageScope: StorageScope,
		KeyVaultScope: "https://vault.azure.net/.default", EventHubsScope: EventHubsScope,
		DevOpsScope: DevOpsScope, ResourceManagerScope: "https://management.azure.com/.default",
	}
	// AzureGovernment is Azure US Government.
	AzureGovernment = Cloud{
		Name: "AzureGovernment", AuthorityHost: "https://login.microsoftonline.us/",
		RegistrySuffixes:       []string{".azurecr.us"},
		ContainerRegistryScope: ContainerRegistryScope, StorageScope: StorageScope,
		KeyVaultScope: "https://vault.usgovcloudapi.net/.default", EventHubsScope: EventHubsScope,
		DevOpsScope: DevOpsScope, ResourceManagerScope: "https://management.usgovcloudapi.net/.default",
	}
	// AzureChina is Azure operated by 21Vianet.
	AzureChina = Cloud{
		Name: "AzureChina", AuthorityHost: "https://login.chinacloudapi.cn/",
		RegistrySuffixes:       []string{".azurecr.cn"},
		ContainerRegistryScope: ContainerRegistryScope, StorageScope: StorageScope,
		KeyVaultScope: "https://vault.azure.cn/.default", EventHubsScope: EventHubsScope,
		DevOpsScope: DevOpsScope, ResourceManagerScope: "https://management.chinacloudapi.cn/.default",
	}
)

// CloudForAuthority returns the cloud whose Entra ID is at authorityHost; an empty host is the
// public cloud. A host Azimuth does not know is a cloud of its own with the public scopes, so
// that a private authority still works.
func CloudForAuthority(authorityHost string) Cloud {
	host := strings.ToLower(authorityHost)
	switch {
	case host == "":
		return AzurePublic
	case strings.Contains(host, "microsoftonline.us"):
		return AzureGovernment
	case strings.Contains(host, "chinacloudapi.cn"):
		return AzureChina
	case strings.Contains(host, "login.microsoftonline.com"):
		return AzurePublic
	}
	c := AzurePublic
	c.Name, c.AuthorityHost = "custom", strings.TrimSuffix(authorityHost, "/")+"/"
	return c
}

// environmentFile is the subset of cloud-provider-azure's environment file that describes a
// custom cloud, read from AZURE_ENVIRONMENT_FILEPATH.
type environmentFile struct {
	Name                       string `json:"name"`
	ActiveDirectoryEndpoint    string `json:"activeDirectoryEndpoint"`
	ContainerRegistryDNSSuffix string `json:"containerRegistryDNSSuffix"`
	ResourceManagerEndpoint    string `json:"resourceManagerEndpoint"`
	TokenAudience              string `json:"tokenAudience"`
	KeyVaultDNSSuffix          string `json:"keyVaultDNSSuffix"`
}

// LoadEnvironmentFile reads a custom cloud from an environment file, as AKS on Azure Stack and
// other private clouds describe themselves. As in Flux, resourceManagerEndpoint and
// tokenAudience are required, and registries need containerRegistryDNSSuffix.
func LoadEnvironmentFile(path string) (Cloud, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Cloud{}, fmt.Errorf("reading the cloud environment file named by AZURE_ENVIRONMENT_FILEPATH: %w", err)
	}
	var f environmentFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Cloud{}, fmt.Errorf("the cloud environment file %s is not valid JSON: %w", path, err)
	}
	if f.ResourceManagerEndpoint == "" || f.TokenAudience == "" {
		return Cloud{}, errors.New("resourceManagerEndpoint and tokenAudience must be set in the environment file " + path)
	}
	c := CloudForAuthority(f.ActiveDirectoryEndpoint)
	if f.Name != "" {
		c.Name = f.Name
	}
	c.ResourceManagerScope = strings.TrimSuffix(f.TokenAudience, "/") + "/.default"
	// A custom cloud has no registry audience of its own: registries accept Resource Manager
	// tokens there, as Flux assumes too.
	c.ContainerRegistryScope = strings.TrimSuffix(f.ResourceManagerEndpoint, "/") + "/.default"
	c.RegistrySuffixes = nil
	if f.ContainerRegistryDNSSuffix != "" {
		c.RegistrySuffixes = []string{"." + strings.TrimPrefix(f.ContainerRegistryDNSSuffix, ".")}
	}
	if f.KeyVaultDNSSuffix != "" {
		c.KeyVaultScope = "https://" + strings.TrimPrefix(f.KeyVaultDNSSuffix, ".") + "/.default"
	}
	return c, nil
}
