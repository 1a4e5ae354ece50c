package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	run := func() string {
		t.Helper()
		var out bytes.Buffer
		root := newRootCmd()
		root.SetOut(&out)
		root.SetArgs([]string{"version"})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	// Without a linked version (go test links none), the one Go recorded, or devel.
	if got := run(); !strings.HasPrefix(got, "azimuth ") || !strings.Contains(got, runtime.Version()) || !strings.Contains(got, runtime.GOOS+"/"+runtime.GOARCH) {
		t.Errorf("azimuth version printed %q", got)
	}
	defer func(v string) { version = v }(version)
	version = "v1.2.3-4-gabcdef0-dirty"
	if got := run(); !strings.HasPrefix(got, "azimuth v1.2.3-4-gabcdef0-dirty (") {
		t.Errorf("with a linked version, azimuth version printed %q", got)
	}
}
