package decrypt

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/logging"
	"github.com/sirupsen/logrus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/azimuth-gitops/azimuth/internal/azure/keyvault"
)

// DisableAnnotation set to "disabled" (any case) on an object keeps it from being decrypted, as
// in Flux.
const DisableAnnotation = "kustomize.toolkit.fluxcd.io/decrypt"

// MaxFileSize is the largest file DecryptFile takes by default, Flux's limit.
const MaxFileSize = 5 << 20

// AzureCredential returns the credential for Azure Key Vault keys. A Decryptor calls it once, and
// only when a document names an azure_kv key: a Kustomization whose documents use age or OpenPGP
// never resolves an Azure identity.
type AzureCredential func(ctx context.Context) (azcore.TokenCredential, error)

// Options configure a Decryptor. The zero value is valid.
type Options struct {
	// Azure gives the credential for Azure Key Vault keys, such as the Kustomization's decryption
	// identity from access.Resolver.Credential. Default: none, and azure_kv keys fail with ErrNoKey.
	Azure AzureCredential
	// Transport carries the requests to Key Vault: pass the Kustomization's connection
	// (access.Connection.Transport), with Azimuth's connect-to map, CA and proxy. Default:
	// keyvault.NewClient's, internal/transport's zero configuration.
	Transport http.RoundTripper
	// MaxFileSize bounds what DecryptFile takes, in bytes. Default: MaxFileSize (5 MiB).
	MaxFileSize int
}

// Decryptor decrypts the SOPS documents of one Kustomization's reconcile with the keys of its
// decryption secret and its Azure identity. It caches each master key's decrypted data key for
// its own life, never longer: make one per reconcile. It is safe for concurrent use.
type Decryptor struct {
	keys    Keys
	azure   AzureCredential
	rt      http.RoundTripper
	maxSize int

	mu       sync.Mutex
	dataKeys map[string][]byte // by master key and its ciphertext

	vaultMu     sync.Mutex
	vaultClient *keyvault.Client
}

// New returns a Decryptor with keys (ParseKeys; the zero Keys when the Kustomization names no
// decryption secret).
func New(keys Keys, opts *Options) *Decryptor {
	quietSOPS()
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = MaxFileSize
	}
	return &Decryptor{keys: keys, azure: o.Azure, rt: o.Transport, maxSize: o.MaxFileSize, dataKeys: map[string][]byte{}}
}

var quietOnce sync.Once

// quietSOPS keeps SOPS's own loggers (logrus, to stderr, some with a value in a field) below
// errors: Azimuth reports what SOPS did through its errors.
func quietSOPS() {
	quietOnce.Do(func() { logging.SetLevel(logrus.ErrorLevel) })
}

// IsDecryptionDisabled reports whether annotations carry DisableAnnotation: disabled.
func IsDecryptionDisabled(annotations map[string]string) bool {
	return strings.EqualFold(annotations[DisableAnnotation], "disabled")
}

// DecryptObject decrypts obj in place, as Flux's kustomize-controller does after the build:
//
//   - an object that is a SOPS document (IsEncryptedObject), of any kind, is decrypted whole as
//     JSON, and loses its sops field;
//   - a Secret's data values that are SOPS documents (DetectFormat on the base64-decoded value,
//     such as a secretGenerator file that was not decrypted before the build) are decrypted each,
//     and written in the format of the data key's name (FormatForPath).
//
// decrypted is false when there was nothing to decrypt, or obj has DisableAnnotation. The MAC of
// a whole object is not checked, as in Flux: kustomize changes objects after they were
// encrypted (namespace, labels, name prefixes, patches, key order), so it would never match;
// each encrypted value is still authenticated with its path. The MAC of a data value, which
// kustomize leaves byte for byte, is checked. On error obj is unchanged.
func (d *Decryptor) DecryptObject(ctx context.Context, obj *unstructured.Unstructured) (decrypted bool, err error) {
	if obj == nil || IsDecryptionDisabled(obj.GetAnnotations()) {
		return false, nil
	}
	name := describeObject(obj)
	if IsEncryptedObject(obj) {
		in, err := json.Marshal(obj.Object)
		if err != nil {
			return false, fmt.Errorf("%s: %w", name, err)
		}
		out, err := d.decrypt(ctx, name, in, JSON, JSON, false)
		if err != nil {
			return false, err
		}
		var m map[string]any
		if err := utiljson.Unmarshal(out, &m); err != nil {
			return false, fmt.Errorf("%s: the decrypted object is not a JSON object", name)
		}
		obj.Object = m
		return true, nil
	}
	if obj.GetKind() != "Secret" {
		return false, nil
	}
	return d.decryptData(ctx, name, obj)
}

// decryptData decrypts the data values of a Secret that are SOPS documents.
func (d *Decryptor) decryptData(ctx context.Context, name string, obj *unstructured.Unstructured) (decrypted bool, err error) {
	data, found, _ := unstructured.NestedMap(obj.Object, "data") // a copy: obj is unchanged on error
	if !found {
		return false, nil
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		s, ok := data[key].(string)
		if !ok {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			continue // not base64: the apply reports it, as in Flux
		}
		in, ok := DetectFormat(raw)
		if !ok {
			continue
		}
		out, err := d.decrypt(ctx, fmt.Sprintf("%s, data key '%s'", name, key), raw, in, FormatForPath(key), true)
		if err != nil {
			return false, err
		}
		data[key], decrypted = base64.StdEncoding.EncodeToString(out), true
	}
	if decrypted {
		if err := unstructured.SetNestedMap(obj.Object, data, "data"); err != nil {
			return false, fmt.Errorf("%s: %w", name, err)
		}
	}
	return decrypted, nil
}

// DecryptFile decrypts a file of format f read before the build, such as a secretGenerator's
// files and envs (see FormatForPath and FormatForEnvFile) and patches, as Flux does. name names
// the file in errors. A file that is not a SOPS document of f (IsEncrypted) is returned as it
// is. Its MAC is checked. The result is for the build's in-memory file system: never write it to
// disk.
func (d *Decryptor) DecryptFile(ctx context.Context, name string, data []byte, f Format) ([]byte, error) {
	if len(data) > d.maxSize {
		return nil, fmt.Errorf("file %s: %d bytes is more than the %d a SOPS document may have", name, len(data), d.maxSize)
	}
	if !IsEncrypted(data, f) {
		return data, nil
	}
	return d.decrypt(ctx, "file "+name, data, f, f, true)
}

// decrypt reads data as a SOPS document of format in, gets its data key from the key services,
// decrypts its values, checks its MAC if checkMAC, and writes it in format out.
func (d *Decryptor) decrypt(ctx context.Context, name string, data []byte, in, out Format, checkMAC bool) (_ []byte, err error) {
	defer func() {
		// SOPS panics on some malformed documents (Flux recovers too). The panic's value is not
		// shown: it might hold a value of the document.
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: SOPS failed on this %s document", name, in)
		}
	}()
	tree, err := store(in).LoadEncryptedFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s is not a readable SOPS %s document: %w", name, in, redact(err))
	}
	s := &session{ctx: ctx, d: d}
	dataKey, err := tree.Metadata.GetDataKeyWithKeyServices([]keyservice.KeyServiceClient{s}, sops.DefaultDecryptionOrder)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%s: %w", name, ctx.Err())
		case len(s.attempts) == 0 && tree.Metadata.MasterKeyCount() > 0:
			// Every key gave its part, and SOPS could not put them together (Shamir).
			return nil, fmt.Errorf("%s: %w", name, redact(err))
		}
		return nil, &NoKeyError{Document: name, Attempts: s.attempts, Groups: len(tree.Metadata.KeyGroups), Threshold: tree.Metadata.ShamirThreshold}
	}
	cipher := aes.NewCipher()
	mac, err := tree.Decrypt(dataKey, cipher)
	if err != nil {
		return nil, fmt.Errorf("%s: a value does not decrypt with the document's data key (%v): %w", name, redact(err), ErrModified)
	}
	if checkMAC {
		if err := checkTreeMAC(tree, dataKey, mac, cipher); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	plain, err := store(out).EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, fmt.Errorf("%s: the decrypted %s document cannot be written as %s: %w", name, in, out, redact(err))
	}
	return plain, nil
}

// checkTreeMAC compares the MAC stored in the document (encrypted with the data key, with its
// lastmodified date as additional data) with the one computed over its values.
func checkTreeMAC(tree sops.Tree, dataKey []byte, computed string, cipher sops.Cipher) error {
	stored, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, dataKey, tree.Metadata.LastModified.Format(time.RFC3339))
	s, isString := stored.(string)
	switch {
	case err != nil || !isString:
		return fmt.Errorf("MAC mismatch: the MAC does not decrypt with the document's data key (was sops.lastmodified or sops.mac edited?): %w", ErrModified)
	case s == "":
		return fmt.Errorf("MAC mismatch: the document has no MAC: %w", ErrModified)
	case subtle.ConstantTimeCompare([]byte(s), []byte(computed)) != 1:
		return fmt.Errorf("MAC mismatch: %w", ErrModified)
	}
	return nil
}

func (d *Decryptor) cached(key string) ([]byte, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, ok := d.dataKeys[key]
	return slices.Clone(k), ok
}

func (d *Decryptor) remember(key string, dataKey []byte) {
	if key == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dataKeys[key] = slices.Clone(dataKey)
}

// vault returns the Key Vault client, getting the Azure credential on first use.
func (d *Decryptor) vault(ctx context.Context) (*keyvault.Client, error) {
	d.vaultMu.Lock()
	defer d.vaultMu.Unlock()
	if d.vaultClient != nil {
		return d.vaultClient, nil
	}
	if d.azure == nil {
		return nil, fmt.Errorf("%w: this Decryptor was given no Azure credential", ErrNoKey)
	}
	cred, err := d.azure(ctx)
	if err != nil {
		return nil, err
	}
	if cred == nil {
		return nil, errors.New("the Azure credential for Key Vault is missing")
	}
	var transport policy.Transporter // nil: keyvault's default
	if d.rt != nil {
		transport = &http.Client{Transport: d.rt}
	}
	d.vaultClient = keyvault.NewClient(cred, transport, nil)
	return d.vaultClient, nil
}

// describeObject names an object for messages: kind namespace/name.
func describeObject(obj *unstructured.Unstructured) string {
	name := obj.GetName()
	if ns := obj.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return strings.TrimSpace(obj.GetKind() + " " + name)
}
