package rbac

import (
	"fmt"
	"strings"
)

const managementGroupPrefix = "/providers/microsoft.management/managementgroups/"

// ManagementGroupScope returns the ARM ID of the management group named name.
func ManagementGroupScope(name string) string {
	return "/providers/Microsoft.Management/managementGroups/" + name
}

// SubscriptionScope returns the ARM ID of the subscription with the given ID.
func SubscriptionScope(id string) string { return "/subscriptions/" + id }

// normalizeScope makes ARM IDs comparable: ARM treats them case-insensitively, and a trailing
// slash carries no meaning.
func normalizeScope(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 1 {
		s = strings.TrimRight(s, "/")
	}
	return s
}

// scopeChain returns the set of scopes whose assignments apply to resourceID: the resource itself,
// every ARM ID above it (resource group, subscription), the management groups that contain the
// subscription, and the root scope "/".
func (p *Policy) scopeChain(resourceID string) map[string]bool {
	id := normalizeScope(resourceID)
	chain := map[string]bool{"/": true}
	for i := 1; i <= len(id); i++ {
		if i == len(id) || id[i] == '/' {
			chain[id[:i]] = true
		}
	}
	// The management group ancestry starts at the subscription, or at the management group
	// itself when the resource is one.
	start := ""
	if strings.HasPrefix(id, managementGroupPrefix) {
		start = id
	} else if rest, ok := strings.CutPrefix(id, "/subscriptions/"); ok {
		sub, _, _ := strings.Cut(rest, "/")
		start = "/subscriptions/" + sub
	}
	// The hierarchy is validated to be acyclic, but a bound keeps a bad Policy from looping.
	for n := 0; start != "" && n < 16; n++ {
		chain[start] = true
		start = p.parents[start]
	}
	return chain
}

// ValidScope reports whether scope is a well-formed ARM ID that Azure accepts as a role
// assignment scope: the root "/", a management group, a subscription, a resource group, or a
// resource (possibly a child resource).
func ValidScope(scope string) error {
	s := strings.TrimRight(scope, "/")
	if scope == "/" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(s, "/"), "/")
	if !strings.HasPrefix(s, "/") || len(parts) < 2 {
		return fmt.Errorf("scope '%s' is not an ARM ID: want /subscriptions/ID[/resourceGroups/NAME[/providers/...]] or /providers/Microsoft.Management/managementGroups/NAME", scope)
	}
	for _, p := range parts {
		if p == "" {
			return fmt.Errorf("scope '%s' has an empty segment", scope)
		}
	}
	switch {
	case strings.EqualFold(parts[0], "providers"):
		if len(parts) == 4 && strings.EqualFold(parts[1], "Microsoft.Management") && strings.EqualFold(parts[2], "managementGroups") {
			return nil
		}
		return fmt.Errorf("scope '%s' is not a management group: want /providers/Microsoft.Management/managementGroups/NAME", scope)
	case strings.EqualFold(parts[0], "subscriptions"):
		if len(parts) == 2 {
			return nil
		}
		if !strings.EqualFold(parts[2], "resourceGroups") || len(parts) < 4 {
			return fmt.Errorf("scope '%s': after /subscriptions/ID comes /resourceGroups/NAME", scope)
		}
		if len(parts) == 4 {
			return nil
		}
		// A resource: /providers/NAMESPACE/TYPE/NAME followed by TYPE/NAME pairs.
		if !strings.EqualFold(parts[4], "providers") || len(parts) < 8 || len(parts)%2 != 0 {
			return fmt.Errorf("scope '%s': a resource scope reads .../resourceGroups/NAME/providers/NAMESPACE/TYPE/NAME", scope)
		}
		return nil
	}
	return fmt.Errorf("scope '%s' must start with /subscriptions/ or /providers/Microsoft.Management/managementGroups/", scope)
}
