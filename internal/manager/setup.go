package manager

import (
	"context"
	"net/http"
	"slices"
	"time"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/apply"
	"github.com/azimuth-gitops/azimuth/internal/bucket"
	bucketcontroller "github.com/azimuth-gitops/azimuth/internal/controller/bucket"
	"github.com/azimuth-gitops/azimuth/internal/controller/gitrepository"
	"github.com/azimuth-gitops/azimuth/internal/controller/imagepolicy"
	"github.com/azimuth-gitops/azimuth/internal/controller/imagerepository"
	"github.com/azimuth-gitops/azimuth/internal/controller/imageupdateautomation"
	"github.com/azimuth-gitops/azimuth/internal/controller/kustomization"
	"github.com/azimuth-gitops/azimuth/internal/controller/ocirepository"
	"github.com/azimuth-gitops/azimuth/internal/controller/recipe"
	"github.com/azimuth-gitops/azimuth/internal/git"
	"github.com/azimuth-gitops/azimuth/internal/oci"
	"github.com/azimuth-gitops/azimuth/internal/remote"
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
			r := &ocirepository.Reconciler{Client: shardClient(m.GetClient(), m.selector, &sourcev1.OCIRepository{}), Storage: m.Storage, Access: registries, Recorder: m.GetEventRecorder("azimuth-source")}
			err = r.SetupWithManager(m, run)
		case "imagerepository":
			r := &imagerepository.Reconciler{Client: m.GetClient(), Access: registries, Tags: tagStore, Recorder: m.GetEventRecorder("azimuth-image-reflector")}
			err = r.SetupWithManager(m, run)
		case "gitrepository":
			var remotes *git.Factory
			if remotes, err = git.NewFactory(credentials, opts.Transport, m.Storage.Root); err == nil {
				r := &gitrepository.Reconciler{Client: shardClient(m.GetClient(), m.selector, &sourcev1.GitRepository{}), Storage: m.Storage, Git: remotes, Recorder: m.GetEventRecorder("azimuth-source")}
				err = r.SetupWithManager(context.Background(), m, run)
			}
		case "bucket":
			r := &bucketcontroller.Reconciler{Client: shardClient(m.GetClient(), m.selector, &sourcev1.Bucket{}), Storage: m.Storage, Buckets: bucket.NewFactory(credentials), Recorder: m.GetEventRecorder("azimuth-source")}
			err = r.SetupWithManager(m, run)
		case "kustomization":
			r := &kustomization.Reconciler{
				Client: m.GetClient(), Recorder: m.GetEventRecorder("azimuth-kustomize"),
				Clients:              kustomization.NewClients(m.GetConfig(), m.GetScheme(), m.GetRESTMapper(), opts.Identity.DefaultServiceAccount),
				Access:               credentials,
				Remote:               remote.NewResolver(credentials),
				Cache:                apply.NewCache(),
				HTTP:                 artifactClient(),
				NoCrossNamespaceRefs: opts.Kustomize.NoCrossNamespaceRefs,
				StrictSubstitutions:  opts.Kustomize.StrictSubstitutions,
				HealthPollInterval:   opts.Kustomize.HealthPollInterval,
			}
			err = r.SetupWithManager(context.Background(), m, run)
		case "imagepolicy":
			r := &imagepolicy.Reconciler{
				Client: shardClient(m.GetClient(), m.selector, &imagev1.ImagePolicy{}), Namespaces: m.GetAPIReader(),
				Access: registries, Tags: tagStore, Recorder: m.GetEventRecorder("azimuth-image-reflector"),
				NoCrossNamespaceRefs: opts.Kustomize.NoCrossNamespaceRefs,
			}
			err = r.SetupWithManager(context.Background(), m, run)
		case "imageupdateautomation":
			var remotes *git.Factory
			if remotes, err = git.NewFactory(credentials, opts.Transport, m.Storage.Root); err == nil {
				r := &imageupdateautomation.Reconciler{Client: m.GetClient(), Git: remotes, Recorder: m.GetEventRecorder("azimuth-image-automation"), NoCrossNamespaceRefs: opts.Kustomize.NoCrossNamespaceRefs}
				err = r.SetupWithManager(context.Background(), m, run)
			}
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

// artifactClient downloads artifacts from artifact servers, this process's or another shard's,
// directly: they are in the cluster, never behind the proxy Azure traffic may take.
func artifactClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	return &http.Client{Transport: t, Timeout: 10 * time.Minute}
}
