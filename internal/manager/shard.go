package manager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
)

// DefaultLeaderElectionID names the Lease the replicas of an unsharded manager share.
const DefaultLeaderElectionID = "azimuth-controller-leader"

// ShardLabel is the label Flux's sharding guide selects shards by.
const ShardLabel = "sharding.fluxcd.io/key"

// parseSelector parses --watch-label-selector; "" selects everything (nil).
func parseSelector(s string) (labels.Selector, error) {
	if s == "" {
		return nil, nil
	}
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("--watch-label-selector %q: %w", s, err)
	}
	return sel, nil
}

// leaderElectionID is id, or, for a shard, id with a hash of its selector, as Flux derives it:
// the replicas of one shard share a Lease, and different shards never wait for each other.
func leaderElectionID(id, selector string) string {
	if id == "" {
		id = DefaultLeaderElectionID
	}
	if selector == "" {
		return id
	}
	sum := sha256.Sum256([]byte(selector))
	return id + "-" + hex.EncodeToString(sum[:4])
}

// shardCache restricts the cache of the kinds no other controller of this process reads across
// shards to the shard's objects. The source kinds and ImagePolicy stay cached whole, as in
// Flux, whose kustomize-controller and image-automation-controller watch every source and
// policy: a Kustomization of this shard may consume a GitRepository of another. Their own
// reconcilers skip them instead (shardClient).
func shardCache(opts *cache.Options, sel labels.Selector) {
	if sel == nil {
		return
	}
	opts.ByObject = map[client.Object]cache.ByObject{
		&kustomizev1.Kustomization{}:     {Label: sel},
		&imagev1.ImageRepository{}:       {Label: sel},
		&imagev1.ImageUpdateAutomation{}: {Label: sel},
	}
}

// shardClient is the client of the reconciler of kind: an object of that kind outside the shard
// reads as not found, so the reconciler leaves it to its shard. Everything else reads through.
func shardClient(c client.Client, sel labels.Selector, kind client.Object) client.Client {
	if sel == nil {
		return c
	}
	return &shardFilter{Client: c, sel: sel, kind: reflect.TypeOf(kind)}
}

type shardFilter struct {
	client.Client
	sel  labels.Selector
	kind reflect.Type
}

func (c *shardFilter) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := c.Client.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	if reflect.TypeOf(obj) == c.kind && !c.sel.Matches(labels.Set(obj.GetLabels())) {
		gvk, _ := c.GroupVersionKindFor(obj)
		return apierrors.NewNotFound(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, key.Name)
	}
	return nil
}
