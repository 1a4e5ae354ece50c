package v1

// SourceFinalizer guards a source's stored artifacts until they are garbage
// collected on deletion.
const SourceFinalizer = "finalizers.fluxcd.io"

// Condition types of source kinds, besides meta's Ready, Reconciling and
// Stalled. All but ArtifactInStorage are "abnormal-true": present only while
// True.
const (
	// ArtifactInStorageCondition is True when the artifact in status is
	// stored and served.
	ArtifactInStorageCondition = "ArtifactInStorage"

	// ArtifactOutdatedCondition is True when the stored artifact no longer
	// matches the upstream revision or the spec.
	ArtifactOutdatedCondition = "ArtifactOutdated"

	// FetchFailedCondition is True when the upstream could not be read
	// (authentication, network, a missing tag).
	FetchFailedCondition = "FetchFailed"

	// StorageOperationFailedCondition is True when writing or archiving to
	// the artifact storage failed.
	StorageOperationFailedCondition = "StorageOperationFailed"
)

// Condition reasons of source kinds, as Flux's source API names them.
const (
	// URLInvalidReason: spec.url cannot be parsed.
	URLInvalidReason = "URLInvalid"

	// AuthenticationFailedReason: credentials are missing or rejected.
	AuthenticationFailedReason = "AuthenticationFailed"

	// DirCreationFailedReason: a storage directory could not be created.
	DirCreationFailedReason = "DirectoryCreationFailed"

	// StatOperationFailedReason: a storage path could not be inspected.
	StatOperationFailedReason = "StatOperationFailed"

	// ReadOperationFailedReason: reading a file or secret failed.
	ReadOperationFailedReason = "ReadOperationFailed"

	// AcquireLockFailedReason: the storage lock for the artifact was not acquired.
	AcquireLockFailedReason = "AcquireLockFailed"

	// InvalidPathReason: a storage path is not what it must be.
	InvalidPathReason = "InvalidPath"

	// ArchiveOperationFailedReason: building the tarball failed.
	ArchiveOperationFailedReason = "ArchiveOperationFailed"

	// SymlinkUpdateFailedReason: the latest-artifact symlink was not updated.
	SymlinkUpdateFailedReason = "SymlinkUpdateFailed"

	// NewArtifactReason is the reason of the event a new artifact announces.
	NewArtifactReason = "NewArtifact"

	// ArtifactUpToDateReason: the stored artifact already has the upstream revision.
	ArtifactUpToDateReason = "ArtifactUpToDate"

	// PatchOperationFailedReason: writing the object's status failed.
	PatchOperationFailedReason = "PatchOperationFailed"

	// InvalidProviderConfigurationReason: spec.provider and the rest of the
	// spec do not fit together.
	InvalidProviderConfigurationReason = "InvalidProviderConfiguration"
)
