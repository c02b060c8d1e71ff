package contract

import "time"

// Op is what a request asks of the client (PROTOCOL.md, Requests and
// responses). Every op of this version MUST be served.
type Op string

// The ops of this version of the protocol.
const (
	// OpAuthorize: start an authorization code flow (PKCE S256, offline
	// access as EnvOfflineAccess says); the response carries its URL.
	OpAuthorize Op = "authorize"
	// OpCallback: the request's URL is the redirect back, with code and
	// state: check the state, redeem the code; the response has an outcome.
	OpCallback Op = "callback"
	// OpCall: one GET of EnvResource through the token manager; the
	// response has an outcome.
	OpCall Op = "call"
	// OpServiceCall: one GET of EnvResource as the client itself, with a
	// client credentials token (CapClientCredentials); an outcome.
	OpServiceCall Op = "service_call"
	// OpLogout: revoke and forget the user's tokens; an outcome.
	OpLogout Op = "logout"
	// OpReload: read the configuration again (the client secret's file
	// changed); no outcome.
	OpReload Op = "reload"
	// OpStorageKey: EnvStorageKeyFile changed (a new current key): read
	// it again; what is kept is encrypted with the new key from its next
	// save (CapKeyRotation); no outcome.
	OpStorageKey Op = "storage_key"
	// OpTime: the sim clock moved, to the request's now; no outcome.
	OpTime Op = "time"
	// OpShutdown: answer, then exit with status 0.
	OpShutdown Op = "shutdown"
)

// Ops lists the ops, in the order of PROTOCOL.md's table.
func Ops() []Op {
	return []Op{OpAuthorize, OpCallback, OpCall, OpServiceCall, OpLogout, OpReload, OpStorageKey, OpTime, OpShutdown}
}

// Request is one line from the harness.
type Request struct {
	// ID is unique within the process; the response carries it back.
	ID string `json:"id"`
	Op Op     `json:"op"`
	// Now is the sim time when the harness sent the request, in UTC, with
	// a fraction of a second only when it has one.
	Now time.Time `json:"now"`
	// URL is OpCallback's redirect back.
	URL string `json:"url,omitempty"`
	// Tenant names the tenant (of EnvTenants) an op is for; empty for the
	// first, whose registration the other variables describe too. Set
	// only when the scenario names tenants (CapMultiTenant).
	Tenant string `json:"tenant,omitempty"`
}

// Response is one line from the client after its hello: the answer to the
// request with its ID. A line the client could not read as a request has
// no id to answer, and only Error.
type Response struct {
	ID string `json:"id,omitempty"`
	// URL is OpAuthorize's authorization URL.
	URL string `json:"url,omitempty"`
	// Outcome is how an op with one ended; Reason qualifies
	// OutcomeReauthorize, and Detail is free text for the report (never a
	// token or a secret).
	Outcome Outcome `json:"outcome,omitempty"`
	Reason  Reason  `json:"reason,omitempty"`
	Detail  string  `json:"detail,omitempty"`
	// Error refuses a request the client cannot serve (an op it does not
	// know), or a line it cannot read; either ends the run as the client's
	// error.
	Error string `json:"error,omitempty"`
}
