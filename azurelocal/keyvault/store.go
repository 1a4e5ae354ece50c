package keyvault

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/azimuth-gitops/azimuth/azurelocal/pki"
)

// store holds the keys of one vault, in memory and in STATE/keyvault/VAULT.json. Its file is
// written whole, atomically, with mode 0600, after every change.
type store struct {
	path string

	mu     sync.Mutex
	loaded bool
	keys   map[string]*storedKey // by lower-case name
}

// storedKey is a key with its versions, oldest first. Names compare ignoring case, as in Key
// Vault; Name keeps the case of the first version.
type storedKey struct {
	Name     string        `json:"name"`
	Versions []*keyVersion `json:"versions"`
}

// keyVersion is one version of a key. PKCS8 is the private key, DER-encoded, the reason the
// file is 0600; it never leaves the store otherwise.
type keyVersion struct {
	Version   string            `json:"version"`
	Created   int64             `json:"created"`
	Updated   int64             `json:"updated"`
	Enabled   bool              `json:"enabled"`
	NotBefore *int64            `json:"nbf,omitempty"`
	Expires   *int64            `json:"exp,omitempty"`
	Ops       []string          `json:"keyOps"`
	Tags      map[string]string `json:"tags,omitempty"`
	PKCS8     []byte            `json:"pkcs8"`

	key *rsa.PrivateKey
}

type storeFile struct {
	Keys []*storedKey `json:"keys"`
}

// defaultKeyOps are the operations of an RSA key created without key_ops.
var defaultKeyOps = []string{"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"}

// store returns the vault's key store, reading its file and making the keys the directory
// declares for the vault that it lacks, on first use. A failure is not remembered: the next
// request tries again.
func (s *Server) store(v vault) (*store, error) {
	s.mu.Lock()
	st, ok := s.stores[strings.ToLower(v.name)]
	if !ok {
		st = &store{path: filepath.Join(s.root, strings.ToLower(v.name)+".json")}
		s.stores[strings.ToLower(v.name)] = st
	}
	s.mu.Unlock()

	st.mu.Lock()
	defer st.mu.Unlock()
	if st.loaded {
		return st, nil
	}
	keys, err := readStore(st.path)
	if err != nil {
		return nil, err
	}
	st.keys = keys
	made := false
	for _, k := range v.keys {
		if _, ok := st.keys[strings.ToLower(k.Name)]; ok {
			continue
		}
		kv, err := newKeyVersion(k.Size, nil, true, nil, nil, nil, s.now().Unix())
		if err != nil {
			return nil, err
		}
		st.keys[strings.ToLower(k.Name)] = &storedKey{Name: k.Name, Versions: []*keyVersion{kv}}
		made = true
	}
	if made {
		if err := st.writeLocked(); err != nil {
			return nil, err
		}
	}
	st.loaded = true
	return st, nil
}

// readStore reads a vault's file; a missing file is an empty vault.
func readStore(path string) (map[string]*storedKey, error) {
	keys := map[string]*storedKey{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return keys, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read key store: %w", err)
	}
	var f storeFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("key store %s is corrupt (remove it to start the vault empty): %w", path, err)
	}
	for _, k := range f.Keys {
		if k == nil || len(k.Versions) == 0 {
			continue
		}
		for _, kv := range k.Versions {
			priv, err := x509.ParsePKCS8PrivateKey(kv.PKCS8)
			rk, ok := priv.(*rsa.PrivateKey)
			if err != nil || !ok {
				return nil, fmt.Errorf("key store %s: key %s version %s is not an RSA private key (remove the file to start the vault empty)", path, k.Name, kv.Version)
			}
			kv.key = rk
		}
		keys[strings.ToLower(k.Name)] = k
	}
	return keys, nil
}

// writeLocked writes the whole store; st.mu must be held.
func (st *store) writeLocked() error {
	f := storeFile{}
	for _, k := range st.keys {
		f.Keys = append(f.Keys, k)
	}
	slices.SortFunc(f.Keys, func(a, b *storedKey) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode key store: %w", err)
	}
	return pki.WriteFileAtomic(st.path, data, 0o600)
}

// newKeyVersion makes an RSA key of bits with a new version.
func newKeyVersion(bits int, ops []string, enabled bool, nbf, exp *int64, tags map[string]string, now int64) (*keyVersion, error) {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode RSA key: %w", err)
	}
	if ops == nil {
		ops = defaultKeyOps
	}
	return &keyVersion{
		Version: newVersion(), Created: now, Updated: now, Enabled: enabled, NotBefore: nbf, Expires: exp,
		Ops: slices.Clone(ops), Tags: tags, PKCS8: der, key: key,
	}, nil
}

// add appends a version to the named key, making the key if it is new, and writes the store.
func (st *store) add(name string, kv *keyVersion) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	k, ok := st.keys[strings.ToLower(name)]
	if !ok {
		k = &storedKey{Name: name}
		st.keys[strings.ToLower(name)] = k
	}
	k.Versions = append(k.Versions, kv)
	if err := st.writeLocked(); err != nil {
		k.Versions = k.Versions[:len(k.Versions)-1]
		if len(k.Versions) == 0 {
			delete(st.keys, strings.ToLower(name))
		}
		return err
	}
	return nil
}

// version finds a version of a key, the latest when version is empty. The returned values must
// not be changed.
func (st *store) version(name, version string) (string, *keyVersion, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k, ok := st.keys[strings.ToLower(name)]
	if !ok {
		return "", nil, false
	}
	if version == "" {
		return k.Name, k.Versions[len(k.Versions)-1], true
	}
	for _, kv := range k.Versions {
		if strings.EqualFold(kv.Version, version) {
			return k.Name, kv, true
		}
	}
	return "", nil, false
}

// latest returns the keys, sorted by name ignoring case, each with its latest version.
func (st *store) latest() []namedVersion {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]namedVersion, 0, len(st.keys))
	for _, k := range st.keys {
		out = append(out, namedVersion{k.Name, k.Versions[len(k.Versions)-1]})
	}
	slices.SortFunc(out, func(a, b namedVersion) int { return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	return out
}

// versions returns the versions of a key, oldest first.
func (st *store) versions(name string) ([]namedVersion, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k, ok := st.keys[strings.ToLower(name)]
	if !ok {
		return nil, false
	}
	out := make([]namedVersion, len(k.Versions))
	for i, kv := range k.Versions {
		out[i] = namedVersion{k.Name, kv}
	}
	return out, true
}

type namedVersion struct {
	name string
	kv   *keyVersion
}
