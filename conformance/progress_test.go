package conformance_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/reports"
)

var _ = Describe("Progress", func() {
	// A clock the spec moves, and three runs: a pass, a failure of a
	// client broken on purpose, a failure of a correct client.
	var (
		now  time.Time
		out  *strings.Builder
		runs []reports.Run
	)
	expected := func(client string) bool { return client == "mutant/x" }
	failedRun := func(client string) reports.Run {
		return reports.Run{Client: client, Scenario: "rotation-basic", Status: reports.StatusFail, Checks: []reports.Verdict{
			{Check: "expectations", Status: reports.StatusFail}, {Check: "no-expired-access-token", Status: reports.StatusPass},
			{Check: "no-superseded-refresh-token", Status: reports.StatusFail}}}
	}
	// play shows the runs ending 20 s apart, and returns what was written.
	play := func(terminal bool) string {
		p := conformance.NewProgress(out, terminal, expected)
		p.Now = func() time.Time { return now }
		p.Drive(4)
		p.Start()
		for _, r := range runs {
			now = now.Add(20 * time.Second)
			p.Done(r)
		}
		p.Stop()
		return out.String()
	}
	BeforeEach(func() {
		now, out = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), &strings.Builder{}
		runs = []reports.Run{{Client: "reference", Scenario: "rotation-basic", Status: reports.StatusPass}, failedRun("mutant/x"), failedRun("go-ref"),
			{Client: "go-ref", Scenario: "outage", Status: reports.StatusError, Reason: "the client hung\nits stderr"}}
	})

	It("rewrites one line in place on a terminal, and writes a line of its own for each run that went wrong", func() {
		written := play(true)
		Expect(written).To(Equal("\r\x1b[K0 of 4 runs done, 0s" +
			"\r\x1b[K1 of 4 runs done, 20s" +
			"\r\x1b[K2 of 4 runs done, 1 expected to fail and did, 40s" +
			"\r\x1b[Kfailed:  go-ref × rotation-basic: expectations, no-superseded-refresh-token\n" +
			"\r\x1b[K3 of 4 runs done, 1 failed, 1 expected to fail and did, 1m0s" +
			"\r\x1b[Kerrored: go-ref × outage: the client hung\n" +
			"\r\x1b[K4 of 4 runs done, 1 failed, 1 expected to fail and did, 1 errored, 1m20s" +
			"\r\x1b[K"))
	})

	It("writes plain lines elsewhere: no carriage return, no colour, a count every 30 s", func() {
		written := play(false)
		// A line of any kind shows the run is alive: the count waits 30 s
		// from the last.
		Expect(written).To(Equal("2 of 4 runs done, 1 expected to fail and did, 40s\n" +
			"failed:  go-ref × rotation-basic: expectations, no-superseded-refresh-token\n" +
			"errored: go-ref × outage: the client hung\n"))
		Expect(written).NotTo(ContainSubstring("\r"))
		Expect(written).NotTo(ContainSubstring("\x1b"))
	})
})
