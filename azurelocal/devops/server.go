package devops

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
)

// Host names of Azure Repos.
const (
	// Host serves Git over HTTPS.
	Host = "dev.azure.com"
	// SSHHost serves Git over SSH on port 22.
	SSHHost = "ssh.dev.azure.com"
	// Resource is Azure DevOps' application ID, the audience of the Entra tokens it accepts; a
	// client asks for the scope Resource + "/.default".
	Resource = "499b84ac-1321-427f-aa17-267ca6975798"
)

// Hosts returns the host names the HTTP handler answers on; register each with the gateway.
func Hosts() []string { return []string{Host, EntitlementsHost, GraphHost} }

// Files under the state directory.
const (
	// ReposDir holds the bare repositories: ReposDir/{org}/{project}/_git/{repo}, each name in
	// lower case and path-escaped.
	ReposDir = "devops/repos"
	// HostKeyFile is the SSH host key (RSA, PEM), made once per state directory.
	HostKeyFile = "devops/ssh_host_rsa_key"
)

// Record describes one request, for tests that count clones or check a refusal. Nothing secret
// is recorded.
type Record struct {
	// Transport is "https" or "ssh".
	Transport string
	// Organization, Project and Repository are as the client named them.
	Organization, Project, Repository string
	// Request is info/refs, git-upload-pack or git-receive-pack.
	Request string
	// Service is git-upload-pack (read) or git-receive-pack (write).
	Service string
	// Auth is how the client authenticated: "bearer" (an Entra token, in a Bearer or Basic
	// header), "pat", "ssh", or "" when it did not.
	Auth string
	// Principal is the object ID of the caller once known.
	Principal string
	// Status is the HTTP status of the answer; for SSH, 200 when git ran and the refusal's
	// status otherwise.
	Status int
	// Code is the TF error code of a refusal, such as TF400813.
	Code string
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock that PAT expiry is checked against. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger receives git's error output and server errors. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithObserver calls fn after each request is answered. fn must be safe for concurrent use.
func WithObserver(fn func(Record)) Option { return func(s *Server) { s.observe = fn } }

// WithGit names the git program. Default: git from PATH.
func WithGit(path string) Option { return func(s *Server) { s.git = path } }

// Server is the Azure Repos emulator: an http.Handler for dev.azure.com and an SSH server for
// ssh.dev.azure.com. It is safe for concurrent use.
type Server struct {
	dir      *directory.Directory
	verifier *entra.Verifier
	root     string // the repositories
	now      func() time.Time
	log      *slog.Logger
	observe  func(Record)
	git      string
	backend  string // git-http-backend
	gitEnv   []string
	hostKey  ssh.Signer

	repoMu sync.Mutex // serializes repository creation

	statuses statusStore // commit statuses, in memory

	sshMu     sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closed    bool
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New returns an Azure Repos emulator for the organizations of dir, verifying Entra tokens with
// verifier. It keeps its repositories and SSH host key under stateDir, making a bare repository
// for each one the directory declares that does not exist yet (with HEAD on main, as Azure Repos
// makes them) and the host key on first use.
func New(dir *directory.Directory, verifier *entra.Verifier, stateDir string, opts ...Option) (*Server, error) {
	if stateDir == "" {
		return nil, fmt.Errorf("devops: a state directory is required")
	}
	s := &Server{
		dir: dir, verifier: verifier, root: filepath.Join(stateDir, filepath.FromSlash(ReposDir)),
		now: time.Now, log: slog.Default(), git: "git",
		listeners: map[net.Listener]struct{}{}, conns: map[net.Conn]struct{}{},
	}
	for _, o := range opts {
		o(s)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	git, err := exec.LookPath(s.git)
	if err != nil {
		return nil, fmt.Errorf("devops: the git program is needed to serve repositories: %w", err)
	}
	s.git = git
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return nil, fmt.Errorf("devops: %w", err)
	}
	// git reads no configuration but the repository's: the emulator behaves the same on every
	// machine.
	s.gitEnv = []string{"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "HOME=" + s.root, "GIT_TERMINAL_PROMPT=0"}
	out, err := exec.Command(s.git, "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("devops: git --exec-path: %w", err)
	}
	s.backend = filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(s.backend); err != nil {
		return nil, fmt.Errorf("devops: git's http-backend is needed to serve Git over HTTPS: %w", err)
	}
	if s.hostKey, err = loadOrCreateHostKey(filepath.Join(stateDir, filepath.FromSlash(HostKeyFile))); err != nil {
		return nil, err
	}
	for _, r := range dir.DevOpsRepositories() {
		if _, err := s.ensureRepo(r); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Create declares a repository in an existing project of the directory, if it is not declared
// yet, and makes its bare repository; it returns the repository's path on disk, which tests may
// fill with git directly.
func (s *Server) Create(org, project, repo string) (string, error) {
	if err := s.dir.AddDevOpsRepository(org, project, repo); err != nil {
		return "", fmt.Errorf("devops: %w", err)
	}
	r, ok := s.dir.DevOpsRepository(org, project, repo)
	if !ok {
		return "", fmt.Errorf("devops: repository %s/%s/%s vanished", org, project, repo)
	}
	return s.ensureRepo(r)
}

// RepoPath returns where a declared repository lives on disk; the repository is made if it is
// missing.
func (s *Server) RepoPath(org, project, repo string) (string, error) {
	r, ok := s.dir.DevOpsRepository(org, project, repo)
	if !ok {
		return "", fmt.Errorf("devops: repository %s/%s/%s is not declared in the directory", org, project, repo)
	}
	return s.ensureRepo(r)
}

// relPath is the repository's path below root, slash-separated.
func relPath(r directory.DevOpsRepository) string {
	seg := func(s string) string { return url.PathEscape(strings.ToLower(s)) }
	return seg(r.Organization) + "/" + seg(r.Project) + "/_git/" + seg(r.Name)
}

// ensureRepo makes the bare repository if it does not exist.
func (s *Server) ensureRepo(r directory.DevOpsRepository) (string, error) {
	path := filepath.Join(s.root, filepath.FromSlash(relPath(r)))
	if _, err := os.Stat(filepath.Join(path, "HEAD")); err == nil {
		return path, nil
	}
	s.repoMu.Lock()
	defer s.repoMu.Unlock()
	if _, err := os.Stat(filepath.Join(path, "HEAD")); err == nil {
		return path, nil
	}
	cmd := exec.Command(s.git, "init", "--bare", "--quiet", "--initial-branch=main", path)
	cmd.Env = append(os.Environ(), s.gitEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("devops: create repository %s/%s/%s: %v: %s", r.Organization, r.Project, r.Name, err, strings.TrimSpace(stderr.String()))
	}
	return path, nil
}

// HostKey returns the SSH host key's public half.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// KnownHostsLine returns the known_hosts line that trusts the host key for the hosts, such as
// "ssh.dev.azure.com ssh-rsa AAAA...".
func (s *Server) KnownHostsLine(hosts ...string) string {
	return strings.Join(hosts, ",") + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.hostKey.PublicKey())))
}

func (s *Server) record(rec Record) {
	if s.observe != nil {
		s.observe(rec)
	}
}
