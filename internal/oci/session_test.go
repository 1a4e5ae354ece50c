package oci

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// handshakes counts the handshakes a test's sessions make, each giving a transport of its own.
type handshakes struct{ n int }

func (h *handshakes) make() (http.RoundTripper, error) {
	h.n++
	return &http.Transport{}, nil
}

func TestSessionsAreKeptAndRenewed(t *testing.T) {
	now := time.Unix(0, 0)
	s := newSessions()
	s.now = func() time.Time { return now }
	var h handshakes
	key := sessionKey{who: "azure the node's managed identity", registry: "https://reg.azurecr.io", repository: "app"}

	first, _ := s.get(key, h.make)
	if again, _ := s.get(key, h.make); again != first || h.n != 1 {
		t.Fatalf("a second reconcile made handshake %d and got another session", h.n)
	}
	for _, other := range []sessionKey{
		{who: "secrets 0123", registry: key.registry, repository: key.repository},
		{who: key.who, registry: key.registry, repository: "other"},
		{who: key.who, registry: "http://reg.azurecr.io", repository: key.repository},
		{who: key.who, registry: key.registry, repository: key.repository, transport: &http.Transport{}},
	} {
		if rt, _ := s.get(other, h.make); rt == first {
			t.Errorf("%+v shares the session of %+v", other, key)
		}
	}

	h.n = 0
	now = now.Add(sessionMaxAge - time.Second)
	if rt, _ := s.get(key, h.make); rt != first || h.n != 0 {
		t.Fatal("a session younger than sessionMaxAge was not kept")
	}
	now = now.Add(time.Second)
	renewed, _ := s.get(key, h.make)
	if renewed == first || h.n != 1 {
		t.Fatal("a session of sessionMaxAge was kept")
	}

	s.forget(key)
	if rt, _ := s.get(key, h.make); rt == renewed || h.n != 2 {
		t.Fatal("a forgotten session was kept")
	}
}

func TestSessionsAreBounded(t *testing.T) {
	s := newSessions()
	s.max = 3
	var h handshakes
	key := func(i int) sessionKey {
		return sessionKey{who: "anonymous", registry: "https://r", repository: string(rune('a' + i))}
	}
	for i := range 4 {
		s.get(key(i), h.make)
	}
	s.get(key(1), h.make) // used: now the most recent
	s.get(key(4), h.make) // evicts the least recently used, 2
	if s.lru.Len() != 3 || len(s.byKey) != 3 {
		t.Fatalf("%d sessions kept, %d indexed; want 3", s.lru.Len(), len(s.byKey))
	}
	h.n = 0
	for _, i := range []int{1, 3, 4} {
		s.get(key(i), h.make)
	}
	if h.n != 0 {
		t.Errorf("%d of the 3 most recent sessions were evicted", h.n)
	}
	if s.get(key(2), h.make); h.n != 1 {
		t.Error("the least recently used session was kept")
	}
}

func TestFailedHandshakesAreNotKept(t *testing.T) {
	s := newSessions()
	refused := errors.New("401 Unauthorized")
	key := sessionKey{who: "anonymous", registry: "https://r", repository: "app"}
	if _, err := s.get(key, func() (http.RoundTripper, error) { return nil, refused }); err != refused {
		t.Fatalf("got %v", err)
	}
	var h handshakes
	if s.get(key, h.make); h.n != 1 {
		t.Error("a failed handshake was kept")
	}
}

// Pull secrets are told apart by all of their data, never by a value kept in the clear; the
// same data in another order is the same.
func TestSecretsDigest(t *testing.T) {
	a := secretsDigest(map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`), "x": []byte("1")})
	if b := secretsDigest(map[string][]byte{"x": []byte("1"), ".dockerconfigjson": []byte(`{"auths":{}}`)}); a != b {
		t.Error("the same data gave two digests")
	}
	for _, other := range [][]map[string][]byte{
		{{".dockerconfigjson": []byte(`{"auths":{}}`), "x": []byte("2")}},
		{{".dockerconfigjson": []byte(`{"auths":{}}`)}, {"x": []byte("1")}},
		{{"ab": []byte("c")}},
	} {
		if secretsDigest(other...) == a {
			t.Errorf("%v has the digest of other data", other)
		}
	}
	if secretsDigest(map[string][]byte{"ab": []byte("c")}) == secretsDigest(map[string][]byte{"a": []byte("bc")}) {
		t.Error("keys and values run together")
	}
}
