package family

import (
	"context"
	"time"

	"github.com/oauthsim/oauthsim/simulator/events"
)

// Op follows one request through the store: the caller says what the request
// is and what it mints differently, and the store reports back which family
// it touched, why it refused a token and what it issued. fosite's storage
// interfaces (and its id_token strategy's) take only a context and a
// requester, so an Op travels in the context: the one value that does, set
// by WithOp. An Op belongs to one request and is not safe for concurrent use.
type Op struct {
	// GrantType is the token request's grant_type, empty for other requests.
	GrantType string
	// Revocation marks an RFC 7009 revocation request.
	Revocation bool
	// WithholdRefresh marks an authorization that grants offline access but whose code
	// is redeemed for no refresh token: the profile issues refresh tokens on first
	// consent only, and the user already holds one for the client (Google).
	WithholdRefresh bool
	// Mint is what a token request mints other than as the profile has it.
	Mint Minting

	// Caller is the client the request authenticated as, once it has
	// (Authenticated); empty before, and for requests that authenticate none.
	Caller string

	// Family, Client and User name the family the request touched. On a
	// token request refused with events.RefusedWrongClient, Client is the
	// Caller and Owner the client the family belongs to.
	Family, Client, User string
	// Owner is the client a code or refresh token presented by another
	// client was issued to; empty unless the request was refused for it.
	Owner string
	// Denial says why the store refused a token, or why client
	// authentication failed on the secret; empty when neither happened.
	Denial string
	// Refusal is the store's Denial as a code a program can branch on (one
	// of the Refused* constants).
	Refusal string
	// ClientRefusal says why client authentication failed on the secret
	// (events.ClientSecretInvalid or events.ClientSecretExpired); empty when it did not.
	ClientRefusal string
	// AccessExpiresAt is the sim-time expiry of the access token issued.
	AccessExpiresAt time.Time
	// RefreshDropped is set when the new refresh token fosite minted was not
	// stored and must not be sent: the profile does not rotate refresh tokens,
	// or the request or its authorization asked for none (Minting.DropRefresh,
	// WithholdRefresh).
	RefreshDropped bool
	// RefreshUnchanged is set with RefreshDropped when the answer carries
	// the refresh token the request presented, still the current one.
	RefreshUnchanged bool
	// NonceReplaced is set when the id_token minted carries a nonce other
	// than the authorization's (Minting.ReplaceNonce).
	NonceReplaced bool

	keepRefresh bool
	rotatedFrom *token
}

// Minting is what one token request mints other than as the profile has
// it: the decisions of the profile's ranges and deviations, of the scope a
// refresh asks for, and of the faults that fired on the request. The
// simulator sets it before fosite mints; the store reads it as it mints, and
// the id_token strategy reads ReplaceNonce.
type Minting struct {
	// AccessLifetime, when positive, replaces the profile's access-token lifetime.
	AccessLifetime time.Duration
	// Backdate mints the access token this long before now, while the response
	// still announces its full lifetime.
	Backdate time.Duration
	// KeepRefresh makes a refresh grant keep the refresh token it used instead of
	// rotating it, whatever the profile says: the response then carries none.
	KeepRefresh bool
	// DropRefresh makes a refresh grant mint no refresh token in place of the one it
	// used, which fares as the profile's rotation has it (a rotating profile supersedes
	// it): the response carries none, and at a rotating provider the grant ends with the
	// access token of this answer.
	DropRefresh bool
	// ReplaceNonce mints an id_token whose nonce is a random one, not the
	// authorization's (the id_token_nonce_mismatch deviation).
	ReplaceNonce bool
}

type opKey struct{}

// WithOp returns a context that carries o to the store.
func WithOp(ctx context.Context, o *Op) context.Context {
	return context.WithValue(ctx, opKey{}, o)
}

// OpFrom returns the Op a context carries, or nil.
func OpFrom(ctx context.Context) *Op {
	o, _ := ctx.Value(opKey{}).(*Op)
	return o
}

func (o *Op) observe(f *family) {
	if o != nil {
		o.Family, o.Client, o.User = f.id, f.client, f.user
	}
}

// RefuseClient records in the request's Op why client authentication failed
// on the secret: code is a ClientSecret* constant, and why becomes the
// request's Denial unless it has one.
func RefuseClient(ctx context.Context, code, why string) {
	if o := OpFrom(ctx); o != nil && o.ClientRefusal == "" {
		o.ClientRefusal = code
		if o.Denial == "" {
			o.Denial = why
		}
	}
}

// Authenticated records in the request's Op the client it authenticated as.
func Authenticated(ctx context.Context, client string) {
	if o := OpFrom(ctx); o != nil {
		o.Caller = client
	}
}

// deny records the first reason the store refused a token during the request.
func deny(ctx context.Context, code, why string) {
	if o := OpFrom(ctx); o != nil && o.Denial == "" {
		o.Denial, o.Refusal = why, code
	}
}

// revocationReason is why fosite asked to revoke a family during o: the
// client's own revocation request, or reuse of a code or refresh token
// during a token request.
func (o *Op) revocationReason() string {
	switch {
	case o == nil:
		return events.ReasonAdmin
	case o.Revocation:
		return events.ReasonClientRevocation
	case o.GrantType == "refresh_token":
		return events.ReasonReuseDetected
	case o.GrantType == "authorization_code":
		return events.ReasonCodeReuse
	default:
		return events.ReasonAdmin
	}
}
