package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/conformance"
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

var bundled = func() []*scenarios.Scenario {
	scs, err := scenarios.Bundled()
	if err != nil {
		panic(err)
	}
	return scs
}()

var _ = Describe("oauthsim conform", func() {
	It("passes the reference on every bundled scenario, and writes the four reports", func() {
		out := GinkgoT().TempDir()
		s := runBinary("conform", "--client", "reference", "--out", out)
		Expect(s.ExitCode()).To(Equal(0), "%s", s.Out.Contents())
		Expect(string(s.Out.Contents())).To(ContainSubstring(fmt.Sprintf("%d runs: %d passed, 0 failed, 1 skipped", len(bundled), len(bundled)-1)))
		for _, f := range []string{"results.json", "junit.xml", "index.html", "summary.md"} {
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

	It("tests the other clients when one cannot even be probed, and keeps clients of one name apart", func() {
		dir := GinkgoT().TempDir()
		write := func(name, body string) string {
			path := filepath.Join(dir, name)
			Expect(os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o700)).To(Succeed())
			return path
		}
		broken := write("broken.sh", "echo 'not a hello'\n")
		// Called what the built-in reference is called; it answers every
		// request "ok", so its runs end at the authorization.
		impostor := write("impostor.sh", `echo '{"hello":{"protocol":1,"name":"reference","version":"0","capabilities":["refresh","clock:now"]}}'
while read line; do id=$(echo "$line" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  case "$line" in *'"op":"shutdown"'*) echo "{\"id\":\"$id\"}"; exit 0;; esac
  echo "{\"id\":\"$id\",\"outcome\":\"ok\"}"
done
`)
		// Ginkgo's labels ignore case, so neither may this name.
		body, err := os.ReadFile(impostor)
		Expect(err).NotTo(HaveOccurred())
		shouting := write("shouting.sh", strings.Replace(strings.TrimPrefix(string(body), "#!/bin/sh\n"), `"name":"reference"`, `"name":"REFERENCE"`, 1))
		out := GinkgoT().TempDir()
		s := runBinary("conform", "--client", "reference", "--client-cmd", broken, "--client-cmd", impostor, "--client-cmd", shouting,
			"--scenarios", filepath.Join("..", "..", "scenarios", "rotation-basic.yaml"), "--out", out)
		Expect(s.ExitCode()).To(Equal(1), "a client that could not be run is an error")
		Expect(string(s.Out.Contents())).To(ContainSubstring(`another client is called "reference"; this one is "reference#2" here`))
		Expect(string(s.Out.Contents())).To(ContainSubstring(`another client is called "REFERENCE"; this one is "REFERENCE#3" here`))
		res, err := reports.ReadJSON(filepath.Join(out, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		status := map[string]string{}
		for _, r := range res.Runs {
			status[r.Client] = r.Status + " " + r.Reason
		}
		Expect(status).To(HaveKeyWithValue("reference", HavePrefix(reports.StatusPass)))
		Expect(status).To(HaveKeyWithValue(broken, And(HavePrefix(reports.StatusError), ContainSubstring("not a hello"))))
		Expect(status).To(HaveKeyWithValue("reference#2", And(HavePrefix(reports.StatusError), ContainSubstring("without a url"))))
		// Each client's label selects it alone, the path's "/" and all.
		s = runBinary("conform", "--client", "reference", "--client-cmd", broken, "--label-filter", conformance.ClientLabel(broken),
			"--scenarios", filepath.Join("..", "..", "scenarios", "rotation-basic.yaml"), "--out", out)
		Expect(s.ExitCode()).To(Equal(1))
		res, err = reports.ReadJSON(filepath.Join(out, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Runs).To(HaveLen(1))
		Expect(res.Runs[0].Client).To(Equal(broken))
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
		out := GinkgoT().TempDir()
		s = runBinary("conform", "--label-filter", "no-such-tag", "--out", out)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(`--label-filter "no-such-tag" selects no run: no reports written`))
		Expect(filepath.Join(out, "junit.xml")).NotTo(BeAnExistingFile())
		s = runBinary("conform", "--client", "reference", "--expect-fail", "mutant/*")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(`--expect-fail "mutant/*" matches none of the clients selected`))
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
		for _, sc := range bundled {
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
