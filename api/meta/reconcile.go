package meta

// ReconcileRequestAnnotation asks for a reconcile outside the object's
// interval. The value is an opaque token (the Flux CLI writes a timestamp):
// any change of value is a new request.
const ReconcileRequestAnnotation = "reconcile.fluxcd.io/requestedAt"

// ReconcileAnnotationValue returns the request token of the annotations and
// whether the annotation is set.
func ReconcileAnnotationValue(annotations map[string]string) (string, bool) {
	v, ok := annotations[ReconcileRequestAnnotation]
	return v, ok
}

// ReconcileRequestStatus is embedded inline in a kind's status so that every
// kind reports the last handled request under the same field name.
type ReconcileRequestStatus struct {
	// LastHandledReconcileAt is the value of the reconcile.fluxcd.io/requestedAt
	// annotation that the last reconcile handled; a different value on the
	// object is a new request.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// GetLastHandledReconcileRequest returns the token of the last handled request.
func (in ReconcileRequestStatus) GetLastHandledReconcileRequest() string {
	return in.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records token as handled.
func (in *ReconcileRequestStatus) SetLastHandledReconcileRequest(token string) {
	in.LastHandledReconcileAt = token
}
