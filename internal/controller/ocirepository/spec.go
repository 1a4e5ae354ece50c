package ocirepository

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/tags"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// parseRepository reads spec.url, oci://HOST/PATH.
func parseRepository(url string, insecure bool) (name.Repository, error) {
	if !strings.HasPrefix(url, sourcev1.OCIRepositoryPrefix) {
		return name.Repository{}, fmt.Errorf("spec.url %s must start with %s", status.Quote(url), sourcev1.OCIRepositoryPrefix)
	}
	repo, err := name.NewRepository(strings.TrimPrefix(url, sourcev1.OCIRepositoryPrefix), nameOptions(insecure)...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("spec.url %s is not a valid repository address: %w", status.Quote(url), err)
	}
	return repo, nil
}

func nameOptions(insecure bool) []name.Option {
	opts := []name.Option{name.StrictValidation}
	if insecure {
		opts = append(opts, name.Insecure)
	}
	return opts
}

func refSpec(ref *sourcev1.OCIRepositoryRef) tags.RefSpec {
	if ref == nil {
		return tags.RefSpec{}
	}
	return tags.RefSpec{Tag: ref.Tag, SemVer: ref.SemVer, SemverFilter: ref.SemverFilter, Digest: ref.Digest}
}

// fetchError classifies a registry failure: refusals of the object's credentials are
// authentication failures that name who was refused; anything else is a pull failure.
func (r *Reconciler) fetchError(p *plan, repo name.Repository, err error) error {
	if refusal, ok := p.access.Refusal(repo, err); ok {
		return status.Fail(sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason, refusal)
	}
	return status.Fail(sourcev1.FetchFailedCondition, sourcev1.OCIPullFailedReason, fmt.Errorf("failed to pull %s: %w", repo, transport.ExplainTLS(err)))
}

func ptrEqual(a, b *string) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func selectorEqual(a, b *sourcev1.OCILayerSelector) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
