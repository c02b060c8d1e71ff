package simulator

import (
	"cmp"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/internal/family"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// handleAuthorize is the authorization endpoint. The user is whoever the
// login page's form names or, with auto-approve on, whoever login_hint
// names; consent is always given, except that prompt=none gets
// consent_required while the control API says the user must consent again.
// Anyone else sees the login page.
func (s *Simulator) handleAuthorize(w http.ResponseWriter, r *http.Request, sh shaping) {
	wd := s.within(r.Context())
	op := &family.Op{}
	ctx := family.WithOp(r.Context(), op)
	stateless := false
	if err := r.ParseForm(); err == nil && r.Form.Get("state") == "" {
		// RFC 6749 §4.1.1 makes state optional, fosite requires it: fosite
		// gets a placeholder, and the client never sees it.
		stateless = true
		r.Form.Set("state", absentState)
	}
	ar, err := wd.oauth.NewAuthorizeRequest(ctx, r)
	if stateless {
		if req, ok := ar.(*fosite.AuthorizeRequest); ok {
			req.State = ""
		}
	}
	if err != nil {
		s.authorizeError(w, r, ar, err, op, sh)
		return
	}
	userID, bySession, why := s.signedIn(wd, r, ar)
	user, known := wd.users.get(userID)
	if !known {
		if silent(ar) {
			s.authorizeError(w, r, ar, fosite.ErrLoginRequired.WithHint(why), op, sh)
			return
		}
		s.showLogin(w, r, userID, sh)
		return
	}
	if silent(ar) && wd.consents.required(user.ID, ar.GetClient().GetID()) {
		s.authorizeError(w, r, ar, fosite.ErrConsentRequired.WithHintf(
			"%s must consent to %s again, and prompt=none forbids asking.", user.ID, ar.GetClient().GetID()), op, sh)
		return
	}
	added, withheld := grantScopes(wd, s.cfg.profile, ar, user.ID)
	op.WithholdRefresh = withheld
	resp, err := wd.oauth.NewAuthorizeResponse(ctx, ar, newUserSession(user, s.provider.Now(), ar.GetRequestedAt()))
	if err != nil {
		s.authorizeError(w, r, ar, err, op, sh)
		return
	}
	if !silent(ar) {
		s.consented(wd, user.ID, ar.GetClient().GetID(), op.Family, ar.GetGrantedScopes(), PathAuthorize, nil)
	}
	if stateless {
		resp.GetParameters().Del("state")
	}
	if !bySession {
		s.signIn(w, wd, user.ID)
	}
	wd.oauth.WriteAuthorizeResponse(ctx, w, ar, resp)
	e := s.requestEvent(events.AuthorizeRequest, r, op, sh)
	e.Status, e.Outcome, e.Detail = http.StatusSeeOther, events.OutcomeOK, grantNote(added, withheld, bySession)
	if ar.GetResponseMode() == responseModeWebMessage {
		e.Status = http.StatusOK // the page that posts the response (shape.go)
	}
	e.Scope = eventScope(ar.GetGrantedScopes())
	e.Token, e.TokenType = events.Fingerprint(string(fosite.AuthorizeCode), s.tokens.signature(resp.GetCode())), string(fosite.AuthorizeCode)
	noteAuthorizeParams(&e, r.Form)
	s.events.Emit(e)
}

// signedIn is the user an authorization request r signs in: whoever the
// login page's form names; with auto-approve on, whoever login_hint names,
// except on a single-page application's prompt=none request, which stands
// for silent renewal in a hidden iframe and so has only the session cookie
// to go by; else whoever the session cookie names (bySession). why says
// why no user was found, for a prompt=none request's login_required.
func (s *Simulator) signedIn(wd *world, r *http.Request, ar fosite.AuthorizeRequester) (user string, bySession bool, why string) {
	if user = r.PostForm.Get("user"); user != "" {
		return user, false, ""
	}
	spa := false
	if c, ok := ar.GetClient().(*fositeClient); ok {
		spa = c.Platform == PlatformSPA
	}
	if hint := ar.GetRequestForm().Get("login_hint"); s.cfg.autoApprove && hint != "" && !(spa && silent(ar)) {
		return hint, false, ""
	}
	user, ok, sent := wd.sessions.user(r)
	switch {
	case ok:
		return user, true, ""
	case sent:
		return "", false, "The session cookie names no session at the simulator (signed out, or the simulator was reset), and prompt=none forbids the login page."
	case spa:
		return "", false, "No session cookie was sent (a browser that blocks third-party cookies keeps it from a frame), and prompt=none forbids the login page."
	}
	return "", false, "No user is signed in at the simulator and prompt=none forbids the login page."
}

// noteAuthorizeParams records in an authorize_request event how the request
// protected itself: its PKCE method ("S256", "plain", which is also what a
// challenge without a method means (RFC 7636 §4.3), or "none" without a
// challenge) and whether it sent a nonce.
func noteAuthorizeParams(e *events.Event, form url.Values) {
	e.PKCE = "none"
	if form.Get("code_challenge") != "" {
		e.PKCE = cmp.Or(form.Get("code_challenge_method"), "plain")
	}
	e.NonceSent = form.Get("nonce") != ""
}

// eventScope is a granted scope as events tell it: space-separated, with
// offline access named offline_access however the client asked for it.
func eventScope(scopes []string) string {
	out := make([]string, 0, len(scopes))
	for _, scope := range scopes {
		if family.IsOfflineScope(scope) {
			scope = "offline_access"
		}
		if !slices.Contains(out, scope) {
			out = append(out, scope)
		}
	}
	return strings.Join(out, " ")
}

// silent reports whether an authorization request forbids any page, login
// or consent, with prompt=none (OpenID Connect Core §3.1.2.1).
func silent(ar fosite.AuthorizeRequester) bool {
	return slices.Contains(strings.Fields(ar.GetRequestForm().Get("prompt")), "none")
}

// absentState stands in for a state the client did not send.
const absentState = "oauthsim-absent-state"

// grantScopes grants user what was asked, but offline access only the way
// the profile says a client asks for it. withheld reports offline access
// granted to an authorization whose code must be redeemed for no refresh
// token: the profile issues refresh tokens on first consent only, and this
// one does not consent anew. The user's offline access stands, by the
// refresh token they hold. With include_granted_scopes=true (Google's
// incremental authorization) it also grants the scopes of the user's live
// grants to the client, as far as the client may still have them, and
// returns those it added. Offline access is left out of that union: each
// authorization asks for a refresh token anew.
func grantScopes(wd *world, p profile.Profile, ar fosite.AuthorizeRequester, user string) (added []string, withheld bool) {
	byParam := p.OfflineAccess == profile.OfflineAccessType
	for _, scope := range ar.GetRequestedScopes() {
		if byParam && family.IsOfflineScope(scope) {
			continue
		}
		ar.GrantScope(scope)
	}
	if byParam && ar.GetRequestForm().Get("access_type") == "offline" {
		ar.GrantScope("offline_access")
	}
	offline := slices.ContainsFunc(ar.GetGrantedScopes(), family.IsOfflineScope)
	withheld = offline && p.Refresh.OnlyOnFirstConsent && !consentsAnew(wd, ar, user)
	if ar.GetRequestForm().Get("include_granted_scopes") != "true" {
		return nil, withheld
	}
	client := ar.GetClient()
	for _, scope := range wd.store.GrantedScopes(user, client.GetID()) {
		if family.IsOfflineScope(scope) || ar.GetGrantedScopes().Has(scope) || !fosite.ExactScopeStrategy(client.GetScopes(), scope) {
			continue
		}
		ar.GrantScope(scope)
		added = append(added, scope)
	}
	return added, withheld
}

// consentsAnew reports whether an authorization that asks for offline access
// has the user consent anew, which is when a provider that issues refresh
// tokens on first consent only issues one: prompt=consent asks again, a
// re-prompt mark has the provider ask, and a user holding no refreshable
// grant to the client (never consented, or every grant revoked or expired
// since) is asked as the first time.
func consentsAnew(wd *world, ar fosite.AuthorizeRequester, user string) bool {
	client := ar.GetClient().GetID()
	return slices.Contains(strings.Fields(ar.GetRequestForm().Get("prompt")), "consent") ||
		wd.consents.required(user, client) || !wd.store.HoldsOfflineGrant(user, client)
}

// grantNote tells in an event that the session cookie signed the user in,
// what include_granted_scopes added, and that the code brings no refresh
// token when grantScopes withheld it.
func grantNote(added []string, withheld, bySession bool) string {
	var notes []string
	if bySession {
		notes = append(notes, "signed in by the session cookie")
	}
	if len(added) > 0 {
		notes = append(notes, "include_granted_scopes added "+strings.Join(added, " "))
	}
	if withheld {
		notes = append(notes, "the code brings no refresh token: the user already holds one for the client and was not asked to consent (the profile issues refresh tokens on first consent only)")
	}
	return strings.Join(notes, "; ")
}

func (s *Simulator) authorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error, op *family.Op, sh shaping) {
	rfc := fosite.ErrorToRFC6749Error(err)
	e := s.requestEvent(events.AuthorizeRequest, r, op, sh)
	e.Status, e.Error, e.Outcome, e.Detail = rfc.CodeField, rfc.ErrorField, events.OutcomeDenied, rfc.HintField
	noteAuthorizeParams(&e, r.Form)
	s.within(r.Context()).oauth.WriteAuthorizeError(r.Context(), w, ar, err)
	s.events.Emit(e)
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>oauthsim — sign in</title>
<style>
body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem} .note{color:#666;font-size:.9rem} .err{color:#b00020}
button{display:block;width:100%;margin:.4rem 0;padding:.7rem;font-size:1rem;text-align:left;cursor:pointer}
</style></head>
<body>
<h1>Sign in to oauthsim</h1>
<p class="note">A simulated provider: pick a user, and consent is given for <b>{{.Client}}</b> ({{.Scope}}).</p>
{{if .Hint}}<p class="err">login_hint names no user here: {{.Hint}}</p>{{end}}
<form method="post">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">
{{end}}{{end}}{{range .Users}}<button type="submit" name="user" value="{{.ID}}">{{.ID}}{{if .Name}} — {{.Name}}{{end}}</button>
{{end}}</form>
</body></html>
`))

// showLogin renders the page where a person picks the user to sign in as.
// It posts the original authorization request back with the user added.
func (s *Simulator) showLogin(w http.ResponseWriter, r *http.Request, unknownHint string, sh shaping) {
	params := map[string][]string{}
	for k, vs := range r.Form {
		if k != "user" && !(k == "state" && vs[0] == absentState) {
			params[k] = slices.Clone(vs)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = loginPage.Execute(w, map[string]any{
		"Client": r.Form.Get("client_id"), "Scope": r.Form.Get("scope"),
		"Hint": unknownHint, "Params": params, "Users": s.within(r.Context()).users.list(),
	})
	e := s.requestEvent(events.AuthorizeRequest, r, nil, sh)
	e.Status, e.Outcome, e.Detail = http.StatusOK, events.OutcomeOK, "login page shown"
	noteAuthorizeParams(&e, r.Form)
	s.events.Emit(e)
}
