package family

import (
	"time"

	"github.com/ory/fosite"
)

// Stamp is what an access or refresh token's claims say of it, for a token
// format that shows them to the client (profile.TokenJWT): the token
// strategy writes them into the token's payload.
type Stamp struct {
	Kind fosite.TokenType
	// Family is the grant the token belongs to.
	Family string
	Issued time.Time
	// Expires is an access token's expiry; zero for never, and for refresh
	// tokens (see Store.RefreshExpiry).
	Expires time.Time
	// Scopes are the scopes an access token grants.
	Scopes []string
}

// StampOf reads the claims Store.Claim returned; ok is false for anything else.
func StampOf(b []byte) (Stamp, bool) {
	c, err := decodeClaims(b)
	if err != nil {
		return Stamp{}, false
	}
	return Stamp{Kind: c.kind, Family: c.family, Issued: c.issued, Expires: c.expires, Scopes: c.scopes}, true
}

// RefreshExpiry is when a refresh token of r's family issued at issued
// dies if it is never used: the earliest of its idle and absolute
// deadlines, as the store will judge them (zero for never). A use or a
// rotation may move the idle deadline later; the absolute one never moves.
func (s *Store) RefreshExpiry(r fosite.Requester, issued time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.families[r.GetID()]
	if !ok {
		f = &family{id: r.GetID()}
	}
	at, _, _ := s.refreshDeadline(&token{kind: fosite.RefreshToken, fam: f, issued: issued})
	return at
}
