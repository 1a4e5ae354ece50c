package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/internal/azure/acr"
	"github.com/azimuth-gitops/azimuth/internal/azure/aks"
	"github.com/azimuth-gitops/azimuth/internal/azure/blob"
	"github.com/azimuth-gitops/azimuth/internal/azure/devops"
	"github.com/azimuth-gitops/azimuth/internal/azure/eventhubs"
	"github.com/azimuth-gitops/azimuth/internal/azure/keyvault"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// tokenOptions are the flags of `azimuth token` beyond the controller's identity flags.
type tokenOptions struct {
	kubeconfig     string
	namespace      string
	serviceAccount string
	secret         string
	decryption     bool
	scope          string
	raw            bool
}

func newTokenCmd() *cobra.Command {
	var (
		o     tokenOptions
		flags identityFlags
	)
	cmd := &cobra.Command{
		Use:   "token --scope SCOPE [--namespace NS] [--service-account SA | --secret NAME [--decryption]]",
		Short: "Get an Entra ID token as an object would, and show whose it is",
		Long: `Resolve an identity the way the controller does and get an Entra ID token for it.

With --service-account, the service account's workload identity (this needs
--feature-gates=ObjectLevelWorkloadIdentity=true, as in the controller). With --secret, the
application or managed identity in the secret: a Bucket's secretRef, or with --decryption a
Kustomization's decryption secret (sops.azure-kv). With neither, the controller's own identity,
from the AZURE_* variables of this environment, or the default service account given by
--default-service-account.

It prints the identity, the credential used, the cloud and the token's claims. The token itself
is printed only with --raw, alone on standard output.

SCOPE is a scope such as https://vault.azure.net/.default, or one of the names
` + strings.Join(scopeNames, ", ") + `, which stand for that service's scope in
the identity's cloud.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runToken(cmd, o, &flags)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file; default: $KUBECONFIG or ~/.kube/config")
	fs.StringVarP(&o.namespace, "namespace", "n", "", "namespace of the object; default: the kubeconfig context's")
	fs.StringVar(&o.serviceAccount, "service-account", "", "service account in the namespace (spec.serviceAccountName)")
	fs.StringVar(&o.secret, "secret", "", "secret in the namespace with Azure credentials (spec.secretRef)")
	fs.BoolVar(&o.decryption, "decryption", false, "resolve as a Kustomization's decryption (sops.azure-kv, --default-decryption-service-account)")
	fs.StringVar(&o.scope, "scope", "", "scope of the token (required)")
	fs.BoolVar(&o.raw, "raw", false, "print the token itself, alone on standard output")
	flags.bind(fs)
	cmd.MarkFlagsMutuallyExclusive("service-account", "secret")
	_ = cmd.MarkFlagRequired("scope")
	return cmd
}

func runToken(cmd *cobra.Command, o tokenOptions, flags *identityFlags) error {
	ctx := cmd.Context()
	req := identity.Request{ServiceAccountName: o.serviceAccount, SecretName: o.secret, Decryption: o.decryption}
	idOpts := flags.identityOptions()
	var kube client.Client
	if o.serviceAccount != "" || o.secret != "" || idOpts.DefaultServiceAccount != "" || idOpts.DefaultDecryptionServiceAccount != "" {
		var err error
		if kube, req.Namespace, err = kubeClient(o.kubeconfig, o.namespace); err != nil {
			return err
		}
	}
	resolver, err := identity.NewResolver(kube, &idOpts)
	if err != nil {
		return err
	}
	id, err := resolver.Resolve(ctx, req)
	if gateErr := (*identity.FeatureGateError)(nil); errors.As(err, &gateErr) {
		return fmt.Errorf("%w (this command takes the controller's flags: add --feature-gates=%s=true to it too)", err, identity.FeatureGate)
	}
	if err != nil {
		return fmt.Errorf("resolving the identity: %w", err)
	}
	entraOpts, err := flags.entraOptions()
	if err != nil {
		return err
	}
	cred, err := entra.NewProvider(&entraOpts).Credential(id, nil)
	if err != nil {
		return err
	}
	scope := scopeFor(o.scope, cred.Cloud())
	report := cmd.OutOrStdout()
	if o.raw {
		report = cmd.ErrOrStderr()
	}
	fmt.Fprintf(report, "Identity:    %s\n", id)
	fmt.Fprintf(report, "Credential:  %s\n", cred.Method())
	fmt.Fprintf(report, "Cloud:       %s (%s)\n", cred.Cloud().Name, cred.Cloud().AuthorityHost)
	fmt.Fprintf(report, "Scope:       %s\n", scope)
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		return err
	}
	if o.raw {
		_, err := fmt.Fprintln(cmd.OutOrStdout(), tok.Token)
		return err
	}
	return printClaims(report, tok.Token)
}

// kubeClient reads the kubeconfig as kubectl does and returns a client and the namespace to use:
// the given one, else the current context's.
func kubeClient(kubeconfig, namespace string) (client.Client, string, error) {
	restConfig, config, err := kubeRESTConfig(kubeconfig)
	if err != nil {
		return nil, "", err
	}
	if namespace == "" {
		if namespace, _, err = config.Namespace(); err != nil {
			return nil, "", fmt.Errorf("reading the kubeconfig's namespace (set --namespace): %w", err)
		}
	}
	c, err := client.New(restConfig, client.Options{})
	if err != nil {
		return nil, "", fmt.Errorf("connecting to the cluster: %w", err)
	}
	return c, namespace, nil
}

// kubeRESTConfig reads the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).
func kubeRESTConfig(kubeconfig string) (*rest.Config, clientcmd.ClientConfig, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	config := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	restConfig, err := config.ClientConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the kubeconfig (set --kubeconfig or KUBECONFIG): %w", err)
	}
	return restConfig, config, nil
}

// scopeNames are the short names --scope accepts, in the order the help lists them.
var scopeNames = []string{"acr", "storage", "keyvault", "eventhubs", "devops", "aks", "management"}

// serviceScopes asks each service's adapter for its scope in a cloud.
var serviceScopes = map[string]func(entra.Cloud) string{
	"acr":       acr.ScopeFor,
	"storage":   blob.ScopeFor,
	"keyvault":  keyvault.ScopeFor,
	"eventhubs": eventhubs.ScopeFor,
	"devops":    devops.ScopeFor,
	// An AKS API server's, for spec.kubeConfig.configMapRef: the same in every cloud.
	"aks": func(entra.Cloud) string { return aks.ServerScope },
	"management": func(c entra.Cloud) string {
		rm, _ := c.Service(entra.ResourceManager)
		return rm.Scope()
	},
}

// scopeFor expands a short scope name for cloud; any other value is a scope already.
func scopeFor(scope string, cloud entra.Cloud) string {
	if f, ok := serviceScopes[strings.ToLower(scope)]; ok {
		return f(cloud)
	}
	return scope
}

// printClaims prints the claims of token that say whose it is and for what. They are read without
// verifying the signature: Entra ID just issued the token, and only the services check it.
func printClaims(w io.Writer, token string) error {
	claims, err := decodeClaims(token)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Claims (the token is not shown; use --raw):")
	for _, name := range []string{"aud", "iss", "oid", "tid", "appid"} {
		if v, ok := claims[name]; ok {
			fmt.Fprintf(w, "  %-6s %v\n", name, v)
		}
	}
	if exp, ok := claims["exp"].(json.Number); ok {
		if secs, err := exp.Int64(); err == nil {
			fmt.Fprintf(w, "  %-6s %s\n", "exp", time.Unix(secs, 0).UTC().Format(time.RFC3339))
		}
	}
	return nil
}

func decodeClaims(token string) (map[string]any, error) {
	var claims map[string]any
	if err := entra.ReadClaims(token, &claims); err != nil {
		return nil, fmt.Errorf("the token cannot be shown: %w; print it with --raw", err)
	}
	return claims, nil
}
