package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

func newProfilesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "profiles [NAME]",
		Short: "List the built-in provider profiles, or show one with the source of each value",
		Long: `Without a name, list the built-in provider profiles. With one, print each of
its settings with the documentation, issue or article it comes from. Values
whose source is marked UNCONFIRMED have no primary source; the source says
what is known and why the value was chosen. Settings not listed are off.

  oauthsim profiles
  oauthsim profiles okta`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return listProfiles(c.OutOrStdout())
			}
			p, err := profile.Builtin(args[0])
			if err != nil {
				return err
			}
			return showProfile(c.OutOrStdout(), p)
		},
	}
}

func listProfiles(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTITLE")
	for _, name := range profile.Names() {
		p, _ := profile.Lookup(name)
		fmt.Fprintf(tw, "%s\t%s\n", p.Name, p.Title)
	}
	return tw.Flush()
}

// showProfile prints every setting that is set or sourced, in document
// order, with its source after it, or after the run of settings that share
// it (a response's status, content type and body, usually).
func showProfile(w io.Writer, p profile.Profile) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", p.Name, p.Title)
	var shown []profile.Field
	for _, f := range p.Fields() {
		if _, sourced := p.Sources[f.Path]; f.Set || sourced {
			shown = append(shown, f)
		}
	}
	for i, f := range shown {
		src, sourced := p.Sources[f.Path]
		if i == 0 || p.Sources[shown[i-1].Path] != src {
			b.WriteString("\n")
		}
		if value := formatValue(f.Value); strings.Contains(value, "\n") {
			fmt.Fprintf(&b, "%s:\n%s", f.Path, indent(value, "    | "))
		} else {
			fmt.Fprintf(&b, "%s = %s\n", f.Path, value)
		}
		switch {
		case i+1 < len(shown) && p.Sources[shown[i+1].Path] == src:
		case !sourced:
			fmt.Fprintln(&b, "    source: none given")
		case src.Unconfirmed:
			fmt.Fprintf(&b, "    source (UNCONFIRMED): %s\n", src.Ref)
		default:
			fmt.Fprintf(&b, "    source: %s\n", src.Ref)
		}
	}
	if len(p.Responses) == 0 {
		b.WriteString("\nresponses: none of its own; errors are RFC 6749's\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatValue writes a setting as a profile document would, with durations
// also in seconds, the unit of expires_in.
func formatValue(v any) string {
	switch v := v.(type) {
	case profile.Duration:
		if v != 0 && v.D()%time.Second == 0 {
			return fmt.Sprintf("%s (%ds)", v, int64(v.D()/time.Second))
		}
		return v.String()
	case []profile.Deviation:
		parts := make([]string, len(v))
		for i, d := range v {
			parts[i] = string(d)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case string:
		if v == "" {
			return `""`
		}
	}
	return fmt.Sprint(v)
}

// indent puts prefix before every line of text.
func indent(text, prefix string) string {
	lines := strings.SplitAfter(strings.TrimSuffix(text, "\n"), "\n")
	return prefix + strings.Join(lines, prefix) + "\n"
}
