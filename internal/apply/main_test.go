package apply

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// counter counts the requests a client sends to the API server, by what they can change.
type counter struct {
	mu      sync.Mutex
	reads   int      // GET (discovery included)
	dryRuns int      // PATCH, POST, PUT, DELETE with dryRun set
	writes  []string // the others, as "METHOD path", to show in a failure
}

func (c *counter) RoundTripper(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.mu.Lock()
		switch {
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			c.reads++
		case r.URL.Query().Has("dryRun"):
			c.dryRuns++
		default:
			c.writes = append(c.writes, r.Method+" "+r.URL.Path)
		}
		c.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

// take returns the counts since the last take and starts again from zero.
func (c *counter) take() (reads, dryRuns int, writes []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reads, dryRuns, writes = c.reads, c.dryRuns, c.writes
	c.reads, c.dryRuns, c.writes = 0, 0, nil
	return reads, dryRuns, writes
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// fixture is a test's view of the package's control plane: an administrator's client whose
// requests are counted, and a namespace of the test's own.
type fixture struct {
	t     testing.TB
	env   *testenv.Env
	c     client.Client
	count *counter
	ns    string
}

func setup(t testing.TB) *fixture {
	t.Helper()
	env := testenv.Get(t)
	f := &fixture{t: t, env: env, count: &counter{}}
	f.c = f.client(nil)
	f.ns = testenv.Namespace(t, f.c, "apply-")
	f.count.take()
	return f
}

// client is a client of the control plane, counted, as the administrator or as imp.
func (f *fixture) client(imp *rest.ImpersonationConfig) client.Client {
	f.t.Helper()
	cfg := rest.CopyConfig(f.env.Config)
	cfg.QPS = -1 // no client-side throttling: the benchmark measures the API server, not a limiter
	cfg.Wrap(f.count.RoundTripper)
	if imp != nil {
		cfg.Impersonate = *imp
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) manager(owner string, opts Options) *Manager {
	if opts.PollInterval == 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	return New(f.c, Owner{Name: owner, Namespace: f.ns}, opts)
}

// get reads an object live; nil when it does not exist.
func (f *fixture) get(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	f.t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	err := f.c.Get(f.t.Context(), client.ObjectKey{Namespace: ns, Name: name}, u)
	if client.IgnoreNotFound(err) != nil {
		f.t.Fatal(err)
	}
	if err != nil {
		return nil
	}
	return u
}

// object builds an object from its apiVersion, kind, namespace, name and other top-level
// fields.
func object(apiVersion, kind, ns, name string, fields map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	for k, v := range fields {
		u.Object[k] = v
	}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func configMap(ns, name string, data map[string]any) *unstructured.Unstructured {
	return object("v1", "ConfigMap", ns, name, map[string]any{"data": data})
}

func annotate(u *unstructured.Unstructured, kv ...string) *unstructured.Unstructured {
	a := u.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	for i := 0; i < len(kv); i += 2 {
		a[kv[i]] = kv[i+1]
	}
	u.SetAnnotations(a)
	return u
}

// crd is a CustomResourceDefinition of kind in group, served as v1, with any fields allowed.
func crd(group, kind, scope string) *unstructured.Unstructured {
	plural := strings.ToLower(kind) + "s"
	return object("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", plural+"."+group, map[string]any{
		"spec": map[string]any{
			"group": group,
			"scope": scope,
			"names": map[string]any{"kind": kind, "plural": plural, "singular": strings.ToLower(kind), "listKind": kind + "List"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true,
				}},
			}},
		},
	})
}

// actions is cs as "Subject action" lines, for comparing.
func actions(cs *ChangeSet) []string {
	var out []string
	for _, c := range cs.Entries {
		out = append(out, c.String())
	}
	return out
}

// bounded is t's context, ended after 20s: an Apply or a Wait that would wait forever fails
// the test instead of hanging it.
func bounded(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mustApply applies objs, failing t on error.
func mustApply(t testing.TB, m *Manager, objs ...*unstructured.Unstructured) *ChangeSet {
	t.Helper()
	cs, err := m.Apply(bounded(t), objs)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func subject(kind, ns, name string) string { return fmt.Sprintf("%s/%s/%s", kind, ns, name) }
