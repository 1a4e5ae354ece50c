package arm

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// Resource types beyond the directory's Kinds.
const (
	typeIdentity = "Microsoft.ManagedIdentity/userAssignedIdentities"
	typeVM       = "Microsoft.Compute/virtualMachines"
)

// resource is one resource of the directory as ARM lists it.
type resource struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Location string `json:"location"`

	subscription, group string
}

// inventory returns every resource of the directory: the registries, storage accounts, key
// vaults, Event Hubs namespaces, DevOps organizations and AKS clusters, the managed identities,
// and the node's virtual machine.
func inventory(spec directory.Spec) []resource {
	var out []resource
	add := func(r directory.Resource, location string) {
		if location == "" {
			location = defaultLocation
		}
		out = append(out, resource{ID: r.ID(), Name: r.Name, Type: string(r.Kind), Location: location,
			subscription: r.Subscription, group: r.ResourceGroup})
	}
	res := spec.Resources
	for _, r := range res.Registries {
		add(r, "")
	}
	for _, r := range res.StorageAccounts {
		add(r.Resource, "")
	}
	for _, r := range res.KeyVaults {
		add(r.Resource, r.Location)
	}
	for _, r := range res.EventHubsNamespaces {
		add(r.Resource, "")
	}
	for _, r := range res.DevOpsOrganizations {
		add(r.Resource, "")
	}
	for _, c := range res.ManagedClusters {
		add(c.Resource, c.Location)
	}
	for _, mi := range spec.ManagedIdentities {
		out = append(out, resource{ID: mi.ResourceID(), Name: mi.Name, Type: typeIdentity, Location: defaultLocation,
			subscription: mi.Subscription, group: mi.ResourceGroup})
	}
	if n := spec.Node; n.Subscription != "" {
		id := "/subscriptions/" + n.Subscription + "/resourceGroups/" + n.ResourceGroup + "/providers/" + typeVM + "/" + n.Name
		out = append(out, resource{ID: id, Name: n.Name, Type: typeVM, Location: defaultLocation,
			subscription: n.Subscription, group: n.ResourceGroup})
	}
	return out
}

// exists checks that a scope names something of the directory: a declared management group or
// subscription, a resource group that holds a resource, a resource (for a child resource, its
// top-level resource; children are not modelled).
func (s *Server) exists(sc Scope) *armError {
	spec := s.dir.Spec()
	switch sc.Level() {
	case LevelManagementGroup:
		for _, mg := range spec.ManagementGroups {
			if eq(mg.Name, sc.ManagementGroup) {
				return nil
			}
		}
		return errManagementGroupNotFound(sc.ManagementGroup)
	case LevelSubscription, LevelRoot:
		return nil // prepare checked the subscription
	}
	inv := inventory(spec)
	found := false
	for _, r := range inv {
		found = found || (eq(r.subscription, sc.Subscription) && eq(r.group, sc.ResourceGroup))
	}
	if !found {
		return errResourceGroupNotFound(sc.ResourceGroup)
	}
	if sc.Level() == LevelResourceGroup {
		return nil
	}
	top := Scope{Subscription: sc.Subscription, ResourceGroup: sc.ResourceGroup, Namespace: sc.Namespace,
		Types: sc.Types[:1], Names: sc.Names[:1]}
	for _, r := range inv {
		if eq(r.ID, top.String()) {
			return nil
		}
	}
	return errResourceNotFound(top.ResourceType(), sc.Names[0], sc.ResourceGroup)
}

// filterType reads ARM's $filter of a resource list: resourceType eq 'TYPE' terms joined by or.
var filterType = regexp.MustCompile(`(?i)^\s*resourceType\s+eq\s+'([^']{1,200})'\s*$`)

// maxTop bounds $top, as ARM does.
const maxTop = 1000

// resources answers GET /subscriptions/S[/resourceGroups/G]/resources: the directory's resources
// the caller may read, of the types the filter names.
func (s *Server) resources(req *request) *armError {
	sc := req.target.Scope
	if req.r.Method != http.MethodGet {
		return errMethod(req.r.Method)
	}
	if lvl := sc.Level(); lvl != LevelSubscription && lvl != LevelResourceGroup {
		return errNotEmulated(req.r.Method, req.r.URL.Path)
	}
	q := req.r.URL.Query()
	var types []string
	if f := q.Get("$filter"); f != "" {
		for _, term := range splitWord(f, "or") {
			m := filterType.FindStringSubmatch(term)
			if m == nil {
				return errBadRequest("The $filter '%s' is not supported by the local Azure Resource Manager: use resourceType eq 'NAMESPACE/TYPE', joined by or.", f)
			}
			types = append(types, m[1])
		}
	}
	top := maxTop
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errBadRequest("The value '%s' of $top is not a positive integer.", v)
		}
		top = min(n, maxTop)
	}
	visible, readable := []resource{}, false
	for _, r := range inventory(s.dir.Spec()) {
		if !eq(r.subscription, sc.Subscription) || (sc.ResourceGroup != "" && !eq(r.group, sc.ResourceGroup)) {
			continue
		}
		if len(types) > 0 && !containsFold(types, r.Type) {
			continue
		}
		if !s.dir.Authorize(req.caller.objectID, r.Type+"/read", r.ID) {
			continue
		}
		readable = true
		if len(visible) < top {
			visible = append(visible, r)
		}
	}
	const action = "Microsoft.Resources/subscriptions/resources/read"
	if sc.Level() == LevelResourceGroup {
		if aerr := s.exists(sc); aerr != nil {
			return aerr
		}
	}
	if !readable {
		if aerr := s.authorize(req.caller, action, sc, sc.String()); aerr != nil {
			return aerr
		}
	}
	writeJSON(req.w, req.r, http.StatusOK, map[string]any{"value": visible})
	return nil
}

// splitWord splits s at the word sep (any case) between spaces.
func splitWord(s, sep string) []string {
	var out []string
	words := strings.Fields(s)
	start := 0
	for i, w := range words {
		if eq(w, sep) {
			out = append(out, strings.Join(words[start:i], " "))
			start = i + 1
		}
	}
	return append(out, strings.Join(words[start:], " "))
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if eq(x, s) {
			return true
		}
	}
	return false
}
