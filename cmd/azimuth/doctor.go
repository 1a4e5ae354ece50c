package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azimuth-gitops/azimuth/internal/doctor"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// errChainBroken is doctor's error when a link is broken, after the report.
var errChainBroken = errors.New("a link of the chain is broken: see the fix under it")

func newDoctorCmd() *cobra.Command {
	var (
		kubeconfig, output, key, fedIssuer, fedSubject string
		flags                                          identityFlags
	)
	cmd := &cobra.Command{
		Use:   "doctor KIND NAMESPACE/NAME",
		Short: "Walk the chain from an object to Azure and say which link is broken, and the fix",
		Long: `Check, link by link, how an object authenticates to Azure, as the controller does: its
provider and auth fields, the feature gate, the service account and its annotations, the
TokenRequest, Microsoft Entra ID's exchange (AADSTS codes explained), and the service's answer
(its role). Each link is printed with ✔ or ✘, and a broken link with the command that repairs it.
Exit 0 when every link holds.

KIND is one of ` + strings.Join(doctor.Kinds(), ", ") + `. The service is asked with its
cheapest call: ACR a tag list, Blob a listing of one blob, Azure DevOps the refs (info/refs of
git-upload-pack, or of git-receive-pack for an ImageUpdateAutomation's GitRepository, which
needs Contributors), Event Hubs a sender link attached and closed (an azureeventhub Provider;
nothing is sent), and, for a Kustomization's decryption, Key Vault the key --key names (the
doctor does not read the SOPS files). When no federated credential matches, --federated-issuer
and --federated-subject are compared with the token's. Give the controller's --feature-gates,
--connect-to and --ca-file if it has them.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, name, ok := strings.Cut(args[1], "/")
			if !ok {
				ns, name = "", args[1]
			}
			kube, defNS, err := kubeClient(kubeconfig, ns)
			if err != nil {
				return err
			}
			if ns == "" {
				ns = defNS
			}
			entraOpts, err := flags.entraOptions()
			if err != nil {
				return err
			}
			t, err := flags.transportOptions()
			if err != nil {
				return err
			}
			r, err := doctor.Diagnose(cmd.Context(), doctor.Options{
				Kube: kube, FeatureGate: flags.featureGates.enabled(identity.FeatureGate),
				Entra: entra.NewProvider(&entraOpts), Transport: t, Key: key, FederatedIssuer: fedIssuer, FederatedSubject: fedSubject,
			}, args[0], ns, name)
			if err != nil {
				return err
			}
			switch output {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return err
				}
			case "", "text":
				r.Print(cmd.OutOrStdout())
			default:
				return fmt.Errorf("--output %q: use text or json", output)
			}
			if !r.OK() {
				return errChainBroken
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file; default: $KUBECONFIG or ~/.kube/config")
	fs.StringVarP(&output, "output", "o", "text", "text or json")
	fs.StringVar(&key, "key", "", "Key Vault key of a Kustomization's SOPS files, https://VAULT.vault.azure.net/keys/NAME[/VERSION]")
	fs.StringVar(&fedIssuer, "federated-issuer", "", "issuer of the identity's federated credential, to compare with the token's")
	fs.StringVar(&fedSubject, "federated-subject", "", "subject of the identity's federated credential, to compare with the token's")
	flags.bind(fs)
	return cmd
}
