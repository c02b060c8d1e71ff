package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jonboulle/clockwork"

	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// goClient is a token manager built from the reference in this repository,
// run in the harness's process on the sim clock.
type goClient struct {
	name, description, version string
	build                      func(tokenmanager.Config) (*tokenmanager.Manager, error)
}

// Reference is the reference token manager (clients/tokenmanager).
func Reference(version string) Client {
	return goClient{name: "reference", description: "the reference token manager (clients/tokenmanager)", version: version, build: tokenmanager.New}
}

// Mutant is a broken variant of the reference, named "mutant/NAME".
func Mutant(m mutants.Mutant, version string) Client {
	return goClient{name: "mutant/" + m.Name, description: m.Bug, version: version, build: m.New}
}

// Builtin lists the clients built into oauthsim: the reference, then every
// mutant by name.
func Builtin(version string) []Client {
	out := []Client{Reference(version)}
	for _, m := range mutants.All() {
		out = append(out, Mutant(m, version))
	}
	return out
}

// LookupBuiltin finds a built-in client by name.
func LookupBuiltin(name, version string) (Client, bool) {
	for _, c := range Builtin(version) {
		if c.Name() == name {
			return c, true
		}
	}
	return nil, false
}

func (c goClient) Name() string     { return c.name }
func (c goClient) Describe() string { return c.description }
func (c goClient) Version() string  { return c.version }

// Capabilities: the reference can do everything a scenario may ask of a
// user's token manager; it makes no client credentials calls.
func (c goClient) Capabilities() []scenarios.Capability {
	var caps []scenarios.Capability
	for _, c := range scenarios.Capabilities() {
		if c != scenarios.CapClientCredentials {
			caps = append(caps, c)
		}
	}
	return caps
}

// storeKey is the one key the harness's processes keep their grant under.
const storeKey = "user"

// stateKey encrypts the token files. A fixed key is fine: the files live
// in a temporary directory of one run, and a restart must read them back.
var stateKey = []byte("oauthsim conformance state key!!")

func (c goClient) Start(ctx context.Context, env Env) (Process, error) {
	keys, err := tokenmanager.NewKeyring("k1", map[string][]byte{"k1": stateKey})
	if err != nil {
		return nil, err
	}
	store, err := tokenmanager.NewFileStore(filepath.Join(env.StateDir, "tokens"), keys)
	if err != nil {
		return nil, err
	}
	endpoints, err := tokenmanager.Discover(ctx, env.HTTP, env.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover the provider: %w", err)
	}
	cfg := tokenmanager.Config{
		Endpoints:   endpoints,
		ClientID:    env.ClientID,
		RedirectURL: env.RedirectURI,
		Scopes:      env.Scopes,
		Store:       store,
		Key:         storeKey,
		Clock:       env.Clock,
		HTTPClient:  env.HTTP,
		Logger:      slog.New(slog.NewTextHandler(env.Output, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: simTime(env.Clock)})),
	}
	if env.SecretFile == "" {
		cfg.AuthStyle = tokenmanager.AuthNone // a public client: PKCE, no secret
	} else {
		// Read on every token request, as the reference's docs advise, so
		// that a rotated secret is picked up without a restart.
		cfg.ClientSecret = func(context.Context) (string, error) {
			b, err := os.ReadFile(env.SecretFile)
			return strings.TrimSpace(string(b)), err
		}
	}
	// What an integrator configures from the provider's documentation.
	cfg.ForProvider(tokenmanager.Provider{
		OfflineAccessType: env.Profile.OfflineAccess == profile.OfflineAccessType,
		Rotates:           env.Profile.Refresh.Rotation != profile.RotationNone,
		Grace:             env.Profile.Refresh.Grace.D(),
	})
	m, err := c.build(cfg)
	if err != nil {
		return nil, err
	}
	return &goProcess{m: m, resource: env.Resource, http: env.HTTP}, nil
}

// simTime stamps log lines with the sim time, so that they line up with
// the events and the reports' timelines.
func simTime(c clockwork.Clock) func([]string, slog.Attr) slog.Attr {
	return func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			a.Value = slog.TimeValue(c.Now())
		}
		return a
	}
}

// goProcess is one "process" of an in-process client: a manager on the
// run's state directory.
type goProcess struct {
	m        *tokenmanager.Manager
	resource string
	http     *http.Client
	// state and verifier belong to the authorization in progress.
	state, verifier string
}

func (p *goProcess) AuthorizationURL(context.Context) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	p.state = hex.EncodeToString(b)
	u, verifier, err := p.m.AuthCodeURL(p.state, nil)
	p.verifier = verifier
	return u, err
}

func (p *goProcess) CompleteAuthorization(ctx context.Context, callback string) (Result, error) {
	u, err := url.Parse(callback)
	if err != nil {
		return Result{Outcome: scenarios.OutcomeError, Detail: err.Error()}, nil
	}
	q := u.Query()
	if e := q.Get("error"); e != "" {
		return Result{Outcome: scenarios.OutcomeError, Detail: "authorization refused: " + e + " " + q.Get("error_description")}, nil
	}
	if q.Get("state") != p.state {
		return Result{Outcome: scenarios.OutcomeError, Detail: "the callback's state does not match"}, nil
	}
	_, err = p.m.Exchange(ctx, q.Get("code"), p.verifier)
	return classify(err), nil
}

func (p *goProcess) Call(ctx context.Context) (Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.resource, nil)
	if err != nil {
		return Result{}, err
	}
	resp, err := p.m.Do(ctx, req)
	if err != nil {
		return classify(err), nil
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return Result{Outcome: scenarios.OutcomeOK}, nil
	case resp.StatusCode == http.StatusUnauthorized:
		return Result{Outcome: scenarios.OutcomeUnauthorized, Detail: resp.Status}, nil
	}
	return Result{Outcome: scenarios.OutcomeError, Detail: "the API answered " + resp.Status}, nil
}

func (p *goProcess) Logout(ctx context.Context) (Result, error) {
	return classify(p.m.Logout(ctx)), nil
}

// ServiceCall is not offered: the reference manages users' grants, and
// does not declare client_credentials.
func (p *goProcess) ServiceCall(context.Context) (Result, error) {
	return Result{}, errors.New("the reference has no client credentials calls")
}

// Reload has nothing to do: the manager reads the secret file on every
// token request.
func (p *goProcess) Reload(context.Context) error { return nil }

// Tick has nothing to do: the manager reads the sim clock itself.
func (p *goProcess) Tick(context.Context) error { return nil }

// Stop has nothing to end: the manager's state is in the store.
func (p *goProcess) Stop(context.Context) error { return nil }

// classify maps the reference's errors onto the harness's outcomes.
func classify(err error) Result {
	outcome, reason := tokenmanager.Outcome(err)
	res := Result{Outcome: outcome, Reason: string(reason)}
	if err != nil {
		res.Detail = err.Error()
	}
	return res
}

// targets names, per mutant, the check written to catch its bug: the
// harness proves itself by failing each mutant on that check.
var targets = map[string]string{
	"refresh_only_on_401":            CheckNoExpiredAccessToken,
	"keep_old_refresh_token":         CheckNoSupersededRefresh,
	"memory_only":                    CheckReauthorizeWhenDead,
	"no_single_flight":               CheckSingleRefresh,
	"retry_after_invalid_grant":      CheckNoRefreshAfterDead,
	"ignore_retry_after":             CheckRetryAfter,
	"discard_refresh_token_on_error": CheckReauthorizeWhenDead,
	"no_expiry_margin":               CheckNoExpiredAccessToken,
	"refresh_every_call":             CheckNoNeedlessRefresh,
	"forget_offline_access":          CheckAsksForOfflineAccess,
	"logs_tokens":                    CheckNoSecretsInOutput,
	"no_secret_reload":               CheckNoRetiredSecret,
	"error_in_200_is_success":        CheckReauthorizeWhenDead,
	"no_store_lock":                  CheckSingleRefresh,
	"retry_lost_refresh_after_grace": CheckNoSupersededRefresh,
}

// TargetCheck is the id of the check that targets the named mutant's bug
// (name without "mutant/"); false for a name that is no mutant.
func TargetCheck(mutant string) (string, bool) {
	id, ok := targets[mutant]
	return id, ok
}
