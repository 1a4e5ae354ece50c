package manager

import (
	"context"
	"slices"

	"github.com/azimuth-gitops/azimuth/internal/controller/imagepolicy"
	"github.com/azimuth-gitops/azimuth/internal/controller/imagerepository"
	"github.com/azimuth-gitops/azimuth/internal/controller/ocirepository"
	"github.com/azimuth-gitops/azimuth/internal/controller/recipe"
	"github.com/azimuth-gitops/azimuth/internal/oci"
	"github.com/azimuth-gitops/azimuth/internal/tagstore"
)

// setup registers each chosen reconciler. Adding a kind adds one case here.
func (m *Manager) setup(opts Options, access *oci.Factory) error {
	tagStore := tagstore.New()
	run := recipe.Options{Concurrency: opts.Concurrency, MinRetryDelay: opts.MinRetryDelay, MaxRetryDelay: opts.MaxRetryDelay}
	for _, name := range opts.Controllers {
		var err error
		switch name {
		case "ocirepository":
			r := &ocirepository.Reconciler{Client: m.GetClient(), Storage: m.Storage, Access: access, Recorder: m.GetEventRecorder("azimuth-source")}
			err = r.SetupWithManager(m, run)
		case "imagerepository":
			r := &imagerepository.Reconciler{Client: m.GetClient(), Access: access, Tags: tagStore, Recorder: m.GetEventRecorder("azimuth-image-reflector")}
			err = r.SetupWithManager(m, run)
		case "imagepolicy":
			r := &imagepolicy.Reconciler{Client: m.GetClient(), Access: access, Tags: tagStore, Recorder: m.GetEventRecorder("azimuth-image-reflector")}
			err = r.SetupWithManager(context.Background(), m, run)
		}
		if err != nil {
			return err
		}
	}
	if slices.Contains(opts.Controllers, "imagepolicy") && !slices.Contains(opts.Controllers, "imagerepository") {
		return errImagePolicyAlone
	}
	return nil
}
