package meta

// LocalObjectReference names an object in the referrer's namespace.
type LocalObjectReference struct {
	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// NamespacedObjectReference names an object in any namespace.
type NamespacedObjectReference struct {
	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the object; empty means the referrer's own namespace.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// NamespacedObjectKindReference names an object of any kind in any namespace.
type NamespacedObjectKindReference struct {
	// APIVersion of the object; the preferred version of its kind when empty.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Kind string `json:"kind"`

	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the object; empty for a cluster-scoped object.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// SecretKeyReference names a key of a secret in the referrer's namespace.
type SecretKeyReference struct {
	// Name of the secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Key of the secret's data. Default: what the referrer documents.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Key string `json:"key,omitempty"`
}

// KubeConfigReference names the kubeconfig of a remote cluster. Only SecretRef is implemented:
// Flux's configMapRef (an AKS cluster reached with an Entra token) is left out of the schema,
// and a kubeConfig without secretRef is refused, so that no object meant for a remote cluster
// is applied to this one.
type KubeConfigReference struct {
	// SecretRef is a secret of the referrer's namespace whose key holds the kubeconfig: the key
	// named, else 'value', else 'value.yaml' (the key Cluster API writes).
	// +required
	SecretRef *SecretKeyReference `json:"secretRef"`
}

// AccessFrom lets objects of other namespaces refer to this one: those whose namespace's labels
// match one of the selectors (Flux's ACL).
type AccessFrom struct {
	// NamespaceSelectors: a namespace matching any of them has access. A selector with no
	// labels matches every namespace.
	// +kubebuilder:validation:MaxItems=100
	// +required
	NamespaceSelectors []NamespaceSelector `json:"namespaceSelectors"`
}

// NamespaceSelector selects namespaces by their labels.
type NamespaceSelector struct {
	// MatchLabels are the labels a namespace must all have, with these values.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}
