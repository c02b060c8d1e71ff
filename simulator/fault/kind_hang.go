package fault

import (
	"fmt"
	"time"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Hang never answers: the connection is held until the client gives up, or
// Max passes, and then closed without a response.
const Hang Kind = "hang"

// defaultHang is how long a hang holds a connection when it sets no max.
const defaultHang = 30 * time.Second

// HangEffect is a hang fault.
type HangEffect struct {
	// Max bounds the hang (default 30s, wall time).
	Max profile.Duration `json:"max,omitempty" yaml:"max,omitempty"`
}

// Kind implements Effect.
func (HangEffect) Kind() Kind { return Hang }

func (e HangEffect) validate(_ *Match, bad badFunc) {
	if e.Max < 0 || e.Max.D() > maxWait {
		bad("max", "must be between 0 (the default, 30s) and %s", profile.Duration(maxWait))
	}
}

// holds is how long the hang holds a connection.
func (e HangEffect) holds() time.Duration {
	if e.Max == 0 {
		return defaultHang
	}
	return e.Max.D()
}

// Answer holds the request, then closes the connection: returning would send
// an empty 200, and a hang never answers.
func (e HangEffect) Answer(x Exchange) string {
	limit := e.holds()
	detail := "held the request until the client gave up (or the server stopped)"
	if x.Wait(limit) {
		detail = fmt.Sprintf("held the request for %s, then closed the connection without an answer", limit)
	}
	x.Close()
	return detail
}

// Exceeds implements WallTimed.
func (e HangEffect) Exceeds(limit time.Duration) string {
	if e.holds() > limit {
		return fmt.Sprintf("needs a max of at most %s: it holds a request for real time", limit)
	}
	return ""
}
