package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/oauthsim/oauthsim/clients/browser"
	"github.com/oauthsim/oauthsim/clients/mutants"
)

func newClientsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "clients",
		Short: "List the built-in clients: the reference token managers and their broken variants",
		Long: `List the token managers built into oauthsim. "reference" does everything
right; each "mutant/NAME" is the reference with exactly one bug from the
field, and under it are printed the field failure it reproduces and the
public source of the rule it breaks. "browser/reference" and "browser/bff"
are the browser token managers, run in headless Chromium; each
"browser/mutant/NAME" is the first with one bug, and the check written to
catch it. --client all selects the process clients, not the browser ones.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return listClients(c.OutOrStdout()) },
	}
}

func listClients(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "reference\tthe reference token manager (clients/tokenmanager)\n")
	for _, m := range mutants.All() {
		fmt.Fprintf(tw, "mutant/%s\t%s\n", m.Name, m.Bug)
		fmt.Fprintf(tw, "\t  field: %s\n", m.Origin.Failure)
		fmt.Fprintf(tw, "\t  source: %s\n", m.Origin.Source)
	}
	for _, c := range browser.Builtin(version) {
		if !strings.HasPrefix(c.Name(), "browser/mutant/") {
			fmt.Fprintf(tw, "%s\t%s\n", c.Name(), c.Describe())
		}
	}
	for _, m := range browser.Mutants() {
		fmt.Fprintf(tw, "browser/mutant/%s\t%s\n", m.Name, m.Bug)
		fmt.Fprintf(tw, "\t  caught by: %s\n", m.Target)
	}
	return tw.Flush()
}
