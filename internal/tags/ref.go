package tags

import (
	"fmt"
	"regexp"
	"strings"
)

// DefaultTag is pulled when spec.ref sets nothing.
const DefaultTag = "latest"

// RefSpec mirrors OCIRepository's spec.ref.
type RefSpec struct {
	Tag          string
	SemVer       string
	SemverFilter string
	Digest       string
}

// Ref is what to pull: a digest, or else a tag.
type Ref struct {
	Tag    string
	Digest string
}

// String returns "@DIGEST" or ":TAG", the suffix that completes a repository
// reference.
func (r Ref) String() string {
	if r.Digest != "" {
		return "@" + r.Digest
	}
	return ":" + r.Tag
}

// RefSelector chooses what an OCIRepository pulls. Precedence, as Flux
// documents it: digest, then semver (among tags that match semverFilter),
// then tag, then DefaultTag. Fields that lose are ignored, not validated.
type RefSelector struct {
	ref    Ref     // fixed outcome, when semver is nil
	semver *Semver // nil unless the outcome depends on the tag list
	filter *Filter
}

// NewRefSelector validates the fields of spec that decide the outcome.
func NewRefSelector(spec RefSpec) (*RefSelector, error) {
	switch {
	case spec.Digest != "":
		if err := validateDigest(spec.Digest); err != nil {
			return nil, err
		}
		return &RefSelector{ref: Ref{Digest: spec.Digest}}, nil
	case spec.SemVer != "":
		p, err := NewSemver(spec.SemVer)
		if err != nil {
			return nil, fmt.Errorf("spec.ref.semver: %w", err)
		}
		var f *Filter
		if spec.SemverFilter != "" {
			if _, err := regexp.Compile(spec.SemverFilter); err != nil {
				return nil, fmt.Errorf("spec.ref.semverFilter %q is not a valid regular expression: %w", spec.SemverFilter, err)
			}
			f, _ = NewFilter(spec.SemverFilter, "") // cannot fail: the pattern compiles and there is no extract
		}
		return &RefSelector{semver: p, filter: f}, nil
	case spec.Tag != "":
		if err := validateTag(spec.Tag); err != nil {
			return nil, err
		}
		return &RefSelector{ref: Ref{Tag: spec.Tag}}, nil
	}
	return &RefSelector{ref: Ref{Tag: DefaultTag}}, nil
}

// NeedsTags reports whether Select needs the repository's tag list, so that
// the caller lists tags only when the outcome depends on them.
func (s *RefSelector) NeedsTags() bool {
	return s.semver != nil
}

// Select returns what to pull. tags is used only when NeedsTags is true.
func (s *RefSelector) Select(tags []string) (Ref, error) {
	if s.semver == nil {
		return s.ref, nil
	}
	tag, err := s.semver.Latest(tags, s.filter)
	if err != nil {
		return Ref{}, fmt.Errorf("spec.ref.semver %q: %w", s.semver.Range(), err)
	}
	return Ref{Tag: tag}, nil
}

// validateTag applies the OCI distribution grammar for tags, so that a
// typo fails here with the field named rather than as a registry error.
func validateTag(tag string) error {
	ok := len(tag) <= 128 && isWordChar(tag[0])
	for i := 1; ok && i < len(tag); i++ {
		ok = isWordChar(tag[i]) || tag[i] == '.' || tag[i] == '-'
	}
	if !ok {
		return fmt.Errorf("spec.ref.tag %q is not a valid tag: use up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", tag)
	}
	return nil
}

func isWordChar(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

// digestLengths holds the hex length of each digest algorithm registries use.
var digestLengths = map[string]int{"sha256": 64, "sha512": 128}

// validateDigest accepts ALGORITHM:HEX for sha256 and sha512 with lower-case hex.
func validateDigest(d string) error {
	alg, hex, _ := strings.Cut(d, ":")
	n, known := digestLengths[alg]
	if !known {
		return fmt.Errorf("spec.ref.digest %q is not valid: write it as sha256:<64 hex digits>", d)
	}
	ok := len(hex) == n
	for i := 0; ok && i < len(hex); i++ {
		ok = '0' <= hex[i] && hex[i] <= '9' || 'a' <= hex[i] && hex[i] <= 'f'
	}
	if !ok {
		return fmt.Errorf("spec.ref.digest %q is not valid: %s needs %d lower-case hex digits after %q", d, alg, n, alg+":")
	}
	return nil
}
