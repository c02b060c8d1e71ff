// Package refapp is the application around the reference token manager:
// what an integrator writes around clients/tokenmanager to sign a user in
// and call an API. The in-process reference of the conformance harness and
// the reference adapter behind the client protocol both run it, so that
// they differ only in how they are driven, and give the same verdicts.
package refapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"

	"github.com/jonboulle/clockwork"

	"github.com/oauthsim/oauthsim/clients/tokenmanager"
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

// Build makes the manager: tokenmanager.New, or a broken variant's.
type Build func(tokenmanager.Config) (*tokenmanager.Manager, error)

// Result is how an operation ended, in the protocol's outcomes.
type Result struct {
	Outcome, Reason, Detail string
}

// App is one running application: a manager on the state directory, and
// the authorization it has in progress.
type App struct {
	m        *tokenmanager.Manager
	resource string

	mu              sync.Mutex
	state, verifier string
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
	return &App{m: m, resource: s.Resource}, nil
}

// AuthorizationURL starts an authorization and remembers its state and
// PKCE verifier for the callback.
func (a *App) AuthorizationURL() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	state := hex.EncodeToString(b)
	u, verifier, err := a.m.AuthCodeURL(state, nil)
	a.mu.Lock()
	a.state, a.verifier = state, verifier
	a.mu.Unlock()
	return u, err
}

// CompleteAuthorization checks the callback's state and redeems its code.
func (a *App) CompleteAuthorization(ctx context.Context, callback string) Result {
	u, err := url.Parse(callback)
	if err != nil {
		return Result{Outcome: "error", Detail: err.Error()}
	}
	q := u.Query()
	a.mu.Lock()
	state, verifier := a.state, a.verifier
	a.mu.Unlock()
	switch {
	case q.Get("error") != "":
		return Result{Outcome: "error", Detail: "authorization refused: " + q.Get("error") + " " + q.Get("error_description")}
	case q.Get("state") != state:
		return Result{Outcome: "error", Detail: "the callback's state does not match"}
	}
	_, err = a.m.Exchange(ctx, q.Get("code"), verifier)
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
	case "ok":
		return Result{Outcome: out}, nil
	case "unauthorized":
		return Result{Outcome: out, Detail: resp.Status}, nil
	default:
		return Result{Outcome: out, Detail: "the API answered " + resp.Status}, nil
	}
}

// Logout revokes and forgets the user's tokens.
func (a *App) Logout(ctx context.Context) Result { return classify(a.m.Logout(ctx)) }

// classify maps the reference's errors onto the protocol's outcomes.
func classify(err error) Result {
	outcome, reason := tokenmanager.Outcome(err)
	res := Result{Outcome: outcome, Reason: string(reason)}
	if err != nil {
		res.Detail = err.Error()
	}
	return res
}
