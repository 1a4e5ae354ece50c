package decrypt

import (
	"errors"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, msg := range []string{
		"Error walking tree: Could not decrypt value: Input string pa55word\nsecond does not match sops' data format",
		"Could not convert map[pa55word:1] to bytes: unknown type",
		"invalid dotenv input line: pa55word",
		"Error encoding value pa55word: json: unsupported",
		`SOPS only supports JSON files with a top-level object (starting with '{'), not other JSON types. Got "pa55word" of type string instead`,
		"Expected JSON object key, got pa55word of type float64 instead",
	} {
		got := redact(errors.New(msg)).Error()
		if strings.Contains(got, "pa55word") || !strings.Contains(got, "<redacted>") {
			t.Errorf("redact(%q) = %q", msg, got)
		}
	}
	if got := redact(errors.New("yaml: line 3: mapping values are not allowed")).Error(); got != "yaml: line 3: mapping values are not allowed" {
		t.Errorf("redact changed a message without a value: %q", got)
	}
}
