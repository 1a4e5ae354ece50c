package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/devenv"
	"github.com/azimuth-gitops/azimuth/internal/azure/devops"
)

// Options configure Start.
type Options struct {
	// StateDir keeps the local Azure's CA across runs (in azure/) and, for the current run, the
	// Kubernetes data and kubeconfig (kube/), the artifacts and the controller's token file. A
	// run starts from a fresh cluster. Default: DefaultStateDir().
	StateDir string
	// Directory is the local Azure's directory; it must hold the identities, application and
	// registry the samples use. Default: the built-in one.
	Directory *directory.Directory
	// BinDir holds etcd and kube-apiserver. Default: $AZIMUTH_BIN_DIR, or the repository's bin/.
	BinDir string
	// Progress receives one line per step as the system starts. Default: io.Discard.
	Progress io.Writer
	// SettleTimeout bounds Settle's wait for the objects. Default: 2m.
	SettleTimeout time.Duration
	// TokenRefresh is how often the controller's token file is rewritten; tokens live an hour.
	// Default: 30m.
	TokenRefresh time.Duration
	// Logs, when set, is given the file for the controllers' logs (STATE/controllers.log) before
	// any controller starts, typically to point controller-runtime's logger at it; the file is
	// closed by Stop. Default: the logs are not kept.
	Logs func(io.Writer)
}

// LogFile is the file of the state directory that receives the controllers' logs.
const LogFile = "controllers.log"

// DefaultStateDir is the user cache directory's azimuth/dev.
func DefaultStateDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("choose a state directory: %w (set one explicitly)", err)
	}
	return filepath.Join(cache, "azimuth", "dev"), nil
}

// perRun are the state directory's entries a run starts without.
var perRun = []string{"kube", "artifacts", "controller", LogFile}

// System is the running demo.
type System struct {
	// Env is the whole system: Kubernetes, the local Azure and their clients.
	Env *devenv.Env
	// StateDir is the state directory in use.
	StateDir string

	opts     Options
	names    *names
	progress *progress
	lock     *os.File
	logs     *os.File
	applied  []sample
	// sopsSecret is SOPSSecret encrypted with the vault's key, pushed with the samples; nil
	// without a vault.
	sopsSecret []byte
	cancel     context.CancelFunc // stops the managers and the token refresh
	managers   []<-chan error
	// statuses reads commit statuses back for the table; closeStatuses closes its connections.
	statuses      *devops.Statuses
	closeStatuses func()
}

// Start brings up Kubernetes, the local Azure and the controllers, sets up the sample tenants,
// pushes the samples and applies the sample objects, reporting each step to Options.Progress.
// It returns without waiting for the objects: see Settle. On error nothing is left running.
func Start(ctx context.Context, opts *Options) (s *System, err error) {
	s = &System{}
	if opts != nil {
		s.opts = *opts
	}
	if err := s.defaults(); err != nil {
		return nil, err
	}
	dir := s.opts.Directory
	if dir == nil {
		dir = directory.Default()
	}
	dir, sshKey, err := withDevOpsSamples(dir, objectWITenant().identity)
	if err != nil {
		return nil, err
	}
	if dir, err = withBlobSamples(dir); err != nil {
		return nil, err
	}
	if s.names, err = lookup(dir); err != nil {
		return nil, err
	}
	s.names.sshKey = sshKey
	if err := s.prepareStateDir(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Stop()
			s = nil
		}
	}()
	if s.opts.Logs != nil {
		if s.logs, err = os.Create(filepath.Join(s.StateDir, LogFile)); err != nil {
			return s, err
		}
		s.opts.Logs(s.logs)
	}
	fmt.Fprintf(s.progress.w, "Starting Azimuth with the local Azure (state directory %s)\n", s.StateDir)
	s.Env, err = devenv.Start(ctx, &devenv.Options{StateDir: s.StateDir, Directory: dir, BinDir: s.opts.BinDir, Step: func(part string) func(error) {
		done := s.progress.step(part)
		return func(err error) { done("", err) }
	}})
	if err != nil {
		return s, err
	}
	for _, st := range []struct {
		what string
		run  func(context.Context) (string, error)
	}{
		{"sample tenants", s.setUpTenants},
		{"SOPS Secret encrypted with Key Vault", s.encryptSecret},
		{"samples pushed to " + s.names.registryHost(), s.pushSamples},
		{"samples pushed to Azure DevOps", s.pushGit},
		{"samples uploaded to Blob Storage", s.uploadBlobs},
	} {
		done := s.progress.step(st.what)
		summary, err := st.run(ctx)
		if done(summary, err); err != nil {
			return s, fmt.Errorf("%s: %w", st.what, err)
		}
	}
	if err := s.startControllers(ctx); err != nil {
		return s, err
	}
	done := s.progress.step("sample objects")
	summary, err := s.applySamples(ctx)
	if done(summary, err); err != nil {
		return s, fmt.Errorf("applying the samples: %w", err)
	}
	return s, nil
}

func (s *System) defaults() error {
	if s.opts.StateDir == "" {
		dir, err := DefaultStateDir()
		if err != nil {
			return err
		}
		s.opts.StateDir = dir
	}
	if s.opts.Progress == nil {
		s.opts.Progress = io.Discard
	}
	if s.opts.SettleTimeout <= 0 {
		s.opts.SettleTimeout = 2 * time.Minute
	}
	if s.opts.TokenRefresh <= 0 {
		s.opts.TokenRefresh = 30 * time.Minute
	}
	s.progress = &progress{w: s.opts.Progress, now: time.Now, start: time.Now()}
	return nil
}

// prepareStateDir takes the state directory's lock, so that two runs never share a cluster,
// and removes what the previous run left of its cluster.
func (s *System) prepareStateDir() error {
	abs, err := filepath.Abs(s.opts.StateDir)
	if err != nil {
		return err
	}
	s.StateDir = abs
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return fmt.Errorf("creating the state directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(abs, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("another azimuth dev up is using %s: stop it, or pass --state-dir", abs)
		}
		return fmt.Errorf("locking %s: %w", abs, err)
	}
	s.lock = lock
	for _, name := range perRun {
		if err := os.RemoveAll(filepath.Join(abs, name)); err != nil {
			s.unlock()
			return fmt.Errorf("removing the previous run's %s: %w", name, err)
		}
	}
	return nil
}

// Stop stops the controllers, then the local Azure and Kubernetes, and waits until their
// processes have exited. It is safe to call more than once.
func (s *System) Stop() error {
	if s == nil {
		return nil
	}
	if s.cancel != nil {
		s.cancel()
	}
	var errs []error
	for _, stopped := range s.managers {
		if err := <-stopped; err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("a controller manager: %w", err))
		}
	}
	s.managers = nil
	if s.closeStatuses != nil {
		s.closeStatuses()
		s.closeStatuses, s.statuses = nil, nil
	}
	if s.Env != nil {
		s.Env.Stop()
		s.Env = nil
	}
	if s.logs != nil {
		s.logs.Close()
		s.logs = nil
	}
	s.unlock()
	return errors.Join(errs...)
}

func (s *System) unlock() {
	if s.lock != nil {
		s.lock.Close() // closing the file releases the lock
		s.lock = nil
	}
}
