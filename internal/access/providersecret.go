package access

import (
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// maxProviderAddress bounds a notification Provider's address, as Flux bounds it.
const maxProviderAddress = 2048

// ProviderSecret is what a notification Provider's secretRef holds, as Flux reads it: the
// endpoint's address (a webhook URL is a credential), a token (an Azure DevOps PAT, an HMAC key),
// HTTP headers. Every printed form is redacted.
type ProviderSecret struct {
	// Address overrides spec.address when set.
	Address string
	// Token is the key token, trimmed.
	Token string
	// Headers are the HTTP headers of the key headers, a YAML map.
	Headers map[string]string
	// Identity is true when the secret holds an Entra application or managed identity (clientId):
	// read it with Resolver.Credential as Spec.IdentitySecret.
	Identity bool
	// CA is true when the secret holds ca.crt.
	CA bool
}

// String hides the material.
func (ProviderSecret) String() string { return "[redacted]" }

// GoString hides the material from %#v.
func (ProviderSecret) GoString() string { return "access.ProviderSecret{[redacted]}" }

// Format hides the material from every verb.
func (ProviderSecret) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[redacted]") }

// ParseProviderSecret reads a notification Provider's secret: the keys address (at most 2048
// bytes), token, headers (a YAML map of names to values), clientId and ca.crt. Errors name the
// secret and the key, never a value.
func ParseProviderSecret(namespace, name string, data map[string][]byte) (ProviderSecret, error) {
	var s ProviderSecret
	if v, ok := data["address"]; ok {
		if len(v) > maxProviderAddress {
			return ProviderSecret{}, fmt.Errorf("invalid secret '%s/%s': key 'address' exceeds %d bytes", namespace, name, maxProviderAddress)
		}
		s.Address = strings.TrimSpace(string(v))
	}
	s.Token = strings.TrimSpace(string(data["token"]))
	if h, ok := data["headers"]; ok {
		if err := yaml.Unmarshal(h, &s.Headers); err != nil {
			return ProviderSecret{}, fmt.Errorf("invalid secret '%s/%s': key 'headers' must be a YAML map of header names to values", namespace, name)
		}
		for k := range s.Headers {
			if k == "" || strings.ContainsAny(k, " :\r\n\t") {
				return ProviderSecret{}, fmt.Errorf("invalid secret '%s/%s': key 'headers' holds a header name that is not one", namespace, name)
			}
		}
	}
	s.Identity = len(strings.TrimSpace(string(data["clientId"]))) > 0
	s.CA = len(data["ca.crt"]) > 0
	return s, nil
}
