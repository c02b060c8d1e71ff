package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// controlRoutes mounts the control API: what tests, the harness and QA use
// to move the clock, mint grants, revoke, and inspect the event log.
func (s *Simulator) controlRoutes(r *mux.Router) {
	// Full paths on the main router rather than a subrouter: gorilla/mux
	// answers a wrong method on a subrouter route with 404, not 405.
	guard := s.controlGuard()
	route := func(method, path string, h http.HandlerFunc) {
		r.Handle(PathControlPrefix+path, guard(h)).Methods(method)
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
// when what it names does not exist, 409 when what it adds exists already,
// an RFC 6749 error with its own status, 400 otherwise.
func controlError(w http.ResponseWriter, err error) {
	var rfc *fosite.RFC6749Error
	switch {
	case errors.Is(err, ErrNotFound):
		writeJSONError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrConflict):
		writeJSONError(w, http.StatusConflict, "conflict", err.Error())
	case errors.As(err, &rfc):
		writeJSON(w, rfc.CodeField, rfc)
	default:
		badRequest(w, err)
	}
}

// answer answers what one of the simulator's methods returned, or its error.
func answer[T any](w http.ResponseWriter, v T, err error, status int) {
	if err != nil {
		controlError(w, err)
		return
	}
	writeJSON(w, status, v)
}

func (s *Simulator) getClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.ClockState())
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
	switch {
	case (req.Advance == nil) == (req.Set == nil):
		badRequest(w, errors.New(`give exactly one of "advance" (a duration such as "61m" or "7d") and "set" (an RFC 3339 time)`))
	case req.Advance != nil:
		d, err := profile.ParseDuration(*req.Advance)
		if err != nil {
			badRequest(w, fmt.Errorf("advance: %w", err))
			return
		}
		st, err := s.AdvanceClock(d.D())
		answer(w, st, err, http.StatusOK)
	default:
		t, err := time.Parse(time.RFC3339Nano, *req.Set)
		if err != nil {
			badRequest(w, fmt.Errorf("set: %q is not an RFC 3339 time such as 2026-01-01T00:00:00Z", *req.Set))
			return
		}
		st, err := s.SetClock(t)
		answer(w, st, err, http.StatusOK)
	}
}

// postGrant answers 201 with the token response of a grant MintGrant
// completed, plus the family id.
func (s *Simulator) postGrant(w http.ResponseWriter, r *http.Request) {
	var req GrantRequest
	if err := decodeBody(r, &req); err != nil {
		badRequest(w, err)
		return
	}
	g, err := s.MintGrant(r.Context(), req)
	answer(w, g, err, http.StatusCreated)
}

func (s *Simulator) postRevocation(w http.ResponseWriter, r *http.Request) {
	var req Revocation
	if err := decodeBody(r, &req); err != nil {
		badRequest(w, err)
		return
	}
	done, err := s.Revoke(req)
	answer(w, done, err, http.StatusOK)
}

// getEvents answers a page of events, {"events": [...], "first": F,
// "last": N, "next"?: M}: ?since=N returns only events after sequence
// number N, ?limit=L at most L of them (DefaultEventsPage when not given,
// at most MaxEventsPage), so that an answer stays small however long the
// log; "next" is the since of the page that follows, when one does.
func (s *Simulator) getEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since uint64
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			badRequest(w, fmt.Errorf("since: %q is not a sequence number (a whole number ≥ 0)", v))
			return
		}
		since = n
	}
	limit := DefaultEventsPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxEventsPage {
			badRequest(w, fmt.Errorf("limit: %q is not a page size from 1 to %d", v, MaxEventsPage))
			return
		}
		limit = n
	}
	writeJSON(w, http.StatusOK, s.EventsPage(since, limit))
}

func (s *Simulator) getFamilies(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"families": s.Families()})
}

// getClients lists the clients; their secrets only with ?secrets=true.
func (s *Simulator) getClients(w http.ResponseWriter, r *http.Request) {
	show, err := showSecrets(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	all := s.Clients()
	clients := make([]any, len(all))
	for i, c := range all {
		clients[i] = shown(c, show)
	}
	writeJSON(w, http.StatusOK, map[string]any{"clients": clients})
}

// getClient answers one client; its secrets only with ?secrets=true.
func (s *Simulator) getClient(w http.ResponseWriter, r *http.Request) {
	show, err := showSecrets(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	c, err := s.RegisteredClient(mux.Vars(r)["id"])
	answer(w, shown(c, show), err, http.StatusOK)
}

// showSecrets reads ?secrets=: reads of clients show their secrets only
// when asked, so that an answer pasted into a log or a bug report, or read
// by whatever slipped past the guard, does not carry them.
func showSecrets(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("secrets")
	if v == "" {
		return false, nil
	}
	show, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("secrets: %q is neither true nor false", v)
	}
	return show, nil
}

// clientWithoutSecrets is a client as reads show it unless asked for the
// secrets: every secret's state and dates, none of its value. The fields
// here hide the embedded client's of the same JSON names.
type clientWithoutSecrets struct {
	Client
	Secret          string                   `json:"client_secret,omitempty"`
	PreviousSecrets []previousWithoutSecrets `json:"previous_secrets,omitempty"`
}

type previousWithoutSecrets struct {
	PreviousSecret
	Secret string `json:"client_secret,omitempty"`
}

// shown is c as a read answers it: with its secrets only when asked.
func shown(c Client, show bool) any {
	if show {
		return c
	}
	out := clientWithoutSecrets{Client: c}
	for _, p := range c.PreviousSecrets {
		out.PreviousSecrets = append(out.PreviousSecrets, previousWithoutSecrets{PreviousSecret: p})
	}
	return out
}

// postClient registers a new client; 409 if the id is taken.
func (s *Simulator) postClient(w http.ResponseWriter, r *http.Request) {
	var c Client
	if err := decodeBody(r, &c); err != nil {
		badRequest(w, err)
		return
	}
	saved, err := s.AddClient(c)
	if errors.Is(err, ErrConflict) {
		writeJSONError(w, http.StatusConflict, "conflict", fmt.Sprintf("client %q exists; PUT /sim/v1/clients/%s replaces it", c.ID, c.ID))
		return
	}
	answer(w, saved, err, http.StatusCreated)
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
	saved, err := s.ReplaceClient(c)
	answer(w, saved, err, http.StatusOK)
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
	answer(w, c, err, http.StatusOK)
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
	answer(w, c, err, http.StatusOK)
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
	writeJSON(w, http.StatusOK, map[string]any{"users": s.Users()})
}

// postUser adds a user; 409 if the id is taken.
func (s *Simulator) postUser(w http.ResponseWriter, r *http.Request) {
	var u User
	if err := decodeBody(r, &u); err != nil {
		badRequest(w, err)
		return
	}
	added, err := s.AddUser(u)
	answer(w, added, err, http.StatusCreated)
}

func (s *Simulator) getProfile(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Profile())
}

// postReset answers a Reset with the sim time it left the clock at.
func (s *Simulator) postReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	writeJSON(w, http.StatusOK, map[string]any{"reset": true, "now": s.ClockState().Now})
}
