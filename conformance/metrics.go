package conformance

import (
	"net/http"
	"strconv"
	"time"

	"github.com/oauthsim/oauthsim/reports"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// Failure kinds of a refresh in Metrics: the answer never reached the
// client, a rate limit, a server error. Any other refusal is its error
// code (invalid_grant, invalid_client...), or its status without one.
const (
	FailureLost        = "lost"
	FailureRateLimited = "429"
	FailureServer      = "5xx"
)

// Metrics are the monitoring figures of run r, read from the provider's
// events of the client under test; nil for a run that did not happen. A
// refresh is a token_request event of the refresh_token grant.
//
//   - Failure rate: a refresh failed unless it brought tokens back, that is
//     unless its outcome is ok and no fault dropped or spoiled its answer
//     (the event names no fault). Failed refreshes are counted by kind:
//     FailureLost for no answer (status 0: a hang, a reset connection), an
//     answer a fault dropped or made unreadable after the provider gave it,
//     or a 2xx answer without an error code that brought no tokens (a
//     fault's HTML page); FailureRateLimited for a 429; FailureServer for a
//     5xx; otherwise the error code (an error in a 200 too), or the status
//     when the answer had none.
//   - Latency: for each refresh that got a status, from its arrival (the
//     event's time) to its answer (answered, which a latency fault or a hang
//     delays). The events give the answer's time only from a millisecond
//     after the arrival: a faster answer counts as 0.
//   - Time to refresh: for each refresh that succeeded, the expiry of the
//     access token it replaced less the refresh's arrival; negative when
//     the client let that token lapse before refreshing. The token replaced
//     is the newest access token of the refresh's family (by issue time,
//     issued no later than the refresh arrived) that had reached the client:
//     its token_issued event came before a successful token_request of the
//     family (a request's tokens are logged before the request's own event)
//     or a grant_minted. An access token without an expiry, or a refresh of
//     a family whose tokens the client was never seen to hold, gives no
//     sample.
func Metrics(r *Record) *reports.Metrics {
	if r.Skipped != "" {
		return nil
	}
	type access struct {
		token   string
		issued  time.Time
		expires *time.Time
	}
	// pending are the access tokens minted for a request not yet logged;
	// held those whose answer reached the client, by family.
	pending, held := map[string][]access{}, map[string][]access{}
	// replaced is the access token of family the client held when a
	// refresh arrived at t.
	replaced := func(family string, t time.Time) (access, bool) {
		var newest access
		found := false
		for _, a := range held[family] {
			if !a.issued.After(t) && (!found || !a.issued.Before(newest.issued)) {
				newest, found = a, true
			}
		}
		return newest, found
	}
	refreshes := 0
	failures := map[string][]uint64{}
	var latency, ahead []reports.Sample
	for _, e := range mine(r) {
		switch {
		case e.Kind == events.TokenIssued && e.TokenType == "access_token":
			pending[e.Family] = append(pending[e.Family], access{e.Token, e.Time, e.ExpiresAt})
		case e.Kind == events.GrantMinted:
			held[e.Family] = append(held[e.Family], pending[e.Family]...)
			delete(pending, e.Family)
		case e.Kind == events.TokenRequest:
			delivered := e.Outcome == events.OutcomeOK && e.Fault == ""
			if isRefresh(e) {
				refreshes++
				if e.Status != 0 {
					latency = append(latency, reports.Sample{Seq: e.Seq, Value: reports.Duration(answered(e).Sub(e.Time))})
				}
				if !delivered {
					kind := failureKind(e)
					failures[kind] = append(failures[kind], e.Seq)
				} else if a, ok := replaced(e.Family, e.Time); ok && a.expires != nil {
					ahead = append(ahead, reports.Sample{Seq: e.Seq, Value: reports.Duration(a.expires.Sub(e.Time)), Replaced: a.token})
				}
			}
			if delivered {
				held[e.Family] = append(held[e.Family], pending[e.Family]...)
			}
			delete(pending, e.Family)
		}
	}
	return reports.NewMetrics(refreshes, failures, latency, ahead)
}

// failureKind is how Metrics counts the failed refresh e.
func failureKind(e events.Event) string {
	switch {
	case e.Status == 0 || (e.Fault != "" && e.Outcome != events.OutcomeFault):
		// No answer came, or the provider's answer never reached the
		// client readable: a fault that answered in its place is
		// counted by what it answered.
		return FailureLost
	case e.Status == http.StatusTooManyRequests:
		return FailureRateLimited
	case e.Status >= 500:
		return FailureServer
	case e.Error != "":
		return e.Error
	case e.Status < 300:
		// A fault's answer in the provider's place that says neither
		// success nor error (an HTML page with a 200): no tokens came.
		return FailureLost
	}
	return strconv.Itoa(e.Status)
}
