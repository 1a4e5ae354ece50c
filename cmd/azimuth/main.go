// Command azimuth is Azimuth's one binary: the controllers, the local Azure for development, and
// the commands that help people set up and debug identities.
//
// This file only wires the verbs together; each verb lives in a file of its own and its logic in
// a library package.
//
// In docs/architecture.md's flow it is outside the flow: flags and wiring only, a file per verb;
// the logic lives in internal/ and azurelocal/.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "azimuth:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "azimuth",
		Short:         "GitOps for Kubernetes on Microsoft Azure, without static secrets",
		Version:       binaryVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDevCmd())
	root.AddCommand(newTokenCmd())
	root.AddCommand(newControllerCmd())
	root.AddCommand(newSetupCmd())
	root.AddCommand(newDoctorCmd())
	root.AddCommand(newInstallCmd(), newUninstallCmd())
	root.AddCommand(newVersionCmd())
	return root
}
