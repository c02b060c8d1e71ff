package reports_test

import (
	"bytes"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/reports"
)

// markdown is r as summary.md.
func markdown(r *reports.Results) string {
	GinkgoHelper()
	var buf bytes.Buffer
	Expect(reports.WriteMarkdown(&buf, r)).To(Succeed())
	return buf.String()
}

var _ = Describe("summary.md", func() {
	It("heads the summary with the totals", func() {
		md := markdown(fixture())
		Expect(md).To(HavePrefix("## oauthsim conformance: ❌ 1 of 6 runs failed, 1 errored\n"))
		// Sim time counts each scenario once, by its longest run.
		Expect(md).To(ContainSubstring("**6 runs**: ✅ 3 passed · ❌ 1 failed · ⏭ 1 skipped · 💥 1 errored — 2 clients × 3 scenarios · wall time 1m35s · sim time covered 7d3h"))
	})

	It("draws the client × scenario matrix and escapes names", func() {
		md := markdown(fixture())
		Expect(md).To(ContainSubstring("| client | rotation-basic | refresh-storm | &lt;script&gt;alert(1)&lt;/script&gt; |\n|---|:-:|:-:|:-:|\n"))
		Expect(md).To(ContainSubstring("| go-ref 1.2.0 | ✅ | ❌ | ✅ |\n"))
		Expect(md).To(ContainSubstring("| py-lib 0.9.1 | 💥 | ⏭ | ✅ |\n"))
		Expect(md).NotTo(ContainSubstring("<script>"))
	})

	It("lists each failed check of each failed run and each errored run, on one line", func() {
		md := markdown(fixture())
		Expect(md).To(ContainSubstring("### Failures\n\n" +
			"- go-ref × refresh-storm: `single-flight-refresh` — 3 refreshes at +1h0m1s, at most 1 expected\n" +
			"- go-ref × refresh-storm: `backs-off-on-429` — retried 0s after a 429 that asked for 30s\n\n"))
		Expect(md).To(ContainSubstring("### Errors\n\n- py-lib × rotation-basic: client crashed: exit status 2\n"))
	})

	It("lists the runs a scenario did not exercise, failed or not", func() {
		r := fixture()
		r.Runs[0].Status, r.Runs[0].Reason = reports.StatusSkip, "this scenario did not exercise this client"
		r.Runs[0].Unexercised = []string{"slow (latency)"}
		md := markdown(r)
		Expect(md).To(ContainSubstring("### Not exercised\n\n- go-ref × rotation-basic: fault slow (latency) never fired on its requests\n"))
		Expect(markdown(fixture())).NotTo(ContainSubstring("Not exercised"))
		clean := fixture()
		clean.Runs = []reports.Run{r.Runs[0], clean.Runs[2]}
		clean.Runs[1].Status = reports.StatusPass
		Expect(markdown(clean)).To(HavePrefix("## oauthsim conformance: ✅ no failures — 1 passed, 1 skipped; 1 of 2 runs not exercised by their scenario\n"))
	})

	It("tables the checks with how often they failed and why they matter", func() {
		md := markdown(fixture())
		Expect(md).To(ContainSubstring("| `single-flight-refresh` | 1 | Providers that rotate refresh tokens revoke the family when two refreshes race. |\n"))
		Expect(md).To(ContainSubstring("| `backs-off-on-429` | 1 | Google &amp; Entra throttle clients that retry at once. |\n"))
		Expect(md).To(ContainSubstring("| `expectations` | 0 |"))
	})

	It("puts clients in columns when there are many scenarios and few clients", func() {
		md := markdown(big(3, 12))
		Expect(md).To(ContainSubstring("| scenario | client-00 1.0.0 | client-01 1.0.0 | client-02 1.0.0 |\n"))
		Expect(md).To(ContainSubstring("| scenario-01-with-a-longish-name | ✅ | ✅ | ✅ |\n"))
		Expect(md).To(ContainSubstring("| scenario-04-with-a-longish-name | ✅ | ❌ | ✅ |\n"))
	})

	It("counts per client when the matrix would not fit either way, and bounds the failure list", func() {
		md := markdown(big(16, 35))
		Expect(md).To(ContainSubstring("| client | ✅ passed | ❌ failed | ⏭ skipped | 💥 errored |\n|---|--:|--:|--:|--:|\n"))
		Expect(md).To(ContainSubstring("| client-00 1.0.0 | 28 | 7 | 0 | 0 |\n"))
		Expect(md).NotTo(ContainSubstring("| client | scenario-00"))
		Expect(strings.Count(md, "\n- client-")).To(Equal(60))
		Expect(md).To(ContainSubstring("- … and 52 more in index.html\n"))
	})
})

var _ = Describe("summary.md of clients that say too much", func() {
	It("quotes the first 300 characters of a message, a reason or a name", func() {
		r := fixture()
		r.Runs[1].Checks[0].Message = "went wrong: " + strings.Repeat("é", 4<<20)
		r.Runs[3].Reason = strings.Repeat("r", 4<<20)
		r.Clients[0].Name = strings.Repeat("n", 1<<20)
		md := markdown(r)
		Expect(len(md)).To(BeNumerically("<", 16<<10))
		Expect(md).To(ContainSubstring("`single-flight-refresh` — went wrong: " + strings.Repeat("é", 300-len("went wrong: ")) + "…\n"))
		Expect(md).To(ContainSubstring("× rotation-basic: " + strings.Repeat("r", 300) + "…\n"))
	})

	It("is cut at 1 MiB, the most a CI step summary takes, and says where the rest is", func() {
		r := &reports.Results{Clients: []reports.Client{{Name: "a"}, {Name: "b"}}}
		for i := range 4200 {
			name := fmt.Sprintf("%04d-%s", i, strings.Repeat("s", 250))
			r.Scenarios = append(r.Scenarios, reports.Scenario{Name: name})
			for _, c := range r.Clients {
				r.Runs = append(r.Runs, reports.Run{Client: c.Name, Scenario: name, Status: reports.StatusPass})
			}
		}
		md := markdown(r)
		Expect(len(md)).To(BeNumerically("<=", 1<<20))
		Expect(len(md)).To(BeNumerically(">", 1<<20-1024), "it keeps what fits")
		Expect(md).To(HaveSuffix("|\n\n**This summary is cut here**, at 1 MiB, the most a CI step summary takes: "+
			"the whole report is index.html, and the data results.json, beside summary.md.\n"), "at the end of a line")
	})
})

var _ = Describe("summary.md of a clean run", func() {
	It("says no run failed, and counts those skipped", func() {
		r := fixture()
		r.Runs = []reports.Run{r.Runs[0], r.Runs[2], r.Runs[4]}
		md := markdown(r)
		Expect(md).To(HavePrefix("## oauthsim conformance: ✅ no failures — 2 passed, 1 skipped\n"))
		Expect(md).NotTo(ContainSubstring("### Failures"))
		Expect(md).NotTo(ContainSubstring("### Errors"))
	})

	It("says all runs passed when they did", func() {
		r := fixture()
		r.Runs = []reports.Run{r.Runs[0], r.Runs[2]}
		Expect(markdown(r)).To(HavePrefix("## oauthsim conformance: ✅ all runs passed\n"))
	})

	It("says no run passed when every run was skipped, with no mark", func() {
		r := fixture()
		r.Runs = []reports.Run{r.Runs[4]}
		Expect(markdown(r)).To(HavePrefix("## oauthsim conformance: no run passed\n"))
	})
})

var _ = Describe("The terminal's tally", func() {
	It("counts the runs by status, and those their scenario did not exercise", func() {
		r := fixture()
		Expect(reports.Tally(r)).To(MatchRegexp(`^6 runs: 3 passed, 1 failed, 1 skipped, 1 errored, in \S+$`))
		r.Runs[0].Unexercised = []string{"slow (latency)"}
		Expect(reports.Tally(r)).To(HaveSuffix("; 1 not exercised by a fault of their scenario (summary.md lists them)"))
	})
})
