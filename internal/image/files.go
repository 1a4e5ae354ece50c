package image

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
)

// NonRoot is the user and group the image runs as, distroless's nonroot.
const NonRoot = 65532

// BinaryPath is where the binary sits in the image, its entrypoint.
const BinaryPath = "/azimuth"

// maxBinarySize bounds a binary read into a layer; azimuth is about a tenth of it.
const maxBinarySize = 512 << 20

// passwd and group name root and nonroot. nonroot's home is /tmp: the runtime sets HOME from
// /etc/passwd, and /tmp is the one writable directory besides /data, so a library that writes
// under HOME writes to the emptyDir, not to the read-only root.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin\n"
	group  = "root:x:0:\nnonroot:x:65532:\n"
)

func userName(id int) string {
	if id == NonRoot {
		return "nonroot"
	}
	return "root"
}

// baseEntries are the files every platform's image has. Nothing root owns is writable by
// another user; /tmp is sticky, as on any Linux system.
func baseEntries() []entry {
	return []entry{
		{name: "etc", dir: true, mode: 0o755},
		{name: "etc/passwd", mode: 0o644, body: readerOf(passwd), size: int64(len(passwd))},
		{name: "etc/group", mode: 0o644, body: readerOf(group), size: int64(len(group))},
		{name: "tmp", dir: true, mode: 0o1777, uid: NonRoot, gid: NonRoot},
		{name: "data", dir: true, mode: 0o755, uid: NonRoot, gid: NonRoot},
	}
}

func readerOf(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte(s))), nil }
}

// binaryEntry checks that b's file is a statically linked ELF executable for b's platform and
// returns its entry: /azimuth, owned by root, read and execute only.
func binaryEntry(b Binary) (entry, error) {
	if err := checkPlatform(b.Platform); err != nil {
		return entry{}, err
	}
	fi, err := os.Stat(b.Path)
	if err != nil {
		return entry{}, fmt.Errorf("image: the %s binary: %w", b.Platform.String(), err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxBinarySize {
		return entry{}, fmt.Errorf("image: the %s binary %s is not a regular file of at most %d MiB", b.Platform.String(), b.Path, maxBinarySize>>20)
	}
	if err := checkELF(b.Path, machines[b.Platform.Architecture]); err != nil {
		return entry{}, fmt.Errorf("image: the %s binary %s: %w", b.Platform.String(), b.Path, err)
	}
	open := func() (io.ReadCloser, error) { return os.Open(b.Path) }
	return entry{name: BinaryPath[1:], mode: 0o555, body: open, size: fi.Size()}, nil
}

// checkELF refuses a file that is not an ELF executable for machine, or that needs a dynamic
// loader: the image has none.
func checkELF(path string, machine elf.Machine) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("not an ELF executable (build it with GOOS=linux): %w", err)
	}
	defer f.Close()
	if f.Machine != machine {
		return fmt.Errorf("built for %s, not %s: build it with the GOARCH of its platform", f.Machine, machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("an ELF %s, not an executable", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("dynamically linked, and the image has no libc: build it with CGO_ENABLED=0")
		}
	}
	return nil
}
