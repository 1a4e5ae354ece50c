package git

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"io/fs"
	"net"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// sshServer serves git-upload-pack over SSH for one client key, from root, as a Git host does.
func sshServer(t *testing.T, root string, client ssh.PublicKey) (addr string, hostKey ssh.PublicKey) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) != string(client.Marshal()) {
			return nil, ssh.ErrNoAuth
		}
		return nil, nil
	}}
	cfg.AddHostKey(signer)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveSSH(c, cfg, root)
		}
	}()
	return l.Addr().String(), signer.PublicKey()
}

func serveSSH(c net.Conn, cfg *ssh.ServerConfig, root string) {
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		ch, requests, err := nc.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer ch.Close()
			for req := range requests {
				if req.Type != "exec" || len(req.Payload) < 4 {
					req.Reply(false, nil)
					continue
				}
				command := string(req.Payload[4 : 4+binary.BigEndian.Uint32(req.Payload)])
				verb, path, _ := strings.Cut(command, " ")
				req.Reply(verb == "git-upload-pack", nil)
				if verb != "git-upload-pack" {
					return
				}
				cmd := exec.Command("git-upload-pack", filepath.Join(root, strings.Trim(path, "'/")))
				cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
				status := make([]byte, 4)
				if err := cmd.Run(); err != nil {
					binary.BigEndian.PutUint32(status, 1)
				}
				ch.SendRequest("exit-status", false, status)
				return
			}
		}()
	}
}

func TestSSH(t *testing.T) {
	_, commits, root := remoteRepo(t, nil)

	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	clientKey, _ := ssh.NewPublicKey(pub)
	addr, hostKey := sshServer(t, root, clientKey)

	// The remote is named by a Git host's name; the connect-to map sends it to this server.
	rules, err := transport.ParseConnectToList("git.example.com:22:" + addr)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFactory(access.NewResolver(nil, nil, nil, transport.Options{}), transport.Options{ConnectTo: rules}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sshURL := "ssh://git@git.example.com/repo.git"
	secret := map[string][]byte{
		"identity":    pem.EncodeToMemory(block),
		"known_hosts": []byte("git.example.com " + string(ssh.MarshalAuthorizedKey(hostKey))),
	}
	r := &Remote{url: sshURL}
	sshU, _ := url.Parse(sshURL)
	if err := r.sshAuth(Spec{SecretRef: "ssh"}, secret, sshU, f.scratch); err != nil {
		t.Fatal(err)
	}
	refs, err := r.Refs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	target, err := Resolve(Ref{Branch: "main"}, refs)
	if err != nil || target.Revision != "main@sha1:"+commits[1] {
		t.Fatalf("Resolve = %+v, %v", target, err)
	}
	checkout, err := r.Fetch(t.Context(), t.TempDir(), target)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := fs.ReadFile(checkout.Tree, "app.yaml"); string(got) != "kind: Secret\n" {
		t.Errorf("app.yaml = %q", got)
	}

	// A host key known_hosts does not hold is refused.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherKey, _ := ssh.NewSignerFromKey(other)
	secret["known_hosts"] = []byte("git.example.com " + string(ssh.MarshalAuthorizedKey(otherKey.PublicKey())))
	wrong := &Remote{url: sshURL}
	if err := wrong.sshAuth(Spec{SecretRef: "ssh"}, secret, sshU, f.scratch); err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Refs(t.Context()); err == nil || !strings.Contains(err.Error(), "key") {
		t.Errorf("a wrong host key: %v", err)
	}
	for name, data := range map[string]map[string][]byte{
		"no identity":    {"known_hosts": secret["known_hosts"]},
		"no known_hosts": {"identity": secret["identity"]},
		"bad identity":   {"identity": []byte("not a key"), "known_hosts": secret["known_hosts"]},
	} {
		if err := (&Remote{}).sshAuth(Spec{SecretRef: "ssh"}, data, sshU, f.scratch); err == nil || strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
