package setup

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Role is a built-in Azure role.
type Role struct {
	Name string
	ID   string
}

// DefinitionID is the role's ARM ID at the tenant level.
func (r Role) DefinitionID() string {
	return "/providers/Microsoft.Authorization/roleDefinitions/" + r.ID
}

// Roles are the seed's recommended roles, by integration.
var Roles = map[string]Role{
	"acr":       {"AcrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d"},
	"blob":      {"Storage Blob Data Reader", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"},
	"keyvault":  {"Key Vault Crypto User", "12338af0-0e69-4776-bea7-57ae8d297424"},
	"eventhubs": {"Azure Event Hubs Data Sender", "2b629674-e913-4c01-ae53-ef4638d8f975"},
}

// Integrations lists what Grant knows, as --integration names them.
var Integrations = []string{"acr", "blob", "keyvault", "eventhubs", "devops"}

// DevOpsGroups are the groups an identity joins in a project: Readers to clone, Contributors to
// push and to post commit statuses.
var DevOpsGroups = []string{"Readers", "Contributors"}

// DevOpsResource is Azure DevOps's Entra application ID, the resource of its tokens.
const DevOpsResource = "499b84ac-1321-427f-aa17-267ca6975798"

// GrantSpec is access for one identity to one integration.
type GrantSpec struct {
	// Identity is a managed identity, or empty with ClientID set (an application).
	Identity ManagedIdentity
	// ClientID names the identity by client ID, to look its service principal up.
	ClientID string
	// PrincipalID is the service principal's object ID, when known (ASO needs it; it is
	// looked up otherwise).
	PrincipalID string
	Integration string
	// Scope is the ARM ID the role is granted at: a resource, a resource group, a subscription
	// or a management group.
	Scope string
	// Organization, Project and Group are Azure DevOps's (Group: Readers or Contributors).
	Organization, Project, Group string
	// ASONamespace is the namespace of ASO resources. Default: default.
	ASONamespace string
}

var scopePattern = regexp.MustCompile(`(?i)^(/subscriptions/[0-9a-f-]{36}(/resourceGroups/[^/]+(/providers/[^/]+/[^/]+/[^/]+(/[^/]+/[^/]+)*)?)?|/providers/Microsoft\.Management/managementGroups/[^/]+)$`)

func (g GrantSpec) validate() error {
	if !slices.Contains(Integrations, g.Integration) {
		return fmt.Errorf("unknown integration %q: use one of %s", g.Integration, strings.Join(Integrations, ", "))
	}
	if g.ClientID == "" && g.Identity.Name == "" && g.PrincipalID == "" {
		return fmt.Errorf("name the identity: a managed identity (name and resource group), a client ID or a principal ID")
	}
	if g.Identity.Name != "" {
		if err := g.Identity.validate(); err != nil {
			return err
		}
	}
	for _, id := range []string{g.ClientID, g.PrincipalID} {
		if id != "" && !guid.MatchString(id) {
			return fmt.Errorf("%q is not a client or principal ID (a GUID)", id)
		}
	}
	if g.Integration == "devops" {
		if g.Organization == "" || g.Project == "" {
			return fmt.Errorf("an Azure DevOps grant needs the organization and the project")
		}
		if !slices.Contains(DevOpsGroups, g.Group) {
			return fmt.Errorf("group %q: use Readers (GitRepository) or Contributors (ImageUpdateAutomation, commit statuses)", g.Group)
		}
		return nil
	}
	if !scopePattern.MatchString(g.Scope) {
		return fmt.Errorf("scope %q is not a resource, resource group, subscription or management group ID, such as /subscriptions/SUBSCRIPTION_ID/resourceGroups/RESOURCE_GROUP", g.Scope)
	}
	return nil
}

// Grant writes the grant in format.
func Grant(g GrantSpec, format Format) (string, error) {
	if err := g.validate(); err != nil {
		return "", err
	}
	switch {
	case format == AZ && g.Integration == "devops":
		return devopsAZ(g), nil
	case format == AZ:
		return roleAZ(g), nil
	case format == Terraform && g.Integration == "devops":
		return devopsTerraform(g), nil
	case format == Terraform:
		return roleTerraform(g), nil
	case format == ASO && g.Integration == "devops":
		return "", fmt.Errorf("ASO does not manage Azure DevOps (Azure/azure-service-operator#2758): use --format terraform or az")
	case format == ASO:
		return roleASO(g), nil
	}
	return "", fmt.Errorf("unknown format %q", format)
}

func (g GrantSpec) who() string {
	switch {
	case g.Identity.Name != "":
		return "the managed identity " + g.Identity.Name
	case g.ClientID != "":
		return "the identity with client ID " + g.ClientID
	}
	return "the principal " + g.PrincipalID
}

// principalAZ writes the shell lines that set PRINCIPAL_ID, and returns how to use it.
func (g GrantSpec) principalAZ(b *strings.Builder) string {
	switch {
	case g.PrincipalID != "":
		return shellQuote(g.PrincipalID)
	case g.ClientID != "":
		fmt.Fprintf(b, "PRINCIPAL_ID=$(az ad sp show --id %s --query id --output tsv)\n", shellQuote(g.ClientID))
	default:
		fmt.Fprintf(b, "PRINCIPAL_ID=$(az identity show%s --query principalId --output tsv)\n", azIdentityArgs(g.Identity))
	}
	return `"$PRINCIPAL_ID"`
}

func roleAZ(g GrantSpec) string {
	role := Roles[g.Integration]
	var b strings.Builder
	fmt.Fprintf(&b, "# Grant %s the role %s (%s) on %s.\n", g.who(), role.Name, role.ID, g.Scope)
	p := g.principalAZ(&b)
	fmt.Fprintf(&b, "az role assignment create --assignee-object-id %s --assignee-principal-type ServicePrincipal \\\n  --role %s --scope %s\n",
		p, role.ID, shellQuote(g.Scope))
	return b.String()
}

// principalTerraform writes the data sources that find the service principal, and returns the
// expression of its object ID.
func (g GrantSpec) principalTerraform(b *strings.Builder) string {
	if g.PrincipalID != "" {
		return hclString(g.PrincipalID)
	}
	clientID := hclString(g.ClientID)
	name := hclName(g.ClientID)
	if g.ClientID == "" {
		name = hclName(g.Identity.Name)
		fmt.Fprintf(b, "data \"azurerm_user_assigned_identity\" %s {\n  name                = %s\n  resource_group_name = %s\n}\n\n",
			hclString(name), hclString(g.Identity.Name), hclString(g.Identity.ResourceGroup))
		clientID = "data.azurerm_user_assigned_identity." + name + ".client_id"
	}
	fmt.Fprintf(b, "# The identity's service principal, found by its client ID.\n")
	fmt.Fprintf(b, "data \"azuread_service_principal\" %s {\n  client_id = %s\n}\n\n", hclString(name), clientID)
	return "data.azuread_service_principal." + name + ".object_id"
}

func roleTerraform(g GrantSpec) string {
	role := Roles[g.Integration]
	var b strings.Builder
	fmt.Fprintf(&b, "# Grant %s the role %s on %s.\n", g.who(), role.Name, g.Scope)
	p := g.principalTerraform(&b)
	fmt.Fprintf(&b, "resource \"azurerm_role_assignment\" %s {\n", hclString(hclName(g.principalName(), g.Integration)))
	fmt.Fprintf(&b, "  scope              = %s\n", hclString(g.Scope))
	fmt.Fprintf(&b, "  role_definition_id = %s # %s\n", hclString(role.DefinitionID()), role.Name)
	fmt.Fprintf(&b, "  principal_id       = %s\n", p)
	fmt.Fprintf(&b, "  principal_type     = \"ServicePrincipal\"\n}\n")
	return b.String()
}

func (g GrantSpec) principalName() string {
	switch {
	case g.Identity.Name != "":
		return g.Identity.Name
	case g.ClientID != "":
		return g.ClientID
	}
	return g.PrincipalID
}

func roleASO(g GrantSpec) string {
	role := Roles[g.Integration]
	ns := g.ASONamespace
	if ns == "" {
		ns = "default"
	}
	principal := g.PrincipalID
	var b strings.Builder
	fmt.Fprintf(&b, "# Grant %s the role %s on %s.\n", g.who(), role.Name, g.Scope)
	if principal == "" {
		principal = "PRINCIPAL_ID"
		if g.ClientID != "" {
			fmt.Fprintf(&b, "# Replace PRINCIPAL_ID: az ad sp show --id %s --query id --output tsv\n", g.ClientID)
		} else {
			fmt.Fprintf(&b, "# Replace PRINCIPAL_ID: az identity show%s --query principalId --output tsv\n", azIdentityArgs(g.Identity))
		}
	}
	fmt.Fprintf(&b, `apiVersion: authorization.azure.com/v1api20220401
kind: RoleAssignment
metadata:
  name: %s
  namespace: %s
spec:
  owner:
    armId: %s
  principalId: %s
  principalType: ServicePrincipal
  roleDefinitionReference:
    armId: %s
`, strings.ReplaceAll(hclName(g.principalName(), g.Integration), "_", "-"), ns, g.Scope, yamlString(principal), role.DefinitionID())
	return b.String()
}

func devopsAZ(g GrantSpec) string {
	org := "https://dev.azure.com/" + g.Organization
	var b strings.Builder
	fmt.Fprintf(&b, "# Add %s to the group %s of the Azure DevOps project %s/%s.\n", g.who(), g.Group, g.Organization, g.Project)
	b.WriteString("az devops login --organization " + shellQuote(org) + "\n")
	fmt.Fprintf(&b, "az devops configure --defaults organization=%s project=%s\n", shellQuote(org), shellQuote(g.Project))
	p := g.principalAZ(&b)
	b.WriteString("# Onboard the service principal into the organization (Service Principal Entitlements).\n")
	body := `'{"accessLevel":{"accountLicenseType":"express"},"servicePrincipal":{"origin":"aad","originId":"'` + p + `'","subjectKind":"servicePrincipal"}}'`
	fmt.Fprintf(&b, "az rest --method post --resource %s \\\n  --uri %s \\\n  --body %s\n",
		DevOpsResource, shellQuote("https://vsaex.dev.azure.com/"+g.Organization+"/_apis/serviceprincipalentitlements?api-version=7.1-preview.1"), body)
	b.WriteString("# Its member descriptor (Querying Subjects).\n")
	query := `'{"query":"'` + p + `'","subjectKind":["ServicePrincipal"]}'`
	fmt.Fprintf(&b, "MEMBER_ID=$(az rest --method post --resource %s \\\n  --uri %s \\\n  --body %s \\\n  --query 'value[0].descriptor' --output tsv)\n",
		DevOpsResource, shellQuote("https://vssps.dev.azure.com/"+g.Organization+"/_apis/graph/subjectquery?api-version=7.1-preview.1"), query)
	fmt.Fprintf(&b, "GROUP_ID=$(az devops security group list --project %s --query %s --output tsv)\n",
		shellQuote(g.Project), shellQuote("graphGroups[?displayName=='"+g.Group+"'].descriptor | [0]"))
	b.WriteString("az devops security group membership add --group-id \"$GROUP_ID\" --member-id \"$MEMBER_ID\"\n")
	return b.String()
}

func devopsTerraform(g GrantSpec) string {
	var b strings.Builder
	name := hclName(g.principalName())
	fmt.Fprintf(&b, "# Add %s to the group %s of the Azure DevOps project %s/%s.\n", g.who(), g.Group, g.Organization, g.Project)
	fmt.Fprintf(&b, "provider \"azuredevops\" {\n  org_service_url = %s\n}\n\n", hclString("https://dev.azure.com/"+g.Organization))
	p := g.principalTerraform(&b)
	fmt.Fprintf(&b, "resource \"azuredevops_service_principal_entitlement\" %s {\n  origin    = \"aad\"\n  origin_id = %s\n}\n\n", hclString(name), p)
	project := hclName(g.Project)
	fmt.Fprintf(&b, "data \"azuredevops_project\" %s {\n  name = %s\n}\n\n", hclString(project), hclString(g.Project))
	group := hclName(g.Project, g.Group)
	fmt.Fprintf(&b, "data \"azuredevops_group\" %s {\n  project_id = data.azuredevops_project.%s.id\n  name       = %s\n}\n\n", hclString(group), project, hclString(g.Group))
	fmt.Fprintf(&b, "resource \"azuredevops_group_membership\" %s {\n  group   = data.azuredevops_group.%s.descriptor\n  members = [azuredevops_service_principal_entitlement.%s.descriptor]\n}\n",
		hclString(hclName(g.principalName(), g.Project, g.Group)), group, name)
	return b.String()
}
