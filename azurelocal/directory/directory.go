package directory

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/yaml"

	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

// PrincipalKind tells applications from managed identities.
type PrincipalKind string

// Principal kinds.
const (
	KindApplication     PrincipalKind = "Application"
	KindManagedIdentity PrincipalKind = "ManagedIdentity"
	// KindSystemAssigned is the node's system-assigned managed identity.
	KindSystemAssigned PrincipalKind = "SystemAssignedIdentity"
)

// Principal is anything that can get a token: an application's service principal or a managed
// identity. It is a copy; changing it does not change the directory.
type Principal struct {
	Kind     PrincipalKind
	Name     string
	TenantID string
	ClientID string
	// PrincipalID is the object ID of the service principal: the oid claim.
	PrincipalID string
	// ResourceID is the ARM ID of a managed identity (for a system-assigned one, of the VM).
	ResourceID string
	// Application is set for KindApplication.
	Application          *Application
	FederatedCredentials []FederatedCredential
}

// Directory is a validated, concurrency-safe directory. Readers see immutable snapshots; writers
// replace the snapshot after validating the whole directory again.
type Directory struct {
	writeMu sync.Mutex
	current atomic.Pointer[state]
}

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the built-in default directory file, as `azimuth dev azure
// --print-directory` prints it.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Default returns a fresh copy of the built-in default directory.
func Default() *Directory {
	d, err := Parse(defaultYAML)
	if err != nil {
		panic("azurelocal/directory: the built-in default directory is invalid: " + err.Error())
	}
	return d
}

// Load reads and validates a directory file.
func Load(path string) (*Directory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read directory file: %w", err)
	}
	d, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("directory file %s: %w", path, err)
	}
	return d, nil
}

// Parse reads and validates a directory from YAML (or JSON). Unknown keys are errors, so a typo
// does not silently drop a credential.
func Parse(data []byte) (*Directory, error) {
	var spec Spec
	if err := yaml.UnmarshalStrict(data, &spec); err != nil {
		return nil, fmt.Errorf("parse directory: %w", err)
	}
	return New(spec)
}

// New validates spec and returns a directory holding a copy of it.
func New(spec Spec) (*Directory, error) {
	st, err := build(cloneSpec(spec))
	if err != nil {
		return nil, err
	}
	d := &Directory{}
	d.current.Store(st)
	return d, nil
}

func (d *Directory) snapshot() *state { return d.current.Load() }

// Spec returns a copy of the directory with defaults filled in, including changes made at run
// time.
func (d *Directory) Spec() Spec { return cloneSpec(d.snapshot().spec) }

// YAML renders the directory (with defaults filled in) as a directory file.
func (d *Directory) YAML() ([]byte, error) { return yaml.Marshal(d.snapshot().spec) }

// Tenants returns all tenants.
func (d *Directory) Tenants() []Tenant { return cloneSpec(d.snapshot().spec).Tenants }

// Tenant finds a tenant by ID or domain name, ignoring case.
func (d *Directory) Tenant(idOrDomain string) (Tenant, bool) {
	t, ok := d.snapshot().tenants[strings.ToLower(idOrDomain)]
	return t, ok
}

// Client finds the application or managed identity with clientID in the tenant.
func (d *Directory) Client(tenantID, clientID string) (Principal, bool) {
	p, ok := d.snapshot().byClientID[strings.ToLower(clientID)]
	if !ok || !strings.EqualFold(p.TenantID, tenantID) {
		return Principal{}, false
	}
	return clonePrincipal(p), true
}

// Principal finds an application or managed identity by name, principal ID or client ID.
func (d *Directory) Principal(ref string) (Principal, bool) {
	p, ok := d.snapshot().lookupPrincipal(ref)
	if !ok {
		return Principal{}, false
	}
	return clonePrincipal(p), true
}

// NodeIdentities returns the node's system-assigned identity (nil when it has none) and its
// user-assigned identities, in file order.
func (d *Directory) NodeIdentities() (system *Principal, user []Principal) {
	st := d.snapshot()
	if st.nodeSystem != nil {
		p := clonePrincipal(*st.nodeSystem)
		system = &p
	}
	for _, p := range st.nodeUser {
		user = append(user, clonePrincipal(p))
	}
	return system, user
}

// Resources returns the resources of a kind.
func (d *Directory) Resources(kind Kind) []Resource {
	return append([]Resource(nil), d.snapshot().resources[kind]...)
}

// Resource finds a resource by kind and name, ignoring case as Azure resource names do.
func (d *Directory) Resource(kind Kind, name string) (Resource, bool) {
	for _, r := range d.snapshot().resources[kind] {
		if strings.EqualFold(r.Name, name) {
			return r, true
		}
	}
	return Resource{}, false
}

// Roles returns the built-in and custom role definitions.
func (d *Directory) Roles() []rbac.Role { return append([]rbac.Role(nil), d.snapshot().roles...) }

// Authorize reports whether the principal (object ID) may perform the control-plane action on
// resourceID, given the role assignments of the directory.
func (d *Directory) Authorize(principalID, action, resourceID string) bool {
	return d.snapshot().policy.Authorize(principalID, action, resourceID)
}

// AuthorizeData is Authorize for a data action.
func (d *Directory) AuthorizeData(principalID, dataAction, resourceID string) bool {
	return d.snapshot().policy.AuthorizeData(principalID, dataAction, resourceID)
}

// Check explains an authorization decision; see rbac.Policy.Check.
func (d *Directory) Check(r rbac.Request) rbac.Decision { return d.snapshot().policy.Check(r) }

// AddFederatedCredential adds fc to the application or managed identity named by principal
// (name, principal ID or client ID). It fails like a directory file would: on a duplicate name,
// an invalid credential, or more than MaxFederatedCredentials.
func (d *Directory) AddFederatedCredential(principal string, fc FederatedCredential) error {
	return d.update(func(s *Spec, st *state) error {
		p, ok := st.lookupPrincipal(principal)
		if !ok {
			return fmt.Errorf("no application or managed identity named '%s'", principal)
		}
		switch p.Kind {
		case KindApplication:
			for i := range s.Applications {
				if strings.EqualFold(s.Applications[i].ClientID, p.ClientID) {
					s.Applications[i].FederatedCredentials = append(s.Applications[i].FederatedCredentials, fc)
				}
			}
		case KindManagedIdentity:
			for i := range s.ManagedIdentities {
				if strings.EqualFold(s.ManagedIdentities[i].ClientID, p.ClientID) {
					s.ManagedIdentities[i].FederatedCredentials = append(s.ManagedIdentities[i].FederatedCredentials, fc)
				}
			}
		default:
			return fmt.Errorf("'%s' is a system-assigned identity, which cannot have federated credentials", principal)
		}
		return nil
	})
}

// AddRoleAssignment adds a role assignment, validated like one in the file.
func (d *Directory) AddRoleAssignment(ra RoleAssignment) error {
	return d.update(func(s *Spec, _ *state) error {
		s.RoleAssignments = append(s.RoleAssignments, ra)
		return nil
	})
}

func (d *Directory) update(change func(*Spec, *state) error) error {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	old := d.snapshot()
	spec := cloneSpec(old.spec)
	if err := change(&spec, old); err != nil {
		return err
	}
	st, err := build(spec)
	if err != nil {
		return err
	}
	d.current.Store(st)
	return nil
}

// cloneSpec deep-copies a spec. A JSON round trip is plenty fast for directories of this size and
// cannot miss a field added later.
func cloneSpec(s Spec) Spec {
	data, err := json.Marshal(s)
	if err != nil {
		panic("azurelocal/directory: clone spec: " + err.Error())
	}
	var out Spec
	if err := json.Unmarshal(data, &out); err != nil {
		panic("azurelocal/directory: clone spec: " + err.Error())
	}
	// Kind is not serialized; restore it.
	out.Resources.setKinds()
	return out
}

func clonePrincipal(p Principal) Principal {
	p.FederatedCredentials = append([]FederatedCredential(nil), p.FederatedCredentials...)
	for i := range p.FederatedCredentials {
		p.FederatedCredentials[i].Audiences = append([]string(nil), p.FederatedCredentials[i].Audiences...)
	}
	if p.Application != nil {
		app := *p.Application
		app.ClientSecrets = append([]ClientSecret(nil), app.ClientSecrets...)
		app.Certificates = append([]Certificate(nil), app.Certificates...)
		app.FederatedCredentials = p.FederatedCredentials
		p.Application = &app
	}
	return p
}

//go:embed default-certificate-app-key.pem
var defaultCertificateKey []byte

// DefaultCertificateAppPEM returns the certificate and private key (PEM) of the default
// directory's certificate application, flux-certificate-app, so a client can use it. Like the
// rest of the default directory it is public and fake.
func DefaultCertificateAppPEM() []byte {
	spec := Default().Spec()
	for _, app := range spec.Applications {
		if app.Name == "flux-certificate-app" && len(app.Certificates) > 0 {
			return append([]byte(app.Certificates[0].PEM), defaultCertificateKey...)
		}
	}
	panic("azurelocal/directory: the default directory lost flux-certificate-app")
}
