package integration_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/azimuth-gitops/azimuth/api/meta"
	"github.com/azimuth-gitops/azimuth/config/crd"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/manager"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	// waitTimeout bounds every wait for the manager. It is generous on purpose: the tests assert
	// what happens, never how fast.
	waitTimeout  = 2 * time.Minute
	pollInterval = 50 * time.Millisecond
)

func TestMain(m *testing.M) { testenv.Main(m) }

// testCase is one behaviour, proved in its own namespace.
type testCase struct {
	name string
	run  func(t *testing.T, h *harness)
}

// TestReconcilers runs every case against one control plane, one manager and one registry, as
// one `azimuth controller` serves a whole cluster. The cases are parallel subtests, each in a
// namespace of its own, so that none sees another's objects or events.
func TestReconcilers(t *testing.T) {
	h := start(t)
	// Runs once every case is done: failing objects retry with back-off, and say nothing to the
	// log that their conditions and events do not already say.
	t.Cleanup(func() {
		const warning = "Reconciler returned both a result with either RequeueAfter or Requeue set and a non-nil error"
		if n := strings.Count(h.logs.tail(1<<30), warning); n > 0 {
			t.Errorf("the manager logged controller-runtime's warning about a requeue beside an error %d times", n)
		}
	})
	for _, group := range []struct {
		name  string
		cases []testCase
	}{
		{"OCIRepository", ociRepositoryCases()},
		{"GitRepository", gitRepositoryCases()},
		{"ImageRepository", imageRepositoryCases()},
		{"ImagePolicy", imagePolicyCases()},
		{"ImageUpdateAutomation", imageUpdateAutomationCases()},
		{"Recipe", recipeCases()},
		{"Kustomization", kustomizationCases()},
	} {
		t.Run(group.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range group.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, h)
				})
			}
		})
	}
}

// harness is what every case shares.
type harness struct {
	client client.Client
	// storageRoot is the manager's artifact storage directory.
	storageRoot string
	reg         *registries
	// logs is the manager's log.
	logs   *syncBuffer
	tokens atomic.Int64
}

// start installs the CRDs, starts the registries and the manager, and stops the manager when the
// test and all its subtests end. The manager's log is shown only when a test failed.
func start(t *testing.T) *harness {
	env := testenv.Get(t)
	bases, err := fs.Sub(crd.Bases, "bases")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.InstallCRDsFS(t.Context(), bases); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctrllog.SetLogger(funcr.New(func(prefix, args string) { logs.WriteString(prefix + " " + args + "\n") }, funcr.Options{}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("manager log (last 64 KiB):\n%s", logs.tail(64<<10))
		}
	})

	reg := startRegistries(t)
	mgr, err := manager.New(env.Config, manager.Options{
		StoragePath: t.TempDir(),
		StorageAddr: "127.0.0.1:0",
		MetricsAddr: "0",
		HealthAddr:  "0",
		// The feature gate ObjectLevelWorkloadIdentity stays off, as by default; no Azure
		// environment leaks in from the machine running the tests.
		Identity:  identity.Options{LookupEnv: func(string) (string, bool) { return "", false }},
		Transport: transport.Options{ConnectTo: reg.connectTo()},
		Kustomize: manager.KustomizeOptions{HealthPollInterval: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	scheme, err := manager.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{client: c, storageRoot: mgr.Storage.Root, reg: reg, logs: logs}
}

// namespace creates a namespace of its own for the calling case.
func (h *harness) namespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "t-"}}
	if err := h.client.Create(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

func (h *harness) create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := h.client.Create(t.Context(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

// createAsWritten creates an object from a manifest as a user writes it (interval: 5m, where Go
// writes 5m0s), and reads it back into obj.
func (h *harness) createAsWritten(t *testing.T, obj client.Object, manifest string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatal(err)
	}
	h.create(t, u)
	if err := h.client.Get(t.Context(), client.ObjectKeyFromObject(u), obj); err != nil {
		t.Fatal(err)
	}
}

// update applies change to the latest version of obj, retrying on conflicts.
func (h *harness) update(t *testing.T, obj client.Object, change func()) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := h.client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		change()
		return h.client.Update(t.Context(), obj)
	})
	if err != nil {
		t.Fatalf("updating %s: %v", obj.GetName(), err)
	}
}

// requestReconcile sets reconcile.fluxcd.io/requestedAt to a new token, as `flux reconcile`
// does, and returns the token.
func (h *harness) requestReconcile(t *testing.T, obj client.Object) string {
	t.Helper()
	token := fmt.Sprintf("%d-%d", time.Now().UnixNano(), h.tokens.Add(1))
	h.update(t, obj, func() {
		a := obj.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[meta.ReconcileRequestAnnotation] = token
		obj.SetAnnotations(a)
	})
	return token
}

// waitFor reads obj until ok holds, and fails the test with the object's last state when it does
// not within waitTimeout.
func (h *harness) waitFor(t *testing.T, obj client.Object, what string, ok func() bool) {
	t.Helper()
	key := client.ObjectKeyFromObject(obj)
	deadline := time.Now().Add(waitTimeout)
	for {
		err := h.client.Get(t.Context(), key, obj)
		if err == nil && ok() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%T %s: gave up waiting until %s (last error: %v); last state:\n%s", obj, key, what, err, dump(obj))
		}
		time.Sleep(pollInterval)
	}
}

// waitGone waits until obj no longer exists.
func (h *harness) waitGone(t *testing.T, obj client.Object) {
	t.Helper()
	key := client.ObjectKeyFromObject(obj)
	deadline := time.Now().Add(waitTimeout)
	for {
		err := h.client.Get(t.Context(), key, obj)
		if apierrors.IsNotFound(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%T %s still exists (last error: %v); last state:\n%s", obj, key, err, dump(obj))
		}
		time.Sleep(pollInterval)
	}
}

// waitEvent waits for an events.k8s.io/v1 Event about obj with the given type and reason (any
// reason when empty) whose note contains noteContains.
func (h *harness) waitEvent(t *testing.T, obj client.Object, kind, eventType, reason, noteContains string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var seen []string
	for {
		var list eventsv1.EventList
		if err := h.client.List(t.Context(), &list, client.InNamespace(obj.GetNamespace())); err != nil {
			t.Fatal(err)
		}
		seen = seen[:0]
		for _, e := range list.Items {
			if e.Regarding.Kind != kind || e.Regarding.Name != obj.GetName() {
				continue
			}
			if e.Type == eventType && (reason == "" || e.Reason == reason) && strings.Contains(e.Note, noteContains) {
				return
			}
			seen = append(seen, fmt.Sprintf("%s %s: %s", e.Type, e.Reason, e.Note))
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event with reason %s and a note containing %q about %s %s; events seen:\n%s",
				eventType, reason, noteContains, kind, obj.GetName(), strings.Join(seen, "\n"))
		}
		time.Sleep(pollInterval)
	}
}

// object is any of the three kinds.
type object interface {
	client.Object
	meta.ObjectWithConditions
}

func condition(obj object, typ string) *metav1.Condition {
	return apimeta.FindStatusCondition(obj.GetConditions(), typ)
}

// is returns a check that obj's condition typ has status and reason, for obj's current
// generation.
func is(obj object, typ string, status metav1.ConditionStatus, reason string) func() bool {
	return func() bool {
		c := condition(obj, typ)
		return c != nil && c.Status == status && c.Reason == reason && c.ObservedGeneration == obj.GetGeneration()
	}
}

// ready is Ready=True with reason Succeeded for the current generation.
func ready(obj object) func() bool {
	return is(obj, meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason)
}

// stalled is Ready=False and Stalled=True with reason, and not Reconciling: the object waits
// for its spec to change.
func stalled(obj object, reason string) func() bool {
	notReady, stall := is(obj, meta.ReadyCondition, metav1.ConditionFalse, reason), is(obj, meta.StalledCondition, metav1.ConditionTrue, reason)
	return func() bool { return notReady() && stall() && condition(obj, meta.ReconcilingCondition) == nil }
}

// expectCondition fails the test unless obj's condition typ has status and reason.
func expectCondition(t *testing.T, obj object, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	if c := condition(obj, typ); c == nil || c.Status != status || c.Reason != reason {
		t.Fatalf("%s: condition %s = %+v, want status %s and reason %s; state:\n%s", obj.GetName(), typ, c, status, reason, dump(obj))
	}
}

// expectUnchangedSpec fails the test unless obj is at its first generation: only the user
// writes the spec. A controller that sends the whole object to add its finalizer rewrites it
// (spec.timeout 60s becomes 1m0s), and the new generation makes it reconcile again.
func expectUnchangedSpec(t *testing.T, obj client.Object) {
	t.Helper()
	if obj.GetGeneration() != 1 {
		t.Errorf("%s is at generation %d: the controller changed its spec:\n%s", obj.GetName(), obj.GetGeneration(), dump(obj))
	}
}

func dump(obj client.Object) string {
	b, err := yaml.Marshal(obj)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// syncBuffer collects the manager's log from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s)
}

func (b *syncBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	return s[max(0, len(s)-n):]
}
