package fault

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Request is what the engine knows about a request when it decides: its
// endpoint and, from the credentials and tokens it carries, who it is for.
type Request struct {
	Endpoint  Endpoint
	GrantType string
	Client    string
	User      string
	Family    string
}

// Firing is one fault acting on one request.
type Firing struct {
	Fault *Fault
	// RetryAfter is when a rate_limit lets the caller try again; Limit and Remaining are
	// a limiter's counters (zero for a fixed rate_limit).
	RetryAfter       time.Duration
	Limit, Remaining int
	// Jitter is the random part of a latency, drawn from the fault's generator.
	Jitter time.Duration
}

// Decision is every fault that fires on one request, grouped by when it
// acts: by the hook its effect has (see hooks.go).
type Decision struct {
	// Latency holds the request before anything else happens (Holder).
	Latency []Firing
	// Answer, when set, answers the request in the provider's place (Answerer): the
	// provider never sees it.
	Answer *Firing
	// Shape acts while or after the provider serves the request: at most one Spoiler,
	// and the faults with the other hooks (Minter, Deviator, TokenShaper, Propagator).
	Shape []Firing
}

// Empty reports whether no fault fired.
func (d Decision) Empty() bool { return len(d.Latency) == 0 && d.Answer == nil && len(d.Shape) == 0 }

// Status is a fault with what it has done so far, as the control API lists it.
type Status struct {
	Fault
	Progress
}

// Progress is what a fault has done since it was added.
type Progress struct {
	// AddedAt is the sim time the fault was added; relative windows count from it.
	AddedAt time.Time `json:"added_at"`
	// From and Until are the window in sim time, resolved.
	From  *time.Time `json:"from,omitempty"`
	Until *time.Time `json:"until,omitempty"`
	// Matched counts the requests that matched; Fired, those it acted on.
	Matched int `json:"matched"`
	Fired   int `json:"fired"`
}

// DefaultSeed seeds a probability's generator when the fault gives none.
const DefaultSeed uint64 = 1

// The engine's own hooks, which kinds implement where they need them.
type (
	// jittered draws a random part of each firing's wait.
	jittered interface{ jitter() time.Duration }
	// announcer announces, in the answer, when to try again.
	announcer interface{ retryAfter() time.Duration }
	// limited counts requests for a limiter of its own (rate_limit), when
	// limiter().limit is positive, instead of firing on every match.
	limited interface{ limiter() limiter }
	// skewer moves the provider's clock; it fires on no request.
	skewer interface{ offset() time.Duration }
	// endpointBound acts on requests to one endpoint only.
	endpointBound interface{ only() Endpoint }
	// cloner copies the lists and maps of its parameters, so that the engine's
	// copy and the caller's do not share them.
	cloner interface{ clone() Effect }
)

// limiter is a real rate limiter: limit requests per window, counted by key
// (client, user, family or global).
type limiter struct {
	limit int
	per   time.Duration
	key   string
}

// cloneEffect is e with lists and maps of its own.
func cloneEffect(e Effect) Effect {
	if c, ok := e.(cloner); ok {
		return c.clone()
	}
	return e
}

// Engine holds the active faults and decides which fire. It is safe for
// concurrent use; decisions are serialized, so that counts, limiters and
// random draws happen in one order and a run can be repeated.
type Engine struct {
	mu     sync.Mutex
	rules  []*rule
	nextID int
	// active and skews count the rules, so that the simulator's hot paths
	// (every request, every read of the provider's clock) skip the lock
	// while there are none.
	active, skews atomic.Int32
}

type rule struct {
	Fault
	addedAt     time.Time
	from, until time.Time
	matched     int
	fired       int
	rng         *rand.Rand
	// admitted holds, per limiter key, the times of the requests the limiter let
	// through within its window, oldest first.
	admitted map[string][]time.Time
}

// NewEngine returns an engine with no faults.
func NewEngine() *Engine { return &Engine{} }

// Add validates f and activates it at sim time now, after the faults already
// active. It returns the fault as stored: with its ID and seed filled in.
func (e *Engine) Add(f Fault, now time.Time) (Fault, error) {
	if err := f.Validate(); err != nil {
		return f, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if f.ID == "" {
		for {
			e.nextID++
			f.ID = "f" + strconv.Itoa(e.nextID)
			if e.find(f.ID) < 0 {
				break
			}
		}
	} else if e.find(f.ID) >= 0 {
		return f, fmt.Errorf("fault %q: %w", f.ID, ErrDuplicateID)
	}
	seed := DefaultSeed
	if f.Match.Seed != nil {
		seed = *f.Match.Seed
	}
	f.Match.Seed = &seed
	f.Effect = cloneEffect(f.Effect)
	r := &rule{
		Fault: f, addedAt: now,
		from: resolveWhen(f.Match.From, now), until: resolveWhen(f.Match.Until, now),
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	if !r.from.IsZero() && !r.until.IsZero() && !r.until.After(r.from) {
		return f, &FieldError{Field: "match.until", Msg: "must be after match.from"}
	}
	e.rules = append(e.rules, r)
	e.count()
	return f, nil
}

// Errors of Add and Remove.
var (
	ErrNotFound    = errors.New("no such fault")
	ErrDuplicateID = errors.New("a fault with this id is already active")
)

// Remove deactivates the fault with id and returns its final status.
func (e *Engine) Remove(id string) (Status, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.find(id)
	if i < 0 {
		return Status{}, fmt.Errorf("fault %q: %w", id, ErrNotFound)
	}
	st := e.rules[i].status()
	e.rules = slices.Delete(e.rules, i, i+1)
	e.count()
	return st, nil
}

// Clear removes every fault and returns their final status. Ids go on from
// where they were, so that one event log never names two faults alike.
func (e *Engine) Clear() []Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Status, len(e.rules))
	for i, r := range e.rules {
		out[i] = r.status()
	}
	e.rules = nil
	e.count()
	return out
}

// Reset removes every fault and numbers the next from f1 again, for a
// simulator whose event log starts over too.
func (e *Engine) Reset() {
	e.Clear()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nextID = 0
}

// count refreshes the rule counters. e.mu must be held.
func (e *Engine) count() {
	skews := 0
	for _, r := range e.rules {
		if _, ok := r.Effect.(skewer); ok {
			skews++
		}
	}
	e.active.Store(int32(len(e.rules)))
	e.skews.Store(int32(skews))
}

// Get returns the status of the fault with id.
func (e *Engine) Get(id string) (Status, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if i := e.find(id); i >= 0 {
		return e.rules[i].status(), true
	}
	return Status{}, false
}

// List returns every active fault in the order they are tried.
func (e *Engine) List() []Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Status, len(e.rules))
	for i, r := range e.rules {
		out[i] = r.status()
	}
	return out
}

// Len returns the number of active faults; the simulator skips all fault
// work while it is zero.
func (e *Engine) Len() int { return int(e.active.Load()) }

func (e *Engine) find(id string) int {
	return slices.IndexFunc(e.rules, func(r *rule) bool { return r.ID == id })
}

func (r *rule) status() Status {
	st := Status{Fault: r.Fault, Progress: Progress{AddedAt: r.addedAt, Matched: r.matched, Fired: r.fired}}
	st.Effect = cloneEffect(r.Effect)
	if !r.from.IsZero() {
		st.From = &r.from
	}
	if !r.until.IsZero() {
		st.Until = &r.until
	}
	return st
}

// Skew is the provider's clock offset at sim time now: the sum of the skew
// faults whose window holds now.
func (e *Engine) Skew(now time.Time) time.Duration {
	if e.skews.Load() == 0 {
		return 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var d time.Duration
	for _, r := range e.rules {
		if sk, ok := r.Effect.(skewer); ok && r.inWindow(now) {
			d += sk.offset()
		}
	}
	return d
}

// Decide counts req against every fault and returns those that fire, at sim
// time now. Faults are tried in the order they were added; the first that
// answers in the provider's place ends the trial, and later faults do not see
// the request.
func (e *Engine) Decide(req Request, now time.Time) Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	var d Decision
	spoiled := false
	for _, r := range e.rules {
		_, skew := r.Effect.(skewer)
		_, spoiler := r.Effect.(Spoiler)
		// One spoiler per answer: the first, as with answering faults.
		if skew || (spoiler && spoiled) || !r.matches(req, now) {
			continue
		}
		r.matched++
		f, ok := r.fire(req, now)
		if !ok {
			continue
		}
		switch r.Effect.(type) {
		case Holder:
			r.fired++
			d.Latency = append(d.Latency, f)
		case Answerer:
			r.fired++
			d.Answer = &f
			return d
		default:
			// A shaping fault may find nothing to act on (a failed refresh
			// mints nothing to backdate): it counts as fired when Applied says so.
			spoiled = spoiled || spoiler
			d.Shape = append(d.Shape, f)
		}
	}
	return d
}

// Applied records that a shaping fault Decide returned acted on its request.
func (e *Engine) Applied(f *Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if i := e.find(f.ID); i >= 0 {
		e.rules[i].fired++
	}
}

func (r *rule) inWindow(now time.Time) bool {
	return (r.from.IsZero() || !now.Before(r.from)) && (r.until.IsZero() || now.Before(r.until))
}

func (r *rule) matches(req Request, now time.Time) bool {
	m := &r.Match
	return r.inWindow(now) &&
		oneOf(m.Endpoint, req.Endpoint) && oneOf(m.GrantType, req.GrantType) &&
		oneOf(m.Client, req.Client) && oneOf(m.User, req.User) && oneOf(m.Family, req.Family) &&
		r.appliesTo(req.Endpoint)
}

// appliesTo keeps faults off requests they cannot act on: a backdate or a
// deviation shapes token responses, a propagation delay holds the resource.
func (r *rule) appliesTo(ep Endpoint) bool {
	b, bound := r.Effect.(endpointBound)
	return !bound || b.only() == ep
}

func oneOf[T comparable](set []T, v T) bool { return len(set) == 0 || slices.Contains(set, v) }

// fire decides whether a matching request is acted on: the nth and count
// gates, then the limiter or the probability draw.
func (r *rule) fire(req Request, now time.Time) (Firing, bool) {
	m := &r.Match
	f := Firing{Fault: &r.Fault}
	if m.Nth > 0 && r.matched < m.Nth {
		return f, false
	}
	limit := m.Count
	if m.Nth > 0 && limit == 0 {
		limit = 1
	}
	if limit > 0 && r.fired >= limit {
		return f, false
	}
	if l, ok := r.Effect.(limited); ok && l.limiter().limit > 0 {
		return r.limit(req, now, l.limiter())
	}
	if m.Probability > 0 && r.rng.Float64() >= m.Probability {
		return f, false
	}
	if a, ok := r.Effect.(announcer); ok {
		f.RetryAfter = a.retryAfter()
	}
	if j, ok := r.Effect.(jittered); ok && j.jitter() > 0 {
		f.Jitter = time.Duration(r.rng.Int64N(int64(j.jitter())))
	}
	return f, true
}

// limit is a sliding-window limiter in sim time: a request is admitted while
// fewer than l.limit were admitted for its key in the last l.per.
func (r *rule) limit(req Request, now time.Time, l limiter) (Firing, bool) {
	key := ""
	switch l.key {
	case KeyClient, "":
		key = req.Client
	case KeyUser:
		key = req.User
	case KeyFamily:
		key = req.Family
	}
	if r.admitted == nil {
		r.admitted = map[string][]time.Time{}
	}
	window := l.per
	times := r.admitted[key]
	// The clock can be set backwards: only requests in (now-window, now] count.
	times = slices.DeleteFunc(times, func(t time.Time) bool { return !t.After(now.Add(-window)) || t.After(now) })
	f := Firing{Fault: &r.Fault, Limit: l.limit}
	if len(times) < l.limit {
		r.admitted[key] = append(times, now)
		return f, false
	}
	r.admitted[key] = times
	f.RetryAfter = times[0].Add(window).Sub(now)
	return f, true
}

// WholeSeconds rounds a wait up to whole seconds, at least one: a
// Retry-After of 0 invites a retry storm.
func WholeSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	return max(s, 1)
}
