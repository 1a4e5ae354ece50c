package integration_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Media types of the artifacts `flux push artifact` and `helm push` write.
const (
	fluxConfigType  types.MediaType = "application/vnd.cncf.flux.config.v1+json"
	fluxContentType types.MediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"
	helmChartType   types.MediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
)

// secureHost is the TLS registry's name. go-containerregistry speaks plain HTTP to loopback
// addresses whatever the server, so the TLS registry gets a name that httptest's certificate
// covers (*.example.com), and the manager's connect-to map sends it to the listener.
const secureHost = "registry.example.com"

// mutualHost is the name of the TLS registry that also requires a client certificate.
const mutualHost = "mtls.example.com"

// registries serves one in-memory registry three ways. Tests push through open; objects read
// through whichever server the case is about, and see the same repositories.
type registries struct {
	// open is HOST:PORT of the registry over plain HTTP, without authentication.
	open string
	// private is HOST:PORT of the registry over plain HTTP, behind Basic authentication with
	// user and password.
	private        string
	user, password string
	// secure is served over TLS as secureHost, by a certificate that caPEM signs.
	secureAddr string
	caPEM      []byte
	// mutual is served over TLS as mutualHost, by the same certificate, to clients that
	// present a certificate clientCA issued: clientCert and clientKey, in PEM.
	mutualAddr            string
	clientCert, clientKey []byte
}

func startRegistries(t *testing.T) *registries {
	handler := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	quiet := log.New(io.Discard, "", 0)
	r := &registries{user: "puller", password: "s3cret-pull"}

	open := httptest.NewUnstartedServer(handler)
	private := httptest.NewUnstartedServer(basicAuth(r.user, r.password, handler))
	secure := httptest.NewUnstartedServer(handler)
	mutual := httptest.NewUnstartedServer(handler)
	for _, s := range []*httptest.Server{open, private, secure, mutual} {
		s.Config.ErrorLog = quiet // a refused TLS handshake is a case, not noise
		t.Cleanup(s.Close)
	}
	clientCA := azuretest.NewCA("registry clients", nil)
	client := azuretest.NewKeyPair("tenant", &clientCA)
	r.clientCert, r.clientKey = client.CertPEM(), client.KeyPEM()
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(clientCA.Cert)
	mutual.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	open.Start()
	private.Start()
	secure.StartTLS()
	mutual.StartTLS()
	r.open, r.private, r.secureAddr = open.Listener.Addr().String(), private.Listener.Addr().String(), secure.Listener.Addr().String()
	r.mutualAddr = mutual.Listener.Addr().String()
	r.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw})
	return r
}

// connectTo sends secureHost's and mutualHost's HTTPS ports to their TLS listeners.
func (r *registries) connectTo() transport.ConnectTo {
	_, port, _ := net.SplitHostPort(r.secureAddr)
	_, mutualPort, _ := net.SplitHostPort(r.mutualAddr)
	return transport.ConnectTo{
		{Host: secureHost, Port: "443", Addr: "127.0.0.1", AddrPort: port},
		{Host: mutualHost, Port: "443", Addr: "127.0.0.1", AddrPort: mutualPort},
	}
}

// pullSecret is a kubernetes.io/dockerconfigjson Secret for the private registry.
func (r *registries) pullSecret(namespace, name string) *corev1.Secret {
	auth := base64.StdEncoding.EncodeToString([]byte(r.user + ":" + r.password))
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{r.private: map[string]string{"auth": auth}}})
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: cfg},
	}
}

// caSecret holds the CA of the TLS registry under ca.crt, as spec.certSecretRef expects.
func (r *registries) caSecret(namespace, name string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Data:       map[string][]byte{"ca.crt": r.caPEM},
	}
}

// clientSecret is a kubernetes.io/tls Secret with the client certificate the mutual registry
// accepts, and the registry's CA under ca.crt, as spec.certSecretRef holds them for mutual TLS.
func (r *registries) clientSecret(namespace, name string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"ca.crt": r.caPEM, corev1.TLSCertKey: r.clientCert, corev1.TLSPrivateKeyKey: r.clientKey},
	}
}

// basicAuth answers 401 with a Basic challenge, as a registry with a htpasswd file does, unless
// the request carries user and password.
func basicAuth(user, password string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		u, p, ok := req.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u+":"+p), []byte(user+":"+password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		next.ServeHTTP(w, req)
	})
}

// tarGz returns a gzipped tarball of files (path → content), with their directories.
func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		hdr := &tar.Header{Name: p, Mode: 0o644, Size: int64(len(files[p])), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, files[p]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// untar reads a gzipped tarball's regular files (path → content).
func untar(t *testing.T, data []byte) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the artifact is not gzipped: %v", err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("reading the artifact's tarball: %v", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = string(b)
	}
}

// contentLayer is the layer `flux push artifact` makes of a directory.
func contentLayer(t *testing.T, files map[string]string) v1.Layer {
	return static.NewLayer(tarGz(t, files), fluxContentType)
}

// pushArtifact pushes an OCI artifact shaped like Flux's (an OCI manifest, Flux's config media
// type, the given layers and manifest annotations) to ref, HOST/REPO:TAG, and returns its
// manifest digest.
func pushArtifact(t *testing.T, ref string, annotations map[string]string, layers ...v1.Layer) v1.Hash {
	t.Helper()
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), fluxConfigType)
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		t.Fatal(err)
	}
	if annotations != nil {
		img = mutate.Annotations(img, annotations).(v1.Image)
	}
	return push(t, ref, img)
}

// pushImage pushes a small random image to ref, under each of tags when given (ref is then a
// repository), and returns its digest.
func pushImage(t *testing.T, ref string, tags ...string) v1.Hash {
	t.Helper()
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) == 0 {
		return push(t, ref, img)
	}
	repo, err := name.NewRepository(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	p, err := remote.NewPusher(remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		if err := p.Push(t.Context(), repo.Tag(tag), img); err != nil {
			t.Fatalf("pushing %s:%s: %v", ref, tag, err)
		}
	}
	return digest(t, img)
}

func push(t *testing.T, ref string, img v1.Image) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return digest(t, img)
}

func digest(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
