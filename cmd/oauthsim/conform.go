package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/spf13/cobra"

	"github.com/oauthsim/oauthsim/clients/browser"
	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/inprocess"
	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/reports"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

type conformOptions struct {
	clients   []string
	commands  []string
	modules   []string
	scenarios []string
	labels    string
	out       string
	verbose   bool
	// expectFail are patterns of clients that must fail: broken on purpose.
	expectFail []string
	// findings: failed checks are what is being reported on, not a failure.
	findings bool
	// shape is the built-in profile whose shape every scenario's provider
	// takes (--provider-shape).
	shape string
}

func newConformCommand() *cobra.Command {
	var o conformOptions
	c := &cobra.Command{
		Use:   "conform [--client NAME]... [--client-cmd CMD]... [--scenarios DIR|FILE]...",
		Short: "Run the conformance scenarios against client token managers and write reports",
		Long: `Run every selected scenario against every selected client on a simulated provider
with a fake clock, judge each run by the conformance checks, and write results.json,
junit.xml, index.html and summary.md to --out, replacing the last run's as a set.

Clients are "reference", "mutant/NAME" (see oauthsim clients); a pattern such as
'mutant/*' selects several, and "all" selects every built-in client. --client-cmd runs
any client that speaks clients/PROTOCOL.md as a subprocess.

It prints one line per failed run and, on a terminal, a progress line; then the tally
in runs, where the reports are, and a last line saying why the exit status is what it
is. -v prints Ginkgo's detail of every check instead.

Exit status: 0 when every check held, 1 when a check failed or a run could not be
carried out, 2 for a usage or scenario-file error, found before any run: a label filter
that selects no run, an --out that cannot take the reports, a --client-cmd that cannot
start.`,
		Example: `  oauthsim conform
  oauthsim conform --client all --out reports/out
  oauthsim conform --client mutant/memory_only --scenarios my-scenarios/
  oauthsim conform --label-filter 'rotation && check:no-superseded-refresh-token'
  oauthsim conform --label-filter 'check: containsAny {honours-retry-after, backs-off-after-failure}'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return conform(c.OutOrStdout(), o) },
	}
	f := c.Flags()
	f.StringArrayVar(&o.clients, "client", nil, `client to test: reference, mutant/NAME, a pattern like 'mutant/*', or all (repeatable; default reference)`)
	f.StringArrayVar(&o.commands, "client-cmd", nil, "a client to test that speaks clients/PROTOCOL.md, run by sh -c (repeatable)")
	f.StringArrayVar(&o.modules, "browser-module", nil, "a browser token manager to test: an ES module exporting app(env) and dashboard(env), run in headless Chromium (repeatable; see clients/browser/README.md)")
	f.StringArrayVar(&o.scenarios, "scenarios", nil, "scenario file or directory (repeatable; default: the bundled scenarios)")
	f.StringVar(&o.labels, "label-filter", "", `Ginkgo label filter over scenario tags, "client:NAME" and "check:ID" labels`)
	f.StringVar(&o.out, "out", "reports/out", "directory for the reports, replaced as a set; other files in it are left alone")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print Ginkgo's detail of every check as it runs, every expected failure in full, in place of the progress line")
	f.BoolVar(&o.findings, "findings", false, "failed checks are findings to report, not a failure: exit 1 only when a run could not be carried out")
	f.StringVar(&o.shape, "provider-shape", "", "give every scenario's provider the shape of built-in profile NAME (its paths, issuer spelling, response modes and CORS headers), keeping each scenario's lifetimes: for an SDK that builds a provider's URLs itself, as auth0-spa-js does (auth0)")
	f.StringArrayVar(&o.expectFail, "expect-fail", nil, `clients (a name or pattern) that are broken on purpose: each must fail a check, and their failures do not fail the run (repeatable)`)
	return c
}

// selectClients resolves --client values to built-in clients, in the
// order of the built-in list.
func selectClients(patterns []string) ([]conformance.Client, error) {
	if len(patterns) == 0 {
		patterns = []string{"reference"}
	}
	// The browser clients only by name: "all" is the process clients, which
	// run in seconds without Chromium.
	selected := func(name string, byAll bool) bool {
		return slices.ContainsFunc(patterns, func(p string) bool {
			ok, _ := path.Match(p, name)
			return ok || byAll && p == "all"
		})
	}
	var out []conformance.Client
	for _, c := range inprocess.Builtin(version) {
		if selected(c.Name(), true) {
			out = append(out, c)
		}
	}
	for _, c := range browser.Builtin(version) {
		if selected(c.Name(), false) {
			out = append(out, c)
		}
	}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("--client %q: %w", p, err)
		}
		matched := p == "all"
		for _, c := range out {
			if ok, _ := path.Match(p, c.Name()); ok {
				matched = true
			}
		}
		if !matched {
			return nil, fmt.Errorf("--client %q: no such client (see oauthsim clients)", p)
		}
	}
	return out, nil
}

// uniqueName is name, or name#2, #3... when a client in clients already
// has the name or its label: reports and label filters tell clients apart
// by both.
func uniqueName(clients []conformance.Client, name string) string {
	taken := func(n string) bool {
		return slices.ContainsFunc(clients, func(c conformance.Client) bool {
			// Ginkgo compares labels without regard to case.
			return strings.EqualFold(conformance.ClientLabel(c.Name()), conformance.ClientLabel(n))
		})
	}
	out := name
	for i := 2; taken(out); i++ {
		out = fmt.Sprintf("%s#%d", name, i)
	}
	return out
}

// shapeProviders gives every scenario's provider the shape of built-in
// profile name (--provider-shape), and says so: a run's report names the
// scenario's own profile, whose lifetimes and rotation it keeps.
func shapeProviders(w io.Writer, scs []*scenarios.Scenario, name string) error {
	if name == "" {
		return nil
	}
	p, err := profile.Builtin(name)
	if err != nil {
		return flagProblem("--provider-shape: %w", err)
	}
	if p.Shape.IsZero() {
		return flagProblem("--provider-shape %s: that profile has oauthsim's own shape; these have one of their own: %s", name, strings.Join(profile.Shaped(), ", "))
	}
	for _, sc := range scs {
		sc.Provider.Profile.Shape = p.Shape.Clone()
	}
	fmt.Fprintf(w, "every scenario's provider takes %s's shape: %s\n", name, p.Shape)
	return nil
}

// loadScenarios reads --scenarios, or the bundled scenarios.
func loadScenarios(paths []string) ([]*scenarios.Scenario, error) {
	if len(paths) == 0 {
		return scenarios.Bundled()
	}
	return scenarios.Load(paths...)
}

func conform(w io.Writer, o conformOptions) error {
	// Refused now rather than after the runs: their results would be lost.
	if st, err := os.Stat(o.out); err == nil && !st.IsDir() {
		return fmt.Errorf("--out: %s is a file, not a directory", o.out)
	}
	if err := reports.CheckDir(o.out); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	// Each client process's stop ends what it started; this ends what
	// escaped that, when the runs are over (an interrupt included).
	defer conformance.EndStrays()
	clients, err := startClients(w, o)
	if err != nil {
		return err
	}
	scs, err := loadScenarios(o.scenarios)
	if err != nil {
		return err
	}
	if err := shapeProviders(w, scs, o.shape); err != nil {
		return err
	}
	var leftOut []string
	if len(o.scenarios) == 0 && !slices.ContainsFunc(clients, isBrowser) {
		// The bundled browser scenarios would be skipped for every client:
		// say so once rather than in a skipped run each.
		scs = slices.DeleteFunc(scs, func(sc *scenarios.Scenario) bool {
			if sc.NeedsBrowser() {
				leftOut = append(leftOut, sc.Name)
			}
			return sc.NeedsBrowser()
		})
	}
	for _, p := range o.expectFail {
		if _, err := path.Match(p, ""); err != nil {
			return flagProblem("--expect-fail %q: %w", p, err)
		}
		if !slices.ContainsFunc(clients, func(c conformance.Client) bool { ok, _ := path.Match(p, c.Name()); return ok }) {
			return flagProblem("--expect-fail %q matches none of the clients selected", p)
		}
	}
	expected := func(name string) bool {
		return slices.ContainsFunc(o.expectFail, func(p string) bool { ok, _ := path.Match(p, name); return ok })
	}
	plan := conformance.Plan{Clients: clients, Scenarios: scs, Tool: version, LabelFilter: o.labels}
	if !o.verbose {
		plan.Progress = conformance.NewProgress(w, onTerminal(w), expected)
	}
	suite, err := conformance.Define(plan)
	if err != nil {
		// Ginkgo colours its message for a terminal; an error line is not one.
		return flagProblem("--label-filter: %s", ansi.ReplaceAllString(err.Error(), ""))
	}
	if suite.Selected() == 0 {
		// Empty reports would overwrite the last real ones.
		return flagProblem("--label-filter %q selects no run of %d client(s) × %d scenario(s): nothing ran, no reports written", o.labels, len(clients), len(scs))
	}
	if err := usableDir(o.out); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	without := ""
	if len(leftOut) > 0 {
		without = fmt.Sprintf("; %s left out, no client being a browser", plural(len(leftOut), "browser scenario"))
	}
	fmt.Fprintf(w, "oauthsim conform: %s (%d client(s) × %d scenario(s)%s), %d checks each\n", plural(suite.Selected(), "run"), len(clients), len(scs), without, len(conformance.Checks()))

	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	suiteConfig.LabelFilter = o.labels
	// One process: Ginkgo's parallel mode needs its own CLI to spawn workers.
	suiteConfig.ParallelTotal, suiteConfig.ParallelProcess = 1, 1
	reporterConfig.Verbose = o.verbose
	reporterConfig.NoColor = os.Getenv("NO_COLOR") != "" || !isTerminal(os.Stdout)
	if plan.Progress != nil {
		// Ginkgo's reporter speaks of specs, thousands of them, and prints
		// every expected failure in full; Progress speaks of runs instead.
		// Ginkgo has no setting to turn its reporter off in one process:
		// what it writes goes here.
		defer func(w io.Writer) { formatter.ColorableStdOut = w }(formatter.ColorableStdOut)
		formatter.ColorableStdOut = io.Discard
		plan.Progress.Start()
	}
	t := &testingT{}
	ginkgo.RunSpecs(t, "oauthsim conformance", suiteConfig, reporterConfig)
	if plan.Progress != nil {
		plan.Progress.Stop()
	}
	res := suite.Results()
	reports.MarkExpectedFailures(res, expected, func(name string) string {
		target, _ := targetCheck(name)
		return target
	})
	if len(res.Runs) == 0 {
		// Interrupted before a run was over: empty reports would
		// overwrite the last real ones.
		return failure{fmt.Errorf("FAILED: %s before any run was over: no reports written", cmp.Or(strings.Join(suite.Problems(), "; "), "stopped"))}
	}
	if err := reports.Write(o.out, res); err != nil {
		return failure{err}
	}
	fmt.Fprintf(w, "\n%s\nreports: %s/index.html (with index-runs.js), junit.xml, results.json, summary.md\n", reports.Tally(res), o.out)
	harness := suite.Problems()
	if len(harness) == 0 {
		harness = ginkgoOnly(t, res)
	}
	ok, err := verdict(res, o, harness)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, ok)
	return nil
}

// isBrowser reports whether c is a browser client.
func isBrowser(c conformance.Client) bool {
	return slices.Contains(c.Capabilities(), contract.CapBrowser)
}

// startClients selects the built-in clients and starts each --client-cmd
// once for its hello. A client that cannot start is reported then, once,
// and nothing runs: every one of its runs would fail for the same reason.
func startClients(w io.Writer, o conformOptions) ([]conformance.Client, error) {
	var clients []conformance.Client
	if len(o.clients) > 0 || len(o.commands)+len(o.modules) == 0 {
		builtin, err := selectClients(o.clients)
		if err != nil {
			return nil, flagProblem("%w", err)
		}
		clients = builtin
	}
	var unstarted []string
	for _, line := range o.commands {
		c, err := conformance.NewCommand(context.Background(), line)
		if err != nil {
			unstarted = append(unstarted, fmt.Sprintf("client %q could not start: %v", line, c.ProbeError()))
			continue
		}
		fmt.Fprintf(w, "client %q: %s %s\n", line, c.Name(), c.Version())
		if ignored := c.Ignored(); len(ignored) > 0 {
			fmt.Fprintf(w, "client %q: ignoring capabilities protocol %d does not have: %s\n", line, contract.Version, strings.Join(ignored, ", "))
		}
		if name := uniqueName(clients, c.Name()); name != c.Name() {
			fmt.Fprintf(w, "client %q: another client is called %q; this one is %q here\n", line, c.Name(), name)
			c.Rename(name)
		}
		clients = append(clients, c)
	}
	if len(unstarted) > 0 {
		return nil, fmt.Errorf("%s\nno run started: fix the client, or leave it out (--client-cmd)", strings.Join(unstarted, "\n"))
	}
	for _, m := range o.modules {
		if st, err := os.Stat(m); err != nil || st.IsDir() {
			return nil, flagProblem("--browser-module %q: not a file (an ES module exporting app and dashboard)", m)
		}
		name := uniqueName(clients, "browser/"+strings.TrimSuffix(filepath.Base(m), filepath.Ext(m)))
		clients = append(clients, browser.New(name, m, browser.WithVersion("local")))
	}
	return clients, nil
}

// verdict is the last line conform prints, saying why the exit status is
// what it is: ok for status 0, or the failure. harness are failures of
// the suite itself (an interrupt, a check that panicked).
func verdict(res *reports.Results, o conformOptions, harness []string) (ok string, err error) {
	if len(harness) > 0 {
		return "", failure{errors.New("FAILED: " + strings.Join(harness, "; "))}
	}
	var failed, errored []string
	for _, r := range res.Runs {
		switch {
		case r.Status == reports.StatusError:
			errored = append(errored, fmt.Sprintf("%s × %s could not be carried out: %s", r.Client, r.Scenario, firstLine(r.Reason)))
		case r.Status == reports.StatusFail && !r.ExpectedFailure:
			failed = append(failed, r.Client)
		}
	}
	if o.findings {
		if len(errored) > 0 {
			return "", failure{fmt.Errorf("FAILED: %s (%d run(s) could not be carried out in all)", errored[0], len(errored))}
		}
		if len(failed) > 0 {
			return fmt.Sprintf("OK: %s failed checks, reported as findings: with --findings failed checks do not fail the exit status, only a run that could not be carried out does", plural(len(failed), "run")), nil
		}
	} else if problems := res.Problems(); len(problems) > 0 {
		return "", failure{errors.New("FAILED: " + strings.Join(problems, "; "))}
	}
	broken := 0
	for _, c := range res.Clients {
		if c.ExpectFail {
			broken++
		}
	}
	if broken > 0 {
		return fmt.Sprintf("OK: the %s broken on purpose failed as expected; no other run failed or errored", plural(broken, "client")), nil
	}
	return "OK: no run failed or errored", nil
}

// ginkgoOnly is a failure Ginkgo saw that no run shows (a bug of the
// harness), when nothing was expected to fail: with expected failures
// Ginkgo's own judgement says nothing more.
func ginkgoOnly(t *testingT, res *reports.Results) []string {
	if !t.failed || slices.ContainsFunc(res.Runs, func(r reports.Run) bool { return r.Status != reports.StatusPass && r.Status != reports.StatusSkip }) {
		return nil
	}
	return []string{"Ginkgo reports a failure that no run shows: run again with -v for its detail"}
}

// plural is n and noun, with an "s" unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// flagProblem is an error in a flag's value: the user fixes it, and
// learns where to read how.
func flagProblem(format string, args ...any) error {
	return fmt.Errorf(format+"\nRun 'oauthsim conform --help' for usage.", args...)
}

// usableDir makes dir when it is missing and writes a file in it, so that
// a directory the reports cannot go to is found before the runs, not after.
func usableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".oauthsim-check-*")
	if err != nil {
		return err
	}
	return errors.Join(f.Close(), os.Remove(f.Name()))
}

// onTerminal says whether w is a terminal a line can be rewritten on: not
// in CI, whose logs show every rewrite as a line of its own.
func onTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f) && os.Getenv("CI") == ""
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// ansi matches terminal colour sequences.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// testingT is what Ginkgo reports the suite's failure to outside go test.
type testingT struct{ failed bool }

func (t *testingT) Fail() { t.failed = true }

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE|DIR...",
		Short: "Check scenario files, reporting every problem as file:line:column",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			scs, err := scenarios.Load(args...)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.OutOrStdout(), "%d scenario(s) valid\n", len(scs))
			return err
		},
	}
}

func newScenariosCommand() *cobra.Command {
	var paths []string
	c := &cobra.Command{
		Use:   "scenarios",
		Short: "List the scenarios: the bundled ones, or those in --scenarios",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			scs, err := loadScenarios(paths)
			if err != nil {
				return err
			}
			return listScenarios(c.OutOrStdout(), scs)
		},
	}
	c.Flags().StringArrayVar(&paths, "scenarios", nil, "scenario file or directory (repeatable)")
	return c
}

func listScenarios(w io.Writer, scs []*scenarios.Scenario) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPROFILE\tSIM TIME\tTAGS\tDESCRIPTION")
	var total time.Duration
	for _, sc := range scs {
		desc, _, _ := strings.Cut(strings.TrimSpace(sc.Description), ". ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sc.Name, sc.Profile(), days(sc.SimDuration()), strings.Join(sc.Tags, ","), desc)
		total += sc.SimDuration()
	}
	fmt.Fprintf(tw, "\n%d scenarios\t\t%s\t\t\n", len(scs), days(total))
	return tw.Flush()
}

// days writes d with whole days, as scenario files do.
func days(d time.Duration) string {
	if d < 24*time.Hour {
		return d.String()
	}
	rest := (d % (24 * time.Hour)).String()
	if d%(24*time.Hour) == 0 {
		rest = ""
	}
	// Duration.String says 8h0m0s: drop the zero seconds and minutes, not
	// the zero of 8h18m30s.
	if strings.HasSuffix(rest, "m0s") {
		rest = strings.TrimSuffix(rest, "0s")
	}
	if strings.HasSuffix(rest, "h0m") {
		rest = strings.TrimSuffix(rest, "0m")
	}
	return fmt.Sprintf("%dd%s", d/(24*time.Hour), rest)
}

func newSchemaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of scenario files, for editors",
		Long: `Print the JSON Schema of scenario files. Editors that speak the YAML language
server validate and complete scenario files with it, e.g. with a first line
# yaml-language-server: $schema=./scenario.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := c.OutOrStdout().Write(scenarios.Schema)
			return err
		},
	}
}

// targetCheck is the id of the check written to catch the named mutant's
// bug (its name without "mutant/"); false for a name that is no mutant.
func targetCheck(name string) (string, bool) {
	if b, ok := strings.CutPrefix(name, "browser/mutant/"); ok {
		m, ok := browser.LookupMutant(b)
		return m.Target, ok
	}
	m, ok := mutants.Lookup(strings.TrimPrefix(name, "mutant/"))
	return m.Target, ok
}
