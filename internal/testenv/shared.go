package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
)

// shared is the one control plane of a test binary. It is package state on purpose: tests of one
// package share one control plane, and Main stops it.
var shared struct {
	once sync.Once
	env  *Env
	err  error
}

// Get returns the test binary's control plane, starting it on first use. It fails the test when
// the control plane cannot start. Use it together with Main.
func Get(t testing.TB) *Env {
	t.Helper()
	shared.once.Do(func() {
		shared.env, shared.err = Start(context.Background(), nil)
		if shared.err != nil {
			shared.err = fmt.Errorf("%w: %w", errNotStarted, shared.err)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.env
}

// Main runs a package's tests and then stops the control plane if a test started one. Call it
// from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if shared.env != nil {
		if err := shared.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv: stopping the control plane:", err)
		}
	}
	os.Exit(code)
}
