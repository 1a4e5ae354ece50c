package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azimuth-gitops/azimuth/internal/apply"
	"github.com/azimuth-gitops/azimuth/internal/install"
)

// newInstallCmd applies the embedded config/ to the cluster, or prints it with --export.
func newInstallCmd() *cobra.Command {
	var (
		opts       install.Options
		components []string
		kubeconfig string
		export     bool
		wait       bool
		timeout    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install Azimuth in the cluster: CRDs, RBAC, the controller, its Service and network policies",
		Long: `Render the manifests the binary carries (config/ of this version) with the chosen namespace,
components and image, and apply them by server-side apply to the cluster of the current
kubeconfig. Running it again applies only what changed. --export prints the manifests instead,
for a Git repository.

Components: ` + strings.Join(install.Components(), ", ") + ` (docs/install.md).`,
		Example: `  azimuth install --components workload-identity --wait
  azimuth install --components projected-token --client-id ID --tenant-id ID --export > azimuth.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Components = components
			if opts.Image == "" {
				opts.Image = defaultImage(binaryVersion())
			}
			objs, err := install.Render(opts)
			if err != nil {
				return err
			}
			if export {
				data, err := install.Export(objs)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			c, _, err := kubeClient(kubeconfig, opts.Namespace)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			cs, err := install.Install(ctx, c, objs, &install.InstallOptions{Wait: wait})
			printChanges(cmd.OutOrStdout(), cs, false)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.Namespace, "namespace", "n", install.DefaultNamespace, "namespace of the controller")
	fs.StringSliceVar(&components, "components", nil, "components to add, comma-separated, from "+strings.Join(install.Components(), ", ")+" (default none)")
	fs.StringVar(&opts.Image, "image", "", "the controller's image, with a tag or a digest (default "+install.Image+" at this release's tag; latest for a development build)")
	fs.StringVar(&opts.ClientID, "client-id", "", "client ID of the controller's Azure identity, for aks-workload-identity, projected-token or app-certificate")
	fs.StringVar(&opts.TenantID, "tenant-id", "", "tenant ID of the controller's Azure identity, with --client-id")
	fs.StringSliceVar(&opts.Shards, "shards", nil, "shard names, comma-separated: a controller per shard for the objects labelled sharding.fluxcd.io/key=NAME, the main one for the others (docs/scale-out.md)")
	fs.BoolVar(&export, "export", false, "print the manifests instead of applying them")
	fs.BoolVar(&wait, "wait", false, "wait until the CRDs are established and the controller's Deployment is available")
	fs.DurationVar(&timeout, "timeout", 5*time.Minute, "how long the install, and the wait, may take")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file; default: $KUBECONFIG or ~/.kube/config")
	return cmd
}

// newUninstallCmd removes what install applied, leaving what Kustomizations applied.
func newUninstallCmd() *cobra.Command {
	var (
		opts       install.UninstallOptions
		kubeconfig string
		timeout    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove Azimuth from the cluster, leaving what its Kustomizations applied",
		Long: `Delete the controller, wait until its pods are gone, remove Azimuth's finalizer from every
object of its kinds (so that deleting them prunes nothing), then delete its RBAC, Service and
network policies. The CRDs, with the objects of Azimuth's kinds, stay unless --delete-crds; the
namespace stays unless --delete-namespace. What Kustomizations applied is never touched.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := kubeClient(kubeconfig, opts.Namespace)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			cs, err := install.Uninstall(ctx, c, &opts)
			printChanges(cmd.OutOrStdout(), cs, opts.DryRun)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.Namespace, "namespace", "n", install.DefaultNamespace, "namespace Azimuth was installed in")
	fs.BoolVar(&opts.DeleteCRDs, "delete-crds", false, "also delete the CRDs, and with them every object of Azimuth's kinds")
	fs.BoolVar(&opts.DeleteNamespace, "delete-namespace", false, "also delete the namespace and everything in it")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "send every change as a server-side dry-run and print what would be done")
	fs.DurationVar(&timeout, "timeout", 5*time.Minute, "how long the uninstall may take")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file; default: $KUBECONFIG or ~/.kube/config")
	return cmd
}

// printChanges prints one "Kind/namespace/name action" line per change, as Flux's events do.
func printChanges(w io.Writer, cs *apply.ChangeSet, dryRun bool) {
	if cs == nil {
		return
	}
	suffix := ""
	if dryRun {
		suffix = " (dry run)"
	}
	for _, c := range cs.Entries {
		fmt.Fprintf(w, "%s%s\n", c, suffix)
	}
}

// release is a release's tag, vMAJOR.MINOR.PATCH with perhaps a pre-release: what git
// describe says of a tagged commit, and not of one after it or of a changed tree.
var release = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-(alpha|beta|rc)\.[0-9]+)?$`)

// defaultImage is the image install deploys unless told: the one of this binary's release, as
// flux install deploys its own version's controllers; config/'s (latest) for a development
// build, which no published image matches.
func defaultImage(version string) string {
	if release.MatchString(version) {
		return install.Image + ":" + version
	}
	return ""
}
