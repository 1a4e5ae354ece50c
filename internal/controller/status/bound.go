package status

import (
	"fmt"
	"unicode/utf8"
)

// The API server's limits on what a reconcile writes.
const (
	// MaxEventNote is the longest note an event may carry (events.k8s.io/v1 rejects longer).
	MaxEventNote = 1024
	// MaxConditionMessage is metav1.Condition's maxLength for message: a longer one makes the
	// whole status patch fail.
	MaxConditionMessage = 32768
	// maxQuoted bounds a value a message quotes, such as a spec field the user wrote.
	maxQuoted = 256
)

// Shorten cuts s to at most max bytes at a rune boundary, marking the cut with "…".
func Shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "…"
	n := max - len(mark)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + mark
}

// Quote quotes a value for a message, as %q does, cut to a length a message can carry: a
// 40 KB spec.url must not make the message (and so the status) too long to write.
func Quote(value string) string {
	if len(value) > maxQuoted {
		return fmt.Sprintf("%q (%d bytes)", Shorten(value, maxQuoted), len(value))
	}
	return fmt.Sprintf("%q", value)
}
