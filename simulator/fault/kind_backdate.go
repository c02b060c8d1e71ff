package fault

import (
	"fmt"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Backdate mints access tokens By earlier than the response leaves, so
// expires_in overstates their remaining life.
const Backdate Kind = "backdate"

// BackdateEffect is a backdate fault.
type BackdateEffect struct {
	// By is how far back it mints.
	By profile.Duration `json:"by,omitempty" yaml:"by,omitempty"`
}

// Kind implements Effect.
func (BackdateEffect) Kind() Kind { return Backdate }

func (e BackdateEffect) validate(_ *Match, bad badFunc) {
	if e.By <= 0 {
		bad("by", "a backdate needs a positive duration such as 120s")
	}
}

// only keeps a backdate on the token endpoint, where access tokens are minted.
func (BackdateEffect) only() Endpoint { return EndpointToken }

// Mint backdates the access token.
func (e BackdateEffect) Mint(m Minting) { m.Backdate(e.By.D()) }

// Shaped implements TokenShaper: a refusal mints nothing to backdate.
func (e BackdateEffect) Shaped(t TokenAnswer) string {
	if t.ErrorCode() != "" || !t.AccessMinted() {
		return ""
	}
	return fmt.Sprintf("access token minted %s before the answer", e.By)
}
