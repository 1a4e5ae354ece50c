// Package tagstore keeps the tags each ImageRepository scanned, for the ImagePolicy reconciler
// to choose from. It lives in memory: after a restart every ImageRepository scans again, and an
// ImagePolicy waits for that scan, as it would for a new repository.
//
// In docs/architecture.md's flow it hands one kind's output (scanned tags) to the next kind's
// steps.
package tagstore

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// Store maps an ImageRepository to its tags. It is safe for concurrent use.
type Store struct {
	mu   sync.RWMutex
	tags map[types.NamespacedName][]string
}

// New returns an empty store.
func New() *Store { return &Store{tags: map[types.NamespacedName][]string{}} }

// Set replaces the tags of repo. The store keeps tags; callers must not change it afterwards.
func (s *Store) Set(repo types.NamespacedName, tags []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tags[repo] = tags
}

// Get returns the tags of repo, and whether it was ever scanned. The slice is shared: do not
// change it.
func (s *Store) Get(repo types.NamespacedName) ([]string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tags[repo]
	return t, ok
}

// Delete forgets repo, when the ImageRepository is deleted.
func (s *Store) Delete(repo types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tags, repo)
}
