package manager

import (
	"slices"

	"github.com/azimuth-gitops/azimuth/internal/controller/ocirepository"
	"github.com/azimuth-gitops/azimuth/internal/oci"
)

// setup registers each chosen reconciler. Adding a kind adds one case here.
func (m *Manager) setup(opts Options, access *oci.Factory) error {
	if slices.Contains(opts.Controllers, "ocirepository") {
		r := &ocirepository.Reconciler{Client: m.GetClient(), Storage: m.Storage, Access: access, Recorder: m.GetEventRecorder("azimuth-source")}
		if err := r.SetupWithManager(m, opts.Concurrency); err != nil {
			return err
		}
	}
	return nil
}
