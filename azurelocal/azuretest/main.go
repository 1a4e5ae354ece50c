package azuretest

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// Main is a TestMain for a package whose tests share servers: run starts them, returns m.Run()
// and stops them (with defer) on its way out. Main reports run's error and exits with the code.
//
//	func TestMain(m *testing.M) { azuretest.Main(m, run) }
func Main(m *testing.M, run func(*testing.M) (int, error)) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

// Lazy holds servers that a test binary starts once, on the first test that needs them, and its
// tests share: a local Azure next to internal/testenv's control plane, say. It lives in a package
// variable, as testenv's control plane does; the zero value is ready.
type Lazy[T any] struct {
	once sync.Once
	v    T
	err  error
}

// errAborted is the error of a start that ended its test (with t.Fatal or t.Skip) instead of
// returning.
var errAborted = errors.New("azuretest: the shared servers failed to start earlier in this test binary")

// Get returns the value, calling start on the first call; start may use t, the first caller's.
// It fails t when start failed, on this call or an earlier one. In -short mode it skips t
// instead: servers worth sharing are slow to start.
func (l *Lazy[T]) Get(t testing.TB, start func() (T, error)) T {
	t.Helper()
	if testing.Short() {
		t.Skip("starts servers the package's tests share; run without -short")
	}
	l.once.Do(func() {
		l.err = errAborted
		l.v, l.err = start()
	})
	if l.err != nil {
		t.Fatal(l.err)
	}
	return l.v
}
