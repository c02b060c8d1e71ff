// Package tokenmanager is oauthsim's reference OAuth 2.0 token manager: the
// one the conformance harness expects to pass every scenario, and one you
// can ship. It keeps a grant's tokens in a Store, refreshes the access token
// ahead of expiry exactly once however many callers want it, persists every
// rotated refresh token before using what came with it, backs off as the
// provider asks, and tells a dead grant (reauthorize) from a broken
// configuration and from a passing failure.
package tokenmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/singleflight"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/internal/flaw"
)

// AuthStyle is how the client authenticates at the token endpoint.
type AuthStyle int

// Client authentication styles.
const (
	AuthBasic AuthStyle = iota // client_secret_basic (RFC 6749 §2.3.1)
	AuthPost                   // client_secret_post
	AuthNone                   // a public client: client_id only, PKCE protects the code
)

// OfflineRule is how the provider is asked for a refresh token.
type OfflineRule int

// Offline-access rules.
const (
	OfflineScope      OfflineRule = iota // the offline_access scope (OpenID Connect)
	OfflineAccessType                    // access_type=offline (Google)
)

// Endpoints are the provider's URLs.
type Endpoints struct {
	Authorize, Token, Revoke string
	// Issuer is the provider's issuer identifier and JWKS the URL of its
	// signing keys (jwks_uri): what an id_token is verified against. Both
	// are required when the scopes include openid.
	Issuer, JWKS string
}

// Config configures a Manager. Endpoints, ClientID and RedirectURL are
// required; the rest have defaults.
type Config struct {
	Endpoints Endpoints
	ClientID  string
	// ClientSecret returns the client secret. It is asked on every token
	// request, so a secret rotated on disk is picked up, and asked again
	// after an invalid_client. Nil for a public client.
	ClientSecret func(ctx context.Context) (string, error)
	AuthStyle    AuthStyle
	RedirectURL  string
	// Scopes are asked for in every authorization, offline access aside.
	// With openid among them, each authorization sends a nonce and the code
	// exchange verifies the id_token (OpenID Connect Core §3.1.3.7).
	Scopes  []string
	Offline OfflineRule

	// Store keeps the tokens (default: a MemoryStore) under Key (default "default").
	Store Store
	Key   string

	// Clock is what the manager reads time from (default: the real clock).
	Clock clockwork.Clock
	// HTTPClient sends the requests (default: one with a 30 s timeout).
	HTTPClient *http.Client

	// Margin is how long before expiry the access token is refreshed
	// (default 5 minutes, and never more than a quarter of its lifetime):
	// it absorbs latency and a provider that minted the token a little
	// before answering.
	Margin time.Duration
	// LostRefreshGrace is the provider's grace window for a refresh whose
	// answer was lost: within it the same refresh token may be sent again
	// (Okta 30 s, Xero 30 min). Zero means the provider has none: a lost
	// answer with a rotating provider loses the grant.
	LostRefreshGrace time.Duration
	// ReusableRefreshToken says the provider never rotates (Google,
	// Dropbox): a lost answer costs nothing and may always be retried.
	ReusableRefreshToken bool
	// Backoff bounds the wait after a transient failure (default 1 s
	// doubling to 5 min, with jitter); a Retry-After from the provider wins
	// when longer.
	BackoffInitial, BackoffMax time.Duration

	// Logger receives what the manager does, never a token or a secret
	// (default: discard).
	Logger *slog.Logger

	flaw flaw.Flaw
}

// Provider is what a provider documents about its refresh tokens, as
// Config.ForProvider reads it.
type Provider struct {
	// OfflineAccessType: offline access is asked with access_type=offline
	// (Google), not with the offline_access scope.
	OfflineAccessType bool
	// Rotates: a refresh rotates the refresh token; Grace is how long the
	// old one stays usable after (0: not at all).
	Rotates bool
	Grace   time.Duration
}

// ForProvider sets what depends on the provider: how offline access is
// asked, whether lost refresh answers are harmless, and the grace window
// for retrying one.
func (c *Config) ForProvider(p Provider) {
	c.Offline = OfflineScope
	if p.OfflineAccessType {
		c.Offline = OfflineAccessType
	}
	c.ReusableRefreshToken = !p.Rotates
	c.LostRefreshGrace = 0
	if p.Rotates {
		c.LostRefreshGrace = p.Grace
	}
}

func init() {
	flaw.Apply = func(c any, f flaw.Flaw) { c.(*Config).flaw = f }
	flaw.Of = func(m any) flaw.Flaw { return m.(*Manager).cfg.flaw }
}

// Manager manages the tokens of one grant. It is safe for concurrent use.
type Manager struct {
	cfg    Config
	flight singleflight.Group
	// idTokens verifies the id_token of a code exchange; nil when the
	// scopes do not include openid.
	idTokens *oidc.IDTokenVerifier

	mu     sync.Mutex
	cached *Token // the last token loaded or obtained
	// dead is the error a dead grant answered; no refresh is sent after it.
	dead error
	// unrotated is set once a refresh answer came without a new refresh
	// token: the provider does not rotate, and a lost answer costs nothing.
	unrotated bool
	// gen counts authorizations and logouts: a refresh that began under an
	// older grant must not save or kill anything.
	gen uint64
	// secretCache is the last secret read, which the no_secret_reload flaw keeps using.
	secretCache string
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Manager, error) {
	switch {
	case cfg.Endpoints.Token == "":
		return nil, errors.New("tokenmanager: Endpoints.Token is required")
	case cfg.ClientID == "":
		return nil, errors.New("tokenmanager: ClientID is required")
	case cfg.AuthStyle != AuthNone && cfg.ClientSecret == nil:
		return nil, errors.New("tokenmanager: a confidential client needs ClientSecret (or AuthStyle AuthNone)")
	}
	if cfg.Store == nil {
		cfg.Store = NewMemoryStore()
	}
	if cfg.Key == "" {
		cfg.Key = "default"
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Margin == 0 {
		cfg.Margin = 5 * time.Minute
	}
	if cfg.BackoffInitial == 0 {
		cfg.BackoffInitial = time.Second
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{cfg: cfg}
	if slices.Contains(cfg.Scopes, "openid") {
		if cfg.Endpoints.Issuer == "" || cfg.Endpoints.JWKS == "" {
			return nil, errors.New("tokenmanager: the openid scope needs Endpoints.Issuer and Endpoints.JWKS to verify id_tokens")
		}
		// The keys are fetched with the manager's HTTP client when the first
		// id_token comes, and again for a key id not seen before (a
		// rotation); expiry is judged on the manager's clock. No algorithm
		// is configured: RS256, which OpenID Connect Core §15.1 makes every
		// provider support, is the verifier's default.
		keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), cfg.HTTPClient), cfg.Endpoints.JWKS)
		m.idTokens = oidc.NewVerifier(cfg.Endpoints.Issuer, keys, &oidc.Config{ClientID: cfg.ClientID, Now: cfg.Clock.Now})
	}
	return m, nil
}

// Token returns a usable access token, refreshing it first when it is
// within the margin of its expiry. Concurrent callers share one refresh and
// its outcome.
func (m *Manager) Token(ctx context.Context) (Token, error) {
	t, err := m.current(ctx)
	if err != nil {
		return Token{}, err
	}
	if m.fresh(t) {
		return t, nil
	}
	return m.refreshShared(ctx, t.AccessToken)
}

// Refused tells the manager that a resource refused accessToken with 401:
// it refreshes, once for every caller that reports the same token, and
// returns the new token (or the newer one another caller already got).
func (m *Manager) Refused(ctx context.Context, accessToken string) (Token, error) {
	return m.refreshShared(ctx, accessToken)
}

// current returns the cached token, loading it from the store on first use
// (after a restart, say).
func (m *Manager) current(ctx context.Context) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead != nil {
		return Token{}, m.reported(m.dead)
	}
	if m.cached != nil {
		return *m.cached, nil
	}
	if m.cfg.flaw == flaw.MemoryOnly {
		return Token{}, &ReauthorizationRequired{Reason: contract.ReasonNoGrant}
	}
	t, err := m.cfg.Store.Load(ctx, m.cfg.Key)
	if errors.Is(err, ErrNoToken) {
		return Token{}, &ReauthorizationRequired{Reason: contract.ReasonNoGrant}
	}
	if err != nil {
		return Token{}, fmt.Errorf("load token: %w", err)
	}
	m.cached = &t
	return t, nil
}

// margin is how long before t's expiry it is refreshed.
func (m *Manager) margin(t Token) time.Duration {
	if m.cfg.flaw == flaw.NoExpiryMargin {
		return 0
	}
	margin := m.cfg.Margin
	if t.Lifetime > 0 && margin > t.Lifetime/4 {
		margin = t.Lifetime / 4
	}
	return margin
}

// fresh reports whether t's access token can be used without a refresh. A
// token without a known expiry is used until the resource refuses it.
func (m *Manager) fresh(t Token) bool {
	switch m.cfg.flaw {
	case flaw.RefreshEveryCall:
		return false
	case flaw.RefreshOnlyOn401:
		return t.AccessToken != ""
	}
	if t.AccessToken == "" {
		return false
	}
	return t.Expiry.IsZero() || m.cfg.Clock.Now().Before(t.Expiry.Add(-m.margin(t)))
}

// refreshShared refreshes once for every caller waiting on the same grant.
// stale is the access token the caller found wanting: if another caller
// already replaced it, that result is used instead of a new refresh.
func (m *Manager) refreshShared(ctx context.Context, stale string) (Token, error) {
	if m.cfg.flaw == flaw.NoSingleFlight {
		t, err := m.refresh(ctx, stale)
		return t, m.reported(err)
	}
	// The refresh outlives a caller who gives up, since others may be
	// waiting on it; refreshTimeout bounds it instead.
	detached := context.WithoutCancel(ctx)
	ch := m.flight.DoChan(m.cfg.Key, func() (any, error) {
		rctx, cancel := context.WithTimeout(detached, refreshTimeout)
		defer cancel()
		return m.refresh(rctx, stale)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return Token{}, m.reported(res.Err)
		}
		return res.Val.(Token), nil
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

// refreshTimeout bounds one refresh: waiting for the store's lock and the
// token request together.
const refreshTimeout = 2 * time.Minute

// refresh runs one refresh under the store's lock.
func (m *Manager) refresh(ctx context.Context, stale string) (Token, error) {
	gen := m.generation()
	// Without single flight nothing coordinates callers: the store's lock
	// would otherwise serialize them in its place.
	if m.cfg.flaw != flaw.NoStoreLock && m.cfg.flaw != flaw.NoSingleFlight {
		unlock, err := m.cfg.Store.Lock(ctx, m.cfg.Key)
		if err != nil {
			return Token{}, fmt.Errorf("lock token: %w", err)
		}
		defer unlock()
	}
	t, err := m.reload(ctx)
	if err != nil {
		return Token{}, err
	}
	// Another process, or an earlier flight, may have refreshed meanwhile.
	if t.AccessToken != stale && m.fresh(t) {
		return t, nil
	}
	if t.RefreshToken == "" {
		if m.usable(t) {
			return t, nil // it dies when the access token does, not before
		}
		return Token{}, m.kill(ctx, gen, &ReauthorizationRequired{Reason: contract.ReasonNoRefreshToken})
	}
	now := m.cfg.Clock.Now()
	if wait := t.Backoff.Until.Sub(now); wait > 0 && m.cfg.flaw != flaw.IgnoreRetryAfter {
		// No token request before the provider's Retry-After or the backoff,
		// kept with the token by the manager that met the failure, in this
		// process or another; meanwhile an access token that has not expired
		// yet still serves.
		if m.usable(t) {
			return t, nil
		}
		return Token{}, &TemporaryError{RetryAfter: wait, Err: t.Backoff.cause()}
	}
	if lost := t.LostRefreshAt; !lost.IsZero() && !m.reusable() && m.cfg.flaw != flaw.RetryLostAfterGrace &&
		now.Sub(lost) >= m.cfg.LostRefreshGrace {
		// Sending it again now would be reuse: the provider has rotated it.
		// The mark is kept with the token, so a manager that did not send
		// the lost refresh (restarted, or in another process) knows too.
		if m.usable(t) {
			return t, nil
		}
		return Token{}, m.kill(ctx, gen, &ReauthorizationRequired{Reason: contract.ReasonLostRefresh})
	}
	sent := now
	params := map[string]string{"grant_type": "refresh_token", "refresh_token": t.RefreshToken}
	if m.cfg.flaw == flaw.NarrowRefreshScope {
		params["scope"] = strings.Join(slices.DeleteFunc(slices.Clone(m.cfg.Scopes), func(s string) bool { return s == "offline_access" }), " ")
	}
	ans, err := m.tokenRequest(ctx, params)
	switch {
	case err != nil:
		err = m.failed(ctx, gen, t, sent, err)
	case ans.ok():
		return m.obtained(ctx, gen, t, ans, sent)
	case ans.garbled():
		// The provider said yes, so it may well have rotated the token, but
		// the tokens did not arrive: as good as a lost answer.
		err = m.failed(ctx, gen, t, sent, fmt.Errorf("unreadable token response: HTTP %d, %d bytes", ans.status, len(ans.body)))
	default:
		err = m.refused(ctx, gen, t, ans)
	}
	var temp *TemporaryError
	if errors.As(err, &temp) && m.usable(t) {
		// The refresh was early: the access token still works until it expires.
		return t, nil
	}
	if m.cfg.flaw == flaw.TokenInErrorDetail {
		err = fmt.Errorf("refresh with %s failed: %w", t.RefreshToken, err)
	}
	return Token{}, err
}

// reported is err as the manager's callers get it. Under the
// dead_grant_as_temporary flaw a grant the provider declared dead (its
// refusal has a code) reads as a passing failure; the chain is cut, or
// Outcome would still find the ReauthorizationRequired in it.
func (m *Manager) reported(err error) error {
	var dead *ReauthorizationRequired
	if m.cfg.flaw != flaw.DeadGrantAsTemporary || !errors.As(err, &dead) || dead.Code == "" {
		return err
	}
	return &TemporaryError{Status: dead.Status, Err: errors.New(dead.Error())}
}

// usable reports whether t's access token has not expired yet, margin or not.
func (m *Manager) usable(t Token) bool {
	return t.AccessToken != "" && (t.Expiry.IsZero() || m.cfg.Clock.Now().Before(t.Expiry))
}

// reload reads the token again from the store under the lock; the memory
// copy may be older than what another process saved.
func (m *Manager) reload(ctx context.Context) (Token, error) {
	if m.cfg.flaw != flaw.MemoryOnly {
		t, err := m.cfg.Store.Load(ctx, m.cfg.Key)
		switch {
		case err == nil:
			m.mu.Lock()
			m.cached = &t
			m.mu.Unlock()
			return t, nil
		case errors.Is(err, ErrNoToken):
			return Token{}, &ReauthorizationRequired{Reason: contract.ReasonNoGrant}
		default:
			return Token{}, fmt.Errorf("load token: %w", err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cached == nil {
		return Token{}, &ReauthorizationRequired{Reason: contract.ReasonNoGrant}
	}
	return *m.cached, nil
}

// obtained stores a successful answer, before anyone uses it: a crash after
// this point leaves the new refresh token on disk, not the spent one.
func (m *Manager) obtained(ctx context.Context, gen uint64, old Token, ans answer, sent time.Time) (Token, error) {
	t := ans.token(m.issued(ans, sent))
	t.GrantedAt, t.Subject = old.GrantedAt, old.Subject
	if t.RefreshToken == "" {
		// RFC 6749 §6: the old one stays when no new one is issued, and a
		// provider that does not rotate may always be sent it again.
		t.RefreshToken = old.RefreshToken
		m.mu.Lock()
		m.unrotated = true
		m.mu.Unlock()
	}
	if m.cfg.flaw == flaw.KeepOldRefreshToken {
		t.RefreshToken = old.RefreshToken
	}
	if m.generation() != gen {
		// A new authorization or a logout happened meanwhile: this answer
		// belongs to the grant they replaced.
		return t, nil
	}
	// t comes without a Backoff or a LostRefreshAt: saving it ends the wait,
	// and the doubt about the old refresh token, for every process.
	if err := m.save(ctx, t); err != nil {
		return Token{}, err
	}
	m.log("token refreshed", t)
	return t, nil
}

// save persists t and makes it the current token.
func (m *Manager) save(ctx context.Context, t Token) error {
	if m.cfg.flaw != flaw.MemoryOnly {
		if err := m.cfg.Store.Save(ctx, m.cfg.Key, t); err != nil {
			return fmt.Errorf("save token: %w", err)
		}
	}
	m.mu.Lock()
	m.cached = &t
	m.mu.Unlock()
	return nil
}

// failed handles a refresh that got no answer.
func (m *Manager) failed(ctx context.Context, gen uint64, t Token, sent time.Time, err error) error {
	if wasSent(err) && t.LostRefreshAt.IsZero() {
		// The provider may have rotated the token and lost the answer: the
		// same token may go again only inside its grace window, which runs
		// from its first use. transient saves the mark with the backoff.
		t.LostRefreshAt = sent
	}
	return m.transient(ctx, gen, t, 0, 0, err)
}

// transient backs off after a failure worth retrying: Retry-After when the
// provider gave one, else exponentially from BackoffInitial to BackoffMax,
// with jitter so that a fleet of clients does not retry in step.
func (m *Manager) transient(ctx context.Context, gen uint64, t Token, status int, retryAfter time.Duration, err error) error {
	if m.cfg.flaw == flaw.DiscardRefreshOnError {
		t.RefreshToken = "" // saved with the backoff
	}
	wait := m.holdOff(ctx, gen, t, retryAfter, err)
	m.cfg.Logger.Warn("token refresh failed; will retry", "status", status, "retry_in", wait, "error", err)
	return &TemporaryError{Status: status, RetryAfter: wait, Err: err}
}

// kill records a dead grant: the stored tokens are deleted (a restart must
// not try them again) and every later call gets err without a request.
func (m *Manager) kill(ctx context.Context, gen uint64, err error) error {
	m.mu.Lock()
	if m.gen != gen {
		m.mu.Unlock()
		return err // the grant it was about has been replaced
	}
	m.dead, m.cached = err, nil
	m.mu.Unlock()
	if m.cfg.flaw != flaw.MemoryOnly {
		if derr := m.cfg.Store.Delete(ctx, m.cfg.Key); derr != nil {
			m.cfg.Logger.Error("delete dead grant", "error", derr)
		}
	}
	m.cfg.Logger.Warn("grant is dead; the user must authorize again", "error", err)
	return err
}

// log records a token event without the token, unless the logs_tokens flaw says otherwise.
func (m *Manager) log(msg string, t Token) {
	if m.cfg.flaw == flaw.LogsTokens {
		m.cfg.Logger.Info(msg, "access_token", t.AccessToken, "refresh_token", t.RefreshToken)
		return
	}
	m.cfg.Logger.Info(msg, "expiry", t.Expiry, "rotated_refresh_token", t.RefreshToken != "")
}

// Do sends req with the access token. When the resource answers 401 it
// refreshes once and sends req again: the token may have been revoked
// early, or not yet known to the resource. A second 401 stands: a token
// just refreshed and refused too is not stale, and more refreshes would
// only load the provider. A 429 or a 5xx is returned as it is, for the
// caller to retry when the API allows.
func (m *Manager) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	t, err := m.Token(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := m.send(ctx, req, t)
	retries := 1
	if m.cfg.flaw == flaw.RefreshLoopOn401 {
		retries = 10
	}
	for range retries {
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			break
		}
		fresh, rerr := m.refreshShared(ctx, t.AccessToken)
		if rerr != nil {
			resp.Body.Close()
			return nil, rerr
		}
		if !rewindable(req) || fresh.AccessToken == t.AccessToken {
			// Without a new token, or a body to send again, the 401 stands; the
			// refresh still spares the next call.
			return resp, nil
		}
		resp.Body.Close()
		t = fresh
		resp, err = m.send(ctx, req, t)
	}
	return resp, err
}

// rewindable reports whether req can be sent again: it has no body, or a
// way to get it anew.
func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// send sends req with t's access token. Under the api_retry_at_once flaw it
// sends it again at once while the API answers 429 or 5xx.
func (m *Manager) send(ctx context.Context, req *http.Request, t Token) (*http.Response, error) {
	resp, err := m.sendOnce(ctx, req, t)
	if m.cfg.flaw != flaw.APIRetryAtOnce {
		return resp, err
	}
	for range 5 {
		if err != nil || APIOutcome(resp.StatusCode) != contract.OutcomeTemporaryError || !rewindable(req) {
			break
		}
		resp.Body.Close()
		resp, err = m.sendOnce(ctx, req, t)
	}
	return resp, err
}

func (m *Manager) sendOnce(ctx context.Context, req *http.Request, t Token) (*http.Response, error) {
	r := req.Clone(ctx)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = body
	}
	r.Header.Set("Authorization", "Bearer "+t.AccessToken)
	return m.cfg.HTTPClient.Do(r)
}

// generation returns the grant generation (see Manager.gen).
func (m *Manager) generation() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gen
}

// reusable reports whether the refresh token may be sent again after a lost
// answer: the provider does not rotate, by configuration or as seen.
func (m *Manager) reusable() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg.ReusableRefreshToken || m.unrotated
}

// holdOff counts a failure, err, of t's refresh and holds token requests
// back until the provider's retryAfter or the backoff, whichever is later,
// has passed; it returns the wait. The wait is saved with t, so that a
// manager started afresh over the store, or another process sharing it,
// waits too; gen is the grant generation the refresh began under, and a
// grant replaced since gets nothing saved.
func (m *Manager) holdOff(ctx context.Context, gen uint64, t Token, retryAfter time.Duration, err error) time.Duration {
	failures := t.Backoff.Failures + 1
	wait := max(m.backoff(failures), retryAfter)
	if m.cfg.flaw == flaw.IgnoreRetryAfter {
		wait = 0
	}
	t.Backoff = newBackoff(m.cfg.Clock.Now().Add(wait), failures, err)
	if m.generation() != gen {
		return wait
	}
	if serr := m.save(ctx, t); serr != nil {
		// The caller is told of the failure it met; a store that cannot
		// save will fail the next refresh's save too, and that is reported.
		m.cfg.Logger.Error("save backoff", "error", serr)
	}
	return wait
}

// newGrant forgets everything about the grant before: an authorization or a
// logout starts afresh, and a refresh still running for the old grant sees
// the generation change. m.mu must be held.
func (m *Manager) newGrant() {
	m.gen++
	m.dead = nil
}

// backoff is the wait after the latest of failures failures in a row:
// doubling from BackoffInitial to BackoffMax, then drawn from its upper half
// so that a fleet of clients does not retry in step.
func (m *Manager) backoff(failures int) time.Duration {
	b := m.cfg.BackoffInitial << min(max(failures-1, 0), 20)
	if b > m.cfg.BackoffMax || b <= 0 {
		b = m.cfg.BackoffMax
	}
	return b/2 + rand.N(b/2+1)
}
