package azuretest

import (
	"sync"
)

// Recorder keeps the records an emulator reports (WithObserver's), in arrival order, for a test
// to count what a client sent. Its zero value is ready; it is safe for concurrent use.
type Recorder[T any] struct {
	mu      sync.Mutex
	records []T
}

// Add keeps rec; it is the emulator's observer.
func (r *Recorder[T]) Add(rec T) {
	r.mu.Lock()
	r.records = append(r.records, rec)
	r.mu.Unlock()
}

// Len returns how many records there are: a mark for Since and Count.
func (r *Recorder[T]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.records)
}

// Since returns the records after the first n that keep accepts (all of them when keep is nil).
func (r *Recorder[T]) Since(n int, keep func(T) bool) []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []T
	for _, rec := range r.records[n:] {
		if keep == nil || keep(rec) {
			out = append(out, rec)
		}
	}
	return out
}

// Count returns how many records after the first n keep accepts (all of them when keep is nil).
func (r *Recorder[T]) Count(n int, keep func(T) bool) int { return len(r.Since(n, keep)) }
