package devops

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/azimuth-gitops/azimuth/azurelocal/pki"
)

// loadOrCreateHostKey reads the RSA host key at path, making it first when there is none, so a
// client's known_hosts stays valid across restarts. Azure DevOps presents an RSA host key too.
func loadOrCreateHostKey(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := rsa.GenerateKey(rand.Reader, 3072)
		if err != nil {
			return nil, fmt.Errorf("devops: generate the SSH host key: %w", err)
		}
		data = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("devops: %w", err)
		}
		if err := pki.WriteFileAtomic(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("devops: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("devops: read the SSH host key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("devops: the SSH host key %s is unusable (remove it to make a new one): %w", path, err)
	}
	if signer.PublicKey().Type() != ssh.KeyAlgoRSA {
		return nil, fmt.Errorf("devops: the SSH host key %s is %s, not RSA (remove it to make a new one)", path, signer.PublicKey().Type())
	}
	return signer, nil
}
