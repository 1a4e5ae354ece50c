package access

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"net/http"
	"sync"

	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// maxTransports bounds the cache; objects rarely have more than a handful of distinct CA and
// proxy settings, and an evicted transport only costs new connections.
const maxTransports = 64

// transportCache shares one HTTP transport among the objects with the same CA, client
// certificate and proxy, so
// that reconciles reuse connections instead of opening (and leaving idle) new ones each time.
type transportCache struct {
	mu sync.Mutex
	m  map[[32]byte]*http.Transport
}

func (c *transportCache) get(o *transport.Options) (*http.Transport, error) {
	key := transportKey(o)
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.m[key]; ok {
		return t, nil
	}
	t, err := transport.New(o)
	if err != nil {
		return nil, err
	}
	if c.m == nil || len(c.m) >= maxTransports {
		for _, old := range c.m {
			old.CloseIdleConnections()
		}
		c.m = map[[32]byte]*http.Transport{}
	}
	c.m[key] = t
	return t, nil
}

// transportKey covers what differs between objects: the extra CAs, the client certificate
// and its key, and the proxy. The rest of the options is the controller's, the same for every
// object. The key is a digest: no secret is kept in it.
func transportKey(o *transport.Options) [32]byte {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field(o.ExtraCAs)
	if c := o.ClientCert; c != nil {
		field(binary.BigEndian.AppendUint64(nil, uint64(len(c.Certificate))))
		for _, der := range c.Certificate {
			field(der)
		}
		// A certificate is public: the private key is what entitles an object to the
		// connections made with it.
		key, _ := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
		field(key)
	}
	field(nil)
	if o.Proxy != nil {
		field([]byte(o.Proxy.String()))
	}
	var key [32]byte
	h.Sum(key[:0])
	return key
}
