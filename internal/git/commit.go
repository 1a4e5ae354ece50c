package git

import (
	"bytes"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Signature names who makes a commit: spec.git.commit.author.
type Signature struct {
	Name, Email string
}

// ReadSigningKey reads the OpenPGP key that signs commits from a secret's 'git.asc' (an
// ASCII-armored secret key) and 'passphrase', as Flux reads spec.git.commit.signingKey. The
// errors name the secret's keys, never their values.
func ReadSigningKey(secret string, armored, passphrase []byte) (*openpgp.Entity, error) {
	if len(armored) == 0 {
		return nil, fmt.Errorf("signing key secret '%s' has no 'git.asc' key: put the ASCII-armored secret key there (gpg --export-secret-keys --armor KEYID)", secret)
	}
	entities, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("signing key secret '%s': 'git.asc' is not an ASCII-armored OpenPGP key (gpg --export-secret-keys --armor KEYID writes one): %v", secret, err)
	}
	if len(entities) != 1 {
		return nil, fmt.Errorf("signing key secret '%s': 'git.asc' holds %d keys: keep the one that signs", secret, len(entities))
	}
	e := entities[0]
	if e.PrivateKey == nil {
		return nil, fmt.Errorf("signing key secret '%s': 'git.asc' holds a public key: export the secret key (gpg --export-secret-keys --armor KEYID)", secret)
	}
	if e.PrivateKey.Encrypted {
		if len(passphrase) == 0 {
			return nil, fmt.Errorf("signing key secret '%s': the key in 'git.asc' is protected by a passphrase: put it in the key 'passphrase'", secret)
		}
		if err := e.DecryptPrivateKeys(passphrase); err != nil {
			return nil, fmt.Errorf("signing key secret '%s': the key 'passphrase' does not open the key in 'git.asc'", secret)
		}
	}
	return e, nil
}

// writeTree stores the tree of base with files replaced by their new contents (paths from the
// root; each must be a regular or executable file of the tree) and returns its hash.
func writeTree(s storer.EncodedObjectStorer, base *object.Tree, files map[string][]byte) (plumbing.Hash, error) {
	direct, nested := map[string][]byte{}, map[string]map[string][]byte{}
	for p, data := range files {
		if !fs.ValidPath(p) || p == "." {
			return plumbing.ZeroHash, fmt.Errorf("%q is not a path in the repository", p)
		}
		dir, rest, ok := strings.Cut(p, "/")
		if !ok {
			direct[p] = data
			continue
		}
		if nested[dir] == nil {
			nested[dir] = map[string][]byte{}
		}
		nested[dir][rest] = data
	}
	entries := slices.Clone(base.Entries)
	for i := range entries {
		e := &entries[i]
		if data, ok := direct[e.Name]; ok {
			if e.Mode != filemode.Regular && e.Mode != filemode.Executable && e.Mode != filemode.Deprecated {
				return plumbing.ZeroHash, fmt.Errorf("%s is not a regular file", e.Name)
			}
			h, err := writeBlob(s, data)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			e.Hash = h
			delete(direct, e.Name)
		}
		if sub, ok := nested[e.Name]; ok {
			if e.Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("%s is not a directory", e.Name)
			}
			t, err := object.GetTree(s, e.Hash)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			if e.Hash, err = writeTree(s, t, sub); err != nil {
				return plumbing.ZeroHash, fmt.Errorf("%s/%w", e.Name, err)
			}
			delete(nested, e.Name)
		}
	}
	for name := range direct {
		return plumbing.ZeroHash, fmt.Errorf("%s is not in the tree", name)
	}
	for name := range nested {
		return plumbing.ZeroHash, fmt.Errorf("%s is not in the tree", name)
	}
	obj := s.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

func writeBlob(s storer.EncodedObjectStorer, data []byte) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// writeCommit stores a commit of tree on parent, by author (also the committer, as Flux commits),
// signed with key when there is one.
func writeCommit(s storer.EncodedObjectStorer, tree, parent plumbing.Hash, author Signature, when time.Time, message string, key *openpgp.Entity) (plumbing.Hash, error) {
	sig := object.Signature{Name: author.Name, Email: author.Email, When: when}
	c := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree, ParentHashes: []plumbing.Hash{parent}}
	if key != nil {
		unsigned := &plumbing.MemoryObject{}
		if err := c.EncodeWithoutSignature(unsigned); err != nil {
			return plumbing.ZeroHash, err
		}
		r, err := unsigned.Reader()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		var b bytes.Buffer
		if err := openpgp.ArmoredDetachSign(&b, key, r, nil); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("signing the commit: %w", err)
		}
		c.PGPSignature = b.String()
	}
	obj := s.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}
