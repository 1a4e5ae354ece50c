package v1

// Suspended is spec.suspend.
func (in *ImageRepository) Suspended() bool { return in.Spec.Suspend }

// SetObserved records the generation a reconcile saw, and the reconcile request it handled.
func (in *ImageRepository) SetObserved(generation int64, requestedAt string) {
	in.Status.ObservedGeneration = generation
	if requestedAt != "" {
		in.Status.LastHandledReconcileAt = requestedAt
	}
}

// Suspended is spec.suspend.
func (in *ImagePolicy) Suspended() bool { return in.Spec.Suspend }

// SetObserved records the generation a reconcile saw, and the reconcile request it handled.
func (in *ImagePolicy) SetObserved(generation int64, requestedAt string) {
	in.Status.ObservedGeneration = generation
	if requestedAt != "" {
		in.Status.LastHandledReconcileAt = requestedAt
	}
}
