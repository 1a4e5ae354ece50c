package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// The names the samples rely on. The managed identities and the application come from the
// directory (the built-in one has them all); the rest is created by Start.
const (
	// ControllerNamespace and ControllerServiceAccount are the controller's own service account,
	// whose token the first manager's AZURE_FEDERATED_TOKEN_FILE holds.
	ControllerNamespace      = "flux-system"
	ControllerServiceAccount = "azimuth-controller"
	// ControllerIdentity is the managed identity the controller's service account is federated
	// with.
	ControllerIdentity = "flux-controller"
	// PushApplication is the application with a client secret and AcrPush that pushes samples.
	PushApplication = "flux-secret-app"
	// TenantServiceAccount is the service account of tenants with object-level workload identity.
	TenantServiceAccount = "source"
	// TokenAudience is the audience of federated tokens, as AKS workload identity uses it.
	TokenAudience = directory.DefaultFederatedAudience
)

// via is how a tenant's objects authenticate to Azure.
type via int

const (
	// objectWI: the tenant's service account, federated with a managed identity.
	objectWI via = iota + 1
	// controllerWI: the first manager's own AZURE_FEDERATED_TOKEN_FILE.
	controllerWI
	// nodeMI: the node's managed identity, through IMDS, in the second manager.
	nodeMI
)

// tenant is a namespace of samples and the identity its objects use.
type tenant struct {
	namespace string
	via       via
	// identity is the managed identity the service account is federated with (objectWI).
	identity string
	// grant: Start assigns AcrPull on the registry to identity.
	grant bool
	// denied: the identity lacks its role on purpose, and the OCIRepository must fail with
	// AuthenticationFailed.
	denied bool
	// images: the tenant also scans image tags (ImageRepository and ImagePolicy).
	images bool
	// git: the tenant also fetches the Azure DevOps repository (GitRepository); its identity
	// must be in the project's Readers or Contributors, unless denied.
	git bool
}

// objectWITenant is the tenant whose Git sample shows object-level workload identity.
func objectWITenant() tenant { return tenants()[0] }

// tenants are the samples, in the order of the table.
func tenants() []tenant {
	return []tenant{
		{namespace: "team-apps", via: objectWI, identity: "team-apps", grant: true, images: true, git: true},
		{namespace: "team-platform", via: controllerWI, images: true, git: true},
		{namespace: "team-node", via: nodeMI, images: true, git: true},
		{namespace: "team-denied", via: objectWI, identity: "team-denied", denied: true, git: true},
	}
}

// names are what the samples need from the directory, looked up before anything starts so that
// a directory file without them fails at once.
type names struct {
	tenantID   string
	registry   directory.Resource
	controller directory.Principal // ControllerIdentity
	node       directory.Principal // the node's user-assigned identity
	identities map[string]directory.Principal
	ado        adoRepo             // the Git samples' repository; empty name: none
	sshKey     string              // the private key of the SSH sample, registered in the directory
	certApp    directory.Principal // CertificateApplication
	pushID     string              // PushApplication's client ID
	pushSecret string
	vault      string                   // the Key Vault with the key VaultKey; empty: none
	storage    directory.StorageAccount // the Blob samples' account; empty name: none
	// eventHubs is the namespace EventHubsNamespace when it has the hub EventHubsHub; empty
	// name: none.
	eventHubs directory.EventHubsNamespace
	// cluster is the AKS cluster of the fleet samples; empty name: none.
	cluster directory.ManagedCluster
}

func lookup(d *directory.Directory) (*names, error) {
	n := &names{identities: map[string]directory.Principal{}}
	regs := d.Resources(directory.KindRegistry)
	if len(regs) == 0 {
		return nil, missing("a container registry (resources.registries)")
	}
	n.registry = regs[0]
	if clusters := d.ManagedClusters(); len(clusters) > 0 {
		n.cluster = clusters[0]
	}
	var ok bool
	if n.controller, ok = d.Principal(ControllerIdentity); !ok || n.controller.Kind != directory.KindManagedIdentity {
		return nil, missing("the managed identity '" + ControllerIdentity + "'")
	}
	n.tenantID = n.controller.TenantID
	switch system, user := d.NodeIdentities(); {
	case system == nil && len(user) == 1:
		n.node = user[0]
	default:
		return nil, missing("a node with exactly one user-assigned identity and no system-assigned one")
	}
	for _, t := range tenants() {
		if t.identity == "" {
			continue
		}
		p, ok := d.Principal(t.identity)
		if !ok || p.Kind != directory.KindManagedIdentity {
			return nil, missing("the managed identity '" + t.identity + "'")
		}
		n.identities[t.identity] = p
	}
	for _, app := range d.Spec().Applications {
		if strings.EqualFold(app.Name, PushApplication) && len(app.ClientSecrets) > 0 {
			n.pushID, n.pushSecret = app.ClientID, app.ClientSecrets[0].Value
		}
	}
	if n.pushID == "" {
		return nil, missing("the application '" + PushApplication + "' with a client secret and AcrPush on the registry")
	}
	n.ado = lookupDevOps(d)
	n.vault = lookupVault(d)
	if ns, ok := d.EventHubsNamespace(EventHubsNamespace); ok && slices.ContainsFunc(ns.EventHubs, func(h directory.EventHub) bool { return h.Name == EventHubsHub }) {
		n.eventHubs = ns
	}
	n.storage = lookupStorage(d)
	if n.ado.pat != "" {
		if n.certApp, ok = d.Principal(CertificateApplication); !ok {
			return nil, missing("the application '" + CertificateApplication + "' with a certificate")
		}
	}
	return n, nil
}

func missing(what string) error {
	return fmt.Errorf("the directory lacks %s, which the samples use; start from the built-in one (azimuth dev azure --print-directory)", what)
}

// registryHost is the registry's host name in the public cloud.
func (n *names) registryHost() string { return n.registry.Name + ".azurecr.io" }

// subject is the subject of a service account's tokens.
func subject(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// setUpTenants creates the tenants' namespaces and service accounts, federates the accounts with
// their identities and grants the roles, as `az identity federated-credential create` and `az
// role assignment create` would. It returns what it did, for the progress line.
func (s *System) setUpTenants(ctx context.Context) (string, error) {
	dir := s.Env.Azure.Directory()
	var federated, granted int
	for _, t := range tenants() {
		if err := s.create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: t.namespace}}); err != nil {
			return "", err
		}
		if t.via != objectWI {
			continue
		}
		p := s.names.identities[t.identity]
		if err := s.serviceAccount(ctx, t.namespace, TenantServiceAccount, p); err != nil {
			return "", err
		}
		if err := s.federate(t.identity, t.namespace, TenantServiceAccount); err != nil {
			return "", err
		}
		federated++
		if t.grant {
			ra := directory.RoleAssignment{Principal: t.identity, Role: "AcrPull", Scope: s.names.registry.ID()}
			if !hasAssignment(dir.Spec(), ra) {
				if err := dir.AddRoleAssignment(ra); err != nil {
					return "", fmt.Errorf("granting %s to %s: %w", ra.Role, ra.Principal, err)
				}
				granted++
			}
		}
	}
	if err := s.setUpFleet(ctx); err != nil {
		return "", err
	}
	if s.names.hasSecretsTenant() {
		if err := s.create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: SecretsTenant}}); err != nil {
			return "", err
		}
	}
	// The controller's own service account, as the AKS webhook would see it annotated.
	if err := s.create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ControllerNamespace}}); err != nil {
		return "", err
	}
	if err := s.serviceAccount(ctx, ControllerNamespace, ControllerServiceAccount, s.names.controller); err != nil {
		return "", err
	}
	if err := s.federate(ControllerIdentity, ControllerNamespace, ControllerServiceAccount); err != nil {
		return "", err
	}
	federated++
	return fmt.Sprintf("%s, %s, %s", count(len(tenants())+1, "namespace"), count(federated, "federated credential"), count(granted, "role assignment")), nil
}

func (s *System) serviceAccount(ctx context.Context, namespace, name string, p directory.Principal) error {
	return s.create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Annotations: map[string]string{
		identity.ClientIDAnnotation: p.ClientID, identity.TenantIDAnnotation: p.TenantID,
	}}})
}

// federate trusts the cluster's tokens for namespace/name on principal.
func (s *System) federate(principal, namespace, name string) error {
	err := s.Env.Azure.Directory().AddFederatedCredential(principal, directory.FederatedCredential{
		Name:      namespace + "-" + name,
		Issuer:    s.Env.Kube.IssuerURL,
		Subject:   subject(namespace, name),
		Audiences: []string{TokenAudience},
	})
	if err != nil {
		return fmt.Errorf("federating %s with %s: %w", subject(namespace, name), principal, err)
	}
	return nil
}

// create creates obj; one that exists already is left as it is.
func (s *System) create(ctx context.Context, obj client.Object) error {
	if err := s.Env.Client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

func hasAssignment(spec directory.Spec, ra directory.RoleAssignment) bool {
	for _, have := range spec.RoleAssignments {
		if strings.EqualFold(have.Principal, ra.Principal) && strings.EqualFold(have.Role, ra.Role) && strings.EqualFold(have.Scope, ra.Scope) {
			return true
		}
	}
	return false
}

// count is "1 thing" or "n things".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
