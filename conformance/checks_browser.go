package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// ForgedTokenPrefix starts every token the browser runner's probe frame
// forges: a request that carries one was made with a token a frame took
// from a message of the wrong origin.
const ForgedTokenPrefix = "oauthsim-forged-"

// browserMatch is how far apart, in sim time, a request seen in the
// browser and the provider's event of it may be: the browser stamps a
// request when it sends it, the provider when it arrives.
const browserMatch = 2 * time.Second

// roles maps each frame id of the log to its role, and each origin seen to
// the role of the frames that had it.
func roles(l *contract.BrowserLog) (byFrame, byOrigin map[string]string) {
	byFrame, byOrigin = map[string]string{}, map[string]string{}
	for _, f := range l.Frames {
		byFrame[f.ID] = f.Role
		if f.Origin != "" && byOrigin[f.Origin] == "" {
			byOrigin[f.Origin] = f.Role
		}
	}
	return byFrame, byOrigin
}

// requestRole is the role of the frame that made q.
func requestRole(q contract.BrowserRequest, byFrame, byOrigin map[string]string) string {
	if role := byFrame[q.Frame]; role != "" {
		return role
	}
	return byOrigin[q.FrameOrigin]
}

// isEndpoint reports whether raw is a request to the provider's path, or to
// the path the profile's shape serves it at (simulator.CanonicalPath): the
// simulator of a run listens on loopback by address, the browser's own
// origins by *.localhost name.
func isEndpoint(raw, path string) bool {
	u, err := url.Parse(raw)
	return err == nil && simulator.CanonicalPath(u.Path) == path && (u.Hostname() == "127.0.0.1" || u.Hostname() == "::1")
}

// tokensOf lists the tokens of the kinds given that the provider minted.
func tokensOf(r *Record, kinds ...fosite.TokenType) []string {
	var out []string
	for _, t := range r.Tokens {
		if slices.Contains(kinds, r.TokenKinds[t]) {
			out = append(out, t)
		}
	}
	return out
}

// carries names the first of tokens s holds, as sent or URL-encoded.
func carries(s string, tokens []string) (string, bool) {
	if s == "" {
		return "", false
	}
	for _, t := range tokens {
		if strings.Contains(s, t) || strings.Contains(s, url.QueryEscape(t)) {
			return t, true
		}
	}
	return "", false
}

// kindName says which kind of token t is, in words.
func kindName(r *Record, t string) string {
	switch r.TokenKinds[t] {
	case fosite.AccessToken:
		return "an access token"
	case fosite.RefreshToken:
		return "a refresh token"
	}
	return "a token"
}

// browserFail records a violation seen in the browser, tied to the
// provider's last event at or before at, so that a report places it on the
// timeline.
func browserFail(j *Judgement, r *Record, at time.Time, format string, args ...any) {
	var seq uint64
	for _, e := range r.Events {
		if e.Time.After(at) {
			break
		}
		seq = e.Seq
	}
	j.Failures = append(j.Failures, fmt.Sprintf(format, args...))
	j.Events = append(j.Events, seq)
}

func judgeBrowserNoBlankDashboard(r *Record) Judgement {
	j := Judgement{}
	if r.Browser == nil {
		return j
	}
	byFrame, byOrigin := roles(r.Browser)
	revoked := map[string]time.Time{}
	for _, e := range mine(r) {
		if e.Kind == events.FamilyRevoked {
			if _, ok := revoked[e.Family]; !ok {
				revoked[e.Family] = e.Time
			}
		}
	}
	evs := mine(r)
	for _, q := range r.Browser.Requests {
		if requestRole(q, byFrame, byOrigin) != contract.FrameDashboard || !isEndpoint(q.URL, simulator.PathResourceMe) {
			continue
		}
		j.Applies = true
		if q.Status != http.StatusUnauthorized {
			continue
		}
		// The provider's event of this request says why: a fault, a
		// revoked grant (the 401 is then right), or a token it had let
		// expire.
		e, found := providerEvent(evs, events.ResourceRequest, q.At, http.StatusUnauthorized)
		if !found || e.Fault != "" || e.Reason == events.RefusedRevoked || strings.HasPrefix(q.Authorization, "Bearer "+ForgedTokenPrefix) {
			continue
		}
		if at, ok := revoked[e.Family]; ok && !at.After(e.Time) {
			continue
		}
		j.fail(e, "at %s dashboard frame %s of tab %d called the API with a token it refused (%s) while the user's grant was alive: a blank dashboard", offset(r, e.Time), shortFrame(q.Frame), q.Tab, refusal(e))
	}
	return j
}

// providerEvent finds the provider's event of a request the browser sent
// at: the first of kind and status within browserMatch of it.
func providerEvent(evs []events.Event, kind events.Kind, at time.Time, status int) (events.Event, bool) {
	for _, e := range evs {
		if e.Kind == kind && e.Status == status && !e.Time.Before(at.Add(-browserMatch)) && !e.Time.After(at.Add(browserMatch)) {
			return e, true
		}
	}
	return events.Event{}, false
}

// shortFrame is the first 8 characters of a DevTools frame id (32 hex
// digits): enough to tell a run's frames apart; results.json has it whole.
func shortFrame(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// refusal says why the provider refused a request.
func refusal(e events.Event) string {
	if e.Reason != "" {
		return e.Reason
	}
	return e.Detail
}

func judgeBrowserOneRefresh(r *Record) Judgement {
	j := Judgement{}
	if r.Browser == nil {
		return j
	}
	type given struct {
		at, issued, expires time.Time
	}
	last := map[string]*given{} // family -> what its last carried-out refresh gave
	pending := map[string]*given{}
	for _, e := range mine(r) {
		switch {
		case e.Kind == events.TokenIssued && e.TokenType == "access_token" && e.ExpiresAt != nil:
			pending[e.Family] = &given{issued: e.Time, expires: *e.ExpiresAt}
		case e.Kind == events.ResourceRequest && e.Status == http.StatusUnauthorized:
			// A token the API refused is a reason to refresh again.
			delete(last, e.Family)
		case isRefresh(e):
			j.Applies = true
			if g := last[e.Family]; g != nil && (e.Outcome == events.OutcomeOK || e.Reason == events.RefusedReused) {
				life, left := g.expires.Sub(g.issued), g.expires.Sub(e.Time)
				if left*needlessRefreshRemainShare > life {
					// The log has a request when it was answered, stamped
					// with when it came: two sent at once may be in either
					// order.
					j.fail(e, "at %s a refresh came %s after the previous one, whose access token had %s of its %s left: a frame, tab or page that did not share the tokens of the previous refresh refreshed again%s",
						offset(r, e.Time), round(max(0, e.Time.Sub(g.at))), round(min(left, life)), round(life), senderOf(r, e))
				}
			}
			if g := pending[e.Family]; g != nil && e.Outcome == events.OutcomeOK && e.Fault == "" {
				g.at = e.Time
				last[e.Family] = g
			}
			delete(pending, e.Family)
		case e.Kind == events.TokenRequest:
			if g := pending[e.Family]; g != nil && e.Outcome == events.OutcomeOK && e.Fault == "" {
				g.at = e.Time
				last[e.Family] = g
			}
			delete(pending, e.Family)
		}
	}
	return j
}

// senderOf names the tab and frame whose request to the token endpoint the
// provider logged as e, as far as the browser saw it.
func senderOf(r *Record, e events.Event) string {
	if r.Browser == nil {
		return ""
	}
	best, found := contract.BrowserRequest{}, false
	for _, q := range r.Browser.Requests {
		if q.Method == http.MethodPost && isEndpoint(q.URL, simulator.PathToken) &&
			!q.At.Before(e.Time.Add(-browserMatch)) && !q.At.After(e.Time.Add(browserMatch)) {
			if !found || q.At.Sub(e.Time).Abs() < best.At.Sub(e.Time).Abs() {
				best, found = q, true
			}
		}
	}
	if !found {
		return ""
	}
	return fmt.Sprintf(" (sent by tab %d, frame %s on %s)", best.Tab, shortFrame(best.Frame), best.FrameOrigin)
}

func judgeBrowserNoTokenInURL(r *Record) Judgement {
	j := Judgement{}
	if r.Browser == nil {
		return j
	}
	tokens := tokensOf(r, fosite.AccessToken, fosite.RefreshToken)
	seen := map[string]bool{}
	for _, q := range r.Browser.Requests {
		j.Applies = true
		for _, where := range []struct{ what, s string }{{"URL", q.URL}, {"Referer", q.Referer}} {
			if t, ok := carries(where.s, tokens); ok && !seen[t+where.what] {
				seen[t+where.what] = true
				browserFail(&j, r, q.At, "at %s tab %d sent %s in the %s of a %s request (%s %s)", offset(r, q.At), q.Tab, kindName(r, t), where.what, q.Type, q.Method, r.Mask(stripQuery(q.URL)))
			}
		}
	}
	return j
}

// stripQuery is raw without its query and fragment, for a message that
// must not repeat what it reports.
func stripQuery(raw string) string {
	raw, _, _ = strings.Cut(raw, "#")
	raw, _, _ = strings.Cut(raw, "?")
	return raw
}

func judgeBrowserExactOrigin(r *Record) Judgement {
	j := Judgement{}
	if r.Browser == nil {
		return j
	}
	tokens := tokensOf(r, fosite.AccessToken, fosite.RefreshToken)
	for _, m := range r.Browser.Messages {
		if m.Probe {
			continue
		}
		t, ok := carries(m.Data, tokens)
		if !ok {
			continue
		}
		j.Applies = true
		if m.TargetOrigin == "*" {
			browserFail(&j, r, m.At, "at %s a frame on %s posted %s to %s with targetOrigin \"*\": whatever document that frame holds gets it", offset(r, m.At), m.FromOrigin, kindName(r, t), m.ToOrigin)
			break
		}
	}
	for _, q := range r.Browser.Requests {
		if strings.Contains(q.Authorization, ForgedTokenPrefix) || strings.Contains(q.URL, ForgedTokenPrefix) {
			j.Applies = true
			browserFail(&j, r, q.At, "at %s frame %s on %s called %s with a token forged by the probe frame on another origin: it accepted a message without checking its origin", offset(r, q.At), shortFrame(q.Frame), q.FrameOrigin, stripQuery(q.URL))
			break
		}
	}
	return j
}

func judgeBrowserRefreshStaysInApp(r *Record) Judgement {
	j := Judgement{}
	if r.Browser == nil {
		return j
	}
	byFrame, byOrigin := roles(r.Browser)
	refresh := tokensOf(r, fosite.RefreshToken)
	if len(refresh) == 0 {
		return j
	}
	j.Applies = true
	for _, m := range r.Browser.Messages {
		if m.Probe || byOrigin[m.ToOrigin] == contract.FrameApp || m.ToOrigin == "" {
			continue
		}
		if _, ok := carries(m.Data, refresh); ok {
			browserFail(&j, r, m.At, "at %s the app posted a refresh token to a frame on %s", offset(r, m.At), m.ToOrigin)
			return j
		}
	}
	for _, q := range r.Browser.Requests {
		if requestRole(q, byFrame, byOrigin) == contract.FrameApp {
			continue
		}
		for _, s := range []string{q.URL, q.Referer, q.Body, q.Authorization} {
			if _, ok := carries(s, refresh); ok {
				browserFail(&j, r, q.At, "at %s a frame on %s sent a refresh token (%s %s)", offset(r, q.At), q.FrameOrigin, q.Method, stripQuery(q.URL))
				return j
			}
		}
	}
	for _, f := range r.Browser.Frames {
		if f.Role != contract.FrameApp {
			if _, ok := carries(f.URL, refresh); ok {
				browserFail(&j, r, f.Opened, "at %s a frame on %s was opened with a refresh token in its URL", offset(r, f.Opened), f.Origin)
				return j
			}
		}
	}
	return j
}

func judgeBrowserReportsConfig(r *Record) Judgement {
	j := Judgement{}
	if r.Browser == nil {
		return j
	}
	for _, q := range r.Browser.Requests {
		if q.Blocked == "" || !isEndpoint(q.URL, simulator.PathToken) {
			continue
		}
		j.Applies = true
		// The block must reach the user by the end of the step it
		// happened in or, when a timer made the request between calls,
		// by the end of the next step that calls.
		reported := slices.ContainsFunc(r.Browser.Reports, func(p contract.BrowserReport) bool {
			return p.Outcome == contract.OutcomeConfigurationError && !p.At.Before(q.At)
		})
		seen := false
		for _, s := range r.Steps {
			if s.End.Before(q.At) {
				continue
			}
			for _, c := range s.Calls {
				if c.Outcome == contract.OutcomeConfigurationError {
					reported = true
				}
			}
			if len(s.Calls) > 0 {
				seen = true
			}
			if seen || reported {
				break
			}
		}
		if !reported {
			browserFail(&j, r, q.At, "at %s the browser blocked tab %d's request to the token endpoint (%s), and neither the calls that followed nor the application told the user of a configuration problem", offset(r, q.At), q.Tab, q.Blocked)
		}
		break
	}
	return j
}

func judgeBrowserNavigationReuses(r *Record) Judgement {
	j := Judgement{}
	if r.Browser == nil {
		return j
	}
	for i, s := range r.Steps {
		if s.Step.Navigate == 0 {
			continue
		}
		// Up to the end of the first step after the navigation that calls.
		end := s.End
		for _, t := range r.Steps[i+1:] {
			end = t.End
			if len(t.Calls) > 0 {
				break
			}
		}
		var held *events.Event // the newest access token before the navigation
		for _, e := range mine(r) {
			if e.Time.After(end) {
				break
			}
			if e.Kind == events.TokenIssued && e.TokenType == "access_token" && e.ExpiresAt != nil && e.Seq < s.FirstSeq {
				held = &e
			}
			if e.Seq < s.FirstSeq || !isRefresh(e) || held == nil {
				continue
			}
			j.Applies = true
			life, left := held.ExpiresAt.Sub(held.Time), held.ExpiresAt.Sub(e.Time)
			if left*needlessRefreshRemainShare > life {
				j.fail(e, "at %s, after step %d (line %d, %s), the client refreshed though the access token it had before had %s of its %s left: the navigation of tab %d lost it", offset(r, e.Time), s.Index+1, s.Step.Line, s.Step.Summary(), round(left), round(life), s.Step.Navigate)
			}
			break
		}
	}
	return j
}
