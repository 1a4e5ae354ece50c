package v1

// ImageFinalizer lets the controller drop an ImageRepository's scanned tags
// before the object goes.
const ImageFinalizer = "finalizers.fluxcd.io"

// Condition reasons of the image kinds, as Flux's image API names them.
// The condition types are meta's Ready, Reconciling and Stalled.
const (
	// ImageURLInvalidReason: spec.image is not a valid image repository.
	ImageURLInvalidReason = "ImageURLInvalid"

	// DependencyNotReadyReason: the ImageRepository an ImagePolicy refers to
	// has no scan result yet.
	DependencyNotReadyReason = "DependencyNotReady"

	// AuthenticationFailedReason: credentials are missing or rejected.
	AuthenticationFailedReason = "AuthenticationFailed"

	// ReadOperationFailedReason: reading the tags or a secret failed.
	ReadOperationFailedReason = "ReadOperationFailed"

	// IntervalNotConfiguredReason: digestReflectionPolicy Always without an interval.
	IntervalNotConfiguredReason = "IntervalNotConfigured"

	// AccessDeniedReason: spec.imageRepositoryRef names an ImageRepository the policy may not
	// read (another namespace).
	AccessDeniedReason = "AccessDenied"

	// InvalidPolicyReason: spec.policy or spec.filterTags cannot be used
	// (a bad range, regular expression or extract template).
	InvalidPolicyReason = "InvalidPolicy"
)

// Values of spec.provider. Flux also accepts aws and gcp; Azimuth does not
// implement them, so the schema rejects them.
const (
	// GenericProvider authenticates with spec.secretRef or the image pull
	// secrets of spec.serviceAccountName, or anonymously.
	GenericProvider = "generic"

	// AzureProvider authenticates to Azure Container Registry with an
	// Entra ID identity.
	AzureProvider = "azure"
)
