package conformance_test

import (
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// tokenRequests makes a run whose only events are token requests at the
// given offsets from its start, each answered with the given status (0:
// no answer), one RetryAt where given.
func tokenRequests(reqs ...tokenRequest) *conformance.Record {
	sc, err := scenarios.Parse("timing.yaml", []byte("description: timing\nsteps:\n  - call: {}\n"))
	Expect(err).NotTo(HaveOccurred())
	start := conformance.Epoch
	rec := &conformance.Record{Scenario: sc, SimStart: start, ClientID: "demo"}
	for i, q := range reqs {
		e := events.Event{Seq: uint64(i + 1), Time: start.Add(q.at), Kind: events.TokenRequest, GrantType: "refresh_token", Client: "demo", Status: q.status, Outcome: events.OutcomeOK}
		switch {
		case q.status == 0:
			e.Outcome = events.OutcomeFault
		case q.status >= 500:
			e.Outcome = events.OutcomeError
		case q.status >= 400:
			e.Outcome = events.OutcomeDenied
		}
		if q.retryAfter > 0 {
			at := e.Time.Add(q.retryAfter)
			e.RetryAt = &at
		}
		rec.Events = append(rec.Events, e)
	}
	return rec
}

type tokenRequest struct {
	at         time.Duration
	status     int
	retryAfter time.Duration
}

// outage is a failed token request, then n more every apart, as
// arguments of an Entry.
func outage(n int, every time.Duration) []any {
	out := []any{tokenRequest{0, 503, 0}}
	for i := 1; i <= n; i++ {
		out = append(out, tokenRequest{time.Duration(i) * every, 503, 0})
	}
	return out
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

var _ = Describe("The timing checks", func() {
	judge := func(id string, rec *conformance.Record) conformance.Judgement {
		c, ok := conformance.LookupCheck(id)
		Expect(ok).To(BeTrue())
		return c.Judge(rec)
	}

	DescribeTable("backs-off-after-failure",
		func(pass bool, reqs ...tokenRequest) {
			j := judge(conformance.CheckBackoff, tokenRequests(reqs...))
			Expect(j.Applies).To(BeTrue())
			if pass {
				Expect(j.Failures).To(BeEmpty())
			} else {
				Expect(j.Failures).NotTo(BeEmpty())
			}
		},
		Entry("passes gaxios's 100 ms, then 500 ms, then 1.5 s", true,
			tokenRequest{0, 503, 0}, tokenRequest{ms(100), 503, 0}, tokenRequest{ms(600), 503, 0}, tokenRequest{ms(2100), http.StatusOK, 0}),
		Entry("passes a jittered delay shorter than the one before, while the sum grows", true,
			tokenRequest{0, 0, 0}, tokenRequest{ms(400), 0, 0}, tokenRequest{ms(450), 0, 0}, tokenRequest{ms(2000), http.StatusOK, 0}),
		Entry("passes a capped delay held for a long outage", append([]any{true}, outage(30, time.Minute)...)...),
		Entry("fails a retry 2 ms after a failure", false,
			tokenRequest{0, 429, 0}, tokenRequest{ms(2), http.StatusOK, 0}),
		Entry("fails delays that do not grow: every 100 ms", false,
			tokenRequest{0, 503, 0}, tokenRequest{ms(100), 503, 0}, tokenRequest{ms(200), 503, 0}, tokenRequest{ms(300), 503, 0}),
	)

	It("counts a rate limit's answer as a failure whatever its status (Google's 403 page)", func() {
		rec := tokenRequests(tokenRequest{0, http.StatusForbidden, 0}, tokenRequest{ms(1), http.StatusOK, 0})
		rec.Events[0].Fault = "f1"
		rec.Events = append([]events.Event{{Seq: 0, Time: rec.SimStart, Kind: events.FaultAdded, Fault: "f1", Detail: "rate_limit"}}, rec.Events...)
		j := judge(conformance.CheckBackoff, rec)
		Expect(j.Failures).To(ConsistOf(ContainSubstring("a retry at once")))
	})

	It("does not apply where no token request failed", func() {
		j := judge(conformance.CheckBackoff, tokenRequests(tokenRequest{0, http.StatusOK, 0}, tokenRequest{ms(1), http.StatusOK, 0}))
		Expect(j.Applies).To(BeFalse())
	})

	DescribeTable("honours-retry-after, to the second",
		func(retryAt time.Duration, pass bool) {
			j := judge(conformance.CheckRetryAfter, tokenRequests(tokenRequest{0, 429, 30 * time.Second}, tokenRequest{retryAt, http.StatusOK, 0}))
			Expect(j.Applies).To(BeTrue())
			Expect(j.Passed()).To(Equal(pass))
		},
		Entry("on time", 30*time.Second, true),
		Entry("later", time.Minute, true),
		Entry("within the second the header names", 29*time.Second+ms(200), true),
		Entry("a second early", 29*time.Second, false),
		Entry("at once", ms(5), false),
	)
})
