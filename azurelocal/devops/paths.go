package devops

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Git services a client asks for.
const (
	UploadPack  = "git-upload-pack"  // clone, fetch, ls-remote: read
	ReceivePack = "git-receive-pack" // push: write
)

// Request kinds of Git's smart HTTP protocol, the only ones served.
const (
	reqInfoRefs    = "info/refs"
	reqUploadPack  = UploadPack
	reqReceivePack = ReceivePack
)

// repoRef names a repository as a request does: not yet checked against the directory.
type repoRef struct {
	Org, Project, Repo string
}

func (r repoRef) String() string { return r.Org + "/" + r.Project + "/" + r.Repo }

// httpRequest is a parsed smart HTTP path.
type httpRequest struct {
	repoRef
	// Kind is info/refs, git-upload-pack or git-receive-pack.
	Kind string
}

var errNotGit = errors.New("not a Git smart HTTP path")

// parseHTTPPath reads an escaped URL path of Azure Repos' Git endpoint:
//
//	/{org}/{project}/_git/{repo}/info/refs
//	/{org}/{project}/_git/{repo}/git-upload-pack
//	/{org}/{project}/_git/{repo}/git-receive-pack
//	/{org}/_git/{repo}/...   (the project named like the repository)
//
// Segments are percent-decoded one by one, so an escaped slash stays inside its segment and is
// refused there. Anything else is errNotGit.
func parseHTTPPath(escaped string) (httpRequest, error) {
	rest, ok := strings.CutPrefix(escaped, "/")
	if !ok {
		return httpRequest{}, errNotGit
	}
	var kind string
	for _, k := range []string{reqInfoRefs, reqUploadPack, reqReceivePack} {
		if r, ok := strings.CutSuffix(rest, "/"+k); ok {
			rest, kind = r, k
			break
		}
	}
	if kind == "" {
		return httpRequest{}, errNotGit
	}
	parts := strings.Split(rest, "/")
	var org, project, repo string
	switch {
	case len(parts) == 4 && strings.EqualFold(parts[2], "_git"):
		org, project, repo = parts[0], parts[1], parts[3]
	case len(parts) == 3 && strings.EqualFold(parts[1], "_git"):
		org, project, repo = parts[0], parts[2], parts[2]
	default:
		return httpRequest{}, errNotGit
	}
	ref, err := decodeRef(org, project, repo)
	if err != nil {
		return httpRequest{}, err
	}
	return httpRequest{repoRef: ref, Kind: kind}, nil
}

// decodeRef percent-decodes each name and refuses empty ones and ones that hold a slash, a
// backslash or a control character, which no organization, project or repository name has.
func decodeRef(escaped ...string) (repoRef, error) {
	var out [3]string
	for i, e := range escaped {
		s, err := url.PathUnescape(e)
		if err != nil || s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\\") || strings.ContainsFunc(s, isControl) {
			return repoRef{}, errNotGit
		}
		out[i] = s
	}
	return repoRef{Org: out[0], Project: out[1], Repo: out[2]}, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// sshCommand is a parsed exec request of an SSH session.
type sshCommand struct {
	repoRef
	// Service is git-upload-pack or git-receive-pack.
	Service string
}

// parseSSHCommand reads the command git runs on an SSH remote, such as
//
//	git-upload-pack 'v3/org/project/repo'
//	git-receive-pack '/v3/org/My%20Project/repo'
//	git upload-pack 'v3/org/project/repo'
//
// The argument is single-quoted as git quotes it (a quote inside becomes quote, backslash,
// quote, quote), or bare. The path is v3/{org}/{project}/{repo}, with or without a leading
// slash, each segment percent-encoded as Azure DevOps prints SSH URLs.
func parseSSHCommand(cmd string) (sshCommand, error) {
	var service, arg string
	for _, s := range []string{UploadPack, ReceivePack} {
		for _, prefix := range []string{s + " ", "git " + strings.TrimPrefix(s, "git-") + " "} {
			if a, ok := strings.CutPrefix(cmd, prefix); ok {
				service, arg = s, a
			}
		}
	}
	if service == "" {
		return sshCommand{}, errors.New("only git-upload-pack and git-receive-pack are served")
	}
	path, err := shellUnquote(strings.TrimSpace(arg))
	if err != nil {
		return sshCommand{}, err
	}
	rest, ok := strings.CutPrefix(strings.TrimPrefix(path, "/"), "v3/")
	if !ok {
		return sshCommand{}, fmt.Errorf("the path '%s' is not v3/{organization}/{project}/{repository}", path)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return sshCommand{}, fmt.Errorf("the path '%s' is not v3/{organization}/{project}/{repository}", path)
	}
	ref, err := decodeRef(parts[0], parts[1], parts[2])
	if err != nil {
		return sshCommand{}, fmt.Errorf("the path '%s' is not v3/{organization}/{project}/{repository}", path)
	}
	return sshCommand{repoRef: ref, Service: service}, nil
}

// shellUnquote undoes git's sq_quote, which writes a'b as 'a', an escaped quote, then 'b'. A
// bare word is taken as it is.
func shellUnquote(s string) (string, error) {
	if !strings.HasPrefix(s, "'") {
		if s == "" || strings.ContainsAny(s, " \t'\"\\") {
			return "", errors.New("malformed argument")
		}
		return s, nil
	}
	var b strings.Builder
	for len(s) > 0 {
		if s[0] != '\'' {
			return "", errors.New("malformed quoting")
		}
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", errors.New("unterminated quote")
		}
		b.WriteString(s[1 : 1+end])
		s = s[2+end:]
		if strings.HasPrefix(s, `\'`) {
			b.WriteByte('\'')
			s = s[2:]
			continue
		}
		if s != "" {
			return "", errors.New("malformed quoting")
		}
	}
	return b.String(), nil
}
