package git

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	gittransport "github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/azure/devops"
	"github.com/azimuth-gitops/azimuth/internal/clip"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Providers an object may name.
const (
	ProviderGeneric = "generic"
	ProviderAzure   = "azure"
)

// Spec is what a GitRepository says about reaching its repository.
type Spec struct {
	access.Spec
	URL string
	// Provider is spec.provider: generic or azure.
	Provider string
	// SecretRef is spec.secretRef: username and password, bearerToken, ca.crt.
	SecretRef string
}

// Factory builds Remotes for objects.
type Factory struct {
	resolver *access.Resolver
	base     transport.Options
	// scratch is where short-lived files go (known_hosts): never the OS temp directory.
	scratch string
}

// NewFactory returns a Factory that resolves objects' credentials with r. scratch is a directory
// for short-lived files, such as the storage's.
//
// base is the controller's transport (connect-to map, CAs). go-git keeps one client per URL
// scheme for the whole process, so NewFactory installs base there, and an object's own CA and
// proxy go with each request (CABundle, ProxyOptions): the last Factory made sets the process's
// transport, which is the controller's one configuration.
func NewFactory(r *access.Resolver, base transport.Options, scratch string) (*Factory, error) {
	rt, err := transport.New(&base)
	if err != nil {
		return nil, err
	}
	// Azure DevOps serves only clients that speak multi_ack (it answers others 400 TF401041),
	// which go-git leaves out by default; go-git decides this process-wide too.
	gittransport.UnsupportedCapabilities = []capability.Capability{capability.ThinPack}
	c := githttp.NewClientWithOptions(&http.Client{Transport: rt}, &githttp.ClientOptions{CacheMaxEntries: 64})
	client.InstallProtocol("https", c)
	client.InstallProtocol("http", c)
	installSSHDialer(base)
	return &Factory{resolver: r, base: base, scratch: scratch}, nil
}

// Remote is how one object reaches its repository.
type Remote struct {
	url   string
	auth  gittransport.AuthMethod
	ca    []byte
	proxy gittransport.ProxyOptions
	// Who describes the credentials for messages.
	Who string
	// explain explains a refusal of an azure object's identity; nil otherwise.
	explain func(err error, group devops.Group) error
}

// Remote builds spec's remote: its credentials and connection settings.
func (f *Factory) Remote(ctx context.Context, spec Spec) (*Remote, error) {
	u, err := url.Parse(spec.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "ssh") || u.Host == "" {
		return nil, &URLError{fmt.Errorf("spec.url '%s' must be an https, http or ssh URL of a Git repository", clip.String(spec.URL, 200))}
	}
	r := &Remote{url: spec.URL, Who: "anonymous access", ca: f.base.ExtraCAs}
	conn, err := f.resolver.Connect(ctx, spec.Spec)
	if err != nil {
		return nil, err
	}
	if conn.Proxy != nil {
		r.proxy = gittransport.ProxyOptions{URL: (&url.URL{Scheme: conn.Proxy.Scheme, Host: conn.Proxy.Host}).String()}
		if conn.Proxy.User != nil {
			r.proxy.Username = conn.Proxy.User.Username()
			r.proxy.Password, _ = conn.Proxy.User.Password()
		}
	}
	var secret map[string][]byte
	if spec.SecretRef != "" {
		if secret, err = f.resolver.Secret(ctx, spec.Namespace, spec.SecretRef); err != nil {
			return nil, err
		}
		// go-git replaces the system's roots and ours with a bundle: give it both.
		if ca := secret["ca.crt"]; len(ca) > 0 {
			r.ca = append(append(append([]byte(nil), r.ca...), '\n'), ca...)
		}
	}
	if spec.CertSecretRef != "" {
		data, err := f.resolver.Secret(ctx, spec.Namespace, spec.CertSecretRef)
		if err != nil {
			return nil, err
		}
		r.ca = append(append(append([]byte(nil), r.ca...), '\n'), data["ca.crt"]...)
	}
	switch strings.ToLower(spec.Provider) {
	case ProviderAzure:
		if u.Scheme == "ssh" {
			return nil, &URLError{fmt.Errorf("provider azure authenticates over HTTPS: use the repository's https URL, or provider generic with an SSH key in spec.secretRef")}
		}
		return r, f.azure(ctx, spec, conn, secret, r)
	case "", ProviderGeneric:
		if u.Scheme == "ssh" {
			return r, r.sshAuth(spec, secret, u, f.scratch)
		}
		return r, r.static(spec, secret, u)
	}
	return nil, fmt.Errorf("spec.provider '%s' is not served: use generic or azure", clip.String(spec.Provider, 200))
}

// static reads spec.secretRef as Flux does for HTTP: username and password, or bearerToken.
func (r *Remote) static(spec Spec, secret map[string][]byte, u *url.URL) error {
	user, password, token := string(secret["username"]), string(secret["password"]), string(secret["bearerToken"])
	switch {
	case token != "" && (user != "" || password != ""):
		return fmt.Errorf("secret '%s' holds both 'bearerToken' and 'username'/'password': basic auth and a bearer token cannot be set at the same time", spec.SecretRef)
	case token != "":
		if u.Scheme == "http" {
			return fmt.Errorf("secret '%s': a bearer token cannot be sent over HTTP: use an https URL", spec.SecretRef)
		}
		r.auth, r.Who = &githttp.TokenAuth{Token: token}, fmt.Sprintf("bearer token of secret %s/%s", spec.Namespace, spec.SecretRef)
	case user != "" || password != "":
		if user == "" {
			user = "git" // Azure DevOps takes a PAT with any user name
		}
		r.auth, r.Who = &githttp.BasicAuth{Username: user, Password: password}, fmt.Sprintf("username and password of secret %s/%s", spec.Namespace, spec.SecretRef)
	}
	return nil
}

// azure authenticates as the object's Entra identity, with a bearer token for Azure DevOps: the
// application or managed identity its secretRef names (tenantId, clientId, clientSecret or
// clientCertificate, as a Bucket's secret), else its service account, the lockdown's default,
// or the controller's own identity.
func (f *Factory) azure(ctx context.Context, spec Spec, conn access.Connection, secret map[string][]byte, r *Remote) error {
	if len(secret["username"]) > 0 || len(secret["password"]) > 0 || len(secret["bearerToken"]) > 0 {
		return devops.ErrBearerAndBasic
	}
	if len(secret["clientId"]) > 0 {
		spec.IdentitySecret = spec.SecretRef
	}
	repo, err := devops.ParseRepository(spec.URL)
	if err != nil {
		return &URLError{fmt.Errorf("provider azure: %w", err)}
	}
	cred, err := f.resolver.Credential(ctx, spec.Spec, conn)
	if err != nil {
		return err
	}
	token, err := devops.BearerToken(ctx, cred, spec.URL)
	if err != nil {
		return err
	}
	r.auth, r.Who = &githttp.TokenAuth{Token: token}, cred.String()
	r.explain = func(err error, group devops.Group) error { return devops.Explain(err, cred, repo, group) }
	return nil
}

// Secret reads a secret of namespace, for what a Git source needs beside its credentials (the
// keys spec.verify trusts).
func (f *Factory) Secret(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	return f.resolver.Secret(ctx, namespace, name)
}

// Refs lists the remote's refs, with the peeled commits of annotated tags: one request, and no
// clone, to learn whether the head moved.
func (r *Remote) Refs(ctx context.Context) ([]*plumbing.Reference, error) {
	remote := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: gogit.DefaultRemoteName, URLs: []string{r.url}})
	refs, err := remote.ListContext(ctx, &gogit.ListOptions{Auth: r.auth, CABundle: r.ca, ProxyOptions: r.proxy, PeelingOption: gogit.AppendPeeled})
	return refs, r.refusal(err, devops.Readers)
}

// Checkout is a fetched commit: its tree, and its signatures to verify.
type Checkout struct {
	// Tree is the commit's tree, read from the object store.
	Tree   fs.FS
	repo   *gogit.Repository
	commit *object.Commit
	tag    plumbing.Hash
}

// Fetch fetches t into dir, a bare repository (the objects alone, no work tree), and returns
// its commit: depth 1 for a branch, tag or name; the branch's history (or every branch's) for a
// commit.
func (r *Remote) Fetch(ctx context.Context, dir string, t Target) (*Checkout, error) {
	opts := &gogit.CloneOptions{
		URL: r.url, Auth: r.auth, CABundle: r.ca, ProxyOptions: r.proxy,
		ReferenceName: t.Reference, SingleBranch: t.Reference != "", Tags: gogit.NoTags, NoCheckout: true,
	}
	if t.Shallow {
		opts.Depth = 1
	}
	repo, err := gogit.PlainCloneContext(ctx, dir, true, opts)
	if err != nil {
		return nil, r.refusal(err, devops.Readers)
	}
	commit, err := repo.CommitObject(t.Hash)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, fmt.Errorf("commit %s %w", t.Hash, ErrRefNotFound)
		}
		return nil, fmt.Errorf("reading commit %s: %w", t.Hash, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("reading the tree of commit %s: %w", t.Hash, err)
	}
	return &Checkout{Tree: treeFS{root: tree}, repo: repo, commit: commit, tag: t.Tag}, nil
}

// ErrUnsigned is a commit or tag without the signature spec.verify asks for, or whose signature
// no trusted key made.
var ErrUnsigned = errors.New("no valid signature by a trusted key")

// VerifyCommit checks the commit's OpenPGP signature with keyRing (ASCII-armored public keys)
// and returns the ID of the key that made it.
func (c *Checkout) VerifyCommit(keyRing string) (string, error) {
	if c.commit.PGPSignature == "" {
		return "", fmt.Errorf("commit %s is not signed: %w", c.commit.Hash, ErrUnsigned)
	}
	signer, err := c.commit.Verify(keyRing)
	if err != nil {
		return "", fmt.Errorf("commit %s: %v: %w", c.commit.Hash, err, ErrUnsigned)
	}
	return signer.PrimaryKey.KeyIdString(), nil
}

// VerifyTag checks the annotated tag's OpenPGP signature with keyRing and returns the ID of the
// key that made it. A lightweight tag, or a ref that is no tag, has no signature to check.
func (c *Checkout) VerifyTag(keyRing string) (string, error) {
	if c.tag.IsZero() {
		return "", fmt.Errorf("the ref is not an annotated tag, which alone can be signed: use spec.ref.tag or spec.ref.semver with signed tags, or verify mode HEAD: %w", ErrUnsigned)
	}
	tag, err := c.repo.TagObject(c.tag)
	if err != nil {
		return "", fmt.Errorf("reading tag object %s: %w", c.tag, err)
	}
	if tag.PGPSignature == "" {
		return "", fmt.Errorf("tag '%s' is not signed: %w", tag.Name, ErrUnsigned)
	}
	signer, err := tag.Verify(keyRing)
	if err != nil {
		return "", fmt.Errorf("tag '%s': %v: %w", tag.Name, err, ErrUnsigned)
	}
	return signer.PrimaryKey.KeyIdString(), nil
}

// URLError is a spec.url this controller cannot use: only a change of spec can help.
type URLError struct{ err error }

func (e *URLError) Error() string { return e.err.Error() }
func (e *URLError) Unwrap() error { return e.err }

// RefusalError is a remote refusing the object's credentials.
type RefusalError struct{ err error }

func (e *RefusalError) Error() string { return e.err.Error() }
func (e *RefusalError) Unwrap() error { return e.err }

// refusal explains the remote refusing the credentials (401, 403), as a *RefusalError.
func (r *Remote) refusal(err error, group devops.Group) error {
	if err == nil {
		return nil
	}
	denied := errors.Is(err, gittransport.ErrAuthenticationRequired) || errors.Is(err, gittransport.ErrAuthorizationFailed)
	// Azure DevOps answers 404 for a repository the identity may not see, as for one that does
	// not exist: with an Entra identity, say both.
	hidden := r.explain != nil && errors.Is(err, gittransport.ErrRepositoryNotFound)
	if !denied && !hidden {
		return err
	}
	if r.explain != nil {
		return &RefusalError{err: r.explain(err, group)}
	}
	return &RefusalError{err: fmt.Errorf("the remote refused %s: %w", r.Who, err)}
}
