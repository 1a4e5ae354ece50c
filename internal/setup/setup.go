// Package setup generates what the Azure side of Azimuth needs, in the seed's three ways: az CLI
// commands, Terraform/OpenTofu, and Azure Service Operator (ASO) custom resources. It generates
// text, except Plan's ReadCluster (reads Flux objects through the kube client) and Apply (writes
// federated credentials and role assignments through Azure Resource Manager). Plan is the least
// privilege for a whole cluster's objects (NeedsOf maps one object to the identity and the
// resource it reaches).
//
// Identity is the federated credential that lets a service account act as a managed identity,
// with the service account and its annotations; Grant is the role an integration needs at a
// scope, or for Azure DevOps the organization entitlement and the group membership; Controller
// is the kustomize overlay that gives Azimuth's own controller (config/) its identity.
package setup

import (
	"fmt"
	"regexp"
	"strings"
)

// Format is how the output is written.
type Format string

// The formats.
const (
	AZ        Format = "az"
	Terraform Format = "terraform"
	ASO       Format = "aso"
)

// Formats lists the formats, as the flags name them.
var Formats = []Format{AZ, Terraform, ASO}

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q: use az, terraform or aso", s)
}

// ExchangeAudience is the audience of federated credentials and of the Kubernetes tokens they
// trust.
const ExchangeAudience = "api://AzureADTokenExchange"

// The service-account annotations that name the identity to act as.
const (
	ClientIDAnnotation = "azure.workload.identity/client-id"
	TenantIDAnnotation = "azure.workload.identity/tenant-id"
)

// ManagedIdentity names a user-assigned managed identity.
type ManagedIdentity struct {
	Name          string
	ResourceGroup string
	// Subscription is the subscription ID; empty means the az CLI's current one (az) or the
	// provider's (Terraform). ASO needs it.
	Subscription string
}

// ResourceID is the identity's ARM ID, with SUBSCRIPTION_ID for an unknown subscription.
func (m ManagedIdentity) ResourceID() string {
	sub := m.Subscription
	if sub == "" {
		sub = "SUBSCRIPTION_ID"
	}
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/%s", sub, m.ResourceGroup, m.Name)
}

func (m ManagedIdentity) validate() error {
	if m.Name == "" || m.ResourceGroup == "" {
		return fmt.Errorf("the managed identity needs a name and a resource group")
	}
	if m.Subscription != "" && !guid.MatchString(m.Subscription) {
		return fmt.Errorf("subscription %q is not a subscription ID (a GUID)", m.Subscription)
	}
	return nil
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// k8sName is what a Kubernetes namespace or service account name may be, loosely.
var k8sName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// hclString quotes s as an HCL string literal.
func hclString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "${", "$${", "%{", "%%{")
	return `"` + r.Replace(s) + `"`
}

// hclName turns s into a Terraform resource name.
func hclName(parts ...string) string {
	s := strings.ToLower(strings.Join(parts, "_"))
	s = regexp.MustCompile(`[^a-z0-9_]+`).ReplaceAllString(s, "_")
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "x" + s
	}
	return s
}

// yamlString quotes s for YAML (JSON strings are YAML).
func yamlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
