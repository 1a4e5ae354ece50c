package transport

import (
	"fmt"
	"net/url"
	"strings"
)

// ProxyFromSecret reads a proxy secret as Flux's proxySecretRef defines it: the key address
// holds the proxy URL, and the optional keys username and password its credentials. The error
// names the secret and the key, never a value.
func ProxyFromSecret(secretName string, data map[string][]byte) (*url.URL, error) {
	address := strings.TrimSpace(string(data["address"]))
	if address == "" {
		return nil, fmt.Errorf("invalid proxy secret '%s': key 'address' is missing or empty", secretName)
	}
	u, err := url.Parse(address)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") {
		return nil, fmt.Errorf("invalid proxy secret '%s': key 'address' must be a URL such as http://proxy.example.com:3128", secretName)
	}
	if u.User != nil {
		return nil, fmt.Errorf("invalid proxy secret '%s': key 'address' must not hold credentials; put them in the 'username' and 'password' keys", secretName)
	}
	user, password := string(data["username"]), string(data["password"])
	switch {
	case user != "" && password != "":
		u.User = url.UserPassword(user, password)
	case user != "" || password != "":
		return nil, fmt.Errorf("invalid proxy secret '%s': keys 'username' and 'password' must be set together", secretName)
	}
	return u, nil
}
