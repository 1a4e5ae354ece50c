package eventhubs

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

// Audiences accepted in Entra tokens: Event Hubs' resource, with or without the trailing slash
// that the SDK's scope https://eventhubs.azure.net//.default leaves, and Service Bus'.
var Audiences = []string{"https://eventhubs.azure.net", "https://eventhubs.azure.net/", "https://servicebus.azure.net", "https://servicebus.azure.net/"}

// CBS token types.
const (
	tokenJWT = "jwt"
	tokenSAS = "servicebus.windows.net:sastoken"
)

// grant is what an accepted put-token allows on one connection: the entity (a namespace, or a
// hub of it), until the token expires.
type grant struct {
	namespace string
	hub       string // "" for the whole namespace
	rights    []string
	principal string // the Entra object ID; rights come from RBAC at use
	expires   time.Time
}

// entity is the namespace and hub of a claim's name (amqps://NS.servicebus.windows.net/HUB).
func (c *conn) entity(name string) (ns, hub, uri string) {
	rest := name
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	host, path, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, ":")
	if strings.HasSuffix(strings.ToLower(host), Suffix) {
		ns = strings.ToLower(strings.TrimSuffix(strings.ToLower(host), Suffix))
	} else {
		ns = c.ns()
	}
	hub, _, _ = strings.Cut(strings.Trim(path, "/"), "/")
	return ns, hub, "sb://" + ns + Suffix + "/" + hub
}

// putToken handles a CBS request and answers on its reply-to link. The disposition is always
// accepted: the status travels in the reply.
func (c *conn) putToken(s *session, msg []byte) *amqpError {
	secs, err := parseMessage(msg)
	if err != nil {
		return &amqpError{"amqp:decode-error", err.Error()}
	}
	var msgID any
	var replyTo, token string
	var props Map
	for _, sec := range secs {
		switch sec.code {
		case secProperties:
			f, _ := sec.value.([]any)
			msgID, replyTo = field(f, 0), asString(field(f, 4))
		case secApplicationProp:
			props, _ = sec.value.(Map)
		case secValue:
			token = asString(sec.value)
		}
	}
	get := func(k string) string { v, _ := props.Get(k); return asString(v) }
	status, desc := c.checkToken(get("operation"), get("type"), get("name"), token)
	reply := encode(describedList(secProperties, nil, nil, nil, nil, nil, msgID))
	reply = append(reply, encode(Described{uint64(secApplicationProp), Map{
		{"status-code", int32(status)},
		{"status-description", desc},
	}})...)
	reply = append(reply, encode(Described{uint64(secValue), nil})...)
	if err := s.sendReply(replyTo, reply); err != nil {
		return &amqpError{"amqp:internal-error", err.Error()}
	}
	return nil
}

// checkToken validates a put-token request and returns Event Hubs' status and description.
func (c *conn) checkToken(op, typ, name, token string) (int, string) {
	if op != "put-token" {
		return 400, fmt.Sprintf("The operation '%s' is not supported on $cbs; only put-token is.", op)
	}
	ns, hub, uri := c.entity(name)
	namespace, ok := c.s.dir.EventHubsNamespace(ns)
	if !ok {
		return 404, fmt.Sprintf("The messaging entity '%s' could not be found. %s", uri, c.tracking())
	}
	if hub != "" {
		if _, ok := namespace.Hub(hub); !ok {
			return 404, fmt.Sprintf("The messaging entity '%s' could not be found. %s", uri, c.tracking())
		}
	}
	var g grant
	var why string
	switch typ {
	case tokenJWT:
		g, why = c.checkJWT(namespace, token)
	case tokenSAS:
		g, why = c.checkSAS(namespace, hub, token)
	default:
		return 400, fmt.Sprintf("The token type '%s' is not supported; use jwt or %s.", typ, tokenSAS)
	}
	if why != "" {
		return 401, why + " " + c.tracking()
	}
	c.setNamespace(ns)
	if g.namespace == "" {
		g.namespace = strings.ToLower(namespace.Name)
		g.hub = strings.ToLower(hub)
	}
	c.authMu.Lock()
	c.grants = append(c.grants, g)
	c.authMu.Unlock()
	return 202, "Accepted"
}

func (c *conn) tracking() string {
	id := c.trackingID.Add(1)
	return fmt.Sprintf("TrackingId:%08x-azimuth_G%d, SystemTracker:local, Timestamp:%s", id, id, c.s.now().UTC().Format("2006-01-02T15:04:05"))
}

func (c *conn) checkJWT(ns directory.EventHubsNamespace, token string) (grant, string) {
	t, err := jose.Parse(token)
	if err != nil {
		return grant{}, "InvalidToken: the token is not a JWT."
	}
	aud := t.String("aud")
	claims, err := c.s.verifier.Verify(token, aud)
	if err != nil {
		if exp, ok := t.Time("exp"); ok && c.s.now().After(exp) {
			return grant{}, fmt.Sprintf("ExpiredToken: The token is expired. Expiration time: '%s'.", exp.UTC().Format("2006-01-02 15:04:05Z"))
		}
		return grant{}, "InvalidSignature: The token has an invalid signature or was not issued by a known tenant."
	}
	if !slices.Contains(Audiences, aud) {
		return grant{}, fmt.Sprintf("InvalidAudience: The audience '%s' is not valid; Event Hubs accepts https://eventhubs.azure.net/.", aud)
	}
	if tenant, _ := c.s.dir.SubscriptionTenant(ns.Subscription); !strings.EqualFold(tenant, claims.TenantID) {
		return grant{}, fmt.Sprintf("InvalidIssuer: Token issuer is invalid. The namespace belongs to tenant '%s'.", tenant)
	}
	return grant{principal: strings.ToLower(claims.ObjectID), expires: claims.ExpiresAt}, ""
}

// checkSAS checks a SharedAccessSignature sr=...&sig=...&se=...&skn=... against the keys of the
// hub's rules (when sr names the hub) and the namespace's.
func (c *conn) checkSAS(ns directory.EventHubsNamespace, hub, token string) (grant, string) {
	rest, ok := strings.CutPrefix(token, "SharedAccessSignature ")
	if !ok {
		return grant{}, "InvalidToken: a SAS token starts with 'SharedAccessSignature '."
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(rest, "&") {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	srEnc, sig, se, skn := fields["sr"], fields["sig"], fields["se"], fields["skn"]
	if srEnc == "" || sig == "" || se == "" || skn == "" {
		return grant{}, "InvalidToken: a SAS token needs sr, sig, se and skn."
	}
	sr, err := url.QueryUnescape(srEnc)
	if err != nil {
		return grant{}, "InvalidToken: sr is not URL-encoded."
	}
	srNS, srHub, _ := c.entity(sr)
	if srNS != strings.ToLower(ns.Name) || srHub != "" && !strings.EqualFold(srHub, hub) {
		return grant{}, fmt.Sprintf("InvalidAudience: The token's resource '%s' does not cover the entity.", sr)
	}
	expiry, err := strconv.ParseInt(se, 10, 64)
	if err != nil {
		return grant{}, "InvalidToken: se is not a number."
	}
	if exp := time.Unix(expiry, 0); c.s.now().After(exp) {
		return grant{}, fmt.Sprintf("ExpiredToken: The token is expired. Expiration time: '%s'.", exp.UTC().Format("2006-01-02 15:04:05Z"))
	}
	rules := ns.AuthorizationRules
	if srHub != "" {
		h, _ := ns.Hub(srHub)
		rules = append(slices.Clone(h.AuthorizationRules), rules...)
	}
	sigRaw, err := url.QueryUnescape(sig)
	if err != nil {
		return grant{}, "InvalidSignature: The token has an invalid signature."
	}
	for _, r := range rules {
		if r.Name != skn {
			continue
		}
		for _, key := range []string{r.PrimaryKey, r.SecondaryKey} {
			mac := hmac.New(sha256.New, []byte(key))
			mac.Write([]byte(srEnc + "\n" + se))
			if hmac.Equal([]byte(base64.StdEncoding.EncodeToString(mac.Sum(nil))), []byte(sigRaw)) {
				return grant{namespace: srNS, hub: strings.ToLower(srHub), rights: r.Rights, expires: time.Unix(expiry, 0)}, ""
			}
		}
		return grant{}, "InvalidSignature: The token has an invalid signature."
	}
	return grant{}, fmt.Sprintf("InvalidSignature: The authorization rule '%s' does not exist.", skn)
}

// authorize decides whether the connection's tokens allow the claim (Send or Listen) on a hub.
func (c *conn) authorize(ns directory.EventHubsNamespace, hub, claim string) *amqpError {
	action := rbac.DataActionEventHubsSend
	if claim == directory.RightListen {
		action = rbac.DataActionEventHubsReceive
	}
	now := c.s.now()
	c.authMu.Lock()
	grants := slices.Clone(c.grants)
	c.authMu.Unlock()
	for _, g := range grants {
		if g.namespace != strings.ToLower(ns.Name) || g.hub != "" && g.hub != strings.ToLower(hub) || now.After(g.expires) {
			continue
		}
		if g.principal != "" {
			if c.s.dir.Check(rbac.Request{PrincipalID: g.principal, Action: action, Data: true, ResourceID: ns.HubID(hub)}).Allowed {
				return nil
			}
			continue
		}
		if slices.Contains(g.rights, claim) {
			return nil
		}
	}
	return &amqpError{"amqp:unauthorized-access", fmt.Sprintf("Unauthorized access. '%s' claim(s) are required to perform this operation. Resource: 'sb://%s%s/%s'. %s",
		claim, strings.ToLower(ns.Name), Suffix, strings.ToLower(hub), c.tracking())}
}

// target resolves a link address, HUB[/Partitions/P] or HUB/ConsumerGroups/CG/Partitions/P.
func (c *conn) target(l *link, consumer bool) *amqpError {
	addr := l.address
	if i := strings.Index(addr, "://"); i >= 0 {
		_, addr, _ = strings.Cut(addr[i+3:], "/")
	}
	parts := strings.Split(strings.Trim(addr, "/"), "/")
	ns, ok := c.s.dir.EventHubsNamespace(c.ns())
	notFound := &amqpError{"amqp:not-found", fmt.Sprintf("The messaging entity 'sb://%s%s/%s' could not be found. %s", c.ns(), Suffix, addr, c.tracking())}
	if !ok {
		return notFound
	}
	hub, ok := ns.Hub(parts[0])
	if !ok {
		return notFound
	}
	l.ns, l.hub = ns, hub
	rest := parts[1:]
	if consumer {
		if len(rest) != 4 || !strings.EqualFold(rest[0], "ConsumerGroups") || !strings.EqualFold(rest[2], "Partitions") {
			return notFound
		}
		if !strings.EqualFold(rest[1], "$Default") {
			return notFound
		}
		rest = rest[2:]
	}
	switch {
	case len(rest) == 0 && !consumer:
	case len(rest) == 2 && strings.EqualFold(rest[0], "Partitions"):
		p, err := strconv.Atoi(rest[1])
		if err != nil || p < 0 || p >= hub.PartitionCount {
			return &amqpError{"com.microsoft:argument-out-of-range", fmt.Sprintf("The specified partition is invalid for an EventHub partition sender or receiver. It should be between 0 and %d. %s", hub.PartitionCount-1, c.tracking())}
		}
		l.part = p
	default:
		return notFound
	}
	l.store = c.s.store(ns.Name, hub.Name, hub.PartitionCount)
	return nil
}

func (c *conn) openSender(l *link) *amqpError {
	if err := c.target(l, false); err != nil {
		return err
	}
	return c.authorize(l.ns, l.hub.Name, directory.RightSend)
}

func (c *conn) openConsumer(l *link, source any) *amqpError {
	if err := c.target(l, true); err != nil {
		return err
	}
	if err := c.authorize(l.ns, l.hub.Name, directory.RightListen); err != nil {
		return err
	}
	var filter string
	if d, ok := source.(Described); ok {
		f, _ := d.Value.([]any)
		if m, ok := field(f, 7).(Map); ok {
			for _, e := range m {
				if fd, ok := e.Value.(Described); ok && descriptorCode(fd) == selectorFilterCode {
					filter = asString(fd.Value)
				}
			}
		}
	}
	l.store.mu.Lock()
	start, err := startIndex(filter, l.store.events[l.part])
	l.store.mu.Unlock()
	if err != nil {
		return &amqpError{"amqp:invalid-field", err.Error()}
	}
	l.pos = start
	return nil
}

// receiveEvents stores a transfer's events.
func (c *conn) receiveEvents(l *link, format uint32, msg []byte) *amqpError {
	batch, annots, err := splitBatch(format, msg)
	if err != nil {
		return &amqpError{"amqp:decode-error", err.Error()}
	}
	if err := c.authorize(l.ns, l.hub.Name, directory.RightSend); err != nil {
		return err // the token expired since the attach
	}
	events := make([]*Event, 0, len(batch))
	for _, secs := range batch {
		events = append(events, newEvent(secs, annots))
	}
	l.store.append(events, l.part, c.s.now())
	return nil
}
