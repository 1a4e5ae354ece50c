package manager

import (
	"context"
	"slices"

	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/controller/gitrepository"
	"github.com/azimuth-gitops/azimuth/internal/controller/imagepolicy"
	"github.com/azimuth-gitops/azimuth/internal/controller/imagerepository"
	"github.com/azimuth-gitops/azimuth/internal/controller/ocirepository"
	"github.com/azimuth-gitops/azimuth/internal/controller/recipe"
	"github.com/azimuth-gitops/azimuth/internal/git"
	"github.com/azimuth-gitops/azimuth/internal/oci"
	"github.com/azimuth-gitops/azimuth/internal/tagstore"
)

// setup registers each chosen reconciler. Adding a kind adds one case here.
func (m *Manager) setup(opts Options, credentials *access.Resolver) error {
	registries := oci.NewFactory(credentials)
	tagStore := tagstore.New()
	run := recipe.Options{Concurrency: opts.Concurrency, MinRetryDelay: opts.MinRetryDelay, MaxRetryDelay: opts.MaxRetryDelay}
	for _, name := range opts.Controllers {
		var err error
		switch name {
		case "ocirepository":
			r := &ocirepository.Reconciler{Client: m.GetClient(), Storage: m.Storage, Access: registries, Recorder: m.GetEventRecorder("azimuth-source")}
			err = r.SetupWithManager(m, run)
		case "imagerepository":
			r := &imagerepository.Reconciler{Client: m.GetClient(), Access: registries, Tags: tagStore, Recorder: m.GetEventRecorder("azimuth-image-reflector")}
			err = r.SetupWithManager(m, run)
		case "gitrepository":
			var remotes *git.Factory
			if remotes, err = git.NewFactory(credentials, opts.Transport, m.Storage.Root); err == nil {
				r := &gitrepository.Reconciler{Client: m.GetClient(), Storage: m.Storage, Git: remotes, Recorder: m.GetEventRecorder("azimuth-source")}
				err = r.SetupWithManager(m, run)
			}
		case "imagepolicy":
			r := &imagepolicy.Reconciler{Client: m.GetClient(), Access: registries, Tags: tagStore, Recorder: m.GetEventRecorder("azimuth-image-reflector")}
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
