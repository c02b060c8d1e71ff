package tokenmanager

import (
	"context"
	"errors"
	"time"
)

// Token is what the manager keeps for one grant: the tokens and when the
// access token stops being usable.
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
}

// ErrNoToken is what a Store answers for a key it holds nothing under.
var ErrNoToken = errors.New("no token stored")

// Store keeps tokens across restarts. Implementations must make Save
// atomic: a crash leaves the old token or the new one, never a mix.
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
