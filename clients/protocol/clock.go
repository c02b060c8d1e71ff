package protocol

import (
	"sync"
	"time"
)

// Clock is the sim time for a client with the clock:now capability
// (clients/PROTOCOL.md, Time). While a client operation is in flight the
// harness's sim clock runs at the wall clock's rate, and an advance step
// makes it jump; each request's now is the sim time at which the harness
// sent it. The sim time is therefore the now of the latest request plus the
// time elapsed since that request was received. Clock measures that time
// on the monotonic clock, so that a step of the host's wall clock (NTP, a
// person) does not move the sim time.
//
// Between two requests Clock reads what the harness's clock would read had
// it kept running: when no operation is in flight the harness's clock
// stands still while Clock runs on, and the next request's now sets it
// back. It also reads behind the harness's by the time a request takes to
// arrive. Neither matters to a client that acts only while serving a
// request, which is all the protocol asks of one.
//
// A Clock is safe for concurrent use. Serve sets it from each request; a
// Clock must be made with NewClock.
type Clock struct {
	mu sync.Mutex
	// at is the sim time of the latest request, without a monotonic
	// reading: it is an instant of the sim clock, not of this host's.
	at time.Time
	// received is when it arrived, with the monotonic reading that
	// time.Since uses.
	received time.Time
}

// NewClock returns a Clock that reads start now (OAUTHSIM_TIME, the sim
// time at the client's start) and runs on from it until the first request.
func NewClock(start time.Time) *Clock {
	return &Clock{at: start.UTC(), received: time.Now()}
}

// Set records that a request carrying the sim time now has just been
// received. Calls must come in the order the requests arrive, as Serve
// makes them. A zero now (a request without one) leaves the clock as it
// was. An earlier now than the clock reads moves it back: the harness may
// set the sim clock into the past.
func (c *Clock) Set(now time.Time) {
	if now.IsZero() {
		return
	}
	received := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	// UTC also strips any monotonic reading now carries.
	c.at, c.received = now.UTC(), received
}

// Now returns the sim time, in UTC and without a monotonic reading, so
// that comparing it with another sim time (a token's expiry) compares the
// instants themselves.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	at, received := c.at, c.received
	c.mu.Unlock()
	return at.Add(time.Since(received))
}
