package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

const objectsInFlight = 16

// workload is what one run creates: n objects split evenly over the shard keys. With
// kustomizations, half are OCIRepositories and half Kustomizations, the i-th consuming the
// i-th OCIRepository from the next shard, so that every Kustomization fetches its artifact
// from another shard's artifact server. Decoys, labelled for no shard, come on top.
type workload struct {
	objects, shards, namespaces int
	kustomizations, decoys      bool
	host                        string // the registry holding the artifact
}

// sources is the number of OCIRepositories (and of Kustomizations, with kustomizations).
func (w workload) sources() int {
	if w.kustomizations {
		return w.objects / 2
	}
	return w.objects
}

func (w workload) namespace(i int) string { return fmt.Sprintf("bench-%d", i%w.namespaces) }

// ociName and ksName name the i-th OCIRepository and Kustomization.
func ociName(i int) string { return fmt.Sprintf("oci-%d", i) }
func ksName(i int) string  { return fmt.Sprintf("ks-%d", i) }

// ociShard and ksShard are the shard keys of the i-th OCIRepository and Kustomization.
func (w workload) ociShard(i int) string { return shardKey(i % w.shards) }
func (w workload) ksShard(i int) string  { return shardKey((i + 1) % w.shards) }

// configMapName is the ConfigMap the Kustomization name applies: the artifact's "bench" with
// the Kustomization's namePrefix.
func configMapName(name string) string { return name + "-bench" }

func (w workload) build() []client.Object {
	var objs []client.Object
	for i := range w.sources() {
		ns := w.namespace(i)
		objs = append(objs, w.ociRepository(ns, ociName(i), w.ociShard(i)))
		if w.kustomizations {
			objs = append(objs, kustomization(ns, ksName(i), ociName(i), w.ksShard(i)))
		}
	}
	if w.decoys {
		objs = append(objs, w.ociRepository(w.namespace(0), "decoy", decoyShard),
			kustomization(w.namespace(0), "decoy", "decoy", decoyShard))
	}
	return objs
}

func (w workload) ociRepository(ns, name, shard string) *sourcev1.OCIRepository {
	return &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{shardLabel: shard}},
		Spec: sourcev1.OCIRepositorySpec{
			URL:       "oci://" + w.host + "/" + artifactRepo,
			Reference: &sourcev1.OCIRepositoryRef{Tag: artifactTag},
			Provider:  sourcev1.AzureOCIProvider,
			Interval:  metav1.Duration{Duration: time.Hour},
		},
	}
}

func kustomization(ns, name, source, shard string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{shardLabel: shard}},
		Spec: kustomizev1.KustomizationSpec{
			Interval:        metav1.Duration{Duration: time.Hour},
			Path:            "./app",
			Prune:           true,
			NamePrefix:      name + "-",
			TargetNamespace: ns,
			SourceRef:       kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: source},
		},
	}
}

// create creates objs, objectsInFlight at once, and returns the first error.
func create(ctx context.Context, c client.Client, objs []client.Object) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range objectsInFlight {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(objs) || ctx.Err() != nil {
					return
				}
				if err := c.Create(ctx, objs[i]); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("creating %s/%s: %w", objs[i].GetNamespace(), objs[i].GetName(), err)
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}
