package image

import (
	"debug/elf"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Source is the repository the image's org.opencontainers.image.source label names by default.
const Source = "https://github.com/azimuth-gitops/azimuth"

// Options configure Build. Binaries is required; the other fields may be left zero.
type Options struct {
	// Binaries are the azimuth binaries, one per platform, statically linked ELF files for
	// Linux (CGO_ENABLED=0). Required: at least one. Their order does not matter: the images are
	// listed in the index sorted by platform.
	Binaries []Binary
	// Created is the time of every file, layer history entry and image config, and the
	// org.opencontainers.image.created label; hack/image reads it from SOURCE_DATE_EPOCH, or the
	// last commit's time. Default: the Unix epoch.
	Created time.Time
	// Version is the org.opencontainers.image.version label. Default: no label.
	Version string
	// Revision is the org.opencontainers.image.revision label, the commit built. Default: no
	// label.
	Revision string
	// Source is the org.opencontainers.image.source label. Default: the Source constant.
	Source string
}

// Binary is one platform's azimuth binary.
type Binary struct {
	// Platform is the image's platform: OS linux and amd64, arm64, ppc64le, s390x or riscv64.
	Platform v1.Platform
	// Path is the binary's file.
	Path string
}

// machines are the architectures Build accepts, with the ELF machine their binaries have.
var machines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
	"riscv64": elf.EM_RISCV,
}

// maxPlatforms bounds a platform list: more would be a mistake, not an image.
const maxPlatforms = 16

// ParsePlatforms parses a comma-separated list of os/arch platforms such as
// "linux/amd64,linux/arm64", as hack/image's --platforms flag takes it. It accepts linux and the
// architectures amd64, arm64, ppc64le, s390x and riscv64, each once.
func ParsePlatforms(list string) ([]v1.Platform, error) {
	fields := strings.Split(list, ",")
	if len(fields) > maxPlatforms {
		return nil, fmt.Errorf("image: %d platforms; give at most %d", len(fields), maxPlatforms)
	}
	var out []v1.Platform
	for _, f := range fields {
		f = strings.TrimSpace(f)
		goos, arch, ok := strings.Cut(f, "/")
		if !ok || strings.Contains(arch, "/") {
			return nil, fmt.Errorf("image: platform %q: write it os/arch, such as linux/amd64", f)
		}
		p := v1.Platform{OS: goos, Architecture: arch}
		if err := checkPlatform(p); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out, p.Equals) {
			return nil, fmt.Errorf("image: platform %s is listed twice", f)
		}
		out = append(out, p)
	}
	return out, nil
}

// checkPlatform refuses a platform Build cannot make an image for.
func checkPlatform(p v1.Platform) error {
	if p.OS != "linux" {
		return fmt.Errorf("image: platform %q: the image runs on linux only", p.String())
	}
	if _, ok := machines[p.Architecture]; !ok {
		return fmt.Errorf("image: platform %q: architecture %q is not one of %s", p.String(), p.Architecture, archNames())
	}
	if p.Variant != "" || p.OSVersion != "" || len(p.OSFeatures) > 0 || len(p.Features) > 0 {
		return fmt.Errorf("image: platform %q: give the OS and architecture only", p.String())
	}
	return nil
}

func archNames() string {
	names := make([]string, 0, len(machines))
	for a := range machines {
		names = append(names, a)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// ParseEpoch parses SOURCE_DATE_EPOCH: whole seconds since the Unix epoch, as
// https://reproducible-builds.org/specs/source-date-epoch/ defines it.
func ParseEpoch(s string) (time.Time, error) {
	sec, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || sec < 0 || sec > maxEpoch {
		return time.Time{}, fmt.Errorf("image: SOURCE_DATE_EPOCH %q is not a number of seconds since 1970 up to year 9999; set it to `git log -1 --format=%%ct`", s)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// maxEpoch is 9999-12-31T23:59:59Z: RFC 3339, the created label's format, has four-digit years.
const maxEpoch = 253402300799
