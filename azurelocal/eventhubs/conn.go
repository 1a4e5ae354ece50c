package eventhubs

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Protocol headers (part 2, 2.2 and 5.3.1).
var (
	headerAMQP = []byte("AMQP\x00\x01\x00\x00")
	headerSASL = []byte("AMQP\x03\x01\x00\x00")
)

// Performative descriptors (part 2, 2.7) and frame types.
const (
	perfOpen        = 0x10
	perfBegin       = 0x11
	perfAttach      = 0x12
	perfFlow        = 0x13
	perfTransfer    = 0x14
	perfDisposition = 0x15
	perfDetach      = 0x16
	perfEnd         = 0x17
	perfClose       = 0x18
	descError       = 0x1d
	descAccepted    = 0x24
	descRejected    = 0x25
	descSource      = 0x28
	descTarget      = 0x29

	frameAMQP = 0x00
	frameSASL = 0x01
)

// amqpError is an AMQP error: a condition symbol and a description.
type amqpError struct {
	condition   string
	description string
}

func (e *amqpError) Error() string { return e.condition + ": " + e.description }

func (e *amqpError) value() any {
	if e == nil {
		return nil
	}
	return describedList(descError, Symbol(e.condition), e.description)
}

// conn is one AMQP connection.
type conn struct {
	s  *Server
	nc net.Conn
	r  *bufio.Reader

	wmu        sync.Mutex
	peerFrame  uint32
	hostname   string
	namespace  string // from the open's hostname, or the first token's audience
	sessions   map[uint16]*session
	done       chan struct{}
	doneOnce   sync.Once
	authMu     sync.Mutex
	grants     []grant
	peerIdle   time.Duration
	lastWrite  time.Time
	trackingID atomic.Int64
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{s: s, nc: nc, r: bufio.NewReader(nc), peerFrame: 512, sessions: map[uint16]*session{}, done: make(chan struct{})}
}

func (c *conn) finish() {
	c.doneOnce.Do(func() {
		close(c.done)
		c.nc.Close()
	})
}

func (c *conn) run() error {
	defer c.finish()
	_ = c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	hdr := make([]byte, 8)
	if _, err := io.ReadFull(c.r, hdr); err != nil {
		return err
	}
	if bytes.Equal(hdr, headerSASL) {
		if err := c.sasl(); err != nil {
			return err
		}
		if _, err := io.ReadFull(c.r, hdr); err != nil {
			return err
		}
	}
	if !bytes.Equal(hdr, headerAMQP) {
		// Answer with the header the server speaks and close (part 2, 2.2).
		c.write(headerSASL)
		return fmt.Errorf("unsupported protocol header %q", hdr)
	}
	c.write(headerAMQP)
	_ = c.nc.SetReadDeadline(time.Time{})
	for {
		typ, ch, body, err := c.readFrame()
		if err != nil {
			return err
		}
		if body == nil { // empty frame: a heartbeat
			continue
		}
		if typ != frameAMQP {
			return c.close(&amqpError{"amqp:connection:framing-error", "a SASL frame after SASL"})
		}
		perf, payload, err := c.performative(body)
		if err != nil {
			return c.close(&amqpError{"amqp:decode-error", err.Error()})
		}
		done, err := c.handle(ch, perf, payload)
		if err != nil || done {
			return err
		}
	}
}

// sasl runs the SASL exchange: mechanisms ANONYMOUS and MSSBCBS (the token follows on $cbs),
// init, outcome ok.
func (c *conn) sasl() error {
	c.write(headerSASL)
	mechs := describedList(0x40, Array{Symbol("MSSBCBS"), Symbol("ANONYMOUS")})
	if err := c.writeFrame(frameSASL, 0, mechs, nil); err != nil {
		return err
	}
	typ, _, body, err := c.readFrame()
	if err != nil {
		return err
	}
	perf, _, err := c.performative(body)
	if err != nil || typ != frameSASL || descriptorCode(perf) != 0x41 {
		return errors.New("expected sasl-init")
	}
	fields, _ := perf.Value.([]any)
	code := uint8(0) // ok
	switch asString(field(fields, 0)) {
	case "ANONYMOUS", "MSSBCBS":
	default:
		code = 1 // auth: the mechanism is not offered
	}
	if err := c.writeFrame(frameSASL, 0, describedList(0x44, code), nil); err != nil {
		return err
	}
	if code != 0 {
		return errors.New("unsupported SASL mechanism")
	}
	return nil
}

// readFrame reads one frame; body is nil for an empty frame.
func (c *conn) readFrame() (typ byte, ch uint16, body []byte, err error) {
	var h [8]byte
	if _, err = io.ReadFull(c.r, h[:]); err != nil {
		return
	}
	size := binary.BigEndian.Uint32(h[:4])
	doff := uint32(h[4]) * 4
	if size < 8 || doff < 8 || doff > size || size > maxFrameSize {
		err = c.close(&amqpError{"amqp:connection:framing-error", fmt.Sprintf("frame of %d bytes (max-frame-size is %d)", size, maxFrameSize)})
		if err == nil {
			err = errors.New("framing error")
		}
		return
	}
	buf := make([]byte, size-8)
	if _, err = io.ReadFull(c.r, buf); err != nil {
		return
	}
	typ, ch = h[5], binary.BigEndian.Uint16(h[6:8])
	buf = buf[doff-8:]
	if len(buf) == 0 {
		return typ, ch, nil, nil
	}
	return typ, ch, buf, nil
}

func (c *conn) performative(body []byte) (Described, []byte, error) {
	v, n, err := decodeValue(body)
	if err != nil {
		return Described{}, nil, err
	}
	d, ok := v.(Described)
	if !ok {
		return Described{}, nil, errors.New("a frame body is not a performative")
	}
	if _, ok := d.Value.([]any); !ok {
		return Described{}, nil, errors.New("a performative is not a list")
	}
	return d, body[n:], nil
}

func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.lastWrite = time.Now()
	_, err := c.nc.Write(b)
	return err
}

func (c *conn) writeFrame(typ byte, ch uint16, perf Described, payload []byte) error {
	body := encode(perf)
	frame := make([]byte, 8, 8+len(body)+len(payload))
	binary.BigEndian.PutUint32(frame, uint32(8+len(body)+len(payload)))
	frame[4], frame[5] = 2, typ
	binary.BigEndian.PutUint16(frame[6:], ch)
	frame = append(append(frame, body...), payload...)
	return c.write(frame)
}

func (c *conn) close(e *amqpError) error {
	err := c.writeFrame(frameAMQP, 0, describedList(perfClose, e.value()), nil)
	c.finish()
	return err
}

func (c *conn) heartbeat() {
	if c.peerIdle <= 0 {
		return
	}
	t := time.NewTicker(c.peerIdle / 2)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			c.wmu.Lock()
			idle := time.Since(c.lastWrite) >= c.peerIdle/2
			c.wmu.Unlock()
			if idle {
				c.write([]byte{0, 0, 0, 8, 2, 0, 0, 0})
			}
		}
	}
}

// handle dispatches one performative; done is true once the connection closed cleanly.
func (c *conn) handle(ch uint16, perf Described, payload []byte) (bool, error) {
	f, _ := perf.Value.([]any)
	code := descriptorCode(perf)
	if code == perfOpen {
		if size, ok := asUint(field(f, 2)); ok && size >= 512 {
			c.peerFrame = uint32(min(size, maxFrameSize))
		} else {
			c.peerFrame = maxFrameSize
		}
		c.hostname = asString(field(f, 1))
		if host, _, _ := strings.Cut(c.hostname, ":"); strings.HasSuffix(strings.ToLower(host), Suffix) {
			c.setNamespace(strings.TrimSuffix(strings.ToLower(host), Suffix))
		}
		if idle, ok := asUint(field(f, 4)); ok && idle > 0 {
			c.peerIdle = time.Duration(idle) * time.Millisecond
			go c.heartbeat()
		}
		channelMax := uint16(255)
		if cm, ok := asUint(field(f, 3)); ok && cm < 255 {
			channelMax = uint16(cm)
		}
		return false, c.writeFrame(frameAMQP, 0, describedList(perfOpen,
			"azimuth-eventhubs", nil, uint32(maxFrameSize), channelMax, uint32(120000)), nil)
	}
	if code == perfClose {
		c.closeSessions()
		err := c.writeFrame(frameAMQP, 0, describedList(perfClose), nil)
		return true, err
	}
	if code == perfBegin {
		s := newSession(c, ch, f)
		c.sessions[ch] = s
		return false, c.writeFrame(frameAMQP, ch, describedList(perfBegin,
			ch, uint32(0), uint32(sessionWindow), uint32(sessionWindow), uint32(255)), nil)
	}
	s := c.sessions[ch]
	if s == nil {
		return true, c.close(&amqpError{"amqp:connection:framing-error", fmt.Sprintf("channel %d has no session", ch)})
	}
	switch code {
	case perfEnd:
		s.end()
		delete(c.sessions, ch)
		return false, c.writeFrame(frameAMQP, ch, describedList(perfEnd), nil)
	case perfAttach:
		return false, s.attach(f)
	case perfFlow:
		return false, s.flow(f)
	case perfTransfer:
		return false, s.transfer(f, payload)
	case perfDisposition:
		return false, nil
	case perfDetach:
		return false, s.detach(f)
	}
	return true, c.close(&amqpError{"amqp:not-implemented", fmt.Sprintf("performative 0x%x", code)})
}

// ns returns the connection's namespace: the open's hostname's, or the first token's.
func (c *conn) ns() string {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	return c.namespace
}

// setNamespace sets the connection's namespace unless it has one.
func (c *conn) setNamespace(ns string) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.namespace == "" {
		c.namespace = ns
	}
}

func (c *conn) closeSessions() {
	for ch, s := range c.sessions {
		s.end()
		delete(c.sessions, ch)
	}
}
