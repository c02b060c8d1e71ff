package reports_test

import (
	"fmt"
	"time"

	"github.com/oauthsim/oauthsim/reports"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// hostile is a scenario name that must come out as text in every report.
const hostile = `<script>alert(1)</script>`

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// eventLog builds a run's events in order, numbering them as the
// simulator would.
type eventLog struct {
	seq    uint64
	events []events.Event
}

func (l *eventLog) add(at time.Time, e events.Event) uint64 {
	l.seq++
	e.Seq, e.Time = l.seq, at
	l.events = append(l.events, e)
	return e.Seq
}

func expiry(t time.Time) *time.Time { return &t }

// issue records the access and refresh token a grant or refresh mints.
func (l *eventLog) issue(at time.Time, family string, n int) {
	l.add(at, events.Event{Kind: events.TokenIssued, TokenType: "access_token", Token: fmt.Sprintf("at-%s-%d", family, n), Family: family, ExpiresAt: expiry(at.Add(time.Hour))})
	l.add(at, events.Event{Kind: events.TokenIssued, TokenType: "refresh_token", Token: fmt.Sprintf("rt-%s-%d", family, n), Family: family, ExpiresAt: expiry(at.Add(30 * 24 * time.Hour))})
}

func (l *eventLog) refresh(at time.Time, family, outcome string, status int) uint64 {
	return l.add(at, events.Event{Kind: events.TokenRequest, Endpoint: "/token", GrantType: "refresh_token", Family: family, Status: status, Outcome: outcome})
}

// stormEvents is the failing run: a refresh storm at +1h that a 429 fault
// answers, then a week of idle clock, a 401, reuse detection and the
// revocation of the family.
func stormEvents() (log eventLog, hits []uint64) {
	log.add(t0, events.Event{Kind: events.TokenRequest, Endpoint: "/token", GrantType: "authorization_code", Status: 200, Outcome: events.OutcomeOK})
	log.issue(t0, "fam-a", 0)
	log.add(t0.Add(time.Second), events.Event{Kind: events.ResourceRequest, Endpoint: "/api/me", Status: 200, Outcome: events.OutcomeOK})
	log.add(t0.Add(time.Hour), events.Event{Kind: events.ClockMoved, Detail: "advanced 1h"})
	storm := t0.Add(time.Hour + time.Second)
	log.add(storm, events.Event{Kind: events.ResourceRequest, Endpoint: "/api/me", Status: 401, Outcome: events.OutcomeDenied, Error: "invalid_token", Detail: "token expired"})
	// Three refreshes at one instant: the markers must not collapse.
	hits = append(hits, log.refresh(storm, "fam-a", events.OutcomeOK, 200))
	log.issue(storm, "fam-a", 1)
	hits = append(hits, log.refresh(storm, "fam-a", events.OutcomeFault, 429))
	log.add(storm, events.Event{Kind: events.FaultFired, Endpoint: "/token", Fault: "slow-down", Detail: "rate_limit: answered 429"})
	log.refresh(storm, "fam-a", events.OutcomeError, 503)
	log.add(storm.Add(50*time.Millisecond), events.Event{Kind: events.ResourceRequest, Endpoint: "/api/me", Status: 429, Outcome: events.OutcomeFault, Fault: "slow-down"})
	log.add(storm.Add(50*time.Millisecond), events.Event{Kind: events.FaultFired, Endpoint: "/api/me", Fault: "slow-down", Detail: "rate_limit: answered 429"})
	week := t0.Add(7*24*time.Hour + time.Hour)
	log.add(week, events.Event{Kind: events.ClockMoved, Detail: "advanced 7d"})
	log.refresh(week, "fam-a", events.OutcomeDenied, 400)
	log.add(week, events.Event{Kind: events.RefreshReuseDetected, TokenType: "refresh_token", Token: "rt-fam-a-0", Family: "fam-a", Detail: "superseded at +1h"})
	log.add(week, events.Event{Kind: events.FamilyRevoked, Family: "fam-a", Reason: "refresh token reuse"})
	log.add(week.Add(2*time.Second), events.Event{Kind: events.ResourceRequest, Endpoint: "/api/me", Status: 401, Outcome: events.OutcomeDenied, Error: "invalid_token", Detail: "family revoked"})
	return log, hits
}

// calmEvents is a passing run: one grant and one refresh an hour later.
func calmEvents(start time.Time) []events.Event {
	var log eventLog
	log.add(start, events.Event{Kind: events.TokenRequest, Endpoint: "/token", GrantType: "authorization_code", Status: 200, Outcome: events.OutcomeOK})
	log.issue(start, "fam-b", 0)
	log.add(start.Add(time.Hour), events.Event{Kind: events.ClockMoved, Detail: "advanced 1h"})
	log.refresh(start.Add(time.Hour), "fam-b", events.OutcomeOK, 200)
	log.issue(start.Add(time.Hour), "fam-b", 1)
	log.add(start.Add(time.Hour+time.Second), events.Event{Kind: events.ResourceRequest, Endpoint: "/api/me", Status: 200, Outcome: events.OutcomeOK})
	return log.events
}

// calmMetrics are the figures of a run of calmEvents: its one refresh, answered
// in under a millisecond the moment the first access token expired.
func calmMetrics() *reports.Metrics {
	return reports.NewMetrics(1, nil, []reports.Sample{{Seq: 5}}, []reports.Sample{{Seq: 5, Replaced: "at-fam-b-0"}})
}

// stormMetrics are the figures of the run of stormEvents: four refreshes,
// three failed, one slow; the one that succeeded came a second after the
// access token it replaced expired.
func stormMetrics() *reports.Metrics {
	ms := func(n int) reports.Duration { return reports.Duration(time.Duration(n) * time.Millisecond) }
	return reports.NewMetrics(4, map[string][]uint64{"429": {10}, "5xx": {12}, "invalid_grant": {16}},
		[]reports.Sample{{Seq: 7, Value: ms(120)}, {Seq: 10}, {Seq: 12, Value: ms(2000)}, {Seq: 16}},
		[]reports.Sample{{Seq: 7, Value: ms(-1000), Replaced: "at-fam-a-0"}})
}

// fixture is a conformance run of two clients over three scenarios with a
// run of every status; Runs[1] fails two checks.
func fixture() *reports.Results {
	storm, hits := stormEvents()
	weekEnd := t0.Add(7*24*time.Hour + time.Hour + 5*time.Second)
	steps := []reports.Step{
		{Index: 0, Line: 12, Action: "call", Summary: "get a token", Start: t0, End: t0.Add(time.Second),
			Outcomes: []reports.Outcome{{Time: t0, Result: "ok"}}, Expected: "ok"},
		{Index: 1, Line: 14, Action: "advance", Summary: "advance 1h", Start: t0.Add(time.Hour), End: t0.Add(time.Hour)},
		{Index: 2, Line: 16, Action: "call", Summary: "call ×3 at once", Start: t0.Add(time.Hour + time.Second), End: t0.Add(time.Hour + 2*time.Second),
			Outcomes: []reports.Outcome{{Time: t0.Add(time.Hour + time.Second), Result: "ok"}, {Time: t0.Add(time.Hour + time.Second), Result: "error", Detail: "429 <too many>"}}, Expected: "ok"},
		{Index: 3, Line: 18, Action: "advance", Summary: "advance 7d", Start: t0.Add(7*24*time.Hour + time.Hour), End: t0.Add(7*24*time.Hour + time.Hour)},
		{Index: 4, Line: 20, Action: "call", Summary: "call after a week", Start: t0.Add(7*24*time.Hour + time.Hour), End: weekEnd,
			Outcomes: []reports.Outcome{{Time: weekEnd, Result: "reauthorize", Reason: "revoked"}}, Expected: "ok", Error: "expected ok, got reauthorize"},
	}
	return &reports.Results{
		SchemaVersion: reports.SchemaVersion,
		Tool:          "v0.4.0-test",
		StartedAt:     time.Date(2026, 3, 1, 8, 59, 0, 0, time.UTC),
		Duration:      reports.Duration(95 * time.Second),
		Clients: []reports.Client{
			{Name: "go-ref", Version: "1.2.0", Description: "reference token manager", Capabilities: []string{"refresh", "concurrency"}},
			{Name: "py-lib", Version: "0.9.1", Capabilities: []string{"refresh"}},
		},
		Scenarios: []reports.Scenario{
			{Name: "rotation-basic", File: "scenarios/rotation-basic.yaml", Description: "rotate once", Tags: []string{"rotation"}, Profile: "generic", SimDuration: reports.Duration(time.Hour)},
			{Name: "refresh-storm", File: "scenarios/refresh-storm.yaml", Description: "many callers, one refresh", Tags: []string{"concurrency"}, Reproduces: "issue #12", Profile: "google", SimDuration: reports.Duration(7*24*time.Hour + time.Hour)},
			{Name: hostile, File: "scenarios/evil.yaml", Description: "<b>bold</b> & brave", Profile: "generic"},
		},
		Checks: []reports.Check{
			{ID: "single-flight-refresh", Rationale: "Providers that rotate refresh tokens revoke the family when two refreshes race."},
			{ID: "backs-off-on-429", Rationale: "Google & Entra throttle clients that retry at once."},
			{ID: "expectations", Rationale: "The scenario's own expected outcomes."},
		},
		Runs: []reports.Run{
			{Client: "go-ref", Scenario: "rotation-basic", Status: reports.StatusPass, Duration: reports.Duration(2 * time.Second),
				SimStart: t0, SimEnd: t0.Add(time.Hour + time.Second), Events: calmEvents(t0), Metrics: calmMetrics(),
				Checks: []reports.Verdict{{Check: "single-flight-refresh", Status: reports.StatusPass}, {Check: "backs-off-on-429", Status: reports.StatusSkip, Message: "no 429 in this run"}, {Check: "expectations", Status: reports.StatusPass}}},
			{Client: "go-ref", Scenario: "refresh-storm", Status: reports.StatusFail, Duration: reports.Duration(12500 * time.Millisecond),
				SimStart: t0, SimEnd: weekEnd, Events: storm.events, Steps: steps, Output: "level=info msg=refreshing token=****\n<script>x</script>", Metrics: stormMetrics(),
				Checks: []reports.Verdict{
					{Check: "single-flight-refresh", Status: reports.StatusFail, Message: "3 refreshes at +1h0m1s, at most 1 expected\nthe second one raced the first", Events: hits},
					{Check: "backs-off-on-429", Status: reports.StatusFail, Message: "retried 0s after a 429 that asked for 30s"},
					{Check: "expectations", Status: reports.StatusPass},
				}},
			{Client: "go-ref", Scenario: hostile, Status: reports.StatusPass, Duration: reports.Duration(time.Second),
				SimStart: t0, SimEnd: t0.Add(time.Hour + time.Second), Events: calmEvents(t0), Metrics: calmMetrics(),
				Checks: []reports.Verdict{{Check: "expectations", Status: reports.StatusPass}}},
			{Client: "py-lib", Scenario: "rotation-basic", Status: reports.StatusError, Reason: "client crashed: exit status 2\ntraceback follows", Duration: reports.Duration(3 * time.Second),
				SimStart: t0, SimEnd: t0.Add(time.Minute), Events: calmEvents(t0)[:3], Metrics: reports.NewMetrics(0, nil, nil, nil),
				Steps: []reports.Step{{Index: 0, Line: 12, Action: "call", Summary: "get a token", Start: t0, End: t0.Add(time.Minute), Error: "client exited"}}},
			{Client: "py-lib", Scenario: "refresh-storm", Status: reports.StatusSkip, Reason: "client lacks capability concurrency"},
			{Client: "py-lib", Scenario: hostile, Status: reports.StatusPass, Duration: reports.Duration(1500 * time.Millisecond),
				SimStart: t0, SimEnd: t0.Add(time.Hour + time.Second), Events: calmEvents(t0), Metrics: calmMetrics(),
				Checks: []reports.Verdict{{Check: "expectations", Status: reports.StatusPass}}},
		},
	}
}

// big is a conformance run the size of a large matrix: clients ×
// scenarios runs of about 60 events each, a fifth of them failing.
func big(clients, scenarios int) *reports.Results {
	r := &reports.Results{SchemaVersion: reports.SchemaVersion, Tool: "v0.4.0-test", StartedAt: t0, Duration: reports.Duration(20 * time.Minute)}
	for c := range clients {
		r.Clients = append(r.Clients, reports.Client{Name: fmt.Sprintf("client-%02d", c), Version: "1.0.0", Capabilities: []string{"refresh"}})
	}
	for s := range scenarios {
		r.Scenarios = append(r.Scenarios, reports.Scenario{Name: fmt.Sprintf("scenario-%02d-with-a-longish-name", s), File: fmt.Sprintf("scenarios/s%02d.yaml", s), Description: "a scenario of average length for its description", Profile: "generic"})
	}
	checks := []string{"single-flight-refresh", "backs-off-on-429", "reauthorizes-on-revoke", "proactive-refresh", "no-token-in-logs", "expectations"}
	for _, id := range checks {
		r.Checks = append(r.Checks, reports.Check{ID: id, Rationale: "one line on why a provider makes this matter"})
	}
	for c := range clients {
		for s := range scenarios {
			start := t0.Add(time.Duration(c*scenarios+s) * time.Minute)
			var log eventLog
			var steps []reports.Step
			at := start
			for day := range 6 {
				// A burst of about ten events, then a day of idle clock.
				log.refresh(at, "fam", events.OutcomeOK, 200)
				log.issue(at, "fam", day)
				log.add(at.Add(time.Second), events.Event{Kind: events.ResourceRequest, Endpoint: "/api/me", Status: 401, Outcome: events.OutcomeDenied, Error: "invalid_token", Detail: "token expired"})
				log.add(at.Add(2*time.Second), events.Event{Kind: events.ResourceRequest, Endpoint: "/api/me", Status: 429, Outcome: events.OutcomeFault, Fault: "slow-down"})
				log.add(at.Add(2*time.Second), events.Event{Kind: events.FaultFired, Endpoint: "/api/me", Fault: "slow-down", Detail: "rate_limit: answered 429"})
				for i := range 4 {
					log.add(at.Add(time.Duration(3+i)*time.Second), events.Event{Kind: events.ResourceRequest, Endpoint: "/api/me", Status: 200, Outcome: events.OutcomeOK})
				}
				steps = append(steps,
					reports.Step{Index: 2 * day, Line: 10 + 4*day, Action: "call", Summary: "call the API five times", Start: at, End: at.Add(7 * time.Second),
						Outcomes: []reports.Outcome{{Time: at.Add(7 * time.Second), Result: "ok"}}, Expected: "ok"},
					reports.Step{Index: 2*day + 1, Line: 12 + 4*day, Action: "advance", Summary: "advance 1d", Start: at.Add(7 * time.Second), End: at.Add(24 * time.Hour)})
				at = at.Add(24 * time.Hour)
				log.add(at, events.Event{Kind: events.ClockMoved, Detail: "advanced 1d"})
			}
			run := reports.Run{Client: r.Clients[c].Name, Scenario: r.Scenarios[s].Name, Status: reports.StatusPass, Duration: reports.Duration(2 * time.Second),
				SimStart: start, SimEnd: at, Events: log.events, Steps: steps, Output: "level=info msg=done"}
			for _, id := range checks {
				run.Checks = append(run.Checks, reports.Verdict{Check: id, Status: reports.StatusPass})
			}
			if (c+s)%5 == 0 {
				run.Status = reports.StatusFail
				run.Checks[0] = reports.Verdict{Check: checks[0], Status: reports.StatusFail, Message: "2 refreshes raced at +1d, at most 1 expected", Events: []uint64{1, 2}}
			}
			r.Runs = append(r.Runs, run)
		}
	}
	return r
}
