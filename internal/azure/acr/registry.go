package acr

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// Pattern is the expression Flux (after the Kubernetes legacy Azure credential provider) uses to
// recognise an Azure Container Registry host.
const Pattern = `^.+\.(azurecr\.io|azurecr\.cn|azurecr\.de|azurecr\.us)$`

var registryPattern = regexp.MustCompile(Pattern)

// ParseRegistry returns the registry host of an artifact repository, read as Flux reads it: the
// string without oci:// and trailing slashes is either a host ("myreg.azurecr.io") or an image
// reference whose registry is taken ("myreg.azurecr.io/app:1.0"). The host must match Pattern
// or end with a custom cloud's containerRegistryDNSSuffix.
// Matching ignores case, as DNS does.
func ParseRegistry(repository string, c entra.Cloud) (string, error) {
	s := strings.TrimRight(strings.TrimPrefix(repository, "oci://"), "/")
	host := s
	if strings.Contains(s, "/") {
		ref, err := name.ParseReference(s)
		if err != nil {
			return "", fmt.Errorf("failed to parse artifact repository '%s': %w", repository, err)
		}
		host = ref.Context().RegistryStr()
	}
	if IsRegistry(host, c) {
		return host, nil
	}
	if custom := customSuffix(c); custom != "" && !registryPattern.MatchString("x"+custom) {
		return "", fmt.Errorf("invalid Azure registry: '%s'. must end with %s", host, strings.TrimPrefix(custom, "."))
	}
	return "", fmt.Errorf("invalid Azure registry: '%s'. must match %s", host, Pattern)
}

// IsRegistry reports whether host (no scheme, no path, no port) is an Azure Container Registry:
// it matches Pattern, or it is a name under a custom cloud's registry suffix.
func IsRegistry(host string, c entra.Cloud) bool {
	h := strings.ToLower(host)
	if registryPattern.MatchString(h) {
		return true
	}
	suffix := customSuffix(c)
	return suffix != "" && len(h) > len(suffix) && strings.HasSuffix(h, suffix)
}

// registryHost normalises a go-containerregistry registry string for recognition and caching:
// lower case, without the default HTTPS port.
func registryHost(registry string) string {
	return strings.TrimSuffix(strings.ToLower(registry), ":443")
}

// registryName is the registry's resource name: the first label of its host.
func registryName(host string) string {
	n, _, _ := strings.Cut(host, ".")
	return n
}
