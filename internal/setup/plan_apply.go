package setup

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// ApplyOptions say how Apply reaches Azure Resource Manager and Azure DevOps.
type ApplyOptions struct {
	// Credential is the caller's: it needs to read the subscription's resources and identities,
	// write federated credentials and role assignments (Owner, or User Access Administrator and
	// Managed Identity Contributor), and, for Azure DevOps groups, be a Project Collection
	// Administrator of the organization. Required.
	Credential azcore.TokenCredential
	// Subscription is where the resources and identities are. Required.
	Subscription string
	// Transport is how requests reach management.azure.com and Azure DevOps (connect-to map,
	// CA, proxy).
	// Default: the environment's.
	Transport *transport.Options
	// Out receives a line per federated credential and role: created or present. Default: none.
	Out io.Writer
}

// ErrApplyIncomplete is Apply's error when part of the plan could not be applied; Out says which.
var ErrApplyIncomplete = errors.New("part of the plan was not applied: see the lines marked failed")

// Apply plans the objects with o, after looking up in ARM the resource groups of the resources
// they name and the managed identities of the subscription (by client ID, with their principal
// IDs), and creates the federated credentials, role assignments and Azure DevOps group
// memberships (with the organization entitlement they need) that are missing. What exists is
// reported as present.
func Apply(ctx context.Context, objects []unstructured.Unstructured, o PlanOptions, ao ApplyOptions) (*Plan, error) {
	if ao.Credential == nil || !guid.MatchString(ao.Subscription) {
		return nil, fmt.Errorf("applying the plan needs a credential and --subscription, the subscription ID (a GUID)")
	}
	out := ao.Out
	if out == nil {
		out = io.Discard
	}
	rt, err := transport.New(ao.Transport)
	if err != nil {
		return nil, err
	}
	copts := &arm.ClientOptions{ClientOptions: policy.ClientOptions{Transport: &http.Client{Transport: rt}}}
	a := &applier{sub: ao.Subscription, out: out, devops: &devopsClient{http: &http.Client{Transport: rt}, cred: ao.Credential}}
	if a.resources, err = armresources.NewClient(ao.Subscription, ao.Credential, copts); err != nil {
		return nil, err
	}
	if a.identities, err = armmsi.NewUserAssignedIdentitiesClient(ao.Subscription, ao.Credential, copts); err != nil {
		return nil, err
	}
	if a.fics, err = armmsi.NewFederatedIdentityCredentialsClient(ao.Subscription, ao.Credential, copts); err != nil {
		return nil, err
	}
	if a.roles, err = armauthorization.NewRoleAssignmentsClient(ao.Subscription, ao.Credential, copts); err != nil {
		return nil, err
	}
	o.Subscription = ao.Subscription
	if err := a.lookup(ctx, &o); err != nil {
		return nil, err
	}
	p, err := NewPlan(objects, o)
	if err != nil {
		return nil, err
	}
	ok := true
	for _, f := range p.Federations {
		ok = a.federate(ctx, f) && ok
	}
	for _, g := range p.Grants {
		ok = a.grant(ctx, g) && ok
	}
	if !ok {
		return p, ErrApplyIncomplete
	}
	return p, nil
}

type applier struct {
	sub        string
	out        io.Writer
	resources  *armresources.Client
	identities *armmsi.UserAssignedIdentitiesClient
	fics       *armmsi.FederatedIdentityCredentialsClient
	roles      *armauthorization.RoleAssignmentsClient
	devops     *devopsClient
}

// lookup finds the resource group of each resource of the subscription an object may name, and
// the subscription's managed identities; ARM's answer wins over the flags.
func (a *applier) lookup(ctx context.Context, o *PlanOptions) error {
	var types []string
	for _, k := range []ResourceKind{Registry, StorageAccount, Vault, EventHubsSpace} {
		types = append(types, "resourceType eq '"+Resource{Kind: k}.armType()+"'")
	}
	groups := map[string]string{}
	for name, rg := range o.ResourceGroups {
		groups[name] = rg
	}
	pager := a.resources.NewListPager(&armresources.ClientListOptions{Filter: to.Ptr(strings.Join(types, " or "))})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing the resources of subscription %s (the credential needs Reader on it): %w", a.sub, err)
		}
		for _, r := range page.Value {
			if r.ID != nil && r.Name != nil {
				groups[strings.ToLower(*r.Name)] = resourceGroupOf(*r.ID)
			}
		}
	}
	o.ResourceGroups, o.ResourceGroup = groups, ""
	ids := append([]KnownIdentity(nil), o.Identities...)
	mis := a.identities.NewListBySubscriptionPager(nil)
	for mis.More() {
		page, err := mis.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing the managed identities of subscription %s (the credential needs Reader on it): %w", a.sub, err)
		}
		for _, mi := range page.Value {
			if mi.ID == nil || mi.Name == nil || mi.Properties == nil || mi.Properties.ClientID == nil {
				continue
			}
			k := KnownIdentity{ManagedIdentity: ManagedIdentity{Name: *mi.Name, ResourceGroup: resourceGroupOf(*mi.ID), Subscription: a.sub},
				ClientID: *mi.Properties.ClientID, PrincipalID: deref(mi.Properties.PrincipalID), TenantID: deref(mi.Properties.TenantID)}
			ids = append([]KnownIdentity{k}, ids...)
			if strings.EqualFold(o.Controller.ClientID, k.ClientID) {
				o.Controller = k
			}
		}
	}
	o.Identities = ids
	return nil
}

// resourceGroupOf reads the resource group of an ARM ID.
func resourceGroupOf(id string) string {
	parts := strings.Split(id, "/")
	for i := 0; i+1 < len(parts); i++ {
		if strings.EqualFold(parts[i], "resourceGroups") {
			return parts[i+1]
		}
	}
	return ""
}

func (a *applier) report(what, outcome string) {
	fmt.Fprintf(a.out, "%s: %s\n", what, outcome)
}

// federate creates the federated credential unless one of the identity's has its issuer and
// subject (Azure allows one), whatever its name.
func (a *applier) federate(ctx context.Context, f PlanFederation) bool {
	what := fmt.Sprintf("federated credential %s of %s (issuer %s, subject %s)", f.name(), f.Identity.Name, f.Issuer, f.Subject())
	pager := a.fics.NewListPager(f.Identity.ResourceGroup, f.Identity.Name, nil)
	nameTaken := false
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			a.report(what, "failed: "+explainARM(err, "Managed Identity Contributor on the identity"))
			return false
		}
		for _, c := range page.Value {
			if c.Properties == nil {
				continue
			}
			if deref(c.Properties.Issuer) == f.Issuer && deref(c.Properties.Subject) == f.Subject() {
				a.report(what, "present (as "+deref(c.Name)+")")
				return true
			}
			nameTaken = nameTaken || strings.EqualFold(deref(c.Name), f.name())
		}
	}
	if nameTaken {
		a.report(what, "failed: the identity has a credential of that name for another issuer or subject; rename or delete it (az identity federated-credential show --name "+f.name()+" --identity-name "+f.Identity.Name+" --resource-group "+f.Identity.ResourceGroup+")")
		return false
	}
	_, err := a.fics.CreateOrUpdate(ctx, f.Identity.ResourceGroup, f.Identity.Name, f.name(), armmsi.FederatedIdentityCredential{
		Properties: &armmsi.FederatedIdentityCredentialProperties{
			Issuer: to.Ptr(f.Issuer), Subject: to.Ptr(f.Subject()), Audiences: []*string{to.Ptr(ExchangeAudience)},
		},
	}, nil)
	if err != nil {
		a.report(what, "failed: "+explainARM(err, "Managed Identity Contributor on the identity"))
		return false
	}
	a.report(what, "created")
	return true
}

// grant creates the role assignment, named after its scope, role and principal so that a second
// apply finds it; an assignment of the same role to the same principal under another name
// (RoleAssignmentExists) is present too. Azure DevOps groups go to grantDevOps.
func (a *applier) grant(ctx context.Context, g PlanGrant) bool {
	if g.Integration == "devops" {
		return a.grantDevOps(ctx, g)
	}
	role := Roles[g.Integration]
	what := fmt.Sprintf("role %s for %s on %s", role.Name, g.principalName(), g.Resource)
	switch {
	case g.Scope == "":
		a.report(what, fmt.Sprintf("failed: no %s named %s in subscription %s; create it, or check the object's endpoint", g.Resource.Kind, g.Resource.Name, a.sub))
		return false
	case g.PrincipalID == "":
		a.report(what, fmt.Sprintf("failed: the identity with client ID %s is not a managed identity of subscription %s, so its principal ID is unknown; grant it with: azimuth setup grant --integration %s --client-id %s --scope %s",
			g.ClientID, a.sub, g.Integration, g.ClientID, g.Scope))
		return false
	}
	name := assignmentName(g.Scope, role.ID, g.PrincipalID)
	if _, err := a.roles.Get(ctx, g.Scope, name, nil); err == nil {
		a.report(what, "present")
		return true
	}
	_, err := a.roles.Create(ctx, g.Scope, name, armauthorization.RoleAssignmentCreateParameters{
		Properties: &armauthorization.RoleAssignmentProperties{
			RoleDefinitionID: to.Ptr("/subscriptions/" + a.sub + role.DefinitionID()),
			PrincipalID:      to.Ptr(g.PrincipalID),
			PrincipalType:    to.Ptr(armauthorization.PrincipalTypeServicePrincipal),
		},
	}, nil)
	var re *azcore.ResponseError
	switch {
	case errors.As(err, &re) && re.ErrorCode == "RoleAssignmentExists":
		a.report(what, "present")
	case err != nil:
		a.report(what, "failed: "+explainARM(err, "Owner or User Access Administrator on "+g.Scope))
		return false
	default:
		a.report(what, "created")
	}
	return true
}

// assignmentName is a UUID (version 5 form) derived from what the assignment grants.
func assignmentName(scope, roleID, principalID string) string {
	h := sha1.Sum([]byte(strings.ToLower(scope + "|" + roleID + "|" + principalID)))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// explainARM says what ARM refused and what the caller needs.
func explainARM(err error, needs string) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		msg := fmt.Sprintf("%s (HTTP %d)", re.ErrorCode, re.StatusCode)
		if re.StatusCode == http.StatusForbidden || re.StatusCode == http.StatusUnauthorized {
			msg += ": the credential of AZURE_CLIENT_ID needs " + needs
		}
		return msg
	}
	return err.Error()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
