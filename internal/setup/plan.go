package setup

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// KnownIdentity is a managed identity whose client ID the plan can match with a service
// account's annotation: from --identity CLIENT_ID=RESOURCE_GROUP/NAME, or from ARM's list.
type KnownIdentity struct {
	ManagedIdentity
	ClientID string
	// PrincipalID is its service principal's object ID; empty when unknown (it is looked up).
	PrincipalID string
	TenantID    string
}

// PlanOptions say what the objects do not: the cluster's issuer, where resources are, who the
// controller is.
type PlanOptions struct {
	// Issuer is the cluster's OIDC issuer URL, for federated credentials. Required when an object
	// acts as a service account.
	Issuer string
	// Subscription and ResourceGroup are where resources are, by default. With both, scopes are
	// written as ARM IDs; without, each is looked up by name (az show, Terraform's
	// azurerm_resources). Default: looked up.
	Subscription, ResourceGroup string
	// ResourceGroups are the groups of resources that are not in ResourceGroup, by resource name
	// (a registry, storage account, vault or Event Hubs namespace). Default: none.
	ResourceGroups map[string]string
	// Identities are the managed identities the plan can name, by client ID. An identity not
	// among them still gets its roles (by client ID); its federated credentials become a note
	// with the command that finds it. Default: none.
	Identities []KnownIdentity
	// Controller is the controller's own identity, for objects that name no service account;
	// its ClientID empty means unknown (those objects become a note).
	Controller KnownIdentity
	// SOPSKeys are the Key Vault keys (https://VAULT.vault.azure.net/keys/NAME) or vaults
	// (https://VAULT.vault.azure.net) every decrypting Kustomization needs. A key is granted on
	// the key, a vault on the vault. Default: none.
	SOPSKeys []string
	// NamespaceSOPSKeys are the keys of SOPS documents by the documents' namespace: a decrypting
	// Kustomization needs those of its namespace, of its spec.targetNamespace, and of documents
	// that name no namespace (""). A Kustomization that needs no key becomes a note. Default:
	// none.
	NamespaceSOPSKeys map[string][]string
	// DefaultServiceAccount and DefaultDecryptionServiceAccount are the controller's
	// --default-service-account and --default-decryption-service-account (lockdown, with the
	// ObjectLevelWorkloadIdentity gate): objects that name no service account act as them.
	// Default: none (such objects act as the controller's identity).
	DefaultServiceAccount, DefaultDecryptionServiceAccount string
	// ASONamespace is the namespace of ASO resources. Default: each service account's namespace
	// for federated credentials, default for role assignments.
	ASONamespace string
}

// Plan is the least privilege for a set of objects: the federated credentials of the service
// accounts they act as, and the roles and Azure DevOps groups they need, each once.
type Plan struct {
	Federations []PlanFederation
	Grants      []PlanGrant
	// Notes are objects the plan does not grant anything for, and why.
	Notes []string
	opts  PlanOptions
}

// PlanFederation is one federated credential, and the objects that need it.
type PlanFederation struct {
	Federation
	Objects []string
}

// PlanGrant is one role (or Azure DevOps group) for one identity on one resource, and the
// objects that need it.
type PlanGrant struct {
	GrantSpec
	// Resource is what Scope names; Scope is empty when its resource group is unknown (it is
	// looked up).
	Resource Resource
	// Controller says the identity is the controller's own.
	Controller bool
	Objects    []string
}

// NewPlan reads the objects (Flux objects and ServiceAccounts; others are ignored) and writes
// their plan.
func NewPlan(objects []unstructured.Unstructured, o PlanOptions) (*Plan, error) {
	p := &Plan{opts: o}
	keys, err := parseSOPSKeys(o.SOPSKeys)
	if err != nil {
		return nil, err
	}
	nsKeys := map[string][]Resource{}
	for ns, raws := range o.NamespaceSOPSKeys {
		if nsKeys[ns], err = parseSOPSKeys(raws); err != nil {
			return nil, err
		}
	}
	sas := map[string]*unstructured.Unstructured{}
	gits := map[string]*unstructured.Unstructured{}
	for i := range objects {
		obj := &objects[i]
		id := obj.GetNamespace() + "/" + obj.GetName()
		switch gvk := obj.GroupVersionKind(); {
		case gvk.Group == "" && gvk.Kind == "ServiceAccount":
			sas[id] = obj
		case gvk.Group == sourceGroup && gvk.Kind == "GitRepository":
			gits[id] = obj
		}
	}
	var needs []Need
	for i := range objects {
		obj := &objects[i]
		n, notes := NeedsOf(obj)
		if gvk := obj.GroupVersionKind(); gvk.Group == imageGroup && gvk.Kind == "ImageUpdateAutomation" {
			n, notes = automationNeeds(obj, gits)
		}
		p.Notes = append(p.Notes, notes...)
		for _, need := range n {
			if need.Integration == "keyvault" {
				target, _, _ := unstructured.NestedString(obj.Object, "spec", "targetNamespace")
				mine := keys
				for _, ns := range []string{obj.GetNamespace(), target, ""} {
					for _, k := range nsKeys[ns] {
						if !slices.Contains(mine, k) {
							mine = append(mine, k)
						}
					}
				}
				if len(mine) == 0 {
					p.Notes = append(p.Notes, need.Object+": decrypts with SOPS, and no Key Vault key is known for it: give --sops-key with the key (or vault) its SOPS files name, or -f with the files")
				}
				for _, k := range mine {
					need.Resource = k
					needs = append(needs, need)
				}
				continue
			}
			needs = append(needs, need)
		}
	}
	for _, n := range needs {
		if err := p.add(n, sas); err != nil {
			return nil, err
		}
	}
	p.reduce()
	return p, nil
}

// automationNeeds: an ImageUpdateAutomation pushes with its GitRepository's identity, which
// needs Contributors.
func automationNeeds(obj *unstructured.Unstructured, gits map[string]*unstructured.Unstructured) ([]Need, []string) {
	name, _, _ := unstructured.NestedString(obj.Object, "spec", "sourceRef", "name")
	ns, _, _ := unstructured.NestedString(obj.Object, "spec", "sourceRef", "namespace")
	if ns == "" {
		ns = obj.GetNamespace()
	}
	self := fmt.Sprintf("ImageUpdateAutomation %s/%s", obj.GetNamespace(), obj.GetName())
	git, ok := gits[ns+"/"+name]
	if !ok {
		return nil, []string{fmt.Sprintf("%s: its GitRepository %s/%s is not among the objects read", self, ns, name)}
	}
	needs, notes := NeedsOf(git)
	for i := range needs {
		needs[i].Object, needs[i].Group = self, "Contributors"
	}
	for i := range notes {
		notes[i] = self + " (through its GitRepository) " + notes[i]
	}
	return needs, notes
}

// add turns a need into the plan's federation and grant, merging with those already there.
func (p *Plan) add(n Need, sas map[string]*unstructured.Unstructured) error {
	if n.ServiceAccount == "" {
		n.ServiceAccount = p.opts.DefaultServiceAccount
		if n.Integration == "keyvault" {
			n.ServiceAccount = p.opts.DefaultDecryptionServiceAccount
		}
	}
	who := p.opts.Controller
	controller := n.ServiceAccount == ""
	if controller {
		if who.ClientID == "" {
			p.Notes = append(p.Notes, n.Object+": acts as the controller's own identity, which is unknown: give --controller-client-id (or read it from the cluster with --from-cluster)")
			return nil
		}
	} else {
		sa, ok := sas[n.Namespace+"/"+n.ServiceAccount]
		if !ok {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: its service account %s/%s is not among the objects read: create it (azimuth setup identity prints it) and plan again", n.Object, n.Namespace, n.ServiceAccount))
			return nil
		}
		clientID := sa.GetAnnotations()[ClientIDAnnotation]
		if !guid.MatchString(clientID) {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: its service account %s/%s has no %s annotation naming a managed identity: add it (azimuth setup identity prints it) and plan again", n.Object, n.Namespace, n.ServiceAccount, ClientIDAnnotation))
			return nil
		}
		who = p.identity(clientID)
		if t := sa.GetAnnotations()[TenantIDAnnotation]; who.TenantID == "" && guid.MatchString(t) {
			who.TenantID = t
		}
		if err := p.federate(who, n); err != nil {
			return err
		}
	}
	g := PlanGrant{Resource: n.Resource, Controller: controller, Objects: []string{n.Object}}
	g.Identity, g.ClientID, g.PrincipalID = who.ManagedIdentity, who.ClientID, who.PrincipalID
	g.Integration, g.ASONamespace = n.Integration, p.opts.ASONamespace
	if n.Integration == "devops" {
		g.Organization, g.Project, g.Group = n.Resource.Organization, n.Resource.Project, n.Group
	} else if rg := p.resourceGroup(n.Resource.Name); rg != "" && p.opts.Subscription != "" {
		g.Scope = n.Resource.ID(p.opts.Subscription, rg)
	}
	for i := range p.Grants {
		if p.Grants[i].key() == g.key() {
			p.Grants[i].Objects = appendNew(p.Grants[i].Objects, n.Object)
			return nil
		}
	}
	p.Grants = append(p.Grants, g)
	return nil
}

// identity is the known identity with clientID, or one named by its client ID alone.
func (p *Plan) identity(clientID string) KnownIdentity {
	for _, k := range p.opts.Identities {
		if strings.EqualFold(k.ClientID, clientID) {
			return k
		}
	}
	return KnownIdentity{ClientID: clientID}
}

func (p *Plan) resourceGroup(name string) string {
	if rg, ok := p.opts.ResourceGroups[name]; ok {
		return rg
	}
	return p.opts.ResourceGroup
}

// federate adds the federated credential of n's service account.
func (p *Plan) federate(who KnownIdentity, n Need) error {
	if who.Name == "" {
		note := fmt.Sprintf("service account %s/%s acts as the managed identity with client ID %s, whose name the plan does not know: "+
			"find it (az identity list --query \"[?clientId=='%s'].[resourceGroup,name]\" --output tsv) and give --identity %s=RESOURCE_GROUP/NAME for its federated credential",
			n.Namespace, n.ServiceAccount, who.ClientID, who.ClientID, who.ClientID)
		p.Notes = appendNew(p.Notes, note)
		return nil
	}
	if p.opts.Issuer == "" {
		return fmt.Errorf("%s acts as service account %s/%s: give --issuer, the cluster's OIDC issuer URL (az aks show --query oidcIssuerProfile.issuerUrl, or kubectl get --raw /.well-known/openid-configuration)", n.Object, n.Namespace, n.ServiceAccount)
	}
	f := Federation{Identity: who.ManagedIdentity, Issuer: p.opts.Issuer, Namespace: n.Namespace, ServiceAccount: n.ServiceAccount,
		ClientID: who.ClientID, TenantID: who.TenantID, ASONamespace: p.opts.ASONamespace}
	if err := f.validate(); err != nil {
		return err
	}
	for i := range p.Federations {
		pf := &p.Federations[i]
		if pf.Identity == f.Identity && pf.Subject() == f.Subject() {
			pf.Objects = appendNew(pf.Objects, n.Object)
			return nil
		}
	}
	p.Federations = append(p.Federations, PlanFederation{Federation: f, Objects: []string{n.Object}})
	return nil
}

func (g PlanGrant) principalKey() string {
	return strings.ToLower(cmp.Or(g.ClientID, g.PrincipalID, g.Identity.ResourceID()))
}

func (g PlanGrant) key() string {
	r := g.Resource
	return strings.Join([]string{g.principalKey(), g.Integration, string(r.Kind), r.Name, r.Child, r.Organization, r.Project, g.Group}, "\x00")
}

// reduce drops what another grant covers (Readers where Contributors is granted, a key where
// its vault is) and sorts what is left, so the output does not depend on the objects' order.
func (p *Plan) reduce() {
	coverer := func(g PlanGrant) int {
		return slices.IndexFunc(p.Grants, func(o PlanGrant) bool {
			if o.principalKey() != g.principalKey() || o.Integration != g.Integration || o.key() == g.key() {
				return false
			}
			if g.Integration == "devops" {
				return g.Group == "Readers" && o.Group == "Contributors" && o.Organization == g.Organization && o.Project == g.Project
			}
			return o.Resource.Kind == g.Resource.Kind && o.Resource.Name == g.Resource.Name && o.Resource.Child == "" && g.Resource.Child != ""
		})
	}
	var kept []PlanGrant
	for _, g := range p.Grants {
		if i := coverer(g); i >= 0 {
			for _, o := range g.Objects {
				p.Grants[i].Objects = appendNew(p.Grants[i].Objects, o)
			}
			continue
		}
		kept = append(kept, g)
	}
	p.Grants = kept
	slices.SortStableFunc(p.Federations, func(a, b PlanFederation) int {
		return cmp.Or(cmp.Compare(a.Identity.Name, b.Identity.Name), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.ServiceAccount, b.ServiceAccount))
	})
	slices.SortStableFunc(p.Grants, func(a, b PlanGrant) int {
		return cmp.Or(cmp.Compare(a.Integration, b.Integration), cmp.Compare(a.principalName(), b.principalName()), cmp.Compare(a.key(), b.key()))
	})
	for i := range p.Federations {
		slices.Sort(p.Federations[i].Objects)
	}
	for i := range p.Grants {
		slices.Sort(p.Grants[i].Objects)
	}
	slices.Sort(p.Notes)
	p.Notes = slices.Compact(p.Notes)
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
