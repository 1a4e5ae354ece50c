package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/spf13/cobra"

	"github.com/azimuth-gitops/azimuth/internal/setup"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

func newSetupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Write what Azure needs for Azimuth: federated credentials, roles, the controller's identity",
		Long: `Print, as az commands, Terraform/OpenTofu or Azure Service Operator resources (--format), what
the Azure side needs: the federated credential and annotated service account of a workload
identity (identity), the role or Azure DevOps group an integration needs (grant), and the
kustomize overlay that gives the controller its own identity (controller), and the least-privilege
plan of all of a cluster's Flux objects at once (plan). Only plan --apply changes anything.`,
	}
	cmd.AddCommand(newSetupIdentityCmd(), newSetupGrantCmd(), newSetupControllerCmd(), newSetupPlanCmd())
	return cmd
}

func formatFlag(cmd *cobra.Command, format *string) {
	cmd.Flags().StringVar(format, "format", "az", "output: az (commands), terraform (Terraform/OpenTofu) or aso (Azure Service Operator resources)")
}

func newSetupIdentityCmd() *cobra.Command {
	var (
		f      setup.Federation
		format string
	)
	cmd := &cobra.Command{
		Use:   "identity --identity-name NAME --resource-group RG --issuer URL --namespace NS --service-account SA",
		Short: "Let a service account act as a managed identity: federated credential and annotated service account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fm, err := setup.ParseFormat(format)
			if err != nil {
				return err
			}
			out, err := setup.Identity(f, fm)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), out)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.Identity.Name, "identity-name", "", "name of the user-assigned managed identity (required)")
	fs.StringVar(&f.Identity.ResourceGroup, "resource-group", "", "resource group of the managed identity (required)")
	fs.StringVar(&f.Identity.Subscription, "subscription", "", "subscription ID of the managed identity; default: the current one")
	fs.StringVar(&f.Issuer, "issuer", "", "the cluster's OIDC issuer URL, exactly as its tokens spell it (required)")
	fs.StringVarP(&f.Namespace, "namespace", "n", "", "namespace of the service account (required)")
	fs.StringVar(&f.ServiceAccount, "service-account", "", "service account, as the objects' spec.serviceAccountName (required)")
	fs.StringVar(&f.Name, "credential-name", "", "name of the federated credential; default: NAMESPACE-SERVICE_ACCOUNT")
	fs.StringVar(&f.ClientID, "client-id", "", "client ID of the identity, for the annotation; default: looked up")
	fs.StringVar(&f.TenantID, "tenant-id", "", "tenant ID of the identity, for the annotation; default: looked up")
	fs.StringVar(&f.ASONamespace, "aso-namespace", "", "namespace of the ASO resources; default: the service account's")
	formatFlag(cmd, &format)
	for _, name := range []string{"identity-name", "resource-group", "issuer", "namespace", "service-account"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func newSetupGrantCmd() *cobra.Command {
	var (
		g      setup.GrantSpec
		format string
	)
	cmd := &cobra.Command{
		Use:   "grant --integration acr|blob|keyvault|eventhubs|devops (--identity-name NAME --resource-group RG | --client-id ID) (--scope ID | --organization ORG --project P --group G)",
		Short: "Grant an identity what an integration needs: its role at a scope, or its Azure DevOps group",
		Long: `Grant an identity the role an integration needs at a scope: AcrPull (acr), Storage Blob Data
Reader (blob), Key Vault Crypto User (keyvault), Azure Event Hubs Data Sender (eventhubs). The scope
is a resource, resource group, subscription or management group ID. For Azure DevOps (devops), onboard
the identity's service principal into the organization and add it to a project group: Readers for
GitRepository, Contributors for ImageUpdateAutomation and commit statuses.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fm, err := setup.ParseFormat(format)
			if err != nil {
				return err
			}
			out, err := setup.Grant(g, fm)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), out)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&g.Integration, "integration", "", "acr, blob, keyvault, eventhubs or devops (required)")
	fs.StringVar(&g.Identity.Name, "identity-name", "", "name of the user-assigned managed identity")
	fs.StringVar(&g.Identity.ResourceGroup, "resource-group", "", "resource group of the managed identity")
	fs.StringVar(&g.Identity.Subscription, "subscription", "", "subscription ID of the managed identity")
	fs.StringVar(&g.ClientID, "client-id", "", "client ID of the identity (instead of --identity-name)")
	fs.StringVar(&g.PrincipalID, "principal-id", "", "object ID of the identity's service principal, when known")
	fs.StringVar(&g.Scope, "scope", "", "resource, resource group, subscription or management group ID")
	fs.StringVar(&g.Organization, "organization", "", "Azure DevOps organization")
	fs.StringVar(&g.Project, "project", "", "Azure DevOps project")
	fs.StringVar(&g.Group, "group", "Readers", "Azure DevOps group: Readers or Contributors")
	fs.StringVar(&g.ASONamespace, "aso-namespace", "", "namespace of the ASO resources; default: default")
	formatFlag(cmd, &format)
	_ = cmd.MarkFlagRequired("integration")
	return cmd
}

func newSetupControllerCmd() *cobra.Command {
	var (
		c       setup.ControllerSpec
		cluster string
	)
	cmd := &cobra.Command{
		Use:   "controller --cluster aks|other|app-certificate --client-id ID --tenant-id ID",
		Short: "Write the kustomize overlay of config/ that gives the controller its own identity",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.Cluster = setup.Cluster(cluster)
			out, err := setup.Controller(c)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), out)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cluster, "cluster", "", "aks (workload identity webhook), other (projected token), or app-certificate (required)")
	fs.StringVar(&c.ClientID, "client-id", "", "client ID of the identity (required)")
	fs.StringVar(&c.TenantID, "tenant-id", "", "tenant ID of the identity (required)")
	fs.StringVar(&c.Cloud, "cloud", "public", "public, usgov or china: sets AZURE_AUTHORITY_HOST")
	fs.StringVar(&c.Resources, "resources", "../config", "path from the overlay to Azimuth's config/")
	fs.BoolVar(&c.FeatureGate, "feature-gate", false, "add --feature-gates=ObjectLevelWorkloadIdentity=true (config/ passes it already)")
	fs.StringVar(&c.CertificateSecret, "certificate-secret", "azimuth-app-certificate", "secret in flux-system with key cert-and-key (app-certificate)")
	fs.BoolVar(&c.CertificatePassword, "certificate-password", false, "read the key's password from the secret's key-password (app-certificate)")
	fs.BoolVar(&c.SendCertificateChain, "send-certificate-chain", false, "send the certificate chain (app-certificate)")
	for _, name := range []string{"cluster", "client-id", "tenant-id"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

// planFlags are setup plan's flags.
type planFlags struct {
	files                 []string
	fromCluster           bool
	namespace, kubeconfig string
	format                string
	opts                  setup.PlanOptions
	identities, groupsOf  []string
	controllerClientID    string
	apply                 bool
	network               identityFlags
}

func newSetupPlanCmd() *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan (--from-cluster [-n NS] | -f FILE_OR_DIR... --issuer URL) [--subscription ID --resource-group RG] [--apply]",
		Short: "Print (or apply) the least privilege for every Flux object of a cluster: federated credentials, roles, Azure DevOps groups",
		Long: `Read the Flux objects of a cluster (--from-cluster, every namespace or -n) or of manifests (-f), and
print the least-privilege plan for all of them at once: one federated credential per service account
an object acts as (for the cluster's --issuer), each role at the narrowest scope that covers what the
objects name (a registry, a blob container, a Key Vault key, an event hub), and the Azure DevOps
group per project (Readers for GitRepositories, Contributors for ImageUpdateAutomations and
azuredevops Providers), each once. Objects that use a secret get a note instead.

Scopes are ARM IDs with --subscription and --resource-group (--resource-group-of NAME=GROUP for a
resource elsewhere); otherwise they are looked up by name. With --apply, the plan is applied through
Azure Resource Manager and Azure DevOps' REST API with the credential of AZURE_TENANT_ID,
AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH): missing federated
credentials, role assignments and Azure DevOps group memberships (with the organization
entitlement; the credential must be a Project Collection Administrator) are created, existing ones
reported as present.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSetupPlan(cmd, &f) },
	}
	fs := cmd.Flags()
	fs.StringArrayVarP(&f.files, "filename", "f", nil, "manifest file or directory (read recursively); repeatable")
	fs.BoolVar(&f.fromCluster, "from-cluster", false, "read the objects from the cluster of the kubeconfig")
	fs.StringVarP(&f.namespace, "namespace", "n", "", "with --from-cluster, read this namespace only; default: every namespace")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file; default: $KUBECONFIG or ~/.kube/config")
	fs.StringVar(&f.opts.Issuer, "issuer", "", "the cluster's OIDC issuer URL, exactly as its tokens spell it (required when an object names a service account); with --from-cluster, default: the API server's /.well-known/openid-configuration")
	fs.StringVar(&f.opts.Subscription, "subscription", "", "subscription ID of the resources and identities; default: looked up")
	fs.StringVar(&f.opts.ResourceGroup, "resource-group", "", "resource group of the resources; default: looked up")
	fs.StringArrayVar(&f.groupsOf, "resource-group-of", nil, "NAME=GROUP: the resource group of the registry, storage account, vault or Event Hubs namespace NAME; repeatable")
	fs.StringArrayVar(&f.identities, "identity", nil, "CLIENT_ID=GROUP/NAME: the managed identity with that client ID, for its federated credentials; repeatable (--apply finds them itself)")
	fs.StringVar(&f.controllerClientID, "controller-client-id", "", "client ID of the controller's own identity, for objects that name no service account; default: read from the cluster")
	fs.StringVar(&f.opts.DefaultServiceAccount, "default-service-account", "", "the controller's --default-service-account (lockdown): objects that name no service account act as it")
	fs.StringVar(&f.opts.DefaultDecryptionServiceAccount, "default-decryption-service-account", "", "the controller's --default-decryption-service-account")
	fs.StringArrayVar(&f.opts.SOPSKeys, "sops-key", nil, "Key Vault key (https://VAULT.vault.azure.net/keys/NAME) or vault the Kustomizations' SOPS files name; repeatable (-f reads it from SOPS files)")
	fs.StringVar(&f.opts.ASONamespace, "aso-namespace", "", "namespace of the ASO resources; default: the service account's, and default for role assignments")
	fs.BoolVar(&f.apply, "apply", false, "apply the plan through Azure Resource Manager (management.azure.com) and Azure DevOps (vsaex/vssps.dev.azure.com) with the credential of AZURE_* variables")
	// How --apply reaches Azure, as the controller's flags of the same names.
	fs.StringArrayVar(&f.network.connectTo, "connect-to", nil,
		"with --apply, send connections for HOST:PORT to ADDR:PORT instead, as HOST:PORT:ADDR:PORT; repeatable; "+connectToEnv+" adds more")
	fs.StringVar(&f.network.caFile, "ca-file", "", "with --apply, PEM file of CA certificates trusted on top of the system roots, such as the local Azure's ca.pem")
	formatFlag(cmd, &f.format)
	cmd.MarkFlagsMutuallyExclusive("from-cluster", "filename")
	cmd.MarkFlagsOneRequired("from-cluster", "filename")
	return cmd
}

func runSetupPlan(cmd *cobra.Command, f *planFlags) error {
	format, err := setup.ParseFormat(f.format)
	if err != nil {
		return err
	}
	if f.opts.Subscription != "" && !guidPattern.MatchString(f.opts.Subscription) {
		return fmt.Errorf("--subscription %q is not a subscription ID (a GUID)", f.opts.Subscription)
	}
	if f.apply && f.opts.Subscription == "" {
		return fmt.Errorf("--apply needs --subscription, the subscription ID of the resources and identities")
	}
	for _, v := range f.identities {
		id, err := parseIdentityFlag(v, f.opts.Subscription)
		if err != nil {
			return err
		}
		f.opts.Identities = append(f.opts.Identities, id)
	}
	f.opts.ResourceGroups = map[string]string{}
	for _, v := range f.groupsOf {
		name, group, ok := strings.Cut(v, "=")
		if !ok || name == "" || group == "" {
			return fmt.Errorf("--resource-group-of %q: write NAME=GROUP, such as myreg=shared", v)
		}
		f.opts.ResourceGroups[strings.ToLower(name)] = group
	}
	var m *setup.Manifests
	if f.fromCluster {
		kube, _, err := kubeClient(f.kubeconfig, "default")
		if err != nil {
			return err
		}
		var controller setup.KnownIdentity
		if m, controller, err = setup.ReadCluster(cmd.Context(), kube, f.namespace); err != nil {
			return err
		}
		f.opts.Controller = controller
		if f.opts.Issuer == "" {
			cfg, _, err := kubeRESTConfig(f.kubeconfig)
			if err != nil {
				return err
			}
			if f.opts.Issuer, err = setup.ClusterIssuer(cmd.Context(), cfg); err != nil {
				return err
			}
		}
	} else if m, err = setup.ReadManifests(f.files...); err != nil {
		return err
	}
	if f.controllerClientID != "" {
		if !guidPattern.MatchString(f.controllerClientID) {
			return fmt.Errorf("--controller-client-id %q is not a client ID (a GUID)", f.controllerClientID)
		}
		f.opts.Controller = setup.KnownIdentity{ClientID: f.controllerClientID}
	}
	f.opts.NamespaceSOPSKeys = m.SOPSKeys
	if f.apply {
		return applySetupPlan(cmd, f, m)
	}
	p, err := setup.NewPlan(m.Objects, f.opts)
	if err != nil {
		return err
	}
	p.Notes = append(p.Notes, m.Notes...)
	out, err := p.Render(format)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(cmd.OutOrStdout(), out)
	return err
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// parseIdentityFlag reads --identity CLIENT_ID=GROUP/NAME.
func parseIdentityFlag(v, subscription string) (setup.KnownIdentity, error) {
	clientID, rest, ok := strings.Cut(v, "=")
	group, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || !guidPattern.MatchString(clientID) || group == "" || name == "" || strings.Contains(name, "/") {
		return setup.KnownIdentity{}, fmt.Errorf("--identity %q: write CLIENT_ID=RESOURCE_GROUP/NAME, such as 213d8012-7eed-4f6d-a0db-54570c6d6f89=flux/flux-tenant-a", v)
	}
	return setup.KnownIdentity{ClientID: clientID, ManagedIdentity: setup.ManagedIdentity{Name: name, ResourceGroup: group, Subscription: subscription}}, nil
}

// applySetupPlan applies the plan with the caller's credential from the environment
// (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH).
func applySetupPlan(cmd *cobra.Command, f *planFlags, m *setup.Manifests) error {
	t, err := f.network.transportOptions()
	if err != nil {
		return err
	}
	rt, err := transport.New(&t)
	if err != nil {
		return err
	}
	cred, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{
		ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: rt}},
	})
	if err != nil {
		return fmt.Errorf("--apply signs in with AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH): %w", err)
	}
	out := cmd.OutOrStdout()
	for _, n := range m.Notes {
		fmt.Fprintf(out, "note: %s\n", n)
	}
	p, err := setup.Apply(cmd.Context(), m.Objects, f.opts, setup.ApplyOptions{Credential: cred, Subscription: f.opts.Subscription, Transport: &t, Out: out})
	if p != nil {
		for _, n := range p.Notes {
			fmt.Fprintf(out, "note: %s\n", n)
		}
	}
	return err
}
