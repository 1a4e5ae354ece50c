package eventhubs

import (
	"errors"
	"time"
)

// Message section descriptors (part 3, 3.2).
const (
	secHeader          = 0x70
	secDeliveryAnnots  = 0x71
	secMessageAnnots   = 0x72
	secProperties      = 0x73
	secApplicationProp = 0x74
	secData            = 0x75
	secValue           = 0x77
)

// batchFormat is the message format of the SDK's batches: one AMQP message whose data sections
// each hold a whole encoded message, an event.
const batchFormat = 0x80013700

// section is one section of an encoded message, with its bytes as they arrived.
type section struct {
	code  uint64
	value any
	raw   []byte
}

func parseMessage(b []byte) ([]section, error) {
	var out []section
	for len(b) > 0 {
		v, n, err := decodeValue(b)
		if err != nil {
			return nil, err
		}
		d, ok := v.(Described)
		if !ok {
			return nil, errors.New("amqp: a message section is not a described value")
		}
		code := descriptorCode(d)
		if code < secHeader || code > 0x78 {
			return nil, errors.New("amqp: unknown message section")
		}
		out = append(out, section{code: code, value: d.Value, raw: b[:n]})
		b = b[n:]
	}
	if len(out) == 0 {
		return nil, errors.New("amqp: empty message")
	}
	return out, nil
}

// splitBatch returns the events of a transfer: the messages inside a batch's data sections, or
// the message itself. The batch's message annotations (the partition key) apply to each event.
func splitBatch(format uint32, payload []byte) ([][]section, Map, error) {
	secs, err := parseMessage(payload)
	if err != nil {
		return nil, nil, err
	}
	if format != batchFormat {
		return [][]section{secs}, nil, nil
	}
	var annots Map
	var events [][]section
	for _, s := range secs {
		switch s.code {
		case secMessageAnnots:
			annots, _ = s.value.(Map)
		case secData:
			inner, ok := s.value.([]byte)
			if !ok {
				return nil, nil, errors.New("amqp: a batch's data section is not binary")
			}
			ev, err := parseMessage(inner)
			if err != nil {
				return nil, nil, err
			}
			events = append(events, ev)
		}
	}
	return events, annots, nil
}

// Event is an event a hub received, as a consumer reads it back.
type Event struct {
	Partition      int
	SequenceNumber int64
	Offset         int64
	EnqueuedTime   time.Time
	PartitionKey   string
	// Body is the event's data (its data sections joined, or the amqp-value when it is binary or
	// a string).
	Body []byte
	// Properties are the application properties.
	Properties map[string]any
	sections   []section
}

// encodeForConsumer writes the event as a message with Event Hubs' system annotations.
func (ev *Event) encodeForConsumer() []byte {
	annots := Map{}
	var out []byte
	wroteAnnots := false
	writeAnnots := func() {
		if wroteAnnots {
			return
		}
		wroteAnnots = true
		if ev.PartitionKey != "" {
			annots = append(annots, MapEntry{Symbol("x-opt-partition-key"), ev.PartitionKey})
		}
		annots = append(annots,
			MapEntry{Symbol("x-opt-sequence-number"), ev.SequenceNumber},
			MapEntry{Symbol("x-opt-offset"), itoa(ev.Offset)},
			MapEntry{Symbol("x-opt-enqueued-time"), ev.EnqueuedTime},
		)
		out = append(out, encode(Described{Descriptor: uint64(secMessageAnnots), Value: annots})...)
	}
	for _, s := range ev.sections {
		switch s.code {
		case secHeader:
			out = append(out, s.raw...)
		case secDeliveryAnnots:
		case secMessageAnnots:
			if m, ok := s.value.(Map); ok {
				for _, e := range m {
					if k := asString(e.Key); len(k) > 6 && k[:6] == "x-opt-" {
						continue
					}
					annots = append(annots, e)
				}
			}
		default:
			writeAnnots()
			out = append(out, s.raw...)
		}
	}
	writeAnnots()
	return out
}

func newEvent(secs []section, batchAnnots Map) *Event {
	ev := &Event{sections: secs}
	if k, ok := batchAnnots.Get("x-opt-partition-key"); ok {
		ev.PartitionKey = asString(k)
	}
	for _, s := range secs {
		switch s.code {
		case secMessageAnnots:
			if m, ok := s.value.(Map); ok {
				if k, ok := m.Get("x-opt-partition-key"); ok {
					ev.PartitionKey = asString(k)
				}
			}
		case secApplicationProp:
			if m, ok := s.value.(Map); ok {
				ev.Properties = map[string]any{}
				for _, e := range m {
					ev.Properties[asString(e.Key)] = e.Value
				}
			}
		case secData:
			b, _ := s.value.([]byte)
			ev.Body = append(ev.Body, b...)
		case secValue:
			switch v := s.value.(type) {
			case []byte:
				ev.Body = v
			case string:
				ev.Body = []byte(v)
			}
		}
	}
	return ev
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
