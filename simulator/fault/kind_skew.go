package fault

import (
	"time"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Skew sets the provider's clock Offset from the simulation's (and the
// client's): it moves iat, exp, Date and every expiry decision. It fires on
// no request; the engine sums the skews in their window (Engine.Skew).
const Skew Kind = "skew"

// SkewEffect is a skew fault.
type SkewEffect struct {
	// Offset is the difference, provider minus client (may be negative).
	Offset profile.Duration `json:"offset,omitempty" yaml:"offset,omitempty"`
}

// Kind implements Effect.
func (SkewEffect) Kind() Kind { return Skew }

func (e SkewEffect) validate(m *Match, bad badFunc) {
	// A skew is the provider's clock: it holds for a window, not per request.
	if len(m.Endpoint)+len(m.GrantType)+len(m.Client)+len(m.User)+len(m.Family) > 0 || m.Nth != 0 || m.Count != 0 || m.Probability != 0 {
		bad("match", "a skew moves the provider's one clock: it takes only match.from and match.until")
	}
	if e.Offset == 0 {
		bad("offset", "a skew needs a non-zero offset such as 5m or -90s")
	}
}

// offset is how far the skew moves the provider's clock.
func (e SkewEffect) offset() time.Duration { return e.Offset.D() }
