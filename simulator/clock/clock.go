// Package clock holds the simulator's clock: the single source of "now" for
// every expiry the simulated provider decides.
//
// Tests and the conformance harness use a clockwork fake clock that only moves
// when told to. `oauthsim serve` uses the wall clock plus an offset, so that a
// person can leave the provider running and still jump it forward by days.
package clock

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Clock is a clockwork.Clock that can be moved. Advance may take a negative
// duration: the control API lets QA set the clock to any instant, including
// one in the past.
type Clock interface {
	clockwork.Clock
	Advance(d time.Duration)
}

// NewFake returns a clock that stands still at t until advanced.
func NewFake(t time.Time) *clockwork.FakeClock {
	return clockwork.NewFakeClockAt(t)
}

// Offset is the wall clock shifted by an adjustable offset. Durations measured
// on it (timers, tickers, Sleep) run at wall speed; moving the offset changes
// Now but does not fire pending timers early.
type Offset struct {
	wall clockwork.Clock

	mu     sync.RWMutex
	offset time.Duration
}

// NewOffset returns a clock that reads the wall clock with no offset.
func NewOffset() *Offset {
	return &Offset{wall: clockwork.NewRealClock()}
}

// Now returns the wall time plus the offset.
func (o *Offset) Now() time.Time {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.wall.Now().Add(o.offset)
}

// Advance moves the clock by d, which may be negative. An offset pushed
// past about 292 years wraps; Move refuses such a move instead.
func (o *Offset) Advance(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.offset += d
}

// OffsetDuration reports how far the clock is from the wall clock.
func (o *Offset) OffsetDuration() time.Duration {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.offset
}

// Since returns the time elapsed since t on this clock.
func (o *Offset) Since(t time.Time) time.Duration { return o.Now().Sub(t) }

// Until returns the duration until t on this clock.
func (o *Offset) Until(t time.Time) time.Duration { return t.Sub(o.Now()) }

// After waits for d of wall time.
func (o *Offset) After(d time.Duration) <-chan time.Time { return o.wall.After(d) }

// Sleep sleeps for d of wall time.
func (o *Offset) Sleep(d time.Duration) { o.wall.Sleep(d) }

// NewTicker ticks every d of wall time.
func (o *Offset) NewTicker(d time.Duration) clockwork.Ticker { return o.wall.NewTicker(d) }

// NewTimer fires after d of wall time.
func (o *Offset) NewTimer(d time.Duration) clockwork.Timer { return o.wall.NewTimer(d) }

// AfterFunc calls f after d of wall time.
func (o *Offset) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	return o.wall.AfterFunc(d, f)
}

// Earliest and Latest bound the instants Move and Set take a clock to: the
// years RFC 3339 writes, as every time the simulator shows is written.
var (
	Earliest = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	Latest   = time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
)

// Move moves c by d, forwards or backwards. It refuses, leaving c where it
// is, a move that would take c outside Earliest and Latest or wrap an
// Offset's offset past what a time.Duration holds (about 292 years), which
// would otherwise land the clock back near the present without a word.
func Move(c Clock, d time.Duration) error {
	if o, ok := c.(*Offset); ok {
		return o.move(d)
	}
	now := c.Now()
	if err := inRange(now, now.Add(d)); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// move is Move on an Offset, checked and done under its lock so that two
// moves at once cannot both pass the check and wrap together.
func (o *Offset) move(d time.Duration) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	offset := o.offset + d
	if (d > 0) != (offset > o.offset) && d != 0 {
		return errors.New("the clock's offset from the wall clock would pass the ±292 years a time.Duration holds")
	}
	wall := o.wall.Now()
	if err := inRange(wall.Add(o.offset), wall.Add(offset)); err != nil {
		return err
	}
	o.offset = offset
	return nil
}

// inRange refuses a move from now to t that leaves Earliest and Latest.
func inRange(now, t time.Time) error {
	if t.Before(Earliest) || t.After(Latest) {
		return fmt.Errorf("it would take the clock from %s to %s, outside the years 1 to 9999 that RFC 3339 writes", now.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	return nil
}

// Set moves c to t, forwards or backwards. It refuses an instant further
// from the clock's time than a time.Duration spans (about 292 years), and
// any move Move refuses.
func Set(c Clock, t time.Time) error {
	now := c.Now()
	d := t.Sub(now)
	if !now.Add(d).Equal(t) {
		return fmt.Errorf("cannot move the clock from %s to %s: more than about 292 years", now.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	return Move(c, d)
}

// Shifted is a clock read through an offset that may change with time: the
// provider's own clock while a skew fault holds. Timers and Advance act on
// the underlying clock.
type Shifted struct {
	Clock
	// Offset returns the shift at the underlying clock's time now.
	Offset func(now time.Time) time.Duration
}

// Now implements clockwork.Clock.
func (c Shifted) Now() time.Time {
	n := c.Clock.Now()
	return n.Add(c.Offset(n))
}

// Since implements clockwork.Clock on the shifted time.
func (c Shifted) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Until implements clockwork.Clock on the shifted time.
func (c Shifted) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }
