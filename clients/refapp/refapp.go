// Package refapp is the application around the reference token manager:
// what an integrator writes around clients/tokenmanager to sign a user in
// and call an API. The in-process reference of the conformance harness and
// the reference adapter behind the client protocol both run it, so that
// they differ only in how they are driven, and give the same verdicts.
package refapp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"

	"github.com/jonboulle/clockwork"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/internal/flaw"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Settings is what the application is configured with.
type Settings struct {
	Issuer, ClientID, RedirectURI string
	Scopes                        []string
	// Resource is the API the application calls.
	Resource string
	// StateDir is where the token files are kept, across restarts.
	StateDir string
	// Secret reads the client secret, on every token request, so that a
	// rotated one is picked up without a restart; nil for a public client.
	Secret func() (string, error)
	// Provider is what an integrator configures from the provider's
	// documentation.
	Provider tokenmanager.Provider
	Clock    clockwork.Clock
	HTTP     *http.Client
	Logger   *slog.Logger
}

// ProviderOf is what an integrator configures from the documentation of
// the provider that profile p simulates.
func ProviderOf(p profile.Profile) tokenmanager.Provider {
	return tokenmanager.Provider{
		OfflineAccessType: p.OfflineAccess == profile.OfflineAccessType,
		Rotates:           p.Refresh.Rotation != profile.RotationNone,
		Grace:             p.Refresh.Grace.D(),
	}
}

// Build makes the manager: tokenmanager.New, or a broken variant's.
type Build func(tokenmanager.Config) (*tokenmanager.Manager, error)

// Result is how an operation ended, in the protocol's outcomes.
type Result struct {
	Outcome contract.Outcome
	Reason  contract.Reason
	Detail  string
	// Err is the error the outcome was read from, nil for ok: a server
	// that hands the outcome on (a backend-for-frontend) reads when to try
	// again from it.
	Err error
}

// App is one running application: a manager on the state directory, and
// the authorization it has in progress.
type App struct {
	m        *tokenmanager.Manager
	resource string
	// anyCallback is the no_state_check flaw: every callback is taken, and
	// none uses up the authorization in progress.
	anyCallback bool

	mu sync.Mutex
	// pending is the authorization in progress, until its callback; nil
	// when none is.
	pending *tokenmanager.Authorization
}

// storeKey is the one key the application keeps its user's grant under.
const storeKey = "user"

// stateKey encrypts the token files. A fixed key is fine: the files live
// in a temporary directory of one run, and a restart must read them back.
var stateKey = []byte("oauthsim conformance state key!!")

// New discovers the provider and builds the application's manager.
func New(ctx context.Context, s Settings, build Build) (*App, error) {
	keys, err := tokenmanager.NewKeyring("k1", map[string][]byte{"k1": stateKey})
	if err != nil {
		return nil, err
	}
	store, err := tokenmanager.NewFileStore(filepath.Join(s.StateDir, "tokens"), keys)
	if err != nil {
		return nil, err
	}
	endpoints, err := tokenmanager.Discover(ctx, s.HTTP, s.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover the provider: %w", err)
	}
	cfg := tokenmanager.Config{
		Endpoints: endpoints, ClientID: s.ClientID, RedirectURL: s.RedirectURI, Scopes: s.Scopes,
		Store: store, Key: storeKey, Clock: s.Clock, HTTPClient: s.HTTP, Logger: s.Logger,
	}
	if s.Secret == nil {
		cfg.AuthStyle = tokenmanager.AuthNone // a public client: PKCE, no secret
	} else {
		cfg.ClientSecret = func(context.Context) (string, error) { return s.Secret() }
	}
	cfg.ForProvider(s.Provider)
	m, err := build(cfg)
	if err != nil {
		return nil, err
	}
	return &App{m: m, resource: s.Resource, anyCallback: flaw.Of(m) == flaw.NoStateCheck}, nil
}

// AuthorizationURL starts an authorization and remembers it (its state,
// PKCE verifier and nonce) for the callback. A new one replaces one still
// in progress, whose callback is then refused.
func (a *App) AuthorizationURL() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	auth, err := a.m.AuthCodeURL(hex.EncodeToString(b), nil)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	a.pending = &auth
	a.mu.Unlock()
	return auth.URL, nil
}

// CompleteAuthorization checks the callback's state and redeems its code.
// The authorization in progress is used up by the first callback, whatever
// becomes of it: a callback coming again (a reload of the redirect, an
// attacker replaying it) finds none, and its code is never sent.
func (a *App) CompleteAuthorization(ctx context.Context, callback string) Result {
	a.mu.Lock()
	pending := a.pending
	if !a.anyCallback {
		a.pending = nil
	}
	a.mu.Unlock()
	u, err := url.Parse(callback)
	if err != nil {
		return Result{Outcome: contract.OutcomeError, Detail: err.Error()}
	}
	q := u.Query()
	if !a.anyCallback {
		// RFC 6749 §10.12: the state ties the callback to the browser that
		// started the authorization; checked before anything else in the
		// callback is believed, an error included.
		switch state := q.Get("state"); {
		case pending == nil:
			return Result{Outcome: contract.OutcomeError, Detail: "no authorization is in progress: the callback is a replay, or was never asked for"}
		case state == "":
			return Result{Outcome: contract.OutcomeError, Detail: "the callback has no state"}
		case subtle.ConstantTimeCompare([]byte(state), []byte(pending.State)) != 1:
			return Result{Outcome: contract.OutcomeError, Detail: "the callback's state does not match the authorization in progress"}
		}
	}
	if q.Get("error") != "" {
		return Result{Outcome: contract.OutcomeError, Detail: "authorization refused: " + q.Get("error") + " " + q.Get("error_description")}
	}
	if pending == nil {
		pending = &tokenmanager.Authorization{}
	}
	_, err = a.m.Exchange(ctx, q.Get("code"), *pending)
	return classify(err)
}

// Call makes one GET of the API through the manager. The error is only for
// a request that could not be made at all.
func (a *App) Call(ctx context.Context) (Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.resource, nil)
	if err != nil {
		return Result{}, err
	}
	resp, err := a.m.Do(ctx, req)
	if err != nil {
		return classify(err), nil
	}
	resp.Body.Close()
	switch out := tokenmanager.APIOutcome(resp.StatusCode); out {
	case contract.OutcomeOK:
		return Result{Outcome: out}, nil
	case contract.OutcomeUnauthorized:
		return Result{Outcome: out, Detail: resp.Status}, nil
	default:
		return Result{Outcome: out, Detail: "the API answered " + resp.Status}, nil
	}
}

// Token is a usable access token for a page of the application to call
// the API with (a backend-for-frontend hands it out), refreshed first when
// due. rejected, when not "", is a token the API refused with 401: a new
// one is asked for, once for every page that reports it.
func (a *App) Token(ctx context.Context, rejected string) (tokenmanager.Token, Result) {
	t, err := a.m.Token(ctx)
	if err == nil && rejected != "" && t.AccessToken == rejected {
		t, err = a.m.Refused(ctx, rejected)
	}
	if err != nil {
		return tokenmanager.Token{}, classify(err)
	}
	return t, Result{Outcome: contract.OutcomeOK}
}

// Logout revokes and forgets the user's tokens.
func (a *App) Logout(ctx context.Context) Result { return classify(a.m.Logout(ctx)) }

// classify maps the reference's errors onto the protocol's outcomes.
func classify(err error) Result {
	outcome, reason := tokenmanager.Outcome(err)
	res := Result{Outcome: outcome, Reason: reason, Err: err}
	if err != nil {
		res.Detail = err.Error()
	}
	return res
}
