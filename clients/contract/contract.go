// Package contract is the client protocol of clients/PROTOCOL.md in Go:
// its version, the environment the harness gives a client, the lines both
// sides write (the hello, requests, responses), the ops, the capabilities
// a hello may list, and the outcomes and reasons a response may give.
// PROTOCOL.md is the normative text; this package is its Go source of
// truth, which both sides use: the harness (package conformance) and the Go
// clients (the client library clients/protocol, the adapters on it, and the
// reference token manager, which names its outcomes and reasons in these
// words). Its tests hold its lists to PROTOCOL.md's. It imports only the
// standard library.
package contract

// Version is the protocol version described here: the harness sets it in
// EnvProtocol and refuses a hello with another (PROTOCOL.md, Versioning).
const Version = 1

// MaxLine is the longest line, in bytes and without its newline, that
// either side may write (PROTOCOL.md, The picture).
const MaxLine = 4 << 20

// The environment variables the harness sets for a client, which takes its
// configuration from them (PROTOCOL.md, Environment).
const (
	// EnvProtocol holds Version.
	EnvProtocol = "OAUTHSIM_PROTOCOL"
	// EnvIssuer is the provider's issuer URL, where its discovery documents
	// are.
	EnvIssuer = "OAUTHSIM_ISSUER"
	// EnvResource is the protected API, to GET with a Bearer access token.
	EnvResource = "OAUTHSIM_RESOURCE"
	// EnvClientID is the client id.
	EnvClientID = "OAUTHSIM_CLIENT_ID"
	// EnvClientSecretFile names a file holding the client secret on one
	// line, rewritten atomically when the secret is rotated; absent for a
	// public client.
	EnvClientSecretFile = "OAUTHSIM_CLIENT_SECRET_FILE"
	// EnvRedirectURI is the redirect URI to authorize with.
	EnvRedirectURI = "OAUTHSIM_REDIRECT_URI"
	// EnvScopes holds the scopes to ask for, space-separated, without
	// offline access.
	EnvScopes = "OAUTHSIM_SCOPES"
	// EnvOfflineAccess says how to ask for offline access: an OfflineAccess.
	EnvOfflineAccess = "OAUTHSIM_OFFLINE_ACCESS"
	// EnvProfile names the provider profile simulated (generic, google...).
	EnvProfile = "OAUTHSIM_PROFILE"
	// EnvRefreshRotation is what the provider documents about refresh
	// tokens: a Rotation.
	EnvRefreshRotation = "OAUTHSIM_REFRESH_ROTATION"
	// EnvRefreshGrace holds the whole seconds a rotated-away refresh token
	// stays usable (0: none).
	EnvRefreshGrace = "OAUTHSIM_REFRESH_GRACE"
	// EnvStateDir is a directory that survives restarts and is shared by
	// the processes of a run: where the client keeps its tokens.
	EnvStateDir = "OAUTHSIM_STATE_DIR"
	// EnvTime is the sim time at start, RFC 3339.
	EnvTime = "OAUTHSIM_TIME"
	// EnvStorageKeyFile names a file holding the keys the client may
	// encrypt what it keeps with (StorageKeys), rewritten atomically when
	// the key is rotated.
	EnvStorageKeyFile = "OAUTHSIM_STORAGE_KEY_FILE"
	// EnvTenants holds the client registrations of a scenario that names
	// tenants, as a JSON array of Tenant; unset otherwise.
	EnvTenants = "OAUTHSIM_TENANTS"
)

// Variables lists every environment variable of the protocol, in the
// order of PROTOCOL.md's table.
func Variables() []string {
	return []string{EnvProtocol, EnvIssuer, EnvResource, EnvClientID, EnvClientSecretFile, EnvRedirectURI, EnvScopes,
		EnvOfflineAccess, EnvProfile, EnvRefreshRotation, EnvRefreshGrace, EnvStateDir, EnvTime, EnvStorageKeyFile, EnvTenants}
}

// OfflineAccess is how the provider wants offline access (a refresh token)
// asked for: the value of EnvOfflineAccess.
type OfflineAccess string

// The values of EnvOfflineAccess.
const (
	// OfflineAccessScope: add the offline_access scope to the authorization.
	OfflineAccessScope OfflineAccess = "scope"
	// OfflineAccessType: add access_type=offline to the authorization
	// request, as Google does.
	OfflineAccessType OfflineAccess = "access_type"
)

// OfflineAccesses lists the values of EnvOfflineAccess.
func OfflineAccesses() []OfflineAccess { return []OfflineAccess{OfflineAccessScope, OfflineAccessType} }

// Rotation is what the provider documents about its refresh tokens: the
// value of EnvRefreshRotation.
type Rotation string

// The values of EnvRefreshRotation.
const (
	// RotationNone: a refresh answer carries no new refresh token; the one
	// the client has keeps working.
	RotationNone Rotation = "none"
	// RotationRotate: every refresh answer carries a new refresh token, and
	// the one used stops working at once.
	RotationRotate Rotation = "rotate"
	// RotationRotateWithGrace: as RotationRotate, but the one used keeps
	// working for EnvRefreshGrace seconds after its first use.
	RotationRotateWithGrace Rotation = "rotate_with_grace"
	// RotationRotateKeepOld: every refresh answer carries a new refresh
	// token, and the one used keeps working until its own expiry.
	RotationRotateKeepOld Rotation = "rotate_keep_old"
)

// Rotations lists the values of EnvRefreshRotation.
func Rotations() []Rotation {
	return []Rotation{RotationNone, RotationRotate, RotationRotateWithGrace, RotationRotateKeepOld}
}
