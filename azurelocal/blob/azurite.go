package blob

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// AzuriteEnv names the environment variable that points at Azurite's azurite-blob executable,
// for machines where it is not installed in the repository's hack/azurite.
const AzuriteEnv = "AZIMUTH_AZURITE"

// azuriteInRepo is where `make tools` installs the pinned Azurite, relative to the repository.
const azuriteInRepo = "hack/azurite/node_modules/.bin/azurite-blob"

// AzuriteOptions configure StartAzurite.
type AzuriteOptions struct {
	// Command is Azurite's azurite-blob executable. Default: FindAzurite's answer.
	Command string
	// Accounts are the storage accounts Azurite serves, each with its keys (AZURITE_ACCOUNTS),
	// and the containers to create in them. Required: Azurite's own devstoreaccount1 is never
	// served.
	Accounts []directory.StorageAccount
	// CertFile and KeyFile hold the PEM certificate chain and key Azurite serves HTTPS with; the
	// certificate must name 127.0.0.1. Required: Azurite takes Bearer tokens over HTTPS only.
	CertFile, KeyFile string
	// RootCAs verify Azurite's certificate, for the requests forwarded to it. Required.
	RootCAs *x509.CertPool
	// Location is the directory Azurite keeps blobs in (--location), so that they survive a
	// restart. Default: "", blobs live in memory (--inMemoryPersistence) and end with Stop.
	Location string
	// Ready is how long Azurite may take to listen. Default: 30 seconds.
	Ready time.Duration
}

// Azurite is a running Azurite: the Blob service of the local Azure, listening on 127.0.0.1
// behind the gateway. It runs in a process group of its own and is killed if this process dies.
type Azurite struct {
	cmd       *exec.Cmd
	url       string // https://127.0.0.1:PORT
	transport *http.Transport
	log       *tailBuffer
	done      chan struct{}
	waitErr   error // set before done is closed
	stopOnce  sync.Once
}

// listening is the line Azurite prints once it accepts connections.
var listening = regexp.MustCompile(`Azurite Blob service successfully listens on (https://127\.0\.0\.1:[0-9]+)`)

// StartAzurite starts Azurite on a free port of 127.0.0.1 with HTTPS, OAuth ("basic": it reads
// a Bearer token's issuer, audience and lifetime, and the gateway has verified the rest), no API
// version check (the Go SDK sends versions newer than Azurite knows) and no telemetry, creates
// the accounts' containers, and returns once it answers. On error nothing is left running.
func StartAzurite(ctx context.Context, opts *AzuriteOptions) (*Azurite, error) {
	var o AzuriteOptions
	if opts != nil {
		o = *opts
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Command == "" {
		cmd, err := FindAzurite()
		if err != nil {
			return nil, err
		}
		o.Command = cmd
	}
	if o.Ready == 0 {
		o.Ready = 30 * time.Second
	}
	a, err := o.start()
	if err != nil {
		return nil, err
	}
	if err := a.waitReady(ctx, o.Ready); err != nil {
		a.Stop()
		return nil, err
	}
	if err := a.createContainers(ctx, o.Accounts); err != nil {
		a.Stop()
		return nil, err
	}
	return a, nil
}

func (o *AzuriteOptions) check() error {
	var missing []string
	if len(o.Accounts) == 0 {
		missing = append(missing, "Accounts (declare resources.storageAccounts in the directory)")
	}
	if o.CertFile == "" || o.KeyFile == "" {
		missing = append(missing, "CertFile and KeyFile")
	}
	if o.RootCAs == nil {
		missing = append(missing, "RootCAs")
	}
	if len(missing) > 0 {
		return fmt.Errorf("blob: Azurite needs %s", strings.Join(missing, ", "))
	}
	return nil
}

// args are Azurite's command line. The port is 0, so that test packages running at once each
// get their own; Azurite prints the one it chose.
func (o *AzuriteOptions) args() []string {
	args := []string{
		"--blobHost", "127.0.0.1", "--blobPort", "0",
		"--oauth", "basic", "--cert", o.CertFile, "--key", o.KeyFile,
		"--skipApiVersionCheck", "--disableTelemetry", "--silent",
	}
	if o.Location != "" {
		return append(args, "--location", o.Location)
	}
	return append(args, "--inMemoryPersistence")
}

// accountsEnv renders AZURITE_ACCOUNTS: account:key1[:key2], separated by semicolons.
func accountsEnv(accounts []directory.StorageAccount) string {
	var parts []string
	for _, sa := range accounts {
		parts = append(parts, strings.Join(append([]string{strings.ToLower(sa.Name)}, sa.Keys...), ":"))
	}
	return strings.Join(parts, ";")
}

func (o *AzuriteOptions) start() (*Azurite, error) {
	dir := o.Location
	if dir == "" {
		// In memory Azurite writes nothing, but give it a working directory that is surely ours.
		dir = os.TempDir()
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	cmd := exec.Command(o.Command, o.args()...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "AZURITE_ACCOUNTS="+accountsEnv(o.Accounts))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	a := &Azurite{cmd: cmd, log: &tailBuffer{max: 16 << 10}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = a.log, a.log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("blob: start Azurite (%s): %w; run `make tools` to install it, or set %s", o.Command, err, AzuriteEnv)
	}
	go func() {
		a.waitErr = cmd.Wait()
		close(a.done)
	}()
	a.transport = &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     time.Minute,
	}
	return a, nil
}

// waitReady waits for Azurite's "listens on" line.
func (a *Azurite) waitReady(ctx context.Context, limit time.Duration) error {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if m := listening.FindStringSubmatch(a.log.String()); m != nil {
			a.url = m[1]
			return nil
		}
		select {
		case <-a.done:
			return fmt.Errorf("blob: Azurite exited (%v) before it listened; its output:\n%s", a.waitErr, a.log.String())
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return fmt.Errorf("blob: Azurite did not listen within %s; its output:\n%s", limit, a.log.String())
		case <-tick.C:
		}
	}
}

// URL returns Azurite's own address, such as https://127.0.0.1:41234. Requests to it must carry
// the account's host name (ACCOUNT.blob.core.windows.net) in Host: Azurite reads the account
// from it.
func (a *Azurite) URL() string { return a.url }

// Transport reaches Azurite, trusting its certificate.
func (a *Azurite) Transport() http.RoundTripper { return a.transport }

// Output returns the last lines Azurite printed, for error messages.
func (a *Azurite) Output() string { return a.log.String() }

// Stop stops Azurite and waits for it to exit: SIGTERM to its process group, and SIGKILL if it
// has not exited within five seconds (Azurite saves its metadata on SIGTERM when it persists).
// It is safe to call more than once.
func (a *Azurite) Stop() error {
	var err error
	a.stopOnce.Do(func() {
		a.transport.CloseIdleConnections()
		pgid := a.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-a.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-a.done
			err = fmt.Errorf("blob: Azurite did not exit within 5s of SIGTERM and was killed; its output:\n%s", a.log.String())
		}
		// Children that outlived their leader still belong to the group.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
	return err
}

// FindAzurite returns Azurite's azurite-blob executable: $AZIMUTH_AZURITE, else the one `make
// tools` installs in hack/azurite of the repository that holds the working directory, else
// azurite-blob on PATH.
func FindAzurite() (string, error) {
	if cmd := os.Getenv(AzuriteEnv); cmd != "" {
		return cmd, nil
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
				bytes.Contains(data, []byte("module github.com/azimuth-gitops/azimuth\n")) {
				if cmd := filepath.Join(dir, azuriteInRepo); fileExists(cmd) {
					return cmd, nil
				}
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if cmd, err := exec.LookPath("azurite-blob"); err == nil {
		return cmd, nil
	}
	return "", errors.New("blob: Azurite is not installed: run `make tools` in the Azimuth repository (it installs the pinned Azurite into " +
		azuriteInRepo + "), or set " + AzuriteEnv + " to an azurite-blob executable")
}

func fileExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir()
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
