package decrypt

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var (
	// ErrModified is a document that fails its integrity check: its MAC does not match its
	// values, or an encrypted value does not decrypt with the document's data key.
	ErrModified = errors.New("the file was modified after encryption")
	// ErrNoKey is a master key none of the Decryptor's keys can decrypt.
	ErrNoKey = errors.New("no key for it")
	// ErrUnsupportedKey is a master key of a kind Azimuth does not decrypt with (AWS KMS, GCP KMS,
	// HashiCorp Vault transit, HuaweiCloud KMS).
	ErrUnsupportedKey = errors.New("not supported by Azimuth")
)

// Attempt is a master key that failed to decrypt a document's data key.
type Attempt struct {
	// Key names the master key: its type and public name, such as "age recipient age1...".
	Key string
	Err error
}

// NoKeyError is a document whose data key none of its master keys gave. Its attempts' errors
// are reachable with errors.As (an *entra.RoleError from Key Vault, for one).
type NoKeyError struct {
	// Document names the document, such as "Secret apps/db" or "file secrets/db.env".
	Document string
	Attempts []Attempt
	// Groups is the number of key groups, Threshold how many must give their part (Shamir); 0
	// and 1 mean one group.
	Groups, Threshold int
}

func (e *NoKeyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot decrypt %s: ", e.Document)
	if len(e.Attempts) == 0 {
		b.WriteString("its sops metadata names no master key")
		return b.String()
	}
	if e.Groups > 1 {
		fmt.Fprintf(&b, "fewer than %d of its %d key groups gave their part of the data key; ", e.Threshold, e.Groups)
	} else {
		b.WriteString("none of its master keys could decrypt the data key; ")
	}
	b.WriteString("tried ")
	for i, a := range e.Attempts {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %v", a.Key, a.Err)
	}
	return b.String()
}

// Unwrap returns the attempts' errors.
func (e *NoKeyError) Unwrap() []error {
	errs := make([]error, len(e.Attempts))
	for i, a := range e.Attempts {
		errs[i] = a.Err
	}
	return errs
}

// redactions remove the values that SOPS's messages quote: a value that is not in SOPS's format
// (possibly a plaintext one), a dotenv line, a decrypted value that cannot be written.
var redactions = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?s)Input string .*? does not match sops' data format`), "Input string <redacted> does not match sops' data format"},
	{regexp.MustCompile(`(?s)Could not convert .*? to bytes`), "Could not convert <redacted> to bytes"},
	{regexp.MustCompile(`(?s)invalid dotenv input line: .*`), "invalid dotenv input line: <redacted>"},
	{regexp.MustCompile(`(?s)Error encoding value .*`), "Error encoding value <redacted>"},
	{regexp.MustCompile(`(?s)Got .*? of type`), "Got <redacted> of type"},
	{regexp.MustCompile(`(?s)Expected JSON object key, got .*? of type`), "Expected JSON object key, got <redacted> of type"},
}

// redact is err's message without the values SOPS quotes in it.
func redact(err error) error {
	msg := err.Error()
	for _, r := range redactions {
		msg = r.re.ReplaceAllString(msg, r.with)
	}
	return errors.New(msg)
}
