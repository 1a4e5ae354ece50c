package oci

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	remotetransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// A session is what go-containerregistry's handshake with a registry gives for one repository
// and one set of credentials: the scheme its ping found and, for a registry that asks for
// one, a bearer token, which the session renews by itself when the registry answers 401.
// Sessions outlive reconciles, so that an unchanged reconcile of an ACR artifact costs one
// request (the tag's HEAD) rather than three (the ping, the token, the HEAD), and an ACR
// repository's token is asked for once per lifetime rather than once per reconcile.
//
// A session is found by the connection's transport (CA and proxy), the credentials (an
// identity, or a digest of the pull secrets' data, so that a new secret starts a new session),
// and the repository. It is dropped when the credentials are refused (Access.Forget), after
// sessionMaxAge, and when more than maxSessions are kept (the least recently used first).
const (
	sessionMaxAge = 5 * time.Minute
	maxSessions   = 4096
)

type sessionKey struct {
	transport  http.RoundTripper
	who        string // the credentials
	registry   string // host and scheme
	repository string
}

type session struct {
	key     sessionKey
	rt      http.RoundTripper
	created time.Time
}

// sessions are the kept sessions, the most recently used first.
type sessions struct {
	mu    sync.Mutex
	lru   *list.List // of *session
	byKey map[sessionKey]*list.Element
	max   int
	now   func() time.Time
}

func newSessions() *sessions {
	return &sessions{lru: list.New(), byKey: map[sessionKey]*list.Element{}, max: maxSessions, now: time.Now}
}

// get returns the session of key, or starts one with handshake.
func (s *sessions) get(key sessionKey, handshake func() (http.RoundTripper, error)) (http.RoundTripper, error) {
	s.mu.Lock()
	if e, ok := s.byKey[key]; ok {
		if ses := e.Value.(*session); s.now().Sub(ses.created) < sessionMaxAge {
			s.lru.MoveToFront(e)
			s.mu.Unlock()
			return ses.rt, nil
		}
		s.remove(e)
	}
	s.mu.Unlock()

	// The handshake is made unlocked: it is two requests, and other repositories' reconciles
	// need not wait for them. Two reconciles of one repository may both make one; the last
	// is kept.
	rt, err := handshake()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byKey[key]; ok {
		s.remove(e)
	}
	s.byKey[key] = s.lru.PushFront(&session{key: key, rt: rt, created: s.now()})
	for s.lru.Len() > s.max {
		s.remove(s.lru.Back())
	}
	return rt, nil
}

// forget drops the session of key.
func (s *sessions) forget(key sessionKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byKey[key]; ok {
		s.remove(e)
	}
}

func (s *sessions) remove(e *list.Element) {
	delete(s.byKey, e.Value.(*session).key)
	s.lru.Remove(e)
}

// Session returns the transport for repo's requests with a's credentials: a session kept
// from an earlier reconcile, or a new one. Pass it with remote.WithTransport and no
// authentication option: the handshake it holds stands in for the one go-containerregistry
// would make, and a keychain given too would be resolved for nothing.
func (a *Access) Session(ctx context.Context, repo name.Repository) (http.RoundTripper, error) {
	return a.sessions.get(a.sessionKey(repo), func() (http.RoundTripper, error) {
		auth, err := a.Keychain.Resolve(repo)
		if err != nil {
			return nil, err
		}
		return remotetransport.NewWithContext(ctx, repo.Registry, auth, a.Transport, []string{repo.Scope(remotetransport.PullScope)})
	})
}

// Forget drops repo's session with a's credentials, which the registry refused: the next
// Session makes a new handshake.
func (a *Access) Forget(repo name.Repository) { a.sessions.forget(a.sessionKey(repo)) }

// Do runs op, requests to repo, with the transport of repo's session (pass it with
// remote.WithTransport). A session the registry refuses (401 or 403) is dropped; an ACR
// registry's refusal runs op once more, with fresh credentials and a new session (Retry).
func (a *Access) Do(ctx context.Context, repo name.Repository, op func(session http.RoundTripper) error) error {
	attempt := 0
	return a.Retry(repo.RegistryStr(), func() error {
		if attempt++; attempt > 1 {
			a.Forget(repo)
		}
		session, err := a.Session(ctx, repo)
		if err == nil {
			err = op(session)
		}
		if isRefusal(err) {
			a.Forget(repo)
		}
		return err
	})
}

// isRefusal reports whether a registry answered 401 or 403.
func isRefusal(err error) bool {
	var terr *remotetransport.Error
	return errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden)
}

func (a *Access) sessionKey(repo name.Repository) sessionKey {
	return sessionKey{transport: a.Transport, who: a.credentials, registry: repo.Scheme() + "://" + repo.RegistryStr(), repository: repo.RepositoryStr()}
}

// secretsDigest identifies the credentials of pull secrets by their data, never holding it.
func secretsDigest(secrets ...map[string][]byte) string {
	h := sha256.New()
	for _, data := range secrets {
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		h.Write(binary.AppendUvarint(nil, uint64(len(keys))))
		for _, k := range keys {
			h.Write(binary.AppendUvarint(nil, uint64(len(k))))
			h.Write([]byte(k))
			h.Write(binary.AppendUvarint(nil, uint64(len(data[k]))))
			h.Write(data[k])
		}
	}
	return "secrets " + hex.EncodeToString(h.Sum(nil))
}
