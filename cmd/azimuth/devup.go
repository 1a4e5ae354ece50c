package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/devenv/demo"
)

func newDevUpCmd() *cobra.Command {
	var (
		directoryFile string
		stateDir      string
		once          bool
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run the whole system on this machine, with sample tenants, until interrupted",
		Long: `Run etcd and kube-apiserver (built by make tools), the local Azure and Azimuth's controllers
(with --feature-gates=ObjectLevelWorkloadIdentity=true), set up sample tenants with object-level
workload identity, controller-level workload identity and the node's managed identity, one of them
deliberately missing its role, push samples to the local ACR, and apply sample objects.

It prints each step as it becomes ready, then a table of the objects once they settle, and keeps
running until interrupted, printing how to reach the cluster with kubectl, and the HTTPS_PROXY and
SSL_CERT_FILE lines with which crane, git, the flux CLI or any SDK reach the local Azure through
its proxy. The controllers watch only the sample namespaces. Stopping it stops every process it
started. The controllers' logs go to STATE/` + demo.LogFile + `.

With --once it prints the table and exits: 0 when every object is Ready but the one that must
fail, and fails as it should; 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			opts := &demo.Options{StateDir: stateDir, Progress: out, Logs: logTo}
			if directoryFile != "" {
				dir, err := directory.Load(directoryFile)
				if err != nil {
					return err
				}
				opts.Directory = dir
			}
			ctx := cmd.Context()
			sys, err := demo.Start(ctx, opts)
			if err != nil {
				return err
			}
			defer sys.Stop()
			table := sys.Settle(ctx)
			fmt.Fprintln(out)
			if err := table.Write(out); err != nil {
				return err
			}
			if once {
				if err := sys.Stop(); err != nil {
					return err
				}
				return table.Err()
			}
			if ctx.Err() == nil { // not interrupted while the objects settled
				fmt.Fprint(out, sys.Usage(os.Args[0]))
				fmt.Fprintln(out, "\nPress Ctrl-C to stop.")
				<-ctx.Done()
			}
			if err := sys.Stop(); err != nil {
				return err
			}
			fmt.Fprintln(out, "Stopped: the controllers, the local Azure, kube-apiserver and etcd.")
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&directoryFile, "directory", "", "directory file (YAML) of the local Azure; it must hold the samples' identities (see azimuth dev azure --print-directory); default: the built-in one")
	fs.StringVar(&stateDir, "state-dir", "", "directory for the local Azure's CA (kept across runs), the cluster's data and kubeconfig, artifacts and logs (replaced at each run); default: the user cache directory's azimuth/dev")
	fs.BoolVar(&once, "once", false, "print the table and exit, with status 0 only when every object is as expected")
	return cmd
}

// logTo sends the controllers' logs to w, a file of the state directory, so that they do not
// drown the progress and the table.
func logTo(w io.Writer) {
	ctrl.SetLogger(zap.New(zap.WriteTo(w), zap.ConsoleEncoder()))
}
