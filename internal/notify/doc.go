// Package notify is the event pipeline of notification-controller: it takes the events
// Azimuth's reconcilers record (through Recorder, a tee in front of their Kubernetes event
// recorder) and the events other controllers post in Flux's format (Handler, served on
// --events-addr), drops duplicates within a window as Flux does, matches them against the Alerts
// of the cluster, and delivers them through the Alerts' Providers: an Azure DevOps commit status,
// a Microsoft Teams message, a generic webhook with or without an HMAC signature.
//
// In docs/architecture.md's flow it is the notify step after a reconcile: the event leaves the
// reconciler at once (a full intake drops the event, never blocks), each Provider has a bounded
// queue and one worker that sends with the Provider's timeout and retries the failures that can
// pass (throttling, server errors, timeouts, a dropped connection) with back-off, so a hanging or
// failing endpoint delays only its own Provider's events. Connections and credentials come from
// internal/access, as for every protocol: the Provider's CA, proxy, secret and service account;
// Azure DevOps' REST API and its refusals from internal/azure/devops.
//
// Provider and Alert v1beta3 are static objects, as in Flux: a delivery that fails is reported as
// a Warning event on the Alert (reason NotificationDispatchFailed), a log line and the
// azimuth_notification_events_failed_total metric.
package notify
