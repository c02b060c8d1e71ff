package simulator

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/family"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// controlRoutes mounts the control API: what tests, the harness and QA use
// to move the clock, mint grants, revoke, and inspect the event log.
func (s *Simulator) controlRoutes(r *mux.Router) {
	// Full paths on the main router rather than a subrouter: gorilla/mux
	// answers a wrong method on a subrouter route with 404, not 405.
	route := func(method, path string, h http.HandlerFunc) {
		r.Handle(PathControlPrefix+path, s.controlGuard(h)).Methods(method)
	}
	route(http.MethodGet, "/clock", s.getClock)
	route(http.MethodPost, "/clock", s.postClock)
	route(http.MethodPost, "/grants", s.postGrant)
	route(http.MethodPost, "/revocations", s.postRevocation)
	route(http.MethodGet, "/events", s.getEvents)
	route(http.MethodGet, "/families", s.getFamilies)
	route(http.MethodGet, "/clients", s.getClients)
	route(http.MethodPost, "/clients", s.postClient)
	route(http.MethodGet, "/clients/{id}", s.getClient)
	route(http.MethodPut, "/clients/{id}", s.putClient)
	route(http.MethodPost, "/clients/{id}/secret", s.postClientSecret)
	route(http.MethodPost, "/clients/{id}/publishing-status", s.postPublishingStatus)
	route(http.MethodGet, "/consents", s.getConsents)
	route(http.MethodPost, "/consents", s.postConsent)
	route(http.MethodGet, "/users", s.getUsers)
	route(http.MethodPost, "/users", s.postUser)
	route(http.MethodGet, "/faults", s.getFaults)
	route(http.MethodPost, "/faults", s.postFault)
	route(http.MethodDelete, "/faults", s.deleteFaults)
	route(http.MethodGet, "/faults/{id}", s.getFault)
	route(http.MethodDelete, "/faults/{id}", s.deleteFault)
	route(http.MethodGet, "/profile", s.getProfile)
	route(http.MethodPost, "/reset", s.postReset)
}

// controlGuard keeps the control API to loopback callers unless remote
// control was enabled: it can revoke anything and move time.
func (s *Simulator) controlGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.cfg.remoteControl && !isLoopback(r) {
			writeJSONError(w, http.StatusForbidden, "forbidden", "the control API answers loopback callers only (see --allow-remote-control)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// errEmptyBody is decodeBody's answer to a request with no body at all.
var errEmptyBody = errors.New("the request body must be a JSON object")

// decodeBody reads exactly one JSON object into v, refusing unknown fields:
// a misspelt field must not be ignored silently.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errEmptyBody
		}
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	if dec.More() {
		return errors.New("the request body must hold a single JSON object")
	}
	return nil
}

func badRequest(w http.ResponseWriter, err error) {
	writeJSONError(w, http.StatusBadRequest, "invalid_request", err.Error())
}

// controlError answers an error from one of the simulator's methods: 404
// when what it names does not exist, 400 otherwise.
func controlError(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "not_found", err.Error())
		return
	}
	badRequest(w, err)
}

func notFound(w http.ResponseWriter, format string, args ...any) {
	writeJSONError(w, http.StatusNotFound, "not_found", fmt.Sprintf(format, args...))
}

type clockState struct {
	Now string `json:"now"`
	// ProviderNow is the provider's own time while a skew fault holds.
	ProviderNow string `json:"provider_now,omitempty"`
}

func (s *Simulator) clockState() clockState {
	now := s.clock.Now()
	st := clockState{Now: now.UTC().Format(time.RFC3339Nano)}
	if p := s.provider.Now(); !p.Equal(now) {
		st.ProviderNow = p.UTC().Format(time.RFC3339Nano)
	}
	return st
}

func (s *Simulator) getClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.clockState())
}

// postClock moves the clock: {"advance":"61m"} (also "7d", or negative) or
// {"set":"2026-01-01T00:00:00Z"}.
func (s *Simulator) postClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Advance *string `json:"advance"`
		Set     *string `json:"set"`
	}
	if err := decodeBody(r, &req); err != nil {
		badRequest(w, err)
		return
	}
	var moved string
	switch {
	case (req.Advance == nil) == (req.Set == nil):
		badRequest(w, errors.New(`give exactly one of "advance" (a duration such as "61m" or "7d") and "set" (an RFC 3339 time)`))
		return
	case req.Advance != nil:
		d, err := profile.ParseDuration(*req.Advance)
		if err != nil {
			badRequest(w, fmt.Errorf("advance: %w", err))
			return
		}
		s.clock.Advance(d.D())
		moved = "advanced by " + d.String()
	default:
		t, err := time.Parse(time.RFC3339Nano, *req.Set)
		if err != nil {
			badRequest(w, fmt.Errorf("set: %q is not an RFC 3339 time such as 2026-01-01T00:00:00Z", *req.Set))
			return
		}
		if err := clock.Set(s.clock, t); err != nil {
			badRequest(w, fmt.Errorf("set: %w", err))
			return
		}
		moved = "set to " + t.UTC().Format(time.RFC3339Nano)
	}
	s.events.Emit(events.Event{Kind: events.ClockMoved, Detail: moved})
	writeJSON(w, http.StatusOK, s.clockState())
}

type grantRequest struct {
	ClientID    string  `json:"client_id"`
	User        string  `json:"user"`
	Scope       *string `json:"scope"`
	AccessType  string  `json:"access_type"`
	RedirectURI string  `json:"redirect_uri"`
	// IncludeGrantedScopes adds the scopes of the user's live grants to the
	// client, as Google's include_granted_scopes=true does.
	IncludeGrantedScopes bool `json:"include_granted_scopes"`
	// Prompt is the authorization's prompt parameter: "consent" asks for
	// consent again, which a profile that issues refresh tokens on first
	// consent only needs to issue another.
	Prompt string `json:"prompt"`
	// InvalidatePrevious, when given, overrides the profile's
	// refresh.on_reconsent: whether the user's earlier grants to the client
	// are revoked.
	InvalidatePrevious *bool `json:"invalidate_previous"`
}

// postGrant completes an authorization for a user without the browser step
// and answers 201 with the token response the client would have received,
// plus the family id. It runs the same fosite flows as /oauth2/authorize and
// /oauth2/token, with PKCE, so the tokens are like any others.
func (s *Simulator) postGrant(w http.ResponseWriter, r *http.Request) {
	var req grantRequest
	if err := decodeBody(r, &req); err != nil {
		badRequest(w, err)
		return
	}
	client, ok := s.clients.get(req.ClientID)
	if !ok {
		notFound(w, "no client %q", req.ClientID)
		return
	}
	user, ok := s.users.get(req.User)
	if !ok {
		notFound(w, "no user %q", req.User)
		return
	}
	if !slices.Contains(client.GrantTypes, "authorization_code") {
		badRequest(w, fmt.Errorf("client %q may not use the authorization_code grant", client.ID))
		return
	}
	if req.RedirectURI == "" {
		req.RedirectURI = client.RedirectURIs[0]
	}
	scope := strings.Join(client.Scopes, " ")
	if req.Scope != nil {
		scope = *req.Scope
	}
	body, status, err := s.mintGrant(r, client, user, scope, req)
	if err != nil {
		writeJSON(w, status, fosite.ErrorToRFC6749Error(err))
		return
	}
	writeJSON(w, http.StatusCreated, body)
}

func (s *Simulator) mintGrant(r *http.Request, client *fositeClient, user User, scope string, req grantRequest) (map[string]any, int, error) {
	ctx := r.Context()
	verifierBytes, err := randomSecret(32)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	verifier := base64.RawURLEncoding.EncodeToString(verifierBytes)
	challenge := sha256.Sum256([]byte(verifier))
	state := base64.RawURLEncoding.EncodeToString(verifierBytes[:12])
	q := url.Values{
		"response_type": {"code"}, "client_id": {client.ID}, "redirect_uri": {req.RedirectURI},
		"scope": {scope}, "state": {state}, "nonce": {state},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"},
	}
	if req.AccessType != "" {
		q.Set("access_type", req.AccessType)
	}
	if req.IncludeGrantedScopes {
		q.Set("include_granted_scopes", "true")
	}
	if req.Prompt != "" {
		q.Set("prompt", req.Prompt)
	}
	areq, err := http.NewRequestWithContext(ctx, http.MethodGet, PathAuthorize+"?"+q.Encode(), nil)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	ar, err := s.oauth.NewAuthorizeRequest(ctx, areq)
	if err != nil {
		return nil, fosite.ErrorToRFC6749Error(err).CodeField, err
	}
	added, withheld := s.grantScopes(ar, user.ID)
	actx := family.WithOp(ctx, &family.Op{WithholdRefresh: withheld})
	aresp, err := s.oauth.NewAuthorizeResponse(actx, ar, newUserSession(user, s.provider.Now(), ar.GetRequestedAt()))
	if err != nil {
		return nil, fosite.ErrorToRFC6749Error(err).CodeField, err
	}
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {aresp.GetCode()},
		"redirect_uri": {req.RedirectURI}, "code_verifier": {verifier}, "client_id": {client.ID},
	}
	treq, err := http.NewRequestWithContext(ctx, http.MethodPost, PathToken, nil)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	switch {
	case client.Public:
	case slices.Contains(client.AuthMethods, AuthSecretPost):
		form.Set("client_secret", client.Secret)
	default:
		treq.SetBasicAuth(url.QueryEscape(client.ID), url.QueryEscape(client.Secret))
	}
	treq.Body = io.NopCloser(strings.NewReader(form.Encode()))
	treq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, tresp, op, err := s.exchange(ctx, treq)
	if err != nil {
		return nil, fosite.ErrorToRFC6749Error(err).CodeField, err
	}
	s.consented(user.ID, client.ID, op.Family, ar.GetGrantedScopes(), PathControlPrefix+"/grants", req.InvalidatePrevious)
	body := s.shownScope(tresp.ToMap())
	body["family"] = op.Family
	detail := "scope " + scope
	if note := grantNote(added, withheld); note != "" {
		detail += "; " + note
	}
	s.events.Emit(events.Event{Kind: events.GrantMinted, Client: client.ID, User: user.ID, Family: op.Family, Detail: detail})
	return body, http.StatusCreated, nil
}

type revocationRequest struct {
	Token    string `json:"token"`
	Family   string `json:"family"`
	User     string `json:"user"`
	ClientID string `json:"client_id"`
	All      bool   `json:"all"`
	Reason   string `json:"reason"`
}

var controlReasons = []string{family.ReasonUser, family.ReasonAdmin, family.ReasonPasswordChange, family.ReasonSecurity}

// postRevocation revokes by token, family, user, client or all, as a user
// removing access, an admin, a password change or a security response would.
func (s *Simulator) postRevocation(w http.ResponseWriter, r *http.Request) {
	var req revocationRequest
	if err := decodeBody(r, &req); err != nil {
		badRequest(w, err)
		return
	}
	selectors := 0
	for _, set := range []bool{req.Token != "", req.Family != "", req.User != "", req.ClientID != "", req.All} {
		if set {
			selectors++
		}
	}
	if selectors != 1 {
		badRequest(w, errors.New(`give exactly one of "token", "family", "user", "client_id" and "all": true`))
		return
	}
	if req.Reason == "" {
		req.Reason = family.ReasonAdmin
	}
	if !slices.Contains(controlReasons, req.Reason) {
		badRequest(w, fmt.Errorf("reason %q is not one of %v", req.Reason, controlReasons))
		return
	}
	var revoked int
	switch {
	case req.Token != "":
		found, now := s.store.RevokeToken(s.strategy.signature(req.Token), req.Reason)
		if !found {
			notFound(w, "no token like that was issued here")
			return
		}
		revoked = count(now)
	case req.Family != "":
		found, now := s.store.RevokeFamily(req.Family, req.Reason)
		if !found {
			notFound(w, "no family %q", req.Family)
			return
		}
		revoked = count(now)
	case req.User != "":
		if _, ok := s.users.get(req.User); !ok {
			notFound(w, "no user %q", req.User)
			return
		}
		revoked = s.store.RevokeUser(req.User, req.Reason)
	case req.ClientID != "":
		if _, ok := s.clients.get(req.ClientID); !ok {
			notFound(w, "no client %q", req.ClientID)
			return
		}
		revoked = s.store.RevokeClient(req.ClientID, req.Reason)
	default:
		revoked = s.store.RevokeAll(req.Reason)
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked_families": revoked, "reason": req.Reason})
}

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}

// getEvents answers {"events": [...], "last": N}; ?since=N returns only
// events after sequence number N.
func (s *Simulator) getEvents(w http.ResponseWriter, r *http.Request) {
	var since uint64
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			badRequest(w, fmt.Errorf("since: %q is not a sequence number (a whole number ≥ 0)", v))
			return
		}
		since = n
	}
	list := s.events.Since(since)
	// first lets a poller see that the log's limit dropped events it had
	// not read yet (since < first-1).
	writeJSON(w, http.StatusOK, map[string]any{"events": list, "last": s.events.Last(), "first": s.events.First()})
}

func (s *Simulator) getFamilies(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"families": s.store.Families()})
}

func (s *Simulator) getClients(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"clients": s.clients.list()})
}

func (s *Simulator) getClient(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	c, ok := s.clients.get(id)
	if !ok {
		notFound(w, "no client %q", id)
		return
	}
	writeJSON(w, http.StatusOK, c.view())
}

// postClient registers a new client; 409 if the id is taken.
func (s *Simulator) postClient(w http.ResponseWriter, r *http.Request) {
	var c Client
	if err := decodeBody(r, &c); err != nil {
		badRequest(w, err)
		return
	}
	if _, exists := s.clients.get(c.ID); exists {
		writeJSONError(w, http.StatusConflict, "conflict", fmt.Sprintf("client %q exists; PUT /sim/v1/clients/%s replaces it", c.ID, c.ID))
		return
	}
	s.saveClient(w, c, http.StatusCreated, "created")
}

// putClient creates or replaces the client named in the path.
func (s *Simulator) putClient(w http.ResponseWriter, r *http.Request) {
	var c Client
	if err := decodeBody(r, &c); err != nil {
		badRequest(w, err)
		return
	}
	id := mux.Vars(r)["id"]
	if c.ID == "" {
		c.ID = id
	}
	if c.ID != id {
		badRequest(w, fmt.Errorf("client_id %q in the body differs from %q in the path", c.ID, id))
		return
	}
	s.saveClient(w, c, http.StatusOK, "replaced")
}

func (s *Simulator) saveClient(w http.ResponseWriter, c Client, status int, what string) {
	saved, err := s.clients.put(c)
	if err != nil {
		badRequest(w, err)
		return
	}
	s.events.Emit(events.Event{Kind: events.ClientChanged, Client: saved.ID, Detail: what})
	writeJSON(w, status, saved)
}

// postClientSecret rotates a confidential client's secret: the body is a
// SecretRotation, {"client_secret"?, "grace"?, "expires_in"?}, and an empty
// body makes a random secret and refuses the old one at once.
func (s *Simulator) postClientSecret(w http.ResponseWriter, r *http.Request) {
	var rot SecretRotation
	// No body at all (also when chunked, with no Content-Length) asks for a random secret.
	if err := decodeBody(r, &rot); err != nil && !errors.Is(err, errEmptyBody) {
		badRequest(w, err)
		return
	}
	c, err := s.RotateClientSecret(mux.Vars(r)["id"], rot)
	if err != nil {
		controlError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// postPublishingStatus moves a client between production and testing:
// {"status":"testing"}.
func (s *Simulator) postPublishingStatus(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Status string `json:"status"`
	}
	if err := decodeBody(r, &req); err != nil {
		badRequest(w, err)
		return
	}
	c, err := s.SetPublishingStatus(mux.Vars(r)["id"], req.Status)
	if err != nil {
		controlError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Simulator) getConsents(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"consents": s.Consents()})
}

// postConsent marks a user as having to consent to a client again, or
// clears the mark: {"user","client_id","require":true|false,"revoke"?}.
// It answers the consent and how many live grants "revoke" revoked.
func (s *Simulator) postConsent(w http.ResponseWriter, r *http.Request) {
	var req struct {
		User     string `json:"user"`
		ClientID string `json:"client_id"`
		Require  *bool  `json:"require"`
		Revoke   bool   `json:"revoke"`
	}
	if err := decodeBody(r, &req); err != nil {
		badRequest(w, err)
		return
	}
	if req.Require == nil {
		badRequest(w, errors.New(`"require" is required: true marks the consent as needed again, false clears the mark`))
		return
	}
	c, revoked, err := s.ChangeConsent(ConsentChange{User: req.User, ClientID: req.ClientID, Require: *req.Require, Revoke: req.Revoke})
	if err != nil {
		controlError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"consent": c, "revoked_families": revoked})
}

func (s *Simulator) getUsers(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"users": s.users.list()})
}

// postUser adds a user; 409 if the id is taken.
func (s *Simulator) postUser(w http.ResponseWriter, r *http.Request) {
	var u User
	if err := decodeBody(r, &u); err != nil {
		badRequest(w, err)
		return
	}
	if _, exists := s.users.get(u.ID); exists {
		writeJSONError(w, http.StatusConflict, "conflict", fmt.Sprintf("user %q exists", u.ID))
		return
	}
	if err := s.users.put(u); err != nil {
		badRequest(w, err)
		return
	}
	s.events.Emit(events.Event{Kind: events.UserChanged, User: u.ID, Detail: "created"})
	writeJSON(w, http.StatusCreated, u)
}

func (s *Simulator) getProfile(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.store.Policy())
}

// postReset drops every token, family, consent and event and restores the
// configured clients, users and faults. The clock stays where it is.
func (s *Simulator) postReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	writeJSON(w, http.StatusOK, map[string]any{"reset": true, "now": s.clockState().Now})
}

// Reset drops every token, family, consent and event, restores the
// configured clients, users and faults (with their counts at zero), and
// records a reset event. The clock stays where it is.
func (s *Simulator) Reset() {
	s.store.Reset()
	s.consents.reset()
	s.clients.reset()
	s.users.reset()
	_ = s.loadDirectory() // it loaded at New, so it loads again
	_ = s.loadFaults()    // likewise
	s.events.Clear()
	s.events.Emit(events.Event{Kind: events.Reset})
}
