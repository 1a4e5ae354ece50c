package main

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// newDevCmd groups the pieces of the local development environment.
func newDevCmd() *cobra.Command {
	dev := &cobra.Command{
		Use:   "dev",
		Short: "Run Azimuth's local development environment",
	}
	dev.AddCommand(newDevAzureCmd())
	dev.AddCommand(newDevUpCmd())
	return dev
}

func newDevAzureCmd() *cobra.Command {
	var (
		directoryFile  string
		stateDir       string
		listen         string
		proxyListen    string
		printDirectory bool
	)
	cmd := &cobra.Command{
		Use:   "azure",
		Short: "Run the local Azure (Entra ID, managed identity, RBAC) in the foreground",
		Long: `Run the local Azure in the foreground until interrupted.

Clients keep the real Azure host names and need two settings, written to the state directory:
trust of STATE/ca.pem, and the connect-to map in STATE/connect-to. The command prints both, and a
curl command that gets a token.

Clients with no connect-to setting (crane, docker, git, sops, the flux CLI, any SDK) go through an
HTTP proxy that applies the same map and refuses every other host: the command prints the
HTTPS_PROXY and SSL_CERT_FILE lines to export.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if printDirectory {
				_, err := out.Write(directory.DefaultYAML())
				return err
			}
			opts := &azurelocal.Options{
				StateDir:    stateDir,
				Listen:      listen,
				ProxyListen: proxyListen,
				Logger:      slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)),
			}
			if directoryFile != "" {
				dir, err := directory.Load(directoryFile)
				if err != nil {
					return err
				}
				opts.Directory = dir
			}
			ctx := cmd.Context()
			azure, err := azurelocal.Start(ctx, opts)
			if err != nil {
				return err
			}
			fmt.Fprint(out, azure.Usage())
			fmt.Fprintf(out, "\nAzure Repos over SSH (ssh.dev.azure.com:22) listens on %s; its host key is in %s\n", azure.SSHAddr(), filepath.Join(azure.StateDir(), azurelocal.KnownHostsFile))
			fmt.Fprintf(out, "\nClients with no connect-to setting (crane, docker, git, sops, the flux CLI, any SDK) go through\n")
			fmt.Fprintf(out, "the proxy at %s, which applies the map and refuses every other host:\n\n", azure.ProxyURL())
			fmt.Fprint(out, azure.ProxyExports("  "))
			fmt.Fprintln(out, "\nPress Ctrl-C to stop.")
			<-ctx.Done()
			if err := azure.Stop(); err != nil {
				return fmt.Errorf("stopping the local Azure: %w", err)
			}
			fmt.Fprintln(out, "The local Azure stopped.")
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&directoryFile, "directory", "", "directory file (YAML) of tenants, applications, identities and role assignments; default: the built-in one (see --print-directory)")
	fs.StringVar(&stateDir, "state-dir", "", "directory that keeps the CA and receives ca.pem and connect-to; default: the user cache directory's azimuth/local-azure")
	fs.StringVar(&listen, "listen", "127.0.0.1:0", "address of the HTTPS gateway")
	fs.StringVar(&proxyListen, "proxy-listen", "127.0.0.1:0", "address of the HTTP proxy (HTTPS_PROXY) that applies the connect-to map")
	fs.BoolVar(&printDirectory, "print-directory", false, "print the built-in directory file and exit")
	cmd.MarkFlagsMutuallyExclusive("print-directory", "directory")
	return cmd
}
