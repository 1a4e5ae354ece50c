package notify

import (
	"fmt"
	"regexp"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
)

// labelsFunc returns the involved object's labels, reading them when they are not at hand.
type labelsFunc func() (map[string]string, error)

// sourceMatches reports whether the event is one src selects for an Alert of alertNamespace with
// severity, as notification-controller's eventMatchesAlertSource: same kind; same namespace (the
// Alert's when src names none, any for `*`); severity info selects every event, error only
// errors; name equal or `*`; and, with matchLabels, the object's labels.
func sourceMatches(e *Event, alertNamespace, severity string, src notificationv1.CrossNamespaceObjectReference, objLabels labelsFunc) (bool, error) {
	ns := src.Namespace
	if ns == "" {
		ns = alertNamespace
	}
	if e.InvolvedObject.Kind != src.Kind || ns != "*" && e.InvolvedObject.Namespace != ns {
		return false, nil
	}
	if severity != "" && severity != notificationv1.EventSeverityInfo && e.Severity != severity {
		return false, nil
	}
	if src.Name != "*" && src.Name != e.InvolvedObject.Name {
		return false, nil
	}
	if src.MatchLabels == nil {
		return true, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchLabels: src.MatchLabels})
	if err != nil {
		return false, fmt.Errorf("spec.eventSources: matchLabels of %s/%s/%s: %w", src.Kind, ns, src.Name, err)
	}
	l, err := objLabels()
	if err != nil {
		return false, fmt.Errorf("reading the labels of %s/%s/%s: %w", e.InvolvedObject.Kind, e.InvolvedObject.Namespace, e.InvolvedObject.Name, err)
	}
	return sel.Matches(labels.Set(l)), nil
}

// regexps compiles the expressions of inclusion and exclusion lists once.
type regexps struct {
	mu sync.Mutex
	m  map[string]*regexpResult
}

type regexpResult struct {
	re  *regexp.Regexp
	err error
}

// maxRegexps bounds the cache; past it, it starts over.
const maxRegexps = 1024

func (c *regexps) compile(expr string) (*regexp.Regexp, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.m[expr]; ok {
		return r.re, r.err
	}
	if c.m == nil || len(c.m) >= maxRegexps {
		c.m = map[string]*regexpResult{}
	}
	re, err := regexp.Compile(expr)
	c.m[expr] = &regexpResult{re, err}
	return re, err
}

// messageAllowed applies an Alert's inclusion list (when set, the message must match one
// expression) and exclusion list (it must match none). An expression that does not compile
// matches nothing and is reported through invalid, as Flux reports it.
func (c *regexps) messageAllowed(spec *notificationv1.AlertSpec, message string, invalid func(list, expr string, err error)) bool {
	if len(spec.InclusionList) > 0 {
		included := false
		for _, expr := range spec.InclusionList {
			re, err := c.compile(expr)
			if err != nil {
				invalid("inclusion", expr, err)
				continue
			}
			if re.MatchString(message) {
				included = true
				break
			}
		}
		if !included {
			return false
		}
	}
	for _, expr := range spec.ExclusionList {
		re, err := c.compile(expr)
		if err != nil {
			invalid("exclusion", expr, err)
			continue
		}
		if re.MatchString(message) {
			return false
		}
	}
	return true
}

// dedup drops an event seen within the window, as notification-controller's rate limiter (one
// event per key per --rate-limit-interval, 5 minutes by default) does.
type dedup struct {
	mu     sync.Mutex
	window int64 // nanoseconds
	seen   map[string]int64
}

// maxSeen bounds the memory of the deduplication; past it, expired keys are swept, and if all
// are recent the memory starts over (a duplicate may then pass, an event is never lost).
const maxSeen = 100000

// first reports whether the key was not seen within the window before now, and remembers it.
func (d *dedup) first(key string, now int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.seen[key]; ok && now-t < d.window {
		return false
	}
	if d.seen == nil || len(d.seen) >= maxSeen {
		for k, t := range d.seen {
			if now-t >= d.window {
				delete(d.seen, k)
			}
		}
		if d.seen == nil || len(d.seen) >= maxSeen {
			d.seen = map[string]int64{}
		}
	}
	d.seen[key] = now
	return true
}
