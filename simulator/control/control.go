// Package control is a Go client of the simulator's control API (under
// /sim/v1/), for a test or tool that drives a simulator in another process,
// such as `oauthsim serve`. A program that holds the *simulator.Simulator
// calls its methods instead: they are what the control API calls, with no
// JSON in between.
//
//	c := control.New("http://127.0.0.1:8090", nil) // control.WithToken(t) for serve --control-token
//	grant, err := c.MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice"})
//	// ...
//	_, err = c.AdvanceClock(ctx, 61*time.Minute) // grant.AccessToken is dead
//
// Each method mirrors the simulator's method of the same name. An answer
// other than 2xx is an *Error, which errors.Is takes for
// simulator.ErrNotFound (404) and simulator.ErrConflict (409) as the
// simulator's own errors are.
package control

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Client calls one simulator's control API. It is safe for concurrent use.
type Client struct {
	base  string
	http  *http.Client
	token string
}

// Option configures a Client.
type Option func(*Client)

// WithToken sends token as a bearer token on every request, as a simulator
// given a control token (`oauthsim serve --control-token`,
// simulator.WithControlToken) requires.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// New returns a client of the simulator at base, its issuer URL (such as
// http://127.0.0.1:8090), sending requests with hc (http.DefaultClient when
// nil).
func New(base string, hc *http.Client, opts ...Option) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := &Client{base: strings.TrimSuffix(base, "/") + simulator.PathControlPrefix, http: hc}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// Error is an answer of the control API other than 2xx.
type Error struct {
	// Method and Path are the request's, Path under /sim/v1.
	Method, Path string
	// Status is the answer's HTTP status.
	Status int
	// Code and Description are the answer's "error" and
	// "error_description". Code is not_found, conflict, invalid_request,
	// or an RFC 6749 code such as invalid_scope where the token endpoint
	// would have refused.
	Code, Description string
	// Header and Body are the answer's, as they came.
	Header http.Header
	Body   []byte
}

// Error tells the request and the answer: its status, error code and
// description, or the start of its body when it is no JSON error.
func (e *Error) Error() string {
	msg := fmt.Sprintf("control API %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code == "" {
		return fmt.Sprintf("%s: %.200s", msg, bytes.TrimSpace(e.Body))
	}
	msg += " " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Is reports a 404 as simulator.ErrNotFound and a 409 as
// simulator.ErrConflict, so that code written against the simulator's
// methods checks this client's errors alike.
func (e *Error) Is(target error) bool {
	return (target == simulator.ErrNotFound && e.Status == http.StatusNotFound) ||
		(target == simulator.ErrConflict && e.Status == http.StatusConflict)
}

// Do sends one request to the control API and returns the answer's status.
// path is under /sim/v1 ("/clock", "/events?since=3"). body, when not nil,
// is sent as JSON; a string or []byte is sent as it is, so that a test can
// send what no encoder would. Every request but a GET says its body is
// JSON, with a body or without, as the API requires of writes. A 2xx
// answer is decoded into out, when not nil, or copied as it is into a
// *[]byte; any other is an *Error.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return 0, fmt.Errorf("control API %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("control API %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("control API %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Method: method, Path: path, Status: resp.StatusCode, Header: resp.Header, Body: answer}
		var oauth struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(answer, &oauth) == nil {
			e.Code, e.Description = oauth.Error, oauth.Description
		}
		return resp.StatusCode, e
	}
	switch o := out.(type) {
	case nil:
	case *[]byte:
		*o = answer
	default:
		if err := json.Unmarshal(answer, out); err != nil {
			return resp.StatusCode, fmt.Errorf("control API %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// call is Do for the typed methods, which know their statuses.
func call[T any](ctx context.Context, c *Client, method, path string, body any) (T, error) {
	var out T
	_, err := c.Do(ctx, method, path, body, &out)
	return out, err
}

// list reads the list a GET of /name answers under name; query, if any,
// follows name.
func list[T any](ctx context.Context, c *Client, nameQuery string) ([]T, error) {
	var page map[string][]T
	_, err := c.Do(ctx, http.MethodGet, "/"+nameQuery, nil, &page)
	name, _, _ := strings.Cut(nameQuery, "?")
	return page[name], err
}

// ClockState reads the sim time, and the provider's own while a skew
// fault holds.
func (c *Client) ClockState(ctx context.Context) (simulator.ClockState, error) {
	return call[simulator.ClockState](ctx, c, http.MethodGet, "/clock", nil)
}

// AdvanceClock moves the sim clock by d, which may be negative.
func (c *Client) AdvanceClock(ctx context.Context, d time.Duration) (simulator.ClockState, error) {
	return call[simulator.ClockState](ctx, c, http.MethodPost, "/clock", map[string]profile.Duration{"advance": profile.Duration(d)})
}

// SetClock moves the sim clock to t, forwards or backwards.
func (c *Client) SetClock(ctx context.Context, t time.Time) (simulator.ClockState, error) {
	return call[simulator.ClockState](ctx, c, http.MethodPost, "/clock", map[string]time.Time{"set": t})
}

// MintGrant completes an authorization without the browser and redeems
// its code, as simulator.Simulator.MintGrant does.
func (c *Client) MintGrant(ctx context.Context, req simulator.GrantRequest) (simulator.Grant, error) {
	return call[simulator.Grant](ctx, c, http.MethodPost, "/grants", req)
}

// Revoke revokes the families req names.
func (c *Client) Revoke(ctx context.Context, req simulator.Revocation) (simulator.Revoked, error) {
	return call[simulator.Revoked](ctx, c, http.MethodPost, "/revocations", req)
}

// EventsSince returns the events after sequence number seq, reading them
// a page of simulator.MaxEventsPage at a time; First is the first page's,
// Last the last page's.
func (c *Client) EventsSince(ctx context.Context, seq uint64) (simulator.EventPage, error) {
	all, err := c.EventsPage(ctx, seq, simulator.MaxEventsPage)
	for page := all; err == nil && page.Next != 0; {
		page, err = c.EventsPage(ctx, page.Next, simulator.MaxEventsPage)
		all.Events = append(all.Events, page.Events...)
		all.Last, all.Next = page.Last, page.Next
	}
	return all, err
}

// EventsPage returns at most limit events after sequence number seq (from
// 1 to simulator.MaxEventsPage; 0 for the API's default,
// simulator.DefaultEventsPage). When Next is not zero, more follow: the
// events after Next are the following page.
func (c *Client) EventsPage(ctx context.Context, seq uint64, limit int) (simulator.EventPage, error) {
	q := url.Values{"since": {strconv.FormatUint(seq, 10)}}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return call[simulator.EventPage](ctx, c, http.MethodGet, "/events?"+q.Encode(), nil)
}

// Families lists every token family, oldest first.
func (c *Client) Families(ctx context.Context) ([]simulator.FamilyInfo, error) {
	return list[simulator.FamilyInfo](ctx, c, "families")
}

// Profile returns the token-lifecycle profile in force.
func (c *Client) Profile(ctx context.Context) (profile.Profile, error) {
	return call[profile.Profile](ctx, c, http.MethodGet, "/profile", nil)
}

// Clients lists the registered clients by id, with their secrets, as the
// simulator's method does: it asks the API for them (?secrets=true).
func (c *Client) Clients(ctx context.Context) ([]simulator.Client, error) {
	return list[simulator.Client](ctx, c, "clients?secrets=true")
}

// RegisteredClient returns the client with id, with its secrets, as the
// simulator's method does: it asks the API for them (?secrets=true).
func (c *Client) RegisteredClient(ctx context.Context, id string) (simulator.Client, error) {
	return call[simulator.Client](ctx, c, http.MethodGet, "/clients/"+url.PathEscape(id)+"?secrets=true", nil)
}

// AddClient registers a client whose id is not taken.
func (c *Client) AddClient(ctx context.Context, client simulator.Client) (simulator.Client, error) {
	return call[simulator.Client](ctx, c, http.MethodPost, "/clients", client)
}

// ReplaceClient registers client in place of the one with its id, or anew.
func (c *Client) ReplaceClient(ctx context.Context, client simulator.Client) (simulator.Client, error) {
	return call[simulator.Client](ctx, c, http.MethodPut, "/clients/"+url.PathEscape(client.ID), client)
}

// RotateClientSecret gives the confidential client id a new secret.
func (c *Client) RotateClientSecret(ctx context.Context, id string, rot simulator.SecretRotation) (simulator.Client, error) {
	return call[simulator.Client](ctx, c, http.MethodPost, "/clients/"+url.PathEscape(id)+"/secret", rot)
}

// SetPublishingStatus moves client id to production or testing.
func (c *Client) SetPublishingStatus(ctx context.Context, id, status string) (simulator.Client, error) {
	return call[simulator.Client](ctx, c, http.MethodPost, "/clients/"+url.PathEscape(id)+"/publishing-status", map[string]string{"status": status})
}

// Consents lists every user's consent to every client the simulator knows of.
func (c *Client) Consents(ctx context.Context) ([]simulator.Consent, error) {
	return list[simulator.Consent](ctx, c, "consents")
}

// ChangeConsent applies change and returns the consent as it is now, with
// how many live grants it revoked.
func (c *Client) ChangeConsent(ctx context.Context, change simulator.ConsentChange) (simulator.Consent, int, error) {
	out, err := call[struct {
		Consent simulator.Consent
		Revoked int `json:"revoked_families"`
	}](ctx, c, http.MethodPost, "/consents", change)
	return out.Consent, out.Revoked, err
}

// Users lists the users by id.
func (c *Client) Users(ctx context.Context) ([]simulator.User, error) {
	return list[simulator.User](ctx, c, "users")
}

// AddUser adds a user whose id is not taken.
func (c *Client) AddUser(ctx context.Context, u simulator.User) (simulator.User, error) {
	return call[simulator.User](ctx, c, http.MethodPost, "/users", u)
}

// Faults lists the active faults in the order they are tried.
func (c *Client) Faults(ctx context.Context) ([]fault.Status, error) {
	return list[fault.Status](ctx, c, "faults")
}

// Fault returns the active fault with id.
func (c *Client) Fault(ctx context.Context, id string) (fault.Status, error) {
	return call[fault.Status](ctx, c, http.MethodGet, "/faults/"+url.PathEscape(id), nil)
}

// AddFault activates f after the faults already active.
func (c *Client) AddFault(ctx context.Context, f fault.Fault) (fault.Status, error) {
	return call[fault.Status](ctx, c, http.MethodPost, "/faults", f)
}

// RemoveFault deactivates the fault with id and returns its final counts.
func (c *Client) RemoveFault(ctx context.Context, id string) (fault.Status, error) {
	return call[fault.Status](ctx, c, http.MethodDelete, "/faults/"+url.PathEscape(id), nil)
}

// ClearFaults deactivates every fault and returns how many there were.
func (c *Client) ClearFaults(ctx context.Context) (int, error) {
	out, err := call[struct{ Removed int }](ctx, c, http.MethodDelete, "/faults", nil)
	return out.Removed, err
}

// Reset drops every token, family, consent and event, and restores the
// configured clients, users and faults; the clock stays where it is.
func (c *Client) Reset(ctx context.Context) error {
	_, err := c.Do(ctx, http.MethodPost, "/reset", nil, nil)
	return err
}
