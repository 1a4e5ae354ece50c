package entra

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Cloud is an Azure cloud as Entra ID sees it: where its authority is, and what a custom cloud
// says of its services. As with azcore's cloud.Configuration, each service adapter
// (internal/azure/<service>) knows its own audience and host suffixes in the well-known clouds;
// Services carries only what a cloud's description adds, keyed by the name the adapter looks up.
type Cloud struct {
	Name string
	// AuthorityHost is Entra ID's address, with a trailing slash.
	AuthorityHost string
	// Services holds what this cloud says of its services, by name. The well-known clouds name
	// Resource Manager alone; a custom cloud read by LoadEnvironmentFile names every service its
	// file describes.
	Services map[ServiceName]Service
	// EnvironmentFile is the file the cloud was read from, empty for a well-known cloud.
	EnvironmentFile string
}

// ServiceName names a service in Cloud.Services. Adapters define their own; the names of an
// environment file's services are the file's field names without "Endpoint" or "DNSSuffix"
// ("containerRegistry", "keyVault", "storageEndpoint" stays as written).
type ServiceName string

// ResourceManager is Azure Resource Manager, which every cloud describes.
const ResourceManager ServiceName = "resourceManager"

// Service is what a cloud says of one service. Empty fields are unknown, and the adapter
// falls back on what it knows.
type Service struct {
	// Audience is the resource the service's tokens are issued for, such as
	// https://management.azure.com/. The scope is Audience + ".default".
	Audience string
	// Endpoint is the service's address, when it has one address per cloud.
	Endpoint string
	// DNSSuffix is the domain the service's resources are named under, without a leading dot,
	// such as azurecr.io.
	DNSSuffix string
}

// Scope is the scope of a token for the service: its audience with /.default.
func (s Service) Scope() string {
	if s.Audience == "" {
		return ""
	}
	return strings.TrimSuffix(s.Audience, "/") + "/.default"
}

// Service returns what the cloud says of name, and whether it says anything.
func (c Cloud) Service(name ServiceName) (Service, bool) {
	s, ok := c.Services[name]
	return s, ok
}

func wellKnown(name, authority, management string) Cloud {
	return Cloud{Name: name, AuthorityHost: authority, Services: map[ServiceName]Service{
		ResourceManager: {Audience: management, Endpoint: management},
	}}
}

// The well-known clouds, by the names azcore gives them.
var (
	// AzurePublic is the global Azure cloud.
	AzurePublic = wellKnown("AzurePublic", "https://login.microsoftonline.com/", "https://management.azure.com/")
	// AzureGovernment is Azure US Government.
	AzureGovernment = wellKnown("AzureGovernment", "https://login.microsoftonline.us/", "https://management.usgovcloudapi.net/")
	// AzureChina is Azure operated by 21Vianet.
	AzureChina = wellKnown("AzureChina", "https://login.chinacloudapi.cn/", "https://management.chinacloudapi.cn/")
)

// CloudForAuthority returns the cloud whose Entra ID is at authorityHost; an empty host is the
// public cloud. A host Azimuth does not know is a cloud of its own, named "custom", whose
// services take the public cloud's values, so that a private authority still works.
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

// LoadEnvironmentFile reads a custom cloud from an environment file (cloud-provider-azure's
// format, named by AZURE_ENVIRONMENT_FILEPATH), as AKS on Azure Stack and other private clouds
// describe themselves. As in Flux, resourceManagerEndpoint and tokenAudience are required. Every
// other "…Endpoint" and "…DNSSuffix" string field becomes a service of the cloud, for the
// adapters to read.
func LoadEnvironmentFile(path string) (Cloud, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Cloud{}, fmt.Errorf("reading the cloud environment file named by AZURE_ENVIRONMENT_FILEPATH: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return Cloud{}, fmt.Errorf("the cloud environment file %s is not valid JSON: %w", path, err)
	}
	str := func(key string) string {
		var s string
		_ = json.Unmarshal(fields[key], &s)
		return s
	}
	if str("resourceManagerEndpoint") == "" || str("tokenAudience") == "" {
		return Cloud{}, errors.New("resourceManagerEndpoint and tokenAudience must be set in the environment file " + path)
	}
	c := CloudForAuthority(str("activeDirectoryEndpoint"))
	if name := str("name"); name != "" {
		c.Name = name
	}
	c.Services, c.EnvironmentFile = map[ServiceName]Service{}, path
	for key := range fields {
		v := str(key)
		switch {
		case v == "":
		case strings.HasSuffix(key, "DNSSuffix"):
			s := c.Services[ServiceName(strings.TrimSuffix(key, "DNSSuffix"))]
			s.DNSSuffix = strings.TrimPrefix(v, ".")
			c.Services[ServiceName(strings.TrimSuffix(key, "DNSSuffix"))] = s
		case strings.HasSuffix(key, "Endpoint"):
			s := c.Services[ServiceName(strings.TrimSuffix(key, "Endpoint"))]
			s.Endpoint = v
			c.Services[ServiceName(strings.TrimSuffix(key, "Endpoint"))] = s
		}
	}
	rm := c.Services[ResourceManager]
	rm.Audience = str("tokenAudience")
	c.Services[ResourceManager] = rm
	return c, nil
}
