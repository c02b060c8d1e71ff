package contract

import "slices"

// Outcome is how a client operation ended, as the client tells its
// application and answers the harness (PROTOCOL.md, Requests and
// responses). The harness judges whether it fits the provider's truth.
type Outcome string

// The outcomes of this version of the protocol.
const (
	// OutcomeOK: the API answered 2xx (for a call), or the operation
	// succeeded.
	OutcomeOK Outcome = "ok"
	// OutcomeReauthorize: the client concluded that the grant is dead and
	// the user must authorize again; the response's Reason says why.
	OutcomeReauthorize Outcome = "reauthorize"
	// OutcomeInteractionRequired: the provider wants the user back
	// (step-up, consent) while the grant lives.
	OutcomeInteractionRequired Outcome = "interaction_required"
	// OutcomeConfigurationError: the client's own registration or
	// credentials were refused (invalid_client).
	OutcomeConfigurationError Outcome = "configuration_error"
	// OutcomeTemporaryError: a failure worth retrying later: a rate limit,
	// a server error, a timeout.
	OutcomeTemporaryError Outcome = "temporary_error"
	// OutcomeUnauthorized: the API answered 401 and the client gave up.
	OutcomeUnauthorized Outcome = "unauthorized"
	// OutcomeError: anything else.
	OutcomeError Outcome = "error"
)

// Outcomes lists the outcomes, in the order of PROTOCOL.md's table.
func Outcomes() []Outcome {
	return []Outcome{OutcomeOK, OutcomeReauthorize, OutcomeInteractionRequired, OutcomeConfigurationError,
		OutcomeTemporaryError, OutcomeUnauthorized, OutcomeError}
}

// Known reports whether o is an outcome of this version of the protocol;
// the harness refuses an answer with any other.
func (o Outcome) Known() bool { return slices.Contains(Outcomes(), o) }

// Reason says why a grant is dead, with OutcomeReauthorize, as far as the
// provider's answer tells. It is for diagnostics and for what the user is
// told; a client decides that a grant is dead by the OAuth error code,
// never by its text.
type Reason string

// The reasons a reauthorize outcome SHOULD give.
const (
	// ReasonRevoked: the grant was revoked (by the user, an admin, a
	// security response).
	ReasonRevoked Reason = "revoked"
	// ReasonExpired: the grant outlived a lifetime or an idle timeout.
	ReasonExpired Reason = "expired"
	// ReasonReuseDetected: the provider saw a superseded refresh token used
	// again and revoked the grant.
	ReasonReuseDetected Reason = "reuse_detected"
	// ReasonTestingApp: a grant that died seven days after consent, as
	// Google's do for apps in Testing status: a configuration problem to fix
	// in the provider's console, not something the user did.
	ReasonTestingApp Reason = "testing_app_expired"
	// ReasonNoGrant: nothing is stored; the user never authorized or logged out.
	ReasonNoGrant Reason = "no_grant"
	// ReasonNoRefreshToken: the provider issued no refresh token (offline
	// access not granted).
	ReasonNoRefreshToken Reason = "no_refresh_token"
	// ReasonLostRefresh: a refresh's answer was lost and the provider's grace
	// window for retrying it has passed: the new refresh token is gone.
	ReasonLostRefresh Reason = "lost_refresh_response"
	// ReasonUnknown: the grant is dead, and the provider did not say why.
	ReasonUnknown Reason = "unknown"
)

// Reasons lists the reasons, in the order of PROTOCOL.md.
func Reasons() []Reason {
	return []Reason{ReasonRevoked, ReasonExpired, ReasonReuseDetected, ReasonTestingApp, ReasonNoGrant,
		ReasonNoRefreshToken, ReasonLostRefresh, ReasonUnknown}
}

// Known reports whether r is a reason of this version of the protocol.
func (r Reason) Known() bool { return slices.Contains(Reasons(), r) }
