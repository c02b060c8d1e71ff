package simulator

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/internal/family"
)

// handleRevoke is the RFC 7009 revocation endpoint. Revoking either token of
// a grant revokes its whole family.
func (s *Simulator) handleRevoke(w http.ResponseWriter, r *http.Request, sh shaping) {
	wd := s.within(r.Context())
	op := &family.Op{Revocation: true}
	ctx := family.WithOp(r.Context(), op)
	err := wd.oauth.NewRevocationRequest(ctx, r)
	e := s.requestEvent(events.RevokeRequest, r, op, sh)
	if r.PostForm != nil {
		if t := r.PostForm.Get("token"); t != "" {
			if info, ok := wd.store.Token(s.tokens.signature(t)); ok {
				e.Token, e.TokenType = info.Fingerprint, string(info.Kind)
			}
		}
	}
	if err != nil {
		s.noteOAuthError(w, r, err, &e)
	} else {
		e.Status, e.Outcome = http.StatusOK, events.OutcomeOK
	}
	wd.oauth.WriteRevocationResponse(ctx, w, err)
	s.events.Emit(e)
}

// handleIntrospect is the RFC 7662 introspection endpoint. fosite decides
// whether the token is active; the simulator renders the answer so that
// iat and exp are sim times. A caller learns only of the tokens issued to
// its own client, whether it authenticates as the client (HTTP Basic) or
// with one of the client's access tokens: another client's token is
// inactive to it, as RFC 7662 §4 has a server answer for a token the caller
// has no business with. fosite lets any valid credentials see every token.
func (s *Simulator) handleIntrospect(w http.ResponseWriter, r *http.Request, sh shaping) {
	wd := s.within(r.Context())
	op := &family.Op{}
	ctx := family.WithOp(r.Context(), op)
	ir, err := wd.oauth.NewIntrospectionRequest(ctx, r, newSession())
	e := s.requestEvent(events.IntrospectRequest, r, op, sh)
	if err == nil && !ir.IsActive() {
		err = fosite.ErrInactiveToken
	}
	info, _ := wd.store.Token(s.tokens.signature(r.PostForm.Get("token")))
	if err == nil && s.introspectingClient(wd, r) != info.Client {
		err, op.Denial = fosite.ErrInactiveToken, "the token was issued to another client than the caller's"
	}
	if err != nil {
		s.introspectionError(w, r, err, op, &e)
		s.events.Emit(e)
		return
	}
	body := map[string]any{
		"active":    true,
		"client_id": info.Client,
		"scope":     strings.Join(info.Scopes, " "),
		"iat":       info.IssuedAt.Unix(),
		"iss":       issuerFrom(ctx),
		"token_use": string(info.Kind),
	}
	if info.User != "" {
		body["sub"], body["username"] = info.User, info.User
	}
	if !info.ExpiresAt.IsZero() {
		body["exp"] = info.ExpiresAt.Unix()
	}
	if info.Kind == fosite.AccessToken {
		body["token_type"] = "Bearer"
	}
	e.Token, e.TokenType, e.Status, e.Outcome, e.Detail = info.Fingerprint, string(info.Kind), http.StatusOK, events.OutcomeOK, "active"
	writeJSON(w, http.StatusOK, body)
	s.events.Emit(e)
}

// introspectingClient is the client an introspection request that fosite
// authenticated comes from: the one its HTTP Basic credentials name, or the
// one its bearer access token was issued to.
func (s *Simulator) introspectingClient(wd *world, r *http.Request) string {
	if bearer := fosite.AccessTokenFromRequest(r); bearer != "" {
		info, _ := wd.store.Token(s.tokens.signature(bearer))
		return info.Client
	}
	id, _, _ := r.BasicAuth()
	client, _ := url.QueryUnescape(id)
	return client
}

// introspectionError answers a failed introspection as RFC 7662 §2.3 says:
// 401 invalid_client for bad caller credentials (fosite says
// request_unauthorized), 400 for a malformed request, and otherwise
// {"active":false}.
func (s *Simulator) introspectionError(w http.ResponseWriter, r *http.Request, err error, op *family.Op, e *events.Event) {
	switch {
	case errors.Is(err, fosite.ErrInactiveToken):
	case errors.Is(err, fosite.ErrRequestUnauthorized):
		err = fosite.ErrInvalidClient.WithHint(fosite.ErrorToRFC6749Error(err).HintField)
		s.noteOAuthError(w, r, err, e)
		writeJSONError(w, http.StatusUnauthorized, e.Error, e.Detail)
		return
	case errors.Is(err, fosite.ErrInvalidRequest):
		s.noteOAuthError(w, r, err, e)
		writeJSONError(w, http.StatusBadRequest, e.Error, e.Detail)
		return
	default:
		s.cfg.logger.Error("introspection failed", "error", err)
	}
	e.Status, e.Outcome, e.Detail = http.StatusOK, events.OutcomeOK, "inactive: "+op.Denial
	writeJSON(w, http.StatusOK, map[string]bool{"active": false})
}

// bearer checks the request's access token, as the faults sh that fired on
// the request let the resource know it. On failure it answers as RFC 6750
// §3 says and returns ok false: 401 without a token or with one that is not
// valid, 400 invalid_request for a token in the query.
func (s *Simulator) bearer(w http.ResponseWriter, r *http.Request, sh shaping, e *events.Event) (fosite.AccessRequester, bool) {
	wd := s.within(r.Context())
	if r.URL.Query().Has("access_token") {
		const why = "access tokens go in the Authorization header (RFC 6750 §2.1); this resource takes none in the query (§2.3), where logs and browser history keep it"
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="oauthsim", error="invalid_request", error_description=%q`, why))
		writeJSONError(w, http.StatusBadRequest, "invalid_request", why)
		e.Status, e.Outcome, e.Error, e.Detail = http.StatusBadRequest, events.OutcomeDenied, "invalid_request", why
		e.Token, e.TokenType = events.Fingerprint(string(fosite.AccessToken), s.tokens.signature(r.URL.Query().Get("access_token"))), string(fosite.AccessToken)
		return nil, false
	}
	token := bearerToken(r)
	if token == "" {
		// RFC 6750 §3.1: a request with no credentials gets no error code.
		w.Header().Set("WWW-Authenticate", `Bearer realm="oauthsim"`)
		writeJSONError(w, http.StatusUnauthorized, "invalid_request", "no access token in the Authorization header")
		e.Status, e.Outcome, e.Error = http.StatusUnauthorized, events.OutcomeDenied, "invalid_request"
		return nil, false
	}
	sig := s.tokens.signature(token)
	e.Token, e.TokenType = events.Fingerprint(string(fosite.AccessToken), sig), string(fosite.AccessToken)
	op := &family.Op{}
	ctx := family.WithOp(r.Context(), op)
	use, ar, err := wd.oauth.IntrospectToken(ctx, token, fosite.AccessToken, newSession())
	e.Client, e.User, e.Family, e.Reason = op.Client, op.User, op.Family, op.Refusal
	if err == nil && use != fosite.AccessToken {
		err, op.Denial = fosite.ErrInvalidTokenFormat, "a refresh token is not an access token"
	}
	ar, err = s.propagate(r, sh, e, sig, op, ar, err)
	if err != nil {
		why := op.Denial
		if why == "" {
			why = "the access token is not valid"
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="oauthsim", error="invalid_token", error_description=%q`, why))
		writeJSONError(w, http.StatusUnauthorized, "invalid_token", why)
		e.Status, e.Outcome, e.Error, e.Detail = http.StatusUnauthorized, events.OutcomeDenied, "invalid_token", why
		return nil, false
	}
	return ar, true
}

// bearerToken is the access token in a request's Authorization header
// (RFC 6750 §2.1), the one place a resource server must look for one. Unlike
// fosite's AccessTokenFromRequest it never reads the query or the body:
// reading the body would parse a multipart form to disk.
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return token
}

// handleResource is the protected resource client token managers call.
func (s *Simulator) handleResource(w http.ResponseWriter, r *http.Request, sh shaping) {
	e := s.requestEvent(events.ResourceRequest, r, nil, sh)
	defer func() { s.events.Emit(e) }()
	ar, ok := s.bearer(w, r, sh, &e)
	if !ok {
		return
	}
	e.Status, e.Outcome = http.StatusOK, events.OutcomeOK
	writeJSON(w, http.StatusOK, map[string]string{
		"sub":       ar.GetSession().GetSubject(),
		"client_id": ar.GetClient().GetID(),
		"scope":     strings.Join(ar.GetGrantedScopes(), " "),
	})
}

// handleUserinfo is the OpenID Connect userinfo endpoint.
func (s *Simulator) handleUserinfo(w http.ResponseWriter, r *http.Request, sh shaping) {
	e := s.requestEvent(events.ResourceRequest, r, nil, sh)
	defer func() { s.events.Emit(e) }()
	ar, ok := s.bearer(w, r, sh, &e)
	if !ok {
		return
	}
	if !ar.GetGrantedScopes().Has("openid") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="oauthsim", error="insufficient_scope", scope="openid"`)
		writeJSONError(w, http.StatusForbidden, "insufficient_scope", "userinfo needs the openid scope")
		e.Status, e.Outcome, e.Error = http.StatusForbidden, events.OutcomeDenied, "insufficient_scope"
		return
	}
	sub := ar.GetSession().GetSubject()
	body := map[string]string{"sub": sub}
	if u, ok := s.within(r.Context()).users.get(sub); ok {
		if ar.GetGrantedScopes().Has("profile") {
			body["name"], body["preferred_username"] = u.Name, u.ID
		}
		if ar.GetGrantedScopes().Has("email") && u.Email != "" {
			body["email"] = u.Email
		}
	}
	e.Status, e.Outcome = http.StatusOK, events.OutcomeOK
	writeJSON(w, http.StatusOK, body)
}

// handleMetadata serves RFC 8414 metadata and OpenID Connect discovery: the
// same document at both addresses.
func (s *Simulator) handleMetadata(w http.ResponseWriter, r *http.Request, _ shaping) {
	iss := issuerFrom(r.Context())
	// The endpoints are the issuer's: at its profile's paths (shape.go),
	// under an issuer that may end in a slash.
	at := func(path string) string { return strings.TrimSuffix(iss, "/") + endpointPath(s.cfg.profile, path) }
	auth := []string{AuthSecretBasic, AuthSecretPost, AuthNone}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                     iss,
		"authorization_endpoint":                     at(PathAuthorize),
		"token_endpoint":                             at(PathToken),
		"revocation_endpoint":                        at(PathRevoke),
		"introspection_endpoint":                     at(PathIntrospect),
		"userinfo_endpoint":                          at(PathUserinfo),
		"jwks_uri":                                   at(PathJWKS),
		"response_types_supported":                   []string{"code"},
		"response_modes_supported":                   s.responseModes(),
		"grant_types_supported":                      knownGrantTypes,
		"code_challenge_methods_supported":           []string{"S256"},
		"token_endpoint_auth_methods_supported":      auth,
		"revocation_endpoint_auth_methods_supported": auth,
		// fosite reads introspection credentials from the Authorization header only.
		"introspection_endpoint_auth_methods_supported": []string{AuthSecretBasic},
		"scopes_supported":                      []string{"openid", "offline_access", "profile", "email", "api"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{string(jose.RS256)},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "name", "preferred_username", "email"},
	})
}

// handleJWKS publishes the id_token signing key.
func (s *Simulator) handleJWKS(w http.ResponseWriter, _ *http.Request, _ shaping) {
	key, err := s.key()
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.public}})
}

// propagate lets the faults sh that fired on a resource request overturn
// its check of an access token the store knows (fault.Propagator): the
// first that acts decides.
func (s *Simulator) propagate(r *http.Request, sh shaping, e *events.Event, sig string, op *family.Op, ar fosite.AccessRequester, err error) (fosite.AccessRequester, error) {
	var c *tokenCheck
	wd := s.within(r.Context())
	for p, f := range hooked[fault.Propagator](sh) {
		if c == nil {
			info, ok := wd.store.Token(sig)
			if !ok || info.Kind != fosite.AccessToken {
				return ar, err
			}
			c = &tokenCheck{info: info, now: s.provider.Now(), valid: err == nil, revoked: op.Refusal == events.RefusedRevoked}
		}
		detail := p.Propagate(c)
		if detail == "" {
			continue
		}
		req := faulted{Request: fault.Request{Endpoint: fault.EndpointResource, Client: c.info.Client, User: c.info.User, Family: c.info.Family},
			token: c.info.Fingerprint, tokenType: string(c.info.Kind)}
		s.applied(r, req, f, detail)
		if c.refusal != "" {
			op.Denial = c.refusal
			return nil, fosite.ErrInactiveToken
		}
		e.Detail = c.acceptance
		return staleRequest(wd, c.info), nil
	}
	return ar, err
}

// tokenCheck is a resource's check of an access token the store knows, as
// a fault.Propagator may overturn it.
type tokenCheck struct {
	info family.TokenInfo
	// now is the provider's time; valid, the store's verdict; revoked, that
	// the store refused the token as revoked.
	now            time.Time
	valid, revoked bool
	// refusal or acceptance says why a fault overturned the verdict.
	refusal, acceptance string
}

// Valid implements fault.TokenCheck.
func (c *tokenCheck) Valid() bool { return c.valid }

// Age implements fault.TokenCheck.
func (c *tokenCheck) Age() time.Duration { return c.now.Sub(c.info.IssuedAt) }

// RevokedFor implements fault.TokenCheck: a token past its expiry stays
// refused whatever the resource has heard.
func (c *tokenCheck) RevokedFor() (time.Duration, bool) {
	live := c.info.ExpiresAt.IsZero() || c.now.Before(c.info.ExpiresAt)
	return c.now.Sub(c.info.RevokedAt), !c.valid && c.revoked && !c.info.RevokedAt.IsZero() && live
}

// Refuse implements fault.TokenCheck.
func (c *tokenCheck) Refuse(why string) { c.refusal = why }

// Accept implements fault.TokenCheck.
func (c *tokenCheck) Accept(detail string) { c.acceptance = detail }

// staleRequest stands in for a revoked token's request at a resource that
// has not heard of the revocation.
func staleRequest(wd *world, info family.TokenInfo) fosite.AccessRequester {
	sess := newSession()
	sess.Subject = info.User
	req := fosite.NewAccessRequest(sess)
	if c, ok := wd.clients.get(info.Client); ok {
		req.Client = c
	} else {
		req.Client = &fosite.DefaultClient{ID: info.Client}
	}
	req.GrantedScope = fosite.Arguments(info.Scopes)
	return req
}
