package apply

import (
	"crypto/sha256"
	"encoding/json"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// Cache lets Apply skip the dry-run of an object it has already found in the desired state:
// when the live object's UID and resourceVersion are those Apply last saw for it (after it
// applied it, or after a dry-run or its managedFields showed nothing to change) and the
// desired object hashes the same, a dry-run would answer what it answered then. A no-change
// Apply of n objects then makes n GETs, no dry-run, and no comparison of managedFields. It is
// Apply's first check; the second, on an object the cache does not know (an empty cache after
// a restart), reads its managedFields (see the package's documentation, "When the dry-run is
// skipped"), and only what neither decides is dry-run. The cache also spares the dry-runs of
// objects the second check leaves in doubt, such as those whose manifest writes a quantity in
// another form than the API server stores it.
//
// Drift is still corrected: any write to the object, by anyone, changes its resourceVersion,
// and the next Apply dry-runs it again. What the cache does not notice, until the object or
// its manifest changes, is a change on the API server's side that would alter the dry-run's
// answer without touching the object: a new mutating webhook or CRD default, or an RBAC grant
// withdrawn from the identity that applies (the GET, still made as that identity, notices a
// lost get permission). Reconcilers that want those noticed at once call Forget when the
// Kustomization's spec changes, or do not use a cache.
//
// One Cache serves every Manager of a process (the reconciler keeps it; Managers are made per
// reconcile); entries are kept per Owner, and an Apply that succeeds drops the entries of the
// objects it no longer applies. It is safe for concurrent use.
type Cache struct {
	mu     sync.Mutex
	owners map[Owner]map[ObjMetadata]cacheEntry
}

type cacheEntry struct {
	uid             types.UID
	resourceVersion string
	desired         [sha256.Size]byte
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{owners: map[Owner]map[ObjMetadata]cacheEntry{}}
}

// Forget drops what the cache knows of owner's objects: call it when the Kustomization is
// deleted, or to have every object dry-run again.
func (c *Cache) Forget(owner Owner) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.owners, owner)
}

// hash is the key of a desired object's content. A nil cache needs none.
func (c *Cache) hash(u *unstructured.Unstructured) ([sha256.Size]byte, error) {
	if c == nil {
		return [sha256.Size]byte{}, nil
	}
	b, err := json.Marshal(u.Object) // map keys are sorted: the same object gives the same bytes
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// current reports whether live is the object as Apply last left or found it, for the same
// desired content.
func (c *Cache) current(owner Owner, id ObjMetadata, live *unstructured.Unstructured, desired [sha256.Size]byte) bool {
	if c == nil || live == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.owners[owner][id]
	return ok && e.uid == live.GetUID() && e.resourceVersion == live.GetResourceVersion() && e.desired == desired
}

// put records that obj, as the API server returned it, is in the desired state.
func (c *Cache) put(owner Owner, id ObjMetadata, obj *unstructured.Unstructured, desired [sha256.Size]byte) {
	if c == nil || obj.GetResourceVersion() == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	objs := c.owners[owner]
	if objs == nil {
		objs = map[ObjMetadata]cacheEntry{}
		c.owners[owner] = objs
	}
	objs[id] = cacheEntry{uid: obj.GetUID(), resourceVersion: obj.GetResourceVersion(), desired: desired}
}

// drop forgets one object, deleted or about to be.
func (c *Cache) drop(owner Owner, id ObjMetadata) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.owners[owner], id)
}

// retain keeps only the entries of owner's objects in keep: those an Apply just applied.
func (c *Cache) retain(owner Owner, keep map[ObjMetadata]bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.owners[owner] {
		if !keep[id] {
			delete(c.owners[owner], id)
		}
	}
}
