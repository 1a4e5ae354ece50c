package blob

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// The built-in role that reads a container's blobs.
const (
	RoleDataReader   = "Storage Blob Data Reader"
	RoleDataReaderID = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
)

// Refusal is the service's answer, told in a line with what to change. It never holds a token,
// a key or a SAS signature.
type Refusal struct {
	// Code is the service's error code, such as ContainerNotFound.
	Code string
	// Status is the HTTP status.
	Status int
	msg    string
	err    *azcore.ResponseError
}

func (e *Refusal) Error() string { return e.msg }

// Unwrap returns the service's answer, an *azcore.ResponseError.
func (e *Refusal) Unwrap() error { return e.err }

// answer is the service's XML error body.
type answer struct {
	Code                      string `xml:"Code"`
	Message                   string `xml:"Message"`
	AuthenticationErrorDetail string `xml:"AuthenticationErrorDetail"`
}

// Explain turns the service's refusal of a request for container of storage account into what
// to change. cred is the Microsoft Entra credential the request went out as (an *entra.Credential
// names its identity and client ID), nil for a shared key, a SAS or anonymous access. The
// refusals it knows:
//
//   - 403 AuthorizationPermissionMismatch: an *entra.RoleError for the role Storage Blob Data
//     Reader on the storage account, with the command that grants it;
//   - 404 ContainerNotFound: a *Refusal naming the container and the account;
//   - 403 AuthenticationFailed, KeyBasedAuthenticationNotPermitted, AuthorizationFailure, 401,
//     and any other answer: a *Refusal that says what the service answered and what to check.
//
// Errors that are not the service's answers are returned with any SAS signature in their text
// redacted; nil stays nil.
func Explain(err error, cred azcore.TokenCredential, account, container string) error {
	return explain(err, Auth{Token: cred}, account, container, time.Now)
}

func explain(err error, auth Auth, account, container string, now func() time.Time) error {
	var re *azcore.ResponseError
	if err == nil {
		return nil
	}
	if !errors.As(err, &re) {
		return redact(err)
	}
	a := readAnswer(re)
	code := firstOf(re.ErrorCode, a.Code)
	who := auth.who()
	said := strings.TrimSpace(fmt.Sprintf("%d %s", re.StatusCode, code))
	if words := firstLine(a.Message); words != "" {
		said += ": " + words
	}
	where := fmt.Sprintf("container '%s' of storage account '%s'", container, account)
	refuse := func(format string, args ...any) error {
		return &Refusal{Code: code, Status: re.StatusCode, err: re, msg: fmt.Sprintf(format, args...)}
	}
	k := auth.kind()
	switch {
	case code == "ContainerNotFound":
		return refuse("container '%s' was not found in storage account '%s' (%s): fix spec.bucketName, or create it: "+
			"az storage container create --account-name %s --name %s --auth-mode login", container, account, said, account, container)
	case code == "AuthorizationPermissionMismatch" && k == token:
		return roleError(auth, account, container)
	case code == "AuthorizationPermissionMismatch" && k == sas:
		return refuse("%s does not allow listing and reading %s (%s): issue a SAS with the permissions read and list (sp=rl), such as "+
			"az storage container generate-sas --account-name %s --name %s --permissions rl --expiry <date> --auth-mode login --as-user",
			who, where, said, account, container)
	case code == "AuthenticationFailed" && k == sas && (sasExpired(a.AuthenticationErrorDetail) || sasOutOfTime(auth.SAS, now()) != ""):
		when := sasOutOfTime(auth.SAS, now())
		if when == "" {
			when = oneLine(a.AuthenticationErrorDetail)
		}
		return refuse("%s was refused by storage account '%s': the SAS has expired or is not valid yet (%s). "+
			"Issue a new one and write it to the secret's sasKey: az storage container generate-sas --account-name %s --name %s --permissions rl --expiry <date> --auth-mode login --as-user",
			who, account, when, account, container)
	case code == "AuthenticationFailed" && k == sas:
		// A container SAS for a container that does not exist is refused so too (Flux says the same).
		return refuse("%s was refused by storage account '%s' (%s): the container name may be wrong, or the SAS was issued for another "+
			"account or container, or signed with a key rotated since", who, account, said)
	case code == "AuthenticationFailed" && k == sharedKey:
		return refuse("%s was refused by storage account '%s' (%s): it must be one of the account's current keys, such as "+
			"az storage account keys list --account-name %s --query [0].value --output tsv prints", who, account, said, account)
	case code == "KeyBasedAuthenticationNotPermitted":
		return refuse("storage account '%s' does not allow shared key authorization, which %s relies on (%s): use a Microsoft Entra "+
			"identity with the role %q (spec.serviceAccountName, or clientId in spec.secretRef), or a user delegation SAS",
			account, who, said, RoleDataReader)
	case code == "AuthorizationFailure":
		return refuse("storage account '%s' refused %s (%s): its firewall does not admit this cluster's address, or the SAS limits the "+
			"addresses or protocols it may be used from. Allow the cluster's outbound address: az storage account network-rule add "+
			"--account-name %s --ip-address <address>, or reach the account through a private endpoint", account, who, said, account)
	case re.StatusCode == http.StatusUnauthorized && k == anonymous,
		re.StatusCode == http.StatusNotFound && k == anonymous && code == "ResourceNotFound":
		return refuse("%s does not allow anonymous access (%s): set spec.provider to azure with an identity, or spec.secretRef", where, said)
	case re.StatusCode == http.StatusUnauthorized || (code == "AuthenticationFailed" && k == token):
		return refuse("storage account '%s' did not accept the token of %s (%s): an account accepts tokens from its own tenant, "+
			"for Storage's audience (https://storage.azure.com/): check that the identity is in the account's tenant", account, who, said)
	}
	return refuse("%s: Azure Blob Storage answered %s", where, said)
}

func roleError(auth Auth, account, container string) *entra.RoleError {
	identity, assignee := auth.who(), "<principal ID>"
	if d, ok := auth.Token.(described); ok && d.ClientID() != "" {
		assignee = d.ClientID()
	}
	return &entra.RoleError{
		Identity:  identity,
		ClientID:  assignee,
		Role:      RoleDataReader,
		Scope:     fmt.Sprintf("$(az storage account show --name %s --query id -o tsv)", account),
		ScopeName: "the storage account " + account,
		Service:   fmt.Sprintf("Azure Blob Storage (container '%s' of storage account '%s')", container, account),
	}
}

// sasExpired reports whether the service's detail says the SAS is outside its validity.
func sasExpired(detail string) bool {
	return strings.Contains(detail, "Signed expiry time") || strings.Contains(detail, "not valid in the specified time frame")
}

// sasOutOfTime says when a SAS's validity (its st and se parameters) ended or begins, if now is
// outside it; empty when it is inside, or the SAS does not say.
func sasOutOfTime(sas string, now time.Time) string {
	q, err := url.ParseQuery(strings.TrimPrefix(sas, "?"))
	if err != nil {
		return ""
	}
	if se, ok := parseSASTime(q.Get("se")); ok && !now.Before(se) {
		return "it expired at " + se.UTC().Format(time.RFC3339)
	}
	if st, ok := parseSASTime(q.Get("st")); ok && now.Before(st) {
		return "it is valid from " + st.UTC().Format(time.RFC3339)
	}
	return ""
}

// parseSASTime reads a SAS time, in one of the ISO 8601 forms the service accepts.
func parseSASTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
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
	_ = xml.Unmarshal(body, &a)
	return a
}

// firstLine is the service's message without its RequestId and Time lines.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return oneLine(s)
}

// oneLine is s on one line, of a readable length, with any SAS signature redacted.
func oneLine(s string) string {
	s = redactString(strings.Join(strings.Fields(s), " "))
	if len(s) > 400 {
		s = s[:400] + "…"
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

// signature is a SAS's signature in a URL or a message: what makes a SAS a secret.
var signature = regexp.MustCompile(`(?i)\b(sig|signature)=[^&\s"'<>]*`)

func redactString(s string) string { return signature.ReplaceAllString(s, "${1}=REDACTED") }

// redacted is an error whose text has its SAS signature redacted, such as a transport error
// quoting the request's URL.
type redacted struct{ err error }

func (e *redacted) Error() string { return redactString(e.err.Error()) }
func (e *redacted) Unwrap() error { return e.err }

func redact(err error) error {
	if err == nil || !signature.MatchString(err.Error()) {
		return err
	}
	return &redacted{err}
}
