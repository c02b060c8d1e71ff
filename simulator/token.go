package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/internal/family"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// maxFormMemory is what fosite gives a multipart form in memory.
const maxFormMemory = 1 << 20

// handleToken is the token endpoint (RFC 6749 §3.2).
func (s *Simulator) handleToken(w http.ResponseWriter, r *http.Request, sh shaping) {
	s.still.RLock()
	ar, resp, op, err := s.shapedExchange(r.Context(), r, sh, true)
	s.still.RUnlock()
	e := s.requestEvent(events.TokenRequest, r, op, sh)
	e.GrantType = op.GrantType
	e.Token = s.presentedToken(op.GrantType, r.PostForm)
	e.RequestedScope = requestedScope(op.GrantType, r.PostForm)
	if e.Reason == "" {
		e.Reason = op.ClientRefusal
	}
	deviations := s.deviations(sh)
	if err != nil {
		s.writeTokenError(w, r, ar, err, op, deviations, sh, &e)
		s.events.Emit(e)
		return
	}
	e.Status, e.Outcome = http.StatusOK, events.OutcomeOK
	e.Scope = eventScope(ar.GetGrantedScopes())
	switch {
	case op.Mint.DropRefresh:
		e.Detail = "the scope left offline_access out: the answer carries no refresh token (refresh.scope_without_offline_access: no_refresh_token)"
	case op.RefreshDropped && op.GrantType == "authorization_code":
		e.Detail = "no refresh token: the user already holds one for the client (refresh.only_on_first_consent)"
	}
	writeTokenResponse(w, deviate(s.shownScope(resp.ToMap()), deviations))
	s.shaped(r, sh, tokenAnswer{op: op}, &e)
	s.events.Emit(e)
}

// requestedScope is the scope parameter of a refresh or client credentials
// request exactly as the client sent it, nil when it sent none. It is read
// from the form because fosite replaces a refresh request's scopes with its
// grant's.
func requestedScope(grant string, form url.Values) *string {
	if grant != "refresh_token" && grant != "client_credentials" {
		return nil
	}
	values, sent := form["scope"]
	if !sent {
		return nil
	}
	scope := ""
	if len(values) > 0 {
		scope = values[0]
	}
	return &scope
}

// exchange runs one token request no fault fired on through fosite: the
// control API's grants use it, so that a minted grant answers exactly as the
// token endpoint would.
func (s *Simulator) exchange(ctx context.Context, r *http.Request) (fosite.AccessRequester, fosite.AccessResponder, *family.Op, error) {
	return s.shapedExchange(ctx, r, shaping{}, false)
}

// shapedExchange runs one token request through fosite and shapes the
// response by sim time, the profile and the faults sh that fired on the
// request. A request from a client, not the simulator's own (fromClient),
// is held to the profile's rule on its Origin header (redemptionOrigin).
func (s *Simulator) shapedExchange(ctx context.Context, r *http.Request, sh shaping, fromClient bool) (fosite.AccessRequester, fosite.AccessResponder, *family.Op, error) {
	wd := s.within(ctx)
	op := &family.Op{}
	// Parse as fosite will, multipart bodies included, so that the grant and
	// the token this request presents, and so the family to lock, are known.
	if err := r.ParseMultipartForm(maxFormMemory); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return nil, nil, op, fosite.ErrInvalidRequest.WithHintf("The request body could not be parsed: %s.", err)
	}
	op.GrantType = r.PostForm.Get("grant_type")
	if op.GrantType != "" && !slices.Contains(knownGrantTypes, op.GrantType) {
		// fosite says invalid_request when no handler takes a grant; RFC 6749 §5.2 has a code for it.
		return nil, nil, op, fosite.ErrUnsupportedGrantType.WithHintf("The grant type %q is not supported here.", op.GrantType)
	}
	if fromClient {
		if err := s.redemptionOrigin(wd, r, op.GrantType); err != nil {
			return nil, nil, op, err
		}
		// A page whose origin the client does not allow cannot read the
		// answer: carried out, its refresh would rotate a token that no
		// client could ever see, and the next refresh, however correct,
		// would present a superseded one. Refused, it changes nothing; the
		// page sees the browser's CORS error either way.
		if why := corsRefusal(ctx); why != "" {
			return nil, nil, op, fosite.ErrInvalidRequest.WithHintf("The request's origin is not allowed: %s.", why)
		}
	}
	s.prepareOp(wd.clients.policyOf(requestClient(r)), op, sh)
	defer s.lockFamily(wd, op.GrantType, r.PostForm)()
	ctx = family.WithOp(ctx, op)
	ar, err := wd.oauth.NewAccessRequest(ctx, r, newSession())
	if err != nil {
		return ar, nil, op, wrongClient(err, op)
	}
	switch {
	case ar.GetGrantTypes().ExactOne("client_credentials"):
		// fosite checked the scopes against the client; granting is ours to do.
		for _, scope := range ar.GetRequestedScopes() {
			ar.GrantScope(scope)
		}
	case ar.GetGrantTypes().ExactOne("refresh_token"):
		if err := s.narrowScope(ar, r.PostForm, op); err != nil {
			return ar, nil, op, err
		}
	}
	resp, err := wd.oauth.NewAccessResponse(ctx, ar)
	if err != nil {
		return ar, nil, op, err
	}
	if op.RefreshDropped {
		if ext, ok := resp.(*fosite.AccessResponse); ok {
			delete(ext.Extra, "refresh_token")
			if op.RefreshUnchanged {
				ext.Extra["refresh_token"] = r.PostForm.Get("refresh_token")
			}
		}
	}
	// RFC 6750 spells it "Bearer"; fosite writes "bearer". A lowercase
	// token_type is one of the deviations a profile can ask for instead.
	resp.SetTokenType("Bearer")
	if !op.AccessExpiresAt.IsZero() {
		// A backdated token announces its whole lifetime, as if minted now.
		resp.SetExpiresIn(op.AccessExpiresAt.Add(op.Mint.Backdate).Sub(s.provider.Now()).Round(time.Second))
	}
	return ar, resp, op, nil
}

// wrongClient is the error a token request refused because its code or
// refresh token belongs to another client (events.RefusedWrongClient)
// answers with: invalid_grant, which RFC 6749 §5.2 names for a grant
// "issued to another client", saying so. The store refuses such a token
// as not found, before fosite's own check of the client could tell it.
func wrongClient(err error, op *family.Op) error {
	if op.Refusal != events.RefusedWrongClient {
		return err
	}
	what := "refresh token"
	if op.GrantType == "authorization_code" {
		what = "authorization code"
	}
	return fosite.ErrInvalidGrant.WithWrap(err).WithHintf("The %s was issued to another client.", what)
}

// narrowScope gives a refresh's access token the narrower scope its scope
// parameter asks for, as RFC 6749 §6 allows, and refuses a scope the grant
// does not hold with invalid_scope: fosite ignores the parameter and grants
// the grant's whole scope. The refresh token keeps the grant's scope (the
// store sees to it). Where offline access is a scope and the refresh leaves
// it out, the profile says whether the answer carries a refresh token.
func (s *Simulator) narrowScope(ar fosite.AccessRequester, form url.Values, op *family.Op) error {
	// RFC 6749 §3.1: a parameter sent without a value is as if omitted.
	requested := strings.Fields(form.Get("scope"))
	if len(requested) == 0 {
		return nil
	}
	granted := ar.GetGrantedScopes()
	for _, scope := range requested {
		if !granted.Has(scope) {
			return fosite.ErrInvalidScope.WithHintf("The scope %q is not in this refresh token's grant; a refresh may ask for less than the grant holds, never more (RFC 6749 §6).", scope)
		}
	}
	p := s.cfg.profile
	// Where offline access is no scope (Google's access_type=offline), a
	// refresh cannot leave it out.
	keepOffline := p.OfflineAccess == profile.OfflineAccessType || slices.ContainsFunc(requested, family.IsOfflineScope) ||
		p.Refresh.ScopeWithoutOfflineAccess != profile.WithoutOfflineNoRefreshToken
	narrowed := make(fosite.Arguments, 0, len(granted))
	for _, scope := range granted {
		if slices.Contains(requested, scope) || (keepOffline && family.IsOfflineScope(scope)) {
			narrowed = append(narrowed, scope)
		}
	}
	req, ok := ar.(*fosite.AccessRequest)
	if !ok {
		return fosite.ErrServerError.WithDebugf("a refresh request of type %T cannot be narrowed", ar)
	}
	req.GrantedScope = narrowed
	op.Mint.DropRefresh = !keepOffline
	return nil
}

// prepareOp sets what this request mints differently: an access-token
// lifetime drawn from the range of p, the profile as it governs the
// requesting client's tokens, what the faults that fired on it change
// (fault.Minter), and what the deviations of the answer, the profile's and
// the faults' alike, ask of the minting.
func (s *Simulator) prepareOp(p profile.Profile, op *family.Op, sh shaping) {
	if p.AccessTokenLifetimeMax > p.AccessTokenLifetime {
		op.Mint.AccessLifetime = s.lifetimes.between(p.AccessTokenLifetime.D(), p.AccessTokenLifetimeMax.D())
	}
	for m := range hooked[fault.Minter](sh) {
		m.Mint(minting{op: op, lifetimes: s.lifetimes})
	}
	for _, d := range s.deviations(sh) {
		switch d {
		case profile.DeviationNoRefreshToken:
			op.Mint.KeepRefresh = op.Mint.KeepRefresh || op.GrantType == "refresh_token"
		case profile.DeviationIDTokenNonceMismatch:
			op.Mint.ReplaceNonce = true
		}
	}
}

// minting is the fault.Minting of one token request: what the faults change
// lands in its Op, which the store reads.
type minting struct {
	op        *family.Op
	lifetimes *lockedRand
}

// Backdate implements fault.Minting.
func (m minting) Backdate(by time.Duration) { m.op.Mint.Backdate += by }

// DrawAccessLifetime implements fault.Minting.
func (m minting) DrawAccessLifetime(lo, hi time.Duration) {
	m.op.Mint.AccessLifetime = m.lifetimes.between(lo, hi)
}

// deviations are the departures from RFC 6749 the answer to a request makes:
// the profile's own and those of the faults sh that fired on it.
func (s *Simulator) deviations(sh shaping) []profile.Deviation {
	devs := slices.Clone(s.cfg.profile.Deviations)
	for d := range hooked[fault.Deviator](sh) {
		devs = append(devs, d.Deviates())
	}
	return devs
}

// shaped records the faults sh that shaped the token answer t, each as it
// tells what it did (fault.TokenShaper).
func (s *Simulator) shaped(r *http.Request, sh shaping, t tokenAnswer, e *events.Event) {
	req := tokenFaulted(e)
	for ts, f := range hooked[fault.TokenShaper](sh) {
		if detail := ts.Shaped(t); detail != "" {
			s.applied(r, req, f, detail)
		}
	}
}

// tokenAnswer is a token endpoint answer as the faults that shaped it read
// it (fault.TokenAnswer).
type tokenAnswer struct {
	op *family.Op
	// code and status are a refusal's RFC 6749 error and its status before
	// deviations; code is empty when tokens were issued.
	code   string
	status int
}

// ErrorCode implements fault.TokenAnswer.
func (t tokenAnswer) ErrorCode() string { return t.code }

// Status implements fault.TokenAnswer.
func (t tokenAnswer) Status() int { return t.status }

// StatusUnder implements fault.TokenAnswer.
func (t tokenAnswer) StatusUnder(d profile.Deviation) int { return errorStatus(d, t.code, t.status) }

// AccessMinted implements fault.TokenAnswer.
func (t tokenAnswer) AccessMinted() bool { return !t.op.AccessExpiresAt.IsZero() }

// AccessLifetime implements fault.TokenAnswer.
func (t tokenAnswer) AccessLifetime() time.Duration { return t.op.Mint.AccessLifetime }

// NonceReplaced implements fault.TokenAnswer.
func (t tokenAnswer) NonceReplaced() bool { return t.op.NonceReplaced }

// deviate applies the success-body deviations to a token response.
func deviate(body map[string]any, devs []profile.Deviation) map[string]any {
	for _, d := range devs {
		switch d {
		case profile.DeviationTokenTypeLowercase:
			body["token_type"] = strings.ToLower(fmt.Sprint(body["token_type"]))
		case profile.DeviationExpiresInMissing:
			delete(body, "expires_in")
		case profile.DeviationExpiresInString, profile.DeviationExpiresInFractional:
			secs, ok := body["expires_in"].(int64)
			if !ok {
				continue
			}
			if d == profile.DeviationExpiresInString {
				body["expires_in"] = strconv.FormatInt(secs, 10)
			} else {
				body["expires_in"] = float64(secs) - 0.5
			}
		}
	}
	return body
}

// writeTokenResponse writes a successful token response as RFC 6749 §5.1 asks.
func writeTokenResponse(w http.ResponseWriter, body map[string]any) {
	b, err := json.Marshal(body)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// writeTokenError answers a failed token request: with the profile's own
// response for the situation when it has one, else with fosite's RFC 6749
// error, then with the status the deviations ask for.
func (s *Simulator) writeTokenError(w http.ResponseWriter, r *http.Request, ar fosite.AccessRequester, err error, op *family.Op, devs []profile.Deviation, sh shaping, e *events.Event) {
	rec := newRecorder()
	s.noteOAuthError(rec, r, err, e)
	rfc := fosite.ErrorToRFC6749Error(err)
	situation := s.situation(r, rfc.ErrorField, op)
	var refused originRefusal
	if errors.As(err, &refused) {
		situation = refused.situation
	}
	if resp, ok := s.situationResponse(situation); ok {
		var issued time.Time
		if op.GrantType == "refresh_token" {
			if info, ok := s.within(r.Context()).store.Token(s.tokens.signature(r.PostForm.Get("refresh_token"))); ok {
				issued = info.IssuedAt
			}
		}
		data := s.responseData(fault.Firing{}, issued)
		data.Origin = shownOrigin(r)
		s.writeRendered(rec, resp, data)
	} else {
		s.within(r.Context()).oauth.WriteAccessError(r.Context(), rec, ar, err)
	}
	status := rec.status
	for _, d := range devs {
		status = errorStatus(d, rfc.ErrorField, status)
	}
	s.shaped(r, sh, tokenAnswer{op: op, code: rfc.ErrorField, status: rec.status}, e)
	if status != http.StatusUnauthorized {
		rec.header.Del("WWW-Authenticate")
	}
	rec.status, e.Status = status, status
	rec.flush(w)
}

// tokenFaulted is the token request e records, as the faults' events name it.
func tokenFaulted(e *events.Event) faulted {
	return faulted{
		Request: fault.Request{Endpoint: fault.EndpointToken, GrantType: e.GrantType, Client: e.Client, User: e.User, Family: e.Family},
		token:   e.Token, tokenType: e.TokenType,
	}
}

// errorStatus is the status deviation d gives an error answer with code
// that would otherwise have status.
func errorStatus(d profile.Deviation, code string, status int) int {
	invalidGrant := code == fosite.ErrInvalidGrant.ErrorField
	switch {
	case d == profile.DeviationErrorsAs200:
		return http.StatusOK
	case d == profile.DeviationInvalidGrant401 && invalidGrant:
		return http.StatusUnauthorized
	case d == profile.DeviationInvalidGrant403 && invalidGrant:
		return http.StatusForbidden
	}
	return status
}

// situation names the moment a token request failed in, for the profile's
// own answer: a refused refresh token (by why the store refused it) or a
// refused client secret.
func (s *Simulator) situation(r *http.Request, code string, op *family.Op) profile.Situation {
	switch {
	case code == fosite.ErrInvalidGrant.ErrorField && op.GrantType == "refresh_token":
		switch op.Refusal {
		case events.RefusedRevoked:
			return profile.SituationRefreshTokenRevoked
		case events.RefusedReused:
			return profile.SituationRefreshTokenReused
		case events.RefusedExpired:
			return profile.SituationRefreshTokenExpired
		case events.RefusedInactive:
			return profile.SituationRefreshTokenInactive
		case events.RefusedTestingApp:
			return profile.SituationRefreshTokenTestingApp
		case events.RefusedWrongClient:
			return profile.SituationRefreshTokenWrongClient
		}
		return profile.SituationRefreshTokenInvalid
	case code == fosite.ErrInvalidClient.ErrorField && op.ClientRefusal == events.ClientSecretExpired:
		return profile.SituationClientSecretExpired
	case code == fosite.ErrInvalidClient.ErrorField:
		if _, secret, ok := r.BasicAuth(); (ok && secret != "") || r.PostForm.Get("client_secret") != "" {
			return profile.SituationClientSecretInvalid
		}
	}
	return ""
}

// lockFamily serializes token requests on the family of the code or refresh
// token presented, in world wd, and returns the unlock function.
func (s *Simulator) lockFamily(wd *world, grant string, form url.Values) func() {
	switch grant {
	case "refresh_token":
		return wd.store.LockFamilyOf(fosite.RefreshToken, s.tokens.signature(form.Get("refresh_token")))
	case "authorization_code":
		return wd.store.LockFamilyOf(fosite.AuthorizeCode, s.tokens.signature(form.Get("code")))
	}
	return func() {}
}

// presentedToken is the fingerprint of the code or refresh token a token
// request presented, for the event log.
func (s *Simulator) presentedToken(grant string, form url.Values) string {
	switch grant {
	case "refresh_token":
		if t := form.Get("refresh_token"); t != "" {
			return events.Fingerprint(string(fosite.RefreshToken), s.tokens.signature(t))
		}
	case "authorization_code":
		if c := form.Get("code"); c != "" {
			return events.Fingerprint(string(fosite.AuthorizeCode), s.tokens.signature(c))
		}
	}
	return ""
}

// requestClient is the client a request names, by HTTP Basic or by its
// client_id parameter, before anything has authenticated it: for what only
// matters once it has (a request that fails to authenticate mints nothing).
func requestClient(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(id)
		return id
	}
	if r.Form != nil {
		return r.Form.Get("client_id")
	}
	return ""
}

// requestEvent starts the event for a request: who asked, what the store
// learned while serving it, and the fault, of those sh that fired on it,
// that keeps its answer from reaching the client readable.
func (s *Simulator) requestEvent(kind events.Kind, r *http.Request, op *family.Op, sh shaping) events.Event {
	e := events.Event{Kind: kind, Endpoint: requestPath(r), Time: requestTime(r.Context()), Fault: sh.lostTo(),
		Origin: r.Header.Get("Origin"), CORSRefused: corsRefusal(r.Context())}
	if op != nil {
		// Reason is the store's refusal as a code (expired, revoked,
		// reused...), so that a harness can tell an expired access token
		// from a revoked one without reading the detail text.
		e.Client, e.User, e.Family, e.Detail, e.Reason = op.Client, op.User, op.Family, op.Denial, op.Refusal
		e.Owner = op.Owner
	}
	if e.Client == "" {
		e.Client = requestClient(r)
	}
	return e
}

// noteOAuthError records err in e and sets what RFC 6749 §5.2 asks of a
// failed HTTP Basic client authentication: a 401 with WWW-Authenticate,
// which fosite leaves out.
func (s *Simulator) noteOAuthError(w http.ResponseWriter, r *http.Request, err error, e *events.Event) {
	rfc := fosite.ErrorToRFC6749Error(err)
	e.Status, e.Error = rfc.CodeField, rfc.ErrorField
	e.Outcome = events.OutcomeDenied
	if rfc.CodeField >= 500 {
		e.Outcome = events.OutcomeError
		s.cfg.logger.Error("token endpoint failed", "error", err, "debug", rfc.DebugField)
	}
	if e.Detail == "" {
		e.Detail = rfc.HintField
	}
	if rfc.CodeField == http.StatusUnauthorized {
		setChallenge(w, r)
	}
}

// setChallenge asks a caller whose credentials were refused in the
// Authorization header to try again with the scheme it used.
func setChallenge(w http.ResponseWriter, r *http.Request) {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		w.Header().Set("WWW-Authenticate", `Bearer realm="oauthsim", error="invalid_token"`)
	case scheme != "":
		w.Header().Set("WWW-Authenticate", `Basic realm="oauthsim", charset="UTF-8"`)
	}
}

// shownScope leaves offline_access out of a token response's scope where
// the profile grants offline access by access_type=offline: Google has no
// such scope, never names it, and clients that compare the scope they get
// with the one they asked for (oauthlib) refuse an answer that does.
func (s *Simulator) shownScope(body map[string]any) map[string]any {
	scope, ok := body["scope"].(string)
	if !ok || s.cfg.profile.OfflineAccess != profile.OfflineAccessType {
		return body
	}
	body["scope"] = strings.Join(slices.DeleteFunc(strings.Fields(scope), family.IsOfflineScope), " ")
	return body
}
