//go:build browser

package browser_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/oauthsim/oauthsim/reports"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// The page is judged on a run the size of `make run`'s: 16 clients × 52
// scenarios, with about as many events, steps, outcomes and checks a run
// as its results.json has (47 events, 8 steps, 21 outcomes, 18 checks), and
// tokens, family ids and sub-second times as random as the simulator's, which is
// what makes the page hard to compress.
const fixtureClients, fixtureScenarios = 16, 52

// hostile is a scenario name that must read as itself.
const hostile = `<script>alert("scenario")</script>`

// Names of the fixture's parts that the specs look for.
const (
	buggy        = "mutant/keep_old_refresh_token"
	buggyTarget  = "no-superseded-refresh-token"
	rotation     = "rotation-basic"
	failingCheck = "reauthorize-exactly-when-dead"
	// plainFailure is a client not expected to fail that fails.
	plainFailure = "independent"
)

// providerDescription is fosite's description of invalid_grant, the long
// text each line of a buried root cause carried.
const providerDescription = "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client. The refresh token was already used."

var checkIDs = []string{
	"expectations", "no-expired-access-token", buggyTarget, "one-refresh-for-concurrent-callers",
	"honours-retry-after", "backs-off-after-failure", "no-refresh-after-invalid-grant", failingCheck,
	"no-token-or-secret-in-output", "no-retired-client-secret-reuse", "asks-for-offline-access",
	"no-refresh-of-a-fresh-token", "no-refresh-loop-on-401", "honours-api-retry-after",
	"refresh-keeps-offline-access", "verifies-callback-state", "uses-pkce-s256", "checks-id-token-nonce",
}

// fixture builds the results, in a shuffled order as the harness finishes
// them, with the clients whose names start with "mutant/" expected to fail.
func fixture() *reports.Results {
	rng := rand.New(rand.NewPCG(17, 17))
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	r := &reports.Results{SchemaVersion: reports.SchemaVersion, Tool: "browser-spec", StartedAt: t0, Duration: reports.Duration(6 * time.Minute)}
	// The longest name of make run's clients, to be read whole.
	clients := []string{"reference", plainFailure, buggy, "mutant/lose_refresh_token_on_reauthorization"}
	for i := 0; len(clients) < fixtureClients; i++ {
		clients = append(clients, fmt.Sprintf("mutant/broken_on_purpose_%02d", i))
	}
	for _, c := range clients {
		r.Clients = append(r.Clients, reports.Client{Name: c, Version: "32e64f1-dirty", Description: "a token manager", Capabilities: []string{"refresh", "concurrency"}})
	}
	scenarios := []string{rotation, hostile, "concurrent-callers-three-days-with-a-long-name"}
	for i := 0; len(scenarios) < fixtureScenarios; i++ {
		scenarios = append(scenarios, fmt.Sprintf("scenario-%02d-of-ordinary-length", i))
	}
	for _, s := range scenarios {
		r.Scenarios = append(r.Scenarios, reports.Scenario{Name: s, File: "scenarios/" + s + ".yaml", Description: "what the scenario reproduces, in a sentence", Profile: "generic"})
	}
	for _, id := range checkIDs {
		r.Checks = append(r.Checks, reports.Check{ID: id, Rationale: "one line on why a provider makes this matter"})
	}
	for ci, c := range clients {
		for si, s := range scenarios {
			r.Runs = append(r.Runs, fixtureRun(rng, c, s, t0.Add(time.Duration(ci*len(scenarios)+si)*time.Minute), ci, si))
		}
	}
	rng.Shuffle(len(r.Runs), func(i, j int) { r.Runs[i], r.Runs[j] = r.Runs[j], r.Runs[i] })
	reports.MarkExpectedFailures(r, func(c string) bool { return strings.HasPrefix(c, "mutant/") },
		func(c string) string {
			if c == buggy {
				return buggyTarget
			}
			return ""
		})
	return r
}

// fixtureRun is a day of hourly API calls with a refresh each hour; a
// third of the runs fail, and the buggy client's rotation-basic run fails
// as keep_old_refresh_token did: 22 expectation lines, then its bug.
func fixtureRun(rng *rand.Rand, client, scenario string, start time.Time, ci, si int) reports.Run {
	var (
		seq   uint64
		evs   []events.Event
		steps []reports.Step
	)
	jitter := func() time.Duration { return time.Duration(rng.IntN(9_000_000)) }
	token := func(prefix string) string {
		const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		b := []byte(prefix + "_")
		for range 8 {
			b = append(b, letters[rng.IntN(len(letters))])
		}
		return string(b)
	}
	family := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Uint64()&(1<<48-1))
	add := func(at time.Time, e events.Event) uint64 {
		seq++
		e.Seq, e.Time, e.Client, e.User = seq, at, "demo", "alice"
		evs = append(evs, e)
		return seq
	}
	issue := func(at time.Time) {
		exp := at.Add(time.Hour)
		add(at, events.Event{Kind: events.TokenIssued, TokenType: "access_token", Token: token("at"), Family: family, ExpiresAt: &exp})
		add(at, events.Event{Kind: events.TokenIssued, TokenType: "refresh_token", Token: token("rt"), Family: family})
	}
	at := start
	add(at, events.Event{Kind: events.AuthorizeRequest, Endpoint: "/oauth2/authorize", Family: family, Status: 303, Outcome: events.OutcomeOK, Scope: "openid api offline_access"})
	add(at, events.Event{Kind: events.TokenRequest, Endpoint: "/oauth2/token", GrantType: "authorization_code", Family: family, Status: 200, Outcome: events.OutcomeOK})
	issue(at)
	steps = append(steps, reports.Step{Index: 0, Line: 12, Action: "authorize", Summary: "authorize as alice", Start: at, End: at.Add(jitter())})
	calls := reports.Step{Index: 1, Line: 15, Action: "call", Summary: "call the API 24 times, every 1h0m0s", Start: at, Expected: "ok"}
	var lastRefresh uint64
	// The figures conform reads from these events: each refresh answered
	// within 9 ms, after the access token it replaced expired.
	var latency, ahead []reports.Sample
	expired := start.Add(time.Hour)
	for hour := range 6 {
		at = start.Add(time.Duration(hour+1) * time.Hour)
		add(at, events.Event{Kind: events.ClockMoved, Detail: "advanced 1h0m0s"})
		at = at.Add(jitter())
		add(at, events.Event{Kind: events.ResourceRequest, Endpoint: "/api/me", Status: 401, Outcome: events.OutcomeDenied, Error: "invalid_token", Detail: "token expired"})
		lastRefresh = add(at, events.Event{Kind: events.TokenRequest, Endpoint: "/oauth2/token", GrantType: "refresh_token", Family: family, Status: 200, Outcome: events.OutcomeOK})
		latency = append(latency, reports.Sample{Seq: lastRefresh, Value: reports.Duration(jitter())})
		ahead = append(ahead, reports.Sample{Seq: lastRefresh, Value: reports.Duration(expired.Sub(at)), Replaced: token("at")})
		expired = at.Add(time.Hour)
		add(at, events.Event{Kind: events.RefreshRotated, Family: family, Token: token("rt")})
		issue(at)
		add(at.Add(jitter()), events.Event{Kind: events.ResourceRequest, Endpoint: "/api/me", Status: 200, Outcome: events.OutcomeOK})
		if hour%2 == 1 {
			add(at, events.Event{Kind: events.FaultFired, Endpoint: "/api/me", Fault: "slow-down", Detail: "rate_limit: answered 429"})
		}
		for range 3 {
			calls.Outcomes = append(calls.Outcomes, reports.Outcome{Time: at.Add(jitter()), Result: "ok"})
		}
	}
	calls.End = at
	steps = append(steps, calls)
	for i := 2; i < 8; i++ {
		steps = append(steps, reports.Step{Index: i, Line: 15 + 2*i, Action: "advance", Summary: "advance 1h", Start: at, End: at})
	}
	run := reports.Run{Client: client, Scenario: scenario, Status: reports.StatusPass, Duration: reports.Duration(time.Duration(200+rng.IntN(900)) * time.Millisecond),
		SimStart: start, SimEnd: at, Events: evs, Steps: steps, Output: "level=info msg=\"refreshed\" token=****",
		Metrics: reports.NewMetrics(len(latency), nil, latency, ahead)}
	if si%7 == 3 {
		// Some runs with failed refreshes, which their figures break down.
		run.Metrics = reports.NewMetrics(len(latency)+3, map[string][]uint64{"429": {lastRefresh + 1}, "lost": {lastRefresh + 2},
			"invalid_grant": {lastRefresh + 3}}, latency, ahead)
	}
	for _, id := range checkIDs {
		run.Checks = append(run.Checks, reports.Verdict{Check: id, Status: reports.StatusPass})
	}
	fail := func(check, msg string, seqs ...uint64) {
		run.Status = reports.StatusFail
		for i := range run.Checks {
			if run.Checks[i].Check == check {
				run.Checks[i] = reports.Verdict{Check: check, Status: reports.StatusFail, Message: msg, Events: seqs}
			}
		}
	}
	switch {
	case client == buggy && scenario == rotation:
		var lines []string
		var seqs []uint64
		for h := 2; h < 24; h++ {
			lines = append(lines, fmt.Sprintf("step 3 (line 15, call the API 24 times, every 1h0m0s) at +%dh0m0.006s: expected ok, the client answered reauthorize (revoked): reauthorization required: revoked (400 invalid_grant: %s)", h, providerDescription))
			seqs = append(seqs, lastRefresh)
		}
		fail("expectations", strings.Join(lines, "\n"), seqs...)
		fail(buggyTarget, "at +2h0m0.006s the client presented refresh token rt_GjM2LC-Q, which a rotation had superseded: the provider detected reuse", 15, 17)
	case ci == 0 && si == fixtureScenarios-1:
		run.Status, run.Reason, run.Checks = reports.StatusSkip, "the client lacks a capability the scenario needs: consent", nil
	case ci == 1 && si == fixtureScenarios-2:
		run.Status, run.Reason = reports.StatusError, "the client stopped answering: no reply to call within 10s"
	case strings.HasPrefix(client, "mutant/") && ci < fixtureClients-1 && (ci+si)%3 == 0, client == plainFailure && si%17 == 5:
		// The last mutant fails nothing: a client expected to fail that did not.
		fail(failingCheck, fmt.Sprintf("at +%dh0m0.01s the client asked to reauthorize while its refresh token was still good", 1+si%5), lastRefresh)
	}
	return run
}
