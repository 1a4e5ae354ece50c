package directory

import (
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

// state is one immutable, validated snapshot of a directory with its lookup indexes.
type state struct {
	spec       Spec
	tenants    map[string]Tenant    // by lower-case ID and domain
	byClientID map[string]Principal // by lower-case client ID
	byObjectID map[string]Principal // by lower-case principal ID
	byName     map[string]Principal // by lower-case name
	users      map[string]User      // by lower-case name and object ID
	devops     devopsIndex
	nodeSystem *Principal
	nodeUser   []Principal
	resources  map[Kind][]Resource
	vaults     map[string]vaultIndex // by lower-case name
	roles      []rbac.Role
	policy     *rbac.Policy
	// assignments are the role assignments, resolved, in file order.
	assignments []Assignment
}

// build fills in defaults, validates spec and indexes it.
func build(spec Spec) (*state, error) {
	applyDefaults(&spec)
	v := &validator{}
	v.tenants(spec)
	v.hierarchy(spec)
	st := &state{
		spec:       spec,
		tenants:    map[string]Tenant{},
		byClientID: map[string]Principal{},
		byObjectID: map[string]Principal{},
		byName:     map[string]Principal{},
		users:      map[string]User{},
		resources:  map[Kind][]Resource{},
	}
	for _, t := range spec.Tenants {
		st.tenants[strings.ToLower(t.ID)] = t
		for _, dom := range t.Domains {
			st.tenants[strings.ToLower(dom)] = t
		}
	}
	st.indexPrincipals(spec, v)
	st.indexNode(spec, v)
	st.indexUsers(spec, v)
	st.indexResources(spec, v)
	st.indexKeyVaults(spec, v)
	st.indexStorageAccounts(spec, v)
	st.indexEventHubs(spec, v)
	st.indexDevOps(spec, v)
	st.indexManagedClusters(spec, v)
	st.roles = v.roles(spec)
	assignments := v.assignments(spec, st)
	if err := v.err(); err != nil {
		return nil, err
	}
	st.policy = rbac.NewPolicy(st.roles, assignments, hierarchy(spec))
	return st, nil
}

func applyDefaults(s *Spec) {
	onlyTenant := ""
	if len(s.Tenants) == 1 {
		onlyTenant = s.Tenants[0].ID
	}
	for i := range s.Tenants {
		if s.Tenants[i].Cloud == "" {
			s.Tenants[i].Cloud = CloudPublic
		}
	}
	for i := range s.Subscriptions {
		if s.Subscriptions[i].Tenant == "" {
			s.Subscriptions[i].Tenant = onlyTenant
		}
	}
	for i := range s.Applications {
		if s.Applications[i].Tenant == "" {
			s.Applications[i].Tenant = onlyTenant
		}
		defaultAudiences(s.Applications[i].FederatedCredentials)
	}
	for i := range s.ManagedIdentities {
		defaultAudiences(s.ManagedIdentities[i].FederatedCredentials)
	}
	for i := range s.Users {
		if s.Users[i].Tenant == "" {
			s.Users[i].Tenant = onlyTenant
		}
	}
	for i := range s.Resources.KeyVaults {
		s.Resources.KeyVaults[i].applyDefaults(subscriptionTenant(*s, s.Resources.KeyVaults[i].Subscription))
	}
	for i := range s.Resources.StorageAccounts {
		s.Resources.StorageAccounts[i].applyDefaults()
	}
	for i := range s.Resources.EventHubsNamespaces {
		s.Resources.EventHubsNamespaces[i].applyDefaults()
	}
	for i := range s.Resources.ManagedClusters {
		s.Resources.ManagedClusters[i].applyDefaults()
	}
	if s.Node.Name == "" {
		s.Node.Name = "local-node"
	}
	if s.Node.Subscription == "" && len(s.Subscriptions) == 1 {
		s.Node.Subscription = s.Subscriptions[0].ID
	}
	if s.Node.ResourceGroup == "" {
		s.Node.ResourceGroup = "local"
	}
	s.Resources.setKinds()
}

func defaultAudiences(fcs []FederatedCredential) {
	for i := range fcs {
		if len(fcs[i].Audiences) == 0 {
			fcs[i].Audiences = []string{DefaultFederatedAudience}
		}
	}
}

func (r *Resources) setKinds() {
	for _, g := range r.groups() {
		for i := range *g.list {
			(*g.list)[i].Kind = g.kind
		}
	}
	for i := range r.KeyVaults {
		r.KeyVaults[i].Kind = KindKeyVault
	}
	for i := range r.StorageAccounts {
		r.StorageAccounts[i].Kind = KindStorageAccount
	}
	for i := range r.EventHubsNamespaces {
		r.EventHubsNamespaces[i].Kind = KindEventHubsNamespace
	}
	for i := range r.DevOpsOrganizations {
		r.DevOpsOrganizations[i].Kind = KindDevOpsOrganization
	}
	for i := range r.ManagedClusters {
		r.ManagedClusters[i].Kind = KindManagedCluster
	}
}

type resourceGroup struct {
	key  string
	kind Kind
	list *[]Resource
}

func (r *Resources) groups() []resourceGroup {
	return []resourceGroup{
		{"registries", KindRegistry, &r.Registries},
	}
}

func (st *state) subscriptionTenant(subscription string) string {
	return subscriptionTenant(st.spec, subscription)
}

func subscriptionTenant(spec Spec, subscription string) string {
	for _, s := range spec.Subscriptions {
		if strings.EqualFold(s.ID, subscription) {
			return s.Tenant
		}
	}
	return ""
}

func (st *state) indexPrincipals(spec Spec, v *validator) {
	for i, app := range spec.Applications {
		where := v.at("applications", i, app.Name)
		v.application(where, app)
		if app.Tenant != "" && !hasTenant(spec, app.Tenant) {
			v.addf("%s: tenant '%s' is not declared in tenants", where, app.Tenant)
		}
		app := app
		st.add(v, where, Principal{
			Kind: KindApplication, Name: app.Name, TenantID: app.Tenant,
			ClientID: app.ClientID, PrincipalID: app.PrincipalID,
			Application: &app, FederatedCredentials: app.FederatedCredentials,
		})
	}
	for i, mi := range spec.ManagedIdentities {
		where := v.at("managedIdentities", i, mi.Name)
		v.managedIdentity(where, mi)
		if st.subscriptionTenant(mi.Subscription) == "" {
			v.addf("%s: subscription '%s' is not declared in subscriptions", where, mi.Subscription)
		}
		st.add(v, where, Principal{
			Kind: KindManagedIdentity, Name: mi.Name, TenantID: st.subscriptionTenant(mi.Subscription),
			ClientID: mi.ClientID, PrincipalID: mi.PrincipalID, ResourceID: mi.ResourceID(),
			FederatedCredentials: mi.FederatedCredentials,
		})
	}
}

// add indexes p, reporting names and IDs that another principal already uses: role assignments
// and token requests must resolve to exactly one principal.
func (st *state) add(v *validator, where string, p Principal) {
	for _, idx := range []struct {
		field string
		key   string
		m     map[string]Principal
	}{
		{"name", p.Name, st.byName},
		{"clientId", p.ClientID, st.byClientID},
		{"principalId", p.PrincipalID, st.byObjectID},
	} {
		key := strings.ToLower(idx.key)
		if key == "" {
			continue
		}
		if other, dup := idx.m[key]; dup {
			v.addf("%s: %s '%s' is already used by %s '%s'", where, idx.field, idx.key, other.Kind, other.Name)
			continue
		}
		idx.m[key] = p
	}
}

func (st *state) indexNode(spec Spec, v *validator) {
	n := spec.Node
	if n.SystemAssigned != nil {
		tenant := st.subscriptionTenant(n.Subscription)
		v.guid("node.systemAssigned", "clientId", n.SystemAssigned.ClientID)
		v.guid("node.systemAssigned", "principalId", n.SystemAssigned.PrincipalID)
		if tenant == "" {
			v.addf("node: subscription '%s' is not declared in subscriptions; a node with a system-assigned identity needs one", n.Subscription)
		}
		p := Principal{
			Kind: KindSystemAssigned, Name: n.Name, TenantID: tenant,
			ClientID: n.SystemAssigned.ClientID, PrincipalID: n.SystemAssigned.PrincipalID,
			ResourceID: resourceID(n.Subscription, n.ResourceGroup, kindVirtualMachine, n.Name),
		}
		st.add(v, "node.systemAssigned", p)
		st.nodeSystem = &p
	}
	seen := map[string]bool{}
	for i, name := range n.Identities {
		p, ok := st.byName[strings.ToLower(name)]
		switch {
		case !ok || p.Kind != KindManagedIdentity:
			v.addf("node.identities[%d]: '%s' is not a managed identity of this directory", i, name)
		case seen[strings.ToLower(name)]:
			v.addf("node.identities[%d]: '%s' is listed twice", i, name)
		default:
			seen[strings.ToLower(name)] = true
			st.nodeUser = append(st.nodeUser, p)
		}
	}
}

func (st *state) indexResources(spec Spec, v *validator) {
	for _, g := range spec.Resources.groups() {
		names := map[string]bool{}
		for i, r := range *g.list {
			where := v.at("resources."+g.key, i, r.Name)
			v.resource(where, r, spec)
			if names[strings.ToLower(r.Name)] {
				v.addf("%s: the name is used twice", where)
			}
			names[strings.ToLower(r.Name)] = true
			st.resources[g.kind] = append(st.resources[g.kind], r)
		}
	}
	// DevOps organizations are resources too, with projects and members besides; see devops.go.
	names := map[string]bool{}
	for i, org := range spec.Resources.DevOpsOrganizations {
		where := v.at("resources.devopsOrganizations", i, org.Name)
		v.resource(where, org.Resource, spec)
		if names[strings.ToLower(org.Name)] {
			v.addf("%s: the name is used twice", where)
		}
		names[strings.ToLower(org.Name)] = true
		st.resources[KindDevOpsOrganization] = append(st.resources[KindDevOpsOrganization], org.Resource)
	}
}

// lookupPrincipal resolves a name, principal ID or client ID, in that order.
func (st *state) lookupPrincipal(ref string) (Principal, bool) {
	key := strings.ToLower(strings.TrimSpace(ref))
	for _, m := range []map[string]Principal{st.byName, st.byObjectID, st.byClientID} {
		if p, ok := m[key]; ok {
			return p, true
		}
	}
	return Principal{}, false
}

// hierarchy maps subscriptions and management groups to their parent management group.
func hierarchy(spec Spec) map[string]string {
	parents := map[string]string{}
	for _, mg := range spec.ManagementGroups {
		scope := rbac.ManagementGroupScope(mg.Name)
		if mg.Parent != "" {
			parents[scope] = rbac.ManagementGroupScope(mg.Parent)
		}
		for _, sub := range mg.Subscriptions {
			parents[rbac.SubscriptionScope(sub)] = scope
		}
	}
	return parents
}
