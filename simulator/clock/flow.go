package clock

import (
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Flow is the conformance harness's sim clock: it stands still until
// advanced, except while something holds it running (a client operation in
// flight), when it moves with the wall clock. A client that waits 100 ms of
// wall time before retrying is then seen retrying 100 ms later, not at the
// same instant, while a scenario's days still pass in one Advance.
//
// Timers made on a Flow fire when the time it has run is folded in: when
// the last holder stops it, and on Advance. Nothing in the harness waits on
// them while the clock runs.
type Flow struct {
	wall clockwork.Clock
	// fake keeps the timers; it is moved to every instant Now folds in.
	fake *clockwork.FakeClock

	mu sync.Mutex
	// base is the sim time at since, the wall instant the clock started
	// running (or last folded); when running is 0 it is the sim time.
	base    time.Time
	since   time.Time
	running int
	// watch is told every change of state, under mu so that what it is told
	// arrives in order.
	watch func(State)
}

// State is what a Flow is doing: standing at At, or running from At at the
// wall instant Since, at wall speed.
type State struct {
	At      time.Time
	Running bool
	Since   time.Time
}

// Offset is how far a running clock is from the wall clock.
func (s State) Offset() time.Duration { return s.At.Sub(s.Since) }

// NewFlow returns a clock standing at t.
func NewFlow(t time.Time) *Flow {
	return newFlow(t, clockwork.NewRealClock())
}

func newFlow(t time.Time, wall clockwork.Clock) *Flow {
	return &Flow{wall: wall, fake: clockwork.NewFakeClockAt(t), base: t}
}

// Now returns the sim time.
func (f *Flow) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nowLocked()
}

func (f *Flow) nowLocked() time.Time {
	if f.running == 0 {
		return f.base
	}
	return f.base.Add(f.wall.Since(f.since))
}

// Run starts the clock running with the wall clock until the returned stop
// is called; holds nest, and the clock runs while any is held. stop may be
// called more than once.
func (f *Flow) Run() (stop func()) {
	f.mu.Lock()
	if f.running == 0 {
		f.since = f.wall.Now()
	}
	f.running++
	f.notify()
	f.mu.Unlock()
	var once sync.Once
	return func() { once.Do(f.release) }
}

func (f *Flow) release() {
	f.mu.Lock()
	f.running--
	var ran time.Duration
	if f.running == 0 {
		now := f.wall.Now()
		ran = now.Sub(f.since)
		f.base = f.base.Add(ran)
		f.since = now
		f.notify()
	}
	f.mu.Unlock()
	f.fake.Advance(ran)
}

// Advance moves the clock by d, which may be negative, running or not.
func (f *Flow) Advance(d time.Duration) {
	f.mu.Lock()
	var ran time.Duration
	if f.running > 0 {
		// Fold in what has run, so that the timers see it.
		now := f.wall.Now()
		ran = now.Sub(f.since)
		f.since = now
	}
	f.base = f.base.Add(ran + d)
	f.notify()
	f.mu.Unlock()
	f.fake.Advance(ran + d)
}

// State reports what the clock is doing now.
func (f *Flow) State() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stateLocked()
}

func (f *Flow) stateLocked() State {
	if f.running == 0 {
		return State{At: f.base}
	}
	return State{At: f.base, Running: true, Since: f.since}
}

// Watch makes w hear of every change of state from now on, beginning with
// the state now; nil stops it. w is called with the clock locked: it must
// not read the clock, and should be quick (a file rewritten, say).
func (f *Flow) Watch(w func(State)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.watch = w
	f.notify()
}

func (f *Flow) notify() {
	if f.watch != nil {
		f.watch(f.stateLocked())
	}
}

// Since returns the sim time elapsed since t.
func (f *Flow) Since(t time.Time) time.Duration { return f.Now().Sub(t) }

// Until returns the sim time until t.
func (f *Flow) Until(t time.Time) time.Duration { return t.Sub(f.Now()) }

// After fires once the clock has moved past d, as folded in.
func (f *Flow) After(d time.Duration) <-chan time.Time { return f.fake.After(d) }

// Sleep waits until the clock has moved past d, as folded in.
func (f *Flow) Sleep(d time.Duration) { f.fake.Sleep(d) }

// NewTicker ticks as the clock is folded in.
func (f *Flow) NewTicker(d time.Duration) clockwork.Ticker { return f.fake.NewTicker(d) }

// NewTimer fires once the clock has moved past d, as folded in.
func (f *Flow) NewTimer(d time.Duration) clockwork.Timer { return f.fake.NewTimer(d) }

// AfterFunc calls fn once the clock has moved past d, as folded in.
func (f *Flow) AfterFunc(d time.Duration, fn func()) clockwork.Timer {
	return f.fake.AfterFunc(d, fn)
}
