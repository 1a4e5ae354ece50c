package access

import (
	"crypto/sha256"
	"net/http"
	"sync"

	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// maxTransports bounds the cache; objects rarely have more than a handful of distinct CA and
// proxy settings, and an evicted transport only costs new connections.
const maxTransports = 64

// transportCache shares one HTTP transport among the objects with the same CA and proxy, so
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

// transportKey covers what differs between objects: the extra CAs and the proxy. The rest of
// the options is the controller's, the same for every object.
func transportKey(o *transport.Options) [32]byte {
	h := sha256.New()
	h.Write(o.ExtraCAs)
	h.Write([]byte{0})
	if o.Proxy != nil {
		h.Write([]byte(o.Proxy.String()))
	}
	var key [32]byte
	h.Sum(key[:0])
	return key
}
