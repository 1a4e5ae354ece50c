package directory

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// EventHubsNamespace is an Event Hubs namespace (Microsoft.EventHub/namespaces), served on
// NAME.servicebus.windows.net (AMQP on 5671, AMQP over WebSockets on 443), with its event hubs
// and the shared access authorization rules whose keys sign SAS tokens.
type EventHubsNamespace struct {
	Resource
	// AuthorizationRules are the namespace's shared access policies. Default: one,
	// RootManageSharedAccessKey with Listen, Send and Manage, as Azure creates it.
	AuthorizationRules []AuthorizationRule `json:"authorizationRules,omitempty"`
	// EventHubs are the namespace's event hubs. Default: none.
	EventHubs []EventHub `json:"eventHubs,omitempty"`
}

// EventHub is an event hub of a namespace.
type EventHub struct {
	// Name is 1 to 256 letters, digits, periods, hyphens and underscores, starting and ending
	// with a letter or digit.
	Name string `json:"name"`
	// PartitionCount is 1 to 32. Default: 1, so that a consumer of partition 0 sees every event.
	PartitionCount int `json:"partitionCount,omitempty"`
	// AuthorizationRules are the hub's own shared access policies. Default: none.
	AuthorizationRules []AuthorizationRule `json:"authorizationRules,omitempty"`
}

// AuthorizationRule is a shared access policy: a name, its rights and two keys.
type AuthorizationRule struct {
	Name string `json:"name"`
	// Rights are Listen, Send and Manage (Manage needs the other two, as in Azure).
	Rights []string `json:"rights"`
	// PrimaryKey and SecondaryKey sign SAS tokens (the key text itself is the HMAC key, as
	// Service Bus uses it). Default: keys derived from the names (DerivedEventHubsKey).
	PrimaryKey   string `json:"primaryKey,omitempty"`
	SecondaryKey string `json:"secondaryKey,omitempty"`
}

// Rights of an authorization rule.
const (
	RightListen = "Listen"
	RightSend   = "Send"
	RightManage = "Manage"
)

// RootManageSharedAccessKey is the rule Azure creates with every namespace.
const RootManageSharedAccessKey = "RootManageSharedAccessKey"

// MaxPartitions is the partition count limit of the Standard tier.
const MaxPartitions = 32

// DerivedEventHubsKey is the key of a rule whose entry declares none: base64 of 32 bytes derived
// from the names alone. Anyone can compute it; it must never guard anything real.
func DerivedEventHubsKey(namespace, hub, rule, which string) string {
	sum := sha256.Sum256([]byte("azimuth local Event Hubs key " + strings.ToLower(namespace) + "/" + strings.ToLower(hub) + "/" + rule + "/" + which))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func (ns *EventHubsNamespace) applyDefaults() {
	ns.Kind = KindEventHubsNamespace
	if ns.AuthorizationRules == nil {
		ns.AuthorizationRules = []AuthorizationRule{{Name: RootManageSharedAccessKey, Rights: []string{RightListen, RightSend, RightManage}}}
	}
	defaultKeys(ns.AuthorizationRules, ns.Name, "")
	for i := range ns.EventHubs {
		if ns.EventHubs[i].PartitionCount == 0 {
			ns.EventHubs[i].PartitionCount = 1
		}
		defaultKeys(ns.EventHubs[i].AuthorizationRules, ns.Name, ns.EventHubs[i].Name)
	}
}

func defaultKeys(rules []AuthorizationRule, ns, hub string) {
	for i := range rules {
		if rules[i].PrimaryKey == "" {
			rules[i].PrimaryKey = DerivedEventHubsKey(ns, hub, rules[i].Name, "primary")
		}
		if rules[i].SecondaryKey == "" {
			rules[i].SecondaryKey = DerivedEventHubsKey(ns, hub, rules[i].Name, "secondary")
		}
	}
}

func (st *state) indexEventHubs(spec Spec, v *validator) {
	names := map[string]bool{}
	for i, ns := range spec.Resources.EventHubsNamespaces {
		where := v.at("resources.eventHubsNamespaces", i, ns.Name)
		v.resource(where, ns.Resource, spec)
		if ns.Name != "" && !ValidEventHubsNamespaceName(ns.Name) {
			v.addf("%s: name '%s' must be 6 to 50 letters, digits and hyphens, start with a letter and end with a letter or digit", where, ns.Name)
		}
		if names[strings.ToLower(ns.Name)] {
			v.addf("%s: the name is used twice (namespace names are global in Azure)", where)
			continue
		}
		names[strings.ToLower(ns.Name)] = true
		st.resources[KindEventHubsNamespace] = append(st.resources[KindEventHubsNamespace], ns.Resource)
		v.rules(where, ns.AuthorizationRules)
		hubs := map[string]bool{}
		for j, h := range ns.EventHubs {
			at := fmt.Sprintf("%s: eventHubs[%d] '%s'", where, j, h.Name)
			if !ValidEventHubName(h.Name) {
				v.addf("%s: a name is 1 to 256 letters, digits, periods, hyphens and underscores, starting and ending with a letter or digit", at)
			}
			if hubs[strings.ToLower(h.Name)] {
				v.addf("%s: the name is used twice", at)
			}
			hubs[strings.ToLower(h.Name)] = true
			if h.PartitionCount < 1 || h.PartitionCount > MaxPartitions {
				v.addf("%s: partitionCount %d is not between 1 and %d", at, h.PartitionCount, MaxPartitions)
			}
			v.rules(at, h.AuthorizationRules)
		}
	}
}

func (v *validator) rules(where string, rules []AuthorizationRule) {
	seen := map[string]bool{}
	for i, r := range rules {
		at := fmt.Sprintf("%s: authorizationRules[%d] '%s'", where, i, r.Name)
		if r.Name == "" || len(r.Name) > 256 || strings.ContainsAny(r.Name, "&=;/ ") {
			v.addf("%s: a rule name is 1 to 256 characters without spaces, '&', '=', ';' or '/'", at)
		}
		if seen[strings.ToLower(r.Name)] {
			v.addf("%s: the name is used twice", at)
		}
		seen[strings.ToLower(r.Name)] = true
		if len(r.Rights) == 0 {
			v.addf("%s: rights are empty; give Listen, Send or Manage", at)
		}
		for _, right := range r.Rights {
			if !slices.Contains([]string{RightListen, RightSend, RightManage}, right) {
				v.addf("%s: right '%s' is not Listen, Send or Manage", at, right)
			}
		}
		if slices.Contains(r.Rights, RightManage) && (!slices.Contains(r.Rights, RightListen) || !slices.Contains(r.Rights, RightSend)) {
			v.addf("%s: Manage needs Listen and Send too, as in Azure", at)
		}
		// Key values are secrets: errors name them by field only.
		for field, k := range map[string]string{"primaryKey": r.PrimaryKey, "secondaryKey": r.SecondaryKey} {
			if len(k) > 256 {
				v.addf("%s: %s is longer than 256 characters", at, field)
			}
		}
	}
}

// ValidEventHubsNamespaceName reports whether s is a namespace name Azure accepts: 6 to 50
// letters, digits and hyphens, starting with a letter and ending with a letter or digit.
func ValidEventHubsNamespaceName(s string) bool {
	if len(s) < 6 || len(s) > 50 || !isLetter(s[0]) || s[len(s)-1] == '-' {
		return false
	}
	return strings.Trim(strings.ToLower(s), "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

// ValidEventHubName reports whether s is an event hub name Azure accepts.
func ValidEventHubName(s string) bool {
	if len(s) < 1 || len(s) > 256 || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	return strings.Trim(strings.ToLower(s), "abcdefghijklmnopqrstuvwxyz0123456789.-_") == ""
}

func isAlnum(c byte) bool { return isLetter(c) || (c >= '0' && c <= '9') }

// EventHubsNamespace finds a namespace by name, ignoring case, with defaults filled in.
func (d *Directory) EventHubsNamespace(name string) (EventHubsNamespace, bool) {
	for _, ns := range d.snapshot().spec.Resources.EventHubsNamespaces {
		if strings.EqualFold(ns.Name, name) {
			return cloneEventHubsNamespace(ns), true
		}
	}
	return EventHubsNamespace{}, false
}

// EventHubsNamespaces returns the namespaces, in file order, with defaults filled in.
func (d *Directory) EventHubsNamespaces() []EventHubsNamespace {
	var out []EventHubsNamespace
	for _, ns := range d.snapshot().spec.Resources.EventHubsNamespaces {
		out = append(out, cloneEventHubsNamespace(ns))
	}
	return out
}

// Hub finds an event hub of the namespace by name, ignoring case.
func (ns EventHubsNamespace) Hub(name string) (EventHub, bool) {
	for _, h := range ns.EventHubs {
		if strings.EqualFold(h.Name, name) {
			return h, true
		}
	}
	return EventHub{}, false
}

// HubID returns the ARM ID of one of the namespace's event hubs: a role assignment scope.
func (ns EventHubsNamespace) HubID(hub string) string { return ns.ID() + "/eventhubs/" + hub }

func cloneEventHubsNamespace(ns EventHubsNamespace) EventHubsNamespace {
	ns.AuthorizationRules = cloneRules(ns.AuthorizationRules)
	ns.EventHubs = slices.Clone(ns.EventHubs)
	for i := range ns.EventHubs {
		ns.EventHubs[i].AuthorizationRules = cloneRules(ns.EventHubs[i].AuthorizationRules)
	}
	return ns
}

func cloneRules(rs []AuthorizationRule) []AuthorizationRule {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Rights = slices.Clone(out[i].Rights)
	}
	return out
}
