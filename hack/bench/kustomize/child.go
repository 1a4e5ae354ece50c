package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/hack/bench/internal/proc"
	"github.com/azimuth-gitops/azimuth/internal/apply"
	"github.com/azimuth-gitops/azimuth/internal/kustomize"
)

// The sides a child process runs: one applier alone in its process, so that its memory is its
// own.
const (
	sideAzimuth   = "azimuth"
	sideReference = "client-go"
	sideKubectl   = "kubectl"
)

// childArgs is what the parent passes a child.
type childArgs struct {
	Side       string   `json:"side"`
	Dir        string   `json:"dir"`
	Kubeconfig string   `json:"kubeconfig"`
	Namespaces []string `json:"namespaces"`
	Servers    []int    `json:"servers"`
	Objects    int      `json:"objects"`
}

// childResult is what a child prints on its standard output, as JSON.
type childResult struct {
	Side string `json:"side"`
	// BaseRSSMiB is the child's RSS once its clients were ready, before the first phase;
	// HWMMiB its peak RSS over its whole life (VmHWM).
	BaseRSSMiB float64  `json:"baseRSSMiB"`
	HWMMiB     float64  `json:"hwmMiB"`
	Phases     []*phase `json:"phases"`
}

// The kinds the manifests hold, resolved before any phase so that discovery is not measured:
// a running controller's mapper, and kubectl's discovery cache, already know them.
var kinds = []schema.GroupVersionKind{
	{Version: "v1", Kind: "ConfigMap"},
	{Version: "v1", Kind: "Service"},
	{Version: "v1", Kind: "ServiceAccount"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"},
}

// runChild is a child process's whole life: it applies as args.Side says, then prints its
// childResult.
func runChild(ctx context.Context, encoded string) error {
	var args childArgs
	if err := json.Unmarshal([]byte(encoded), &args); err != nil {
		return fmt.Errorf("child arguments: %w", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", args.Kubeconfig)
	if err != nil {
		return err
	}
	// No client-side rate limit, on both sides: what ctrl.GetConfig gives `azimuth controller`
	// (it leaves throttling to the API server's priority and fairness).
	cfg.QPS = -1
	snap, err := newSnapshotter(rest.CopyConfig(cfg)) // uncounted
	if err != nil {
		return err
	}
	cnt := newCounter()
	cfg.Wrap(cnt.wrap)

	var phases []*phase
	switch args.Side {
	case sideAzimuth:
		phases, err = runAzimuth(ctx, cfg, cnt, snap, args)
	case sideReference:
		phases, err = runReference(ctx, cfg, cnt, snap, args)
	default:
		err = fmt.Errorf("unknown side %q", args.Side)
	}
	if err != nil {
		return err
	}
	hwm, _ := proc.Status("self", "VmHWM")
	res := childResult{Side: args.Side, BaseRSSMiB: baseRSS, HWMMiB: proc.MiB(hwm), Phases: phases}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// baseRSS is the child's RSS before its first phase, in MiB.
var baseRSS float64

func recordBaseRSS() {
	if r, err := proc.Status("self", "VmRSS"); err == nil {
		baseRSS = proc.MiB(r)
	}
}

// runAzimuth is the Kustomization's build and apply steps as the controller runs them: Build on
// the directory, then a Manager made for this reconcile with the process's Cache, its default
// concurrency, and a client that reads the API server directly, with the dynamic mapper the
// manager's client has. Phases: the first apply, a no-change apply, and a no-change apply with
// an empty cache (the first reconcile after the controller restarted).
func runAzimuth(ctx context.Context, cfg *rest.Config, cnt *counter, snap *snapshotter, args childArgs) ([]*phase, error) {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return nil, err
	}
	for _, gvk := range kinds {
		if _, err := c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return nil, err
		}
	}
	recordBaseRSS()
	owner := apply.Owner{Name: ownerName, Namespace: ownerNamespace}
	reconcile := func(cache *apply.Cache, want apply.Action) func(p *phase) error {
		return func(p *phase) error {
			start := time.Now()
			objs, err := kustomize.Build(args.Dir, "", kustomize.Options{})
			p.BuildMS = proc.MS(time.Since(start))
			if err != nil {
				return err
			}
			cs, err := apply.New(c, owner, apply.Options{Cache: cache}).Apply(ctx, objs)
			if err != nil {
				return err
			}
			p.Objects = len(cs.Entries)
			p.Outcome = outcome(cs)
			if len(cs.Entries) != args.Objects || p.Outcome != fmt.Sprintf("%d %s", args.Objects, want) {
				return fmt.Errorf("%s: %s, want %d %s", p.Name, p.Outcome, args.Objects, want)
			}
			return nil
		}
	}
	cache := apply.NewCache()
	return runPhases(ctx, cnt, snap, args, []phaseFunc{
		{"first", reconcile(cache, apply.Created)},
		{"no-change", reconcile(cache, apply.Unchanged)},
		{"no-change-cold", reconcile(apply.NewCache(), apply.Unchanged)},
	})
}

// outcome counts a ChangeSet's actions: "1000 unchanged", "998 unchanged, 2 configured".
func outcome(cs *apply.ChangeSet) string {
	count := map[apply.Action]int{}
	var order []apply.Action
	for _, e := range cs.Entries {
		if count[e.Action] == 0 {
			order = append(order, e.Action)
		}
		count[e.Action]++
	}
	parts := make([]string, len(order))
	for i, a := range order {
		parts[i] = fmt.Sprintf("%d %s", count[a], a)
	}
	return strings.Join(parts, ", ")
}

// runReference is `kubectl apply --server-side --force-conflicts --field-manager=kubectl -f
// <dir>` reduced to its requests, with client-go: read and decode the manifests, then one
// server-side apply PATCH per object, one at a time, as kubectl sends them. The no-change phase
// does the same again: kubectl has no way to know that nothing changed.
func runReference(ctx context.Context, cfg *rest.Config, cnt *counter, snap *snapshotter, args childArgs) ([]*phase, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	for _, gvk := range kinds {
		if _, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return nil, err
		}
	}
	recordBaseRSS()
	force := true
	loop := func(p *phase) error {
		start := time.Now()
		objs, err := readManifests(args.Dir)
		p.BuildMS = proc.MS(time.Since(start))
		if err != nil {
			return err
		}
		for _, u := range objs {
			gvk := u.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				return err
			}
			data, err := json.Marshal(u.Object)
			if err != nil {
				return err
			}
			_, err = dyn.Resource(m.Resource).Namespace(u.GetNamespace()).Patch(ctx, u.GetName(), types.ApplyPatchType, data,
				metav1.PatchOptions{FieldManager: "kubectl", Force: &force})
			if err != nil {
				return fmt.Errorf("%s %s/%s: %w", gvk.Kind, u.GetNamespace(), u.GetName(), err)
			}
		}
		p.Objects = len(objs)
		p.Outcome = fmt.Sprintf("%d server-side applied", len(objs))
		if len(objs) != args.Objects {
			return fmt.Errorf("%s: %d objects in the manifests, want %d", p.Name, len(objs), args.Objects)
		}
		return nil
	}
	return runPhases(ctx, cnt, snap, args, []phaseFunc{{"first", loop}, {"no-change", loop}})
}

// readManifests decodes the YAML files of dir, but the kustomization file, in name order, as
// `kubectl apply -f dir` reads them.
func readManifests(dir string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var objs []*unstructured.Unstructured
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if len(u.Object) > 0 {
				objs = append(objs, u)
			}
		}
	}
	return objs, nil
}

// patchOutcome says what the API server answered the apply PATCHes: "1000 created (201)", or
// "1000 applied, no create (200)".
func patchOutcome(codes map[string]int) string {
	var parts []string
	if n := codes["PATCH 201"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d created (201)", n))
	}
	if n := codes["PATCH 200"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d existed (200)", n))
	}
	for k, n := range codes {
		if strings.HasPrefix(k, "PATCH ") && k != "PATCH 200" && k != "PATCH 201" {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(parts) == 0 {
		return "no PATCH"
	}
	return strings.Join(parts, ", ")
}

type phaseFunc struct {
	name string
	fn   func(p *phase) error
}

// runPhases measures each phase, and counts the side's objects whose resourceVersion it moved.
func runPhases(ctx context.Context, cnt *counter, snap *snapshotter, args childArgs, fns []phaseFunc) ([]*phase, error) {
	var out []*phase
	var before map[string]string
	for _, f := range fns {
		p, err := measure(f.name, cnt, args.Servers, f.fn)
		if err != nil {
			return nil, err
		}
		if args.Side == sideReference {
			p.Outcome += ": " + patchOutcome(p.Codes)
		}
		after, err := snap.take(ctx, args.Namespaces)
		if err != nil {
			return nil, err
		}
		p.Moved = moved(before, after)
		if len(after) != args.Objects {
			return nil, fmt.Errorf("after %s: %d objects in the namespaces, want %d", f.name, len(after), args.Objects)
		}
		before = after
		out = append(out, p)
	}
	return out, nil
}
