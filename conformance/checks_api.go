package conformance

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
)

// The API handling checks judge what a client does inside one call: the
// application asked once, and what the client sends the API and the token
// endpoint for it is the client's own doing. When the application asks
// again is its business, not the token manager's, so the next call is
// judged on its own.

func judgeNoRefreshLoop(r *Record) Judgement {
	j := Judgement{}
	evs := mine(r)
	for _, w := range windows(r) {
		if !w.isCall() {
			continue
		}
		var first *events.Event
		var refreshes, retries []events.Event
		for _, e := range between(evs, w.first, w.last) {
			switch {
			case first == nil:
				if e.Kind == events.ResourceRequest && e.Status == http.StatusUnauthorized {
					first = &e
				}
			case e.Kind == events.ResourceRequest:
				retries = append(retries, e)
			case isRefresh(e) && e.Outcome == events.OutcomeOK:
				// Only refreshes carried out: a refresh retried after a
				// passing failure is the backoff check's to judge.
				refreshes = append(refreshes, e)
			}
		}
		if first == nil {
			continue
		}
		j.Applies = true
		// Each caller may refresh once and send its request again once;
		// in a round of callers at once, the others' first requests may
		// come after the first 401 too.
		what := "in one call"
		if w.callers > 1 {
			what = fmt.Sprintf("in one round of %d calls", w.callers)
		}
		if n := len(refreshes); n > w.callers {
			j.fail(refreshes[w.callers], "step %d (line %d, %s): after the API's 401 at %s (event %d) the client refreshed %d times %s, where once a call is enough: a loop while the API keeps refusing", w.step.Index+1, w.step.Step.Line, w.step.Step.Summary(), offset(r, first.Time), first.Seq, n, what)
		} else if n, most := len(retries), 2*w.callers-1; n > most {
			j.fail(retries[most], "step %d (line %d, %s): after the API's 401 at %s (event %d) the client sent the API %d more requests %s, where one retry a call is enough", w.step.Index+1, w.step.Step.Line, w.step.Step.Summary(), offset(r, first.Time), first.Seq, n, what)
		}
	}
	return j
}

// failedAtAPI reports whether the API's answer to e is one to retry later:
// a rate limit, a server error, or no answer.
func failedAtAPI(e events.Event, kinds map[string]fault.Kind) bool {
	return e.Kind == events.ResourceRequest && (e.Status == http.StatusTooManyRequests || e.Status >= 500 ||
		(e.Outcome == events.OutcomeFault && e.Status == 0) || kinds[e.Fault] == fault.RateLimit)
}

func judgeAPIRetryAfter(r *Record) Judgement {
	j := Judgement{}
	kinds := faultKinds(r)
	evs := mine(r)
	for _, w := range windows(r) {
		if !w.isCall() {
			continue
		}
		var until *events.Event
		var row failureRow
		// Callers that run at once each send their first request without
		// knowing of the others' failures (as backs-off-after-failure
		// allows for token requests).
		allowed := w.callers - 1
		for _, e := range between(evs, w.first, w.last) {
			if e.Kind != events.ResourceRequest {
				continue
			}
			early := until != nil && until.RetryAt.Sub(e.Time) >= retryAfterResolution
			// As for token requests: the client's own waits, from each
			// answer to its next request.
			gap, hasty := row.retry(e)
			switch {
			case (early || hasty) && allowed > 0:
				allowed--
			case early:
				j.fail(e, "step %d (line %d): at %s the client sent the API a request %s before its answer at %s (event %d) allowed, at %s, in the same call", w.step.Index+1, w.step.Step.Line, offset(r, e.Time), round(until.RetryAt.Sub(e.Time)), offset(r, until.Time), until.Seq, offset(r, *until.RetryAt))
			case hasty:
				last := row.reqs[len(row.reqs)-1]
				j.fail(e, "step %d (line %d): at %s the client sent the API a request %s after a failed one was answered (event %d, %s), in the same call: a retry at once (backing off waits at least %s, and longer each time)", w.step.Index+1, w.step.Step.Line, offset(r, e.Time), round(gap), last.Seq, describeStatus(last), requiredBackoff(len(row.reqs)))
			}
			if e.RetryAt != nil && (until == nil || e.RetryAt.After(*until.RetryAt)) {
				until = &e
			}
			failed := failedAtAPI(e, kinds)
			j.Applies = j.Applies || failed
			row.add(e, failed, gap)
		}
	}
	return j
}

// deadRefusal is the first refusal, among evs before seq, that told the
// client its grant is dead since the latest authorization: a refresh the
// provider answered itself (not a fault in its place) with one of the
// refusals that end a grant.
func deadRefusal(evs []events.Event, seq uint64) *events.Event {
	var found *events.Event
	for i, e := range evs {
		if e.Seq >= seq {
			break
		}
		switch {
		case e.Kind == events.TokenRequest && e.GrantType == "authorization_code" && e.Outcome == events.OutcomeOK:
			found = nil // a new grant: what was said of the old one is moot
		case found == nil && isRefresh(e) && e.Fault == "" && slices.Contains(deadRefusals, e.Reason):
			found = &evs[i]
		}
	}
	return found
}

// judgeDeadReportedTemporary is the part of reauthorize-exactly-when-dead
// about a dead grant passed off as a passing failure: once the provider has
// told the client the grant is dead, in the call or before it, a call that
// ends in temporary_error tells the user to wait for something that will
// never come back. The provider's word is final: its refusal, not a
// fault's in its place, of a refresh with a grant that is gone.
func judgeDeadReportedTemporary(r *Record, j *Judgement) {
	evs := mine(r)
	for _, s := range r.Steps {
		if s.Step.Call == nil || s.Step.Call.ClientCredentials {
			continue
		}
		for _, c := range s.Calls {
			if c.Outcome != contract.OutcomeTemporaryError || c.Live {
				continue
			}
			if d := deadRefusal(evs, c.LastSeq+1); d != nil {
				j.Failures = append(j.Failures, fmt.Sprintf("step %d (line %d) at %s: the provider had told the client the grant is dead at %s (event %d: %s), but it still answered temporary_error: the user waits for a recovery that cannot come", s.Index+1, s.Step.Line, offset(r, c.Time), offset(r, d.Time), d.Seq, describeStatus(*d)))
				j.Events = append(j.Events, d.Seq)
			}
		}
	}
}
