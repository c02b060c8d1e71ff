package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/conformance/checkid"
	"github.com/oauthsim/oauthsim/reports"
	"github.com/oauthsim/oauthsim/scenarios"
)

// runBinary runs the built oauthsim to completion and returns its session.
func runBinary(args ...string) *gexec.Session {
	GinkgoHelper()
	session, err := gexec.Start(exec.Command(binary, args...), GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	Eventually(session).WithTimeout(3 * time.Minute).Should(gexec.Exit())
	return session
}

// junit is the part of junit.xml the specs read.
type junit struct {
	Tests  int `xml:"tests,attr"`
	Suites []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Type    string `xml:"type,attr"`
				Message string `xml:"message,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(path string) junit {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var j junit
	Expect(xml.Unmarshal(b, &j)).To(Succeed())
	return j
}

var every = func() []*scenarios.Scenario {
	scs, err := scenarios.Bundled()
	if err != nil {
		panic(err)
	}
	return scs
}()

// bundled are the bundled scenarios a run of clients that are no browser
// plans: the browser scenarios are left out of it.
var bundled = slices.DeleteFunc(slices.Clone(every), (*scenarios.Scenario).NeedsBrowser)

// browserLeftOut is what conform's first line says of them.
var browserLeftOut = fmt.Sprintf("; %d browser scenarios left out, no client being a browser", len(every)-len(bundled))

var _ = Describe("oauthsim conform", func() {
	It("passes the reference on every bundled scenario, and writes the reports", func() {
		out := GinkgoT().TempDir()
		s := runBinary("conform", "--client", "reference", "--out", out)
		Expect(s.ExitCode()).To(Equal(0), "%s", s.Out.Contents())
		Expect(string(s.Out.Contents())).To(ContainSubstring(fmt.Sprintf("%d runs: %d passed, 0 failed, 1 skipped", len(bundled), len(bundled)-1)))
		for _, f := range []string{"results.json", "junit.xml", "index.html", reports.RunDataFile, "summary.md"} {
			Expect(filepath.Join(out, f)).To(BeARegularFile())
		}
		res, err := reports.ReadJSON(filepath.Join(out, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Runs).To(HaveLen(len(bundled)))
		for _, r := range res.Runs {
			if r.Scenario == "client-credentials-service" {
				Expect(r.Status).To(Equal(reports.StatusSkip), "the reference makes no client credentials calls")
				continue
			}
			Expect(r.Status).To(Equal(reports.StatusPass), "%s", r.Scenario)
			Expect(r.Checks).To(HaveLen(len(conformance.Checks())))
		}
		j := readJUnit(filepath.Join(out, "junit.xml"))
		Expect(j.Tests).To(Equal(len(bundled)))
	})

	It("fails each mutant, with junit.xml naming the check that targets its bug", func() {
		out := GinkgoT().TempDir()
		s := runBinary("conform", "--client", "mutant/*", "--out", out)
		Expect(s.ExitCode()).To(Equal(1))
		j := readJUnit(filepath.Join(out, "junit.xml"))
		n := len(mutants.All())
		Expect(j.Tests).To(Equal(len(bundled)*n), "one testcase per client × scenario")
		Expect(j.Suites).To(HaveLen(n))
		for _, suite := range j.Suites {
			name := strings.TrimPrefix(suite.Name, "mutant/")
			m, ok := mutants.Lookup(name)
			target := m.Target
			Expect(ok).To(BeTrue(), suite.Name)
			caught := false
			for _, c := range suite.Cases {
				// The body lists every failed check as "id: message".
				if c.Failure != nil && strings.Contains(c.Failure.Body, target+": ") {
					caught = true
				}
			}
			Expect(caught).To(BeTrue(), "%s must fail %s in some scenario", suite.Name, target)
		}
	})

	It("exits 0 with --expect-fail when exactly the named clients fail, and 1 otherwise", func() {
		out := GinkgoT().TempDir()
		one := bundled[0].File
		s := runBinary("conform", "--client", "reference", "--client", "mutant/keep_old_refresh_token", "--expect-fail", "mutant/*",
			"--scenarios", filepath.Join("..", "..", "scenarios", "rotation-basic.yaml"), "--out", out)
		Expect(s.ExitCode()).To(Equal(0), "%s", s.Err.Contents())
		s = runBinary("conform", "--client", "mutant/keep_old_refresh_token", "--findings",
			"--scenarios", filepath.Join("..", "..", "scenarios", "rotation-basic.yaml"), "--out", out)
		Expect(s.ExitCode()).To(Equal(0), "with --findings a failed check is a finding: %s", s.Err.Contents())
		s = runBinary("conform", "--client", "reference", "--expect-fail", "reference", "--scenarios", filepath.Join("..", "..", one), "--out", out)
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring("reference was expected to fail, and passed"))
	})

	It("stops before any run when a client cannot start, and says so once per client", func() {
		out := filepath.Join(GinkgoT().TempDir(), "out")
		s := runBinary("conform", "--client", "reference", "--client-cmd", "echo 'no such library' >&2; exit 3", "--client-cmd", "/bin/false", "--out", out)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Out.Contents())).To(BeEmpty(), "no run started")
		Expect(strings.Split(strings.TrimSpace(string(s.Err.Contents())), "\n")).To(Equal([]string{
			`oauthsim: client "echo 'no such library' >&2; exit 3" could not start: the client exited (exit status 3) before it was told to`,
			"the tail of its standard error:",
			"no such library",
			`client "/bin/false" could not start: the client exited (exit status 1) before it was told to`,
			"no run started: fix the client, or leave it out (--client-cmd)",
		}))
		Expect(out).NotTo(BeAnExistingFile())
	})

	It("keeps clients of one name apart, and selects each by its label", func() {
		dir := GinkgoT().TempDir()
		// A client that says hello with name and answers every request
		// "ok", so its runs end at the authorization.
		write := func(file, name string) string {
			path := filepath.Join(dir, file)
			Expect(os.WriteFile(path, []byte(`#!/bin/sh
echo '{"hello":{"protocol":1,"name":"`+name+`","version":"0","capabilities":["refresh","clock:now"]}}'
while read line; do id=$(echo "$line" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  case "$line" in *'"op":"shutdown"'*) echo "{\"id\":\"$id\"}"; exit 0;; esac
  echo "{\"id\":\"$id\",\"outcome\":\"ok\"}"
done
`), 0o700)).To(Succeed())
			return path
		}
		// Called what the built-in reference is called; and, as Ginkgo's
		// labels ignore case, so is the one that shouts.
		impostor, shouting, slashed := write("impostor.sh", "reference"), write("shouting.sh", "REFERENCE"), write("slashed.sh", "acme/client")
		out := GinkgoT().TempDir()
		s := runBinary("conform", "--client", "reference", "--client-cmd", impostor, "--client-cmd", shouting,
			"--scenarios", filepath.Join("..", "..", "scenarios", "rotation-basic.yaml"), "--out", out)
		Expect(s.ExitCode()).To(Equal(1), "a run that could not be carried out is a failure")
		Expect(string(s.Out.Contents())).To(ContainSubstring(`another client is called "reference"; this one is "reference#2" here`))
		Expect(string(s.Out.Contents())).To(ContainSubstring(`another client is called "REFERENCE"; this one is "REFERENCE#3" here`))
		Expect(string(s.Out.Contents())).To(ContainSubstring("errored: reference#2 × rotation-basic: "))
		res, err := reports.ReadJSON(filepath.Join(out, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		status := map[string]string{}
		for _, r := range res.Runs {
			status[r.Client] = r.Status + " " + r.Reason
		}
		Expect(status).To(HaveKeyWithValue("reference", HavePrefix(reports.StatusPass)))
		Expect(status).To(HaveKeyWithValue("reference#2", And(HavePrefix(reports.StatusError), ContainSubstring("without a url"))))
		// Each client's label selects it alone, the name's "/" and all.
		s = runBinary("conform", "--client", "reference", "--client-cmd", slashed, "--label-filter", conformance.ClientLabel("acme/client"),
			"--scenarios", filepath.Join("..", "..", "scenarios", "rotation-basic.yaml"), "--out", out)
		Expect(s.ExitCode()).To(Equal(1))
		res, err = reports.ReadJSON(filepath.Join(out, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Runs).To(HaveLen(1))
		Expect(res.Runs[0].Client).To(Equal("acme/client"))
	})

	It("selects specs by label: a tag and a check", func() {
		out := GinkgoT().TempDir()
		s := runBinary("conform", "--client", "mutant/keep_old_refresh_token", "--label-filter", "check:no-superseded-refresh-token",
			"--scenarios", filepath.Join("..", "..", "scenarios", "rotation-basic.yaml"), "--out", out)
		Expect(s.ExitCode()).To(Equal(1))
		res, err := reports.ReadJSON(filepath.Join(out, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Runs).To(HaveLen(1))
		Expect(res.Runs[0].Checks).To(HaveLen(1))
		Expect(res.Runs[0].Checks[0].Check).To(Equal(conformance.CheckNoSupersededRefresh))
		Expect(res.Runs[0].Checks[0].Status).To(Equal(reports.StatusFail))
		Expect(res.LabelFilter).To(Equal("check:no-superseded-refresh-token"))
		summary, err := os.ReadFile(filepath.Join(out, "summary.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(summary)).To(ContainSubstring("Label filter `check:no-superseded-refresh-token`: only the specs it selects judged these runs."))
	})

	It("keeps its memory and its reports bounded when a client answers with 4 MiB details, writes 4 MiB of stderr and logs without end", func() {
		dir := GinkgoT().TempDir()
		client := filepath.Join(dir, "talker.sh")
		// 4 MiB of stderr in one line; then at every call 2 MB of log
		// lines, and a detail of 4 MB that ends with the client secret.
		Expect(os.WriteFile(client, []byte(`#!/bin/sh
echo '{"hello":{"protocol":1,"name":"talker","version":"1","capabilities":["clock:now","client_credentials"]}}'
head -c 4194304 /dev/zero | tr '\0' e >&2
echo >&2
while read line; do id=$(echo "$line" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  case "$line" in *'"op":"shutdown"'*) echo "{\"id\":\"$id\"}"; exit 0;; esac
  yes 'a line of the log of the client under test, one of many' | head -c 2000000 >&2
  printf '{"id":"%s","outcome":"ok","detail":"' "$id"; head -c 4000000 /dev/zero | tr '\0' d; printf ' secret %s"}\n' "$(cat "$OAUTHSIM_CLIENT_SECRET_FILE")"
done
`), 0o700)).To(Succeed())
		scenario := filepath.Join(dir, "calls.yaml")
		Expect(os.WriteFile(scenario, []byte("description: twenty calls as the client itself\nrequires: [client_credentials]\nsteps:\n  - call: {client_credentials: true, times: 20}\n"), 0o600)).To(Succeed())
		out := filepath.Join(dir, "out")
		s := runBinary("conform", "--client-cmd", client, "--scenarios", scenario, "--out", out)
		Expect(s.ExitCode()).To(Equal(1), "the secret in the details is a leak: %s", s.Err.Contents())
		// Unbounded, the harness held 80 MB of details and wrote each
		// into results.json and index.html.
		Expect(s.Command.ProcessState.SysUsage().(*syscall.Rusage).Maxrss).To(BeNumerically("<", 256<<10), "the harness's peak RSS, in KiB")
		for _, name := range []string{"results.json", "junit.xml", "index.html", "summary.md"} {
			info, err := os.Stat(filepath.Join(out, name))
			Expect(err).NotTo(HaveOccurred())
			Expect(info.Size()).To(BeNumerically("<", 1<<20), name)
		}
		res, err := reports.ReadJSON(filepath.Join(out, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		run := res.Runs[0]
		Expect(run.Steps[0].Outcomes).To(HaveLen(20))
		for _, o := range run.Steps[0].Outcomes {
			Expect(o.Detail).To(HavePrefix(strings.Repeat("d", 4096) + " [oauthsim: "))
			Expect(o.Detail[4096:]).To(MatchRegexp(`^ \[oauthsim: 3995\d{3} bytes of the detail left out here\]$`))
		}
		Expect(run.Output).To(MatchRegexp(`^\[oauthsim: \d+ bytes of the client's output left out before this\]\na line of the log`))
		Expect(len(run.Output)).To(BeNumerically("<", 17<<10))
		var leak reports.Verdict
		for _, v := range run.Checks {
			if v.Check == conformance.CheckNoSecretsInOutput {
				leak = v
			}
		}
		Expect(leak.Status).To(Equal(reports.StatusFail))
		Expect(leak.Message).To(MatchRegexp(`^the client's protocol answers contain 1 client secret value\(s\) the provider issued \(as issued\), first here: "…d+ secret \[MASKED\]\\"}"$`))
	})

	It("refuses an --out where a report's name holds a file it did not write, before running anything", func() {
		out := GinkgoT().TempDir()
		page := filepath.Join(out, "index.html")
		Expect(os.WriteFile(page, []byte("<!doctype html><title>My project</title>"), 0o644)).To(Succeed())
		s := runBinary("conform", "--scenarios", filepath.Join("..", "..", "scenarios", "rotation-basic.yaml"), "--out", out)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("--out: " + page + " is in the way: it is not a report oauthsim wrote, and oauthsim does not replace it"))
		Expect(string(s.Out.Contents())).NotTo(ContainSubstring("Ran "), "no spec ran")
		b, err := os.ReadFile(page)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(Equal("<!doctype html><title>My project</title>"))
	})

	It("exits 2 for a bad scenario file, a bad or empty label filter, an unknown client and a stray --expect-fail", func() {
		bad := filepath.Join(GinkgoT().TempDir(), "bad.yaml")
		Expect(os.WriteFile(bad, []byte("description: x\nsteps:\n  - call: {times: -1}\n"), 0o600)).To(Succeed())
		s := runBinary("conform", "--scenarios", bad)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(bad + ":3:12: call.times: -1 is not between 0 and 1000"))
		s = runBinary("conform", "--label-filter", "((")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("--label-filter: Syntax Error"))
		s = runBinary("conform", "--client", "nosuch")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(`--client "nosuch": no such client`))
		out := filepath.Join(GinkgoT().TempDir(), "out")
		s = runBinary("conform", "--label-filter", "no-such-tag", "--out", out)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Out.Contents())).To(BeEmpty(), "no run started")
		Expect(string(s.Err.Contents())).To(Equal("oauthsim: --label-filter \"no-such-tag\" selects no run of 1 client(s) × " + fmt.Sprint(len(bundled)) +
			" scenario(s): nothing ran, no reports written\nRun 'oauthsim conform --help' for usage.\n"))
		Expect(out).NotTo(BeAnExistingFile(), "the reports directory is left alone")
		s = runBinary("conform", "--client", "reference", "--expect-fail", "mutant/*")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(`--expect-fail "mutant/*" matches none of the clients selected`))
	})
})

var _ = Describe("oauthsim conform's terminal output", func() {
	rotation := filepath.Join("..", "..", "scenarios", "rotation-basic.yaml")

	It("speaks of runs in a few plain lines when every failure was expected, and lists the runs in one order", func() {
		out := GinkgoT().TempDir()
		s := runBinary("conform", "--client", "reference", "--client", "mutant/memory_only", "--client", "mutant/keep_old_refresh_token",
			"--expect-fail", "mutant/*", "--out", out)
		Expect(s.ExitCode()).To(Equal(0), "%s", s.Err.Contents())
		stdout := string(s.Out.Contents())
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		// The header, a blank line, the tally, the reports, the verdict;
		// Ginkgo's reporter printed thousands of lines here.
		Expect(lines).To(HaveLen(5), stdout)
		Expect(lines[0]).To(Equal(fmt.Sprintf("oauthsim conform: %d runs (3 client(s) × %d scenario(s)%s), %d checks each", 3*len(bundled), len(bundled), browserLeftOut, len(conformance.Checks()))))
		Expect(lines[2]).To(MatchRegexp(`^%d runs: \d+ passed, 0 failed, \d+ expected to fail and did, \d+ skipped, 0 errored, in `, 3*len(bundled)))
		Expect(lines[4]).To(Equal("OK: the 2 clients broken on purpose failed as expected; no other run failed or errored"))
		Expect(stdout).NotTo(ContainSubstring("FAIL"))
		Expect(stdout).NotTo(ContainSubstring("spec"), "runs and checks, never Ginkgo's specs")
		Expect(stdout).NotTo(ContainSubstring("\r"), "not a terminal: no line rewritten in place")
		Expect(stdout).NotTo(ContainSubstring("\x1b"), "not a terminal: no colour")
		Expect(s.Err.Contents()).To(BeEmpty())
		// Whatever order Ginkgo ran them in: clients in the order selected,
		// then scenarios by name.
		res, err := reports.ReadJSON(filepath.Join(out, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Runs).To(HaveLen(3 * len(bundled)))
		var order, sorted []string
		for _, r := range res.Runs {
			order = append(order, r.Client+" "+r.Scenario)
		}
		for _, c := range []string{"reference", "mutant/keep_old_refresh_token", "mutant/memory_only"} {
			var names []string
			for _, sc := range bundled {
				names = append(names, c+" "+sc.Name)
			}
			slices.Sort(names)
			sorted = append(sorted, names...)
		}
		Expect(order).To(Equal(sorted))
	})

	It("shows each failed run of a client not expected to fail, and ends with FAILED and status 1", func() {
		s := runBinary("conform", "--client", "reference", "--client", "mutant/keep_old_refresh_token", "--scenarios", rotation, "--out", GinkgoT().TempDir())
		Expect(s.ExitCode()).To(Equal(1))
		Expect(string(s.Out.Contents())).To(ContainSubstring("\nfailed:  mutant/keep_old_refresh_token × rotation-basic: expectations, no-superseded-refresh-token\n"))
		Expect(string(s.Out.Contents())).To(ContainSubstring("\n2 runs: 1 passed, 1 failed, 0 skipped, 0 errored, in "))
		Expect(string(s.Err.Contents())).To(Equal("oauthsim: FAILED: mutant/keep_old_refresh_token failed 1 run(s)\n"))
	})

	It("says why --findings exits 0 with failed checks", func() {
		s := runBinary("conform", "--client", "mutant/keep_old_refresh_token", "--findings", "--scenarios", rotation, "--out", GinkgoT().TempDir())
		Expect(s.ExitCode()).To(Equal(0))
		Expect(string(s.Out.Contents())).To(HaveSuffix("\nOK: 1 run failed checks, reported as findings: with --findings failed checks do not fail the exit status, only a run that could not be carried out does\n"))
		Expect(string(s.Out.Contents())).NotTo(ContainSubstring("FAIL"))
	})

	It("gives Ginkgo's detail with -v: every check, every expected failure in full", func() {
		s := runBinary("conform", "-v", "--client", "mutant/keep_old_refresh_token", "--expect-fail", "mutant/*", "--scenarios", rotation, "--out", GinkgoT().TempDir())
		Expect(s.ExitCode()).To(Equal(0), "%s", s.Err.Contents())
		stdout := string(s.Out.Contents())
		Expect(stdout).To(ContainSubstring("[It] no-superseded-refresh-token"))
		Expect(stdout).To(ContainSubstring("Events around it (=> marks the violations):"))
		Expect(stdout).NotTo(ContainSubstring("runs done"), "no progress line beside Ginkgo's")
		Expect(stdout).To(HaveSuffix("\nOK: the 1 client broken on purpose failed as expected; no other run failed or errored\n"))
	})

	It("finds an --out it cannot write before any run", func() {
		if runtime.GOOS != "linux" {
			Skip("needs /proc, where nobody may make a directory")
		}
		s := runBinary("conform", "--scenarios", rotation, "--out", "/proc/oauthsim-reports")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Out.Contents())).To(BeEmpty(), "no run started")
		Expect(string(s.Err.Contents())).To(Equal("oauthsim: --out: mkdir /proc/oauthsim-reports: no such file or directory\n"))
		file := filepath.Join(GinkgoT().TempDir(), "reports")
		Expect(os.WriteFile(file, nil, 0o600)).To(Succeed())
		s = runBinary("conform", "--scenarios", rotation, "--out", file)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(Equal("oauthsim: --out: " + file + " is a file, not a directory\n"))
	})
})

var _ = Describe("oauthsim validate, scenarios and schema", func() {
	It("validates the bundled scenarios", func() {
		s := runBinary("validate", filepath.Join("..", "..", "scenarios"))
		Expect(s.ExitCode()).To(Equal(0))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`^\d+ scenario\(s\) valid`))
	})

	It("names the line and column of each problem, and exits 2", func() {
		bad := filepath.Join(GinkgoT().TempDir(), "bad.yaml")
		Expect(os.WriteFile(bad, []byte("description: x\nsteps:\n  - authorize: alice\n  - advance: 1h\n    restart: true\n  - call: {tims: 2}\n"), 0o600)).To(Succeed())
		s := runBinary("validate", bad)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(bad + ":4:5: a step has one action, this one has 2 (advance, restart)"))
		Expect(string(s.Err.Contents())).To(ContainSubstring(bad + `:6:12: unknown field "tims" in call`))
	})

	It("lists the scenarios with their sim time", func() {
		s := runBinary("scenarios")
		Expect(s.ExitCode()).To(Equal(0))
		for _, sc := range every {
			Expect(string(s.Out.Contents())).To(ContainSubstring(sc.Name))
		}
		Expect(string(s.Out.Contents())).To(MatchRegexp(`\d+ scenarios\s+\d+d`))
	})

	It("runs the README's example scenario: the reference passes, the variant that retries lost answers late fails", func() {
		readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
		Expect(err).NotTo(HaveOccurred())
		start := strings.Index(string(readme), "name: okta-lost-response")
		Expect(start).To(BeNumerically(">", 0))
		end := strings.Index(string(readme[start:]), "```")
		Expect(end).To(BeNumerically(">", 0))
		example := filepath.Join(GinkgoT().TempDir(), "example.yaml")
		Expect(os.WriteFile(example, readme[start:start+end], 0o600)).To(Succeed())
		out := GinkgoT().TempDir()
		s := runBinary("conform", "--scenarios", example, "--client", "reference", "--client", "mutant/retry_lost_refresh_after_grace",
			"--expect-fail", "mutant/*", "--out", out)
		Expect(s.ExitCode()).To(Equal(0), "%s", s.Err.Contents())
	})

	It("prints the scenario JSON Schema", func() {
		s := runBinary("schema")
		Expect(s.ExitCode()).To(Equal(0))
		var schema map[string]any
		Expect(json.Unmarshal(s.Out.Contents(), &schema)).To(Succeed())
		Expect(schema).To(HaveKey("$schema"))
	})
})

var _ = DescribeTable("the sim time of the scenarios list, in days and the rest",
	func(d time.Duration, want string) { Expect(days(d)).To(Equal(want)) },
	Entry("under a day", 90*time.Minute, "1h30m0s"),
	Entry("whole days", 48*time.Hour, "2d"),
	Entry("days and hours", 50*time.Hour, "2d2h"),
	Entry("days and minutes", 48*time.Hour+18*time.Minute, "2d18m"),
	Entry("seconds that end in a zero", 751*24*time.Hour+8*time.Hour+18*time.Minute+30*time.Second, "751d8h18m30s"),
)

var _ = Describe("The README", func() {
	readme := func() string {
		b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
		Expect(err).NotTo(HaveOccurred())
		return string(b)
	}
	It("has a row for every check in its checks table", func() {
		text := readme()
		for _, id := range checkid.All() {
			Expect(text).To(ContainSubstring("| `"+id+"` |"), "the checks table lacks %s", id)
		}
	})
	It("names every step of scenario files in its steps table", func() {
		text := readme()
		for _, a := range scenarios.Actions() {
			Expect(text).To(MatchRegexp("\\n\\| [^\\n]*`"+a+"`[^\\n]*\\|"), "the steps table lacks %s", a)
		}
	})
})
