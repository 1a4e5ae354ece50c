package demo

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/azure/blob"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// checkBuckets: the container holds the sample manifests, and every Bucket that is Ready, whatever
// its identity, stored the same artifact of them.
func checkBuckets(ctx context.Context, t *testing.T, sys *System, table Table) {
	t.Helper()
	sa := sys.names.storage
	rt, err := transport.New(&sys.Env.Transport)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.CloseIdleConnections()
	c, err := blob.NewContainer(blobEndpoint(sa.Name), BlobContainer, blob.Auth{AccountKey: sa.Keys[0]}, &blob.ContainerOptions{Transport: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := c.List(ctx, "", func(it blob.Item) error { names = append(names, it.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(maps.Keys(manifests(sys.names.registryHost(), latestManifests, sys.sopsSecret)))
	if slices.Sort(names); !slices.Equal(names, want) {
		t.Errorf("the container %s holds %v, want %v", BlobContainer, names, want)
	}
	revisions := map[string]bool{}
	ready := 0
	for _, r := range table {
		if r.Kind != sourcev1.BucketKind || r.Expected != "Ready" {
			continue
		}
		var b sourcev1.Bucket
		if err := sys.Env.Client.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: r.Name}, &b); err != nil || b.Status.Artifact == nil {
			t.Errorf("%s: %v, no artifact", r.Object(), err)
			continue
		}
		revisions[b.Status.Artifact.Revision] = true
		ready++
	}
	if ready != 5 || len(revisions) != 1 {
		t.Errorf("%d Ready Buckets with the revisions %v; want 5 with one revision", ready, revisions)
	}
}

// checkNotifications: the Teams webhook recorded Adaptive Cards of team-apps' objects, and the
// commit team-platform's Kustomization applied carries its status, succeeded, read back with the
// REST API.
func checkNotifications(ctx context.Context, t *testing.T, sys *System, table Table) {
	t.Helper()
	cards, refused := sys.teamsCards()
	if len(cards) == 0 || refused > 0 {
		t.Errorf("Teams: %d cards accepted, %d refused", len(cards), refused)
	}
	for _, want := range []string{"kustomization/podinfo." + TeamsTenant, "bucket/" + BucketName + "." + TeamsTenant} {
		if !slices.Contains(cards, want) {
			t.Errorf("no card of %s in %v", want, cards)
		}
	}
	var k kustomizev1.Kustomization
	if err := sys.Env.Client.Get(ctx, client.ObjectKey{Namespace: CommitStatusTenant, Name: SecretsKustomization}, &k); err != nil {
		t.Fatal(err)
	}
	_, sha, _ := strings.Cut(k.Status.LastAppliedRevision, "@sha1:")
	statuses, err := sys.readStatuses(ctx, sha)
	if err != nil {
		t.Fatal(err)
	}
	if len(statuses) == 0 || statuses[0].State != "succeeded" || statuses[0].Description != "reconciliation succeeded" ||
		statuses[0].Context.Genre != "fluxcd" || !strings.HasPrefix(statuses[0].Context.Name, "kustomization/secrets/") {
		t.Errorf("statuses of %s: %+v", sha, statuses)
	}
	if n, objects := sys.hubEvents(CommitStatusTenant); n == 0 || !slices.Contains(objects, "kustomization/"+SecretsKustomization) {
		t.Errorf("the event hub holds %d events of %s, of %v", n, CommitStatusTenant, objects)
	}
	for _, r := range table {
		if (r.Kind == notificationv1.ProviderKind || r.Kind == notificationv1.AlertKind) && (r.Reason != "Delivered" || strings.Contains(r.Message, "failed")) {
			t.Errorf("%s: %s %s", r.Object(), r.Reason, r.Message)
		}
	}
}

// TestBlobAndNotificationPlan: with the built-in directory, the container is added to the
// storage account, the roles go to the container, every identity kind has a Bucket (team-denied's
// meant to fail), and the Providers and Alerts are applied before the objects whose events they
// deliver; a directory without a storage account has no Bucket.
func TestBlobAndNotificationPlan(t *testing.T) {
	d, err := withBlobSamples(directory.Default())
	if err != nil {
		t.Fatal(err)
	}
	n, err := lookup(d)
	if err != nil {
		t.Fatal(err)
	}
	if n.storage.Name != "azimuthlocal" || !slices.Contains(n.storage.Containers, BlobContainer) {
		t.Fatalf("storage = %+v", n.storage)
	}
	s := &System{names: n}
	for _, ra := range s.blobGrants() {
		if !strings.HasSuffix(ra.Scope, "/storageAccounts/azimuthlocal/blobServices/default/containers/manifests") {
			t.Errorf("%s gets %s on %s", ra.Principal, ra.Role, ra.Scope)
		}
	}
	secrets, samples := s.samples()
	moreSecrets, more := s.secretBucketSamples()
	secrets, samples = append(secrets, moreSecrets...), append(samples, more...)
	var got []string
	for _, smp := range samples {
		switch o := smp.obj.(type) {
		case *sourcev1.Bucket:
			line := "Bucket " + o.Namespace + "/" + o.Name + " as " + smp.identity.Method
			if o.Spec.SecretRef != nil {
				line += " secret " + o.Spec.SecretRef.Name
			}
			if smp.failReason != "" {
				line += ", fails with " + smp.failReason
			}
			if o.Spec.Provider != "azure" || o.Spec.Endpoint != "https://azimuthlocal.blob.core.windows.net" || o.Spec.BucketName != "manifests" {
				t.Errorf("%s: %+v", line, o.Spec)
			}
			got = append(got, line)
		case *notificationv1.Provider:
			got = append(got, "Provider "+o.Namespace+"/"+o.Name+" "+o.Spec.Type+" as "+smp.identity.Method)
		case *notificationv1.Alert:
			got = append(got, "Alert "+o.Namespace+"/"+o.Name+" to "+o.Spec.ProviderRef.Name)
		}
		if isNotification(smp.obj) != (smp.delivered != nil) {
			t.Errorf("%T %s: delivered set %v", smp.obj, smp.obj.GetName(), smp.delivered != nil)
		}
	}
	want := []string{
		"Bucket team-apps/manifests as object WI",
		"Provider team-apps/teams msteams as webhook URL",
		"Alert team-apps/teams to teams",
		"Bucket team-platform/manifests as controller WI",
		"Provider team-platform/azure-devops azuredevops as controller WI",
		"Alert team-platform/azure-devops to azure-devops",
		"Provider team-platform/event-hub azureeventhub as controller WI",
		"Alert team-platform/event-hub to event-hub",
		"Bucket team-node/manifests as node MI",
		"Bucket team-denied/manifests as object WI, fails with BucketOperationFailed",
		"Bucket team-secrets/manifests-key as account key secret blob-key",
		"Bucket team-secrets/manifests-app as client secret secret blob-app",
	}
	if !slices.Equal(got, want) {
		t.Errorf("samples:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	var secretNames []string
	for _, sec := range secrets {
		secretNames = append(secretNames, sec.Namespace+"/"+sec.Name)
	}
	if !slices.Equal(secretNames, []string{"team-apps/teams-webhook", "team-secrets/blob-key", "team-secrets/blob-app"}) {
		t.Errorf("secrets: %v", secretNames)
	}

	spec := directory.Default().Spec()
	spec.Resources.StorageAccounts = nil
	var kept []directory.RoleAssignment
	for _, ra := range spec.RoleAssignments {
		if !strings.Contains(ra.Scope, "Microsoft.Storage") {
			kept = append(kept, ra)
		}
	}
	spec.RoleAssignments = kept
	bare, err := directory.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := withBlobSamples(bare); err != nil || d != bare {
		t.Fatalf("withBlobSamples without an account: %v", err)
	}
	if s.names, err = lookup(bare); err != nil {
		t.Fatal(err)
	}
	_, samples = s.samples()
	_, more = s.secretBucketSamples()
	for _, smp := range append(samples, more...) {
		if _, ok := smp.obj.(*sourcev1.Bucket); ok {
			t.Errorf("a Bucket %s/%s without a storage account", smp.obj.GetNamespace(), smp.obj.GetName())
		}
	}
}
