// Package tags decides which tag wins: the pure, Kubernetes-free logic that
// ImagePolicy (spec.policy, spec.filterTags) and OCIRepository (spec.ref)
// share. In DESIGN.md's flow it sits inside the reconcilers, between "scan"
// (a tag list from internal/azure/acr) and status (latestRef, the pulled
// reference); it does no I/O.
//
// The choice matches Flux's image-reflector-controller and
// source-controller:
//
//   - A Filter keeps the tags that match filterTags.pattern (a Go regular
//     expression, unanchored) and maps each to the value a policy compares:
//     the whole tag, or the expansion of filterTags.extract ($name, ${name},
//     $1) over the match.
//   - Semver keeps values that are strict semantic versions with an optional
//     leading "v" and that satisfy a Masterminds/semver range (prereleases
//     only when the range names one), and picks the highest.
//   - Alphabetical picks the greatest value in byte order (asc) or the least
//     (desc); Numerical parses every value as a float64 and picks the highest
//     (asc) or lowest (desc), failing on a value that is not a number.
//   - RefSelector applies OCIRepository's precedence: digest, then semver
//     (after semverFilter), then tag, then "latest".
//
// Unlike Flux, the outcome never depends on the order of the input. Where
// Flux's answer depends on order (ties; its filtered path iterates a map),
// the rules below reproduce what Flux returns for a lexically sorted listing,
// which is what registries send:
//
//   - tags whose compared values are equal: the lexically greatest tag wins;
//   - different values of equal rank: for Semver (v1.0.0 and 1.0.0, or build
//     metadata) the lexically least value wins; for Numerical (1 and 1.0) the
//     greatest.
//
// Performance: one pass over the tags, no sorting, no copy of the list, and
// no allocation per tag in the common cases. Versions and integers are parsed
// in place; ranges are compiled once (Masterminds' Check formats an error for
// every rejected version); a pattern made of literals, captures and greedy
// character-class repeats is matched without backtracking and yields its
// group as a substring of the tag (linear.go). Other patterns go to Go's
// regexp, which allocates the match indices of each matching tag when a
// group is extracted; an extract template combining several groups costs one
// more allocation for the string it builds.
package tags
