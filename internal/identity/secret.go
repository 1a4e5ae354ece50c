package identity

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"sigs.k8s.io/yaml"
	"software.sslmate.com/src/go-pkcs12"
)

// SOPSKey is the key of a decryption secret that holds Azure Key Vault credentials.
const SOPSKey = "sops.azure-kv"

// SecretError is a secret that cannot be used. It names the secret and the key, never a value.
type SecretError struct {
	Namespace, Name string
	Key             string // empty when no single key is at fault
	Reason          string
}

func (e *SecretError) Error() string {
	where := fmt.Sprintf("secret '%s/%s'", e.Namespace, e.Name)
	if e.Key != "" {
		where += fmt.Sprintf(" key '%s'", e.Key)
	}
	return fmt.Sprintf("invalid %s: %s", where, e.Reason)
}

const bucketRequirement = "requires a 'clientId' or 'accountKey' field, a combination of 'tenantId', 'clientId' and 'clientSecret', or 'tenantId', 'clientId' and 'clientCertificate'"

// ErrStaticCredential is a Bucket secret that holds a storage account key or SAS rather than an
// Entra identity; package access reads those.
var ErrStaticCredential = errors.New("the secret holds a storage account key or SAS, not a Microsoft Entra ID identity")

// ParseBucketSecret reads a Bucket's secretRef as Flux does (keys tenantId, clientId,
// clientSecret, clientCertificate, clientCertificatePassword, clientCertificateSendChain,
// authorityHost, accountKey, sasKey). The first complete credential wins, in Flux's order:
// client secret, certificate, managed identity by client ID, account key, SAS. A secret whose
// credential is an account key or a SAS gives ErrStaticCredential.
func ParseBucketSecret(namespace, name string, data map[string][]byte) (Identity, error) {
	fail := func(key, reason string) (Identity, error) {
		return Identity{}, &SecretError{Namespace: namespace, Name: name, Key: key, Reason: reason}
	}
	get := func(key string) string { return strings.TrimSpace(string(data[key])) }
	id := Identity{
		Level: ObjectLevel, Namespace: namespace, Source: fmt.Sprintf("secret %s/%s", namespace, name),
		TenantID: get("tenantId"), ClientID: get("clientId"), AuthorityHost: get("authorityHost"),
	}
	if err := checkAuthorityHost(id.AuthorityHost); err != nil {
		return fail("authorityHost", err.Error())
	}
	sendChain := false
	if v := get("clientCertificateSendChain"); v != "" {
		switch strings.ToLower(v) {
		case "1", "true":
			sendChain = true
		case "0", "false":
		default:
			return fail("clientCertificateSendChain", `must be "true", "false", "1" or "0"`)
		}
	}
	switch {
	case id.TenantID != "" && id.ClientID != "" && len(data["clientSecret"]) > 0:
		id.Kind, id.Secret.ClientSecret = ClientSecret, string(data["clientSecret"])
	case id.TenantID != "" && id.ClientID != "" && len(data["clientCertificate"]) > 0:
		id.Kind = ClientCertificate
		id.Secret = Secret{Certificate: data["clientCertificate"], CertificatePassword: string(data["clientCertificatePassword"]), SendCertificateChain: sendChain}
		if err := CheckCertificate(id.Secret.Certificate, id.Secret.CertificatePassword); err != nil {
			return fail("clientCertificate", err.Error())
		}
	case id.ClientID != "":
		id.Kind = ManagedIdentity
	case len(data["accountKey"]) > 0, len(data["sasKey"]) > 0:
		return Identity{}, ErrStaticCredential
	case id.AuthorityHost != "":
		return fail("", "it sets only 'authorityHost'; "+bucketRequirement)
	default:
		return fail("", bucketRequirement)
	}
	return id, nil
}

// sopsEntry is the value of a decryption secret's sops.azure-kv key: Flux's fields, plus the
// fields `az ad sp create-for-rbac` prints (appId, tenant, password).
type sopsEntry struct {
	TenantID                   string `json:"tenantId"`
	ClientID                   string `json:"clientId"`
	ClientSecret               string `json:"clientSecret"`
	ClientCertificate          string `json:"clientCertificate"`
	ClientCertificatePassword  string `json:"clientCertificatePassword"`
	ClientCertificateSendChain bool   `json:"clientCertificateSendChain"`
	AuthorityHost              string `json:"authorityHost"`
	AppID                      string `json:"appId"`
	Tenant                     string `json:"tenant"`
	Password                   string `json:"password"`
}

const sopsRequirement = "requires a 'clientId' field, a combination of 'tenantId', 'clientId' and 'clientSecret', or 'tenantId', 'clientId' and 'clientCertificate'"

// ParseSOPSSecret reads the sops.azure-kv entry of a Kustomization's decryption secret, YAML or
// JSON, in UTF-8 or UTF-16 with or without a byte-order mark. ok is false when the secret has no
// such entry (it may hold age or PGP keys instead).
func ParseSOPSSecret(namespace, name string, data map[string][]byte) (id Identity, ok bool, err error) {
	raw, ok := data[SOPSKey]
	if !ok {
		return Identity{}, false, nil
	}
	fail := func(key, reason string) (Identity, bool, error) {
		return Identity{}, true, &SecretError{Namespace: namespace, Name: name, Key: key, Reason: reason}
	}
	text, err := decodeText(raw)
	if err != nil {
		return fail(SOPSKey, err.Error())
	}
	var e sopsEntry
	if err := yaml.Unmarshal(text, &e); err != nil {
		return fail(SOPSKey, describeDecodeError(err))
	}
	if err := checkAuthorityHost(e.AuthorityHost); err != nil {
		return fail(SOPSKey, "field 'authorityHost' "+err.Error())
	}
	id = Identity{Level: ObjectLevel, Namespace: namespace, Source: fmt.Sprintf("secret %s/%s", namespace, name), AuthorityHost: e.AuthorityHost}
	switch {
	case e.TenantID != "" && e.ClientID != "" && e.ClientSecret != "":
		id.Kind, id.TenantID, id.ClientID, id.Secret.ClientSecret = ClientSecret, e.TenantID, e.ClientID, e.ClientSecret
	case e.TenantID != "" && e.ClientID != "" && e.ClientCertificate != "":
		id.Kind, id.TenantID, id.ClientID = ClientCertificate, e.TenantID, e.ClientID
		id.Secret = Secret{Certificate: []byte(e.ClientCertificate), CertificatePassword: e.ClientCertificatePassword, SendCertificateChain: e.ClientCertificateSendChain}
		if err := CheckCertificate(id.Secret.Certificate, id.Secret.CertificatePassword); err != nil {
			return fail(SOPSKey, "field 'clientCertificate' "+err.Error())
		}
	case e.Tenant != "" && e.AppID != "" && e.Password != "":
		id.Kind, id.TenantID, id.ClientID, id.Secret.ClientSecret = ClientSecret, e.Tenant, e.AppID, e.Password
	case e.ClientID != "":
		id.Kind, id.ClientID = ManagedIdentity, e.ClientID
	default:
		return fail(SOPSKey, sopsRequirement)
	}
	return id, true, nil
}

// CheckCertificate reports whether data holds a certificate and its private key, as PEM or as
// PKCS#12 protected by password. The error never quotes data.
func CheckCertificate(data []byte, password string) error {
	_, _, err := ParseCertificate(data, password)
	return err
}

// ParseCertificate reads an application's certificate chain and private key from PEM, or from
// PKCS#12 in either the legacy (RC2, 3DES) or the modern (AES, as OpenSSL 3 and Key Vault write
// it) encryption; azidentity alone reads only the legacy one.
func ParseCertificate(data []byte, password string) ([]*x509.Certificate, crypto.PrivateKey, error) {
	bad := errors.New("must hold a certificate and its private key, as PEM or as PKCS#12 (with 'clientCertificatePassword' if it is encrypted)")
	if bytes.Contains(data, []byte("-----BEGIN")) {
		var pw []byte
		if password != "" {
			pw = []byte(password)
		}
		certs, key, err := azidentity.ParseCertificates(data, pw)
		if err != nil || len(certs) == 0 || key == nil {
			return nil, nil, bad
		}
		return certs, key, nil
	}
	key, leaf, chain, err := pkcs12.DecodeChain(data, password)
	if err != nil || leaf == nil || key == nil {
		return nil, nil, bad
	}
	return append([]*x509.Certificate{leaf}, chain...), key, nil
}

func checkAuthorityHost(host string) error {
	if host == "" {
		return nil
	}
	if !strings.HasPrefix(host, "https://") || strings.ContainsAny(host, " ?#") {
		return errors.New("must be an https URL such as https://login.microsoftonline.us/")
	}
	return nil
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// decodeText returns UTF-8 text without a byte-order mark. Windows tools write UTF-16 files with
// a BOM; Flux accepts them, so Azimuth does too.
func decodeText(b []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(b, bomUTF8):
		return b[len(bomUTF8):], nil
	case bytes.HasPrefix(b, bomUTF16LE):
		return utf16ToUTF8(b[2:], false)
	case bytes.HasPrefix(b, bomUTF16BE):
		return utf16ToUTF8(b[2:], true)
	}
	return b, nil
}

func utf16ToUTF8(b []byte, bigEndian bool) ([]byte, error) {
	if len(b)%2 != 0 {
		return nil, errors.New("is UTF-16 with an odd number of bytes")
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		if bigEndian {
			units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			units[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return []byte(string(utf16.Decode(units))), nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// describeDecodeError turns a YAML or JSON error into a message that says what is wrong and where,
// without echoing the document, which holds secrets.
func describeDecodeError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("field '%s' must be a %s", typeErr.Field, typeErr.Type)
	}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return "is not valid YAML or JSON (see line " + m[1] + ")"
	}
	return "is not valid YAML or JSON"
}
