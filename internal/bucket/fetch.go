package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/azimuth-gitops/azimuth/internal/azure/blob"
)

// Concurrency is how many blobs Fetch downloads at once.
const Concurrency = 8

// Fetched is what Fetch downloaded.
type Fetched struct {
	// Index is the blobs dir holds, with the ETags of what was downloaded: a blob changed since
	// it was listed has its new ETag, and a blob deleted since is gone from it.
	Index Index
	// Downloaded counts the blobs downloaded; the others were in dir already.
	Downloaded int
}

// Fetch makes dir hold the blobs of want: it downloads, Concurrency at a time, each blob whose
// ETag in have (the blobs dir holds already, such as those copied from the stored artifact)
// differs from want's. Files of dir that want does not name are removed. maxSize bounds the
// bytes downloaded (0: Limits' default). On error, dir holds part of the blobs: discard it.
func (b *Bucket) Fetch(ctx context.Context, dir string, want, have Index, maxSize int64) (*Fetched, error) {
	if maxSize <= 0 {
		maxSize = Limits{}.withDefaults().MaxSize
	}
	out := &Fetched{Index: Index{}}
	var todo []string
	for name, etag := range want {
		if have[name] == etag && etag != "" {
			out.Index[name] = etag
			continue
		}
		todo = append(todo, name)
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(name))); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		left    atomic.Int64
		slots   = make(chan struct{}, Concurrency)
		counted int
	)
	left.Store(maxSize)
	for _, name := range todo {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			etag, err := b.download(ctx, dir, name, &left, maxSize)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, blob.ErrBlobNotFound):
				log.FromContext(ctx).Info("a listed blob disappeared before its download", "blob", name)
			case err != nil:
				cancel(err)
			default:
				out.Index[name] = etag
				counted++
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	out.Downloaded = counted
	return out, nil
}

// download writes blob name to its path under dir, and returns its ETag.
func (b *Bucket) download(ctx context.Context, dir, name string, left *atomic.Int64, maxSize int64) (string, error) {
	file := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return "", fmt.Errorf("blob '%s': %w", name, err)
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return "", fmt.Errorf("blob '%s': %w", name, err)
	}
	etag, err := b.container.Download(ctx, name, &budget{w: f, left: left, max: maxSize, name: name})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(file)
		return "", err
	}
	return etag, nil
}

// budget writes to w while the bytes of all downloads stay within max.
type budget struct {
	w    io.Writer
	left *atomic.Int64
	max  int64
	name string
}

func (b *budget) Write(p []byte) (int, error) {
	if b.left.Add(-int64(len(p))) < 0 {
		return 0, &LimitError{fmt.Sprintf("the blobs grew beyond %d bytes while downloading (at '%s'), Azimuth's limit on one artifact: "+
			"narrow spec.prefix, or leave blobs out with spec.ignore or .sourceignore", b.max, path.Base(b.name))}
	}
	return b.w.Write(p)
}
