package simulator

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/family"
)

// maxFormMemory is what fosite gives a multipart form in memory.
const maxFormMemory = 1 << 20

// handleToken is the token endpoint (RFC 6749 §3.2).
func (s *Simulator) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, resp, op, err := s.exchange(ctx, r)
	e := s.requestEvent(events.TokenRequest, r, op)
	e.GrantType = op.GrantType
	e.Token = s.presentedToken(op.GrantType, r.PostForm)
	if err != nil {
		s.noteOAuthError(w, r, err, &e)
		s.oauth.WriteAccessError(ctx, w, ar, err)
		s.events.Emit(e)
		return
	}
	e.Status, e.Outcome = http.StatusOK, events.OutcomeOK
	s.oauth.WriteAccessResponse(ctx, w, ar, resp)
	s.events.Emit(e)
}

// exchange runs one token request through fosite and shapes the response
// by sim time and the profile. The control API's grants use it too, so a
// minted grant answers exactly as the token endpoint would.
func (s *Simulator) exchange(ctx context.Context, r *http.Request) (fosite.AccessRequester, fosite.AccessResponder, *family.Op, error) {
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
	defer s.lockFamily(op.GrantType, r.PostForm)()
	ctx = family.WithOp(ctx, op)
	ar, err := s.oauth.NewAccessRequest(ctx, r, newSession())
	if err != nil {
		return ar, nil, op, err
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		// fosite checked the scopes against the client; granting is ours to do.
		for _, scope := range ar.GetRequestedScopes() {
			ar.GrantScope(scope)
		}
	}
	resp, err := s.oauth.NewAccessResponse(ctx, ar)
	if err != nil {
		return ar, nil, op, err
	}
	if op.RefreshDropped {
		if ext, ok := resp.(*fosite.AccessResponse); ok {
			delete(ext.Extra, "refresh_token")
		}
	}
	// RFC 6750 spells it "Bearer"; fosite writes "bearer". A lowercase
	// token_type is one of the deviations a profile can ask for instead.
	resp.SetTokenType("Bearer")
	if !op.AccessExpiresAt.IsZero() {
		resp.SetExpiresIn(op.AccessExpiresAt.Sub(s.clock.Now()).Round(time.Second))
	}
	return ar, resp, op, nil
}

// lockFamily serializes token requests on the family of the code or refresh
// token presented, and returns the unlock function.
func (s *Simulator) lockFamily(grant string, form url.Values) func() {
	switch grant {
	case "refresh_token":
		return s.store.LockFamilyOf(fosite.RefreshToken, s.strategy.signature(form.Get("refresh_token")))
	case "authorization_code":
		return s.store.LockFamilyOf(fosite.AuthorizeCode, s.strategy.signature(form.Get("code")))
	}
	return func() {}
}

// presentedToken is the fingerprint of the code or refresh token a token
// request presented, for the event log.
func (s *Simulator) presentedToken(grant string, form url.Values) string {
	switch grant {
	case "refresh_token":
		if t := form.Get("refresh_token"); t != "" {
			return family.Fingerprint(fosite.RefreshToken, s.strategy.signature(t))
		}
	case "authorization_code":
		if c := form.Get("code"); c != "" {
			return family.Fingerprint(fosite.AuthorizeCode, s.strategy.signature(c))
		}
	}
	return ""
}

// requestEvent starts the event for a request: who asked, and what the store
// learned while serving it.
func (s *Simulator) requestEvent(kind events.Kind, r *http.Request, op *family.Op) events.Event {
	e := events.Event{Kind: kind, Endpoint: r.URL.Path, Time: requestTime(r.Context())}
	if op != nil {
		e.Client, e.User, e.Family, e.Detail = op.Client, op.User, op.Family, op.Denial
	}
	if e.Client == "" {
		if id, _, ok := r.BasicAuth(); ok {
			e.Client, _ = url.QueryUnescape(id)
		} else if r.Form != nil {
			e.Client = r.Form.Get("client_id")
		}
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
