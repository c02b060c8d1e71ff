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

	"github.com/oauthsim/oauthsim/clients/contract"
)

// ReauthorizationRequired is the terminal error: the grant is dead and only
// a new authorization by the user brings it back. The manager sends no
// further refresh for it.
type ReauthorizationRequired struct {
	// Reason says why, as far as the provider's answer tells: for
	// diagnostics and for what the user is told.
	Reason contract.Reason
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
func deadReason(code, description string, grantAge time.Duration) contract.Reason {
	d := strings.ToLower(description)
	switch {
	case strings.Contains(d, "reuse"):
		return contract.ReasonReuseDetected
	case grantAge >= 7*24*time.Hour && grantAge < 8*24*time.Hour && strings.Contains(d, "expired or revoked"):
		// Google says only "Token has been expired or revoked."; a grant
		// dying in its eighth day is the testing-app signature.
		return contract.ReasonTestingApp
	case strings.Contains(d, "aadsts700082"), strings.Contains(d, "aadsts700084"), strings.Contains(d, "inactiv"):
		return contract.ReasonExpired
	case strings.Contains(d, "aadsts50173"), strings.Contains(d, "revoked"):
		return contract.ReasonRevoked
	case strings.Contains(d, "expired"):
		return contract.ReasonExpired
	}
	return contract.ReasonUnknown
}

// Outcome names how an operation that returned err ended, in the words of
// the oauthsim client protocol (clients/PROTOCOL.md, package contract): ok,
// reauthorize (with the reason), interaction_required, configuration_error,
// temporary_error or error. It is what an application tells its user, and
// what the conformance harness checks against the provider's truth.
func Outcome(err error) (outcome contract.Outcome, reason contract.Reason) {
	var (
		reauth      *ReauthorizationRequired
		interaction *InteractionRequired
		config      *ConfigurationError
		temporary   *TemporaryError
	)
	switch {
	case err == nil:
		return contract.OutcomeOK, ""
	case errors.As(err, &reauth):
		return contract.OutcomeReauthorize, reauth.Reason
	case errors.As(err, &interaction):
		return contract.OutcomeInteractionRequired, ""
	case errors.As(err, &config):
		return contract.OutcomeConfigurationError, ""
	case errors.As(err, &temporary), errors.Is(err, context.DeadlineExceeded), NoAnswer(err):
		return contract.OutcomeTemporaryError, ""
	}
	return contract.OutcomeError, ""
}

// APIOutcome is what the outcome table (clients/adapters/README.md) makes of
// the API's answer to a call, by its status: ok for any success, 204 No
// Content too (the class counts, not the code); unauthorized for a 401;
// temporary_error for a 429 or a 5xx, the API throttling or failing rather
// than refusing the grant; error for anything else.
func APIOutcome(status int) contract.Outcome {
	switch {
	case status >= 200 && status < 300:
		return contract.OutcomeOK
	case status == http.StatusUnauthorized:
		return contract.OutcomeUnauthorized
	case status == http.StatusTooManyRequests || status >= 500:
		return contract.OutcomeTemporaryError
	}
	return contract.OutcomeError
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
