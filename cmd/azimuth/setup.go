package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/azimuth-gitops/azimuth/internal/setup"
)

func newSetupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Write what Azure needs for Azimuth: federated credentials, roles, the controller's identity",
		Long: `Print, as az commands, Terraform/OpenTofu or Azure Service Operator resources (--format), what
the Azure side needs: the federated credential and annotated service account of a workload
identity (identity), the role or Azure DevOps group an integration needs (grant), and the
kustomize overlay that gives the controller its own identity (controller). Nothing is applied.`,
	}
	cmd.AddCommand(newSetupIdentityCmd(), newSetupGrantCmd(), newSetupControllerCmd())
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
