package access

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// dockerConfig is the content of a kubernetes.io/dockerconfigjson secret (.dockerconfigjson), or
// the older kubernetes.io/dockercfg one (.dockercfg, the auths map alone).
type dockerConfig struct {
	Auths map[string]dockerAuth `json:"auths"`
}

type dockerAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Auth     string `json:"auth"`
	// IdentityToken is an OAuth refresh token, as `docker login` stores for ACR.
	IdentityToken string `json:"identitytoken"`
}

// ParseDockerConfig reads a pull secret's data into a keychain. The error names the secret and
// the key, never the content.
func ParseDockerConfig(secretName string, data map[string][]byte) (authn.Keychain, error) {
	var cfg dockerConfig
	switch {
	case len(data[".dockerconfigjson"]) > 0:
		if err := json.Unmarshal(data[".dockerconfigjson"], &cfg); err != nil {
			return nil, fmt.Errorf("invalid pull secret '%s': key '.dockerconfigjson' is not a docker config JSON document", secretName)
		}
	case len(data[".dockercfg"]) > 0:
		if err := json.Unmarshal(data[".dockercfg"], &cfg.Auths); err != nil {
			return nil, fmt.Errorf("invalid pull secret '%s': key '.dockercfg' is not a docker config JSON document", secretName)
		}
	default:
		return nil, fmt.Errorf("invalid pull secret '%s': it needs the key '.dockerconfigjson' (type kubernetes.io/dockerconfigjson)", secretName)
	}
	kc := configKeychain{}
	for host, a := range cfg.Auths {
		conf := authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken}
		if a.Auth != "" {
			decoded, err := base64.StdEncoding.DecodeString(a.Auth)
			user, pass, ok := strings.Cut(string(decoded), ":")
			if err != nil || !ok {
				return nil, fmt.Errorf("invalid pull secret '%s': the 'auth' entry for %s must be base64 of USERNAME:PASSWORD", secretName, registryHost(host))
			}
			conf.Username, conf.Password = user, pass
		}
		kc[registryHost(host)] = conf
	}
	return kc, nil
}

// registryHost reduces a docker config key ("https://index.docker.io/v1/", "myreg.azurecr.io")
// to the registry host name go-containerregistry asks for.
func registryHost(key string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	host, _, _ = strings.Cut(host, "/")
	if host == "index.docker.io" || host == "docker.io" {
		return name.DefaultRegistry
	}
	return host
}

type configKeychain map[string]authn.AuthConfig

func (k configKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if conf, ok := k[r.RegistryStr()]; ok {
		return authn.FromConfig(conf), nil
	}
	return authn.Anonymous, nil
}
