package devops

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// sshVersion is the banner Azure DevOps' SSH endpoint sends.
const sshVersion = "SSH-2.0-SSHBlackbox.10"

const fingerprintExtension = "devops-key-fingerprint"

// sshConfig accepts the RSA keys registered in any organization; which organization the key may
// reach is decided when the command names one.
func (s *Server) sshConfig() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		ServerVersion: sshVersion,
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			fp := ssh.FingerprintSHA256(key)
			if key.Type() != ssh.KeyAlgoRSA || len(s.dir.DevOpsKeyOwners(fp)) == 0 {
				return nil, errors.New("the key is not registered")
			}
			return &ssh.Permissions{Extensions: map[string]string{fingerprintExtension: fp}}, nil
		},
	}
	cfg.AddHostKey(s.hostKey)
	return cfg
}

// ServeSSH accepts SSH connections on l until l fails or Close is called. It returns nil after
// Close.
func (s *Server) ServeSSH(l net.Listener) error {
	s.sshMu.Lock()
	if s.closed {
		s.sshMu.Unlock()
		l.Close()
		return nil
	}
	s.listeners[l] = struct{}{}
	s.sshMu.Unlock()
	cfg := s.sshConfig()
	for {
		conn, err := l.Accept()
		if err != nil {
			s.sshMu.Lock()
			closed := s.closed
			delete(s.listeners, l)
			s.sshMu.Unlock()
			if closed {
				return nil
			}
			return err
		}
		if !s.track(conn) {
			conn.Close()
			return nil
		}
		s.wg.Go(func() {
			defer s.untrack(conn)
			s.serveConn(conn, cfg)
		})
	}
}

func (s *Server) track(c net.Conn) bool {
	s.sshMu.Lock()
	defer s.sshMu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	c.Close()
	s.sshMu.Lock()
	delete(s.conns, c)
	s.sshMu.Unlock()
}

// Close stops the SSH listeners, ends the connections and the git processes they run, and waits
// for them. It is safe to call more than once.
func (s *Server) Close() error {
	s.sshMu.Lock()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.sshMu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

func (s *Server) serveConn(conn net.Conn, cfg *ssh.ServerConfig) {
	// The handshake must not hold a connection forever.
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	conn.SetDeadline(time.Time{})
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	fp := sc.Permissions.Extensions[fingerprintExtension]
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only session channels are served")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		s.wg.Go(func() { s.session(ch, chReqs, fp) })
	}
}

// session serves one channel: the first exec request runs; env, pty, shell and the rest are
// refused, so GIT_PROTOCOL cannot ask for protocol v2.
func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request, fp string) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(false, nil)
			continue
		}
		var payload struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
			req.Reply(false, nil)
			continue
		}
		req.Reply(true, nil)
		go ssh.DiscardRequests(reqs)
		status := s.exec(ch, payload.Command, fp)
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}

// exec runs one git command for the key's owner and returns its exit status. A refusal is
// written to stderr as Azure DevOps writes it; git shows it and says it could not read from the
// remote repository.
func (s *Server) exec(ch ssh.Channel, command, fp string) uint32 {
	rec := Record{Transport: "ssh", Auth: "ssh", Request: "exec"}
	defer func() { s.record(rec) }()
	cmd, err := parseSSHCommand(command)
	if err != nil {
		fmt.Fprintf(ch.Stderr(), "remote: cannot run %s: %v\n", command, err)
		rec.Status = 400
		return 1
	}
	rec.Organization, rec.Project, rec.Repository, rec.Service = cmd.Org, cmd.Project, cmd.Repo, cmd.Service
	c, f := s.keyCaller(cmd.Org, fp)
	rec.Principal = c.objectID
	var repo directory.DevOpsRepository
	if f == nil {
		repo, _, f = s.authorize(cmd.repoRef, cmd.Service, c)
	}
	if f != nil {
		rec.Status, rec.Code = f.status, f.code
		fmt.Fprintf(ch.Stderr(), "remote: %s\n", f.message)
		return 1
	}
	path, err := s.ensureRepo(repo)
	if err != nil {
		s.log.Error("devops: repository missing", "repository", relPath(repo), "error", err)
		fmt.Fprintf(ch.Stderr(), "remote: the repository could not be opened\n")
		rec.Status = 500
		return 1
	}
	rec.Status = 200
	return s.runGit(ch, cmd.Service, path)
}

// keyCaller is the owner of the key in the organization. A key that its owner registered in
// another organization only is refused naming that owner, as a stranger to this organization.
func (s *Server) keyCaller(org, fp string) (caller, *refusal) {
	owners := s.dir.DevOpsKeyOwners(fp)
	for _, o := range owners {
		if strings.EqualFold(o.Organization, org) {
			return caller{auth: "ssh", objectID: o.Owner.ObjectID, tenantID: o.Owner.TenantID, name: o.Owner.Name}, nil
		}
	}
	if _, ok := s.dir.DevOpsTenant(org); !ok {
		return caller{}, nil // authorize answers TF401019 for an unknown organization
	}
	name := ""
	if len(owners) > 0 {
		name = owners[0].Owner.Name
	}
	return caller{}, &refusal{status: 401, code: codeNotAuthorized, message: msgNotAuthorized(name)}
}

// runGit runs git upload-pack or receive-pack on the repository with the channel as its input
// and output, and returns its exit status. The first packet of an upload-pack request is checked
// for multi_ack, as over HTTPS.
func (s *Server) runGit(ch ssh.Channel, service, path string) uint32 {
	cmd := exec.CommandContext(s.ctx, s.git, strings.TrimPrefix(service, "git-"), path)
	cmd.Env = append(os.Environ(), s.gitEnv...)
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 1
	}
	if err := cmd.Start(); err != nil {
		s.log.Error("devops: start git", "error", err)
		return 1
	}
	refused := make(chan struct{})
	go func() {
		defer stdin.Close()
		in := io.Reader(ch)
		if service == UploadPack {
			br := bufio.NewReaderSize(ch, 65536)
			if !firstWantAsksMultiAck(br) {
				fmt.Fprintf(ch.Stderr(), "remote: %s\n", msgMultiAck)
				close(refused)
				cmd.Process.Kill()
				return
			}
			in = br
		}
		io.Copy(stdin, in)
	}()
	err = cmd.Wait()
	select {
	case <-refused:
		return 128
	default:
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		return uint32(exit.ExitCode())
	}
	return 1
}

// firstWantAsksMultiAck peeks at the first packet the client sends upload-pack, leaving it in br.
func firstWantAsksMultiAck(br *bufio.Reader) bool {
	head, err := br.Peek(4)
	if err != nil {
		return true // the client went away; git sees the end of its input
	}
	var n int
	if _, err := fmt.Sscanf(string(head), "%04x", &n); err != nil || n < 4 {
		return true // a flush, or something git itself will refuse
	}
	pkt, err := br.Peek(n)
	if err != nil {
		return true
	}
	return asksMultiAck(strings.NewReader(string(pkt)))
}
