// Package simulator is a fault-injecting OAuth 2.0 / OpenID Connect provider
// for testing client token managers. A Simulator is an http.Handler, built on
// fosite, whose every expiry follows a clock you control. NewServer starts one
// on a loopback port, as httptest.NewServer does (NewTestServer, for a test):
//
//	srv, err := simulator.NewServer(simulator.WithClock(clock.NewFake(start)))
//	if err != nil {
//		return err
//	}
//	defer srv.Close()
//	grant, err := srv.MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice"})
//	if err != nil {
//		return err
//	}
//	// ... point the client under test at srv.URL with grant's tokens, then:
//	srv.AdvanceClock(61 * time.Minute) // grant.AccessToken is now dead
//
// Its methods do what the control API does, and record the same events:
// move the clock, mint grants, revoke, add faults, change clients, users and
// consents. The control API calls them; the package control is their client
// for a simulator in another process.
//
// Endpoints: /oauth2/authorize, /oauth2/token, /oauth2/revoke (RFC 7009),
// /oauth2/introspect (RFC 7662), /oauth2/userinfo, /oauth2/jwks, discovery
// at /.well-known/oauth-authorization-server (RFC 8414) and
// /.well-known/openid-configuration, a protected resource at /api/me, and
// the control API under /sim/v1/.
package simulator

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/internal/family"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Simulator is a simulated OAuth 2.0 / OpenID Connect provider.
type Simulator struct {
	cfg   options
	clock clock.Clock
	// provider is the provider's own clock: the sim clock shifted by any
	// active skew fault. Every expiry and every time a client is shown
	// follows it; events keep the unshifted sim time.
	provider clock.Clock
	// still is held for reading while a request reads the clock and for
	// writing while AdvanceClock or SetClock moves it, so that a move falls
	// between requests: fosite reads the time several times in one request,
	// and a move between two reads once made a code valid at the first
	// expired at the second (invalid_request where invalid_grant is right).
	still sync.RWMutex
	// lifetimes draws random access-token lifetimes (a profile's range, a
	// deviation fault's) from the simulator's seed.
	lifetimes *lockedRand
	events    *events.Log
	// state is the world requests work in, which Reset replaces.
	state atomic.Pointer[world]
	// tokens mints and reads tokens with one HMAC secret for every world.
	tokens tokenKeys
	// jwks is fosite's JWKS fetcher, which every world's fosite shares: each
	// one holds a cache with goroutines of its own.
	jwks fosite.JWKSFetcherStrategy
	key  func() (*signingKey, error)
	// jwtSigner signs id_tokens and reads id_token_hints, both with key.
	jwtSigner simSigner
	http      http.Handler
}

type options struct {
	clock         clock.Clock
	profile       profile.Profile
	clients       []Client
	users         []User
	issuer        string
	logger        *slog.Logger
	key           *rsa.PrivateKey
	autoApprove   bool
	remoteControl bool
	controlToken  string
	eventLimit    int
	faults        []fault.Fault
	seed          uint64
	tokenTap      func(fosite.TokenType, string)
}

// Option configures a Simulator.
type Option func(*options)

// WithClock sets the clock every expiry follows. The default is a fake clock
// standing at the moment New was called, which moves only when advanced.
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// WithProfile sets the token-lifecycle profile; the default is profile.Generic.
func WithProfile(p profile.Profile) Option { return func(o *options) { o.profile = p } }

// WithClients registers clients in addition to the demo clients; a client
// with a demo client's id replaces it.
func WithClients(c ...Client) Option { return func(o *options) { o.clients = append(o.clients, c...) } }

// WithUsers adds users to the demo users.
func WithUsers(u ...User) Option { return func(o *options) { o.users = append(o.users, u...) } }

// WithIssuer fixes the issuer URL. Without it the issuer is taken from each
// request's Host, which is right for httptest servers and loopback use.
func WithIssuer(url string) Option {
	return func(o *options) { o.issuer = strings.TrimSuffix(url, "/") }
}

// WithLogger sets where the simulator logs; the default discards.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithSigningKey sets the id_token signing key. The default is one RSA key
// generated on first use and shared within the process.
func WithSigningKey(k *rsa.PrivateKey) Option { return func(o *options) { o.key = k } }

// WithAutoApprove decides whether /oauth2/authorize signs in the user named
// by login_hint without showing the login page (default true), so that
// harnesses and scripts can complete authorization without a person.
func WithAutoApprove(on bool) Option { return func(o *options) { o.autoApprove = on } }

// WithFaults activates faults from the start, in order; Reset restores them.
func WithFaults(f ...fault.Fault) Option {
	return func(o *options) { o.faults = append(o.faults, f...) }
}

// WithSeed seeds every random choice the simulator makes outside fault
// probabilities (which carry their own seeds), such as an access-token
// lifetime drawn from a range; the default is 1, so runs repeat.
func WithSeed(seed uint64) Option { return func(o *options) { o.seed = seed } }

// WithTokenTap has tap called with every access token, refresh token and
// authorization code the simulator mints, before any client sees it. The
// event log keeps only fingerprints; a conformance harness needs the tokens
// themselves to find them leaked in a client's output. tap must be safe for
// concurrent use.
func WithTokenTap(tap func(kind fosite.TokenType, token string)) Option {
	return func(o *options) { o.tokenTap = tap }
}

// WithRemoteControl lets the control API answer requests from addresses
// other than loopback (default false). It needs WithControlToken: New
// refuses it without one, since anyone who reaches the port could
// otherwise revoke every grant and move time. The Host a remote caller
// names must still be the issuer's (WithIssuer).
func WithRemoteControl(on bool) Option { return func(o *options) { o.remoteControl = on } }

// WithControlToken makes the control API answer only requests that carry
// token as a bearer token (Authorization: Bearer token), from loopback too:
// another user or process on the machine then cannot drive it either.
// control.WithToken sends it.
func WithControlToken(token string) Option { return func(o *options) { o.controlToken = token } }

// WithEventLimit keeps only about the newest n events in the log (see
// events.Log.SetLimit); zero, the default, keeps every event. A provider
// under load for hours needs one; a test that reads the whole log does not.
func WithEventLimit(n int) Option { return func(o *options) { o.eventLimit = n } }

// New builds a simulator. It fails on an invalid profile, client or user.
func New(opts ...Option) (*Simulator, error) {
	o := options{profile: profile.Generic(), autoApprove: true, seed: 1}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		o.clock = clock.NewFake(time.Now().Truncate(time.Second))
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if err := o.profile.Validate(); err != nil {
		return nil, err
	}
	if o.remoteControl && o.controlToken == "" {
		return nil, errors.New("remote control needs a control token (WithControlToken): without one, anyone who reaches the port can revoke every grant and move time")
	}
	s := &Simulator{cfg: o, clock: o.clock, lifetimes: newLockedRand(o.seed)}
	// Faults are part of the world, and a skew fault shifts the provider's clock.
	s.provider = clock.Shifted{Clock: o.clock, Offset: func(now time.Time) time.Duration {
		if wd := s.current(); wd != nil {
			return wd.faults.Skew(now)
		}
		return 0
	}}
	s.events = events.NewLog(s.clock.Now)
	s.events.SetLimit(o.eventLimit)
	s.key = defaultKey
	if o.key != nil {
		k := newSigningKey(o.key)
		s.key = func() (*signingKey, error) { return k, nil }
	}
	s.jwtSigner = s.newSigner()
	secret, err := randomSecret(32) // fosite refuses every token request with a shorter one
	if err != nil {
		return nil, err
	}
	s.tokens, s.jwks = tokenKeys{secret: secret, signer: s.key}, fosite.NewDefaultJWKSFetcherStrategy()
	wd, err := s.newWorld()
	if err != nil {
		return nil, err
	}
	s.state.Store(wd)
	s.http = s.handler()
	return s, nil
}

// MustNew is New for tests and examples: it panics on a configuration error.
func MustNew(opts ...Option) *Simulator {
	s, err := New(opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Clock returns the clock the simulator decides expiry by. Move it with
// AdvanceClock or SetClock, which record the move in the event log.
func (s *Simulator) Clock() clock.Clock { return s.clock }

// Events returns the simulator's event log.
func (s *Simulator) Events() *events.Log { return s.events }

// EventPage is a stretch of the event log, as GET /sim/v1/events answers it.
type EventPage struct {
	// Events are the events asked for, oldest first.
	Events []events.Event `json:"events"`
	// First is the sequence number of the oldest event the log still
	// holds: a reader who asked for events after a number below First-1
	// missed some, dropped by the log's limit (WithEventLimit).
	First uint64 `json:"first"`
	// Last is the sequence number of the newest event.
	Last uint64 `json:"last"`
	// Next, when not zero, says that more events follow this page: ask for
	// the events after Next (the page's last) to read on.
	Next uint64 `json:"next,omitzero"`
}

// Sizes of a page of GET /sim/v1/events: its limit's default and maximum.
// A page of the maximum is about 3 MB of JSON.
const (
	DefaultEventsPage = 1000
	MaxEventsPage     = 10_000
)

// EventsSince returns the events after sequence number seq (all of them
// for 0).
func (s *Simulator) EventsSince(seq uint64) EventPage { return s.EventsPage(seq, 0) }

// EventsPage returns at most limit of the events after sequence number seq
// (all of them for a limit of 0 or less); Next says where the following
// page starts.
func (s *Simulator) EventsPage(seq uint64, limit int) EventPage {
	evs, first, last := s.events.Page(seq, limit)
	page := EventPage{Events: evs, First: first, Last: last}
	if n := len(evs); n > 0 && evs[n-1].Seq < last {
		page.Next = evs[n-1].Seq
	}
	return page
}

// Families lists every token family, oldest first, with its state and
// token counts at the current sim time.
func (s *Simulator) Families() []FamilyInfo { return s.current().store.Families() }

// Profile returns the token-lifecycle profile in force.
func (s *Simulator) Profile() profile.Profile { return s.cfg.profile }

// ServeHTTP implements http.Handler. Faults that close the connection
// (reset, hang, drop_after_commit) need one: a request handed to ServeHTTP
// in-process, with no server behind it, gets no response written.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.http.ServeHTTP(w, r) }

// Server is a simulator listening on a loopback port, in the manner of
// httptest.Server.
type Server struct {
	*Simulator
	// URL is the issuer, e.g. http://127.0.0.1:54321.
	URL string
	srv *httptest.Server
}

// NewServer starts a simulator on a random loopback port with its issuer set
// to the server's URL.
func NewServer(opts ...Option) (*Server, error) {
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	sim, err := New(append(opts, WithIssuer(url))...)
	if err != nil {
		srv.Close()
		return nil, err
	}
	srv.Config.Handler = sim
	srv.Start()
	return &Server{Simulator: sim, URL: url, srv: srv}, nil
}

// TB is what NewTestServer needs of a test: testing.TB's, or Ginkgo's
// GinkgoT(). It is an interface of its own so that the package does not
// import testing.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// NewTestServer starts a simulator as NewServer does, for a test: the test
// fails at once when the simulator cannot start, and the server is closed
// when the test ends, its connections cut first, so that a request a hang
// or latency fault still holds does not keep the test waiting.
//
//	srv := simulator.NewTestServer(t, simulator.WithProfile(p))
//	// point the client under test at srv.URL
func NewTestServer(t TB, opts ...Option) *Server {
	t.Helper()
	srv, err := NewServer(opts...)
	if err != nil {
		t.Fatalf("start the simulator: %v", err)
		return nil
	}
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

// CloseClientConnections closes every client connection at once, which
// also ends requests a hang or latency fault is holding: Close would
// otherwise wait them out.
func (s *Server) CloseClientConnections() { s.srv.CloseClientConnections() }

// Close shuts the server down, waiting for requests in flight.
func (s *Server) Close() { s.srv.Close() }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

type issuerKey struct{}

// issuerFrom returns the issuer URL the current request is served under.
func issuerFrom(ctx context.Context) string {
	iss, _ := ctx.Value(issuerKey{}).(string)
	return iss
}

func (s *Simulator) issuerFor(r *http.Request) string {
	if s.cfg.issuer != "" {
		return s.shapeIssuer(s.cfg.issuer)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return s.shapeIssuer(scheme + "://" + r.Host)
}

// randomSecret returns n random bytes.
func randomSecret(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("read random bytes: %w", err)
	}
	return b, nil
}

// FamilyInfo describes a token family: one authorization's grant, with
// its refresh and access tokens counted and whether and why it was revoked.
// The token store that keeps families is internal; this is what it shows.
type FamilyInfo = family.Info
