package tokenmanager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Reason says why a grant is dead, as far as the provider's answer tells.
// It is for diagnostics and for what the user is told; the decision that
// the grant is dead rests on the OAuth error code, never on the text.
type Reason string

// Reasons a grant needs the user to authorize again.
const (
	ReasonRevoked       Reason = "revoked"
	ReasonExpired       Reason = "expired"
	ReasonReuseDetected Reason = "reuse_detected"
	// ReasonTestingApp: a grant that died seven days after consent, as
	// Google's do for apps in Testing status: a configuration problem to fix
	// in the provider's console, not something the user did.
	ReasonTestingApp Reason = "testing_app_expired"
	// ReasonNoGrant: nothing is stored; the user never authorized or logged out.
	ReasonNoGrant Reason = "no_grant"
	// ReasonNoRefreshToken: the provider issued no refresh token (offline access not granted).
	ReasonNoRefreshToken Reason = "no_refresh_token"
	// ReasonLostRefresh: a refresh's answer was lost and the provider's grace
	// window for retrying it has passed: the new refresh token is gone.
	ReasonLostRefresh Reason = "lost_refresh_response"
	ReasonUnknown     Reason = "unknown"
)

// ReauthorizationRequired is the terminal error: the grant is dead and only
// a new authorization by the user brings it back. The manager sends no
// further refresh for it.
type ReauthorizationRequired struct {
	Reason Reason
	// Code and Description are the provider's error, when it gave one.
	Code, Description string
	Status            int
}

func (e *ReauthorizationRequired) Error() string {
	msg := "reauthorization required: " + string(e.Reason)
	if e.Code != "" {
		msg += fmt.Sprintf(" (%d %s", e.Status, e.Code)
		if e.Description != "" {
			msg += ": " + e.Description
		}
		msg += ")"
	}
	return msg
}

// InteractionRequired means the provider wants the user back for a step-up
// (MFA, a claims challenge, a session policy) while the grant itself lives.
type InteractionRequired struct {
	Code, Description string
}

func (e *InteractionRequired) Error() string {
	return fmt.Sprintf("interaction required: %s %s", e.Code, e.Description)
}

// ConfigurationError is a problem with the client's registration or
// credentials (invalid_client, unauthorized_client): the user's tokens are
// kept, and fixing the configuration fixes it.
type ConfigurationError struct {
	Code, Description string
	Status            int
}

func (e *ConfigurationError) Error() string {
	return fmt.Sprintf("client configuration: %d %s %s", e.Status, e.Code, e.Description)
}

// TemporaryError is a failure worth trying again later: a rate limit, a
// server error, a timeout. The grant is kept; RetryAfter says when a new
// attempt will be made at the earliest.
type TemporaryError struct {
	Status     int
	RetryAfter time.Duration
	Err        error
}

func (e *TemporaryError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("temporary failure: HTTP %d, retry after %s: %v", e.Status, e.RetryAfter, e.Err)
	}
	return fmt.Sprintf("temporary failure, retry after %s: %v", e.RetryAfter, e.Err)
}

func (e *TemporaryError) Unwrap() error { return e.Err }

// deadReason reads a dead grant's error for why it died: provider texts and
// codes, then the grant's age for a testing app's seven days.
func deadReason(code, description string, grantAge time.Duration) Reason {
	d := strings.ToLower(description)
	switch {
	case strings.Contains(d, "reuse"):
		return ReasonReuseDetected
	case grantAge >= 7*24*time.Hour && grantAge < 8*24*time.Hour && strings.Contains(d, "expired or revoked"):
		// Google says only "Token has been expired or revoked."; a grant
		// dying in its eighth day is the testing-app signature.
		return ReasonTestingApp
	case strings.Contains(d, "aadsts700082"), strings.Contains(d, "aadsts700084"), strings.Contains(d, "inactiv"):
		return ReasonExpired
	case strings.Contains(d, "aadsts50173"), strings.Contains(d, "revoked"):
		return ReasonRevoked
	case strings.Contains(d, "expired"):
		return ReasonExpired
	}
	return ReasonUnknown
}

// Outcome names how an operation that returned err ended, in the words of
// the oauthsim client protocol (clients/PROTOCOL.md): ok, reauthorize (with
// the reason), interaction_required, configuration_error, temporary_error
// or error. It is what an application tells its user, and what the
// conformance harness checks against the provider's truth.
func Outcome(err error) (outcome string, reason Reason) {
	var (
		reauth      *ReauthorizationRequired
		interaction *InteractionRequired
		config      *ConfigurationError
		temporary   *TemporaryError
	)
	switch {
	case err == nil:
		return "ok", ""
	case errors.As(err, &reauth):
		return "reauthorize", reauth.Reason
	case errors.As(err, &interaction):
		return "interaction_required", ""
	case errors.As(err, &config):
		return "configuration_error", ""
	case errors.As(err, &temporary), errors.Is(err, context.DeadlineExceeded), NoAnswer(err):
		return "temporary_error", ""
	}
	return "error", ""
}

// APIOutcome is what the outcome table (clients/adapters/README.md) makes of
// the API's answer to a call, by its status: ok for any success, 204 No
// Content too (the class counts, not the code); unauthorized for a 401;
// temporary_error for a 429 or a 5xx, the API throttling or failing rather
// than refusing the grant; error for anything else.
func APIOutcome(status int) string {
	switch {
	case status >= 200 && status < 300:
		return "ok"
	case status == http.StatusUnauthorized:
		return "unauthorized"
	case status == http.StatusTooManyRequests || status >= 500:
		return "temporary_error"
	}
	return "error"
}

// NoAnswer reports whether err is a request that got no answer: the
// connection refused or reset, closed before the answer was whole, or timed
// out. Refreshes wrap theirs in a TemporaryError; an API call, a code
// exchange or a revocation returns the HTTP client's error as it is, and the
// protocol calls all of them temporary_error (clients/adapters/README.md),
// as the adapters that see an http.Client's errors do through this.
func NoAnswer(err error) bool {
	// Every error of http.Client.Do is a url.Error, itself a net.Error:
	// only its timeouts are the network's, not, say, a malformed URL.
	var netErr net.Error
	var opErr *net.OpError
	return (errors.As(err, &netErr) && netErr.Timeout()) || errors.As(err, &opErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
