package eventhubs

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCodecRoundTrip(t *testing.T) {
	ts := time.UnixMilli(1700000000123).UTC()
	for _, v := range []any{
		nil, true, false, uint8(7), uint16(300), uint32(0), uint32(200), uint32(70000),
		uint64(0), uint64(5), uint64(1 << 40), int8(-3), int16(-300), int32(-5), int32(1 << 20),
		int64(-7), int64(1 << 40), float32(1.5), float64(2.25), Char('é'), ts, UUID{1, 2, 3},
		[]byte("bin"), bytes.Repeat([]byte("x"), 300), "str", strings.Repeat("s", 300), Symbol("sym"),
		[]any{}, []any{"a", uint32(1), nil}, Map{{Symbol("k"), "v"}, {"n", int64(1)}},
		Array{Symbol("a"), Symbol("bc")}, Array{"0", "1"},
		Described{Descriptor: uint64(0x70), Value: []any{true}},
		Described{Descriptor: Symbol("amqp:data:binary"), Value: []byte{1}},
	} {
		b := encode(v)
		got, n, err := decodeValue(b)
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		if n != len(b) {
			t.Errorf("%#v: used %d of %d bytes", v, n, len(b))
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("round trip of %#v gave %#v", v, got)
		}
	}
}

// TestDecodeWireForms reads the wider forms a peer may send, which encode never writes.
func TestDecodeWireForms(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want any
	}{
		{[]byte{0x56, 0x01}, true},
		{[]byte{0x70, 0, 0, 0, 5}, uint32(5)},
		{[]byte{0x80, 0, 0, 0, 0, 0, 0, 0, 5}, uint64(5)},
		{[]byte{0x71, 0xff, 0xff, 0xff, 0xff}, int32(-1)},
		{[]byte{0xb1, 0, 0, 0, 2, 'h', 'i'}, "hi"},
		{[]byte{0xd0, 0, 0, 0, 6, 0, 0, 0, 2, 0x41, 0x42}, []any{true, false}},
		{[]byte{0xe0, 4, 2, 0x50, 1, 2}, Array{uint8(1), uint8(2)}},
		{[]byte{0xf0, 0, 0, 0, 11, 0, 0, 0, 1, 0xa3, 1, 'a'}[:11], nil}, // truncated
	} {
		got, _, err := decodeValue(c.in)
		if c.want == nil {
			if err == nil {
				t.Errorf("% x: decoded %#v, want an error", c.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("% x: got %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}
}

func TestStartIndex(t *testing.T) {
	base := time.UnixMilli(1000).UTC()
	var events []*Event
	for i := range 3 {
		events = append(events, &Event{SequenceNumber: int64(i), Offset: int64(i), EnqueuedTime: base.Add(time.Duration(i) * time.Second)})
	}
	for _, c := range []struct {
		filter string
		want   int
	}{
		{"amqp.annotation.x-opt-offset > '-1'", 0},
		{"amqp.annotation.x-opt-offset > '@latest'", 3},
		{"amqp.annotation.x-opt-offset > '0'", 1},
		{"amqp.annotation.x-opt-offset >= '1'", 1},
		{"amqp.annotation.x-opt-sequence-number > '1'", 2},
		{"amqp.annotation.x-opt-enqueued-time > '2000'", 2},
		{"amqp.annotation.x-opt-enqueued-time >= '2000'", 1},
		{"", 3},
	} {
		got, err := startIndex(c.filter, events)
		if err != nil || got != c.want {
			t.Errorf("%q: got %d, %v; want %d", c.filter, got, err, c.want)
		}
	}
	if _, err := startIndex("amqp.annotation.x-opt-offset = '1'", events); err == nil {
		t.Error("an unknown operator was accepted")
	}
}

// FuzzDecode: the decoder never panics nor over-reads, whatever a peer sends; what it decodes
// encodes again.
func FuzzDecode(f *testing.F) {
	f.Add(encode(describedList(perfOpen, "c", "h", uint32(65536), uint16(1), uint32(30000))))
	f.Add(encode(Map{{Symbol("x-opt-offset"), "1"}}))
	f.Add(encode(Array{Symbol("ANONYMOUS")}))
	f.Add([]byte{0xd0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Add([]byte{0xf0, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := decodeValue(b)
		if err != nil {
			return
		}
		if n > len(b) {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
		if !encodable(v) {
			return
		}
		again, _, err := decodeValue(encode(v))
		if err != nil {
			t.Fatalf("re-decoding %#v: %v", v, err)
		}
		_ = again
	})
}

// encodable reports whether encode writes v: arrays only of strings and symbols, and no
// decimals (kept as bytes, which encode writes as binary).
func encodable(v any) bool {
	switch x := v.(type) {
	case Array:
		for _, e := range x {
			if _, ok := e.(Symbol); !ok {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !encodable(e) {
				return false
			}
		}
	case Map:
		for _, e := range x {
			if !encodable(e.Key) || !encodable(e.Value) {
				return false
			}
		}
	case Described:
		return encodable(x.Descriptor) && encodable(x.Value)
	}
	return true
}
