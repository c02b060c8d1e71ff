package tokenmanager_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

var epoch = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// rig is a simulator and the reference token manager on one fake clock.
type rig struct {
	srv    *simulator.Server
	clock  *clockwork.FakeClock
	http   *http.Client
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
	r := &rig{srv: srv, clock: fake, http: srv.Client(), store: tokenmanager.NewMemoryStore(), logs: &syncBuffer{}, build: build}
	r.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r.secret.Store("demo-secret")
	r.m = r.manager(tune...)
	return r
}

// manager builds a manager on the rig's store, as a process would at start.
func (r *rig) manager(tune ...func(*tokenmanager.Config)) *tokenmanager.Manager {
	GinkgoHelper()
	offline := tokenmanager.OfflineScope
	if r.srv.Store().Policy().OfflineAccess == profile.OfflineAccessType {
		offline = tokenmanager.OfflineAccessType
	}
	cfg := tokenmanager.Config{
		Endpoints: tokenmanager.Endpoints{
			Authorize: r.srv.URL + simulator.PathAuthorize, Token: r.srv.URL + simulator.PathToken, Revoke: r.srv.URL + simulator.PathRevoke,
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
	u, verifier, err := m.AuthCodeURL("state-12345678", url.Values{"login_hint": {"alice"}})
	Expect(err).NotTo(HaveOccurred())
	resp, err := r.http.Get(u)
	Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusSeeOther))
	loc, err := url.Parse(resp.Header.Get("Location"))
	Expect(err).NotTo(HaveOccurred())
	Expect(loc.Query().Get("error")).To(BeEmpty(), loc.Query().Get("error_description"))
	t, err := m.Exchange(context.Background(), loc.Query().Get("code"), verifier)
	Expect(err).NotTo(HaveOccurred())
	Expect(t.RefreshToken).NotTo(BeEmpty())
	return t
}

func (r *rig) advance(d time.Duration) { r.clock.Advance(d) }

func (r *rig) control(method, path string, body any) (int, map[string]any) {
	GinkgoHelper()
	b, err := json.Marshal(body)
	Expect(err).NotTo(HaveOccurred())
	req, err := http.NewRequest(method, r.srv.URL+"/sim/v1"+path, bytes.NewReader(b))
	Expect(err).NotTo(HaveOccurred())
	resp, err := r.http.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (r *rig) fault(f map[string]any) {
	GinkgoHelper()
	status, body := r.control(http.MethodPost, "/faults", f)
	Expect(status).To(Equal(http.StatusCreated), "%v", body)
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
			Expect(dead.Reason).To(Equal(tokenmanager.ReasonReuseDetected))
		})

		It("is never retried after it: the grant is reported lost without another request", func() {
			r := newRig(profile.Generic())
			r.authorize(r.m)
			lose(r, r.m)
			_, err := r.m.Token(ctx)
			var dead *tokenmanager.ReauthorizationRequired
			Expect(errors.As(err, &dead)).To(BeTrue(), "%v", err)
			Expect(dead.Reason).To(Equal(tokenmanager.ReasonLostRefresh))
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
				Expect([]string{outcome, string(reason)}).To(Equal([]string{"reauthorize", "lost_refresh_response"}), "%v", err)
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
				Expect(dead.Reason).To(Equal(tokenmanager.ReasonLostRefresh))
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
			func(name string, kill func(r *rig), reason tokenmanager.Reason) {
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
				r.control(http.MethodPost, "/revocations", map[string]string{"user": "alice", "reason": "password_change"})
				r.advance(58 * time.Minute)
			}, tokenmanager.ReasonRevoked),
			Entry("with the error in an HTTP 200 (github: \"incorrect or expired\")", "github", func(r *rig) {
				r.control(http.MethodPost, "/revocations", map[string]string{"user": "alice"})
				r.advance(8 * time.Hour)
			}, tokenmanager.ReasonExpired),
			Entry("revoked by the user (google)", "google", func(r *rig) {
				r.control(http.MethodPost, "/revocations", map[string]string{"user": "alice"})
				r.advance(2 * time.Hour)
			}, tokenmanager.ReasonRevoked),
		)

		It("names a testing app's seven-day death (google)", func() {
			google, _ := profile.Lookup("google")
			r := newRig(google)
			status, _ := r.control(http.MethodPost, "/clients/demo/publishing-status", map[string]string{"status": "testing"})
			Expect(status).To(Equal(http.StatusOK))
			r.authorize(r.m)
			r.advance(7*24*time.Hour + time.Hour)
			_, err := r.m.Token(ctx)
			var dead *tokenmanager.ReauthorizationRequired
			Expect(errors.As(err, &dead)).To(BeTrue(), "%v", err)
			Expect(dead.Reason).To(Equal(tokenmanager.ReasonTestingApp))
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
			Expect(outcome).To(Equal("interaction_required"), "without the status either")
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
			status, _ := r.control(http.MethodPost, "/clients/demo/secret", map[string]string{"client_secret": "rotated"})
			Expect(status).To(Equal(http.StatusOK))
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
				Expect(tokenmanager.Outcome(err)).To(Equal("temporary_error"))
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
			Expect(tokenmanager.Outcome(err)).To(Equal("interaction_required"), "%v", err)
			_, err = b.Token(ctx)
			Expect(tokenmanager.Outcome(err)).To(Equal("interaction_required"), "%v", err)
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
	})

	Describe("authorization and logout", func() {
		It("asks for offline access as the provider wants it, with PKCE S256", func() {
			r := newRig(profile.Generic())
			u, _, err := r.m.AuthCodeURL("s", nil)
			Expect(err).NotTo(HaveOccurred())
			q, _ := url.Parse(u)
			Expect(strings.Fields(q.Query().Get("scope"))).To(ContainElement("offline_access"))
			Expect(q.Query().Get("code_challenge_method")).To(Equal("S256"))
			Expect(q.Query().Get("code_challenge")).To(HaveLen(43))

			google, _ := profile.Lookup("google")
			g := newRig(google)
			u, _, err = g.m.AuthCodeURL("s", nil)
			Expect(err).NotTo(HaveOccurred())
			q, _ = url.Parse(u)
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
			Expect(dead.Reason).To(Equal(tokenmanager.ReasonNoGrant))

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
