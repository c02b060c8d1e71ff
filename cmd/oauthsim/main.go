// Command oauthsim is a fault-injecting OAuth 2.0 / OpenID Connect provider
// simulator and conformance harness for OAuth client token managers.
//
//	oauthsim serve [--addr 127.0.0.1:8090] [--config oauthsim.yaml]
//	oauthsim version
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes: 2 for a usage or configuration error, 1 for anything else.
const (
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks errors the user can fix by changing the command line or
// the files it names.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCommand()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "oauthsim:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailure
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
		return usageError{fmt.Errorf("%w\n\n%s", err, c.UsageString())}
	})
	root.AddCommand(newServeCommand(), newVersionCommand())
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
