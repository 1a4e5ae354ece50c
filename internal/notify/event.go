package notify

import (
	"crypto/sha256"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// Event is a report of an event, in the JSON of Flux's event API
// (github.com/fluxcd/pkg/apis/event/v1beta1), which controllers post to notification-controller
// and generic webhooks receive.
type Event struct {
	InvolvedObject      corev1.ObjectReference `json:"involvedObject"`
	Severity            string                 `json:"severity"`
	Timestamp           metav1.Time            `json:"timestamp"`
	Message             string                 `json:"message"`
	Reason              string                 `json:"reason"`
	Metadata            map[string]string      `json:"metadata,omitempty"`
	ReportingController string                 `json:"reportingController"`
	ReportingInstance   string                 `json:"reportingInstance,omitempty"`

	// labels are the involved object's labels when the event comes from this process, which has
	// the object at hand; nil for events posted over HTTP, whose labels are read when an Alert
	// selects by label.
	labels map[string]string
}

// Severities of events, as Flux names them.
const (
	SeverityInfo  = "info"
	SeverityError = "error"
	SeverityTrace = "trace"
)

// EventGroup is the API group of Flux's event API; metadata keys under it (from the involved
// object's event.toolkit.fluxcd.io/ annotations) reach the providers.
const EventGroup = "event.toolkit.fluxcd.io"

// Metadata keys Flux's controllers set, under the involved object's API group.
const (
	MetaRevision       = "revision"
	MetaOriginRevision = "originRevision"
	MetaCommit         = "commit"
	MetaToken          = "token"
	MetaChecksum       = "checksum"
	MetaDigest         = "digest"
	MetaSummary        = "summary"
	MetaCommitStatus   = "commit_status"
)

// MaxMessage is the longest message Flux's event API accepts.
const MaxMessage = 39000

func (e *Event) objectGroup() string {
	return e.InvolvedObject.GroupVersionKind().Group
}

// clean keeps the metadata that alerting uses, as notification-controller's cleanupMetadata:
// the keys under the event API group and under the involved object's group, without the
// artifact's checksum and digest.
func clean(e *Event) {
	eventPrefix, objectPrefix := EventGroup+"/", e.objectGroup()+"/"
	meta := map[string]string{}
	for k, v := range e.Metadata {
		if strings.EqualFold(k, objectPrefix+MetaChecksum) || strings.EqualFold(k, objectPrefix+MetaDigest) {
			continue
		}
		if strings.HasPrefix(k, eventPrefix) || strings.HasPrefix(k, objectPrefix) {
			meta[k] = v
		}
	}
	e.Metadata = meta
}

// key identifies an event for deduplication, as notification-controller's EventKey: the
// object, the message, and the revisions and token the emitter set.
func key(e *Event) string {
	group := e.objectGroup()
	parts := []string{"event", "name=" + e.InvolvedObject.Name, "namespace=" + e.InvolvedObject.Namespace, "kind=" + e.InvolvedObject.Kind, "message=" + e.Message}
	for _, k := range []string{MetaOriginRevision, MetaRevision, MetaToken} {
		if v, ok := e.Metadata[group+"/"+k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return fmt.Sprintf("%x", sha256.Sum256([]byte(strings.Join(parts, "/"))))
}

// combine returns the event an Alert delivers: its metadata merged as Flux's RFC 0008 orders it,
// lowest precedence first: the event group's keys, the Alert's spec.eventMetadata, its
// spec.summary, the involved object's group's keys; prefixes removed. The object group's token
// is internal to deduplication and left out. conflicts lists the keys set by more than one source.
func combine(e *Event, eventMetadata map[string]string, summary string) (out Event, conflicts []string) {
	out = *e
	meta := map[string]string{}
	sources := map[string]int{}
	set := func(k, v string) { meta[k] = v; sources[k]++ }
	eventPrefix, objectPrefix := EventGroup+"/", e.objectGroup()+"/"
	for k, v := range e.Metadata {
		if rest, ok := strings.CutPrefix(k, eventPrefix); ok {
			set(rest, v)
		}
	}
	for k, v := range eventMetadata {
		set(k, v)
	}
	if summary != "" {
		set(MetaSummary, summary)
	}
	for k, v := range e.Metadata {
		if rest, ok := strings.CutPrefix(k, objectPrefix); ok && rest != MetaToken && objectPrefix != eventPrefix {
			set(rest, v)
		}
	}
	for k, n := range sources {
		if n > 1 {
			conflicts = append(conflicts, k)
		}
	}
	out.Metadata = meta
	if len(meta) == 0 {
		out.Metadata = nil
	}
	return out, conflicts
}

// isCommitStatusUpdate: the emitter says the event is meant for commit statuses only.
func isCommitStatusUpdate(e *Event) bool {
	return e.Metadata[e.objectGroup()+"/"+MetaCommitStatus] == "update"
}

// revision returns the revision a commit status is set on: metadata commit, originRevision,
// then revision, as Flux's Event.GetRevision reads them (after combine).
func revision(e *Event) (string, bool) {
	for _, k := range []string{MetaCommit, MetaOriginRevision, MetaRevision} {
		if v, ok := e.Metadata[k]; ok {
			return v, true
		}
	}
	return "", false
}

// commitSHA extracts the commit of a revision in each form Flux writes one: main@sha1:SHA,
// sha1:SHA, a bare SHA, or the legacy main/SHA.
func commitSHA(rev string) (string, error) {
	if i := strings.LastIndex(rev, "@"); i >= 0 {
		rev = rev[i+1:]
	}
	if _, sha, ok := strings.Cut(rev, ":"); ok {
		if isHex(sha) {
			return sha, nil
		}
		return "", fmt.Errorf("failed to extract commit hash from '%s' revision", clip.String(rev, 200))
	}
	if isHex(rev) && len(rev) >= 40 {
		return rev, nil
	}
	parts := strings.Split(rev, "/")
	if len(parts) < 2 || !isHex(parts[len(parts)-1]) {
		return "", fmt.Errorf("failed to extract commit hash from '%s' revision", clip.String(rev, 200))
	}
	return parts[len(parts)-1], nil
}

func isHex(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// splitCamelCase splits a reason such as HealthCheckFailed into its words, keeping runs of
// capitals (an acronym) together.
func splitCamelCase(s string) []string {
	var words []string
	runes := []rune(s)
	start := 0
	class := func(r rune) int {
		switch {
		case 'a' <= r && r <= 'z':
			return 1
		case 'A' <= r && r <= 'Z':
			return 2
		case '0' <= r && r <= '9':
			return 3
		}
		return 4
	}
	for i := 1; i < len(runes); i++ {
		prev, cur := class(runes[i-1]), class(runes[i])
		switch {
		case prev == cur && !(cur == 2 && i+1 < len(runes) && class(runes[i+1]) == 1):
			continue
		case prev == 2 && cur == 1:
			continue
		}
		words = append(words, string(runes[start:i]))
		start = i
	}
	if start < len(runes) {
		words = append(words, string(runes[start:]))
	}
	return words
}
