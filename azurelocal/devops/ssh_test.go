package devops_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/devops"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// sshEnv makes git use ssh with user's key against the SSH listener, trusting the host key only
// through STATE/known_hosts under the name ssh.dev.azure.com.
func sshEnv(t *testing.T, user string) []string {
	t.Helper()
	_, port, err := net.SplitHostPort(local.azure.SSHAddr())
	if err != nil {
		t.Fatal(err)
	}
	known := filepath.Join(local.azure.StateDir(), azurelocal.KnownHostsFile)
	return []string{fmt.Sprintf("GIT_SSH_COMMAND=ssh -F /dev/null -p %s -i %s -o IdentitiesOnly=yes -o BatchMode=yes "+
		"-o UserKnownHostsFile=%s -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o HostKeyAlias=%s",
		port, local.keys[user], known, devops.SSHHost)}
}

// sshURL is the scp-like URL Azure DevOps prints, on the local listener's address.
const sshURL = "git@127.0.0.1:" + sshPath

// TestGitOverSSH: the git CLI clones and pushes over SSH with a Contributor's registered RSA key,
// in the scp-like and the ssh:// form; the refusals are Azure DevOps' messages after "remote: ".
func TestGitOverSSH(t *testing.T) {
	cloneAndPush(t, sshURL, sshEnv(t, alice), nil, "ssh")
	cloneAndPush(t, "ssh://git@127.0.0.1/"+sshPath, sshEnv(t, alice), nil, "ssh-url")

	t.Run("reader pushing", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "clone")
		mustGit(t, sshEnv(t, bob), "clone", "--quiet", sshURL, dir)
		mustGit(t, nil, "-C", dir, "commit", "--quiet", "--allow-empty", "-m", "denied")
		out, err := git(t, sshEnv(t, bob), "-C", dir, "push", "origin", "HEAD:refs/heads/denied")
		if err == nil {
			t.Fatalf("the push succeeded:\n%s", out)
		}
		mustContain(t, out, "remote: TF401027: You need the Git 'GenericContribute' permission to perform this action. Details: identity '"+bob+"', scope 'repository'.",
			"Could not read from remote repository")
	})
	for _, tt := range []struct {
		name, user, url string
		gitSays         string
	}{
		{"non-member", carol, sshURL, "remote: TF400813: The user '" + carol + "' is not authorized to access this resource."},
		{"unregistered key", "stranger", sshURL, "Permission denied (publickey)"},
		{"unknown repository", alice, strings.Replace(sshURL, "/infra", "/nope", 1), "remote: TF401019: The Git repository with name or identifier nope does not exist"},
		{"unknown organization", alice, strings.Replace(sshURL, "contoso", "nowhere", 1), "remote: TF401019"},
		{"not a v3 path", alice, "git@127.0.0.1:contoso/My%20Project/infra", "is not v3/{organization}/{project}/{repository}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := git(t, sshEnv(t, tt.user), "clone", tt.url, filepath.Join(t.TempDir(), "clone"))
			if err == nil {
				t.Fatalf("the clone succeeded:\n%s", out)
			}
			mustContain(t, out, tt.gitSays)
		})
	}
}

// TestSSHConnectTo: a Go SSH client reaches ssh.dev.azure.com:22 through the connect-to map and
// trusts the host by STATE/known_hosts, as the engine's SSH transport will; an upload-pack
// request without multi_ack is refused there too.
func TestSSHConnectTo(t *testing.T) {
	known := filepath.Join(local.azure.StateDir(), azurelocal.KnownHostsFile)
	data, err := os.ReadFile(known)
	if err != nil || string(data) != local.azure.DevOps().KnownHostsLine(devops.SSHHost)+"\n" || !strings.HasPrefix(string(data), "ssh.dev.azure.com ssh-rsa ") {
		t.Fatalf("known_hosts = %q, %v", data, err)
	}
	opts := &transport.Options{ConnectTo: local.rules}
	conn, err := opts.Dial(t.Context(), "tcp", devops.SSHHost+":22")
	if err != nil {
		t.Fatal(err)
	}
	client := sshClient(t, conn)
	if v := string(client.ServerVersion()); v != "SSH-2.0-SSHBlackbox.10" {
		t.Errorf("server version %q", v)
	}
	session, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	stdin, _ := session.StdinPipe()
	stdout, _ := session.StdoutPipe()
	var stderr bytes.Buffer
	session.Stderr = &stderr
	if err := session.Start("git-upload-pack '" + sshPath + "'"); err != nil {
		t.Fatal(err)
	}
	// The advertisement: HEAD with the capabilities of protocol v0, then the refs, then a flush.
	br := bufio.NewReader(stdout)
	first := readPkt(t, br)
	if !strings.HasPrefix(first, local.seeded+" HEAD\x00") || !strings.Contains(first, "multi_ack_detailed") {
		t.Errorf("first advertised ref %q", first)
	}
	for readPkt(t, br) != "" {
	}
	fmt.Fprintf(stdin, "%s0000%s", pktLine("want "+local.seeded+" side-band-64k ofs-delta\n"), pktLine("done\n"))
	io.Copy(io.Discard, br)
	var exit *ssh.ExitError
	if err := session.Wait(); !errors.As(err, &exit) || exit.ExitStatus() != 128 {
		t.Errorf("exit: %v", err)
	}
	mustContain(t, stderr.String(), "remote: TF401041: The Git protocol sent is not as expected (Clients must support multi-ack.).")

	// Shells and other commands are not served.
	s2, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	out, err := s2.CombinedOutput("git-upload-archive '" + sshPath + "'")
	if err == nil || !strings.Contains(string(out), "only git-upload-pack and git-receive-pack are served") {
		t.Errorf("upload-archive: %v %q", err, out)
	}
}

// sshClient logs in as alice over conn, trusting the host key by STATE/known_hosts for
// ssh.dev.azure.com.
func sshClient(t *testing.T, conn net.Conn) *ssh.Client {
	t.Helper()
	callback, err := knownhosts.New(filepath.Join(local.azure.StateDir(), azurelocal.KnownHostsFile))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(local.keys[alice])
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, devops.SSHHost+":22", &ssh.ClientConfig{
		User: "git", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: callback,
		HostKeyAlgorithms: []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256},
	})
	if err != nil {
		t.Fatal(err)
	}
	return ssh.NewClient(sc, chans, reqs)
}

// TestSSHThroughProxy: the local proxy tunnels ssh.dev.azure.com:22 to the SSH listener, for
// ssh's ProxyCommand.
func TestSSHThroughProxy(t *testing.T) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(local.azure.ProxyURL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "CONNECT ssh.dev.azure.com:22 HTTP/1.1\r\nHost: ssh.dev.azure.com:22\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	client := sshClient(t, bufferedConn{conn, br})
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	out, err := session.Output("git-upload-pack '" + sshPath + "'")
	if !strings.Contains(string(out), local.seeded+" HEAD") {
		t.Errorf("advertisement %q, %v", out, err)
	}
}

// bufferedConn reads what a bufio.Reader kept of a connection first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func readPkt(t *testing.T, r io.Reader) string {
	t.Helper()
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		t.Fatal(err)
	}
	var n int
	if _, err := fmt.Sscanf(string(head[:]), "%04x", &n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		return ""
	}
	buf := make([]byte, n-4)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	return string(buf)
}

// TestHostKeyPersists: a server started again on the same state directory presents the same
// host key, so known_hosts stays valid.
func TestHostKeyPersists(t *testing.T) {
	again, err := devops.New(local.azure.Directory(), local.azure.Entra().Verifier(), local.azure.StateDir())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if !bytes.Equal(again.HostKey().Marshal(), local.azure.DevOps().HostKey().Marshal()) {
		t.Error("the host key changed")
	}
	if !strings.Contains(strings.Join(local.azure.ConnectTo(), "\n"), "ssh.dev.azure.com:22:"+local.azure.SSHAddr()) {
		t.Errorf("connect-to lacks ssh.dev.azure.com:22: %v", local.azure.ConnectTo())
	}
}

// TestCloseEndsSessions: Close ends a session that waits for its client, and the git process it
// runs, at once; ServeSSH then returns nil.
func TestCloseEndsSessions(t *testing.T) {
	srv, err := devops.New(local.azure.Directory(), local.azure.Entra().Verifier(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeSSH(l) }()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(local.keys[alice])
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, devops.SSHHost+":22", &ssh.ClientConfig{
		User: "git", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
	})
	if err != nil {
		t.Fatal(err)
	}
	client := ssh.NewClient(sc, chans, reqs)
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stdout, _ := session.StdoutPipe()
	if err := session.Start("git-upload-pack '" + sshPath + "'"); err != nil {
		t.Fatal(err)
	}
	// The repository of this state directory is empty: its advertisement is a flush, and
	// upload-pack waits for the client's.
	if first := readPkt(t, stdout); first != "" {
		t.Fatalf("advertisement %q", first)
	}
	// Close must not wait for the client, which waits for the server: a Close that did would
	// never return.
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close waits for a session whose client is waiting for the server")
	}
	if err := <-served; err != nil {
		t.Errorf("ServeSSH = %v", err)
	}
	if err := session.Wait(); err == nil {
		t.Error("the session survived Close")
	}
}
