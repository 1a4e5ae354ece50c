// Command image builds Azimuth's container image without a Docker daemon: it compiles
// cmd/azimuth statically for each platform, then internal/image makes the multi-arch OCI index
// and writes it to an OCI layout, pushes it, or both. `make image` runs it (docs/image.md).
//
//	go run ./hack/image --push azimuthlocal.azurecr.io/azimuth:dev
//	go run ./hack/image --layout out/image --platforms linux/amd64
//
// Run it from the repository's root. Every time in the image is SOURCE_DATE_EPOCH, or the last
// commit's time when it is unset, so two runs on the same commit give the same index digest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/azimuth-gitops/azimuth/internal/image"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err) // internal/image's errors start with "image:", and so do ours
		os.Exit(1)
	}
}

type flags struct {
	push, layout, platforms, version, pkg string
}

func run(ctx context.Context, args []string) error {
	var f flags
	fs := flag.NewFlagSet("image", flag.ExitOnError)
	fs.StringVar(&f.push, "push", "", "push the image index to this tag, such as azimuthlocal.azurecr.io/azimuth:dev, with the credentials of `crane auth login`")
	fs.StringVar(&f.layout, "layout", "", "write the image index to this OCI layout directory")
	fs.StringVar(&f.platforms, "platforms", "linux/amd64,linux/arm64", "the platforms to build, comma-separated")
	fs.StringVar(&f.version, "version", "", "the org.opencontainers.image.version label (default: git describe --tags --always)")
	fs.StringVar(&f.pkg, "package", "./cmd/azimuth", "the Go package of the binary")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.push == "" && f.layout == "" {
		return errors.New("image: give --push REF, --layout DIR or both")
	}
	platforms, err := image.ParsePlatforms(f.platforms)
	if err != nil {
		return err
	}
	opts, err := stamp(ctx, f.version)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "azimuth-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, p := range platforms {
		bin, err := compile(ctx, f.pkg, opts.Version, p, tmp)
		if err != nil {
			return err
		}
		opts.Binaries = append(opts.Binaries, image.Binary{Platform: p, Path: bin})
	}
	idx, err := image.Build(ctx, opts)
	if err != nil {
		return err
	}
	return publish(ctx, idx, f)
}

// stamp reads the image's time, version and revision from the environment and Git.
func stamp(ctx context.Context, version string) (image.Options, error) {
	opts := image.Options{Version: version, Revision: git(ctx, "rev-parse", "HEAD")}
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		if epoch = git(ctx, "log", "-1", "--format=%ct"); epoch == "" {
			return opts, errors.New("image: SOURCE_DATE_EPOCH is unset and there is no Git commit to read a time from; set SOURCE_DATE_EPOCH")
		}
	}
	var err error
	if opts.Created, err = image.ParseEpoch(epoch); err != nil {
		return opts, err
	}
	if opts.Version == "" {
		opts.Version = git(ctx, "describe", "--tags", "--always")
	}
	if strings.ContainsAny(opts.Version, " \t\n'\"") {
		return opts, fmt.Errorf("image: version %q has a space or a quote; give one like v1.2.3", opts.Version)
	}
	return opts, nil
}

// git runs git with args and returns its output's first line, or "" when it fails.
func git(ctx context.Context, args ...string) string {
	out, err := exec.CommandContext(ctx, "git", args...).Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// compile builds pkg for p: static (CGO_ENABLED=0), without paths, symbols or build ID, so the
// same source gives the same bytes, and with version as its version (azimuth version).
func compile(ctx context.Context, pkg, version string, p v1.Platform, dir string) (string, error) {
	out := filepath.Join(dir, "azimuth-"+p.OS+"-"+p.Architecture)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w -buildid= -X main.version="+version, "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("image: go build %s for %s: %w", pkg, p.String(), err)
	}
	fmt.Fprintf(os.Stderr, "built %s for %s in %s\n", pkg, p.String(), time.Since(start).Round(time.Second))
	return out, nil
}

// publish writes idx to the layout and pushes it, as asked, and prints its digest.
func publish(ctx context.Context, idx v1.ImageIndex, f flags) error {
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	if f.layout != "" {
		if err := image.WriteLayout(f.layout, idx); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s to the OCI layout %s\n", d, f.layout)
	}
	out := d.String()
	if f.push != "" {
		ref, err := image.Push(ctx, idx, f.push, nil)
		if err != nil {
			return err
		}
		out = ref.String()
	}
	fmt.Println(out)
	return nil
}
