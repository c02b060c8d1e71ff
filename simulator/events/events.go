// Package events is the simulator's event log: the ground truth the
// conformance harness judges clients by. Every request to a provider endpoint
// and every state change is recorded with a sequence number and the sim time.
// It also holds the vocabulary events carry (revocation reasons, refusal
// codes) and token fingerprints, by which an event names a token unseen.
package events

import (
	"strings"
	"sync"
	"time"
)

// Kind names what happened. Request kinds end in "_request"; the others are
// state changes.
type Kind string

// Request kinds: one event per HTTP request to a provider endpoint.
const (
	AuthorizeRequest  Kind = "authorize_request"
	TokenRequest      Kind = "token_request"
	RevokeRequest     Kind = "revoke_request"
	IntrospectRequest Kind = "introspect_request"
	ResourceRequest   Kind = "resource_request"
)

// State-change kinds.
const (
	// TokenIssued: an authorization code, access token or refresh token was minted.
	TokenIssued Kind = "token_issued"
	// RefreshRotated: a refresh token was exchanged and superseded by a new one.
	RefreshRotated Kind = "refresh_token_rotated"
	// RefreshGraceReuse: a superseded refresh token was accepted inside the grace window.
	RefreshGraceReuse Kind = "refresh_token_grace_reuse"
	// RefreshReuseDetected: a superseded refresh token was presented outside any grace window.
	RefreshReuseDetected Kind = "refresh_token_reuse_detected"
	// CodeReuseDetected: an authorization code was redeemed twice.
	CodeReuseDetected Kind = "authorization_code_reuse_detected"
	// FamilyRevoked: a token family and every token in it became invalid.
	FamilyRevoked Kind = "family_revoked"
	// FamilyEvicted: the per user×client family limit silently invalidated the oldest family.
	FamilyEvicted Kind = "family_evicted"
	// ClockMoved: the sim clock was advanced or set.
	ClockMoved Kind = "clock_moved"
	// GrantMinted: the control API completed an authorization without the browser step.
	GrantMinted Kind = "grant_minted"
	// ClientChanged: a client was created or replaced, or its publishing status changed.
	ClientChanged Kind = "client_changed"
	// ClientSecretRotated: a client's secret was replaced; the detail says until
	// when the previous one stays valid and when the new one expires.
	ClientSecretRotated Kind = "client_secret_rotated"
	// ConsentRequired: a user was marked as having to consent to a client again.
	ConsentRequired Kind = "consent_required"
	// ConsentRenewed: the mark was cleared, by a fresh consent or the control API.
	ConsentRenewed Kind = "consent_renewed"
	// UserChanged: a user was created.
	UserChanged Kind = "user_changed"
	// Reset: the simulator dropped all tokens and returned to its configuration.
	Reset Kind = "reset"
	// FaultAdded and FaultRemoved: a fault became active or was removed.
	FaultAdded   Kind = "fault_added"
	FaultRemoved Kind = "fault_removed"
	// FaultFired: a fault acted on a request; Fault names it and Detail says what it did.
	FaultFired Kind = "fault_fired"
)

// Outcomes of a request event.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied" // the provider refused: a 4xx answer
	OutcomeError  = "error"  // the provider failed: a 5xx answer
	OutcomeFault  = "fault"  // a fault answered in the provider's place, or no answer came
)

// Event is one entry in the log. Tokens are never recorded, only a short
// fingerprint that identifies them across events: Token names the token an
// event is about (the one minted, rotated or revoked), on a request event
// the code or token the request presented (on a token_request of the
// authorization_code grant, the code redeemed), and on a successful
// authorize_request the code it issued, which that code's token_issued event
// (token_type authorize_code) names too.
type Event struct {
	Seq       uint64     `json:"seq"`
	Time      time.Time  `json:"time"`
	Kind      Kind       `json:"kind"`
	Endpoint  string     `json:"endpoint,omitempty"`
	GrantType string     `json:"grant_type,omitempty"`
	Client    string     `json:"client,omitempty"`
	User      string     `json:"user,omitempty"`
	Family    string     `json:"family,omitempty"`
	TokenType string     `json:"token_type,omitempty"`
	Token     string     `json:"token,omitempty"`
	Parent    string     `json:"parent,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Scope is what an authorization granted, or on a successful
	// token_request what the answer granted, space-separated; offline
	// access shows as offline_access however the client asked for it, and
	// also where the provider never names it (Google's access_type=offline).
	Scope   string `json:"scope,omitempty"`
	Status  int    `json:"status,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Error   string `json:"error,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
	// RetryAt is when an answer told the client it may come back, on the
	// sim clock: from its Retry-After, or from a rate-limit reset header.
	RetryAt *time.Time `json:"retry_at,omitempty"`
	// Answered is when the answer to a request left (or the connection
	// closed without one), where that was a millisecond or more after Time,
	// when the request arrived: a latency fault, a hang or a slow handler
	// held it. How soon a client retried is measured from here.
	Answered *time.Time `json:"answered,omitempty"`
	// Fault is the id of the fault that fired, on fault_fired events and on the
	// request events of requests a fault answered, or whose answer a fault
	// dropped or made unreadable (a wrong Content-Type alone does not count).
	Fault string `json:"fault,omitempty"`
	// RequestedScope is, on a token_request of the refresh_token or
	// client_credentials grant, the scope parameter exactly as the client
	// sent it: nil when it sent none, "" when it sent it empty. A refresh
	// that leaves offline_access out of it narrows the grant (RFC 6749 §6).
	RequestedScope *string `json:"requested_scope,omitempty"`
	// PKCE is, on an authorize_request, the code_challenge_method the
	// request used: "S256", "plain" (also a challenge sent without a
	// method), or "none" when it sent no code_challenge.
	PKCE string `json:"pkce,omitempty"`
	// NonceSent is, on an authorize_request, whether the request carried a
	// non-empty nonce.
	NonceSent bool `json:"nonce_sent,omitempty"`
	// Origin is, on a request event, the Origin header the request came
	// with: a browser page's origin on its cross-origin requests, empty
	// for a request from a process, which sends none.
	Origin string `json:"origin,omitempty"`
	// CORSRefused says, on the request event of a cross-origin request,
	// why its answer carried no Access-Control-Allow-Origin, so that the
	// browser kept the page from reading it; empty when the origin was
	// allowed, or the request sent none.
	CORSRefused string `json:"cors_refused,omitempty"`
	// Owner is, on a token_request refused with RefusedWrongClient, the
	// client the presented refresh token or code was issued to. Client is
	// then the client that authenticated, and Family and User are the
	// presented grant's, so that a reader can tell whose grant it was.
	Owner string `json:"owner,omitempty"`
}

// Now is what the log stamps events with: the simulator's clock.
type Now func() time.Time

// chunkSize is how many events one block of the log holds. The log grows by
// whole blocks rather than by reallocating one slice, which under load spent
// more time copying old events than recording new ones.
const chunkSize = 4096

// Log is an append-only, concurrency-safe event log. Sequence numbers start
// at 1 and never repeat, even across Clear, so a poller using ?since=N never
// sees an old number again.
type Log struct {
	now Now

	mu     sync.RWMutex
	first  uint64 // Seq of the first event kept
	n      int    // events kept
	chunks [][]Event
	// limit, when above zero, is how many events the log keeps at least;
	// older ones are dropped a block at a time.
	limit int
}

// Now is the time the log stamps events with now.
func (l *Log) Now() time.Time { return l.now() }

// SetLimit makes the log keep only about the newest n events (between n
// and n plus one block of 4096), dropping older ones: a provider serving
// load logs several events per request, and without a limit its memory
// grows with every one. Zero keeps everything.
func (l *Log) SetLimit(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit = max(n, 0)
	l.trim()
}

// trim drops whole blocks from the front while the rest still holds the
// limit. l.mu must be held.
func (l *Log) trim() {
	for l.limit > 0 && len(l.chunks) > 1 && l.n-len(l.chunks[0]) >= l.limit {
		dropped := len(l.chunks[0])
		l.chunks[0] = nil
		l.chunks = l.chunks[1:]
		l.first += uint64(dropped)
		l.n -= dropped
	}
}

// First returns the sequence number of the oldest event kept: a poller
// whose last seen number is below First()-1 missed events to the limit.
func (l *Log) First() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.first
}

// NewLog returns an empty log that stamps events with now().
func NewLog(now Now) *Log {
	return &Log{now: now, first: 1}
}

// Emit appends e, filling in its sequence number and, when unset, its time.
func (l *Log) Emit(e Event) Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.emit(e)
}

// emit is Emit with l.mu held.
func (l *Log) emit(e Event) Event {
	// Read the clock under the lock, so that events without a time of their
	// own are in time order as well as in sequence order.
	if e.Time.IsZero() {
		e.Time = l.now()
	} else if strings.HasSuffix(string(e.Kind), "_request") {
		// A request's event is logged once it is answered, and carries the
		// time it arrived.
		if now := l.now(); now.Sub(e.Time) >= time.Millisecond {
			e.Answered = &now
		}
	}
	e.Seq = l.first + uint64(l.n)
	last := len(l.chunks) - 1
	if last < 0 || len(l.chunks[last]) == chunkSize {
		l.chunks = append(l.chunks, make([]Event, 0, chunkSize))
		last++
	}
	l.chunks[last] = append(l.chunks[last], e)
	l.n++
	if len(l.chunks[last]) == 1 {
		l.trim()
	}
	return e
}

// Since returns a copy of the events whose sequence number is greater than seq.
func (l *Log) Since(seq uint64) []Event {
	evs, _, _ := l.Page(seq, 0)
	return evs
}

// Page returns a copy of at most limit of the events whose sequence number
// is greater than seq, oldest first (all of them when limit is 0 or less),
// and First and Last as they were when it copied them. A reader of a log of
// hundreds of thousands of events copies one page at a time.
func (l *Log) Page(seq uint64, limit int) (evs []Event, first, last uint64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	start := 0
	if seq >= l.first {
		start = int(min(seq-l.first+1, uint64(l.n)))
	}
	end := l.n
	if limit > 0 {
		end = min(end, start+limit)
	}
	out := make([]Event, 0, end-start)
	for i := start; i < end; {
		chunk := l.chunks[i/chunkSize][i%chunkSize:]
		chunk = chunk[:min(len(chunk), end-i)]
		out = append(out, chunk...)
		i += len(chunk)
	}
	return out, l.first, l.first + uint64(l.n) - 1
}

// Last returns the sequence number of the newest event, or 0 when none was emitted.
func (l *Log) Last() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.first + uint64(l.n) - 1
}

// Clear drops every event but keeps the numbering going.
func (l *Log) Clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
}

// Restart drops every event, as Clear does, and appends e as the first of
// the new log in the same step: no event lands between the two, so a reader
// finds e first after the drop.
func (l *Log) Restart(e Event) Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	return l.emit(e)
}

func (l *Log) clear() {
	l.first += uint64(l.n)
	l.n = 0
	l.chunks = nil
}
