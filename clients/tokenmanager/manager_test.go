package tokenmanager_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/jonboulle/clockwork"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/refapp"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

var epoch = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// rig is a simulator and the reference token manager on one fake clock.
type rig struct {
	srv   *simulator.Server
	clock *clockwork.FakeClock
	http  *http.Client
	// sent records the token requests the managers send, and can doctor
	// the answers they get.
	sent   *wire
	store  tokenmanager.Store
	secret atomic.Value // the client secret the manager reads
	logs   *syncBuffer
	m      *tokenmanager.Manager
	// build makes a manager from a configuration: the reference's New, or a
	// mutant's.
	build func(tokenmanager.Config) (*tokenmanager.Manager, error)
}

func newRig(p profile.Profile, tune ...func(*tokenmanager.Config)) *rig {
	GinkgoHelper()
	return newRigWith(tokenmanager.New, p, tune...)
}

func newRigWith(build func(tokenmanager.Config) (*tokenmanager.Manager, error), p profile.Profile, tune ...func(*tokenmanager.Config)) *rig {
	GinkgoHelper()
	fake := clock.NewFake(epoch)
	srv, err := simulator.NewServer(simulator.WithClock(fake), simulator.WithProfile(p))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	// A copy: the server's own client stays as it was.
	client := *srv.Client()
	r := &rig{srv: srv, clock: fake, http: &client, sent: &wire{next: client.Transport}, store: tokenmanager.NewMemoryStore(), logs: &syncBuffer{}, build: build}
	r.http.Transport = r.sent
	r.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r.secret.Store("demo-secret")
	r.m = r.manager(tune...)
	return r
}

// manager builds a manager on the rig's store, as a process would at start.
func (r *rig) manager(tune ...func(*tokenmanager.Config)) *tokenmanager.Manager {
	GinkgoHelper()
	offline := tokenmanager.OfflineScope
	if r.srv.Profile().OfflineAccess == profile.OfflineAccessType {
		offline = tokenmanager.OfflineAccessType
	}
	cfg := tokenmanager.Config{
		Endpoints: tokenmanager.Endpoints{
			Authorize: r.srv.URL + simulator.PathAuthorize, Token: r.srv.URL + simulator.PathToken, Revoke: r.srv.URL + simulator.PathRevoke,
			Issuer: r.srv.URL, JWKS: r.srv.URL + simulator.PathJWKS,
		},
		ClientID:     "demo",
		ClientSecret: func(context.Context) (string, error) { return r.secret.Load().(string), nil },
		RedirectURL:  simulator.DemoRedirectURI,
		Scopes:       []string{"openid", "api"},
		Offline:      offline,
		Store:        r.store,
		Key:          "alice",
		Clock:        r.clock,
		HTTPClient:   r.http,
		Logger:       slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, t := range tune {
		t(&cfg)
	}
	m, err := r.build(cfg)
	Expect(err).NotTo(HaveOccurred())
	return m
}

// process builds a manager on a FileStore of its own on dir, as a process
// sharing the directory, or one restarted on it, would; the rig's store is
// that FileStore from then on.
func (r *rig) process(dir string, tune ...func(*tokenmanager.Config)) *tokenmanager.Manager {
	GinkgoHelper()
	keys, err := tokenmanager.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	Expect(err).NotTo(HaveOccurred())
	fs, err := tokenmanager.NewFileStore(dir, keys)
	Expect(err).NotTo(HaveOccurred())
	r.store = fs
	return r.manager(tune...)
}

// authorize runs the authorization code flow for alice through m.
func (r *rig) authorize(m *tokenmanager.Manager) tokenmanager.Token {
	GinkgoHelper()
	auth, code := r.consent(m, nil)
	t, err := m.Exchange(context.Background(), code, auth)
	Expect(err).NotTo(HaveOccurred())
	Expect(t.RefreshToken).NotTo(BeEmpty())
	return t
}

// consent starts an authorization through m and has alice's browser open
// it, after tamper (when not nil) changed its parameters; it returns the
// authorization and the code the provider redirected back with.
func (r *rig) consent(m *tokenmanager.Manager, tamper func(url.Values)) (tokenmanager.Authorization, string) {
	GinkgoHelper()
	auth, err := m.AuthCodeURL("state-12345678", url.Values{"login_hint": {"alice"}})
	Expect(err).NotTo(HaveOccurred())
	u, err := url.Parse(auth.URL)
	Expect(err).NotTo(HaveOccurred())
	if tamper != nil {
		q := u.Query()
		tamper(q)
		u.RawQuery = q.Encode()
	}
	resp, err := r.http.Get(u.String())
	Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusSeeOther))
	loc, err := url.Parse(resp.Header.Get("Location"))
	Expect(err).NotTo(HaveOccurred())
	Expect(loc.Query().Get("error")).To(BeEmpty(), loc.Query().Get("error_description"))
	Expect(loc.Query().Get("state")).To(Equal(auth.State))
	return auth, loc.Query().Get("code")
}

// app is the reference application (clients/refapp) on the rig's
// simulator and clock, its manager made by build; tune changes its
// settings first.
func (r *rig) app(build func(tokenmanager.Config) (*tokenmanager.Manager, error), tune ...func(*refapp.Settings)) *refapp.App {
	GinkgoHelper()
	s := refapp.Settings{
		Issuer: r.srv.URL, ClientID: "demo", RedirectURI: simulator.DemoRedirectURI, Scopes: []string{"openid", "api"},
		Resource: r.srv.URL + simulator.PathResourceMe, StateDir: GinkgoT().TempDir(),
		Secret:   func() (string, error) { return r.secret.Load().(string), nil },
		Provider: tokenmanager.Provider{Rotates: true},
		Clock:    r.clock, HTTP: r.http,
		Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, t := range tune {
		t(&s)
	}
	app, err := refapp.New(ctx, s, build)
	Expect(err).NotTo(HaveOccurred())
	return app
}

// redirect starts an authorization in app and returns the provider's
// redirect back to it, with alice signed in.
func (r *rig) redirect(app *refapp.App) string {
	GinkgoHelper()
	u, err := app.AuthorizationURL()
	Expect(err).NotTo(HaveOccurred())
	resp, err := r.http.Get(u + "&login_hint=alice")
	Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusSeeOther))
	return resp.Header.Get("Location")
}

func (r *rig) advance(d time.Duration) { r.clock.Advance(d) }

// fault adds a fault, written as scenario files and the control API write
// one: its JSON fields, strictly, so that a misspelt one fails the spec.
func (r *rig) fault(spec map[string]any) {
	GinkgoHelper()
	b, err := json.Marshal(spec)
	Expect(err).NotTo(HaveOccurred())
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f fault.Fault
	Expect(dec.Decode(&f)).To(Succeed())
	_, err = r.srv.AddFault(f)
	Expect(err).NotTo(HaveOccurred())
}

// revoke revokes alice's grants at the provider with reason (the
// default, admin, when empty).
func (r *rig) revoke(reason string) {
	GinkgoHelper()
	_, err := r.srv.Revoke(simulator.Revocation{User: "alice", Reason: reason})
	Expect(err).NotTo(HaveOccurred())
}

// rotateSecret gives demo the secret "rotated", refusing the old one at once.
func (r *rig) rotateSecret() {
	GinkgoHelper()
	_, err := r.srv.RotateClientSecret("demo", simulator.SecretRotation{Secret: "rotated"})
	Expect(err).NotTo(HaveOccurred())
}

// refreshes counts the refresh-grant requests the provider saw or a fault answered.
func (r *rig) refreshes() int {
	return r.count(func(e events.Event) bool { return e.Kind == events.TokenRequest && e.GrantType == "refresh_token" })
}

// count counts events matching keep.
func (r *rig) count(keep func(events.Event) bool) int {
	n := 0
	for _, e := range r.srv.Events().Since(0) {
		if keep(e) {
			n++
		}
	}
	return n
}

// concurrently asks m for a token from n callers at once.
func concurrently(m *tokenmanager.Manager, n int) ([]tokenmanager.Token, []error) {
	tokens, errs := make([]tokenmanager.Token, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { tokens[i], errs[i] = m.Token(ctx) })
	}
	wg.Wait()
	return tokens, errs
}

func (r *rig) me(m *tokenmanager.Manager) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, r.srv.URL+simulator.PathResourceMe, nil)
	resp, err := m.Do(context.Background(), req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func withRefresh(change func(*profile.Refresh)) profile.Profile {
	p := profile.Generic()
	change(&p.Refresh)
	return p
}

var ctx = context.Background()

// syncBuffer is a log destination several managers (processes) may write
// to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

var _ = Describe("The reference token manager", func() {
	Describe("refreshing", func() {
		It("refreshes ahead of expiry, once, and not before the margin", func() {
			r := newRig(profile.Generic())
			first := r.authorize(r.m)
			r.advance(54 * time.Minute)
			t, err := r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(t.AccessToken).To(Equal(first.AccessToken))
			Expect(r.refreshes()).To(BeZero(), "six minutes before expiry is outside the five-minute margin")
			r.advance(2 * time.Minute)
			t, err = r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(t.AccessToken).NotTo(Equal(first.AccessToken))
			Expect(t.Expiry).To(Equal(r.clock.Now().Add(time.Hour)))
			for range 5 {
				_, err = r.m.Token(ctx)
				Expect(err).NotTo(HaveOccurred())
			}
			Expect(r.refreshes()).To(Equal(1))
			status, err := r.me(r.m)
			Expect(err).NotTo(HaveOccurred())
			Expect(status).To(Equal(http.StatusOK))
		})

		It("refreshes once for many concurrent callers and shares the result", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			r.advance(58 * time.Minute)
			tokens, errs := concurrently(r.m, 50)
			Expect(errs).To(HaveEach(Succeed()))
			Expect(r.refreshes()).To(Equal(1))
			Expect(tokens).To(HaveEach(tokens[0]))
		})

		DescribeTable("shares one refresh's failure with every waiter",
			func(failure map[string]any, at time.Duration, want any) {
				r := newRig(profile.Generic())
				r.authorize(r.m)
				r.fault(map[string]any{"kind": "latency", "delay": "100ms", "match": map[string]any{"endpoint": "token"}})
				r.fault(failure)
				r.advance(at)
				_, errs := concurrently(r.m, 20)
				for _, err := range errs {
					Expect(err).To(BeAssignableToTypeOf(want), "%v", err)
				}
				Expect(r.refreshes()).To(Equal(1))
			},
			Entry("a dead grant", map[string]any{"kind": "error", "oauth_error": "invalid_grant", "match": map[string]any{"endpoint": "token"}},
				58*time.Minute, &tokenmanager.ReauthorizationRequired{}),
			Entry("a transient failure, once the access token has expired", map[string]any{"kind": "error", "status": 503, "match": map[string]any{"endpoint": "token"}},
				61*time.Minute, &tokenmanager.TemporaryError{}),
		)

		It("gives up waiting when the caller does, while the refresh goes on", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			r.fault(map[string]any{"kind": "latency", "delay": "500ms", "match": map[string]any{"endpoint": "token"}})
			r.advance(61 * time.Minute)
			short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			_, err := r.m.Token(short)
			Expect(err).To(MatchError(context.DeadlineExceeded))
			Eventually(func() error { _, err := r.m.Token(ctx); return err }).Should(Succeed())
			Expect(r.refreshes()).To(Equal(1))
		})

		It("stores a rotated refresh token before handing out the new access token", func() {
			r := newRig(profile.Generic())
			first := r.authorize(r.m)
			r.advance(58 * time.Minute)
			t, err := r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			stored, err := r.store.Load(ctx, "alice")
			Expect(err).NotTo(HaveOccurred())
			Expect(stored.RefreshToken).To(Equal(t.RefreshToken))
			Expect(stored.RefreshToken).NotTo(Equal(first.RefreshToken))
			Expect(stored.AccessToken).To(Equal(t.AccessToken))
		})

		It("keeps the refresh token it has when a refresh answer carries none", func() {
			r := newRig(profile.Generic())
			first := r.authorize(r.m)
			r.fault(map[string]any{"kind": "deviation", "deviation": "no_refresh_token", "match": map[string]any{"count": 1}})
			r.advance(58 * time.Minute)
			_, err := r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			stored, _ := r.store.Load(ctx, "alice")
			Expect(stored.RefreshToken).To(Equal(first.RefreshToken))
			r.advance(58 * time.Minute)
			_, err = r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred(), "the kept token still works")
		})

		It("survives a restart from its store", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			r.advance(58 * time.Minute)
			restarted := r.manager()
			t, err := restarted.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.refreshes()).To(Equal(1))
			status, err := r.me(restarted)
			Expect(err).NotTo(HaveOccurred())
			Expect(status).To(Equal(http.StatusOK))
			Expect(t.GrantedAt).To(Equal(epoch))
		})

		It("refreshes once across processes that share an encrypted file store", func() {
			r := newRig(profile.Generic())
			dir := GinkgoT().TempDir()
			a, b := r.process(dir), r.process(dir)
			r.authorize(a)
			r.fault(map[string]any{"kind": "latency", "delay": "200ms", "match": map[string]any{"grant_type": "refresh_token"}})
			r.advance(58 * time.Minute)
			var wg sync.WaitGroup
			got := make([]string, 2)
			for i, m := range []*tokenmanager.Manager{a, b} {
				wg.Go(func() {
					defer GinkgoRecover()
					t, err := m.Token(ctx)
					Expect(err).NotTo(HaveOccurred())
					got[i] = t.AccessToken
				})
			}
			wg.Wait()
			Expect(r.refreshes()).To(Equal(1))
			Expect(got[0]).To(Equal(got[1]))
		})

		It("reads expires_in however it is written, and uses a token without one until it is refused", func() {
			r := newRig(profile.Generic())
			r.fault(map[string]any{"kind": "deviation", "deviation": "expires_in_string", "match": map[string]any{"count": 1}})
			t := r.authorize(r.m)
			Expect(t.Expiry).To(Equal(epoch.Add(time.Hour)))
			r.fault(map[string]any{"kind": "deviation", "deviation": "expires_in_missing"})
			r.advance(58 * time.Minute)
			t, err := r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(t.Expiry.IsZero()).To(BeTrue())
			r.advance(2 * time.Hour)
			status, err := r.me(r.m)
			Expect(err).NotTo(HaveOccurred())
			Expect(status).To(Equal(http.StatusOK), "the 401 made it refresh and retry")
			Expect(r.refreshes()).To(Equal(2))
		})
	})

	Describe("a lost refresh answer", func() {
		// lose has m refresh once its access token has expired, and lose the
		// answer, which the provider served (rotating the refresh token); it
		// ends when m's backoff does.
		lose := func(r *rig, m *tokenmanager.Manager) {
			GinkgoHelper()
			r.fault(map[string]any{"kind": "drop_after_commit", "match": map[string]any{"endpoint": "token", "grant_type": "refresh_token", "count": 1}})
			r.advance(61 * time.Minute)
			_, err := m.Token(ctx)
			var temp *tokenmanager.TemporaryError
			Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
			r.advance(temp.RetryAfter)
		}

		It("is retried with the same token inside the provider's grace window", func() {
			r := newRig(withRefresh(func(rf *profile.Refresh) {
				rf.Rotation, rf.Grace = profile.RotationRotateWithGrace, profile.Duration(30*time.Second)
			}), func(c *tokenmanager.Config) { c.LostRefreshGrace = 30 * time.Second })
			r.authorize(r.m)
			lose(r, r.m)
			_, err := r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.refreshes()).To(Equal(2))
		})

		It("is reported as reuse when the provider's grace window was shorter than the client thought", func() {
			r := newRig(withRefresh(func(rf *profile.Refresh) {
				rf.Rotation, rf.Grace = profile.RotationRotateWithGrace, profile.Duration(5*time.Second)
			}), func(c *tokenmanager.Config) { c.LostRefreshGrace = 30 * time.Second })
			r.authorize(r.m)
			lose(r, r.m)
			r.advance(10 * time.Second)
			_, err := r.m.Token(ctx)
			var dead *tokenmanager.ReauthorizationRequired
			Expect(errors.As(err, &dead)).To(BeTrue(), "%v", err)
			Expect(dead.Reason).To(Equal(contract.ReasonReuseDetected))
		})

		It("is never retried after it: the grant is reported lost without another request", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			lose(r, r.m)
			_, err := r.m.Token(ctx)
			var dead *tokenmanager.ReauthorizationRequired
			Expect(errors.As(err, &dead)).To(BeTrue(), "%v", err)
			Expect(dead.Reason).To(Equal(contract.ReasonLostRefresh))
			Expect(r.refreshes()).To(Equal(1))
			Expect(r.srv.Events().Since(0)).NotTo(ContainElement(HaveField("Kind", events.RefreshReuseDetected)))
		})

		// The manager that loses the answer, and the one that comes to the
		// token after it: in its place after a restart, over a store that
		// outlives the process, or beside it in another process sharing a
		// FileStore.
		restartedInMemory := func(r *rig) (*tokenmanager.Manager, func() *tokenmanager.Manager) {
			return r.m, func() *tokenmanager.Manager { return r.manager() }
		}
		restartedOnFiles := func(r *rig) (*tokenmanager.Manager, func() *tokenmanager.Manager) {
			dir := GinkgoT().TempDir()
			return r.process(dir), func() *tokenmanager.Manager { return r.process(dir) }
		}
		otherProcess := func(r *rig) (*tokenmanager.Manager, func() *tokenmanager.Manager) {
			dir := GinkgoT().TempDir()
			a, b := r.process(dir), r.process(dir)
			return a, func() *tokenmanager.Manager { return b }
		}

		DescribeTable("is known to a manager that did not send it, which does not send the superseded token either",
			func(managers func(*rig) (*tokenmanager.Manager, func() *tokenmanager.Manager)) {
				r := newRig(profile.Generic())
				first, next := managers(r)
				r.authorize(first)
				lose(r, first)
				_, err := next().Token(ctx)
				outcome, reason := tokenmanager.Outcome(err)
				Expect([]any{outcome, reason}).To(Equal([]any{contract.OutcomeReauthorize, contract.ReasonLostRefresh}), "%v", err)
				Expect(r.refreshes()).To(Equal(1), "the superseded refresh token went again")
				Expect(r.count(reuseDetected)).To(BeZero())
			},
			Entry("restarted over a memory store", restartedInMemory),
			Entry("restarted over an encrypted file store", restartedOnFiles),
			Entry("another process sharing the file store", otherProcess),
		)

		It("is retried by a restarted manager inside the provider's grace window", func() {
			r := newRig(withRefresh(func(rf *profile.Refresh) {
				rf.Rotation, rf.Grace = profile.RotationRotateWithGrace, profile.Duration(30*time.Second)
			}), func(c *tokenmanager.Config) { c.LostRefreshGrace = 30 * time.Second })
			r.authorize(r.m)
			lose(r, r.m)
			restarted := r.manager(func(c *tokenmanager.Config) { c.LostRefreshGrace = 30 * time.Second })
			_, err := restarted.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.refreshes()).To(Equal(2))
			Expect(r.count(func(e events.Event) bool { return e.Kind == events.RefreshGraceReuse })).To(Equal(1))
		})
	})

	Describe("an unreadable success answer to a refresh", func() {
		DescribeTable("counts as a lost answer: the rotated-away token is not sent again outside a grace window",
			func(mode string) {
				r := newRig(profile.Generic())
				r.authorize(r.m)
				r.fault(map[string]any{"kind": "malformed", "mode": mode, "match": map[string]any{"grant_type": "refresh_token", "count": 1}})
				r.advance(61 * time.Minute)
				_, err := r.m.Token(ctx)
				var temp *tokenmanager.TemporaryError
				Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
				r.advance(temp.RetryAfter)
				_, err = r.m.Token(ctx)
				var dead *tokenmanager.ReauthorizationRequired
				Expect(errors.As(err, &dead)).To(BeTrue(), "%v", err)
				Expect(dead.Reason).To(Equal(contract.ReasonLostRefresh))
				Expect(r.refreshes()).To(Equal(1))
				Expect(r.count(reuseDetected)).To(BeZero())
			},
			Entry("truncated", "truncate"),
			Entry("not JSON", "not_json"),
			Entry("empty", "empty"),
		)
	})

	Describe("a dead grant", func() {
		DescribeTable("is terminal, with the reason, and no refresh follows",
			func(name string, kill func(r *rig), reason contract.Reason) {
				p, ok := profile.Lookup(name)
				Expect(ok).To(BeTrue())
				r := newRig(p)
				r.authorize(r.m)
				kill(r)
				_, err := r.m.Token(ctx)
				var dead *tokenmanager.ReauthorizationRequired
				Expect(errors.As(err, &dead)).To(BeTrue(), "%v", err)
				Expect(dead.Reason).To(Equal(reason))
				sent := r.refreshes()
				for range 3 {
					_, err = r.m.Token(ctx)
					Expect(errors.As(err, &dead)).To(BeTrue())
				}
				Expect(r.refreshes()).To(Equal(sent))
				_, err = r.store.Load(ctx, "alice")
				Expect(err).To(MatchError(tokenmanager.ErrNoToken), "a restart must not try the dead grant again")
			},
			Entry("revoked (generic)", "generic", func(r *rig) {
				r.revoke("password_change")
				r.advance(58 * time.Minute)
			}, contract.ReasonRevoked),
			Entry("with the error in an HTTP 200 (github: \"incorrect or expired\")", "github", func(r *rig) {
				r.revoke("")
				r.advance(8 * time.Hour)
			}, contract.ReasonExpired),
			Entry("revoked by the user (google)", "google", func(r *rig) {
				r.revoke("")
				r.advance(2 * time.Hour)
			}, contract.ReasonRevoked),
		)

		It("names a testing app's seven-day death (google)", func() {
			google, _ := profile.Lookup("google")
			r := newRig(google)
			_, err := r.srv.SetPublishingStatus("demo", simulator.PublishingTesting)
			Expect(err).NotTo(HaveOccurred())
			r.authorize(r.m)
			r.advance(7*24*time.Hour + time.Hour)
			_, err = r.m.Token(ctx)
			var dead *tokenmanager.ReauthorizationRequired
			Expect(errors.As(err, &dead)).To(BeTrue(), "%v", err)
			Expect(dead.Reason).To(Equal(contract.ReasonTestingApp))
			Expect(dead.Description).To(Equal("Token has been expired or revoked."))
		})

		It("tells Entra's step-up and throttling inside invalid_grant from a dead grant", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			r.fault(map[string]any{"kind": "error", "status": 400, "match": map[string]any{"count": 1},
				"body": `{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change ...","error_codes":[50076],"suberror":"basic_action"}`})
			r.advance(58 * time.Minute)
			_, err := r.m.Token(ctx)
			var step *tokenmanager.InteractionRequired
			Expect(errors.As(err, &step)).To(BeTrue(), "%v", err)
			r.fault(map[string]any{"kind": "error", "status": 400, "match": map[string]any{"count": 1},
				"body": `{"error":"invalid_grant","error_description":"AADSTS50196: The server terminated an operation because it encountered a client request loop."}`})
			r.advance(4 * time.Minute)
			_, err = r.m.Token(ctx)
			var temp *tokenmanager.TemporaryError
			Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
			_, err = r.store.Load(ctx, "alice")
			Expect(err).NotTo(HaveOccurred(), "neither killed the grant")
		})

		It("reads Google's invalid_rapt in the description alone as a step-up, as libraries that drop error_subtype pass it on", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			r.fault(map[string]any{"kind": "error", "status": 400, "match": map[string]any{"count": 1},
				"body": `{"error":"invalid_grant","error_description":"reauth related error (invalid_rapt)"}`})
			r.advance(58 * time.Minute)
			_, err := r.m.Token(ctx)
			var step *tokenmanager.InteractionRequired
			Expect(errors.As(err, &step)).To(BeTrue(), "%v", err)
			_, err = r.store.Load(ctx, "alice")
			Expect(err).NotTo(HaveOccurred(), "the grant lives")
			outcome, _ := tokenmanager.TokenErrorOutcome(0, []byte(`{"error":"invalid_grant","error_description":"reauth related error (invalid_rapt)"}`), 0)
			Expect(outcome).To(Equal(contract.OutcomeInteractionRequired), "without the status either")
		})

		It("tells a step-up from a dead grant, and keeps the tokens", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			r.fault(map[string]any{"kind": "error", "situation": "interaction_required", "match": map[string]any{"count": 1}})
			r.advance(58 * time.Minute)
			_, err := r.m.Token(ctx)
			var step *tokenmanager.InteractionRequired
			Expect(errors.As(err, &step)).To(BeTrue(), "%v", err)
			_, err = r.store.Load(ctx, "alice")
			Expect(err).NotTo(HaveOccurred())
		})
	})

	Describe("client secrets", func() {
		It("reads a rotated secret again after invalid_client, keeping the user's tokens", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			r.rotateSecret()
			r.advance(58 * time.Minute)
			_, err := r.m.Token(ctx)
			var conf *tokenmanager.ConfigurationError
			Expect(errors.As(err, &conf)).To(BeTrue(), "%v", err)
			Expect(conf.Code).To(Equal("invalid_client"))
			_, err = r.store.Load(ctx, "alice")
			Expect(err).NotTo(HaveOccurred(), "the user's grant is not the problem")
			Expect(r.refreshes()).To(Equal(1), "the same secret is not sent twice")
			r.secret.Store("rotated")
			r.advance(time.Minute) // past the backoff
			t, err := r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.refreshes()).To(Equal(2))
			Expect(t.Expiry).To(Equal(r.clock.Now().Add(time.Hour)), "a new access token")
		})
	})

	Describe("backing off", func() {
		It("sends nothing before Retry-After, in seconds or as a date, and keeps the refresh token", func() {
			r := newRig(profile.Generic())
			first := r.authorize(r.m)
			r.fault(map[string]any{"kind": "rate_limit", "retry_after": "120s", "match": map[string]any{"grant_type": "refresh_token", "count": 1}})
			r.fault(map[string]any{"kind": "rate_limit", "retry_after": "300s", "retry_after_format": "http_date", "match": map[string]any{"grant_type": "refresh_token", "count": 1}})
			r.advance(56 * time.Minute)
			t, err := r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred(), "the access token is still good while the refresh waits")
			Expect(t.AccessToken).To(Equal(first.AccessToken))
			Expect(r.refreshes()).To(Equal(1))
			r.advance(119 * time.Second)
			_, err = r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.refreshes()).To(Equal(1), "Retry-After: 120 has not passed")
			r.advance(time.Second)
			_, err = r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.refreshes()).To(Equal(2), "limited again, now with an HTTP-date 300 s ahead")
			r.advance(2 * time.Minute) // the access token has expired
			_, err = r.m.Token(ctx)
			var temp *tokenmanager.TemporaryError
			Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
			Expect(temp.RetryAfter).To(Equal(3 * time.Minute))
			Expect(r.refreshes()).To(Equal(2))
			stored, _ := r.store.Load(ctx, "alice")
			Expect(stored.RefreshToken).To(Equal(first.RefreshToken))
			r.advance(3 * time.Minute)
			_, err = r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.refreshes()).To(Equal(3))
		})

		It("backs off exponentially, with a cap, on 5xx without Retry-After", func() {
			r := newRig(profile.Generic(), func(c *tokenmanager.Config) { c.BackoffMax = 8 * time.Second })
			r.authorize(r.m)
			r.fault(map[string]any{"kind": "error", "status": 503, "match": map[string]any{"grant_type": "refresh_token"}})
			r.advance(61 * time.Minute)
			var waits []time.Duration
			for range 6 {
				_, err := r.m.Token(ctx)
				var temp *tokenmanager.TemporaryError
				Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
				waits = append(waits, temp.RetryAfter)
				r.advance(temp.RetryAfter)
			}
			Expect(waits[0]).To(And(BeNumerically(">=", 500*time.Millisecond), BeNumerically("<=", time.Second)))
			Expect(waits[3]).To(And(BeNumerically(">=", 4*time.Second), BeNumerically("<=", 8*time.Second)))
			Expect(waits[5]).To(BeNumerically("<=", 8*time.Second))
			Expect(r.refreshes()).To(Equal(6))
		})
	})

	Describe("backing off across restarts and processes", func() {
		// The stores a restarted manager may find its predecessor's backoff
		// in: each "restart" opens the store anew where it outlives a process.
		inMemory := func(r *rig) func() *tokenmanager.Manager {
			return func() *tokenmanager.Manager { return r.manager() }
		}
		inFiles := func(r *rig) func() *tokenmanager.Manager {
			dir := GinkgoT().TempDir()
			return func() *tokenmanager.Manager { return r.process(dir) }
		}

		DescribeTable("a manager started in the middle of a Retry-After sends nothing before it ends",
			func(opener func(*rig) func() *tokenmanager.Manager) {
				r := newRig(profile.Generic())
				start := opener(r)
				a := start()
				r.authorize(a)
				r.fault(map[string]any{"kind": "rate_limit", "retry_after": "600s", "match": map[string]any{"grant_type": "refresh_token", "count": 1}})
				r.advance(61 * time.Minute)
				_, err := a.Token(ctx)
				var temp *tokenmanager.TemporaryError
				Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
				Expect(temp.RetryAfter).To(Equal(10 * time.Minute))
				Expect(r.refreshes()).To(Equal(1))

				By("a new manager on the same store, two minutes into the ten")
				r.advance(2 * time.Minute)
				b := start()
				_, err = b.Token(ctx)
				Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
				Expect(temp.RetryAfter).To(Equal(8 * time.Minute))
				Expect(tokenmanager.Outcome(err)).To(Equal(contract.OutcomeTemporaryError))
				_, err = r.me(b)
				Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
				Expect(r.refreshes()).To(Equal(1), "the restarted manager sent a refresh inside Retry-After")

				By("the new manager once Retry-After has passed")
				r.advance(8 * time.Minute)
				status, err := r.me(b)
				Expect(err).NotTo(HaveOccurred())
				Expect(status).To(Equal(http.StatusOK))
				Expect(r.refreshes()).To(Equal(2))

				By("the next manager, which finds no backoff left after the success")
				r.advance(58 * time.Minute)
				_, err = start().Token(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(r.refreshes()).To(Equal(3))
			},
			Entry("in a memory store", inMemory),
			Entry("in an encrypted file store", inFiles),
		)

		It("holds back every process sharing a file store, which serve the access token while it lasts", func() {
			r := newRig(profile.Generic())
			dir := GinkgoT().TempDir()
			a, b := r.process(dir), r.process(dir)
			first := r.authorize(a)
			t, err := b.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(t.AccessToken).To(Equal(first.AccessToken))
			r.fault(map[string]any{"kind": "rate_limit", "retry_after": "600s", "match": map[string]any{"grant_type": "refresh_token", "count": 1}})
			r.advance(56 * time.Minute)
			t, err = a.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(t.AccessToken).To(Equal(first.AccessToken))
			Expect(r.refreshes()).To(Equal(1))

			By("the other process, inside its refresh margin, serving the access token it has")
			r.advance(2 * time.Minute)
			t, err = b.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(t.AccessToken).To(Equal(first.AccessToken))
			Expect(r.refreshes()).To(Equal(1), "the other process refreshed inside the first one's Retry-After")

			By("both, once the access token has expired")
			r.advance(3 * time.Minute)
			for _, m := range []*tokenmanager.Manager{a, b} {
				_, err = m.Token(ctx)
				var temp *tokenmanager.TemporaryError
				Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
				Expect(temp.RetryAfter).To(Equal(5 * time.Minute))
			}
			Expect(r.refreshes()).To(Equal(1))

			By("both, once Retry-After has passed: one refresh, which the other process finds")
			r.advance(5 * time.Minute)
			got, err := b.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.AccessToken).NotTo(Equal(first.AccessToken))
			t, err = a.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(t.AccessToken).To(Equal(got.AccessToken))
			Expect(r.refreshes()).To(Equal(2))
		})

		It("keeps counting failures for the exponential backoff across a restart", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			r.fault(map[string]any{"kind": "error", "status": 503, "match": map[string]any{"grant_type": "refresh_token"}})
			r.advance(61 * time.Minute)
			var temp *tokenmanager.TemporaryError
			for i := range 3 {
				_, err := r.m.Token(ctx)
				Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
				if i < 2 {
					r.advance(temp.RetryAfter)
				}
			}
			Expect(r.refreshes()).To(Equal(3))
			third := temp.RetryAfter

			By("a restart during the third failure's backoff")
			restarted := r.manager()
			_, err := restarted.Token(ctx)
			Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
			Expect(temp.RetryAfter).To(Equal(third))
			Expect(r.refreshes()).To(Equal(3), "the restarted manager did not wait out the backoff")

			By("the fourth failure, which backs off as a fourth, not a first")
			r.advance(third)
			_, err = restarted.Token(ctx)
			Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
			Expect(temp.RetryAfter).To(And(BeNumerically(">=", 4*time.Second), BeNumerically("<=", 8*time.Second)))
			Expect(r.refreshes()).To(Equal(4))
		})

		It("tells another process waiting out the hold after a step-up of the step-up", func() {
			r := newRig(profile.Generic())
			dir := GinkgoT().TempDir()
			a, b := r.process(dir), r.process(dir)
			r.authorize(a)
			r.fault(map[string]any{"kind": "error", "situation": "interaction_required", "match": map[string]any{"grant_type": "refresh_token", "count": 1}})
			r.advance(61 * time.Minute)
			_, err := a.Token(ctx)
			Expect(tokenmanager.Outcome(err)).To(Equal(contract.OutcomeInteractionRequired), "%v", err)
			_, err = b.Token(ctx)
			Expect(tokenmanager.Outcome(err)).To(Equal(contract.OutcomeInteractionRequired), "%v", err)
			Expect(r.refreshes()).To(Equal(1))
		})
	})

	Describe("the API call", func() {
		It("refreshes and retries once after a 401", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			r.fault(map[string]any{"kind": "error", "status": 401, "oauth_error": "invalid_token", "match": map[string]any{"endpoint": "resource", "count": 1}})
			status, err := r.me(r.m)
			Expect(err).NotTo(HaveOccurred())
			Expect(status).To(Equal(http.StatusOK))
			Expect(r.refreshes()).To(Equal(1))
		})

		It("lets a second 401 stand, after one refresh", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			r.fault(map[string]any{"kind": "error", "status": 401, "oauth_error": "invalid_token", "match": map[string]any{"endpoint": "resource"}})
			status, err := r.me(r.m)
			Expect(err).NotTo(HaveOccurred())
			Expect(status).To(Equal(http.StatusUnauthorized))
			Expect(r.refreshes()).To(Equal(1))
			Expect(r.count(func(e events.Event) bool { return e.Kind == events.ResourceRequest })).To(Equal(2))
		})

		DescribeTable("returns a 429 or a 5xx as the API answered it, without a retry",
			func(answer map[string]any, want int) {
				r := newRig(profile.Generic())
				r.authorize(r.m)
				answer["match"] = map[string]any{"endpoint": "resource"}
				r.fault(answer)
				status, err := r.me(r.m)
				Expect(err).NotTo(HaveOccurred())
				Expect(status).To(Equal(want))
				Expect(r.count(func(e events.Event) bool { return e.Kind == events.ResourceRequest })).To(Equal(1))
			},
			Entry("429 with Retry-After", map[string]any{"kind": "rate_limit", "retry_after": "30s"}, http.StatusTooManyRequests),
			Entry("503", map[string]any{"kind": "error", "status": 503}, http.StatusServiceUnavailable),
		)
	})

	Describe("OpenID Connect", func() {
		// exchange redeems alice's code, the browser and the wire tampered
		// with as given, and returns what Exchange said.
		exchange := func(r *rig, tamper func(url.Values)) error {
			GinkgoHelper()
			auth, code := r.consent(r.m, tamper)
			_, err := r.m.Exchange(ctx, code, auth)
			return err
		}

		It("takes an id_token that passes every check", func() {
			r := newRig(profile.Generic())
			Expect(exchange(r, nil)).To(Succeed())
		})

		DescribeTable("refuses the authorization when the id_token fails a check, and keeps the grant it had",
			func(tamper func(url.Values), doctor func(map[string]any), skew string, want string) {
				r := newRig(profile.Generic())
				before := r.authorize(r.m)
				if skew != "" {
					r.fault(map[string]any{"kind": "skew", "offset": skew})
				}
				r.sent.setDoctor(doctor)
				err := exchange(r, tamper)
				var refused *tokenmanager.IDTokenError
				Expect(errors.As(err, &refused)).To(BeTrue(), "%v", err)
				Expect(err).To(MatchError(ContainSubstring(want)))
				Expect(tokenmanager.Outcome(err)).To(Equal(contract.OutcomeError))
				Expect(r.sent.sentForms("authorization_code")).To(HaveLen(2), "the code was redeemed")
				t, err := r.m.Token(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(t.AccessToken).To(Equal(before.AccessToken))
				stored, err := r.store.Load(ctx, "alice")
				Expect(err).NotTo(HaveOccurred())
				Expect(stored.RefreshToken).To(Equal(before.RefreshToken))
			},
			Entry("a nonce other than the one sent (a code injected from another authorization)",
				func(q url.Values) { q.Set("nonce", "another-authorization") }, nil, "", "the id_token's nonce does not match"),
			Entry("no nonce where one was sent",
				func(q url.Values) { q.Del("nonce") }, nil, "", "the id_token's nonce does not match"),
			// OpenID Connect Core §3.1.3.3: an openid request's answer must have one.
			Entry("no id_token at all",
				nil, func(a map[string]any) { delete(a, "id_token") }, "", "no id_token"),
			Entry("a signature by a key the provider never published",
				nil, func(a map[string]any) { a["id_token"] = resigned(a["id_token"].(string)) }, "", "verify signature"),
			// Two hours behind, the provider issues an id_token that expired
			// an hour ago on the manager's clock, which runs in 2026 while
			// the wall clock may not.
			Entry("expired on the manager's clock", nil, nil, "-2h", "expired"),
		)

		It("sends no nonce and wants no id_token without the openid scope", func() {
			r := newRig(profile.Generic(), func(c *tokenmanager.Config) { c.Scopes = []string{"api"} })
			auth, err := r.m.AuthCodeURL("s", nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(auth.Nonce).To(BeEmpty())
			u, err := url.Parse(auth.URL)
			Expect(err).NotTo(HaveOccurred())
			Expect(u.Query().Has("nonce")).To(BeFalse())
			r.sent.setDoctor(func(a map[string]any) { delete(a, "id_token") })
			r.authorize(r.m)
		})

		It("needs the issuer and the keys to verify id_tokens with", func() {
			_, err := tokenmanager.New(tokenmanager.Config{
				Endpoints: tokenmanager.Endpoints{Token: "http://127.0.0.1/token"}, ClientID: "demo", AuthStyle: tokenmanager.AuthNone,
				Scopes: []string{"openid"},
			})
			Expect(err).To(MatchError(ContainSubstring("Endpoints.JWKS")))
		})

		It("discovers the issuer and the keys", func() {
			r := newRig(profile.Generic())
			eps, err := tokenmanager.Discover(ctx, r.http, r.srv.URL)
			Expect(err).NotTo(HaveOccurred())
			Expect(eps.Issuer).To(Equal(r.srv.URL))
			Expect(eps.JWKS).To(Equal(r.srv.URL + simulator.PathJWKS))
		})
	})

	Describe("a code exchange that brings no refresh token (Google's later consents)", func() {
		// google is a rig on the google profile, which issues a refresh token
		// on a user's first consent to the client only, its manager on a
		// FileStore in dir, so that what it keeps goes through a token file.
		google := func(dir string, tune func(*tokenmanager.Config)) *rig {
			GinkgoHelper()
			p, _ := profile.Lookup("google")
			r := newRig(p, tune)
			r.m = r.process(dir, tune)
			return r
		}
		// signIn has user authorize through m, tamper (when not nil) changing
		// the authorization's parameters, and returns what Exchange said.
		signIn := func(r *rig, m *tokenmanager.Manager, user string, tamper func(url.Values)) (tokenmanager.Token, error) {
			GinkgoHelper()
			auth, code := r.consent(m, func(q url.Values) {
				q.Set("login_hint", user)
				if tamper != nil {
					tamper(q)
				}
			})
			return m.Exchange(ctx, code, auth)
		}
		// withheld counts the code exchanges the provider answered without a
		// refresh token because the user already held one.
		withheld := func(r *rig) int {
			return r.count(func(e events.Event) bool {
				return e.Kind == events.TokenRequest && e.GrantType == "authorization_code" && strings.Contains(e.Detail, "only_on_first_consent")
			})
		}
		const keptLog = "the one stored for the same user is kept"

		It("keeps the refresh token stored for the same user, clears the hold, and refreshes with it later", func() {
			dir := GinkgoT().TempDir()
			r := google(dir, func(*tokenmanager.Config) {})
			first := r.authorize(r.m)

			By("a step-up the user has yet to pass, which holds refreshes off")
			r.fault(map[string]any{"kind": "error", "situation": "interaction_required", "match": map[string]any{"count": 1}})
			r.advance(58 * time.Minute)
			_, err := r.m.Token(ctx)
			var step *tokenmanager.InteractionRequired
			Expect(errors.As(err, &step)).To(BeTrue(), "%v", err)

			By("alice signing in again, which the provider answers without a refresh token")
			r.advance(5 * time.Minute)
			again, err := signIn(r, r.m, "alice", nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(tokenmanager.Outcome(err)).To(Equal(contract.OutcomeOK))
			Expect(withheld(r)).To(Equal(1), "the provider withheld the refresh token")
			Expect(again.AccessToken).NotTo(Equal(first.AccessToken))
			Expect(again.RefreshToken).To(Equal(first.RefreshToken))
			stored, err := r.store.Load(ctx, "alice")
			Expect(err).NotTo(HaveOccurred())
			Expect(stored.AccessToken).To(Equal(again.AccessToken))
			Expect(stored.RefreshToken).To(Equal(first.RefreshToken))
			Expect(stored.Subject).To(Equal("alice"))
			Expect(stored.Backoff).To(BeZero(), "the step-up's hold ends with the new grant")
			Expect(stored.GrantedAt).To(BeTemporally("==", first.GrantedAt), "the refresh token is as old as the consent that issued it")
			Expect(r.logs.String()).To(ContainSubstring(keptLog))
			Expect(r.logs.String()).NotTo(ContainSubstring(first.RefreshToken))

			By("a refresh two hours later, by a manager restarted on the token file, with the kept refresh token")
			r.advance(2 * time.Hour)
			m := r.process(dir)
			t, err := m.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(t.AccessToken).NotTo(Equal(again.AccessToken))
			refreshes := r.sent.sentForms("refresh_token")
			Expect(refreshes).NotTo(BeEmpty())
			Expect(refreshes[len(refreshes)-1].Get("refresh_token")).To(Equal(first.RefreshToken))

			By("alice signing in a third time, after the refresh, which kept her subject")
			third, err := signIn(r, m, "alice", nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(withheld(r)).To(Equal(2))
			Expect(third.RefreshToken).To(Equal(first.RefreshToken))
		})

		It("takes the refresh token an answer brings over the stored one", func() {
			r := google(GinkgoT().TempDir(), func(*tokenmanager.Config) {})
			first := r.authorize(r.m)
			t, err := signIn(r, r.m, "alice", func(q url.Values) { q.Set("prompt", "consent") })
			Expect(err).NotTo(HaveOccurred())
			Expect(t.RefreshToken).NotTo(BeEmpty())
			Expect(t.RefreshToken).NotTo(Equal(first.RefreshToken))
			Expect(r.store.Load(ctx, "alice")).To(HaveField("RefreshToken", t.RefreshToken))
			Expect(r.logs.String()).NotTo(ContainSubstring(keptLog))
		})

		DescribeTable("keeps no refresh token it cannot tell is the same user's: the exchange ends as one without a refresh token",
			func(tune func(*tokenmanager.Config), before func(r *rig) (user string)) {
				r := google(GinkgoT().TempDir(), tune)
				user := before(r)
				t, err := signIn(r, r.m, user, nil)
				Expect(err).To(MatchError(tokenmanager.ErrNoRefreshToken))
				Expect(tokenmanager.Outcome(err)).To(Equal(contract.OutcomeConfigurationError))
				Expect(withheld(r)).To(Equal(1), "the provider withheld the refresh token")
				Expect(t.RefreshToken).To(BeEmpty())
				stored, err := r.store.Load(ctx, "alice")
				Expect(err).NotTo(HaveOccurred())
				Expect(stored.AccessToken).To(Equal(t.AccessToken))
				Expect(stored.RefreshToken).To(BeEmpty())
				Expect(r.logs.String()).NotTo(ContainSubstring(keptLog))
			},
			Entry("another user's: bob signs in where alice's grant is stored", func(*tokenmanager.Config) {}, func(r *rig) string {
				r.authorize(r.m)
				// bob's first consent, from another device: it gets his refresh token.
				_, err := signIn(r, r.manager(func(c *tokenmanager.Config) { c.Key = "bob" }), "bob", nil)
				Expect(err).NotTo(HaveOccurred())
				return "bob"
			}),
			Entry("the user unknown: no openid scope, so no id_token", func(c *tokenmanager.Config) { c.Scopes = []string{"api"} }, func(r *rig) string {
				r.authorize(r.m)
				return "alice"
			}),
			Entry("the user unknown: a grant stored before subjects were kept", func(*tokenmanager.Config) {}, func(r *rig) string {
				r.authorize(r.m)
				old, err := r.store.Load(ctx, "alice")
				Expect(err).NotTo(HaveOccurred())
				old.Subject = ""
				Expect(r.store.Save(ctx, "alice", old)).To(Succeed())
				return "alice"
			}),
			Entry("nothing stored: alice's refresh token went to another device", func(*tokenmanager.Config) {}, func(r *rig) string {
				r.authorize(r.manager(func(c *tokenmanager.Config) { c.Key = "alice-elsewhere" }))
				return "alice"
			}),
		)
	})

	Describe("authorization and logout", func() {
		It("asks for offline access as the provider wants it, with PKCE S256 and a fresh nonce", func() {
			r := newRig(profile.Generic())
			auth, err := r.m.AuthCodeURL("s", nil)
			Expect(err).NotTo(HaveOccurred())
			q, _ := url.Parse(auth.URL)
			Expect(strings.Fields(q.Query().Get("scope"))).To(ContainElement("offline_access"))
			Expect(q.Query().Get("state")).To(Equal("s"))
			Expect(q.Query().Get("code_challenge_method")).To(Equal("S256"))
			sum := sha256.Sum256([]byte(auth.Verifier))
			Expect(q.Query().Get("code_challenge")).To(Equal(base64.RawURLEncoding.EncodeToString(sum[:])))
			Expect(q.Query().Get("nonce")).To(Equal(auth.Nonce))
			Expect(auth.Nonce).To(HaveLen(43))
			again, err := r.m.AuthCodeURL("s", nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(again.Verifier).NotTo(Equal(auth.Verifier))
			Expect(again.Nonce).NotTo(Equal(auth.Nonce))

			By("the exchange sending the verifier")
			r.authorize(r.m)
			exchanges := r.sent.sentForms("authorization_code")
			Expect(exchanges).To(HaveLen(1))
			Expect(exchanges[0].Get("code_verifier")).To(HaveLen(43))

			google, _ := profile.Lookup("google")
			g := newRig(google)
			auth, err = g.m.AuthCodeURL("s", nil)
			Expect(err).NotTo(HaveOccurred())
			q, _ = url.Parse(auth.URL)
			Expect(q.Query().Get("access_type")).To(Equal("offline"))
			g.authorize(g.m)
		})

		It("revokes on logout and forgets the grant even when revocation fails", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			Expect(r.m.Logout(ctx)).To(Succeed())
			Expect(r.srv.Events().Since(0)).To(ContainElement(And(HaveField("Kind", events.RevokeRequest), HaveField("Status", 200))))
			_, err := r.m.Token(ctx)
			var dead *tokenmanager.ReauthorizationRequired
			Expect(errors.As(err, &dead)).To(BeTrue())
			Expect(dead.Reason).To(Equal(contract.ReasonNoGrant))

			By("a revocation that fails in passing")
			r.authorize(r.m)
			r.fault(map[string]any{"kind": "error", "status": 503, "match": map[string]any{"endpoint": "revoke", "count": 1}})
			err = r.m.Logout(ctx)
			var temp *tokenmanager.TemporaryError
			Expect(errors.As(err, &temp)).To(BeTrue(), "%v", err)
			Expect(temp.Status).To(Equal(http.StatusServiceUnavailable))
			_, err = r.store.Load(ctx, "alice")
			Expect(err).To(MatchError(tokenmanager.ErrNoToken))

			By("a revocation that refuses the client")
			r.authorize(r.m)
			r.fault(map[string]any{"kind": "error", "status": 401, "oauth_error": "invalid_client", "match": map[string]any{"endpoint": "revoke", "count": 1}})
			err = r.m.Logout(ctx)
			var conf *tokenmanager.ConfigurationError
			Expect(errors.As(err, &conf)).To(BeTrue(), "%v", err)
			Expect(conf.Code).To(Equal("invalid_client"))
			_, err = r.store.Load(ctx, "alice")
			Expect(err).To(MatchError(tokenmanager.ErrNoToken))
		})

		It("never writes a token or the secret to its log", func() {
			r := newRig(profile.Generic())
			t := r.authorize(r.m)
			r.advance(58 * time.Minute)
			t2, err := r.m.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.logs.Len()).NotTo(BeZero(), "it does log")
			for _, secret := range []string{t.AccessToken, t.RefreshToken, t2.AccessToken, t2.RefreshToken, "demo-secret"} {
				Expect(r.logs.String()).NotTo(ContainSubstring(secret))
			}
		})
	})
})

// wire is the managers' transport in a rig: it records the form of every
// token request, and lets a spec doctor the token endpoint's answers as a
// forger between the manager and the provider would.
type wire struct {
	next http.RoundTripper

	mu    sync.Mutex
	forms []url.Values
	// doctor, when set, changes a token answer's JSON before the manager
	// reads it.
	doctor func(answer map[string]any)
}

func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path != simulator.PathToken || req.Body == nil {
		return w.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, _ := url.ParseQuery(string(body))
	w.mu.Lock()
	w.forms = append(w.forms, form)
	doctor := w.doctor
	w.mu.Unlock()
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := w.next.RoundTrip(req)
	if err != nil || doctor == nil {
		return resp, err
	}
	defer resp.Body.Close()
	var answer map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return nil, err
	}
	doctor(answer)
	doctored, err := json.Marshal(answer)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(doctored))
	resp.ContentLength = int64(len(doctored))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// sentForms are the forms of the token requests of grantType sent so far.
func (w *wire) sentForms(grantType string) []url.Values {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []url.Values
	for _, f := range w.forms {
		if f.Get("grant_type") == grantType {
			out = append(out, f)
		}
	}
	return out
}

func (w *wire) setDoctor(doctor func(map[string]any)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.doctor = doctor
}

// forgerKey is a key the provider never published.
var forgerKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// resigned is the JWT raw with the same payload and key id, signed with
// forgerKey instead of the provider's key.
func resigned(raw string) string {
	GinkgoHelper()
	parts := strings.Split(raw, ".")
	Expect(parts).To(HaveLen(3))
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	Expect(err).NotTo(HaveOccurred())
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	Expect(err).NotTo(HaveOccurred())
	var h struct {
		Kid string `json:"kid"`
	}
	Expect(json.Unmarshal(header, &h)).To(Succeed())
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", h.Kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: forgerKey()}, opts)
	Expect(err).NotTo(HaveOccurred())
	jws, err := signer.Sign(payload)
	Expect(err).NotTo(HaveOccurred())
	out, err := jws.CompactSerialize()
	Expect(err).NotTo(HaveOccurred())
	return out
}
