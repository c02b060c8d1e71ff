package fault

import (
	"fmt"
	"slices"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Deviation makes a token response depart from RFC 6749 (see
// DeviationEffect.Deviation), as a profile with the deviation would.
const Deviation Kind = "deviation"

// DeviationRandomLifetime gives each access token a random lifetime between
// Min and Max (Entra's 60 to 90 minutes). It is a deviation only faults make;
// profiles have access_token_lifetime_max for it.
const DeviationRandomLifetime profile.Deviation = "random_access_token_lifetime"

// DeviationEffect is a deviation fault.
type DeviationEffect struct {
	// Deviation names the departure: one of profile.Deviations, or
	// DeviationRandomLifetime, which takes MinLifetime and MaxLifetime.
	Deviation   profile.Deviation `json:"deviation,omitempty" yaml:"deviation,omitempty"`
	MinLifetime profile.Duration  `json:"min_lifetime,omitempty" yaml:"min_lifetime,omitempty"`
	MaxLifetime profile.Duration  `json:"max_lifetime,omitempty" yaml:"max_lifetime,omitempty"`
}

// Kind implements Effect.
func (DeviationEffect) Kind() Kind { return Deviation }

func (e DeviationEffect) validate(_ *Match, bad badFunc) {
	switch {
	case e.Deviation == DeviationRandomLifetime:
		if e.MinLifetime <= 0 || e.MaxLifetime < e.MinLifetime {
			bad("min_lifetime", "random_access_token_lifetime needs 0 < min_lifetime <= max_lifetime")
		}
	case slices.Contains(profile.Deviations(), e.Deviation):
		if e.MinLifetime != 0 || e.MaxLifetime != 0 {
			bad("min_lifetime", "only random_access_token_lifetime takes min_lifetime and max_lifetime")
		}
	default:
		bad("deviation", "must be one of %s, got %q", list(append(profile.Deviations(), DeviationRandomLifetime)), e.Deviation)
	}
}

// only keeps a deviation on the token endpoint, whose answers it shapes.
func (DeviationEffect) only() Endpoint { return EndpointToken }

// Mint draws the access token's lifetime for random_access_token_lifetime;
// the other deviations mint as a profile with them does.
func (e DeviationEffect) Mint(m Minting) {
	if e.Deviation == DeviationRandomLifetime {
		m.DrawAccessLifetime(e.MinLifetime.D(), e.MaxLifetime.D())
	}
}

// Deviates implements Deviator.
func (e DeviationEffect) Deviates() profile.Deviation { return e.Deviation }

// Shaped implements TokenShaper: a deviation fires where it changed the
// answer, an error deviation on refusals only, and a nonce mismatch only
// where the id_token carried a nonce to replace.
func (e DeviationEffect) Shaped(t TokenAnswer) string {
	if code := t.ErrorCode(); code != "" {
		if to := t.StatusUnder(e.Deviation); to != t.Status() {
			return fmt.Sprintf("answered %s with %d instead of %d", code, to, t.Status())
		}
		return ""
	}
	switch {
	case errorOnly(e.Deviation):
		return ""
	case e.Deviation == DeviationRandomLifetime && t.AccessLifetime() > 0:
		return "access token lifetime " + t.AccessLifetime().String()
	case e.Deviation == profile.DeviationIDTokenNonceMismatch:
		if !t.NonceReplaced() {
			return "" // no id_token, or no nonce in it to replace
		}
		return string(e.Deviation) + ": the id_token's nonce replaced with a random one the authorization did not send"
	}
	return string(e.Deviation)
}

// errorOnly reports whether d shapes error answers only.
func errorOnly(d profile.Deviation) bool {
	switch d {
	case profile.DeviationErrorsAs200, profile.DeviationInvalidGrant401, profile.DeviationInvalidGrant403:
		return true
	}
	return false
}
