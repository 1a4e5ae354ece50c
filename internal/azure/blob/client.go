package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Auth is how a Container authenticates: at most one of Token, AccountKey and SAS; none is
// anonymous access (a container with public read access).
type Auth struct {
	// Token is a Microsoft Entra ID credential: the container needs the role Storage Blob Data
	// Reader. An *entra.Credential names itself in messages.
	Token azcore.TokenCredential
	// AccountKey is the storage account's shared key, base64 as the portal shows it.
	AccountKey string
	// SAS is a shared access signature's query string (a leading '?' is dropped). It is merged
	// with the endpoint's query, the SAS winning, as Flux does.
	SAS string
	// Who names the key or SAS in messages, such as "the SAS of secret ns/name". Default: "the
	// account key", "the SAS", or "anonymous access".
	Who string
}

// kind is which of Auth's fields is set.
type kind int

const (
	anonymous kind = iota
	token
	sharedKey
	sas
)

func (a Auth) kind() kind {
	switch {
	case a.Token != nil:
		return token
	case a.AccountKey != "":
		return sharedKey
	case a.SAS != "":
		return sas
	}
	return anonymous
}

// who names the credential for messages.
func (a Auth) who() string {
	if a.Token != nil {
		if d, ok := a.Token.(described); ok {
			return d.String()
		}
		return "the identity"
	}
	if a.Who != "" {
		return a.Who
	}
	return [...]string{anonymous: "anonymous access", sharedKey: "the account key", sas: "the SAS"}[a.kind()]
}

// What *entra.Credential offers beyond azcore.TokenCredential; other credentials work without.
type (
	invalidator interface{ Invalidate(scopes ...string) }
	// described names the identity for messages (its String) and for role commands.
	described interface {
		String() string
		ClientID() string
	}
)

// ContainerOptions configure a Container. The zero value is valid.
type ContainerOptions struct {
	// Transport carries every request to the service: pass Azimuth's (internal/transport, with
	// the connect-to map, CA and the object's proxy), such as &http.Client{Transport:
	// conn.Transport}. Default: internal/transport's zero configuration, never azcore's default.
	Transport policy.Transporter
	// AllowHTTP accepts a plain-http endpoint, with a shared key, a SAS or anonymous access; a
	// token is never sent in clear. Default: false.
	AllowHTTP bool
	// Retry is azcore's retry policy (429 and 503 with Retry-After, resets). Default: azcore's,
	// three retries with exponential back-off.
	Retry policy.RetryOptions
	// Now tells whether a refused SAS has expired by its own expiry (se). Default: time.Now.
	Now func() time.Time
}

// Container lists and downloads the blobs of one container, as one credential. It is safe for
// concurrent use.
type Container struct {
	client   *container.Client
	endpoint *Endpoint
	name     string
	auth     Auth
	now      func() time.Time
}

// NewContainer returns a Container for the container name of the blob service at endpoint (a
// Bucket's spec.endpoint), authenticated by auth. A malformed endpoint or name is an
// *EndpointError; an account key that is not base64 an error naming it (never its value).
func NewContainer(endpoint, name string, auth Auth, opts *ContainerOptions) (*Container, error) {
	var o ContainerOptions
	if opts != nil {
		o = *opts
	}
	k := auth.kind()
	ep, err := ParseEndpoint(endpoint, o.AllowHTTP)
	if err != nil {
		return nil, err
	}
	if ep.URL.Scheme == "http" && k == token {
		return nil, &EndpointError{fmt.Sprintf("spec.endpoint '%s' is plain http: a Microsoft Entra ID token is sent over https only", ep)}
	}
	if err := CheckContainerName(name); err != nil {
		return nil, err
	}
	if o.Transport == nil {
		rt, err := transport.New(nil)
		if err != nil {
			return nil, err
		}
		o.Transport = &http.Client{Transport: rt}
	}
	co := &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: o.Transport,
		Retry:     o.Retry,
		Telemetry: policy.TelemetryOptions{ApplicationID: "azimuth"},
	}}
	co.InsecureAllowCredentialWithHTTP = ep.URL.Scheme == "http"
	u := *ep.URL
	u.Path += "/" + name
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Container{endpoint: ep, name: name, auth: auth, now: o.Now}
	switch k {
	case token:
		c.client, err = container.NewClient(u.String(), auth.Token, co)
	case sharedKey:
		var cred *container.SharedKeyCredential
		if cred, err = container.NewSharedKeyCredential(ep.Account, auth.AccountKey); err != nil {
			return nil, fmt.Errorf("%s is not a storage account key: it must be base64, as `az storage account keys list` prints it", auth.who())
		}
		c.client, err = container.NewClientWithSharedKeyCredential(u.String(), cred, co)
	case sas:
		withSAS, merr := ep.MergeSAS(auth.SAS)
		if merr != nil {
			return nil, fmt.Errorf("%s: %w", auth.who(), merr)
		}
		withSAS.Path = u.Path
		c.client, err = container.NewClientWithNoCredential(withSAS.String(), co)
	default:
		c.client, err = container.NewClientWithNoCredential(u.String(), co)
	}
	if err != nil {
		return nil, redact(err)
	}
	return c, nil
}

// Account is the storage account's name.
func (c *Container) Account() string { return c.endpoint.Account }

// Name is the container's name.
func (c *Container) Name() string { return c.name }

// Who names the credential, for messages.
func (c *Container) Who() string { return c.auth.who() }

// Item is a blob as the listing shows it.
type Item struct {
	// Name is the blob's name, such as deploy/app.yaml.
	Name string
	// ETag is the blob's entity tag, quoted as the service sends it in a header
	// ("0x8DC..."), whichever form the listing used.
	ETag string
	// Size is the blob's length in bytes.
	Size int64
}

// List calls yield with every blob whose name starts with prefix, in the service's (lexical)
// order, one page of up to 5,000 at a time. It stops at the first error, yield's or the
// service's, explained.
func (c *Container) List(ctx context.Context, prefix string, yield func(Item) error) error {
	opts := &container.ListBlobsFlatOptions{}
	if prefix != "" {
		opts.Prefix = &prefix
	}
	pager := c.client.NewListBlobsFlatPager(opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return c.explain(err)
		}
		for _, b := range page.Segment.BlobItems {
			if b == nil || b.Name == nil {
				continue
			}
			it := Item{Name: *b.Name}
			if p := b.Properties; p != nil {
				if p.ETag != nil {
					it.ETag = quoteETag(*p.ETag)
				}
				if p.ContentLength != nil {
					it.Size = *p.ContentLength
				}
			}
			if err := yield(it); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrBlobNotFound is a blob deleted since it was listed.
var ErrBlobNotFound = errors.New("the blob does not exist")

// Download writes the blob name to w, and returns its ETag (quoted, as Item's). A blob deleted
// since it was listed gives an error that wraps ErrBlobNotFound; any other refusal is
// explained. On error, w may hold part of the blob.
func (c *Container) Download(ctx context.Context, name string, w io.Writer) (string, error) {
	res, err := c.client.NewBlobClient(name).DownloadStream(ctx, nil)
	if err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.ErrorCode == "BlobNotFound" {
			return "", fmt.Errorf("blob '%s': %w", name, ErrBlobNotFound)
		}
		return "", c.explain(err)
	}
	body := res.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: 3})
	defer body.Close()
	if _, err := io.Copy(w, body); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("downloading blob '%s' of container '%s': %w", name, c.name, redact(err))
	}
	etag := ""
	if res.ETag != nil {
		etag = quoteETag(*res.ETag)
	}
	return etag, nil
}

// explain explains err as a refusal of this container's credential, and invalidates a token
// the service did not accept.
func (c *Container) explain(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusUnauthorized {
		if inv, ok := c.auth.Token.(invalidator); ok {
			inv.Invalidate(Scope)
		}
	}
	return explain(err, c.auth, c.endpoint.Account, c.name, c.now)
}

// quoteETag is an ETag in the quoted form the service's headers use; listings send it bare.
func quoteETag(e azcore.ETag) string {
	s := strings.TrimSpace(string(e))
	if strings.HasPrefix(s, `"`) || strings.HasPrefix(s, `W/"`) {
		return s
	}
	return `"` + s + `"`
}
