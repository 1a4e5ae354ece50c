package meta

// LocalObjectReference names an object in the referrer's namespace.
type LocalObjectReference struct {
	// Name of the object.
	// +required
	Name string `json:"name"`
}

// NamespacedObjectReference names an object in any namespace.
type NamespacedObjectReference struct {
	// Name of the object.
	// +required
	Name string `json:"name"`

	// Namespace of the object; empty means the referrer's own namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}
