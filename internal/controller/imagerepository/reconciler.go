// Package imagerepository reconciles ImageRepository objects: it lists the tags of an image
// repository with the object's own registry access (package oci), leaves out the tags the
// exclusion list matches, and keeps the rest for ImagePolicy objects (package tagstore).
//
// In docs/architecture.md's flow it is a kind's steps on the shared recipe, reaching the registry
// through package oci.
package imagerepository

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	"github.com/azimuth-gitops/azimuth/internal/controller/recipe"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/oci"
	"github.com/azimuth-gitops/azimuth/internal/tagstore"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// latestTagsCount is how many tags status.lastScanResult.latestTags shows, as in Flux.
const latestTagsCount = 10

// Reconciler reconciles ImageRepository objects.
type Reconciler struct {
	Client   client.Client
	Access   *oci.Factory
	Tags     *tagstore.Store
	Recorder events.EventRecorder
}

// SetupWithManager registers the reconciler on the shared recipe.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, opts recipe.Options) error {
	rec := &recipe.Recipe[*imagev1.ImageRepository]{
		Client: r.Client, Recorder: r.Recorder,
		New:       func() *imagev1.ImageRepository { return &imagev1.ImageRepository{} },
		Finalizer: imagev1.ImageFinalizer,
		Finalize: func(_ context.Context, obj *imagev1.ImageRepository) error {
			r.Tags.Delete(client.ObjectKeyFromObject(obj))
			return nil
		},
		Steps: func(ctx context.Context, obj *imagev1.ImageRepository, _ *status.Patcher) error {
			return r.scan(ctx, obj)
		},
	}
	return rec.Builder(mgr, opts).Complete(rec)
}

// scan lists the repository's tags and keeps those the exclusion list lets through.
func (r *Reconciler) scan(ctx context.Context, obj *imagev1.ImageRepository) error {
	repo, err := name.NewRepository(obj.Spec.Image, nameOptions(obj.Spec.Insecure)...)
	if err != nil {
		return status.Stall(imagev1.ImageURLInvalidReason, fmt.Errorf("spec.image %s is not a valid image repository: %w", status.Quote(obj.Spec.Image), err))
	}
	obj.Status.CanonicalImageName = repo.Name()
	exclude, err := compileExclusions(obj.GetExclusionList())
	if err != nil {
		return status.Stall(meta.FailedReason, err)
	}
	access, err := r.Access.Access(ctx, oci.ForImageRepository(obj))
	if err != nil {
		return status.Fail("", imagev1.AuthenticationFailedReason, err)
	}
	var tags []string
	err = access.Do(ctx, repo, func(session http.RoundTripper) (err error) {
		tags, err = remote.List(repo, remote.WithContext(ctx), remote.WithTransport(session))
		return err
	})
	if err != nil {
		return listError(access, repo, err)
	}
	tags = slices.DeleteFunc(tags, func(t string) bool {
		return slices.ContainsFunc(exclude, func(re *regexp.Regexp) bool { return re.MatchString(t) })
	})
	r.Tags.Set(client.ObjectKeyFromObject(obj), tags)
	obj.Status.LastScanResult = scanResult(tags)
	obj.Status.ObservedExclusionList = obj.GetExclusionList()
	status.Succeeded(obj, meta.SucceededReason, fmt.Sprintf("successful scan: found %d tags", len(tags)))
	return nil
}

func scanResult(tags []string) *imagev1.ScanResult {
	sorted := slices.Clone(tags)
	slices.Sort(sorted)
	h := sha256.New()
	for _, t := range sorted {
		h.Write([]byte(t))
		h.Write([]byte{'\n'})
	}
	slices.Reverse(sorted)
	latest := sorted[:min(latestTagsCount, len(sorted))]
	return &imagev1.ScanResult{
		Revision: "sha256:" + hex.EncodeToString(h.Sum(nil)), TagCount: len(tags), ScanTime: metav1.Now(), LatestTags: latest,
	}
}

func compileExclusions(patterns []string) ([]*regexp.Regexp, error) {
	res := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("spec.exclusionList: %s is not a valid regular expression: %w", status.Quote(p), err)
		}
		res = append(res, re)
	}
	return res, nil
}

func listError(access *oci.Access, repo name.Repository, err error) error {
	if refusal, ok := access.Refusal(repo, err); ok {
		return status.Fail("", imagev1.AuthenticationFailedReason, refusal)
	}
	return status.Fail("", imagev1.ReadOperationFailedReason, fmt.Errorf("failed to list the tags of %s: %w", repo, transport.ExplainTLS(err)))
}

func nameOptions(insecure bool) []name.Option {
	if insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}
