package eventhubs

import (
	"strconv"
	"strings"
	"time"
)

// management answers $management READ requests for an event hub (com.microsoft:eventhub) and a
// partition (com.microsoft:partition), as GetEventHubProperties and GetPartitionProperties send
// them. The security_token they carry is checked like a put-token for Listen.
func (c *conn) management(s *session, msg []byte) *amqpError {
	secs, err := parseMessage(msg)
	if err != nil {
		return &amqpError{"amqp:decode-error", err.Error()}
	}
	var msgID any
	var replyTo string
	var props Map
	for _, sec := range secs {
		switch sec.code {
		case secProperties:
			f, _ := sec.value.([]any)
			msgID, replyTo = field(f, 0), asString(field(f, 4))
		case secApplicationProp:
			props, _ = sec.value.(Map)
		}
	}
	get := func(k string) string { v, _ := props.Get(k); return asString(v) }
	status, desc, body := c.read(get("operation"), get("type"), get("name"), get("partition"), get("security_token"))
	reply := encode(describedList(secProperties, nil, nil, nil, nil, nil, msgID))
	reply = append(reply, encode(Described{uint64(secApplicationProp), Map{
		{"status-code", int32(status)},
		{"status-description", desc},
	}})...)
	reply = append(reply, encode(Described{uint64(secValue), body})...)
	if err := s.sendReply(replyTo, reply); err != nil {
		return &amqpError{"amqp:internal-error", err.Error()}
	}
	return nil
}

func (c *conn) read(op, typ, name, partition, token string) (int, string, any) {
	if op != "READ" {
		return 400, "The operation '" + op + "' is not supported.", nil
	}
	ns, ok := c.s.dir.EventHubsNamespace(c.ns())
	if !ok {
		return 404, "The messaging entity could not be found.", nil
	}
	hub, ok := ns.Hub(name)
	if !ok {
		return 404, "The messaging entity 'sb://" + c.ns() + Suffix + "/" + name + "' could not be found.", nil
	}
	if token != "" {
		typ := tokenJWT
		if strings.HasPrefix(token, "SharedAccessSignature ") {
			typ = tokenSAS
		}
		if status, desc := c.checkToken("put-token", typ, "amqps://"+c.ns()+Suffix+"/"+hub.Name, token); status != 202 {
			return status, desc, nil
		}
	}
	if err := c.authorize(ns, hub.Name, "Listen"); err != nil {
		return 401, err.description, nil
	}
	store := c.s.store(ns.Name, hub.Name, hub.PartitionCount)
	switch typ {
	case "com.microsoft:eventhub":
		ids := Array{}
		for i := range hub.PartitionCount {
			ids = append(ids, strconv.Itoa(i))
		}
		return 200, "OK", Map{
			{"name", hub.Name},
			{"type", "com.microsoft:eventhub"},
			{"created_at", time.Unix(0, 0).UTC()},
			{"partition_count", int32(hub.PartitionCount)},
			{"partition_ids", ids},
			{"georeplication_factor", int32(1)},
		}
	case "com.microsoft:partition":
		p, err := strconv.Atoi(partition)
		if err != nil || p < 0 || p >= hub.PartitionCount {
			return 400, "The specified partition is invalid.", nil
		}
		store.mu.Lock()
		events := store.events[p]
		store.mu.Unlock()
		last, lastOffset, lastTime := int64(-1), "-1", time.Unix(0, 0).UTC()
		if n := len(events); n > 0 {
			last, lastOffset, lastTime = events[n-1].SequenceNumber, itoa(events[n-1].Offset), events[n-1].EnqueuedTime
		}
		return 200, "OK", Map{
			{"name", hub.Name},
			{"type", "com.microsoft:partition"},
			{"partition", partition},
			{"begin_sequence_number", int64(0)},
			{"last_enqueued_sequence_number", last},
			{"last_enqueued_offset", lastOffset},
			{"last_enqueued_time_utc", lastTime},
			{"is_partition_empty", len(events) == 0},
		}
	}
	return 400, "The type '" + typ + "' is not supported.", nil
}
