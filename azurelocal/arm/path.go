package arm

import (
	"fmt"
	"strings"
)

// Bounds of a request path, far above any real ARM ID, so a hostile path costs little.
const (
	maxPathLen      = 4096
	maxPathSegments = 48
)

// Scope is an ARM scope: the root, a management group, a subscription, a resource group or a
// resource (a child resource too). Names keep the case the client sent.
type Scope struct {
	ManagementGroup string
	Subscription    string
	ResourceGroup   string
	// Namespace, Types and Names make a resource: providers/NAMESPACE/TYPE/NAME[/TYPE/NAME]...
	Namespace string
	Types     []string
	Names     []string
}

// Kinds of scope, from the top down.
const (
	LevelRoot = iota
	LevelManagementGroup
	LevelSubscription
	LevelResourceGroup
	LevelResource
)

// Level says what the scope is.
func (s Scope) Level() int {
	switch {
	case s.ManagementGroup != "":
		return LevelManagementGroup
	case s.Namespace != "":
		return LevelResource
	case s.ResourceGroup != "":
		return LevelResourceGroup
	case s.Subscription != "":
		return LevelSubscription
	}
	return LevelRoot
}

// ResourceType is NAMESPACE/TYPE[/TYPE]... of a resource scope, such as
// Microsoft.KeyVault/vaults; "" for other scopes.
func (s Scope) ResourceType() string {
	if s.Namespace == "" {
		return ""
	}
	return s.Namespace + "/" + strings.Join(s.Types, "/")
}

// String renders the scope as an ARM ID: "/" for the root.
func (s Scope) String() string {
	var b strings.Builder
	switch {
	case s.ManagementGroup != "":
		b.WriteString("/providers/Microsoft.Management/managementGroups/" + s.ManagementGroup)
	case s.Subscription != "":
		b.WriteString("/subscriptions/" + s.Subscription)
		if s.ResourceGroup != "" {
			b.WriteString("/resourceGroups/" + s.ResourceGroup)
		}
		if s.Namespace != "" {
			b.WriteString("/providers/" + s.Namespace)
			for i := range s.Types {
				b.WriteString("/" + s.Types[i] + "/" + s.Names[i])
			}
		}
	default:
		return "/"
	}
	return b.String()
}

// Target is what a request path names: a scope, then the provider namespace and the segments
// that follow it (roleAssignments/NAME, userAssignedIdentities/NAME/...), or, with no provider,
// the segments after the scope (resources).
type Target struct {
	Scope     Scope
	Namespace string
	Rest      []string
}

// Path renders the target as a request path, which ParsePath reads back.
func (t Target) Path() string {
	p := t.Scope.String()
	if p == "/" {
		p = ""
	}
	if t.Namespace != "" {
		p += "/providers/" + t.Namespace
	}
	for _, s := range t.Rest {
		p += "/" + s
	}
	if p == "" {
		return "/"
	}
	return p
}

// ParsePath reads an ARM request path. The scope ends at the last providers segment that is not
// part of a resource group's resources: /subscriptions/S/resourceGroups/G/providers/NS/T/N
// /providers/Microsoft.Authorization/roleAssignments/X is a role assignment at resource N, and
// /subscriptions/S/resourceGroups/G/providers/Microsoft.ManagedIdentity/userAssignedIdentities/N
// is a request to Microsoft.ManagedIdentity at the resource group. Fixed segments ignore case, as
// ARM does; leading slashes are collapsed, because SDK clients join "/" and a scope that starts
// with one.
func ParsePath(path string) (Target, error) {
	if len(path) > maxPathLen {
		return Target{}, fmt.Errorf("the path is longer than %d characters", maxPathLen)
	}
	trimmed := strings.TrimLeft(path, "/")
	if trimmed == "" {
		return Target{}, fmt.Errorf("the path names no scope")
	}
	segs := strings.Split(strings.TrimSuffix(trimmed, "/"), "/")
	if len(segs) > maxPathSegments {
		return Target{}, fmt.Errorf("the path has more than %d segments", maxPathSegments)
	}
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return Target{}, fmt.Errorf("the path '%s' has an empty or relative segment", path)
		}
	}
	var t Target
	i := 0
	switch {
	case eq(segs[0], "subscriptions"):
		if len(segs) < 2 {
			return Target{}, fmt.Errorf("the path '%s' names no subscription after /subscriptions", path)
		}
		t.Scope.Subscription, i = segs[1], 2
		if i+1 < len(segs) && eq(segs[i], "resourceGroups") {
			t.Scope.ResourceGroup, i = segs[i+1], i+2
		}
	case len(segs) >= 4 && eq(segs[0], "providers") && eq(segs[1], "Microsoft.Management") && eq(segs[2], "managementGroups"):
		t.Scope.ManagementGroup, i = segs[3], 4
	}
	rest := segs[i:]
	last := -1
	for j := range rest {
		if eq(rest[j], "providers") {
			last = j
		}
	}
	if last < 0 {
		t.Rest = append([]string(nil), rest...)
		return t, nil
	}
	if last > 0 {
		// What comes before the last providers is a resource: providers/NS/TYPE/NAME pairs, and
		// only below a resource group.
		res := rest[:last]
		if t.Scope.ResourceGroup == "" || !eq(res[0], "providers") || len(res) < 4 || len(res)%2 != 0 {
			return Target{}, fmt.Errorf("the path '%s' is not an ARM ID: a resource reads /subscriptions/S/resourceGroups/G/providers/NAMESPACE/TYPE/NAME", path)
		}
		t.Scope.Namespace = res[1]
		for k := 2; k < len(res); k += 2 {
			t.Scope.Types = append(t.Scope.Types, res[k])
			t.Scope.Names = append(t.Scope.Names, res[k+1])
		}
	}
	if last+1 >= len(rest) {
		return Target{}, fmt.Errorf("the path '%s' names no resource provider after /providers", path)
	}
	t.Namespace = rest[last+1]
	t.Rest = append([]string(nil), rest[last+2:]...)
	return t, nil
}

func eq(a, b string) bool { return strings.EqualFold(a, b) }
