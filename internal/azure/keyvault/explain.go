package keyvault

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// Permission is a key permission of a vault's access policy, and the data action of the same
// name that a role grants (Microsoft.KeyVault/vaults/keys/PERMISSION/action).
type Permission string

// The key permissions SOPS needs.
const (
	// PermissionDecrypt decrypts a data key: what Azimuth needs to apply a SOPS document.
	PermissionDecrypt Permission = "decrypt"
	// PermissionEncrypt encrypts a data key: what `sops encrypt` needs.
	PermissionEncrypt Permission = "encrypt"
)

// The built-in role that grants encrypt and decrypt with a vault's keys.
const (
	RoleCryptoUser   = "Key Vault Crypto User"
	RoleCryptoUserID = "12338af0-0e69-4776-bea7-57ae8d297424"
)

// AccessPolicyError is a vault that uses access policies (not Azure RBAC) refusing an identity
// that lacks a key permission in them. It never holds a token.
type AccessPolicyError struct {
	// Identity names who was refused, as the credential prints itself.
	Identity string
	// ObjectID is the identity's object ID in the vault's tenant, read from the vault's answer;
	// empty when the answer did not say.
	ObjectID string
	// ClientID is the identity's client ID, empty when unknown.
	ClientID   string
	Vault      string
	Key        Key
	Permission Permission
	err        error
}

func (e *AccessPolicyError) Error() string {
	who := "--object-id <object ID>"
	switch {
	case e.ObjectID != "":
		who = "--object-id " + e.ObjectID
	case e.ClientID != "":
		who = "--spn " + e.ClientID
	}
	return fmt.Sprintf("%s was refused by Key Vault %s (%s with key %s): the vault uses access policies, and none gives it the key permission %q. "+
		"Grant it with: az keyvault set-policy --name %s %s --key-permissions %s (or move the vault to Azure RBAC and assign the role %q)",
		e.Identity, e.Vault, e.Permission, e.Key.Name, e.Permission, e.Vault, who, e.Permission, RoleCryptoUser)
}

// Unwrap returns the vault's answer, an *azcore.ResponseError.
func (e *AccessPolicyError) Unwrap() error { return e.err }

// refusal is any other answer of Key Vault, told in a line with what to do.
type refusal struct {
	msg string
	err *azcore.ResponseError
}

func (e *refusal) Error() string { return e.msg }
func (e *refusal) Unwrap() error { return e.err }

// answer is Key Vault's JSON error body: {"error":{"code":..,"message":..,"innererror":{"code":..}}}.
type answer struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError *struct {
			Code string `json:"code"`
		} `json:"innererror"`
	} `json:"error"`
}

var (
	// callerObjectID is the oid Key Vault names in a refusal ("Caller: appid=..;oid=..;iss=..",
	// or "The user, group or application 'appid=..;oid=..;iss=..' does not have ..").
	callerObjectID = regexp.MustCompile(`\boid=([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\b`)
	// vaultResource is the vault's resource ID in an RBAC refusal ("Resource: '/subscriptions/..
	// /providers/microsoft.keyvault/vaults/NAME/keys/KEY'"), kept to characters a shell leaves
	// alone since it goes into a command.
	vaultResource = regexp.MustCompile(`(?i)Resource: '(/subscriptions/[A-Za-z0-9-]+/resourcegroups/[A-Za-z0-9._()-]+/providers/microsoft\.keyvault/vaults/[A-Za-z0-9-]+)[/']`)
)

// Explain turns Key Vault's refusal of op with key into what to change. cred is the credential
// the request went out as: an *entra.Credential names its identity and client ID; other
// credentials leave the names Key Vault gave, or placeholders. The refusals it knows:
//
//   - 403 ForbiddenByRbac: an *entra.RoleError for the role Key Vault Crypto User on the vault,
//     with the vault's resource ID when Key Vault's answer names it, else the az command that
//     prints it;
//   - 403 AccessDenied (a vault with access policies): an *AccessPolicyError;
//   - 403 ForbiddenByFirewall, 404 KeyNotFound, 401 (the token's tenant or audience), and any
//     other answer: an error that says what Key Vault answered and what to check, wrapping the
//     *azcore.ResponseError.
//
// Errors that are not Key Vault answers, and nil, are returned unchanged.
func Explain(err error, cred azcore.TokenCredential, key Key, op Permission) error {
	var re *azcore.ResponseError
	if err == nil || !errors.As(err, &re) {
		return err
	}
	a := readAnswer(re)
	code, inner := a.Error.Code, ""
	if a.Error.InnerError != nil {
		inner = a.Error.InnerError.Code
	}
	vault := key.Vault()
	identity, clientID := "", ""
	if d, ok := cred.(described); ok {
		identity, clientID = d.String(), d.ClientID()
	}
	oid := ""
	if m := callerObjectID.FindStringSubmatch(a.Error.Message); m != nil {
		oid = m[1]
	}
	if identity == "" {
		identity = "the identity"
		if oid != "" {
			identity += " with object ID " + oid
		}
	}
	said := strings.TrimSpace(fmt.Sprintf("%d %s", re.StatusCode, firstOf(code, re.ErrorCode)))
	if words := oneLine(a.Error.Message); words != "" {
		said += ": " + words
	}
	switch {
	case re.StatusCode == http.StatusForbidden && (inner == "ForbiddenByRbac" || code == "ForbiddenByRbac"):
		return roleError(identity, firstOf(clientID, oid, "<principal ID>"), vault, key, op, a.Error.Message)
	case re.StatusCode == http.StatusForbidden && inner == "AccessDenied":
		return &AccessPolicyError{Identity: identity, ObjectID: oid, ClientID: clientID, Vault: vault, Key: key, Permission: op, err: re}
	case re.StatusCode == http.StatusForbidden && inner == "ForbiddenByFirewall":
		return &refusal{err: re, msg: fmt.Sprintf("Key Vault %s refused %s by its firewall (%s). Allow this cluster's outbound address or network: "+
			"az keyvault network-rule add --name %s --ip-address <address>, or reach the vault through a private endpoint", vault, identity, said, vault)}
	case re.StatusCode == http.StatusNotFound:
		return &refusal{err: re, msg: fmt.Sprintf("key %q (version %q) was not found in vault %s (%s). Check the key named in the document's sops metadata "+
			"(azure_kv: vaultUrl, key, version), and that it was not deleted: az keyvault key list --vault-name %s --query [].kid --output tsv",
			key.Name, key.Version, key.VaultURL, said, vault)}
	case re.StatusCode == http.StatusUnauthorized:
		return &refusal{err: re, msg: fmt.Sprintf("Key Vault %s did not accept the token of %s (%s). A vault accepts tokens issued by its own tenant "+
			"for Key Vault's audience: check that the identity's tenant is the vault's (az keyvault show --name %s --query properties.tenantId --output tsv)",
			vault, identity, said, vault)}
	}
	return &refusal{err: re, msg: fmt.Sprintf("%s with key %s: Key Vault answered %s", op, key, said)}
}

func roleError(identity, assignee, vault string, key Key, op Permission, message string) *entra.RoleError {
	scope := fmt.Sprintf("$(az keyvault show --name %s --query id --output tsv)", vault)
	if m := vaultResource.FindStringSubmatch(message); m != nil {
		scope = m[1]
	}
	return &entra.RoleError{
		Identity:  identity,
		ClientID:  assignee,
		Role:      RoleCryptoUser,
		Scope:     scope,
		ScopeName: "the vault " + vault,
		Service:   fmt.Sprintf("Key Vault %s (%s with key %s)", vault, op, key.Name),
	}
}

// readAnswer parses the error body azcore kept; an unreadable body leaves the answer empty.
func readAnswer(re *azcore.ResponseError) answer {
	var a answer
	if re.RawResponse == nil {
		return a
	}
	body, err := runtime.Payload(re.RawResponse)
	if err != nil {
		return a
	}
	_ = json.Unmarshal(body, &a)
	return a
}

// oneLine is Key Vault's message on one line and of a readable length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
