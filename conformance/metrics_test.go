package conformance_test

import (
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/reports"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// grant is a run's story so far, for the figures: events of family f1 as
// the simulator logs them, a request's tokens before the request.
type grant struct{ *story }

func newGrant() grant { return grant{newStory("description: x\nsteps:\n  - call: {}\n")} }

// access logs the mint of access token fp at offset at, living life.
func (g grant) access(at time.Duration, fp string, life time.Duration) {
	exp := conformance.Epoch.Add(at + life)
	g.event(at, events.Event{Kind: events.TokenIssued, TokenType: "access_token", Token: fp, Family: "f1", ExpiresAt: &exp})
}

// authorize logs the redemption of a code at offset at, which brings
// access token fp of an hour.
func (g grant) authorize(at time.Duration, fp string) {
	g.access(at, fp, time.Hour)
	g.event(at, events.Event{Kind: events.TokenRequest, GrantType: "authorization_code", Status: http.StatusOK, Family: "f1"})
}

// refresh logs a refresh that arrived at offset at and was answered took
// later, changed by how.
func (g grant) refresh(at, took time.Duration, how func(*events.Event)) events.Event {
	e := refreshK
	if took >= time.Millisecond {
		done := conformance.Epoch.Add(at + took)
		e.Answered = &done
	}
	if how != nil {
		how(&e)
	}
	return g.event(at, e)
}

// renewed logs a successful refresh at offset at that brings access token
// fp of an hour, minted as the request arrived.
func (g grant) renewed(at time.Duration, fp string) events.Event {
	g.access(at, fp, time.Hour)
	return g.refresh(at, 0, nil)
}

func (g grant) metrics() *reports.Metrics { return conformance.Metrics(g.rec) }

// figures are a spread's count, min, median, p95 and max.
func figures(s *reports.Spread) []time.Duration {
	return []time.Duration{time.Duration(s.Count), time.Duration(s.Min), time.Duration(s.Median), time.Duration(s.P95), time.Duration(s.Max)}
}

// failing sets a refusal of the provider's.
func failing(status int, code string) func(*events.Event) {
	return func(e *events.Event) {
		e.Status, e.Error, e.Outcome = status, code, events.OutcomeDenied
		if status >= 500 {
			e.Outcome = events.OutcomeError
		}
	}
}

// faulted sets an answer a fault gave in the provider's place.
func faulted(status int) func(*events.Event) {
	return func(e *events.Event) { e.Status, e.Outcome, e.Fault = status, events.OutcomeFault, "x" }
}

var _ = Describe("Metrics", func() {
	It("are none for a run that did not happen", func() {
		g := newGrant()
		g.rec.Skipped = "client lacks capability concurrency"
		Expect(g.metrics()).To(BeNil())
	})

	It("count no refresh and spread nothing in a run without refreshes", func() {
		g := newGrant()
		g.authorize(0, "at0")
		g.event(time.Second, api200)
		m := g.metrics()
		Expect([]any{m.Refreshes, m.Failed, m.FailureRate, m.Failures, m.Latency, m.TimeToRefresh}).To(Equal(
			[]any{0, 0, 0.0, map[string][]uint64(nil), (*reports.Spread)(nil), (*reports.Spread)(nil)}))
	})

	It("measure each answered refresh from its arrival to its answer, a held one too, and none that got no answer", func() {
		g := newGrant()
		g.authorize(0, "at0")
		for i := range 20 {
			g.refresh(time.Duration(i)*time.Minute, time.Duration(i+1)*time.Millisecond, failing(http.StatusServiceUnavailable, ""))
		}
		held := g.refresh(time.Hour, 90*time.Second, faulted(http.StatusBadGateway))
		fast := g.refresh(2*time.Hour, 0, failing(http.StatusServiceUnavailable, ""))
		g.refresh(3*time.Hour, 30*time.Second, faulted(0)) // a hang the client gave up on
		m := g.metrics()
		Expect(m.Refreshes).To(Equal(23))
		Expect(figures(m.Latency)).To(Equal([]time.Duration{22, 0, 10 * time.Millisecond, 20 * time.Millisecond, 90 * time.Second}),
			"a latency fault's 90 s counts; an answer in under 1 ms has no answer time, and counts as 0")
		Expect(m.Samples.Latency).To(ContainElements(
			reports.Sample{Seq: held.Seq, Value: reports.Duration(90 * time.Second)}, reports.Sample{Seq: fast.Seq}))
	})

	It("count every refresh that brought no tokens back as failed, by kind", func() {
		g := newGrant()
		g.authorize(0, "at0")
		var want = map[string][]uint64{}
		failed := func(kind string, e events.Event) { want[kind] = append(want[kind], e.Seq) }
		failed("invalid_grant", g.refresh(time.Minute, 0, failing(http.StatusBadRequest, "invalid_grant")))
		failed("invalid_grant", g.refresh(2*time.Minute, 0, func(e *events.Event) {
			failing(http.StatusOK, "invalid_grant")(e) // an error in a 200, as GitHub answers
		}))
		failed("invalid_client", g.refresh(3*time.Minute, 0, failing(http.StatusUnauthorized, "invalid_client")))
		failed("400", g.refresh(4*time.Minute, 0, failing(http.StatusBadRequest, "")))
		failed(conformance.FailureRateLimited, g.refresh(5*time.Minute, 0, faulted(http.StatusTooManyRequests)))
		failed(conformance.FailureServer, g.refresh(6*time.Minute, 0, failing(http.StatusInternalServerError, "server_error")))
		failed(conformance.FailureServer, g.refresh(7*time.Minute, 0, faulted(http.StatusServiceUnavailable)))
		failed(conformance.FailureLost, g.refresh(8*time.Minute, 0, faulted(0)))
		g.access(9*time.Minute, "dropped", time.Hour)
		failed(conformance.FailureLost, g.refresh(9*time.Minute, 0, func(e *events.Event) { e.Fault = "drop" }))
		failed(conformance.FailureLost, g.refresh(10*time.Minute, 0, faulted(http.StatusOK)))
		g.renewed(11*time.Minute, "at1")
		m := g.metrics()
		Expect(m.Refreshes).To(Equal(11))
		Expect(m.Failed).To(Equal(10))
		Expect(m.FailureRate).To(Equal(10.0 / 11))
		Expect(m.Failures).To(Equal(want))
	})

	It("have a failure rate of 1 and no time to refresh when every refresh fails", func() {
		g := newGrant()
		g.authorize(0, "at0")
		g.refresh(time.Hour, 0, failing(http.StatusBadRequest, "invalid_grant"))
		g.refresh(time.Hour+time.Second, 0, failing(http.StatusBadRequest, "invalid_grant"))
		m := g.metrics()
		Expect([]any{m.Refreshes, m.Failed, m.FailureRate}).To(Equal([]any{2, 2, 1.0}))
		Expect(m.TimeToRefresh).To(BeNil())
	})

	It("time each refresh against the expiry of the access token it replaced: ahead of it, or after it lapsed", func() {
		g := newGrant()
		g.authorize(0, "at0")
		early := g.renewed(50*time.Minute, "at1") // at0 expires at 1h
		late := g.renewed(2*time.Hour, "at2")     // at1 expired at 1h50m
		m := g.metrics()
		Expect(m.Samples.TimeToRefresh).To(Equal([]reports.Sample{
			{Seq: early.Seq, Value: reports.Duration(10 * time.Minute), Replaced: "at0"},
			{Seq: late.Seq, Value: reports.Duration(-10 * time.Minute), Replaced: "at1"},
		}))
		Expect(figures(m.TimeToRefresh)).To(Equal([]time.Duration{2, -10 * time.Minute, -10 * time.Minute, 10 * time.Minute, 10 * time.Minute}))
	})

	It("replace the access token the client held: not one whose answer was lost, nor one minted for a refresh that raced it", func() {
		g := newGrant()
		g.authorize(0, "at0")
		// The answer bringing at1 is dropped: the retry replaces at0.
		g.access(55*time.Minute, "at1", time.Hour)
		g.refresh(55*time.Minute, 0, func(e *events.Event) { e.Fault = "drop" })
		retry := g.renewed(65*time.Minute, "at2")
		// Two refreshes arrive before either mints (serialized per
		// family): each replaces at2, which the client held as it sent it.
		g.event(110*time.Minute+time.Millisecond, events.Event{Kind: events.ClockMoved})
		g.access(110*time.Minute+2*time.Millisecond, "at3", time.Hour)
		g.access(110*time.Minute+3*time.Millisecond, "at4", time.Hour)
		first := g.refresh(110*time.Minute, 0, nil)
		second := g.refresh(110*time.Minute+time.Millisecond, 0, nil)
		Expect(g.metrics().Samples.TimeToRefresh).To(Equal([]reports.Sample{
			{Seq: retry.Seq, Value: reports.Duration(-5 * time.Minute), Replaced: "at0"},
			{Seq: first.Seq, Value: reports.Duration(15 * time.Minute), Replaced: "at2"},
			{Seq: second.Seq, Value: reports.Duration(15*time.Minute - time.Millisecond), Replaced: "at2"},
		}))
	})

	It("know the access token of a grant the control API minted, and give no time to refresh where no token was seen or it has no expiry", func() {
		g := newGrant()
		g.access(0, "minted", time.Hour)
		g.event(0, events.Event{Kind: events.GrantMinted, Family: "f1"})
		after := g.renewed(70*time.Minute, "at1")
		other := refreshK
		other.Family = "f2" // a family whose tokens the client never got
		g.event(80*time.Minute, other)
		g.event(90*time.Minute, events.Event{Kind: events.TokenIssued, TokenType: "access_token", Token: "forever", Family: "f1"})
		forever := g.refresh(90*time.Minute, 0, nil)
		g.refresh(100*time.Minute, 0, nil)
		m := g.metrics()
		Expect(m.Refreshes).To(Equal(4))
		Expect(m.Samples.TimeToRefresh).To(Equal([]reports.Sample{
			{Seq: after.Seq, Value: reports.Duration(-10 * time.Minute), Replaced: "minted"},
			{Seq: forever.Seq, Value: reports.Duration(40 * time.Minute), Replaced: "at1"},
		}), "the refresh that replaced forever, which has no expiry, is not timed against an older token")
	})

	It("count only the client under test's refreshes", func() {
		g := newGrant()
		g.authorize(0, "at0")
		g.renewed(50*time.Minute, "at1")
		g.rec.Events = append(g.rec.Events, events.Event{Seq: 99, Time: conformance.Epoch, Kind: events.TokenRequest,
			GrantType: "refresh_token", Client: "someone-else", Status: http.StatusBadRequest, Error: "invalid_grant", Outcome: events.OutcomeDenied})
		m := g.metrics()
		Expect([]int{m.Refreshes, m.Failed}).To(Equal([]int{1, 0}))
	})
})
