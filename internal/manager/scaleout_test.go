package manager_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/config/crd"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/manager"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

const waitTimeout = time.Minute

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	testenv.Main(m)
}

// setup installs the CRDs and returns a client of the shared control plane.
func setup(t *testing.T) (*testenv.Env, client.Client) {
	t.Helper()
	env := testenv.Get(t)
	bases, err := fs.Sub(crd.Bases, "bases")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.InstallCRDsFS(t.Context(), bases); err != nil {
		t.Fatal(err)
	}
	scheme, err := manager.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return env, c
}

// running is a started manager; stop stops it and waits until it has.
type running struct {
	*manager.Manager
	stop func()
}

func start(t *testing.T, env *testenv.Env, opts manager.Options) *running {
	t.Helper()
	opts.StoragePath = t.TempDir()
	opts.StorageAddr = "127.0.0.1:0"
	if opts.MetricsAddr == "" {
		opts.MetricsAddr = "0"
	}
	opts.HealthAddr = "0"
	opts.Identity = identity.Options{LookupEnv: func(string) (string, bool) { return "", false }}
	m, err := manager.New(env.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Start(ctx) }()
	stopped := false
	r := &running{Manager: m}
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}
	t.Cleanup(r.stop)
	return r
}

func gitRepository(ns, name, url string, labels map[string]string) *sourcev1.GitRepository {
	return &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: sourcev1.GitRepositorySpec{URL: url, Reference: &sourcev1.GitRepositoryRef{Branch: "main"}, Interval: metav1.Duration{Duration: time.Hour}}}
}

func shard(key string) map[string]string { return map[string]string{manager.ShardLabel: key} }

// waitReady waits until obj is Ready=True and returns it.
func waitReady[T interface {
	client.Object
	GetConditions() []metav1.Condition
}](t *testing.T, c client.Client, obj T, within time.Duration) T {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if err := c.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
		if apimeta.IsStatusConditionTrue(obj.GetConditions(), meta.ReadyCondition) {
			return obj
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s not ready within %s: %+v", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), within, obj.GetConditions())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// servedBy reports whether url names m's artifact server.
func servedBy(url string, m *running) bool {
	return strings.HasPrefix(url, "http://"+m.StorageAddr()+"/")
}

// files counts the files in m's artifact storage.
func files(t *testing.T, m *running) int {
	t.Helper()
	n := 0
	filepath.WalkDir(m.Storage.Root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// TestShards runs two shards as Flux's sharding guide sets them up: one selecting
// sharding.fluxcd.io/key in (shard1), the main one the objects without the label. Each
// reconciles only its objects, and a Kustomization of one shard applies the artifact of a
// source of the other, fetched over HTTP from that shard's artifact server.
func TestShards(t *testing.T) {
	env, c := setup(t)
	ns := testenv.Namespace(t, c, "shards-")
	url := testenv.ServeGit(t, map[string]string{
		"a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-a\ndata:\n  k: a\n",
		"b/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-b\ndata:\n  k: b\n",
	})
	controllers := []string{"gitrepository", "kustomization"}
	shard1 := start(t, env, manager.Options{Controllers: controllers, WatchNamespaces: []string{ns},
		WatchLabelSelector: manager.ShardLabel + " in (shard1)"})
	main := start(t, env, manager.Options{Controllers: controllers, WatchNamespaces: []string{ns},
		WatchLabelSelector: "!" + manager.ShardLabel})

	a := gitRepository(ns, "a", url, shard("shard1"))
	b := gitRepository(ns, "b", url, nil)
	other := gitRepository(ns, "other", url, shard("shard2"))
	kustomization := func(name, source, path string, labels map[string]string) *kustomizev1.Kustomization {
		return &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Hour}, Path: path, TargetNamespace: ns,
				SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: source}}}
	}
	// Each consumes the other shard's source.
	ka := kustomization("ka", "b", "./b", shard("shard1"))
	kb := kustomization("kb", "a", "./a", nil)
	testenv.Create(t, c, a, b, other, ka, kb)

	a = waitReady(t, c, a, waitTimeout)
	b = waitReady(t, c, b, waitTimeout)
	if !servedBy(a.Status.Artifact.URL, shard1) {
		t.Errorf("shard1's GitRepository's artifact is at %s, want shard1's server %s", a.Status.Artifact.URL, shard1.StorageAddr())
	}
	if !servedBy(b.Status.Artifact.URL, main) {
		t.Errorf("the main shard's GitRepository's artifact is at %s, want the main server %s", b.Status.Artifact.URL, main.StorageAddr())
	}
	ka = waitReady(t, c, ka, waitTimeout)
	kb = waitReady(t, c, kb, waitTimeout)
	if ka.Status.LastAppliedRevision != b.Status.Artifact.Revision || kb.Status.LastAppliedRevision != a.Status.Artifact.Revision {
		t.Errorf("applied revisions %q and %q, want %q and %q", ka.Status.LastAppliedRevision, kb.Status.LastAppliedRevision, b.Status.Artifact.Revision, a.Status.Artifact.Revision)
	}
	for _, name := range []string{"from-a", "from-b"} {
		var cm corev1.ConfigMap
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &cm); err != nil {
			t.Errorf("ConfigMap %s: %v", name, err)
		}
	}
	// Each shard stored only its own source's artifact: the other's came over HTTP.
	for _, s := range []struct {
		m    *running
		name string
		not  *sourcev1.GitRepository
	}{{shard1, "shard1", b}, {main, "main", a}} {
		if _, err := os.Stat(filepath.Join(s.m.Storage.Root, s.not.Status.Artifact.Path)); err == nil {
			t.Errorf("%s's storage holds %s, another shard's artifact", s.name, s.not.Status.Artifact.Path)
		}
	}
	// Neither shard selects the third source.
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(other), other); err != nil {
		t.Fatal(err)
	}
	if len(other.Status.Conditions) > 0 || other.Status.Artifact != nil || len(other.Finalizers) > 0 {
		t.Errorf("a GitRepository of no running shard was reconciled: %+v", other.Status)
	}
}

// TestLeaderFailover runs two replicas of one manager with leader election: a lease left by a
// replica that died is taken over once it expires, exactly one replica reconciles, and when
// the leader stops, it gives the lease up and the other takes over.
func TestLeaderFailover(t *testing.T) {
	env, c := setup(t)
	ns := testenv.Namespace(t, c, "leader-")
	url := testenv.ServeGit(t, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"})
	const lease = 3 * time.Second
	// A leader that died: its lease stays valid for lease from now.
	now := metav1.NewMicroTime(time.Now())
	testenv.Create(t, c, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "failover"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("dead-replica"), LeaseDurationSeconds: ptr.To(int32(lease / time.Second)),
			AcquireTime: &now, RenewTime: &now}})
	opts := manager.Options{Controllers: []string{"gitrepository"}, WatchNamespaces: []string{ns},
		LeaderElection: true, LeaderElectionNamespace: ns, LeaderElectionID: "failover",
		LeaseDuration: lease, RenewDeadline: 2 * time.Second, RetryPeriod: 200 * time.Millisecond}
	started := time.Now()
	replicas := []*running{start(t, env, opts), start(t, env, opts)}

	first := gitRepository(ns, "first", url, nil)
	testenv.Create(t, c, first)
	time.Sleep(lease / 3)
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(first), first); err != nil {
		t.Fatal(err)
	}
	if len(first.Status.Conditions) > 0 {
		t.Fatalf("reconciled while the dead replica's lease was valid: %+v", first.Status.Conditions)
	}
	first = waitReady(t, c, first, waitTimeout)
	if took := time.Since(started); took < lease {
		t.Errorf("reconciled %s after the start, before the dead replica's lease of %s expired", took, lease)
	}

	var leader, follower *running
	for i, r := range replicas {
		if servedBy(first.Status.Artifact.URL, r) {
			leader, follower = r, replicas[1-i]
		}
	}
	if leader == nil {
		t.Fatalf("artifact URL %s names neither replica", first.Status.Artifact.URL)
	}
	select {
	case <-follower.Elected():
		t.Fatal("both replicas were elected")
	default:
	}
	if n := files(t, follower); n > 0 {
		t.Errorf("the replica that is not the leader stored %d files", n)
	}

	// The leader gives its lease up as it stops, so that the other need not wait for it to
	// expire: once stopped, the lease is no longer held in its name.
	var held coordinationv1.Lease
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "failover"}, &held); err != nil {
		t.Fatal(err)
	}
	leaderID := ptr.Deref(held.Spec.HolderIdentity, "")
	leader.stop()
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "failover"}, &held); err != nil {
		t.Fatal(err)
	}
	if holder := ptr.Deref(held.Spec.HolderIdentity, ""); leaderID == "" || holder == leaderID {
		t.Errorf("the stopped leader %q still holds the lease (holder %q)", leaderID, holder)
	}
	select {
	case <-follower.Elected():
	case <-time.After(waitTimeout):
		t.Fatal("the remaining replica was not elected")
	}
	second := gitRepository(ns, "second", url, nil)
	testenv.Create(t, c, second)
	second = waitReady(t, c, second, waitTimeout)
	if !servedBy(second.Status.Artifact.URL, follower) {
		t.Errorf("artifact URL %s, want the remaining replica's server %s", second.Status.Artifact.URL, follower.StorageAddr())
	}
}

// TestScaleOutOptionsRefused: a selector that does not parse and election timings the
// elector cannot keep are refused before anything starts.
func TestScaleOutOptionsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		opts manager.Options
		want string
	}{
		{"selector", manager.Options{WatchLabelSelector: "sharding.fluxcd.io/key in (shard1"}, "--watch-label-selector"},
		{"renew deadline", manager.Options{LeaderElection: true, LeaseDuration: time.Second, RenewDeadline: 2 * time.Second}, "--leader-election-renew-deadline"},
		{"retry period", manager.Options{LeaderElection: true, RenewDeadline: time.Second, RetryPeriod: time.Second}, "--leader-election-retry-period"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.opts.StoragePath = t.TempDir()
			_, err := manager.New(&rest.Config{Host: "https://127.0.0.1:1"}, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want one naming %s", err, c.want)
			}
		})
	}
}
