package fault

import (
	"fmt"
	"slices"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// PropagationDelay makes the resource refuse a freshly issued access token,
// and keep accepting a revoked one, for Delay (see On), as at providers
// whose resource servers cache token state.
const PropagationDelay Kind = "propagation_delay"

// Propagation: what a propagation_delay holds back.
const (
	OnIssue      = "issue"
	OnRevocation = "revocation"
)

// PropagationDelayEffect is a propagation_delay fault.
type PropagationDelayEffect struct {
	// Delay is the lag.
	Delay profile.Duration `json:"delay,omitempty" yaml:"delay,omitempty"`
	// On says what it holds back: issue, revocation, or both (the default).
	On OneOrMany[string] `json:"on,omitempty" yaml:"on,omitempty"`
}

// Kind implements Effect.
func (PropagationDelayEffect) Kind() Kind { return PropagationDelay }

func (e PropagationDelayEffect) validate(_ *Match, bad badFunc) {
	if e.Delay <= 0 {
		bad("delay", "a propagation_delay needs a positive delay such as 30s")
	}
	for _, on := range e.On {
		if on != OnIssue && on != OnRevocation {
			bad("on", "must list %q and/or %q, got %q", OnIssue, OnRevocation, on)
		}
	}
}

// clone keeps the engine's copy of On apart from the caller's.
func (e PropagationDelayEffect) clone() Effect {
	e.On = slices.Clone(e.On)
	return e
}

// only keeps a propagation delay on the resource, which is what lags.
func (PropagationDelayEffect) only() Endpoint { return EndpointResource }

// holds reports whether the delay holds back what on names.
func (e PropagationDelayEffect) holds(on string) bool {
	return len(e.On) == 0 || slices.Contains(e.On, on)
}

// Propagate refuses a token issued less than the delay ago, or accepts one
// revoked less than the delay ago.
func (e PropagationDelayEffect) Propagate(c TokenCheck) string {
	delay := e.Delay.D()
	if c.Valid() {
		if age := c.Age(); e.holds(OnIssue) && age < delay {
			c.Refuse("the access token has not reached the resource yet")
			return fmt.Sprintf("refused an access token issued %s ago", age)
		}
		return ""
	}
	if since, ok := c.RevokedFor(); ok && e.holds(OnRevocation) && since < delay {
		c.Accept("revoked, but the revocation has not reached the resource yet")
		return fmt.Sprintf("accepted an access token revoked %s ago", since)
	}
	return ""
}
