package setupcheck

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The arguments each block may set, from the providers' documentation (registry.terraform.io
// pages "Argument Reference", the versions named). Only what `azimuth setup` may write, and its
// documented neighbours, is listed: a name outside these lists fails, so a misspelled or
// removed argument is caught.
var (
	// resources by type.
	resourceArgs = map[string][]string{
		// azurerm v5.12.0, r/federated_identity_credential: parent_id and resource_group_name
		// were removed in 5.0 for user_assigned_identity_id.
		"azurerm_federated_identity_credential": {"name", "user_assigned_identity_id", "audience", "issuer", "subject"},
		// azurerm v5, r/role_assignment.
		"azurerm_role_assignment": {"name", "scope", "role_definition_id", "role_definition_name", "principal_id", "principal_type",
			"condition", "condition_version", "delegated_managed_identity_resource_id", "description", "skip_service_principal_aad_check"},
		// azurerm v5, r/user_assigned_identity.
		"azurerm_user_assigned_identity": {"name", "resource_group_name", "location", "isolation_scope", "tags"},
		// azuredevops v1, r/service_principal_entitlement.
		"azuredevops_service_principal_entitlement": {"origin_id", "origin", "account_license_type", "licensing_source"},
		// azuredevops v1, r/group_membership.
		"azuredevops_group_membership": {"group", "members", "mode"},
	}
	// data sources by type.
	dataArgs = map[string][]string{
		// azurerm v5, d/user_assigned_identity.
		"azurerm_user_assigned_identity": {"name", "resource_group_name"},
		// azurerm v5, d/resources: resources found by type, name, group or tags.
		"azurerm_resources": {"name", "resource_group_name", "type", "required_tags"},
		// azuread v3, d/service_principal: one of client_id, display_name, object_id.
		"azuread_service_principal": {"client_id", "display_name", "object_id"},
		// azuredevops v1, d/project: name or project_id.
		"azuredevops_project": {"name", "project_id"},
		// azuredevops v1, d/group.
		"azuredevops_group": {"project_id", "name"},
	}
	// providers by name.
	providerArgs = map[string][]string{
		// azuredevops v1, the provider's arguments (org_service_url and its ways to authenticate).
		"azuredevops": {"org_service_url", "personal_access_token", "client_id", "tenant_id", "client_secret", "client_secret_path",
			"client_certificate", "client_certificate_path", "client_certificate_password", "use_oidc", "oidc_token", "oidc_token_file_path",
			"oidc_request_url", "oidc_request_token", "use_msi", "use_cli", "alias"},
	}
	// required arguments, "a|b" for one of two, by "resource TYPE" or "data TYPE".
	requiredArgs = map[string][]string{
		"resource azurerm_federated_identity_credential":     {"name", "user_assigned_identity_id", "audience", "issuer", "subject"},
		"resource azurerm_role_assignment":                   {"scope", "principal_id", "role_definition_id|role_definition_name"},
		"resource azuredevops_service_principal_entitlement": {"origin_id"},
		"resource azuredevops_group_membership":              {"group", "members"},
		"data azurerm_user_assigned_identity":                {"name", "resource_group_name"},
		"data azuread_service_principal":                     {"client_id|display_name|object_id"},
		"data azuredevops_project":                           {"name|project_id"},
		"data azuredevops_group":                             {"name"},
		"output":                                             {"value"},
	}
	// meta-arguments Terraform accepts on every resource and data block.
	metaArgs = []string{"count", "for_each", "depends_on", "provider", "lifecycle"}
	// output blocks (Terraform language).
	outputArgs = []string{"value", "description", "sensitive", "depends_on", "ephemeral"}
)

// CheckTerraform parses src with HCL's native syntax and checks every block against the
// providers' documented types and arguments. It returns the blocks found, as "resource TYPE",
// "data TYPE", "provider NAME" or "output".
func CheckTerraform(src []byte, filename string) ([]string, error) {
	if len(src) > maxDocument {
		return nil, fmt.Errorf("%d bytes: larger than %d", len(src), maxDocument)
	}
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, errors.New("not HCL native syntax")
	}
	if len(body.Attributes) > 0 {
		return nil, fmt.Errorf("top-level arguments are not Terraform: %v", keys(body.Attributes))
	}
	var found []string
	var errs []error
	for _, b := range body.Blocks {
		desc, err := checkBlock(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", b.DefRange().String(), err))
			continue
		}
		found = append(found, desc)
	}
	if len(found) == 0 && len(errs) == 0 {
		return nil, errors.New("no block")
	}
	return found, errors.Join(errs...)
}

func checkBlock(b *hclsyntax.Block) (string, error) {
	var allowed []string
	var desc string
	switch b.Type {
	case "resource", "data":
		if len(b.Labels) != 2 {
			return "", fmt.Errorf("%s block with %d labels, want type and name", b.Type, len(b.Labels))
		}
		table := resourceArgs
		if b.Type == "data" {
			table = dataArgs
		}
		args, ok := table[b.Labels[0]]
		if !ok {
			return "", fmt.Errorf("%s type %q is not one setup may write (%v)", b.Type, b.Labels[0], keys(table))
		}
		allowed, desc = append(slices.Clone(args), metaArgs...), b.Type+" "+b.Labels[0]
	case "provider":
		if len(b.Labels) != 1 {
			return "", errors.New("provider block without its name")
		}
		args, ok := providerArgs[b.Labels[0]]
		if !ok {
			return "", fmt.Errorf("provider %q is not one setup configures", b.Labels[0])
		}
		allowed, desc = args, "provider "+b.Labels[0]
	case "output":
		if len(b.Labels) != 1 {
			return "", errors.New("output block without its name")
		}
		allowed, desc = outputArgs, "output"
	default:
		return "", fmt.Errorf("block type %q is not one setup writes", b.Type)
	}
	for name := range b.Body.Attributes {
		if !slices.Contains(allowed, name) {
			return "", fmt.Errorf("%s: argument %q is not documented (%s)", desc, name, strings.Join(allowed, ", "))
		}
	}
	for _, req := range requiredArgs[desc] {
		if !slices.ContainsFunc(strings.Split(req, "|"), func(a string) bool { _, ok := b.Body.Attributes[a]; return ok }) {
			return "", fmt.Errorf("%s: the required argument %s is missing", desc, strings.ReplaceAll(req, "|", " or "))
		}
	}
	for _, nested := range b.Body.Blocks {
		if nested.Type != "lifecycle" && nested.Type != "timeouts" && nested.Type != "precondition" {
			return "", fmt.Errorf("%s: nested block %q is not documented", desc, nested.Type)
		}
	}
	return desc, nil
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
