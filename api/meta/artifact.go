package meta

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Artifact is the output of a source reconcile: a file in the controller's
// artifact storage, served over HTTP to the controllers that apply it.
type Artifact struct {
	// Path of the file relative to the root of the artifact storage.
	// +required
	Path string `json:"path"`

	// URL from which the controller serves the file.
	// +required
	URL string `json:"url"`

	// Revision of the content in the origin system, for example
	// `TAG@sha256:DIGEST` for an OCI artifact.
	// +required
	Revision string `json:"revision"`

	// Digest of the file, as `<algorithm>:<checksum>`.
	// +optional
	// +kubebuilder:validation:Pattern="^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"
	Digest string `json:"digest,omitempty"`

	// LastUpdateTime is when the file was last written.
	// +required
	LastUpdateTime metav1.Time `json:"lastUpdateTime"`

	// Size of the file in bytes.
	// +optional
	Size *int64 `json:"size,omitempty"`

	// Metadata from the origin, such as the OCI manifest annotations.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
}

// HasRevision reports whether the artifact exists and has the given revision.
func (in *Artifact) HasRevision(revision string) bool {
	return in != nil && in.Revision == revision
}

// HasDigest reports whether the artifact exists and has the given digest.
func (in *Artifact) HasDigest(digest string) bool {
	return in != nil && in.Digest == digest
}
