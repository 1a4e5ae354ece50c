// Package clip cuts text to fit where it is written: a Kubernetes event's note, a condition's
// message, a user's value quoted in an error. A cut never splits a UTF-8 character, so what is
// written stays valid text however long or foreign the input.
package clip

import "unicode/utf8"

// The API server's limits on what a controller writes.
const (
	// EventNote is the longest note an event may carry: events.k8s.io/v1 refuses a longer one.
	EventNote = 1024
	// ConditionMessage is metav1.Condition's maxLength for a message: a longer one fails the
	// whole status patch.
	ConditionMessage = 32768
)

// Mark ends a string that was cut.
const Mark = "…"

// String returns s when it is at most limit bytes long, and otherwise its longest prefix of whole
// characters that fits in limit bytes together with Mark.
func String(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := max(limit-len(Mark), 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + Mark
}
