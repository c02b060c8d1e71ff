package conformance

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"

	"github.com/jonboulle/clockwork"

	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/clients/refapp"
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

func (c goClient) Start(ctx context.Context, env Env) (Process, error) {
	s := refapp.Settings{
		Issuer: env.Issuer, ClientID: env.ClientID, RedirectURI: env.RedirectURI, Scopes: env.Scopes,
		Resource: env.Resource, StateDir: env.StateDir,
		Provider: tokenmanager.Provider{
			OfflineAccessType: env.Profile.OfflineAccess == profile.OfflineAccessType,
			Rotates:           env.Profile.Refresh.Rotation != profile.RotationNone,
			Grace:             env.Profile.Refresh.Grace.D(),
		},
		Clock:  env.Clock,
		HTTP:   env.HTTP,
		Logger: slog.New(slog.NewTextHandler(env.Output, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: simTime(env.Clock)})),
	}
	if env.SecretFile != "" {
		s.Secret = func() (string, error) {
			b, err := os.ReadFile(env.SecretFile)
			return strings.TrimSpace(string(b)), err
		}
	}
	app, err := refapp.New(ctx, s, c.build)
	if err != nil {
		return nil, err
	}
	return &goProcess{app: app}, nil
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

// goProcess is one "process" of an in-process client: the reference's
// application on the run's state directory.
type goProcess struct {
	app *refapp.App
}

func (p *goProcess) AuthorizationURL(context.Context) (string, error) {
	return p.app.AuthorizationURL()
}

func (p *goProcess) CompleteAuthorization(ctx context.Context, callback string) (Result, error) {
	return result(p.app.CompleteAuthorization(ctx, callback)), nil
}

func (p *goProcess) Call(ctx context.Context) (Result, error) {
	r, err := p.app.Call(ctx)
	return result(r), err
}

func (p *goProcess) Logout(ctx context.Context) (Result, error) {
	return result(p.app.Logout(ctx)), nil
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

func result(r refapp.Result) Result {
	return Result{Outcome: r.Outcome, Reason: r.Reason, Detail: r.Detail}
}

// targets names, per mutant, the check written to catch its bug: the
// harness proves itself by failing each mutant on that check.
var targets = map[string]string{
	"refresh_only_on_401":                   CheckNoExpiredAccessToken,
	"keep_old_refresh_token":                CheckNoSupersededRefresh,
	"memory_only":                           CheckReauthorizeWhenDead,
	"no_single_flight":                      CheckSingleRefresh,
	"retry_after_invalid_grant":             CheckNoRefreshAfterDead,
	"ignore_retry_after":                    CheckRetryAfter,
	"discard_refresh_token_on_error":        CheckReauthorizeWhenDead,
	"no_expiry_margin":                      CheckNoExpiredAccessToken,
	"refresh_every_call":                    CheckNoNeedlessRefresh,
	"forget_offline_access":                 CheckAsksForOfflineAccess,
	"logs_tokens":                           CheckNoSecretsInOutput,
	"no_secret_reload":                      CheckNoRetiredSecret,
	"error_in_200_is_success":               CheckReauthorizeWhenDead,
	"no_store_lock":                         CheckSingleRefresh,
	"retry_lost_refresh_after_grace":        CheckNoSupersededRefresh,
	"refresh_loop_on_401":                   CheckNoRefreshLoop,
	"api_retry_at_once":                     CheckAPIRetryAfter,
	"token_in_error_detail":                 CheckNoSecretsInOutput,
	"dead_grant_as_temporary":               CheckReauthorizeWhenDead,
	"narrow_refresh_scope":                  CheckKeepsOfflineAccess,
	"no_state_check":                        CheckCallbackState,
	"no_pkce":                               CheckPKCE,
	"no_nonce_check":                        CheckNonce,
	"expiry_from_date_header":               CheckNoExpiredAccessToken,
	"lose_refresh_token_on_reauthorization": CheckReauthorizeWhenDead,
}

// TargetCheck is the id of the check that targets the named mutant's bug
// (name without "mutant/"); false for a name that is no mutant.
func TargetCheck(mutant string) (string, bool) {
	id, ok := targets[mutant]
	return id, ok
}
