package eventhubs

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/websocket"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
)

// Port is Event Hubs' AMQP over TLS port; the connect-to map sends NAMESPACE.servicebus.windows.net:5671
// to the listener that Serve serves.
const Port = 5671

// WebSocketPath is the path of AMQP over WebSockets on port 443.
const WebSocketPath = "/$servicebus/websocket"

// WebSocketProtocol is the WebSocket subprotocol of AMQP 1.0.
const WebSocketProtocol = "AMQPWSB10"

// Suffix is the host suffix of the namespaces (Azure's public cloud).
const Suffix = ".servicebus.windows.net"

// Hosts are the gateway host patterns Event Hubs serves (WebSockets).
func Hosts() []string { return []string{"*" + Suffix} }

// Limits of the Standard tier.
const (
	maxMessageSize = 1 << 20
	maxFrameSize   = 1 << 16
	linkCredit     = 1000
	sessionWindow  = 5000
)

// Server is the local Event Hubs of a directory's namespaces.
type Server struct {
	dir      *directory.Directory
	verifier *entra.Verifier
	now      func() time.Time
	log      *slog.Logger

	mu     sync.Mutex
	hubs   map[string]*partitions // by lower-case "namespace/hub"
	conns  map[*conn]struct{}
	lns    []net.Listener
	closed bool
	wg     sync.WaitGroup
}

// Option configures New.
type Option func(*Server)

// WithClock replaces time.Now for token expiry and enqueued times.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger receives protocol errors.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// New returns Event Hubs for dir's namespaces, checking Entra tokens with verifier.
func New(dir *directory.Directory, verifier *entra.Verifier, opts ...Option) *Server {
	s := &Server{dir: dir, verifier: verifier, now: time.Now, log: slog.Default(), hubs: map[string]*partitions{}, conns: map[*conn]struct{}{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Serve accepts AMQP connections on l until l fails or Close is called. l yields TLS
// connections (or plain ones, for AMQP without TLS); Serve does no TLS of its own.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.lns = append(s.lns, l)
	s.mu.Unlock()
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go s.ServeConn(nc)
	}
}

// ServeConn speaks AMQP 1.0 on nc until the peer closes it, and closes it.
func (s *Server) ServeConn(nc net.Conn) {
	c := newConn(s, nc)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	if err := c.run(); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("eventhubs: connection ended", "error", err)
	}
}

// ServeHTTP serves AMQP over WebSockets on WebSocketPath with the AMQPWSB10 subprotocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != WebSocketPath {
		http.Error(w, "Event Hubs serves AMQP over WebSockets on "+WebSocketPath+" only", http.StatusNotFound)
		return
	}
	ws := websocket.Server{
		Handshake: func(cfg *websocket.Config, _ *http.Request) error {
			for _, p := range cfg.Protocol {
				if p == WebSocketProtocol {
					cfg.Protocol = []string{p}
					return nil
				}
			}
			return fmt.Errorf("the WebSocket subprotocol must be %s", WebSocketProtocol)
		},
		Handler: func(conn *websocket.Conn) {
			conn.PayloadType = websocket.BinaryFrame
			s.ServeConn(conn)
		},
	}
	ws.ServeHTTP(w, r)
}

// Close ends every connection and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, l := range s.lns {
		l.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Events returns the events a hub's partition holds, oldest first.
func (s *Server) Events(namespace, hub string, partition int) []Event {
	p := s.store(namespace, hub, 0)
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if partition < 0 || partition >= len(p.events) {
		return nil
	}
	out := make([]Event, 0, len(p.events[partition]))
	for _, ev := range p.events[partition] {
		out = append(out, *ev)
	}
	return out
}

// partitions keeps a hub's events.
type partitions struct {
	mu     sync.Mutex
	events [][]*Event
	next   int // round robin for events without a partition key
	notify chan struct{}
}

// store returns the hub's partitions, made with count partitions on first use; nil when count is
// 0 and the hub has none yet.
func (s *Server) store(namespace, hub string, count int) *partitions {
	key := strings.ToLower(namespace + "/" + hub)
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.hubs[key]
	if p == nil && count > 0 {
		p = &partitions{events: make([][]*Event, count), notify: make(chan struct{})}
		s.hubs[key] = p
	}
	return p
}

// append stores events in a partition (partition < 0: by partition key, or round robin).
func (p *partitions) append(events []*Event, partition int, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range events {
		part := partition
		if part < 0 {
			if ev.PartitionKey != "" {
				part = int(fnv32(ev.PartitionKey) % uint32(len(p.events)))
			} else {
				part = p.next % len(p.events)
				p.next++
			}
		}
		seq := int64(len(p.events[part]))
		ev.Partition, ev.SequenceNumber, ev.Offset, ev.EnqueuedTime = part, seq, seq, now.UTC().Truncate(time.Millisecond)
		p.events[part] = append(p.events[part], ev)
	}
	close(p.notify)
	p.notify = make(chan struct{})
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
