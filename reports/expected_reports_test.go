package reports_test

import (
	"bytes"
	"encoding/xml"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/reports"
)

// withBroken is a run that conform passes: go-ref passes both scenarios,
// and mutant/caught, broken on purpose (--expect-fail), passes
// rotation-basic and fails refresh-storm on single-flight-refresh, the
// check written for its bug. Each client of missed is broken on purpose
// too, and passes rotation-basic: expected to fail, it did not.
func withBroken(missed ...string) *reports.Results {
	r := fixture()
	pass, storm := r.Runs[0], r.Runs[1]
	calm := pass
	calm.Scenario = "refresh-storm"
	r.Scenarios = r.Scenarios[:2]
	r.Clients = []reports.Client{r.Clients[0], {Name: "mutant/caught", Version: "1.2.0"}}
	r.Runs = []reports.Run{pass, calm, pass, storm}
	r.Runs[2].Client, r.Runs[3].Client = "mutant/caught", "mutant/caught"
	for _, name := range missed {
		r.Clients = append(r.Clients, reports.Client{Name: name})
		run := pass
		run.Client = name
		r.Runs = append(r.Runs, run)
	}
	reports.MarkExpectedFailures(r, func(c string) bool { return strings.HasPrefix(c, "mutant/") },
		func(string) string { return "single-flight-refresh" })
	return r
}

// junit is r as junit.xml, read as a CI server reads it.
func junit(r *reports.Results) xSuites {
	GinkgoHelper()
	var buf bytes.Buffer
	Expect(reports.WriteJUnit(&buf, r)).To(Succeed())
	var doc xSuites
	Expect(xml.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
	return doc
}

// suite is the testsuite of client.
func (d xSuites) suite(client string) xSuite {
	GinkgoHelper()
	for _, s := range d.Suites {
		if s.Name == client {
			return s
		}
	}
	Fail("no testsuite " + client)
	return xSuite{}
}

// testcase is the testcase of the suite called name.
func (s xSuite) testcase(name string) xCase {
	GinkgoHelper()
	for _, c := range s.Cases {
		if c.Name == name {
			return c
		}
	}
	Fail("no testcase " + name + " in " + s.Name)
	return xCase{}
}

var _ = Describe("junit.xml with clients expected to fail", func() {
	It("skips an expected failure as such, keeping what the failure says", func() {
		doc := junit(withBroken())
		Expect([]int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped}).To(Equal([]int{5, 0, 0, 1}),
			"4 runs and the broken client's own testcase; the expected failure is skipped")
		storm := doc.suite("mutant/caught").testcase("refresh-storm")
		Expect([]int{len(storm.Failures), len(storm.Errors), len(storm.Skipped)}).To(Equal([]int{0, 0, 1}))
		skip := storm.Skipped[0]
		Expect(skip.Type).To(Equal("expected-failure"))
		Expect(skip.Message).To(Equal("expected failure: mutant/caught is broken on purpose (--expect-fail); failed checks: single-flight-refresh, backs-off-on-429"))
		// The same run of a client not expected to fail is a failure.
		failure := junit(fixture()).suite("go-ref").testcase("refresh-storm").Failures
		Expect(failure).To(HaveLen(1))
		Expect(skip.Body).To(Equal(failure[0].Body), "all that its failure would say")
		Expect(skip.Body).To(ContainSubstring("single-flight-refresh: 3 refreshes at +1h0m1s"))
		Expect(storm.SystemOut).To(HavePrefix("level=info msg=refreshing"), "system-out stays the client's log")
	})

	It("marks the suite and every run of a client expected to fail, and no other", func() {
		doc := junit(withBroken())
		caught, goRef := doc.suite("mutant/caught"), doc.suite("go-ref")
		Expect(caught.Properties).To(ContainElement(HaveField("Name", "oauthsim.expect-fail")))
		Expect(goRef.Properties).NotTo(ContainElement(HaveField("Name", "oauthsim.expect-fail")))
		Expect(caught.Cases).To(HaveLen(3))
		for _, c := range caught.Cases {
			Expect(c.Properties).To(ContainElement(xProperty{Name: "oauthsim.expect-fail", Value: "true"}), c.Name)
		}
		for _, c := range goRef.Cases {
			Expect(c.Properties).To(BeEmpty(), c.Name)
		}
	})

	It("passes a client expected to fail that did, and fails one that did not", func() {
		doc := junit(withBroken("mutant/missed"))
		Expect(doc.suite("mutant/caught").testcase("expected to fail").Failures).To(BeEmpty())
		missed := doc.suite("mutant/missed")
		Expect([]int{missed.Tests, missed.Failures, missed.Skipped}).To(Equal([]int{2, 1, 0}))
		f := missed.testcase("expected to fail").Failures
		Expect(f).To(HaveLen(1))
		Expect(f[0].Type).To(Equal("expected-to-fail-and-did-not"))
		Expect(f[0].Message).To(Equal("mutant/missed was expected to fail, and passed"))
		Expect(f[0].Body).To(ContainSubstring("a check no longer catches what it was written for"))
		Expect(missed.testcase("rotation-basic").Failures).To(BeEmpty(), "its passing run is a pass")
		Expect([]int{doc.Tests, doc.Failures}).To(Equal([]int{7, 1}))
	})

	It("gives a broken client that a label filter left without runs no testcase", func() {
		r := withBroken()
		r.Clients = append(r.Clients, reports.Client{Name: "mutant/idle", ExpectFail: true})
		Expect(junit(r).suite("mutant/idle").Cases).To(BeEmpty())
	})

	DescribeTable("is green exactly when conform passes",
		func(r *reports.Results, passed bool) {
			Expect(r.Passed()).To(Equal(passed))
			doc := junit(r)
			Expect(doc.Failures == 0 && doc.Errors == 0).To(Equal(passed))
			// The counts are those of the elements a reader sees.
			var tests, failures, errors, skipped int
			for _, s := range doc.Suites {
				Expect(s.Tests).To(Equal(len(s.Cases)), s.Name)
				tests += s.Tests
				failures += s.Failures
				errors += s.Errors
				skipped += s.Skipped
				var f, e, k int
				for _, c := range s.Cases {
					f, e, k = f+len(c.Failures), e+len(c.Errors), k+len(c.Skipped)
				}
				Expect([]int{s.Failures, s.Errors, s.Skipped}).To(Equal([]int{f, e, k}), s.Name)
			}
			Expect([]int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped}).To(Equal([]int{tests, failures, errors, skipped}))
		},
		Entry("with no client expected to fail, and failures", fixture(), false),
		Entry("with a client expected to fail that did", withBroken(), true),
		Entry("with a client expected to fail that did not", withBroken("mutant/missed"), false),
		Entry("with a correct client's failure beside an expected one", func() *reports.Results {
			r := withBroken()
			r.Runs[1] = r.Runs[3]
			r.Runs[1].Client, r.Runs[1].ExpectedFailure = "go-ref", false
			return r
		}(), false),
		Entry("with an errored run of a client expected to fail", func() *reports.Results {
			r := withBroken()
			r.Runs[2].Status, r.Runs[2].Reason = reports.StatusError, "client crashed"
			return r
		}(), false),
	)
})

var _ = Describe("summary.md with clients expected to fail", func() {
	It("heads a run that passed as passed, counting the expected failures apart", func() {
		md := markdown(withBroken())
		Expect(md).To(HavePrefix("## oauthsim conformance: ✅ no failures — 3 passed, 1 expected to fail and did\n\n" +
			"**4 runs**: ✅ 3 passed · ❌ 0 failed · 🐛 1 expected to fail and did · ⏭ 0 skipped · 💥 0 errored — "))
	})

	It("presents no expected failure as a failure", func() {
		md := markdown(withBroken())
		Expect(md).To(ContainSubstring("| go-ref 1.2.0 | ✅ | ✅ |\n| mutant/caught 1.2.0 (expected to fail) | ✅ | 🐛 |\n"))
		Expect(strings.Count(md, "❌")).To(Equal(1), "only in '❌ 0 failed'")
		Expect(md).NotTo(ContainSubstring("### Failures"))
		Expect(md).NotTo(ContainSubstring("did not"))
		Expect(md).To(ContainSubstring("| `single-flight-refresh` | 0 | 1 | Providers"), "failed runs, then expected failures")
	})

	It("says which checks caught each client expected to fail, one line each", func() {
		md := markdown(withBroken())
		Expect(md).To(ContainSubstring("### 🐛 Clients expected to fail and did\n\n" +
			"Broken on purpose (--expect-fail): their failed runs are expected failures, not failures.\n\n" +
			"- mutant/caught: 1 of 2 runs, caught by `single-flight-refresh` ×1, `backs-off-on-429` ×1\n\n"))
	})

	It("puts a client expected to fail that did not at the top, as a failure", func() {
		md := markdown(withBroken("mutant/missed", "mutant/also_missed"))
		Expect(md).To(HavePrefix("## oauthsim conformance: ❌ 2 clients expected to fail and did not\n"))
		section := "### ❌ Clients expected to fail and did not\n\n" +
			"- **mutant/missed** was expected to fail, and passed\n- **mutant/also\\_missed** was expected to fail, and passed\n\n"
		Expect(md).To(ContainSubstring(section))
		Expect(strings.Index(md, section)).To(BeNumerically("<", strings.Index(md, "| client |")), "before the matrix")
	})

	It("heads them before the failed runs when there are both", func() {
		r := withBroken("mutant/missed")
		r.Runs[1] = r.Runs[3]
		r.Runs[1].Client, r.Runs[1].ExpectedFailure = "go-ref", false
		md := markdown(r)
		Expect(md).To(HavePrefix("## oauthsim conformance: ❌ 1 client expected to fail and did not; 1 of 5 runs failed\n"))
		Expect(md).To(ContainSubstring("### Failures\n\n- go-ref × refresh-storm: `single-flight-refresh`"))
		Expect(md).NotTo(ContainSubstring("- mutant/caught × refresh-storm"))
	})

	It("adds a column of expected failures to the counts per client", func() {
		r := big(16, 35)
		reports.MarkExpectedFailures(r, func(c string) bool { return c == "client-00" }, func(string) string { return "" })
		md := markdown(r)
		Expect(md).To(HavePrefix("## oauthsim conformance: ❌ 105 of 560 runs failed\n"))
		Expect(md).To(ContainSubstring("| client | ✅ passed | ❌ failed | 🐛 expected to fail and did | ⏭ skipped | 💥 errored |\n|---|--:|--:|--:|--:|--:|\n"))
		Expect(md).To(ContainSubstring("| client-00 1.0.0 (expected to fail) | 28 | 0 | 7 | 0 | 0 |\n"))
		Expect(md).To(ContainSubstring("| client-01 1.0.0 | 28 | 7 | 0 | 0 | 0 |\n"))
		Expect(md).NotTo(ContainSubstring("- client-00 ×"), "its failed runs are not listed as failures")
		Expect(md).To(ContainSubstring("- … and 45 more in index.html\n"))
		Expect(md).To(ContainSubstring("- client-00: 7 of 35 runs, caught by `single-flight-refresh` ×7\n"))
	})
})

var _ = Describe("The terminal's tally with clients expected to fail", func() {
	It("counts expected failures apart, in the headline's words", func() {
		Expect(reports.Tally(withBroken())).To(MatchRegexp(`^4 runs: 3 passed, 0 failed, 1 expected to fail and did, 0 skipped, 0 errored, in \S+$`))
		Expect(reports.Tally(withBroken("mutant/missed"))).To(HaveSuffix("; 1 client expected to fail and did not"))
		Expect(reports.Tally(withBroken("mutant/missed", "mutant/also_missed"))).To(HaveSuffix("; 2 clients expected to fail and did not"))
	})
})
