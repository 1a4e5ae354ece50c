package tags

import (
	"errors"
	"fmt"
	"strings"
)

// Policy picks the latest tag (ImagePolicy's spec.policy).
type Policy interface {
	// Latest returns the tag that ranks first among the tags that pass f
	// (nil: all tags), comparing the values f maps them to. It returns an
	// error wrapping ErrNoTags or ErrNoMatch when there is nothing to pick.
	Latest(tags []string, f *Filter) (string, error)
}

// Compile-time checks that the policies implement Policy.
var (
	_ Policy = (*Semver)(nil)
	_ Policy = (*Alphabetical)(nil)
	_ Policy = (*Numerical)(nil)
)

var (
	// ErrNoTags means the tag list was empty: the repository has no tags
	// yet, or its scan has not run.
	ErrNoTags = errors.New("no tags to choose from")

	// ErrNoMatch means tags exist but none passes the filter and policy.
	ErrNoMatch = errors.New("no tag matches")
)

// Order is the direction of an alphabetical or numerical policy.
type Order string

// Values of Order; the API spells them in lower case and Flux accepts any case.
const (
	// Ascending picks the greatest value (z over a, 9 over 0).
	Ascending Order = "asc"
	// Descending picks the least value.
	Descending Order = "desc"
)

// parseOrder accepts "asc" and "desc" in any case; empty means ascending.
func parseOrder(field, s string) (Order, error) {
	switch o := Order(strings.ToLower(s)); o {
	case "":
		return Ascending, nil
	case Ascending, Descending:
		return o, nil
	}
	return "", fmt.Errorf("%s %q is not valid: use %q or %q", field, s, Ascending, Descending)
}

// noMatch explains an empty result: how many tags were looked at and what
// none of them passed.
func noMatch(total int, f *Filter, want string) error {
	if f.Pattern() != "" {
		return fmt.Errorf("%w: none of the %d tags both matches the pattern %q and %s", ErrNoMatch, total, f.Pattern(), want)
	}
	return fmt.Errorf("%w: none of the %d tags %s", ErrNoMatch, total, want)
}

// candidate is the best tag so far and the value it was ranked by.
type candidate struct {
	tag, value string
}

// breaksTie decides between two tags that a policy ranks equal, so that the
// outcome does not depend on input order (see the package documentation).
// lowValue says which of two different but equal-ranking values wins.
func (c candidate) breaksTie(tag, value string, lowValue bool) bool {
	if value != c.value {
		return (value < c.value) == lowValue
	}
	return tag > c.tag
}
