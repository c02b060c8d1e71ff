package tokenmanager

import (
	"context"
	"errors"
	"time"
)

// Token is what the manager keeps for one grant: the tokens, when the
// access token stops being usable, and any wait before the next refresh.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type,omitempty"`
	Scope        string `json:"scope,omitempty"`
	// Expiry is when the access token expires, computed from the moment the
	// request that obtained it was sent; zero when the provider did not say.
	Expiry time.Time `json:"expiry,omitzero"`
	// Lifetime is the expires_in the provider announced, kept to size the
	// refresh margin.
	Lifetime time.Duration `json:"lifetime,omitempty"`
	// GrantedAt is when the user authorized: how old the grant is tells a
	// testing app's seven-day death from other ones.
	GrantedAt time.Time `json:"granted_at,omitzero"`
	// Subject is the user the grant is of: the sub of the verified id_token
	// of the code exchange that obtained it. It is empty without the openid
	// scope, and in tokens saved before it was kept, where the user is
	// unknown.
	Subject string `json:"subject,omitempty"`
	// Backoff holds refreshes back after a failure; zero when none is due.
	// It is kept with the tokens so that a manager started afresh over the
	// same Store, or one in another process sharing it, waits too.
	Backoff Backoff `json:"backoff,omitzero"`
	// LostRefreshAt is when a refresh with RefreshToken was sent whose
	// answer was lost or unreadable; zero when none was. The provider may
	// have rotated the token then, so it goes again only inside the
	// provider's grace window. It is kept with the tokens so that a manager
	// started afresh over the same Store, or one in another process sharing
	// it, does not send a token the provider has superseded: that would be
	// reuse, which revokes the grant.
	LostRefreshAt time.Time `json:"lost_refresh_at,omitzero"`
}

// Backoff is a wait before the next refresh, after a failed one: the
// provider's Retry-After, or the manager's exponential backoff.
type Backoff struct {
	// Until is when a refresh may be sent again.
	Until time.Time `json:"until,omitzero"`
	// Failures counts the failed refreshes in a row: each doubles the
	// exponential wait.
	Failures int `json:"failures,omitempty"`
	// Cause is the last failure's message, for the error callers get while
	// the manager waits.
	Cause string `json:"cause,omitempty"`
	// Configuration and Interaction hold the last failure when it was the
	// provider refusing the client or asking for the user (a step-up): the
	// manager waits after those too, and callers meanwhile are told what
	// they were told then, not of a passing failure.
	Configuration *ConfigurationError  `json:"configuration,omitempty"`
	Interaction   *InteractionRequired `json:"interaction,omitempty"`
}

// newBackoff is the wait, to until, after err, the failures-th failed
// refresh in a row.
func newBackoff(until time.Time, failures int, err error) Backoff {
	b := Backoff{Until: until, Failures: failures, Cause: err.Error()}
	errors.As(err, &b.Configuration)
	errors.As(err, &b.Interaction)
	return b
}

// cause is the failure b waits after, as callers are told of it while the
// manager waits.
func (b Backoff) cause() error {
	switch {
	case b.Configuration != nil:
		return b.Configuration
	case b.Interaction != nil:
		return b.Interaction
	}
	return errors.New(b.Cause)
}

// ErrNoToken is what a Store answers for a key it holds nothing under.
var ErrNoToken = errors.New("no token stored")

// Store keeps tokens across restarts. Implementations must make Save
// atomic: a crash leaves the old token or the new one, never a mix, and
// must keep every field of the Token, its Backoff, LostRefreshAt and
// Subject included: a store that drops the Backoff lets the manager refresh
// before the provider allows, one that drops LostRefreshAt lets it send a
// superseded refresh token, and one that drops the Subject loses the refresh
// token when the user signs in again (see Manager.Exchange).
type Store interface {
	// Load returns the token under key, or ErrNoToken.
	Load(ctx context.Context, key string) (Token, error)
	// Save replaces the token under key.
	Save(ctx context.Context, key string, t Token) error
	// Delete forgets the token under key; deleting nothing is not an error.
	Delete(ctx context.Context, key string) error
	// Lock takes the refresh lock for key, blocking until it is free or ctx
	// ends. Holders of the same store, in one process or several, refresh a
	// key one at a time. It returns the unlock function.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}
