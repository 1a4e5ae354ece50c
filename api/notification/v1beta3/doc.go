// Package v1beta3 holds notification.toolkit.fluxcd.io/v1beta3 Provider and Alert, as Flux's
// notification-controller serves them: an Alert selects events by their object (kind, name or
// `*`, namespace, labels), severity and message, and names the Provider that delivers them (an
// Azure DevOps commit status, a Microsoft Teams message, a generic webhook).
//
// In docs/architecture.md's flow these are read by the event pipeline (internal/notify) when a
// reconciler's event arrives, not reconciled: as in Flux 2.1 and later, v1beta3 Providers and
// Alerts are static objects with no status. A delivery that fails is reported by a Warning event
// on the Alert, a log line and a metric. Only the provider types Azimuth implements are in the
// type enum, and only the fields it implements are declared, so the API server refuses the others
// (spec.username, the deprecated spec.proxy and spec.interval) instead of Azimuth ignoring them.
//
// +kubebuilder:object:generate=true
// +groupName=notification.toolkit.fluxcd.io
package v1beta3
