package decrypt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// The extensions of a decryption secret's entries that hold keys, as Flux reads them.
const (
	// AgeExt marks age identities: AGE-SECRET-KEY-1... lines (AGE-SECRET-KEY-PQ-1... for
	// post-quantum ones), blank lines and # comments.
	AgeExt = ".agekey"
	// PGPExt marks ASCII-armored OpenPGP private keys.
	PGPExt = ".asc"
)

// Keys are the private keys of a Kustomization's decryption secret.
type Keys struct {
	// Secret names the secret in messages, such as flux-system/sops-keys; empty when the
	// Kustomization names no decryption secret.
	Secret string
	// Age holds the identities of the secret's *.agekey entries.
	Age []age.Identity
	// PGP holds the private keys of the secret's *.asc entries, none protected by a passphrase.
	PGP openpgp.EntityList
}

// ParseKeys reads the age identities of a decryption secret's *.agekey entries and the OpenPGP
// private keys of its *.asc entries. Other entries (sops.azure-kv, which internal/access reads,
// and what Flux reads for other clouds) are left alone. Errors name the secret and the entry,
// never a value.
func ParseKeys(secret string, data map[string][]byte) (Keys, error) {
	keys := Keys{Secret: secret}
	names := make([]string, 0, len(data))
	for name := range data {
		names = append(names, name)
	}
	slices.Sort(names) // the same secret gives the same keys, in the same order
	for _, name := range names {
		var err error
		switch path.Ext(name) {
		case AgeExt:
			var ids []age.Identity
			if ids, err = parseAge(data[name]); err == nil {
				keys.Age = append(keys.Age, ids...)
			}
		case PGPExt:
			var ring openpgp.EntityList
			if ring, err = parsePGP(data[name]); err == nil {
				keys.PGP = append(keys.PGP, ring...)
			}
		}
		if err != nil {
			return Keys{}, fmt.Errorf("decryption secret '%s', entry '%s': %w", secret, name, err)
		}
	}
	return keys, nil
}

// parseAge reads one identity per line, as SOPS does, with blank lines and # comments skipped.
// Plugin identities would run a program named by the secret: they are refused.
func parseAge(data []byte) ([]age.Identity, error) {
	var ids []age.Identity
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		var id age.Identity
		var err error
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "AGE-PLUGIN-"):
			return nil, fmt.Errorf("line %d is an age plugin identity, which Azimuth does not run: use an X25519 or post-quantum identity (age-keygen)", n)
		case strings.HasPrefix(line, "AGE-SECRET-KEY-PQ-1"):
			id, err = age.ParseHybridIdentity(line)
		case strings.HasPrefix(line, "AGE-SECRET-KEY-1"):
			id, err = age.ParseX25519Identity(line)
		default:
			return nil, fmt.Errorf("line %d is not an age identity: each line holds one AGE-SECRET-KEY-1... (the output of age-keygen), or a # comment", n)
		}
		if err != nil {
			// age's message may quote the line: say which line, not what it holds.
			return nil, fmt.Errorf("line %d is not a valid age identity", n)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the age identities: %w", err)
	}
	if len(ids) == 0 {
		return nil, errors.New("holds no age identity: put the output of age-keygen in it")
	}
	return ids, nil
}

// parsePGP reads every armored block of data, as `gpg --import` does with a file of several.
// Public keys are skipped, as gpg imports them for nothing; a private key protected by a
// passphrase is refused, since nobody can type it.
func parsePGP(data []byte) (openpgp.EntityList, error) {
	var ring openpgp.EntityList
	r := bytes.NewReader(data)
	for blocks := 0; ; blocks++ {
		block, err := armor.Decode(r)
		if errors.Is(err, io.EOF) {
			if blocks == 0 {
				return nil, errors.New("holds no ASCII-armored OpenPGP key: export one with gpg --export-secret-keys --armor FINGERPRINT")
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("block %d is not ASCII-armored OpenPGP data", blocks+1)
		}
		if block.Type != openpgp.PrivateKeyType && block.Type != openpgp.PublicKeyType {
			return nil, fmt.Errorf("block %d is a %q, not an OpenPGP key", blocks+1, block.Type)
		}
		entities, err := openpgp.ReadKeyRing(block.Body)
		if err != nil {
			return nil, fmt.Errorf("block %d is not a readable OpenPGP key: %w", blocks+1, err)
		}
		for _, e := range entities {
			if e.PrivateKey == nil {
				continue
			}
			if locked(e) {
				return nil, fmt.Errorf("the private key %X is protected by a passphrase, which Azimuth cannot enter: export it without one", e.PrimaryKey.Fingerprint)
			}
			ring = append(ring, e)
		}
	}
	return ring, nil
}

// locked reports whether a private key of e needs a passphrase.
func locked(e *openpgp.Entity) bool {
	if e.PrivateKey.Encrypted {
		return true
	}
	for _, sub := range e.Subkeys {
		if sub.PrivateKey != nil && sub.PrivateKey.Encrypted {
			return true
		}
	}
	return false
}
