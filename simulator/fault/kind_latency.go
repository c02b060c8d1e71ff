package fault

import (
	"fmt"
	"time"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Latency delays the answer by Delay plus up to Jitter (wall time: clients
// time out on it).
const Latency Kind = "latency"

// LatencyEffect is a latency fault.
type LatencyEffect struct {
	// Delay is the wait; Jitter adds up to that much more, drawn from the
	// fault's seeded generator.
	Delay  profile.Duration `json:"delay,omitempty" yaml:"delay,omitempty"`
	Jitter profile.Duration `json:"jitter,omitempty" yaml:"jitter,omitempty"`
}

// Kind implements Effect.
func (LatencyEffect) Kind() Kind { return Latency }

func (e LatencyEffect) validate(_ *Match, bad badFunc) {
	if e.Delay <= 0 && e.Jitter <= 0 {
		bad("delay", "a latency needs a positive delay or jitter")
	}
	if e.Delay < 0 || e.Jitter < 0 {
		bad("delay", "delay and jitter must not be negative")
	}
	if (e.Delay + e.Jitter).D() > maxWait {
		bad("delay", "delay plus jitter must be at most %s", profile.Duration(maxWait))
	}
}

// jitter has the engine draw each firing's random part.
func (e LatencyEffect) jitter() time.Duration { return e.Jitter.D() }

// Hold delays the request; the client may give up meanwhile.
func (e LatencyEffect) Hold(x Exchange, f Firing) string {
	wait := e.Delay.D() + f.Jitter
	x.Fired("delayed the request by " + wait.String())
	if x.Wait(wait) {
		return ""
	}
	return "the client gave up (or the server stopped) during the delay"
}

// Exceeds implements WallTimed.
func (e LatencyEffect) Exceeds(limit time.Duration) string {
	if (e.Delay + e.Jitter).D() > limit {
		return fmt.Sprintf("is at most %s with its jitter: it delays in real time", limit)
	}
	return ""
}
