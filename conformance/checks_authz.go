package conformance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/hmac"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// codeFingerprint is how the event log names an authorization code.
func codeFingerprint(code string) string {
	return events.Fingerprint(string(fosite.AuthorizeCode), (&hmac.HMACStrategy{}).Signature(code))
}

func judgeVerifiesCallbackState(r *Record) Judgement {
	j := Judgement{}
	evs := mine(r)
	for _, s := range r.Steps {
		if s.Step.Callback == "" {
			continue
		}
		j.Applies = true
		if s.Code == "" {
			continue
		}
		fp := codeFingerprint(s.Code)
		for _, e := range evs {
			if e.Seq < s.FirstSeq || e.Kind != events.TokenRequest || e.GrantType != "authorization_code" || e.Token != fp {
				continue
			}
			if s.Step.Callback == scenarios.CallbackForged {
				j.fail(e, "step %d (line %d) at %s: the client redeemed the code of a forged callback, whose state it never issued: an attacker's login CSRF signs the user in to the attacker's account", s.Index+1, s.Step.Line, offset(r, e.Time))
			} else {
				j.fail(e, "step %d (line %d) at %s: the client redeemed again the code of a callback it had completed: its state was not spent, and the provider takes a code's second use for an attack (RFC 6749 §4.1.2: it revokes what the code gave)", s.Index+1, s.Step.Line, offset(r, e.Time))
			}
			break
		}
	}
	return j
}

func judgeUsesPKCE(r *Record) Judgement {
	j := Judgement{}
	for _, e := range mine(r) {
		if e.Kind != events.AuthorizeRequest || e.PKCE == "" {
			continue
		}
		j.Applies = true
		if e.PKCE != "S256" {
			how := "without PKCE"
			if e.PKCE == "plain" {
				how = "with PKCE's plain method, which sends the verifier in the clear"
			}
			j.fail(e, "at %s the client authorized %s: an intercepted code can be redeemed by whoever holds it", offset(r, e.Time), how)
		}
	}
	return j
}

// nonceMismatch is the deviation that gives the id_token a nonce other
// than the one the authorization sent.
const nonceMismatch = "id_token_nonce_mismatch"

func judgeChecksNonce(r *Record) Judgement {
	j := Judgement{}
	nonceSent := false
	for _, e := range mine(r) {
		if e.Kind == events.AuthorizeRequest {
			nonceSent = e.NonceSent
		}
		if e.Kind != events.FaultFired {
			continue
		}
		if d, ok := r.Faults[e.Fault].Effect.(fault.DeviationEffect); !ok || string(d.Deviation) != nonceMismatch {
			continue
		}
		// A client that sent no nonce does not rely on the id_token to
		// say who signed in (a plain OAuth 2.0 client), and has none to
		// compare; the deviation fires only where one was sent.
		if !nonceSent {
			continue
		}
		j.Applies = true
		s := stepOf(r, e.Seq)
		if s == nil {
			continue
		}
		for _, c := range s.Calls {
			if c.Outcome == contract.OutcomeOK && e.Seq >= c.FirstSeq && e.Seq <= c.LastSeq {
				j.fail(e, "step %d (line %d) at %s: the client took an id_token whose nonce is not the one it sent (it answered ok): a replayed or injected id_token passes for the user's sign-in", s.Index+1, s.Step.Line, offset(r, e.Time))
			}
		}
	}
	return j
}

func judgeKeepsOfflineAccess(r *Record) Judgement {
	j := Judgement{}
	// Offline access is a scope only where the provider asks for it so;
	// Google's access_type=offline is no scope to drop.
	if offlineRule(r.Scenario.Provider.Profile.Profile) != "scope" {
		return j
	}
	granted := map[string]bool{} // family -> its authorization granted offline access
	var lastAuth bool
	for _, e := range mine(r) {
		switch {
		case e.Kind == events.AuthorizeRequest && e.Outcome == events.OutcomeOK:
			lastAuth = slices.Contains(strings.Fields(e.Scope), "offline_access")
		case e.Kind == events.TokenRequest && e.GrantType == "authorization_code" && e.Outcome == events.OutcomeOK && e.Family != "":
			granted[e.Family] = lastAuth
		case isRefresh(e) && e.RequestedScope != nil && granted[e.Family]:
			j.Applies = true
			if !slices.Contains(strings.Fields(*e.RequestedScope), "offline_access") {
				j.fail(e, "at %s the client refreshed asking for scope %q, without the offline_access its grant has: %s", offset(r, e.Time), *e.RequestedScope, narrowingConsequence(r))
			}
		case isRefresh(e) && granted[e.Family]:
			j.Applies = true
		}
	}
	return j
}

// narrowingConsequence says what the scenario's provider does with a
// refresh that leaves offline access out, as its profile documents.
func narrowingConsequence(r *Record) string {
	p := r.Scenario.Provider.Profile.Profile
	if p.Refresh.ScopeWithoutOfflineAccess == profile.WithoutOfflineNoRefreshToken {
		return fmt.Sprintf("%s then answers without a refresh token, so the grant ends when this access token expires", r.Scenario.Profile())
	}
	return fmt.Sprintf("%s keeps the refresh token then (RFC 6749 §6), but providers that do not (a refresh without offline_access gets no refresh token) end the grant with this access token", r.Scenario.Profile())
}
