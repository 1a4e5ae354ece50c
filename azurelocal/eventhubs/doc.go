// Package eventhubs is the local Azure Event Hubs: the event hubs of the namespaces the
// directory declares (resources.eventHubsNamespaces), served as NAMESPACE.servicebus.windows.net
// over AMQP 1.0 (OASIS AMQP 1.0, written here from the specification: no AMQP library), so that
// the real azeventhubs SDK (ProducerClient, ConsumerClient) works against it unchanged.
//
// In docs/architecture.md's flow it stands where Event Hubs stands, at the far end of the arrow
// from the azureeventhub notification provider: a Flux event is sent to a hub with an Entra token
// or a SAS token, and a consumer reads it back.
//
// Where it listens (see azurelocal.Start):
//
//   - AMQP over TLS on port 5671 (Port): a listener of its own, which the connect-to map names as
//     *.servicebus.windows.net:5671:ADDR (azurelocal.AMQPHosts, Azure.EventHubsAddr). TLS uses
//     the gateway's leaf certificate, which covers *.servicebus.windows.net.
//   - AMQP over WebSockets on the gateway (443): wss://NAMESPACE.servicebus.windows.net/$servicebus/websocket
//     (WebSocketPath), subprotocol AMQPWSB10, binary messages carrying the same byte stream.
//
// Wire format, as the SDK (go-amqp) sends it and the server answers:
//
//	Layer              What the server does
//	-----------------  ------------------------------------------------------------------------
//	protocol header    AMQP 3.1.0.0 (SASL) then AMQP 0.1.0.0; AMQP 0.1.0.0 alone (no SASL) too;
//	                   any other header gets the SASL header back and the connection closed
//	SASL               sasl-mechanisms [MSSBCBS, ANONYMOUS]; sasl-init with either; sasl-outcome
//	                   ok (identity comes later, on $cbs); another mechanism: outcome auth
//	frames             8-byte header, doff ≥ 2, max-frame-size 65536 (larger frames close the
//	                   connection with amqp:connection:framing-error); empty frames are
//	                   heartbeats; the server sends them at half the peer's idle-time-out
//	open/close         container-id azimuth-eventhubs, idle-time-out 120 s, channel-max ≤ 255;
//	                   the hostname names the namespace
//	begin/end          one session per channel, incoming/outgoing window 5000, refilled
//	attach/detach      snd-settle-mode and rcv-settle-mode echoed (the server sends settled when
//	                   the client asks for settled or leaves it to the server);
//	                   max-message-size 1 MiB (Standard tier); a refused link gets an attach with
//	                   a null terminus followed by detach with the error (part 2, 2.6.3)
//	flow               1000 link credit for the client's senders, refilled at half; the
//	                   client's credit, drain and echo honoured on the server's senders
//	transfer           multi-frame deliveries reassembled (more), aborted ones dropped; the
//	                   server splits its own to the peer's max-frame-size
//	disposition        unsettled deliveries get accepted, or rejected with the error
//	$cbs put-token     application-properties operation=put-token, type=jwt or
//	                   servicebus.windows.net:sastoken, name=amqps://NS.servicebus.windows.net/HUB;
//	                   body amqp-value string. Reply on the link whose target is the request's
//	                   reply-to: correlation-id = message-id, status-code (int) 202 Accepted,
//	                   401 (InvalidSignature, InvalidAudience, InvalidIssuer, ExpiredToken,
//	                   InvalidToken), 404 (entity not found) or 400, and status-description
//	events             address HUB (partition by x-opt-partition-key hash, else round robin) or
//	                   HUB/Partitions/P; message-format 0x80013700 is a batch whose data
//	                   sections each hold a whole message; any other format is one event
//	consumers          address HUB/ConsumerGroups/$Default/Partitions/P with the source filter
//	                   apache.org:selector-filter:string amqp.annotation.x-opt-offset >[=] 'N'
//	                   (or '@latest', '-1'), x-opt-sequence-number, x-opt-enqueued-time (ms);
//	                   events carry x-opt-sequence-number (long), x-opt-offset (string, equal to
//	                   the sequence number), x-opt-enqueued-time (timestamp), x-opt-partition-key
//	$management        READ com.microsoft:eventhub (name, created_at, partition_count,
//	                   partition_ids, georeplication_factor) and com.microsoft:partition
//
// Authorization, checked when a link attaches (and again when events arrive, for expiry): the
// connection's accepted tokens whose entity is the hub or its namespace must grant the claim the
// link needs, Send for a sender and Listen for a consumer or $management:
//   - an Entra token (checked at put-token with azurelocal/entra's Verifier: signature of its
//     tenant's key, issuer, lifetime; then audience https://eventhubs.azure.net or
//     https://servicebus.azure.net, with or without the trailing slash, and the tenant of the
//     namespace's subscription) grants what its principal's roles grant through azurelocal/rbac at
//     the hub, the namespace, or above: Azure Event Hubs Data Sender
//     (Microsoft.EventHub/namespaces/messages/send/action), Data Receiver
//     (…/messages/receive/action), Data Owner (both);
//   - a SAS token, SharedAccessSignature sr=URI&sig=SIG&se=EXPIRY&skn=RULE, signed with
//     HMAC-SHA256 over "URL-encoded sr\nse" by the primary or secondary key of the rule named skn
//     (the hub's rules when sr names the hub, then the namespace's), grants the rule's rights.
//
// A missing claim detaches the link with amqp:unauthorized-access and Event Hubs' description:
// "Unauthorized access. 'Send' claim(s) are required to perform this operation. Resource:
// 'sb://NS.servicebus.windows.net/HUB'. TrackingId:…", which the SDK reports as
// azeventhubs.ErrorCodeUnauthorizedAccess.
//
// Events are kept in memory per partition for the life of the Server (Server.Events reads them).
//
// Not emulated:
//   - consumer groups other than $Default, epochs (owner level) and link stealing, checkpoints;
//   - retention and capture: events are never dropped, and end with the process;
//   - sessions' remote incoming window on the server's transfers (the SDK's is large), transactions,
//     link recovery (resume), message-level and link-level settlement state beyond accept/reject;
//   - put-token audiences other than the servicebus.windows.net hosts (US Government and China
//     clouds), SAS tokens signed with a namespace-level key but scoped to a consumer group;
//   - the Kafka endpoint (9093), the management plane (ARM), AMQP without TLS on 5672, idle
//     link and connection timeouts on the server's side, throttling (server-busy).
package eventhubs
