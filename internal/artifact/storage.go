package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// Storage is a directory of artifacts and the address they are served at.
type Storage struct {
	// Root is the directory artifacts live in (--storage-path).
	Root string
	// BaseURL is how clients in the cluster reach the HTTP server, such as
	// http://azimuth.flux-system.svc.cluster.local (--storage-adv-addr).
	BaseURL string
	// Retain is how many artifacts each object keeps, the newest first. Default: 2.
	Retain int
}

// NewStorage returns a Storage rooted at root, creating the directory.
func NewStorage(root, baseURL string) (*Storage, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("creating the artifact storage directory: %w", err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	return &Storage{Root: abs, BaseURL: strings.TrimSuffix(baseURL, "/"), Retain: 2}, nil
}

// Dir is the storage path of an object's artifacts, relative to Root.
func Dir(kind, namespace, name string) string {
	return path.Join(strings.ToLower(kind), namespace, name)
}

// Writer receives an artifact's bytes. Commit publishes it; Close without Commit discards it.
type Writer struct {
	storage   *Storage
	file      *os.File
	hash      hash.Hash
	size      int64
	finalPath string // relative to Root
	done      bool
	// verified is the digest that the source of what is written verifies, "" if none: then
	// hash is not fed.
	verified string
	// syncing is the result of an fsync that syncAhead started, until waited for; synced is
	// the size the file had then.
	syncing chan error
	synced  int64
}

// Create starts an artifact at rel, a path relative to Root such as
// ocirepository/ns/name/sha256.tar.gz.
func (s *Storage) Create(rel string) (*Writer, error) {
	clean := path.Clean("/" + rel)[1:]
	if clean == "" || clean != rel {
		return nil, fmt.Errorf("invalid artifact path %q", rel)
	}
	dir := filepath.Join(s.Root, filepath.FromSlash(path.Dir(rel)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".tmp-"+path.Base(rel)+"-*")
	if err != nil {
		return nil, err
	}
	return &Writer{storage: s, file: f, hash: sha256.New(), finalPath: rel}, nil
}

func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.file.Write(p)
	if w.verified == "" {
		w.hash.Write(p[:n])
	}
	w.size += int64(n)
	return n, err
}

// Restart discards what was written and returns it to be read again, so that Repack can
// rebuild an artifact it began to store as the layer was. The bytes stay in the storage
// directory, in a file already removed that closing the reader frees; what is written next
// starts a new artifact.
func (w *Writer) Restart() (io.ReadCloser, error) {
	if w.done {
		return nil, errors.New("artifact: Restart after Commit or Close")
	}
	w.waitSync() // what it synced is discarded
	old := w.file
	f, err := os.CreateTemp(filepath.Dir(old.Name()), ".tmp-"+path.Base(w.finalPath)+"-*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(old.Name()); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	spooled := io.NewSectionReader(old, 0, w.size)
	w.file, w.hash, w.size, w.verified = f, sha256.New(), 0, ""
	return struct {
		io.Reader
		io.Closer
	}{spooled, old}, nil
}

var _ Spool = (*Writer)(nil)

// Verified says that what will be written comes from a reader that verifies, as it reads, that
// its bytes have digest, and fails at its end if they do not (go-containerregistry's registry
// layers): an artifact that is that reader's bytes read to their end takes digest as its own,
// and its bytes are not hashed again. It must come before the first Write, and holds until
// Restart, which begins an artifact of other bytes. digest is sha256:HEX.
func (w *Writer) Verified(digest string) error {
	hexPart, ok := strings.CutPrefix(digest, "sha256:")
	if b, err := hex.DecodeString(hexPart); !ok || err != nil || len(b) != sha256.Size || strings.ToLower(hexPart) != hexPart {
		return fmt.Errorf("artifact: %q is not a sha256 digest", digest)
	}
	if w.size > 0 || w.done {
		return errors.New("artifact: Verified after a Write, a Commit or a Close")
	}
	w.verified = digest
	return nil
}

// syncAhead starts an fsync of what was written so far in a goroutine of its own, so that it
// overlaps the rest of Repack's checks: when nothing else is written, Commit only waits for it.
// Commit, Restart and Close wait for it. Only the goroutine that called it may write while the
// fsync runs.
func (w *Writer) syncAhead() {
	if w.syncing != nil || w.done {
		return
	}
	w.syncing, w.synced = make(chan error, 1), w.size
	go func(f *os.File, done chan<- error) { done <- f.Sync() }(w.file, w.syncing)
}

// waitSync waits for the fsync syncAhead started, if any, and reports whether it made all that
// was written durable.
func (w *Writer) waitSync() (bool, error) {
	if w.syncing == nil {
		return false, nil
	}
	err := <-w.syncing
	w.syncing = nil
	return err == nil && w.synced == w.size, err
}

// Commit syncs the artifact and renames it into place, and returns its description.
func (w *Writer) Commit(revision string) (*meta.Artifact, error) {
	defer w.Close()
	synced, err := w.waitSync()
	if err != nil {
		return nil, err
	}
	if !synced {
		if err := w.file.Sync(); err != nil {
			return nil, err
		}
	}
	if err := w.file.Close(); err != nil {
		return nil, err
	}
	if err := os.Chmod(w.file.Name(), 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(w.file.Name(), filepath.Join(w.storage.Root, filepath.FromSlash(w.finalPath))); err != nil {
		return nil, err
	}
	w.done = true
	size := w.size
	digest := w.verified
	if digest == "" {
		digest = "sha256:" + hex.EncodeToString(w.hash.Sum(nil))
	}
	return &meta.Artifact{
		Path:           w.finalPath,
		URL:            w.storage.URL(w.finalPath),
		Revision:       revision,
		Digest:         digest,
		LastUpdateTime: metav1.Now(),
		Size:           &size,
	}, nil
}

// Close discards the artifact unless it was committed.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.waitSync()
	w.done = true
	w.file.Close()
	return os.Remove(w.file.Name())
}

// URL is where an artifact at rel is served.
func (s *Storage) URL(rel string) string {
	u := url.URL{Path: "/" + rel}
	return s.BaseURL + u.EscapedPath()
}

// Exists reports whether the artifact is present, so a reconcile can tell that a stored
// artifact was lost (a new pod, an emptied volume) and must be rebuilt.
func (s *Storage) Exists(a *meta.Artifact) bool {
	if a == nil {
		return false
	}
	info, err := os.Stat(filepath.Join(s.Root, filepath.FromSlash(a.Path)))
	return err == nil && info.Mode().IsRegular()
}

// Open opens a stored artifact for reading.
func (s *Storage) Open(a *meta.Artifact) (io.ReadCloser, error) {
	return os.Open(filepath.Join(s.Root, filepath.FromSlash(a.Path)))
}

// GarbageCollect removes an object's artifacts except the newest Retain ones and current, and
// any temporary file older than a minute (a writer that died).
func (s *Storage) GarbageCollect(dir string, current *meta.Artifact) error {
	abs := filepath.Join(s.Root, filepath.FromSlash(dir))
	entries, err := os.ReadDir(abs)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	type file struct {
		name string
		mod  time.Time
	}
	var files []file
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if strings.HasPrefix(e.Name(), ".tmp-") {
			if time.Since(info.ModTime()) > time.Minute {
				os.Remove(filepath.Join(abs, e.Name()))
			}
			continue
		}
		files = append(files, file{e.Name(), info.ModTime()})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.After(files[j].mod) })
	keep := s.Retain
	if keep < 1 {
		keep = 1
	}
	for i, f := range files {
		isCurrent := current != nil && path.Join(dir, f.name) == current.Path
		if i >= keep && !isCurrent {
			if err := os.Remove(filepath.Join(abs, f.name)); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
	}
	return nil
}

// Remove deletes all of an object's artifacts, when the object is deleted.
func (s *Storage) Remove(dir string) error {
	return os.RemoveAll(filepath.Join(s.Root, filepath.FromSlash(dir)))
}
