package apply

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// BenchmarkApply1000ConfigMaps applies 1,000 ConfigMaps to the real API server: the first
// time (each iteration in a new namespace), and again unchanged, with and without a Cache
// (without one, each object's managedFields are compared instead: no dry-run either). It
// reports the API requests of one Apply, and fails when an Apply did not do what it should
// (all created, all unchanged, nothing written), so the work measured is the work wanted.
func BenchmarkApply1000ConfigMaps(b *testing.B) {
	const n = 1000
	f := setup(b)
	objs := func(ns string) []*unstructured.Unstructured {
		out := make([]*unstructured.Unstructured, n)
		for i := range out {
			out[i] = configMap(ns, fmt.Sprintf("cm-%04d", i), map[string]any{"index": fmt.Sprint(i), "payload": "0123456789abcdef"})
		}
		return out
	}
	report := func(b *testing.B, reads, dryRuns, writes int) {
		b.ReportMetric(float64(reads)/float64(b.N), "GETs/op")
		b.ReportMetric(float64(dryRuns)/float64(b.N), "dry-runs/op")
		b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
		b.ReportMetric(float64(reads+dryRuns+writes)/float64(b.N), "requests/op")
	}
	check := func(b *testing.B, cs *ChangeSet, want Action) {
		if len(cs.Entries) != n {
			b.Fatalf("%d changes, want %d", len(cs.Entries), n)
		}
		for _, c := range cs.Entries {
			if c.Action != want {
				b.Fatalf("%s, want %s", c, want)
			}
		}
	}

	b.Run("first", func(b *testing.B) {
		m := f.manager("bench", Options{})
		var reads, dryRuns, writes int
		for b.Loop() {
			b.StopTimer()
			set := objs(testenv.Namespace(b, f.c, "bench-"))
			f.count.take() // not the namespace's creation
			b.StartTimer()
			cs := mustApply(b, m, set...)
			b.StopTimer()
			r, d, w := f.count.take()
			reads, dryRuns, writes = reads+r, dryRuns+d, writes+len(w)
			check(b, cs, Created)
			b.StartTimer()
		}
		report(b, reads, dryRuns, writes)
	})
	for _, cached := range []bool{false, true} {
		name := map[bool]string{false: "unchanged", true: "unchanged-cached"}[cached]
		b.Run(name, func(b *testing.B) {
			opts := Options{}
			if cached {
				opts.Cache = NewCache()
			}
			m := f.manager("bench", opts)
			set := objs(f.ns)
			mustApply(b, m, set...)
			mustApply(b, m, set...) // the cache is warm after an unchanged apply too
			f.count.take()
			for b.Loop() {
				check(b, mustApply(b, m, set...), Unchanged)
			}
			reads, dryRuns, writes := f.count.take()
			if len(writes) > 0 {
				b.Fatalf("no-change applies wrote: %q", writes[:min(len(writes), 5)])
			}
			report(b, reads, dryRuns, len(writes))
		})
	}
}

// BenchmarkOwnedFieldsCurrent is the check that takes the place of a dry-run, on live objects
// of the API server: what a no-change Apply with an empty cache spends on each object instead
// of a request.
func BenchmarkOwnedFieldsCurrent(b *testing.B) {
	f := setup(b)
	objs := workload(f.ns)
	m := f.manager("bench", Options{})
	mustApply(b, m, objs...)
	desired, err := m.desired(objs)
	if err != nil {
		b.Fatal(err)
	}
	loadSchemas()
	for _, d := range desired {
		live := f.get(d.GetAPIVersion(), d.GetKind(), d.GetNamespace(), d.GetName())
		b.Run(d.GetKind(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, why := ownedFieldsCurrent(d, live); !ok {
					b.Fatal(why)
				}
			}
		})
	}
}
