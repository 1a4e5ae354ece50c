package azuretest

import (
	"sync/atomic"
	"time"
)

// Clock is a clock that a test moves by hand: from a fixed time when made by NewClock, from the
// real time as a zero Clock. It is safe for concurrent use.
type Clock struct {
	start  time.Time
	offset atomic.Int64 // nanoseconds
}

// NewClock returns a clock that stands at start until moved.
func NewClock(start time.Time) *Clock { return &Clock{start: start} }

// Now returns the clock's time: its start, or the real time, moved by every Advance so far.
func (c *Clock) Now() time.Time {
	base := c.start
	if base.IsZero() {
		base = time.Now()
	}
	return base.Add(time.Duration(c.offset.Load()))
}

// Advance moves the clock by d, backwards when d is negative.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }
