package eventhubs

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// Link kinds.
const (
	linkCBSRequest = iota // the client sends put-token requests on $cbs
	linkCBSReply          // the server answers on the client's reply-to address
	linkSend              // the client sends events to a hub or partition
	linkConsume           // the server delivers a partition's events
	linkManagement        // $management requests and replies
)

// session is one AMQP session; its channel is the peer's, mirrored.
type session struct {
	c  *conn
	ch uint16

	mu             sync.Mutex // the fields below and the order of outgoing transfers
	nextOutgoingID uint32
	nextIncomingID uint32
	incomingWindow uint32
	deliveryID     uint32
	links          map[uint32]*link
}

type link struct {
	s        *session
	handle   uint32
	name     string
	kind     int
	address  string
	settled  bool // the server's transfers are sent settled
	hub      directory.EventHub
	ns       directory.EventHubsNamespace
	part     int // a partition, or -1
	pos      int // the next event a consumer gets
	store    *partitions
	wake     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once

	// Guarded by session.mu.
	credit        uint32
	deliveryCount uint32
	drain         bool
	partial       []byte
	partialFormat uint32
	partialID     uint32
	partialSettle bool
}

func newSession(c *conn, ch uint16, begin []any) *session {
	s := &session{c: c, ch: ch, incomingWindow: sessionWindow, links: map[uint32]*link{}}
	if id, ok := asUint(field(begin, 1)); ok {
		s.nextIncomingID = uint32(id)
	}
	return s
}

func (s *session) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, l := range s.links {
		l.halt()
		delete(s.links, h)
	}
}

func (l *link) halt() { l.stopOnce.Do(func() { close(l.stop) }) }

func (l *link) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// terminusAddress returns the address of a source or target.
func terminusAddress(v any) string {
	d, ok := v.(Described)
	if !ok {
		return ""
	}
	f, _ := d.Value.([]any)
	return asString(field(f, 0))
}

func (s *session) attach(f []any) error {
	name := asString(field(f, 0))
	handle, ok := asUint(field(f, 1))
	if !ok {
		return s.c.close(&amqpError{"amqp:invalid-field", "attach without a handle"})
	}
	peerReceives := asBool(field(f, 2))
	snd, rcv := field(f, 3), field(f, 4)
	source, target := field(f, 5), field(f, 6)
	l := &link{s: s, handle: uint32(handle), name: name, part: -1, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	var refusal *amqpError
	if peerReceives {
		l.address = terminusAddress(source)
		if mode, ok := snd.(uint8); ok {
			l.settled = mode == 1
		} else {
			l.settled, snd = true, uint8(1)
		}
		switch {
		case l.address == "$cbs":
			l.kind = linkCBSReply
			l.address = terminusAddress(target)
		case l.address == "$management":
			l.kind = linkManagement
			l.address = terminusAddress(target)
		default:
			l.kind = linkConsume
			refusal = s.c.openConsumer(l, source)
		}
	} else {
		l.address = terminusAddress(target)
		switch l.address {
		case "$cbs":
			l.kind = linkCBSRequest
		case "$management":
			l.kind = linkManagement
		default:
			l.kind = linkSend
			refusal = s.c.openSender(l)
		}
	}
	s.mu.Lock()
	if _, dup := s.links[l.handle]; dup {
		s.mu.Unlock()
		return s.c.close(&amqpError{"amqp:session:handle-in-use", fmt.Sprintf("handle %d is in use", handle)})
	}
	if refusal == nil {
		s.links[l.handle] = l
	}
	s.mu.Unlock()
	reply := []any{name, uint32(handle), !peerReceives, snd, rcv, source, target}
	if refusal != nil {
		// A refused link: attach with null termini, then detach with the error (part 2, 2.6.3).
		// Event Hubs nulls both, which is what go-amqp (and so the SDK) reads as a refusal.
		reply[5], reply[6] = nil, nil
	}
	if peerReceives {
		reply = append(reply, nil, nil, uint32(0)) // unsettled, incomplete-unsettled, initial-delivery-count
	} else {
		reply = append(reply, nil, nil, nil)
	}
	reply = append(reply, uint64(maxMessageSize))
	if err := s.c.writeFrame(frameAMQP, s.ch, describedList(perfAttach, reply...), nil); err != nil {
		return err
	}
	if refusal != nil {
		return s.c.writeFrame(frameAMQP, s.ch, describedList(perfDetach, uint32(handle), true, refusal.value()), nil)
	}
	switch {
	case !peerReceives:
		s.mu.Lock()
		l.credit = linkCredit
		err := s.linkFlow(l)
		s.mu.Unlock()
		return err
	case l.kind == linkConsume:
		go l.deliverEvents()
	}
	return nil
}

// linkFlow sends the session's and l's flow state. Call with s.mu held.
func (s *session) linkFlow(l *link) error {
	return s.c.writeFrame(frameAMQP, s.ch, describedList(perfFlow,
		s.nextIncomingID, s.incomingWindow, s.nextOutgoingID, uint32(sessionWindow),
		l.handle, l.deliveryCount, l.credit, nil, l.drain), nil)
}

func (s *session) flow(f []any) error {
	h, ok := asUint(field(f, 4))
	if !ok {
		if asBool(field(f, 9)) {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.c.writeFrame(frameAMQP, s.ch, describedList(perfFlow, s.nextIncomingID, s.incomingWindow, s.nextOutgoingID, uint32(sessionWindow)), nil)
		}
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.links[uint32(h)]
	if l == nil {
		return nil
	}
	if l.kind == linkConsume || l.kind == linkCBSReply || l.kind == linkManagement && l.address != "$management" {
		// The peer receives: its credit is its delivery-count + link-credit less ours.
		peerCount, ok := asUint(field(f, 5))
		if !ok {
			peerCount = uint64(l.deliveryCount)
		}
		credit, _ := asUint(field(f, 6))
		l.credit = uint32(peerCount) + uint32(credit) - l.deliveryCount
		l.drain = asBool(field(f, 8))
		if l.drain && l.kind == linkConsume {
			l.poke() // the delivering goroutine answers the drain
		} else if l.drain {
			l.deliveryCount += l.credit
			l.credit = 0
			return s.linkFlow(l)
		}
		l.poke()
	}
	if asBool(field(f, 9)) {
		return s.linkFlow(l)
	}
	return nil
}

func (s *session) transfer(f []any, payload []byte) error {
	h, _ := asUint(field(f, 0))
	s.mu.Lock()
	s.nextIncomingID++
	s.incomingWindow--
	if s.incomingWindow < sessionWindow/2 {
		s.incomingWindow = sessionWindow
		if err := s.c.writeFrame(frameAMQP, s.ch, describedList(perfFlow, s.nextIncomingID, s.incomingWindow, s.nextOutgoingID, uint32(sessionWindow)), nil); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	l := s.links[uint32(h)]
	if l == nil || (l.kind != linkSend && l.kind != linkCBSRequest && !(l.kind == linkManagement && l.address == "$management")) {
		s.mu.Unlock()
		return s.c.close(&amqpError{"amqp:session:unattached-handle", fmt.Sprintf("transfer on handle %d, which is not attached for sending", h)})
	}
	if l.partial == nil {
		id, _ := asUint(field(f, 1))
		format, _ := asUint(field(f, 3))
		l.partialID, l.partialFormat, l.partialSettle = uint32(id), uint32(format), asBool(field(f, 4))
		l.partial = []byte{}
	}
	if asBool(field(f, 9)) { // aborted
		l.partial = nil
		s.mu.Unlock()
		return nil
	}
	l.partial = append(l.partial, payload...)
	if len(l.partial) > maxMessageSize {
		l.partial = nil
		err := s.c.writeFrame(frameAMQP, s.ch, describedList(perfDetach, l.handle, true, (&amqpError{"amqp:link:message-size-exceeded",
			fmt.Sprintf("The received message (delivery-id:%d, size:%d bytes) exceeds the limit (%d bytes) currently allowed on the link.", l.partialID, len(l.partial), maxMessageSize)}).value()), nil)
		delete(s.links, l.handle)
		s.mu.Unlock()
		return err
	}
	if asBool(field(f, 5)) { // more frames follow
		s.mu.Unlock()
		return nil
	}
	msg, id, format, settled := l.partial, l.partialID, l.partialFormat, l.partialSettle
	l.partial = nil
	l.deliveryCount++
	l.credit--
	var err error
	if l.credit < linkCredit/2 {
		l.credit = linkCredit
		err = s.linkFlow(l)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	switch l.kind {
	case linkCBSRequest, linkManagement:
		// The reply may wait for the credit of the client's reply link, which arrives on this
		// reading goroutine: answer from another.
		go func() {
			if l.kind == linkCBSRequest {
				_ = s.settle(id, settled, s.c.putToken(s, msg))
			} else {
				_ = s.settle(id, settled, s.c.management(s, msg))
			}
		}()
		return nil
	}
	return s.settle(id, settled, s.c.receiveEvents(l, format, msg))
}

// settle sends the outcome of an unsettled delivery the server received.
func (s *session) settle(id uint32, settled bool, outcome *amqpError) error {
	if settled {
		return nil
	}
	state := describedList(descAccepted)
	if outcome != nil {
		state = describedList(descRejected, outcome.value())
	}
	return s.c.writeFrame(frameAMQP, s.ch, describedList(perfDisposition, true, id, nil, true, state), nil)
}

func (s *session) detach(f []any) error {
	h, _ := asUint(field(f, 0))
	s.mu.Lock()
	l := s.links[uint32(h)]
	if l != nil {
		l.halt()
		delete(s.links, uint32(h))
	}
	s.mu.Unlock()
	if l == nil {
		// The peer's answer to a detach of the server's (a refused or oversized link).
		return nil
	}
	return s.c.writeFrame(frameAMQP, s.ch, describedList(perfDetach, uint32(h), true), nil)
}

// send delivers one message on l, split into frames the peer accepts. Call with s.mu held.
func (s *session) send(l *link, msg []byte) error {
	id := s.deliveryID
	s.deliveryID++
	tag := binary.BigEndian.AppendUint64(nil, uint64(id))
	room := int(s.c.peerFrame) - 8 - 64 // the transfer performative fits in 64 bytes
	first := true
	for first || len(msg) > 0 {
		chunk := msg
		if len(chunk) > room {
			chunk = chunk[:room]
		}
		msg = msg[len(chunk):]
		more := len(msg) > 0
		var perf any
		if first {
			perf = describedList(perfTransfer, l.handle, id, tag, uint32(0), l.settled, more)
		} else {
			perf = describedList(perfTransfer, l.handle, nil, nil, nil, nil, more)
		}
		if err := s.c.writeFrame(frameAMQP, s.ch, perf.(Described), chunk); err != nil {
			return err
		}
		s.nextOutgoingID++
		first = false
	}
	l.deliveryCount++
	l.credit--
	return nil
}

// sendReply sends msg on the link whose target is address (a reply-to), waiting briefly for
// credit.
func (s *session) sendReply(address string, msg []byte) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		var to *link
		for _, l := range s.links {
			if (l.kind == linkCBSReply || l.kind == linkManagement) && l.address == address {
				to = l
			}
		}
		if to == nil {
			s.mu.Unlock()
			return nil // nobody to answer: the client's reply link is gone
		}
		if to.credit > 0 {
			err := s.send(to, msg)
			s.mu.Unlock()
			return err
		}
		s.mu.Unlock()
		if time.Now().After(deadline) {
			return nil
		}
		select {
		case <-to.wake:
		case <-to.stop:
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// selector parses the filter Event Hubs receivers send (apache.org:selector-filter:string).
var selector = regexp.MustCompile(`^amqp\.annotation\.x-opt-(offset|sequence-number|enqueued-time)\s*(>=|>)\s*'([^']*)'$`)

// startIndex returns the index of the first event a consumer receives.
func startIndex(filter string, events []*Event) (int, error) {
	if filter == "" {
		return len(events), nil // no filter: from the end, as Event Hubs' default is @latest
	}
	m := selector.FindStringSubmatch(strings.TrimSpace(filter))
	if m == nil {
		return 0, fmt.Errorf("the filter '%s' is not an offset, sequence number or enqueued time selector", filter)
	}
	inclusive := m[2] == ">="
	if m[3] == "@latest" {
		return len(events), nil
	}
	n, err := strconv.ParseInt(m[3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the filter value '%s' is not a number", m[3])
	}
	for i, ev := range events {
		var v int64
		switch m[1] {
		case "offset":
			v = ev.Offset
		case "sequence-number":
			v = ev.SequenceNumber
		default:
			v = ev.EnqueuedTime.UnixMilli()
		}
		if v > n || inclusive && v == n {
			return i, nil
		}
	}
	return len(events), nil
}

// deliverEvents sends a partition's events to a consumer as its credit allows.
func (l *link) deliverEvents() {
	s := l.s
	for {
		l.store.mu.Lock()
		notify := l.store.notify
		events := l.store.events[l.part]
		l.store.mu.Unlock()
		s.mu.Lock()
		for l.credit > 0 && l.pos < len(events) {
			ev := events[l.pos]
			if err := s.send(l, ev.encodeForConsumer()); err != nil {
				s.mu.Unlock()
				return
			}
			l.pos++
		}
		if l.drain {
			l.deliveryCount += l.credit
			l.credit, l.drain = 0, false
			_ = s.linkFlow(l)
		}
		s.mu.Unlock()
		select {
		case <-notify:
		case <-l.wake:
		case <-l.stop:
			return
		case <-s.c.done:
			return
		}
	}
}
