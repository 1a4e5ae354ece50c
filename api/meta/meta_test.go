package meta

import "testing"

func TestReconcileAnnotationValue(t *testing.T) {
	if v, ok := ReconcileAnnotationValue(map[string]string{"reconcile.fluxcd.io/requestedAt": "t1"}); v != "t1" || !ok {
		t.Errorf("got %q, %v", v, ok)
	}
	if _, ok := ReconcileAnnotationValue(nil); ok {
		t.Error("nil annotations report a request")
	}
	var s ReconcileRequestStatus
	s.SetLastHandledReconcileRequest("t1")
	if s.GetLastHandledReconcileRequest() != "t1" {
		t.Error("round trip")
	}
}

func TestArtifactNil(t *testing.T) {
	var a *Artifact
	if a.HasRevision("") || a.HasDigest("") {
		t.Error("a nil artifact has a revision or digest")
	}
	a = &Artifact{Revision: "v1@sha256:x", Digest: "sha256:y"}
	if !a.HasRevision("v1@sha256:x") || !a.HasDigest("sha256:y") {
		t.Error("artifact does not match its own revision or digest")
	}
}
