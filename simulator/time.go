package simulator

import (
	"fmt"
	"time"

	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// ClockState is the simulator's time, as GET /sim/v1/clock answers it.
type ClockState struct {
	// Now is the sim time, in UTC.
	Now time.Time `json:"now"`
	// ProviderNow is the provider's own time while a skew fault shifts it
	// from Now; zero otherwise.
	ProviderNow time.Time `json:"provider_now,omitzero"`
}

// ClockState reads the sim time, and the provider's own while a skew fault
// holds.
func (s *Simulator) ClockState() ClockState {
	// The skew is read at the same instant as the sim time: a second read
	// of a running clock would differ from the first by the time between,
	// and show a provider_now with no skew behind it.
	now := s.clock.Now()
	st := ClockState{Now: now.UTC()}
	if skew := s.current().faults.Skew(now); skew != 0 {
		st.ProviderNow = now.Add(skew).UTC()
	}
	return st
}

// AdvanceClock moves the sim clock by d, which may be negative, and records
// a clock_moved event. Advancing the clock given to WithClock moves time
// just as well, but leaves no event: a reader of the log then sees tokens
// expire with nothing to explain it. It refuses, moving nothing, a move
// that would take the clock outside the years 1 to 9999 or wrap serve's
// offset from the wall clock (see clock.Move).
func (s *Simulator) AdvanceClock(d time.Duration) (ClockState, error) {
	s.still.Lock()
	err := clock.Move(s.clock, d)
	s.still.Unlock()
	if err != nil {
		return ClockState{}, fmt.Errorf("advance the clock by %s: %w", profile.Duration(d), err)
	}
	s.events.Emit(events.Event{Kind: events.ClockMoved, Detail: "advanced by " + profile.Duration(d).String()})
	return s.ClockState(), nil
}

// SetClock moves the sim clock to t, forwards or backwards, and records a
// clock_moved event. It refuses an instant further from the clock's time
// than a time.Duration spans (about 292 years), and what AdvanceClock
// refuses.
func (s *Simulator) SetClock(t time.Time) (ClockState, error) {
	s.still.Lock()
	err := clock.Set(s.clock, t)
	s.still.Unlock()
	if err != nil {
		return ClockState{}, fmt.Errorf("set the clock to %s: %w", t.UTC().Format(time.RFC3339Nano), err)
	}
	s.events.Emit(events.Event{Kind: events.ClockMoved, Detail: "set to " + t.UTC().Format(time.RFC3339Nano)})
	return s.ClockState(), nil
}
