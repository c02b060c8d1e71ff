package conformance

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/conformance/checkid"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
)

// Check is one named property of a client's behaviour, judged from a run.
type Check struct {
	// ID is stable: reports, labels and mutants refer to it.
	ID string
	// Rationale says in one line which provider behaviour makes it matter.
	Rationale string
	judge     func(*Record) Judgement
}

// Judgement is a check's verdict on one run. Applies is false when the run
// gave the check nothing to judge (no concurrent calls, no rate limit...).
type Judgement struct {
	Applies bool
	// Failures say what went wrong, one per violation; empty when it held.
	Failures []string
	// Events are the sequence numbers of the events the failures are about.
	Events []uint64
}

// Passed reports whether the check held (or had nothing to judge).
func (j Judgement) Passed() bool { return len(j.Failures) == 0 }

// fail records one violation about event e.
func (j *Judgement) fail(e events.Event, format string, args ...any) {
	j.Failures = append(j.Failures, fmt.Sprintf(format, args...))
	j.Events = append(j.Events, e.Seq)
}

// Judge applies the check to a run.
func (c Check) Judge(r *Record) Judgement { return c.judge(r) }

// IDs of the checks, as package checkid names them.
const (
	CheckExpectations         = checkid.Expectations
	CheckNoExpiredAccessToken = checkid.NoExpiredAccessToken
	CheckNoSupersededRefresh  = checkid.NoSupersededRefresh
	CheckSingleRefresh        = checkid.SingleRefresh
	CheckRetryAfter           = checkid.RetryAfter
	CheckBackoff              = checkid.Backoff
	CheckNoRefreshAfterDead   = checkid.NoRefreshAfterDead
	CheckReauthorizeWhenDead  = checkid.ReauthorizeWhenDead
	CheckNoSecretsInOutput    = checkid.NoSecretsInOutput
	CheckNoRetiredSecret      = checkid.NoRetiredSecret
	CheckAsksForOfflineAccess = checkid.AsksForOfflineAccess
	CheckNoNeedlessRefresh    = checkid.NoNeedlessRefresh
	CheckNoRefreshLoop        = checkid.NoRefreshLoop
	CheckAPIRetryAfter        = checkid.APIRetryAfter
	CheckKeepsOfflineAccess   = checkid.KeepsOfflineAccess
	CheckCallbackState        = checkid.CallbackState
	CheckPKCE                 = checkid.PKCE
	CheckNonce                = checkid.Nonce
	CheckNoPlainTextAtRest    = checkid.NoPlainTextAtRest
	CheckOwningClient         = checkid.OwningClient
)

// needlessRefreshRemainShare: a refresh with more than 1/2 of the access
// token's lifetime left is needless.
const needlessRefreshRemainShare = 2

// Checks lists every check, in the order reports show them.
func Checks() []Check {
	return []Check{
		{CheckExpectations, "The scenario's own expectations: how each call ends and how often things happen.", judgeExpectations},
		{CheckNoExpiredAccessToken, "Providers reject expired access tokens: a client that learns of expiry from a 401 fails a call at every expiry.", judgeNoExpiredAccessToken},
		{CheckNoSupersededRefresh, "Rotating providers (Okta, Auth0, Entra, Xero) revoke the whole grant when a superseded refresh token comes back.", judgeNoSupersededRefresh},
		{CheckSingleRefresh, "N callers refreshing at once send N rotations; with reuse detection all but one kill the grant. N callers that do not share a failed refresh send N requests into an outage.", judgeSingleRefresh},
		{CheckRetryAfter, "A rate-limited client that comes back before Retry-After stays limited, and some providers throttle it harder. Early is a second or more before the instant named: Retry-After is whole seconds (RFC 9110 §10.2.3).", judgeRetryAfter},
		{CheckBackoff, "Retrying a failing token endpoint at once turns a provider's outage into a storm of requests. Backing off is a retry at least 50 ms after a failure was answered, and delays that grow: the k-th retry in a row no sooner than delays doubling from 50 ms (capped at 10 s) add up to, less than any documented policy (gaxios starts at 100 ms; Google's and gRPC's guidance at 1 s).", judgeBackoff},
		{CheckNoRefreshAfterDead, "After invalid_grant the grant is dead: retrying it only adds load and, at some providers, looks like an attack.", judgeNoRefreshAfterDead},
		{CheckReauthorizeWhenDead, "Users must be asked to sign in again exactly when their grant is dead: never while it works, never left with silent failures, or told to wait, once the provider has said it died.", judgeReauthorizeWhenDead},
		{CheckNoSecretsInOutput, "Logs are shipped and kept; a token or client secret in them is a credential leak.", judgeNoSecretsInOutput},
		{CheckNoRetiredSecret, "After a client-secret rotation the old secret stops working; a client that does not read the new one when told to reload (or sooner, from its file) is locked out until restarted.", judgeNoRetiredSecret},
		{CheckAsksForOfflineAccess, "Without offline access (the scope, or Google's access_type=offline) no refresh token comes, and the user signs in again every hour.", judgeAsksForOfflineAccess},
		{CheckNoNeedlessRefresh, "Refreshing tokens that are far from expiry multiplies token traffic and trips providers' rate limits.", judgeNoNeedlessRefresh},
		{CheckNoRefreshLoop, "An API that refused a fresh token (a propagation delay, a revoked grant, a wrong audience) refuses the next one too: refreshing and retrying in a loop multiplies token traffic and trips rate limits. One refresh and one retry per call is enough.", judgeNoRefreshLoop},
		{CheckAPIRetryAfter, "APIs answer 429 and 503 with Retry-After: retrying within the same call before it, or at once, stays throttled and turns an outage into a storm. When the application calls again is its business, and is not judged.", judgeAPIRetryAfter},
		{CheckKeepsOfflineAccess, "RFC 6749 §6 lets a refresh narrow its scope, but at OpenID providers offline access is a scope: a refresh that leaves it out can come back without a refresh token, and the grant ends with the access token.", judgeKeepsOfflineAccess},
		{CheckCallbackState, "A callback whose state the client did not issue, or has spent, is an attack or a reload: redeeming its code signs the user in to an attacker's account (login CSRF, RFC 6749 §10.12) or reuses a code, which providers answer by revoking what it gave.", judgeVerifiesCallbackState},
		{CheckPKCE, "Without PKCE (RFC 7636) an intercepted authorization code can be redeemed by whoever holds it; RFC 9700 requires it of public clients and recommends it to all, with S256.", judgeUsesPKCE},
		{CheckNonce, "The nonce binds an id_token to the authorization that asked for it (OpenID Connect Core §3.1.3.7): a client that sends one and does not compare it accepts a replayed or injected id_token.", judgeChecksNonce},
		{checkid.NoPlainTextAtRest, "Token stores are copied into backups, support bundles and other people's laptops; a refresh token in plain text there is a long-lived credential for whoever reads it (OWASP's Cryptographic Storage Cheat Sheet: encrypt stored secrets, and keep the key apart from the data). Judged on every file of the state directory after every step, for every token, secret and storage key of the run, as issued and in base64, base64url, hex, JSON-escaped and URL-encoded forms.", judgeNoPlainTextAtRest},
		{checkid.OwningClient, "An integration that serves several customers' OAuth apps must refresh each grant with the credentials of the app it was issued to (RFC 6749 §6: a refresh token is bound to its client); the provider refuses any other, and the customer's integration breaks though its grant lives. A bearer access token is taken from anyone: a tenant's call made with another tenant's reads another customer's data.", judgeOwningClient},
		{checkid.BrowserNoBlankDashboard, "An embedded dashboard handed an expired access token calls the API, gets 401 and goes blank; a token manager that refreshes only by a timer does so after a laptop's sleep, when the timer fires late. Judged on every dashboard request the API refused with 401 while the user's grant was alive, unless a fault made the 401.", judgeBrowserNoBlankDashboard},
		{checkid.BrowserOneRefresh, "Dashboards and tabs that each refresh on their own multiply token traffic and, at providers that rotate with reuse detection, kill the grant with the second refresh. A refresh while the access token of the previous one still has more than half its lifetime left, with no API 401 between them, is a second refresher.", judgeBrowserOneRefresh},
		{checkid.BrowserNoTokenInURL, "URLs end up in browser history, server logs and Referer headers sent to third parties; a token in an iframe src or a query string leaks there (RFC 9700 §2.1.2, RFC 6750 §5.3).", judgeBrowserNoTokenInURL},
		{checkid.BrowserExactOrigin, "A message posted with targetOrigin \"*\" reaches whatever document the frame holds now, and a listener that does not check event.origin takes tokens from any page that can reach it (the HTML standard's postMessage security notes). The harness's probe frame, on a third origin, sends each dashboard the app's own messages with a forged token: a dashboard that calls the API with it accepted them.", judgeBrowserExactOrigin},
		{checkid.BrowserRefreshStaysInApp, "A refresh token in a dashboard's origin is a long-lived credential in a third party's hands; the dashboard needs access tokens only.", judgeBrowserRefreshStaysInApp},
		{checkid.BrowserReportsConfig, "A refresh the browser blocks (the app's origin not allowed by the provider, after a move to a new domain) fails the same way every time: swallowed, the dashboards go blank with nothing said. It must reach the user as a configuration problem.", judgeBrowserReportsConfig},
		{checkid.BrowserNavigationReuses, "A page navigation keeps sessionStorage and localStorage: a token manager that refreshes after every navigation though its cached token is valid multiplies token traffic.", judgeBrowserNavigationReuses},
	}
}

// LookupCheck finds a check by id.
func LookupCheck(id string) (Check, bool) {
	for _, c := range Checks() {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// mine keeps the events of the client under test.
func mine(r *Record) []events.Event {
	tenants := slices.Collect(maps.Values(r.TenantClients))
	out := make([]events.Event, 0, len(r.Events))
	for _, e := range r.Events {
		if e.Client == "" || e.Client == r.ClientID || slices.Contains(tenants, e.Client) {
			out = append(out, e)
		}
	}
	return out
}

func isRefresh(e events.Event) bool {
	return e.Kind == events.TokenRequest && e.GrantType == "refresh_token"
}

// deadRefusals are the store's refusals of a refresh token that mean the
// grant is gone for good.
var deadRefusals = []string{events.RefusedRevoked, events.RefusedReused, events.RefusedExpired,
	events.RefusedInactive, events.RefusedTestingApp, events.RefusedUnknown}

// failedTransiently reports whether a token request failed in a way worth
// retrying later: a rate limit, a server error, or no answer at all.
func failedTransiently(e events.Event) bool {
	return e.Kind == events.TokenRequest && (e.Status == http.StatusTooManyRequests || e.Status >= 500 ||
		(e.Outcome == events.OutcomeFault && e.Status == 0))
}

func judgeExpectations(r *Record) Judgement {
	j := Judgement{Applies: true}
	for _, s := range r.Steps {
		want, ok := s.Step.Expected()
		if !ok {
			continue
		}
		for _, c := range s.Calls {
			if want.Matches(c.Outcome, c.Reason) {
				continue
			}
			got := scenarios.Expect{Outcome: c.Outcome, Reason: c.Reason}
			msg := fmt.Sprintf("step %d (line %d, %s) at %s: expected %s, the client answered %s", s.Index+1, s.Step.Line, s.Step.Summary(), offset(r, c.Time), want, got)
			if c.Detail != "" {
				msg += ": " + c.Detail
			}
			j.Failures = append(j.Failures, msg)
			j.Events = append(j.Events, s.LastSeq)
		}
	}
	evs := mine(r)
	for _, s := range r.Steps {
		where := fmt.Sprintf("step %d (line %d, %s): ", s.Index+1, s.Step.Line, s.Step.Summary())
		expectCounts(&j, where, between(evs, s.FirstSeq, s.LastSeq), between(r.Events, s.FirstSeq, s.LastSeq), s.Step.Counts, s.Step.Fired, s.LastSeq)
	}
	expectCounts(&j, "", evs, r.Events, r.Scenario.Expect.Counts, r.Scenario.Expect.Fired, 0)
	return j
}

// expectCounts judges counts and fault firings over evs (the client's
// events) and all (every event, for firings), in a step when where says
// which, and marks event at when set.
func expectCounts(j *Judgement, where string, evs, all []events.Event, counts, fired map[string]scenarios.Range, at uint64) {
	for _, name := range sortedCounters(counts) {
		want := counts[name]
		if n := count(evs, name); !want.Holds(n) {
			j.Failures = append(j.Failures, fmt.Sprintf("%sexpected %s %s (%s), counted %d", where, want, name, scenarios.Counters[name], n))
			if at != 0 {
				j.Events = append(j.Events, at)
			}
		}
	}
	for _, id := range sortedCounters(fired) {
		want, n := fired[id], 0
		for _, e := range all {
			if e.Kind == events.FaultFired && e.Fault == id {
				n++
			}
		}
		if !want.Holds(n) {
			j.Failures = append(j.Failures, fmt.Sprintf("%sexpected fault %s to fire %s time(s), it fired %d", where, id, want, n))
			if at != 0 {
				j.Events = append(j.Events, at)
			}
		}
	}
}

// between are the events of evs numbered first to last.
func between(evs []events.Event, first, last uint64) []events.Event {
	var out []events.Event
	for _, e := range evs {
		if e.Seq >= first && e.Seq <= last {
			out = append(out, e)
		}
	}
	return out
}

func sortedCounters(m map[string]scenarios.Range) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// count counts the events a scenarios.Counters name stands for.
func count(evs []events.Event, name string) int {
	n := 0
	for _, e := range evs {
		var hit bool
		switch name {
		case "token_requests":
			hit = e.Kind == events.TokenRequest
		case "refreshes":
			hit = isRefresh(e)
		case "api_calls":
			hit = e.Kind == events.ResourceRequest
		case "unauthorized":
			hit = e.Kind == events.ResourceRequest && e.Status == http.StatusUnauthorized
		case "reuse_detected":
			hit = e.Kind == events.RefreshReuseDetected
		case "families_revoked":
			hit = e.Kind == events.FamilyRevoked
		case "revocations":
			hit = e.Kind == events.RevokeRequest
		case "authorizations":
			hit = e.Kind == events.TokenRequest && e.GrantType == "authorization_code" && e.Outcome == events.OutcomeOK
		}
		if hit {
			n++
		}
	}
	return n
}

func judgeNoExpiredAccessToken(r *Record) Judgement {
	j := Judgement{}
	for _, e := range mine(r) {
		if e.Kind != events.ResourceRequest {
			continue
		}
		j.Applies = true
		if e.Status == http.StatusUnauthorized && e.Reason == events.RefusedExpired {
			j.fail(e, "at %s the client called the API with an access token the provider considers expired (%s)", offset(r, e.Time), e.Detail)
		}
	}
	return j
}

func judgeNoSupersededRefresh(r *Record) Judgement {
	j := Judgement{}
	for _, e := range mine(r) {
		switch {
		case e.Kind == events.RefreshRotated:
			j.Applies = true
		case e.Kind == events.RefreshReuseDetected:
			j.Applies = true
			j.fail(e, "at %s the client presented refresh token %s, which a rotation had superseded: the provider detected reuse", offset(r, e.Time), e.Token)
		case isRefresh(e) && e.Reason == events.RefusedReused && !detectsReuse(r, e):
			// A provider without reuse detection refuses the token all the
			// same, and logs no reuse_detected event for it.
			j.Applies = true
			j.fail(e, "at %s the client presented refresh token %s, which a rotation had superseded", offset(r, e.Time), e.Token)
		}
	}
	return j
}

// detectsReuse reports whether the refused refresh e was also logged as
// reuse detected, so that a violation is counted once.
func detectsReuse(r *Record, e events.Event) bool {
	for _, d := range r.Events {
		if d.Kind == events.RefreshReuseDetected && d.Token == e.Token && d.Time.Equal(e.Time) {
			return true
		}
	}
	return false
}

func judgeSingleRefresh(r *Record) Judgement {
	j := Judgement{}
	evs := mine(r)
	for _, w := range windows(r) {
		if w.callers < 2 {
			continue
		}
		j.Applies = true
		s := w.step
		// Refreshes the provider carried out count: each rotates. Attempts
		// that failed (an outage, a rate limit) rotated nothing, but one
		// sent while another caller's attempt was failing (it arrived
		// before that failure was answered), or at once after, is a caller
		// that did not share the failure: N callers, N requests into an
		// outage.
		var refreshes, piled []events.Event
		var failed *events.Event
		for _, e := range between(evs, w.first, w.last) {
			if !isRefresh(e) {
				continue
			}
			if failed != nil && e.Time.Sub(answered(*failed)) < minRetryDelay {
				piled = append(piled, e)
			}
			if e.Outcome == events.OutcomeOK || e.Reason == events.RefusedReused {
				refreshes = append(refreshes, e)
			}
			if failedTransiently(e) {
				failed = &e
			} else {
				failed = nil
			}
		}
		switch {
		case len(refreshes) > 1:
			j.fail(refreshes[1], "step %d (line %d, %s) sent %d refresh requests where one serves every caller", s.Index+1, s.Step.Line, s.Step.Summary(), len(refreshes))
		case len(piled) > 0:
			j.fail(piled[0], "step %d (line %d, %s): %d refresh requests went out while another caller's refresh was failing, or less than %s after its failure was answered: the callers did not share the failed refresh's outcome, and each sent its own into the failure", s.Index+1, s.Step.Line, s.Step.Summary(), len(piled), minRetryDelay)
		}
	}
	return j
}

// Thresholds of the timing checks. Retry-After is whole seconds (RFC 9110
// §10.2.3: delay-seconds, or an HTTP-date, whose resolution is a second),
// so it is honoured to the second: a request less than a second before the
// instant named is not early. Backing off is judged by the least that any
// documented policy does: the shortest first delay among the libraries
// tested is gaxios's 100 ms (its README: retryDelay "Defaults to 100ms"),
// Google's and gRPC's guidance start at 1 s and grow (gRPC's
// connection-backoff.md: 1 s, then ×1.6), and every one of them grows. A
// retry sooner than minRetryDelay after a failure is a retry at once; and
// the k-th retry of a row of failures must come no sooner after the row's
// first failure than delays doubling from minRetryDelay up to
// maxRequiredDelay, counted in sum, so that jitter (which shortens one
// delay and lengthens another) and a cap on the delay both pass.
const (
	retryAfterResolution = time.Second
	minRetryDelay        = 50 * time.Millisecond
	maxRequiredDelay     = 10 * time.Second
)

// requiredBackoff is how long after the first of a row of failures its
// k-th retry may come at the earliest.
func requiredBackoff(k int) time.Duration {
	var sum time.Duration
	d := minRetryDelay
	for range k {
		sum += d
		d = min(2*d, maxRequiredDelay)
	}
	return sum
}

func judgeRetryAfter(r *Record) Judgement {
	j := Judgement{}
	var until *events.Event
	for _, e := range mine(r) {
		if e.Kind != events.TokenRequest {
			continue
		}
		if until != nil && until.RetryAt.Sub(e.Time) >= retryAfterResolution {
			j.fail(e, "at %s the client sent a token request %s before the answer at %s (event %d) allowed, at %s", offset(r, e.Time), round(until.RetryAt.Sub(e.Time)), offset(r, until.Time), until.Seq, offset(r, *until.RetryAt))
		}
		if e.RetryAt != nil {
			j.Applies = true
			if until == nil || e.RetryAt.After(*until.RetryAt) {
				until = &e
			}
		}
	}
	return j
}

func judgeBackoff(r *Record) Judgement {
	j := Judgement{}
	var row failureRow
	// Callers that run at once (concurrent calls, processes) do not know
	// of each other's failures: each may make its first attempt, so a
	// round of N callers allows N-1 requests that come too soon before one
	// is a retry. (Callers that pile onto a failure they should have
	// shared are one-refresh-for-concurrent-callers's to judge.)
	ws := windows(r)
	allowed := map[uint64]int{}
	// A rate limit may answer in a provider's own way (Google's 403 page),
	// which says nothing of a retry by its status alone.
	kinds := faultKinds(r)
	for _, e := range mine(r) {
		if e.Kind != events.TokenRequest {
			continue
		}
		gap, hasty := row.retry(e)
		if hasty {
			if w := windowOf(ws, e.Seq); w != nil && allowed[w.first] < w.callers-1 {
				allowed[w.first]++
				continue
			}
			first, last, k := row.reqs[0], row.reqs[len(row.reqs)-1], len(row.reqs)
			if k == 1 || gap < minRetryDelay {
				j.fail(e, "at %s the client sent a token request %s after a failed one was answered (event %d, %s): a retry at once (backing off waits at least %s)", offset(r, e.Time), round(gap), last.Seq, describeStatus(last), minRetryDelay)
			} else {
				j.fail(e, "at %s the client sent retry %d of a row of failed token requests, having waited %s in all since the first (event %d) was answered, %s of it since the last (event %d, %s): its delays do not grow (backing off waits at least %s in all by retry %d)", offset(r, e.Time), k, round(row.waited+gap), first.Seq, round(gap), last.Seq, describeStatus(last), requiredBackoff(k), k)
			}
		}
		failed := failedTransiently(e) || kinds[e.Fault] == fault.RateLimit
		j.Applies = j.Applies || failed
		row.add(e, failed, gap)
	}
	return j
}

// failureRow is a row of failed requests, up to the last, with how long
// the client waited between them in all: from each answer to the next
// request, so that a slow answer (a latency fault) does not pass for a
// delay of the client's. The token endpoint's backoff and the API's are
// judged by it alike.
type failureRow struct {
	reqs   []events.Event
	waited time.Duration
}

// retry measures e as a retry of the row: how long after the last failure
// was answered it came, and whether that was sooner than backing off
// allows (less than minRetryDelay, or waits that add up to less than
// requiredBackoff). After no failure, nothing is a retry.
func (row *failureRow) retry(e events.Event) (gap time.Duration, hasty bool) {
	if len(row.reqs) == 0 {
		return 0, false
	}
	gap = e.Time.Sub(answered(row.reqs[len(row.reqs)-1]))
	return gap, gap < minRetryDelay || row.waited+gap < requiredBackoff(len(row.reqs))
}

// add takes e, which came gap after the row's last failure, into the row
// when it failed too; a request that did not fail ends the row.
func (row *failureRow) add(e events.Event, failed bool, gap time.Duration) {
	if !failed {
		*row = failureRow{}
		return
	}
	if len(row.reqs) > 0 {
		row.waited += gap
	}
	row.reqs = append(row.reqs, e)
}

// answered is when the client learnt how request e ended: when its answer
// left, or the connection closed (Answered, for a request held a while),
// else when it arrived.
func answered(e events.Event) time.Time {
	if e.Answered != nil {
		return *e.Answered
	}
	return e.Time
}

// stepOf is the step whose events include seq, or nil.
func stepOf(r *Record, seq uint64) *StepRecord {
	for i := range r.Steps {
		if s := &r.Steps[i]; seq >= s.FirstSeq && seq <= s.LastSeq {
			return s
		}
	}
	return nil
}

func judgeNoRefreshAfterDead(r *Record) Judgement {
	j := Judgement{}
	deadFamilies := map[string]events.Event{}
	deadTokens := map[string]events.Event{}
	for _, e := range mine(r) {
		if !isRefresh(e) {
			continue
		}
		dead, ok := deadFamilies[e.Family]
		if !ok || e.Family == "" {
			dead, ok = deadTokens[e.Token]
		}
		if ok && e.Token != "" {
			j.fail(e, "at %s the client refreshed again with a grant the provider had declared dead at %s (event %d: %s)", offset(r, e.Time), offset(r, dead.Time), dead.Seq, describeStatus(dead))
		}
		if slices.Contains(deadRefusals, e.Reason) {
			j.Applies = true
			// A refused superseded or unknown token says nothing of its
			// family (without reuse detection the family lives on), only
			// of the token itself.
			if (e.Family != "" && e.Reason != events.RefusedReused && e.Reason != events.RefusedUnknown) || familyRevoked(r, e) {
				deadFamilies[e.Family] = e
			}
			deadTokens[e.Token] = e
		}
	}
	return j
}

func judgeReauthorizeWhenDead(r *Record) Judgement {
	j := Judgement{}
	for _, s := range r.Steps {
		// A client credentials call holds no user's grant to judge.
		if s.Step.Call == nil || s.Step.Call.ClientCredentials {
			continue
		}
		for _, c := range s.Calls {
			j.Applies = true
			switch {
			case c.Outcome == contract.OutcomeReauthorize && c.Live:
				j.Failures = append(j.Failures, fmt.Sprintf("step %d (line %d) at %s: the client asked the user to authorize again (%s) while the provider still honoured the grant", s.Index+1, s.Step.Line, offset(r, c.Time), c.Reason))
				j.Events = append(j.Events, s.LastSeq)
			case (c.Outcome == contract.OutcomeUnauthorized || c.Outcome == contract.OutcomeError) && !c.Live:
				j.Failures = append(j.Failures, fmt.Sprintf("step %d (line %d) at %s: the grant was dead, but the client answered %s instead of asking the user to authorize again: %s", s.Index+1, s.Step.Line, offset(r, c.Time), c.Outcome, c.Detail))
				j.Events = append(j.Events, s.LastSeq)
			}
		}
	}
	judgeDeadReportedTemporary(r, &j)
	return j
}

func judgeNoSecretsInOutput(r *Record) Judgement {
	j := Judgement{Applies: len(r.Tokens)+len(r.Secrets) > 0}
	f := newFinder(r.needles())
	// The protocol answers of a client in the harness's own process are
	// its results; a client in another process wrote them as lines.
	var results strings.Builder
	for _, s := range r.Steps {
		for _, c := range s.Calls {
			for _, f := range []string{string(c.Reason), c.Detail} {
				if f != "" {
					results.WriteString(f + "\n")
				}
			}
		}
	}
	for _, where := range []struct {
		name    string
		text    string
		dropped []hit
	}{
		{"the client's log contains", r.Output, r.droppedLeaks},
		{"the client's protocol answers contain", r.Answers + results.String(), r.droppedAnswerLeaks},
	} {
		hits := append(f.find([]byte(where.text), nil), where.dropped...)
		for _, kind := range []string{"token", "client secret"} {
			var first *hit
			forms, values := map[string]bool{}, map[string]bool{}
			for i, h := range hits {
				if h.kind != kind {
					continue
				}
				if first == nil {
					first = &hits[i]
				}
				values[h.of] = true
				forms[cmp.Or(h.form, "as issued")] = true
			}
			if first == nil {
				continue
			}
			j.Failures = append(j.Failures, fmt.Sprintf("%s %d %s value(s) the provider issued (%s), first here: %s",
				where.name, len(values), kind, strings.Join(slices.Sorted(maps.Keys(forms)), ", "), strconv.Quote(r.Mask(first.excerpt))))
		}
	}
	return j
}

func judgeNoRetiredSecret(r *Record) Judgement {
	j := Judgement{}
	// reloads are where the client was told to reload its configuration:
	// at the end of a rotation step that reloads at once, or of a reload
	// step. Until then a client that keeps its secret as configured has
	// nothing better to send (the operator is late, not the client).
	var reloads []uint64
	for _, s := range r.Steps {
		if (s.Step.RotateSecret != nil && s.Step.RotateSecret.Reloads()) || s.Step.Reload {
			reloads = append(reloads, s.LastSeq)
		}
	}
	var refused int
	var rotated uint64
	for _, e := range mine(r) {
		if e.Kind == events.ClientSecretRotated {
			j.Applies = true
			refused, rotated = 0, e.Seq
			continue
		}
		// Only a replaced secret counts: an expired one that nobody
		// replaced leaves the client nothing better to send.
		if e.Kind != events.TokenRequest || e.Reason != events.ClientSecretInvalid || rotated == 0 {
			continue
		}
		told := slices.ContainsFunc(reloads, func(seq uint64) bool { return seq >= rotated && seq < e.Seq })
		if !told {
			continue
		}
		if refused++; refused > 1 {
			j.fail(e, "at %s the client sent again a client secret the provider had refused after it was rotated, though it had been told to reload: it did not read the new one", offset(r, e.Time))
		}
	}
	return j
}

func judgeAsksForOfflineAccess(r *Record) Judgement {
	j := Judgement{}
	if !slices.Contains(r.Scenario.Requires, contract.CapRefresh) {
		return j
	}
	for _, e := range mine(r) {
		if e.Kind != events.AuthorizeRequest || e.Outcome != events.OutcomeOK {
			continue
		}
		j.Applies = true
		// The provider grants offline access only when asked the way it
		// wants (the scope, or access_type=offline), and says so in Scope.
		if !slices.Contains(strings.Fields(e.Scope), "offline_access") {
			j.fail(e, "at %s the client authorized without asking for offline access (granted %q): no refresh token can come", offset(r, e.Time), e.Scope)
		}
	}
	return j
}

func judgeNoNeedlessRefresh(r *Record) Judgement {
	j := Judgement{}
	type access struct {
		issued, expires time.Time
		// since is the event that showed the client holding it: it
		// presented the token to the API, or the refresh token that came
		// in the same answer to the token endpoint. A token whose answer
		// was lost, spoiled or not understood was never held.
		since uint64
	}
	ws := windows(r)
	byFP := map[string]*access{}
	// pending are the tokens minted for a token request not yet logged:
	// the request's own event comes after its tokens'.
	pendingAccess, pendingRefresh := map[string]*access{}, map[string][]string{}
	cameWith := map[string]*access{} // refresh token -> the access token of its answer
	held := map[string]*access{}     // family -> the newest access token the client holds
	// hold marks a held from seq on, and reports whether that is news.
	hold := func(a *access, seq uint64) bool {
		if a.since != 0 {
			return false
		}
		a.since = seq
		return true
	}
	newest := func(family string, a *access) {
		if h := held[family]; h == nil || a.issued.After(h.issued) {
			held[family] = a
		}
	}
	for _, e := range mine(r) {
		switch {
		case e.Kind == events.TokenIssued && e.TokenType == "access_token" && e.ExpiresAt != nil:
			a := &access{issued: e.Time, expires: *e.ExpiresAt}
			byFP[e.Token] = a
			pendingAccess[e.Family] = a
		case e.Kind == events.TokenIssued && e.TokenType == "refresh_token":
			pendingRefresh[e.Family] = append(pendingRefresh[e.Family], e.Token)
		case e.Kind == events.ResourceRequest:
			if a := byFP[e.Token]; a != nil {
				hold(a, e.Seq)
				newest(e.Family, a)
			}
			if e.Status == http.StatusUnauthorized {
				// The client learnt its token is refused: refreshing is right.
				delete(held, e.Family)
			}
		case e.Kind == events.TokenRequest:
			// Only as news: after a 401 refused it, the refresh that
			// follows does not make the client hold it again.
			if a := cameWith[e.Token]; a != nil && isRefresh(e) && hold(a, e.Seq) {
				newest(e.Family, a)
			}
			if a, ok := held[e.Family]; ok && isRefresh(e) && heldBefore(ws, e, a.since) {
				j.Applies = true
				life, left := a.expires.Sub(a.issued), a.expires.Sub(e.Time)
				if left*needlessRefreshRemainShare > life {
					j.fail(e, "at %s the client refreshed, holding an access token with %s of its %s left (it used it at event %d)", offset(r, e.Time), round(left), round(life), a.since)
				}
			}
			if a := pendingAccess[e.Family]; a != nil && e.Outcome == events.OutcomeOK && e.Fault == "" {
				for _, rt := range pendingRefresh[e.Family] {
					cameWith[rt] = a
				}
			}
			delete(pendingAccess, e.Family)
			delete(pendingRefresh, e.Family)
		}
	}
	return j
}

// heldBefore reports whether a token the client showed it held at event
// since counts against the refresh e. In a round of several callers at once
// only what was held before the round began counts: a caller that refreshed
// in the same round knew nothing of another's fresh token, and whether one
// caller's answer came before another's refresh is the scheduler's choice
// (one-refresh-for-concurrent-callers judges that step).
func heldBefore(ws []window, e events.Event, since uint64) bool {
	if w := windowOf(ws, e.Seq); w != nil && w.callers > 1 {
		return since < w.first
	}
	return true
}

// familyRevoked reports whether e's family was revoked by the time of e.
func familyRevoked(r *Record, e events.Event) bool {
	for _, d := range r.Events {
		if d.Seq > e.Seq {
			break
		}
		if d.Kind == events.FamilyRevoked && d.Family == e.Family && e.Family != "" {
			return true
		}
	}
	return false
}

// offset is t as a distance from the run's start, as reports show it.
func offset(r *Record, t time.Time) string {
	return "+" + round(t.Sub(r.SimStart)).String()
}

// round is d to the millisecond, or to the microsecond under one: the sim
// clock runs at wall speed while a client works, and its nanoseconds say
// nothing a reader can use.
func round(d time.Duration) time.Duration {
	if d < time.Millisecond && d > -time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

func describeStatus(e events.Event) string {
	parts := []string{}
	if e.Status != 0 {
		parts = append(parts, fmt.Sprint(e.Status))
	}
	for _, s := range []string{e.Error, e.Reason} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no answer")
	}
	return strings.Join(parts, " ")
}

// Around formats the events within n of each of seqs, marking those, for a
// failure message: what happened around the violation.
func Around(r *Record, seqs []uint64, n int) string {
	if len(seqs) == 0 {
		return ""
	}
	var b strings.Builder
	last := uint64(0)
	for _, e := range r.Events {
		near := false
		for _, s := range seqs {
			if e.Seq+uint64(n) >= s && e.Seq <= s+uint64(n) {
				near = true
			}
		}
		if !near {
			continue
		}
		if last != 0 && e.Seq != last+1 {
			b.WriteString("    ...\n")
		}
		last = e.Seq
		mark := "  "
		if slices.Contains(seqs, e.Seq) {
			mark = "=>"
		}
		fmt.Fprintf(&b, "  %s #%d %s %s", mark, e.Seq, offset(r, e.Time), e.Kind)
		for _, f := range []string{e.GrantType, e.TokenType, e.Family, e.Token} {
			if f != "" {
				b.WriteString(" " + f)
			}
		}
		if e.Status != 0 || e.Error != "" || e.Reason != "" {
			b.WriteString(" [" + describeStatus(e) + "]")
		}
		if e.Fault != "" {
			b.WriteString(" fault=" + e.Fault)
		}
		if e.Detail != "" {
			b.WriteString(": " + e.Detail)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Failures judges r by every check the scenario does not waive and returns
// the failed ones by id, each with its messages and the events around
// them: the whole verdict on a run at a glance, outside Ginkgo.
func Failures(r *Record) map[string]string {
	failed := map[string]string{}
	for _, c := range Checks() {
		if _, waived := r.Scenario.Waive[c.ID]; waived {
			continue
		}
		// As the suite does: a check with nothing to judge is skipped.
		if j := c.Judge(r); j.Applies && !j.Passed() {
			failed[c.ID] = strings.Join(j.Failures, "\n") + "\n" + Around(r, j.Events, 3)
		}
	}
	return failed
}

// faultKinds maps the id of every fault the run added to its kind.
func faultKinds(r *Record) map[string]fault.Kind {
	kinds := map[string]fault.Kind{}
	for id, f := range r.Faults {
		kinds[id] = f.Kind()
	}
	// A record built without the engine's list (a test's) has the events.
	for _, e := range r.Events {
		if _, known := kinds[e.Fault]; e.Kind == events.FaultAdded && !known {
			kinds[e.Fault] = fault.Kind(e.Detail)
		}
	}
	return kinds
}

// Unexercised names the faults of the run that acted on no request, each
// as "ID (kind)": a scenario built around a fault that never fired did not
// test the client on what it was written for (a latency placed where only
// one refresh policy refreshes, say, or a broken id_token nonce for a
// client that sends none), and its checks passing says nothing. Faults of
// the provider's configuration count as much as those of steps. A skew
// acts on the provider's clock, not on requests, and never fires; a rate
// limiter (a limit per window) is a budget that a correct client stays
// within, so that its never firing is the point.
func Unexercised(r *Record) []string {
	fired := map[string]bool{}
	for _, e := range r.Events {
		if e.Kind == events.FaultFired {
			fired[e.Fault] = true
		}
	}
	kinds := faultKinds(r)
	var ids []string
	for id, kind := range kinds {
		if rl, ok := r.Faults[id].Effect.(fault.RateLimitEffect); ok && rl.Limit > 0 {
			continue
		}
		if kind != fault.Skew && !fired[id] {
			ids = append(ids, id)
		}
	}
	// In the order they were added: the engine numbers them so, and names
	// given in the scenario come in file order.
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(addedAt(r, a), addedAt(r, b)), cmp.Compare(a, b)) })
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("%s (%s)", id, kinds[id])
	}
	return out
}

// addedAt is the sequence number of the event that added fault id, 0 for
// a fault of the provider's configuration, there from the start.
func addedAt(r *Record, id string) uint64 {
	for _, e := range r.Events {
		if e.Kind == events.FaultAdded && e.Fault == id {
			return e.Seq
		}
	}
	return 0
}
