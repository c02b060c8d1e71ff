// Command oauthsim is a fault-injecting OAuth 2.0 / OpenID Connect provider
// simulator and conformance harness for OAuth client token managers.
//
//	oauthsim serve [--addr 127.0.0.1:8090] [--profile NAME] [--config oauthsim.yaml]
//	oauthsim conform [--client NAME]... [--scenarios DIR|FILE]... [--label-filter EXPR] [--out DIR]
//	oauthsim validate FILE|DIR...
//	oauthsim scenarios [--scenarios DIR|FILE]...
//	oauthsim schema
//	oauthsim profiles [NAME]
//	oauthsim clients
//	oauthsim version
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes: 1 when the job itself failed, 2 for a usage or configuration
// error (bad flags, arguments or files), which the user fixes.
const (
	exitFailure = 1
	exitUsage   = 2
)

// failure marks errors of the job itself; every other error is the user's
// input: cobra's own flag, argument and command errors, and bad files.
type failure struct{ error }

func (e failure) Unwrap() error { return e.error }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "oauthsim:", err)
	var f failure
	if errors.As(err, &f) {
		return exitFailure
	}
	return exitUsage
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "oauthsim",
		Short:         "A fault-injecting OAuth 2.0 / OpenID Connect provider simulator",
		Long:          "oauthsim simulates OAuth 2.0 / OpenID Connect providers on a clock you control,\nto prove that client token managers survive what real providers do to them.",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\n\n%s", err, c.UsageString())
	})
	root.AddCommand(newServeCommand(), newConformCommand(), newValidateCommand(), newScenariosCommand(), newSchemaCommand(),
		newProfilesCommand(), newClientsCommand(), newVersionCommand())
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(c.OutOrStdout(), "oauthsim", version)
			return err
		},
	}
}
