package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// run executes the command line args in process and returns what it wrote.
func run(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// syncBuffer is an output written by a command running in another goroutine or process.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor returns the output once it holds text, failing the test if that takes longer than
// within or the command ends (done is closed) first.
func (b *syncBuffer) waitFor(t *testing.T, text string, within time.Duration, done <-chan struct{}) string {
	t.Helper()
	deadline := time.After(within)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if s := b.String(); strings.Contains(s, text) {
			return s
		}
		select {
		case <-done:
			if s := b.String(); strings.Contains(s, text) {
				return s
			}
			t.Fatalf("the command ended before printing %q:\n%s", text, b.String())
		case <-deadline:
			t.Fatalf("no %q after %s:\n%s", text, within, b.String())
		case <-tick.C:
		}
	}
}

// background is a command running in another goroutine or process.
type background struct {
	out  *syncBuffer
	done chan struct{} // closed when the command has ended
	err  error         // its result, once done is closed
}

// wait returns the command's result, failing the test if it does not end within bound.
func (b *background) wait(t *testing.T, bound time.Duration) error {
	t.Helper()
	select {
	case <-b.done:
		return b.err
	case <-time.After(bound): // a guard against a hang, not a measurement
		t.Fatalf("the command did not end:\n%s", b.out)
		return nil
	}
}
