package fault

import (
	"bytes"
	"net/http"
	"time"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// The hooks: the points on a request's way where a kind acts, each an
// interface a kind's Effect implements when it acts there. The simulator
// calls them for every firing whose effect has them, in the order the
// faults were added, and gives them what they may touch through the narrow
// interfaces below (Exchange, Minting, TokenAnswer, TokenCheck), which it
// implements, as toxiproxy hands its toxics a stub. The engine groups a
// request's firings by the same hooks (see Decision).

// Holder holds a request before the provider, or any other fault, sees it
// (latency).
type Holder interface {
	Effect
	// Hold holds the request through x. It returns "" to let the request go
	// on, or why the request ended during the hold: the simulator then logs
	// the request with that detail and closes its connection, since any
	// answer would be one the provider never gave.
	Hold(x Exchange, f Firing) (ended string)
}

// Answerer answers a request in the provider's place (rate_limit, error,
// hang, reset): the provider never sees it.
type Answerer interface {
	Effect
	// Answer answers through x and describes what the client got, for the
	// fault_fired event and the request's own event.
	Answer(x Exchange) (detail string)
}

// Spoiler lets the provider serve a request, so that what it does stands (a
// refresh rotates), and then spoils the answer (malformed,
// drop_after_commit). One answer is spoiled at most once.
type Spoiler interface {
	Effect
	// Spoil changes the held answer a, or drops it (x.Close), and describes
	// what it did.
	Spoil(x Exchange, a Held) (detail string)
	// LosesAnswer reports whether the client cannot read what the answer
	// said once it is spoiled, so that the served request's event names the
	// fault: the tokens it minted never arrive.
	LosesAnswer() bool
}

// Minter changes what a token request mints (backdate, a random access-token
// lifetime).
type Minter interface {
	Effect
	// Mint says, through m, what the request mints differently.
	Mint(m Minting)
}

// Deviator makes a token answer depart from RFC 6749 (or OpenID Connect) as
// a profile with the deviation would (deviation).
type Deviator interface {
	Effect
	// Deviates is the departure.
	Deviates() profile.Deviation
}

// TokenShaper reports how it shaped a token endpoint answer (backdate,
// deviation): it fires only where it changed something.
type TokenShaper interface {
	Effect
	// Shaped describes what the fault did to the answer t, or "" when it
	// found nothing to act on (a refusal mints nothing to backdate).
	Shaped(t TokenAnswer) (detail string)
}

// Propagator holds back what the resource knows of the access token a
// request presents (propagation_delay).
type Propagator interface {
	Effect
	// Propagate may overturn the resource's check c, and describes what it
	// did, or "" when it left c as it was.
	Propagate(c TokenCheck) (detail string)
}

// WallTimed is an effect that holds requests for wall time (latency, hang),
// which a caller such as a scenario may bound.
type WallTimed interface {
	Effect
	// Exceeds says what is wrong with the effect when it may hold a request
	// for longer than limit, or "" when it may not.
	Exceeds(limit time.Duration) string
}

// Exchange is one request at the HTTP level, as a Holder, Answerer or
// Spoiler may act on it for one firing.
type Exchange interface {
	// Fired records that the fault acted, with what it did, as a fault_fired
	// event.
	Fired(detail string)
	// Wait holds the request for d of wall time. It reports false when the
	// client gave up, or the server stopped, first.
	Wait(d time.Duration) bool
	// Situation is the active profile's own answer in situation, if it has
	// one.
	Situation(s profile.Situation) (profile.Response, bool)
	// Respond answers with resp, rendered at the provider's time for this
	// firing (its Retry-After, a limiter's counts), and describes what it
	// sent.
	Respond(resp profile.Response) (detail string)
	// Close closes the connection without an answer once the request is on
	// the record.
	Close()
}

// Held is the provider's answer to a request, held back so that a Spoiler
// can change it before it is sent.
type Held struct {
	Status int
	Header http.Header
	Body   *bytes.Buffer
}

// Minting is what a Minter may change about the tokens one token request
// mints. The simulator writes it into the one record fosite's storage reads.
type Minting interface {
	// Backdate mints the access token by earlier than the answer leaves,
	// while the answer still announces its whole lifetime.
	Backdate(by time.Duration)
	// DrawAccessLifetime gives the access token a lifetime between lo and hi,
	// in whole seconds, drawn from the simulator's seeded generator.
	DrawAccessLifetime(lo, hi time.Duration)
}

// TokenAnswer is a token endpoint answer as it was built, for a TokenShaper
// to tell what it did to it.
type TokenAnswer interface {
	// ErrorCode is the RFC 6749 error of a refused request, "" when tokens
	// were issued.
	ErrorCode() string
	// Status is a refusal's status before any deviation, and StatusUnder the
	// status deviation d gives it.
	Status() int
	StatusUnder(d profile.Deviation) int
	// AccessMinted reports whether an access token was minted, and
	// AccessLifetime the lifetime drawn for it (a profile's range, a random
	// lifetime), zero when none was drawn.
	AccessMinted() bool
	AccessLifetime() time.Duration
	// NonceReplaced reports whether the id_token carries a nonce other than
	// the authorization's.
	NonceReplaced() bool
}

// TokenCheck is the resource's check of an access token the store knows,
// which a Propagator may overturn. Durations are on the provider's clock.
type TokenCheck interface {
	// Valid reports whether the store accepts the token.
	Valid() bool
	// Age is how long ago the token was issued.
	Age() time.Duration
	// RevokedFor is how long ago the token was revoked, when the store
	// refuses it for that alone: it would be live otherwise.
	RevokedFor() (time.Duration, bool)
	// Refuse refuses a token the store accepts, saying why.
	Refuse(why string)
	// Accept accepts a token the store refused as revoked; detail is for the
	// request's event.
	Accept(detail string)
}
