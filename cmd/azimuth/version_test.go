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

// install deploys the image of the binary's release, and config/'s for a development build.
func TestDefaultImage(t *testing.T) {
	for v, want := range map[string]string{
		"v1.2.3":                             "ghcr.io/azimuth-gitops/azimuth:v1.2.3",
		"v0.4.0-rc.1":                        "ghcr.io/azimuth-gitops/azimuth:v0.4.0-rc.1",
		"v1.2.3-4-gabcdef0":                  "",
		"v1.2.3-dirty":                       "",
		"bba22fe":                            "",
		"devel-bba22fe836a9":                 "",
		"v0.0.0-20261201085642-bba22fe836a9": "",
	} {
		if got := defaultImage(v); got != want {
			t.Errorf("defaultImage(%q) = %q, want %q", v, got, want)
		}
	}
}
