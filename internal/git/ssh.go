package git

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	gittransport "github.com/go-git/go-git/v5/plumbing/transport"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/net/proxy"

	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// connectToScheme is the proxy URL scheme under which SSH connections dial through the
// controller's transport (its connect-to map): go-git dials SSH itself, and takes a dialer only
// as a proxy registered with golang.org/x/net/proxy.
const connectToScheme = "azimuth-dial"

var (
	registerDialer sync.Once
	// sshBase is the transport SSH connections dial with: the last Factory's, as for HTTP.
	sshBase atomic.Pointer[transport.Options]
)

// sshDialer dials with the controller's transport options.
type sshDialer struct{}

func (sshDialer) Dial(network, address string) (net.Conn, error) {
	return sshBase.Load().Dial(context.Background(), network, address)
}

func (sshDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return sshBase.Load().Dial(ctx, network, address)
}

func installSSHDialer(base transport.Options) {
	sshBase.Store(&base)
	registerDialer.Do(func() {
		proxy.RegisterDialerType(connectToScheme, func(*url.URL, proxy.Dialer) (proxy.Dialer, error) {
			return sshDialer{}, nil
		})
	})
}

// sshAuth reads spec.secretRef as Flux does for SSH: identity (a private key in PEM or OpenSSH
// form), its optional password, and known_hosts, which is required: the server's key is always
// checked.
func (r *Remote) sshAuth(spec Spec, secret map[string][]byte, u *url.URL, scratch string) error {
	if spec.SecretRef == "" {
		return fmt.Errorf("an ssh URL needs spec.secretRef with the keys 'identity' and 'known_hosts'")
	}
	identity, hosts := secret["identity"], secret["known_hosts"]
	switch {
	case len(identity) == 0:
		return fmt.Errorf("secret '%s' has no 'identity' key: put the private SSH key there", spec.SecretRef)
	case len(hosts) == 0:
		return fmt.Errorf("secret '%s' has no 'known_hosts' key: put the server's host key there (ssh-keyscan HOST)", spec.SecretRef)
	}
	user := u.User.Username()
	if user == "" {
		user = "git"
	}
	keys, err := gitssh.NewPublicKeys(user, identity, string(secret["password"]))
	if err != nil {
		return fmt.Errorf("secret '%s' key 'identity' is not a private SSH key that its 'password' opens", spec.SecretRef)
	}
	// knownhosts reads files: the lines go through one that lives as long as this call.
	file := filepath.Join(scratch, "known_hosts")
	if err := os.WriteFile(file, hosts, 0o600); err != nil {
		return err
	}
	defer os.Remove(file)
	callback, err := knownhosts.New(file)
	if err != nil {
		return fmt.Errorf("secret '%s' key 'known_hosts' is not in the known_hosts format: %v", spec.SecretRef, err)
	}
	keys.HostKeyCallback = callback
	r.auth, r.Who = keys, fmt.Sprintf("SSH key of secret %s/%s", spec.Namespace, spec.SecretRef)
	if r.proxy.URL == "" {
		r.proxy = gittransport.ProxyOptions{URL: connectToScheme + "://controller"}
	}
	return nil
}
