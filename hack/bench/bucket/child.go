package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/hack/bench/internal/proc"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/artifact"
	"github.com/azimuth-gitops/azimuth/internal/bucket"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// The sides a child process runs: one alone in its process, so that its CPU and memory are its
// own.
const (
	sideAzimuth   = "azimuth"
	sideReference = "azblob"
)

// The object the Azimuth side reconciles, and its secret.
const (
	objNamespace, objName, secretName = "bench", "blobs", "azure-key"
)

// childArgs is what the parent passes a child.
type childArgs struct {
	Side      string   `json:"side"`
	Dir       string   `json:"dir"`
	Endpoint  string   `json:"endpoint"`
	Account   string   `json:"account"`
	Key       string   `json:"key"`
	Container string   `json:"container"`
	ConnectTo []string `json:"connectTo"`
	CAFile    string   `json:"caFile"`
	Servers   []int    `json:"servers"`
	Blobs     int      `json:"blobs"`
	Size      int      `json:"size"`
}

func (a childArgs) transportOptions(rules []transport.Rule) *transport.Options {
	pool := x509.NewCertPool()
	if data, err := os.ReadFile(a.CAFile); err == nil {
		pool.AppendCertsFromPEM(data)
	}
	return &transport.Options{ConnectTo: rules, RootCAs: pool}
}

// childResult is what a child prints on its standard output, as JSON.
type childResult struct {
	Side string `json:"side"`
	// BaseRSSMiB is the child's RSS once its clients were ready, before the first phase;
	// HWMMiB its peak RSS over its whole life (VmHWM).
	BaseRSSMiB float64  `json:"baseRSSMiB"`
	HWMMiB     float64  `json:"hwmMiB"`
	Phases     []*phase `json:"phases"`
}

// blobName is the name of blob i: 100 directories of blobs.
func blobName(i int) string { return fmt.Sprintf("d%02d/blob-%05d.yaml", i%100, i) }

// blobIndex reads i back from blobName(i).
func blobIndex(name string) (int, bool) {
	s, ok := strings.CutPrefix(path.Base(name), "blob-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(strings.TrimSuffix(s, ".yaml"))
	return i, err == nil && blobName(i) == name
}

// content is blob i: size bytes of YAML-like lines of random hex, as compressible as text
// configuration (gzip takes it to about 60%).
func content(i, size int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 0x9e3779b97f4a7c15))
	b := make([]byte, 0, size+32)
	for n := 0; len(b) < size; n++ {
		b = fmt.Appendf(b, "key%03d: %016x%08x\n", n, r.Uint64(), r.Uint32())
	}
	return b[:size]
}

// runChild is a child process's whole life: it syncs as args.Side says, then prints its
// childResult.
func runChild(ctx context.Context, encoded string) error {
	var args childArgs
	if err := json.Unmarshal([]byte(encoded), &args); err != nil {
		return fmt.Errorf("child arguments: %w", err)
	}
	rules, err := transport.ParseConnectToList(strings.Join(args.ConnectTo, "\n"))
	if err != nil {
		return err
	}
	topts := args.transportOptions(rules)
	if err := os.MkdirAll(args.Dir, 0o755); err != nil {
		return err
	}
	var phases []*phase
	switch args.Side {
	case sideAzimuth:
		phases, err = runAzimuth(ctx, topts, args)
	case sideReference:
		phases, err = runReference(ctx, topts, args)
	default:
		err = fmt.Errorf("unknown side %q", args.Side)
	}
	if err != nil {
		return err
	}
	hwm, _ := proc.Status("self", "VmHWM")
	return json.NewEncoder(os.Stdout).Encode(childResult{Side: args.Side, BaseRSSMiB: baseRSS, HWMMiB: proc.MiB(hwm), Phases: phases})
}

// baseRSS is the child's RSS before its first phase, in MiB.
var baseRSS float64

func recordBaseRSS() {
	if r, err := proc.Status("self", "VmRSS"); err == nil {
		baseRSS = proc.MiB(r)
	}
}

// runAzimuth runs the Bucket reconciler's steps (internal/controller/bucket: reconcile, store,
// saveIndex) through their exported parts, with the Factory internal/manager builds (an
// access.Resolver over a client that holds the object's secret, Azimuth's transport), into an
// artifact.Storage of its own: a first sync into the empty storage, then an unchanged sync. The
// stored artifact's reuse (reuse.go) is not reached in either: the first has no artifact, and
// the unchanged one stops at the revision.
func runAzimuth(ctx context.Context, topts *transport.Options, args childArgs) ([]*phase, error) {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: objNamespace, Name: secretName},
		Data: map[string][]byte{"accountKey": []byte(args.Key)}}
	c := fake.NewClientBuilder().WithObjects(secret).Build()
	ids, err := identity.NewResolver(c, &identity.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		return nil, err
	}
	factory := bucket.NewFactory(access.NewResolver(c, ids, entra.NewProvider(nil), *topts))
	storage, err := artifact.NewStorage(filepath.Join(args.Dir, "storage"), "http://127.0.0.1:9090")
	if err != nil {
		return nil, err
	}
	spec := bucket.Spec{
		Spec: access.Spec{Namespace: objNamespace}, Provider: bucket.ProviderAzure,
		Endpoint: args.Endpoint, Container: args.Container, SecretRef: secretName,
	}
	recordBaseRSS()
	var stored *meta.Artifact // the object's status.artifact
	var limits bucket.Limits  // the Reconciler's: bucket.Limits' defaults
	reconcile := func(p *phase) error {
		b, err := factory.Open(ctx, spec)
		if err != nil {
			return err
		}
		listing, err := b.List(ctx, "", nil, &limits)
		if err != nil {
			return err
		}
		p.Listed = len(listing.Index)
		revision := listing.Index.Revision()
		if stored != nil && stored.Revision == revision && storage.Exists(stored) {
			p.Outcome = "revision unchanged: nothing fetched, no artifact written"
			return nil
		}
		tmp, err := os.MkdirTemp(storage.Root, ".fetch-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		// reuse: no stored artifact (the first sync), so nothing is reused.
		var have bucket.Index
		fetched, err := b.Fetch(ctx, tmp, listing.Index, have, limits.MaxSize)
		if err != nil {
			return err
		}
		p.Downloaded = fetched.Downloaded
		if fetched.Downloaded == len(listing.Index) {
			p.Bytes = listing.Size // all of it was downloaded and written
		}
		revision = fetched.Index.Revision()
		dir := artifact.Dir(sourcev1.BucketKind, objNamespace, objName)
		hexRev := strings.TrimPrefix(revision, "sha256:")
		w, err := storage.Create(dir + "/" + hexRev + ".tar.gz")
		if err != nil {
			return err
		}
		defer w.Close()
		if err := artifact.Archive(w, tmp, artifact.Ignore{}); err != nil {
			return err
		}
		a, err := w.Commit(revision)
		if err != nil {
			return err
		}
		// saveIndex
		iw, err := storage.Create(dir + "/.index/." + hexRev)
		if err != nil {
			return err
		}
		defer iw.Close()
		if _, err := fetched.Index.WriteTo(iw); err != nil {
			return err
		}
		if _, err := iw.Commit(revision); err != nil {
			return err
		}
		stored = a
		if err := storage.GarbageCollect(dir, a); err != nil {
			return err
		}
		p.ArtifactWritten = true
		if a.Size != nil {
			p.ArtifactBytes = *a.Size
		}
		p.Outcome = fmt.Sprintf("stored artifact with %d fetched files", len(fetched.Index))
		return nil
	}
	check := func(p *phase) error {
		if stored == nil {
			return errors.New("no artifact stored")
		}
		f, err := storage.Open(stored)
		if err != nil {
			return err
		}
		defer f.Close()
		return checkArtifact(f, args)
	}
	return runPhases(args, []phaseFunc{{"first", reconcile, check}, {"unchanged", reconcile, check}})
}

// checkArtifact reads the artifact's tarball: it must hold every blob with its content.
func checkArtifact(r io.Reader, args childArgs) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	seen := make([]bool, args.Blobs)
	n := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := checkBlob(strings.TrimPrefix(hdr.Name, "./"), data, args, seen); err != nil {
			return err
		}
		n++
	}
	if n != args.Blobs {
		return fmt.Errorf("the artifact holds %d files, want %d", n, args.Blobs)
	}
	return nil
}

func checkBlob(name string, data []byte, args childArgs, seen []bool) error {
	i, ok := blobIndex(name)
	if !ok || i >= args.Blobs {
		return fmt.Errorf("file %q is no blob of the container", name)
	}
	if seen[i] {
		return fmt.Errorf("file %q twice", name)
	}
	seen[i] = true
	if !bytes.Equal(data, content(i, args.Size)) {
		return fmt.Errorf("file %q does not hold what was uploaded", name)
	}
	return nil
}

// runReference is a plain azblob loop, as a script or a simple syncer would write it: list the
// container with the flat pager, then DownloadStream each blob, bucket.Concurrency at a time,
// into a file of a directory. It keeps no index: the unchanged sync does it all again, into the
// same directory.
func runReference(ctx context.Context, topts *transport.Options, args childArgs) ([]*phase, error) {
	rt, err := transport.New(topts)
	if err != nil {
		return nil, err
	}
	cred, err := azblob.NewSharedKeyCredential(args.Account, args.Key)
	if err != nil {
		return nil, err
	}
	svc, err := azblob.NewClientWithSharedKeyCredential(args.Endpoint+"/", cred,
		&azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: rt}}})
	if err != nil {
		return nil, err
	}
	cc := svc.ServiceClient().NewContainerClient(args.Container)
	dir := filepath.Join(args.Dir, "files")
	recordBaseRSS()
	loop := func(p *phase) error {
		var names []string
		pager := cc.NewListBlobsFlatPager(nil)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, b := range page.Segment.BlobItems {
				names = append(names, *b.Name)
			}
		}
		p.Listed = len(names)
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		var written, downloaded atomic.Int64
		work := make(chan string)
		var wg sync.WaitGroup
		for range bucket.Concurrency {
			wg.Go(func() {
				for name := range work {
					n, err := download(ctx, cc.NewBlobClient(name), filepath.Join(dir, filepath.FromSlash(name)))
					if err != nil {
						cancel(fmt.Errorf("%s: %w", name, err))
						continue
					}
					written.Add(n)
					downloaded.Add(1)
				}
			})
		}
		for _, name := range names {
			select {
			case work <- name:
			case <-ctx.Done():
			}
		}
		close(work)
		wg.Wait()
		if err := context.Cause(ctx); err != nil {
			return err
		}
		p.Downloaded, p.Bytes = int(downloaded.Load()), written.Load()
		p.Outcome = fmt.Sprintf("%d files written", p.Downloaded)
		return nil
	}
	check := func(p *phase) error {
		seen := make([]bool, args.Blobs)
		n := 0
		err := filepath.WalkDir(dir, func(file string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, file)
			n++
			return checkBlob(filepath.ToSlash(rel), data, args, seen)
		})
		if err == nil && n != args.Blobs {
			err = fmt.Errorf("%d files, want %d", n, args.Blobs)
		}
		return err
	}
	return runPhases(args, []phaseFunc{{"first", loop, check}, {"unchanged", loop, check}})
}

// download writes the blob to file, and returns the bytes written.
func download(ctx context.Context, bc interface {
	DownloadStream(context.Context, *azblob.DownloadStreamOptions) (azblob.DownloadStreamResponse, error)
}, file string) (int64, error) {
	res, err := bc.DownloadStream(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, res.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

type phaseFunc struct {
	name  string
	fn    func(p *phase) error
	check func(p *phase) error
}

// runPhases measures each phase, then checks, untimed, what the side holds after it.
func runPhases(args childArgs, fns []phaseFunc) ([]*phase, error) {
	var out []*phase
	for _, f := range fns {
		p, err := measure(f.name, args.Servers, f.fn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		if err := f.check(p); err != nil {
			p.CheckError = err.Error()
		}
		out = append(out, p)
	}
	return out, nil
}
