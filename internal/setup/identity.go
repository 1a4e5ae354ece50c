package setup

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Federation is a service account acting as a managed identity.
type Federation struct {
	Identity ManagedIdentity
	// Issuer is the cluster's OIDC issuer URL, exactly as its tokens' iss claim spells it
	// (Entra compares it byte for byte, trailing slash included).
	Issuer         string
	Namespace      string
	ServiceAccount string
	// Name is the federated credential's name. Default: NAMESPACE-SERVICEACCOUNT.
	Name string
	// ClientID and TenantID are the identity's, for the service account's annotations. When
	// empty, the az output looks them up, Terraform reads them from a data source, and ASO
	// output leaves CLIENT_ID and TENANT_ID to fill in.
	ClientID, TenantID string
	// ASONamespace is the namespace of ASO resources. Default: the service account's.
	ASONamespace string
}

// Subject is the subject of the service account's tokens.
func (f Federation) Subject() string {
	return "system:serviceaccount:" + f.Namespace + ":" + f.ServiceAccount
}

// name is the credential's name: Azure allows letters, digits, '-' and '_', 3 to 120 of them,
// so the default turns a service account's dots into '-' and is cut at 120.
func (f Federation) name() string {
	if f.Name != "" {
		return f.Name
	}
	n := strings.ReplaceAll(f.Namespace+"-"+f.ServiceAccount, ".", "-")
	return n[:min(len(n), 120)]
}

// credentialName is what Azure accepts as a federated credential's name.
var credentialName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$`)

func (f Federation) validate() error {
	if err := f.Identity.validate(); err != nil {
		return err
	}
	u, err := url.Parse(f.Issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("the issuer %q is not an https URL: give the cluster's OIDC issuer URL (az aks show --query oidcIssuerProfile.issuerUrl, or kubectl get --raw /.well-known/openid-configuration)", f.Issuer)
	}
	if !k8sName.MatchString(f.Namespace) || !k8sName.MatchString(f.ServiceAccount) {
		return fmt.Errorf("namespace %q and service account %q must be Kubernetes names", f.Namespace, f.ServiceAccount)
	}
	for _, id := range []string{f.ClientID, f.TenantID} {
		if id != "" && !guid.MatchString(id) {
			return fmt.Errorf("%q is not a client or tenant ID (a GUID)", id)
		}
	}
	if !credentialName.MatchString(f.name()) {
		return fmt.Errorf("the federated credential's name %q: Azure allows letters, digits, '-' and '_', 3 to 120 of them (--name)", f.name())
	}
	return nil
}

// Identity writes the federated credential and the annotated service account in format.
func Identity(f Federation, format Format) (string, error) {
	if err := f.validate(); err != nil {
		return "", err
	}
	switch format {
	case AZ:
		return identityAZ(f), nil
	case Terraform:
		return identityTerraform(f), nil
	case ASO:
		return identityASO(f), nil
	}
	return "", fmt.Errorf("unknown format %q", format)
}

func azIdentityArgs(m ManagedIdentity) string {
	s := " --name " + shellQuote(m.Name) + " --resource-group " + shellQuote(m.ResourceGroup)
	if m.Subscription != "" {
		s += " --subscription " + shellQuote(m.Subscription)
	}
	return s
}

// serviceAccountYAML is the service account with its annotations.
func serviceAccountYAML(f Federation, clientID, tenantID string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: %s
  namespace: %s
  annotations:
    %s: %s
    %s: %s
`, f.ServiceAccount, f.Namespace, ClientIDAnnotation, clientID, TenantIDAnnotation, tenantID)
}

func identityAZ(f Federation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Let service account %s/%s act as the managed identity %s.\n", f.Namespace, f.ServiceAccount, f.Identity.Name)
	fmt.Fprintf(&b, "az identity federated-credential create --name %s --identity-name %s --resource-group %s",
		shellQuote(f.name()), shellQuote(f.Identity.Name), shellQuote(f.Identity.ResourceGroup))
	if f.Identity.Subscription != "" {
		fmt.Fprintf(&b, " --subscription %s", shellQuote(f.Identity.Subscription))
	}
	fmt.Fprintf(&b, " \\\n  --issuer %s --subject %s --audiences %s\n\n",
		shellQuote(f.Issuer), shellQuote(f.Subject()), shellQuote(ExchangeAudience))
	clientID, tenantID := f.ClientID, f.TenantID
	if clientID == "" || tenantID == "" {
		b.WriteString("# The identity's client ID and tenant ID, for the service account.\n")
		if clientID == "" {
			fmt.Fprintf(&b, "CLIENT_ID=$(az identity show%s --query clientId --output tsv)\n", azIdentityArgs(f.Identity))
			clientID = "${CLIENT_ID}"
		}
		if tenantID == "" {
			fmt.Fprintf(&b, "TENANT_ID=$(az identity show%s --query tenantId --output tsv)\n", azIdentityArgs(f.Identity))
			tenantID = "${TENANT_ID}"
		}
		b.WriteString("\n")
	}
	b.WriteString("# The service account, annotated with the identity it acts as.\n")
	quote := "'EOF'"
	if clientID != f.ClientID || tenantID != f.TenantID {
		quote = "EOF" // expand CLIENT_ID and TENANT_ID
	}
	fmt.Fprintf(&b, "kubectl apply -f - <<%s\n%sEOF\n", quote, serviceAccountYAML(f, clientID, tenantID))
	return b.String()
}

func identityTerraform(f Federation) string {
	id := hclName(f.Identity.Name)
	res := hclName(f.Namespace, f.ServiceAccount)
	var b strings.Builder
	fmt.Fprintf(&b, "# Let service account %s/%s act as the managed identity %s.\n", f.Namespace, f.ServiceAccount, f.Identity.Name)
	fmt.Fprintf(&b, "data \"azurerm_user_assigned_identity\" %s {\n  name                = %s\n  resource_group_name = %s\n}\n\n",
		hclString(id), hclString(f.Identity.Name), hclString(f.Identity.ResourceGroup))
	// azurerm 5 names the identity with user_assigned_identity_id (4.x's parent_id and
	// resource_group_name are gone).
	fmt.Fprintf(&b, "resource \"azurerm_federated_identity_credential\" %s {\n", hclString(res))
	fmt.Fprintf(&b, "  name                      = %s\n", hclString(f.name()))
	fmt.Fprintf(&b, "  user_assigned_identity_id = data.azurerm_user_assigned_identity.%s.id\n", id)
	fmt.Fprintf(&b, "  audience                  = [%s]\n", hclString(ExchangeAudience))
	fmt.Fprintf(&b, "  issuer                    = %s\n", hclString(f.Issuer))
	fmt.Fprintf(&b, "  subject                   = %s\n}\n\n", hclString(f.Subject()))
	clientID, tenantID := f.ClientID, f.TenantID
	if clientID == "" {
		clientID = "${data.azurerm_user_assigned_identity." + id + ".client_id}"
	}
	if tenantID == "" {
		tenantID = "${data.azurerm_user_assigned_identity." + id + ".tenant_id}"
	}
	b.WriteString("# The service account to apply to the cluster, annotated with the identity it acts as.\n")
	fmt.Fprintf(&b, "output %s {\n  value = <<-EOT\n", hclString("service_account_"+res))
	for _, line := range strings.SplitAfter(serviceAccountYAML(f, clientID, tenantID), "\n") {
		if line != "" {
			b.WriteString("    " + line)
		}
	}
	b.WriteString("  EOT\n}\n")
	return b.String()
}

func identityASO(f Federation) string {
	ns := f.ASONamespace
	if ns == "" {
		ns = f.Namespace
	}
	clientID, tenantID := f.ClientID, f.TenantID
	if clientID == "" {
		clientID = "CLIENT_ID"
	}
	if tenantID == "" {
		tenantID = "TENANT_ID"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Let service account %s/%s act as the managed identity %s.\n", f.Namespace, f.ServiceAccount, f.Identity.Name)
	fmt.Fprintf(&b, `apiVersion: managedidentity.azure.com/v1api20230131
kind: FederatedIdentityCredential
metadata:
  name: %s
  namespace: %s
spec:
  owner:
    armId: %s
  audiences:
    - %s
  issuer: %s
  subject: %s
---
`, f.name(), ns, f.Identity.ResourceID(), ExchangeAudience, yamlString(f.Issuer), yamlString(f.Subject()))
	if f.ClientID == "" || f.TenantID == "" {
		fmt.Fprintf(&b, "# Replace CLIENT_ID and TENANT_ID: az identity show%s --query '[clientId,tenantId]' --output tsv\n", azIdentityArgs(f.Identity))
	}
	b.WriteString(serviceAccountYAML(f, clientID, tenantID))
	return b.String()
}
