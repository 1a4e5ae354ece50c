package eventhubs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// The AMQP 1.0 type system (OASIS AMQP 1.0, part 1), as much of it as Event Hubs clients send.
// Decoded values are Go values:
//
//	null → nil, boolean → bool, ubyte → uint8, ushort → uint16, uint → uint32, ulong → uint64,
//	byte → int8, short → int16, int → int32, long → int64, float → float32, double → float64,
//	char → rune (Char), timestamp → time.Time (UTC, milliseconds), uuid → UUID,
//	binary → []byte, string → string, symbol → Symbol, list → []any, map → Map,
//	array → Array, described → Described.
//
// Encoding writes the smallest form of each value, as the specification recommends.

// Symbol is an AMQP symbol: ASCII names such as error conditions and annotation keys.
type Symbol string

// Char is an AMQP char, a UTF-32 code point.
type Char rune

// UUID is an AMQP uuid.
type UUID [16]byte

// Described is a described value: a descriptor (a Symbol or a uint64 code) and its value.
type Described struct {
	Descriptor any
	Value      any
}

// Map is an AMQP map with its keys in wire order. Keys of maps the server reads (annotations,
// application properties, filters) are strings or symbols.
type Map []MapEntry

// MapEntry is one key and value of a Map.
type MapEntry struct {
	Key, Value any
}

// Get returns the value for a string or symbol key.
func (m Map) Get(key string) (any, bool) {
	for _, e := range m {
		switch k := e.Key.(type) {
		case string:
			if k == key {
				return e.Value, true
			}
		case Symbol:
			if string(k) == key {
				return e.Value, true
			}
		}
	}
	return nil, false
}

// Array is an AMQP array: values of one type. Only arrays of symbols are written.
type Array []any

// Limits that keep a malicious peer from making the decoder allocate or recurse without bound.
const maxDepth = 64

var errShort = errors.New("amqp: truncated value")

type decoder struct {
	b     []byte
	depth int
}

// decodeValue reads one value from the start of b and returns it with the bytes it used.
func decodeValue(b []byte) (any, int, error) {
	d := &decoder{b: b}
	v, err := d.value()
	if err != nil {
		return nil, 0, err
	}
	return v, len(b) - len(d.b), nil
}

func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.b) {
		return nil, errShort
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out, nil
}

func (d *decoder) byte1() (byte, error) {
	b, err := d.take(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (d *decoder) value() (any, error) {
	code, err := d.byte1()
	if err != nil {
		return nil, err
	}
	if code == 0x00 {
		d.depth++
		defer func() { d.depth-- }()
		if d.depth > maxDepth {
			return nil, errors.New("amqp: values nested too deep")
		}
		desc, err := d.value()
		if err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		return Described{Descriptor: desc, Value: v}, nil
	}
	return d.body(code)
}

// size reads the width-byte size (1 or 4 bytes) that precedes variable-width values.
func (d *decoder) size(width int) (int, error) {
	b, err := d.take(width)
	if err != nil {
		return 0, err
	}
	if width == 1 {
		return int(b[0]), nil
	}
	n := binary.BigEndian.Uint32(b)
	if int64(n) > int64(len(d.b)) {
		return 0, errShort
	}
	return int(n), nil
}

func (d *decoder) fixed(n int) ([]byte, error) { return d.take(n) }

func (d *decoder) body(code byte) (any, error) {
	switch code {
	case 0x40:
		return nil, nil
	case 0x41:
		return true, nil
	case 0x42:
		return false, nil
	case 0x56:
		b, err := d.byte1()
		return b != 0, err
	case 0x50:
		return d.byte1()
	case 0x51:
		b, err := d.byte1()
		return int8(b), err
	case 0x60, 0x61:
		b, err := d.fixed(2)
		if err != nil {
			return nil, err
		}
		if code == 0x60 {
			return binary.BigEndian.Uint16(b), nil
		}
		return int16(binary.BigEndian.Uint16(b)), nil
	case 0x43:
		return uint32(0), nil
	case 0x52:
		b, err := d.byte1()
		return uint32(b), err
	case 0x54:
		b, err := d.byte1()
		return int32(int8(b)), err
	case 0x70, 0x71, 0x72, 0x73:
		b, err := d.fixed(4)
		if err != nil {
			return nil, err
		}
		u := binary.BigEndian.Uint32(b)
		switch code {
		case 0x70:
			return u, nil
		case 0x71:
			return int32(u), nil
		case 0x72:
			return math.Float32frombits(u), nil
		default:
			return Char(rune(u)), nil
		}
	case 0x44:
		return uint64(0), nil
	case 0x53:
		b, err := d.byte1()
		return uint64(b), err
	case 0x55:
		b, err := d.byte1()
		return int64(int8(b)), err
	case 0x80, 0x81, 0x82, 0x83:
		b, err := d.fixed(8)
		if err != nil {
			return nil, err
		}
		u := binary.BigEndian.Uint64(b)
		switch code {
		case 0x80:
			return u, nil
		case 0x81:
			return int64(u), nil
		case 0x82:
			return math.Float64frombits(u), nil
		default:
			return time.UnixMilli(int64(u)).UTC(), nil
		}
	case 0x74, 0x84, 0x94: // decimals: kept as their bytes
		n := map[byte]int{0x74: 4, 0x84: 8, 0x94: 16}[code]
		b, err := d.fixed(n)
		return append([]byte(nil), b...), err
	case 0x98:
		b, err := d.fixed(16)
		if err != nil {
			return nil, err
		}
		var u UUID
		copy(u[:], b)
		return u, nil
	case 0xa0, 0xb0, 0xa1, 0xb1, 0xa3, 0xb3:
		width := 1
		if code&0xf0 == 0xb0 {
			width = 4
		}
		n, err := d.size(width)
		if err != nil {
			return nil, err
		}
		b, err := d.take(n)
		if err != nil {
			return nil, err
		}
		switch code & 0x0f {
		case 0x0:
			return append([]byte(nil), b...), nil
		case 0x1:
			return string(b), nil
		default:
			return Symbol(b), nil
		}
	case 0x45:
		return []any{}, nil
	case 0xc0, 0xd0, 0xc1, 0xd1:
		width := 1
		if code&0xf0 == 0xd0 {
			width = 4
		}
		n, err := d.size(width)
		if err != nil {
			return nil, err
		}
		content, err := d.take(n)
		if err != nil {
			return nil, err
		}
		sub := &decoder{b: content, depth: d.depth + 1}
		if sub.depth > maxDepth {
			return nil, errors.New("amqp: values nested too deep")
		}
		count, err := sub.size(width)
		if err != nil {
			return nil, err
		}
		if count > len(sub.b) { // every element takes at least one byte
			return nil, errShort
		}
		items := make([]any, 0, count)
		for range count {
			v, err := sub.value()
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		if code&0x0f == 0 {
			return items, nil
		}
		if count%2 != 0 {
			return nil, errors.New("amqp: map with an odd number of elements")
		}
		m := make(Map, 0, count/2)
		for i := 0; i < count; i += 2 {
			m = append(m, MapEntry{items[i], items[i+1]})
		}
		return m, nil
	case 0xe0, 0xf0:
		width := 1
		if code == 0xf0 {
			width = 4
		}
		n, err := d.size(width)
		if err != nil {
			return nil, err
		}
		content, err := d.take(n)
		if err != nil {
			return nil, err
		}
		sub := &decoder{b: content, depth: d.depth + 1}
		if sub.depth > maxDepth {
			return nil, errors.New("amqp: values nested too deep")
		}
		count, err := sub.size(width)
		if err != nil {
			return nil, err
		}
		elem, err := sub.byte1()
		if err != nil {
			return nil, err
		}
		var desc any
		described := elem == 0x00
		if described {
			if desc, err = sub.value(); err != nil {
				return nil, err
			}
			if elem, err = sub.byte1(); err != nil {
				return nil, err
			}
		}
		if elem == 0x00 {
			return nil, errors.New("amqp: array of described arrays")
		}
		if count > len(sub.b)+1 && !zeroWidth(elem) {
			return nil, errShort
		}
		if count > 1<<16 {
			return nil, errors.New("amqp: array too long")
		}
		arr := make(Array, 0, count)
		for range count {
			v, err := sub.body(elem)
			if err != nil {
				return nil, err
			}
			if described {
				v = Described{Descriptor: desc, Value: v}
			}
			arr = append(arr, v)
		}
		return arr, nil
	}
	return nil, fmt.Errorf("amqp: unknown type code 0x%02x", code)
}

func zeroWidth(code byte) bool {
	switch code {
	case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45:
		return true
	}
	return false
}

// encoder appends AMQP values to a byte slice.
type encoder struct{ b []byte }

func (e *encoder) u8(v byte)    { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }

func encode(v any) []byte {
	e := &encoder{}
	e.value(v)
	return e.b
}

func (e *encoder) value(v any) {
	switch x := v.(type) {
	case nil:
		e.u8(0x40)
	case bool:
		if x {
			e.u8(0x41)
		} else {
			e.u8(0x42)
		}
	case uint8:
		e.u8(0x50)
		e.u8(x)
	case uint16:
		e.u8(0x60)
		e.u16(x)
	case uint32:
		switch {
		case x == 0:
			e.u8(0x43)
		case x < 256:
			e.u8(0x52)
			e.u8(byte(x))
		default:
			e.u8(0x70)
			e.u32(x)
		}
	case uint64:
		switch {
		case x == 0:
			e.u8(0x44)
		case x < 256:
			e.u8(0x53)
			e.u8(byte(x))
		default:
			e.u8(0x80)
			e.u64(x)
		}
	case int8:
		e.u8(0x51)
		e.u8(byte(x))
	case int16:
		e.u8(0x61)
		e.u16(uint16(x))
	case int32:
		if x >= -128 && x <= 127 {
			e.u8(0x54)
			e.u8(byte(int8(x)))
		} else {
			e.u8(0x71)
			e.u32(uint32(x))
		}
	case int64:
		if x >= -128 && x <= 127 {
			e.u8(0x55)
			e.u8(byte(int8(x)))
		} else {
			e.u8(0x81)
			e.u64(uint64(x))
		}
	case float32:
		e.u8(0x72)
		e.u32(math.Float32bits(x))
	case float64:
		e.u8(0x82)
		e.u64(math.Float64bits(x))
	case Char:
		e.u8(0x73)
		e.u32(uint32(x))
	case time.Time:
		e.u8(0x83)
		e.u64(uint64(x.UnixMilli()))
	case UUID:
		e.u8(0x98)
		e.b = append(e.b, x[:]...)
	case []byte:
		e.variable(0xa0, 0xb0, x)
	case string:
		e.variable(0xa1, 0xb1, []byte(x))
	case Symbol:
		e.variable(0xa3, 0xb3, []byte(x))
	case []any:
		e.compound(0xc0, 0xd0, 0x45, x)
	case Map:
		items := make([]any, 0, 2*len(x))
		for _, kv := range x {
			items = append(items, kv.Key, kv.Value)
		}
		e.compound(0xc1, 0xd1, 0, items)
	case Array:
		e.array(x)
	case Described:
		e.u8(0x00)
		e.value(x.Descriptor)
		e.value(x.Value)
	case rawValue:
		e.b = append(e.b, x...)
	default:
		panic(fmt.Sprintf("amqp: cannot encode %T", v))
	}
}

// rawValue is an already encoded value, written as is.
type rawValue []byte

func (e *encoder) variable(small, large byte, b []byte) {
	if len(b) < 256 {
		e.u8(small)
		e.u8(byte(len(b)))
	} else {
		e.u8(large)
		e.u32(uint32(len(b)))
	}
	e.b = append(e.b, b...)
}

func (e *encoder) compound(small, large, empty byte, items []any) {
	if len(items) == 0 && empty != 0 {
		e.u8(empty)
		return
	}
	body := &encoder{}
	for _, it := range items {
		body.value(it)
	}
	if len(body.b)+1 < 256 && len(items) < 256 {
		e.u8(small)
		e.u8(byte(len(body.b) + 1))
		e.u8(byte(len(items)))
	} else {
		e.u8(large)
		e.u32(uint32(len(body.b) + 4))
		e.u32(uint32(len(items)))
	}
	e.b = append(e.b, body.b...)
}

// array writes an array of symbols (SASL mechanisms) or strings (partition IDs), in the 32-bit
// form.
func (e *encoder) array(a Array) {
	body := &encoder{}
	code := byte(0xb3)
	if len(a) > 0 {
		if _, ok := a[0].(string); ok {
			code = 0xb1
		}
	}
	body.u8(code)
	for _, it := range a {
		s := asString(it)
		body.u32(uint32(len(s)))
		body.b = append(body.b, s...)
	}
	e.u8(0xf0)
	e.u32(uint32(len(body.b) + 4))
	e.u32(uint32(len(a)))
	e.b = append(e.b, body.b...)
}

// Accessors for the fields of performatives, which arrive as lists where trailing nulls may be
// omitted.

func field(l []any, i int) any {
	if i < len(l) {
		return l[i]
	}
	return nil
}

func asUint(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case int32:
		if x >= 0 {
			return uint64(x), true
		}
	case int64:
		if x >= 0 {
			return uint64(x), true
		}
	}
	return 0, false
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case Symbol:
		return string(x)
	}
	return ""
}

func asBool(v any) bool {
	b, _ := v.(bool)
	return b
}

// descriptorCode returns a described value's numeric descriptor, translating the symbolic names
// of the descriptors the server knows.
func descriptorCode(d Described) uint64 {
	switch x := d.Descriptor.(type) {
	case uint64:
		return x
	case Symbol:
		if c, ok := symbolicDescriptors[string(x)]; ok {
			return c
		}
	}
	return 0
}

var symbolicDescriptors = map[string]uint64{
	"amqp:open:list": 0x10, "amqp:begin:list": 0x11, "amqp:attach:list": 0x12, "amqp:flow:list": 0x13,
	"amqp:transfer:list": 0x14, "amqp:disposition:list": 0x15, "amqp:detach:list": 0x16,
	"amqp:end:list": 0x17, "amqp:close:list": 0x18, "amqp:error:list": 0x1d,
	"amqp:received:list": 0x23, "amqp:accepted:list": 0x24, "amqp:rejected:list": 0x25,
	"amqp:released:list": 0x26, "amqp:modified:list": 0x27, "amqp:source:list": 0x28,
	"amqp:target:list":          0x29,
	"amqp:sasl-mechanisms:list": 0x40, "amqp:sasl-init:list": 0x41, "amqp:sasl-challenge:list": 0x42,
	"amqp:sasl-response:list": 0x43, "amqp:sasl-outcome:list": 0x44,
	"amqp:header:list": 0x70, "amqp:delivery-annotations:map": 0x71,
	"amqp:message-annotations:map": 0x72, "amqp:properties:list": 0x73,
	"amqp:application-properties:map": 0x74, "amqp:data:binary": 0x75,
	"amqp:amqp-sequence:list": 0x76, "amqp:amqp-value:*": 0x77, "amqp:footer:map": 0x78,
	"apache.org:selector-filter:string": selectorFilterCode,
}

// selectorFilterCode is the descriptor of the Apache selector filter that Event Hubs receivers
// send ("apache.org:selector-filter:string", 0x0000468C:0x00000004).
const selectorFilterCode = 0x0000468C00000004

func describedList(code uint64, fields ...any) Described {
	// Trailing nulls may be omitted (part 1, 1.4).
	for len(fields) > 0 && fields[len(fields)-1] == nil {
		fields = fields[:len(fields)-1]
	}
	return Described{Descriptor: code, Value: fields}
}
