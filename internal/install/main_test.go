package install

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// The tests share one control plane and run one after the other (no t.Parallel): the CRDs are
// cluster-scoped, and an install relabels them.
// The manager of TestControllerRunsUnderItsRBAC logs nowhere: its failures show in the objects'
// conditions.
func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	testenv.Main(m)
}

// warnings collects the API server's warnings, such as Pod Security's.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	msgs := w.msgs
	w.msgs = nil
	return msgs
}

// fixture is a test's administrator client of the package's control plane, and the warnings
// it received.
type fixture struct {
	env  *testenv.Env
	c    client.Client
	warn *warnings
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	env := testenv.Get(t)
	cfg := rest.CopyConfig(env.Config)
	f := &fixture{env: env, warn: &warnings{}}
	cfg.WarningHandlerWithContext = f.warn
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return f
}

// uniqueNamespace is a namespace name no test used, not created.
func uniqueNamespace(prefix string) string {
	return prefix + strings.ToLower(rand.Text()[:8])
}

// bounded is t's context, ended after 30s, so that a wait that never ends fails the test.
func bounded(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
