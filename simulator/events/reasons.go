package events

import (
	"crypto/sha256"
	"encoding/base64"
)

// Revocation reasons: an Event's Reason on family_revoked and
// family_evicted, and what a revocation through the Go surface or the
// control API may give (User, Admin, PasswordChange, Security).
const (
	ReasonUser             = "user"
	ReasonAdmin            = "admin"
	ReasonPasswordChange   = "password_change"
	ReasonSecurity         = "security"
	ReasonClientRevocation = "client_revocation" // RFC 7009 request by the client
	ReasonReuseDetected    = "reuse_detected"
	ReasonCodeReuse        = "code_reuse"
	ReasonMaxFamilies      = "max_families_exceeded"
	ReasonReconsent        = "reconsent"       // a new authorization of the same user and client replaced it
	ReasonConsentRevoked   = "consent_revoked" // the user's consent to the client was withdrawn
)

// Refusal codes: an Event's Reason on a request the provider refused a
// token for, saying why the store refused it.
const (
	RefusedUnknown    = "unknown"     // no such token
	RefusedRevoked    = "revoked"     // the token or its family was revoked
	RefusedReused     = "reused"      // a superseded refresh token came back
	RefusedExpired    = "expired"     // an access token, code, or refresh token past its absolute lifetime
	RefusedInactive   = "inactive"    // a refresh token past its idle timeout
	RefusedTestingApp = "testing_app" // the testing-app expiry killed the grant
	RefusedRedeemed   = "redeemed"    // an authorization code used twice
	// RefusedWrongClient: a refresh token or authorization code presented
	// by a client other than the one it was issued to (RFC 6749 §6 and
	// §4.1.3 bind each to its client). The grant itself is left alone: its
	// owner may go on using it.
	RefusedWrongClient = "wrong_client"
)

// Client-authentication refusal codes: an Event's Reason on a token
// request whose confidential client's secret was refused.
const (
	ClientSecretInvalid = "secret_invalid" // none, a wrong one, or a previous one after its grace window
	ClientSecretExpired = "secret_expired" // a secret past its expiry
)

// Fingerprint names a token in events and logs without revealing it: a
// prefix for its kind (fosite's token type: access_token, refresh_token,
// authorize_code) and the start of a hash of its signature. A reader of the
// log who holds a token can compute its fingerprint to find it.
func Fingerprint(kind, sig string) string {
	sum := sha256.Sum256([]byte(sig))
	// A switch, not a map literal: this runs several times per request.
	var prefix string
	switch kind {
	case "access_token":
		prefix = "at_"
	case "refresh_token":
		prefix = "rt_"
	case "authorize_code":
		prefix = "ac_"
	}
	return prefix + base64.RawURLEncoding.EncodeToString(sum[:6])
}
