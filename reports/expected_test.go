package reports_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/reports"
)

var _ = Describe("Expected failures (--expect-fail)", func() {
	// run is a run of client with the target check's status.
	run := func(client, scenario, status, target string) reports.Run {
		return reports.Run{Client: client, Scenario: scenario, Status: status,
			Checks: []reports.Verdict{{Check: "other", Status: reports.StatusPass}, {Check: "bug-check", Status: target}}}
	}
	results := func(runs ...reports.Run) *reports.Results {
		return &reports.Results{
			Clients: []reports.Client{{Name: "go-ref"}, {Name: "mutant/a"}, {Name: "mutant/b"}},
			Runs:    runs,
		}
	}
	mark := func(r *reports.Results) {
		reports.MarkExpectedFailures(r, func(c string) bool { return c != "go-ref" }, func(string) string { return "bug-check" })
	}

	It("count a broken client's failed runs as expected failures, not failures", func() {
		r := results(
			run("go-ref", "s1", reports.StatusPass, reports.StatusPass),
			run("mutant/a", "s1", reports.StatusFail, reports.StatusFail),
			run("mutant/a", "s2", reports.StatusPass, reports.StatusPass),
			run("mutant/b", "s1", reports.StatusFail, reports.StatusFail),
		)
		mark(r)
		Expect(r.Runs[0].ExpectedFailure).To(BeFalse())
		Expect(r.Runs[1].ExpectedFailure).To(BeTrue())
		Expect(r.Runs[2].ExpectedFailure).To(BeFalse(), "a broken client's passing run is a pass")
		Expect(r.Clients[0].ExpectFail).To(BeFalse())
		Expect(r.Clients[1].ExpectFail).To(BeTrue())
		Expect(r.Problems()).To(BeEmpty())
		Expect(r.Passed()).To(BeTrue())
	})

	It("fail a broken client that passed every run, or never failed the check written for its bug", func() {
		r := results(
			run("go-ref", "s1", reports.StatusPass, reports.StatusPass),
			run("mutant/a", "s1", reports.StatusPass, reports.StatusPass),
			run("mutant/b", "s1", reports.StatusFail, reports.StatusPass),
		)
		mark(r)
		Expect(r.Clients[1].Unmet).To(Equal("was expected to fail, and passed"))
		Expect(r.Clients[2].Unmet).To(Equal("failed, but not on bug-check, the check written for its bug"))
		Expect(r.Problems()).To(Equal([]string{
			"mutant/a was expected to fail, and passed",
			"mutant/b failed, but not on bug-check, the check written for its bug",
		}))
		Expect(r.Passed()).To(BeFalse())
	})

	It("still fail on a correct client's failure and on any run that could not be carried out", func() {
		r := results(
			run("go-ref", "s1", reports.StatusFail, reports.StatusFail),
			run("mutant/a", "s1", reports.StatusFail, reports.StatusFail),
			run("mutant/b", "s1", reports.StatusFail, reports.StatusFail),
			run("mutant/b", "s2", reports.StatusError, reports.StatusSkip),
		)
		mark(r)
		Expect(r.Runs[3].ExpectedFailure).To(BeFalse(), "an error is the harness's, never expected")
		Expect(r.Problems()).To(Equal([]string{
			"go-ref failed 1 run(s)",
			"mutant/b: 1 run(s) could not be carried out",
		}))
	})

	It("take a run status the reports do not know for an error, as the tally does", func() {
		r := results(run("go-ref", "s1", "exploded", reports.StatusSkip))
		mark(r)
		Expect(r.Problems()).To(Equal([]string{"go-ref: 1 run(s) could not be carried out"}))
		Expect(reports.Tally(r)).To(HavePrefix("1 run: 0 passed, 0 failed, 0 skipped, 1 errored"))
	})

	It("say nothing of a broken client that a label filter left without runs", func() {
		r := results(run("go-ref", "s1", reports.StatusPass, reports.StatusPass))
		mark(r)
		Expect(r.Clients[1].ExpectFail).To(BeTrue())
		Expect(r.Problems()).To(BeEmpty())
	})
})
