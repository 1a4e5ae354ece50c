package tags

import (
	"fmt"

	"github.com/Masterminds/semver/v3"
)

// Semver picks the highest semantic version within a range (ImagePolicy's
// policy.semver.range, OCIRepository's ref.semver).
type Semver struct {
	rng string
	c   constraint
}

// NewSemver compiles a range in Masterminds/semver syntax, such as
// ">=1.0.0", "^2.3", "~1.2.x" or ">=1.0.0-0 <2.0.0" (a range that names a
// prerelease also admits prereleases).
func NewSemver(rng string) (*Semver, error) {
	if _, err := semver.NewConstraint(rng); err != nil {
		return nil, fmt.Errorf("semver range %q is not valid: %w", rng, err)
	}
	c, err := compileConstraint(rng)
	if err != nil {
		return nil, fmt.Errorf("semver range %q is not valid: %w", rng, err)
	}
	return &Semver{rng: rng, c: c}, nil
}

// Range returns the range as given.
func (p *Semver) Range() string { return p.rng }

// Latest returns the tag whose value is the highest version within the
// range. Values that are not versions are skipped.
func (p *Semver) Latest(tags []string, f *Filter) (string, error) {
	if len(tags) == 0 {
		return "", ErrNoTags
	}
	var best candidate
	var bestV version
	found := false
	for _, tag := range tags {
		value, ok := f.Match(tag)
		if !ok {
			continue
		}
		v, ok := parseVersion(value)
		if !ok {
			continue
		}
		if found {
			// Compare first: most tags lose here, before the range check.
			d := v.compare(bestV)
			if d < 0 || d == 0 && !best.breaksTie(tag, value, true) {
				continue
			}
		}
		if !p.c.check(v) {
			continue
		}
		best, bestV, found = candidate{tag, value}, v, true
	}
	if !found {
		return "", noMatch(len(tags), f, fmt.Sprintf("is a version within range %q", p.rng))
	}
	return best.tag, nil
}
