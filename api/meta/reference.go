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

// KubeConfigReference names how to reach a remote cluster: the kubeconfig of a secret, or a
// ConfigMap that names an AKS cluster reached with a Microsoft Entra token. Exactly one.
// +kubebuilder:validation:XValidation:rule="has(self.secretRef) != has(self.configMapRef)",message="set exactly one of spec.kubeConfig.secretRef and spec.kubeConfig.configMapRef"
type KubeConfigReference struct {
	// ConfigMapRef names a ConfigMap of the referrer's namespace that says how to reach the
	// cluster with a cloud identity, with Flux's keys: 'provider' (azure; aws, gcp and generic
	// are not supported yet), 'cluster' (the AKS cluster's resource ID, needed unless 'address'
	// and 'ca.crt' are both set), 'address' (the API server's https address, one of the
	// cluster's; default: its first), 'ca.crt' (the API server's CA, PEM; default: the
	// cluster's), 'audiences' (the service account token's audiences, one a line; default:
	// api://AzureADTokenExchange) and 'serviceAccountName' (the identity, a service account of
	// this namespace; default: --default-kubeconfig-service-account, else the controller's).
	// +optional
	ConfigMapRef *LocalObjectReference `json:"configMapRef,omitempty"`
	// SecretRef is a secret of the referrer's namespace whose key holds the kubeconfig: the key
	// named, else 'value', else 'value.yaml' (the key Cluster API writes).
	// +optional
	SecretRef *SecretKeyReference `json:"secretRef,omitempty"`
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
