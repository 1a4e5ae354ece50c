package blob

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// Endpoint is a storage account's blob service, as a Bucket's spec.endpoint names it: host
// style (https://ACCOUNT.blob.core.windows.net), or path style (https://HOST:PORT/ACCOUNT), as
// Azurite, Azure Stack Hub and an address of a private endpoint serve it.
type Endpoint struct {
	// URL is the service's address: scheme and host, /ACCOUNT as its path for a path-style
	// endpoint (empty otherwise), and the query spec.endpoint carries (merged into a SAS, as Flux
	// does).
	URL *url.URL
	// Account is the storage account's name: the first DNS label of the host, or the path.
	Account string
	// Cloud names the well-known cloud the host belongs to, such as AzurePublic; empty for a
	// path-style endpoint.
	Cloud string
}

// EndpointError is an endpoint that cannot be a blob service. Retrying cannot help.
type EndpointError struct{ msg string }

func (e *EndpointError) Error() string { return e.msg }

// Terminal reports that the spec must change.
func (e *EndpointError) Terminal() bool { return true }

// accountName is a storage account's name: 3 to 24 lowercase letters and digits.
var accountName = regexp.MustCompile(`^[a-z0-9]{3,24}$`)

// ParseEndpoint reads a blob service's address, such as https://ACCOUNT.blob.core.windows.net
// or, path style, https://10.1.2.3:10000/ACCOUNT (a host outside Azure's blob domains, with the
// account as the only path segment). A host without a scheme is read as https. Plain http is
// refused unless allowHTTP. The error quotes the endpoint without its query, which may hold a
// SAS.
func ParseEndpoint(raw string, allowHTTP bool) (*Endpoint, error) {
	fail := func(format string, args ...any) (*Endpoint, error) {
		return nil, &EndpointError{fmt.Sprintf("spec.endpoint '%s' ", withoutQuery(raw)) + fmt.Sprintf(format, args...)}
	}
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fail("is not a URL: write it as https://ACCOUNT.blob.core.windows.net")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP {
			return fail("is plain http: use https, or set spec.insecure to true to send a shared key or SAS in clear")
		}
	default:
		return fail("must be an https URL, such as https://ACCOUNT.blob.core.windows.net")
	}
	host := strings.ToLower(u.Hostname())
	cloud, azure := cloudOf(host)
	if path := strings.Trim(u.Path, "/"); path != "" {
		if azure || strings.Contains(path, "/") {
			return fail("has a path: name the storage account's blob service alone (https://ACCOUNT.blob.core.windows.net) and the container in spec.bucketName")
		}
		if !accountName.MatchString(path) {
			return fail("names the storage account '%s' in its path, which is not 3 to 24 lowercase letters and digits", clip.String(path, 80))
		}
		clean := &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), Path: "/" + path, RawQuery: u.RawQuery}
		return &Endpoint{URL: clean, Account: path}, nil
	}
	labels := strings.Split(host, ".")
	if len(labels) <= 2 || net.ParseIP(host) != nil {
		// Flux's words, for those who search for them.
		return fail("is not a storage account's: failed to extract account name from endpoint: expected '%s' to be a subdomain, "+
			"or name the account as the path of a path-style endpoint (https://HOST:PORT/ACCOUNT)", host)
	}
	if !azure {
		return fail("is not an Azure Blob Storage endpoint: its host must be ACCOUNT.blob.core.windows.net (or blob.core.usgovcloudapi.net, blob.core.chinacloudapi.cn)")
	}
	if !accountName.MatchString(labels[0]) {
		return fail("names the storage account '%s', which is not 3 to 24 lowercase letters and digits", labels[0])
	}
	clean := &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), RawQuery: u.RawQuery}
	return &Endpoint{URL: clean, Account: labels[0], Cloud: cloud}, nil
}

// String is the endpoint without its query, which may hold a SAS.
func (e *Endpoint) String() string { return e.URL.Scheme + "://" + e.URL.Host + e.URL.Path }

func withoutQuery(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if len(raw) > 256 {
		raw = raw[:256] + "…"
	}
	return raw
}

// containerName is an Azure container's name: lowercase letters, digits and hyphens, starting
// and ending with a letter or digit.
var containerName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// CheckContainerName reports whether name is a valid container name (3 to 63 lowercase
// letters, digits and single hyphens, starting and ending with a letter or digit; or $root or
// $web), saying why not.
func CheckContainerName(name string) error {
	if name == "$root" || name == "$web" ||
		(len(name) >= 3 && len(name) <= 63 && containerName.MatchString(name) && !strings.Contains(name, "--")) {
		return nil
	}
	return &EndpointError{fmt.Sprintf("spec.bucketName '%s' is not an Azure container name: 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit", clip.String(name, 80))}
}

// MergeSAS returns the endpoint's URL with the SAS sas, without its leading '?', as its query,
// and the endpoint's own query parameters that the SAS does not set, as Flux merges them. The
// error never quotes the SAS.
func (e *Endpoint) MergeSAS(sas string) (*url.URL, error) {
	values, err := url.ParseQuery(strings.TrimPrefix(sas, "?"))
	if err != nil {
		return nil, errors.New("the SAS is not a URL query string (such as sv=...&sp=rl&sig=...)")
	}
	for key, vs := range e.URL.Query() {
		if !values.Has(key) {
			for _, v := range vs {
				values.Add(key, v)
			}
		}
	}
	u := *e.URL
	u.RawQuery = values.Encode()
	return &u, nil
}
