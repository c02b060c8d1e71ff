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
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/internal/flaw"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Settings is what the application is configured with.
type Settings struct {
	// Issuer, ClientID, RedirectURI, Secret and Provider are the
	// application's client registration, when Tenants is empty.
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
	// StorageKeyFile holds the keys the token files are encrypted with
	// (clients/PROTOCOL.md, Storage keys): the first line's encrypts, the
	// others decrypt what was saved before. New reads it, and StorageKey
	// reads it again after a rotation. Empty, the files are encrypted with
	// a key built into the application, as they were before key files: an
	// application started without one (a backend-for-frontend's session,
	// a test) keeps working, with its tokens out of plain sight, but
	// anyone with the program can decrypt them, and StorageKey fails.
	StorageKeyFile string
	// Tenants are the client registrations the application serves, the
	// first the default (clients/PROTOCOL.md, Tenants). When set, they
	// replace ClientID, RedirectURI, Secret and Provider, and each keeps
	// its grant apart. Empty, the application serves one registration.
	Tenants []Tenant
	Clock   clockwork.Clock
	HTTP    *http.Client
	Logger  *slog.Logger
}

// Tenant is one client registration of a multi-tenant application: an
// enterprise customer's own OAuth app at the same provider.
type Tenant struct {
	// Name is what App.Tenant calls it.
	Name                  string
	ClientID, RedirectURI string
	// Secret reads the tenant's client secret, on every token request; nil
	// for a public client.
	Secret   func() (string, error)
	Provider tokenmanager.Provider
}

// TenantOf is the registration of a tenant of the client protocol
// (OAUTHSIM_TENANTS): its secret is read from its file on every token
// request, and what the provider documents of its refresh tokens comes
// from its own rotation and grace. offlineAccessType is how the provider
// asks for offline access, the same for every tenant.
func TenantOf(t contract.Tenant, offlineAccessType bool) Tenant {
	out := Tenant{
		Name: t.Name, ClientID: t.ClientID, RedirectURI: t.RedirectURI,
		Provider: tokenmanager.Provider{
			OfflineAccessType: offlineAccessType,
			Rotates:           t.RefreshRotation != contract.RotationNone,
			Grace:             time.Duration(t.RefreshGrace) * time.Second,
		},
	}
	if file := t.ClientSecretFile; file != "" {
		out.Secret = func() (string, error) {
			b, err := os.ReadFile(file)
			return strings.TrimSpace(string(b)), err
		}
	}
	return out
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
// the authorization it has in progress. A multi-tenant application is an
// App for each tenant, each with its own manager and authorization, over
// the same state directory.
type App struct {
	m        *tokenmanager.Manager
	resource string
	// anyCallback is the no_state_check flaw: every callback is taken, and
	// none uses up the authorization in progress.
	anyCallback bool
	// all is what the tenants share: the store and every tenant's App.
	all *shared

	mu sync.Mutex
	// pending is the authorization in progress, until its callback; nil
	// when none is.
	pending *tokenmanager.Authorization
}

// shared is what the Apps of one application's tenants have in common.
type shared struct {
	vault *vault
	// names and apps are the tenants in order, the first the default;
	// names is nil for an application of one registration.
	names []string
	apps  []*App
}

// storeKey is the one key the application keeps its user's grant under:
// the default registration's. Every other tenant's key names the tenant
// (tenantKey), so that no tenant ever loads another's grant.
const storeKey = "user"

// tenantKey is the store key of the grant of tenant name, not the default.
func tenantKey(name string) string { return storeKey + "@tenant:" + name }

// New discovers the provider and builds the application's manager, one
// for every tenant.
func New(ctx context.Context, s Settings, build Build) (*App, error) {
	tenants := s.Tenants
	if len(tenants) == 0 {
		tenants = []Tenant{{ClientID: s.ClientID, RedirectURI: s.RedirectURI, Secret: s.Secret, Provider: s.Provider}}
	}
	seen := map[string]bool{}
	for _, t := range s.Tenants {
		if t.Name == "" || seen[t.Name] {
			return nil, fmt.Errorf("tenants: every tenant needs a name of its own (%q)", t.Name)
		}
		seen[t.Name] = true
	}
	v, err := openVault(filepath.Join(s.StateDir, "tokens"), s.StorageKeyFile)
	if err != nil {
		return nil, err
	}
	endpoints, err := tokenmanager.Discover(ctx, s.HTTP, s.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover the provider: %w", err)
	}
	all := &shared{vault: v}
	var f flaw.Flaw
	for i, t := range tenants {
		key, logger := storeKey, s.Logger
		if len(s.Tenants) > 0 {
			all.names = append(all.names, t.Name)
			if logger != nil {
				logger = logger.With("tenant", t.Name)
			}
			// The tenant_mix_up flaw keeps every grant under the one key.
			if i > 0 && f != flaw.TenantMixUp {
				key = tenantKey(t.Name)
			}
		}
		cfg := tokenmanager.Config{
			Endpoints: endpoints, ClientID: t.ClientID, RedirectURL: t.RedirectURI, Scopes: s.Scopes,
			Store: v, Key: key, Clock: s.Clock, HTTPClient: s.HTTP, Logger: logger,
		}
		if t.Secret == nil {
			cfg.AuthStyle = tokenmanager.AuthNone // a public client: PKCE, no secret
		} else {
			cfg.ClientSecret = func(context.Context) (string, error) { return t.Secret() }
		}
		cfg.ForProvider(t.Provider)
		m, err := build(cfg)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			// The flaws that live in the application, not in the manager:
			// the default tenant's manager says which, before anything is
			// loaded or another tenant's key chosen.
			f = flaw.Of(m)
			if err := v.flawed(f); err != nil {
				return nil, err
			}
		}
		all.apps = append(all.apps, &App{m: m, resource: s.Resource, anyCallback: f == flaw.NoStateCheck, all: all})
	}
	return all.apps[0], nil
}

// Tenant is the application as tenant name sees it: its operations use
// that tenant's registration and grant. "" is the default tenant (the
// first), and so is its name. A name the application does not serve is an
// error.
func (a *App) Tenant(name string) (*App, error) {
	if name == "" {
		return a.all.apps[0], nil
	}
	for i, n := range a.all.names {
		if n == name {
			return a.all.apps[i], nil
		}
	}
	if len(a.all.names) == 0 {
		return nil, fmt.Errorf("no tenant %q: the application serves a single registration", name)
	}
	return nil, fmt.Errorf("no tenant %q (the tenants are %s)", name, strings.Join(a.all.names, ", "))
}

// StorageKey reads the storage key file again, after a rotation: from
// then on what the application saves is encrypted with the new current
// key, and what it saved before still decrypts with the older ones. Calls
// in flight meanwhile use the old keyring or the new one, whole.
func (a *App) StorageKey() error { return a.all.vault.rotate() }

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
