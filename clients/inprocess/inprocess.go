// Package inprocess runs the reference token manager and its broken variants
// in the harness's own process, on the sim clock, as clients the conformance
// harness judges: the built-in clients of `oauthsim conform`. They are
// plugged into the harness from cmd, so that package conformance imports no
// client it judges.
package inprocess

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"

	"github.com/jonboulle/clockwork"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/clients/refapp"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// goClient is a token manager built from the reference in this repository,
// run in the harness's process on the sim clock.
type goClient struct {
	name, description, version string
	build                      func(tokenmanager.Config) (*tokenmanager.Manager, error)
}

// Reference is the reference token manager (clients/tokenmanager).
func Reference(version string) conformance.Client {
	return goClient{name: "reference", description: "the reference token manager (clients/tokenmanager)", version: version, build: tokenmanager.New}
}

// Mutant is a broken variant of the reference, named "mutant/NAME".
func Mutant(m mutants.Mutant, version string) conformance.Client {
	return goClient{name: "mutant/" + m.Name, description: m.Bug, version: version, build: m.New}
}

// Builtin lists the clients built into oauthsim: the reference, then every
// mutant by name.
func Builtin(version string) []conformance.Client {
	out := []conformance.Client{Reference(version)}
	for _, m := range mutants.All() {
		out = append(out, Mutant(m, version))
	}
	return out
}

// LookupBuiltin finds a built-in client by name.
func LookupBuiltin(name, version string) (conformance.Client, bool) {
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
// user's token manager of a process (it encrypts its files with the keys of
// Env.StorageKeyFile and serves Env.Tenants); it makes no client
// credentials calls and is no browser. A mutant declares the same: one
// that does not do what it declares is what the checks must catch.
func (c goClient) Capabilities() []contract.Capability {
	var caps []contract.Capability
	for _, c := range contract.Capabilities() {
		switch c {
		case contract.CapClientCredentials, contract.CapBrowser, contract.CapSPA:
			continue
		}
		caps = append(caps, c)
	}
	return caps
}

func (c goClient) Start(ctx context.Context, env conformance.Env) (conformance.Process, error) {
	s := refapp.Settings{
		Issuer: env.Issuer, ClientID: env.ClientID, RedirectURI: env.RedirectURI, Scopes: env.Scopes,
		Resource: env.Resource, StateDir: env.StateDir, StorageKeyFile: env.StorageKeyFile,
		Provider: refapp.ProviderOf(env.Profile),
		Clock:    env.Clock,
		HTTP:     env.HTTP,
		Logger:   slog.New(slog.NewTextHandler(env.Output, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: simTime(env.Clock)})),
	}
	if env.SecretFile != "" {
		s.Secret = func() (string, error) {
			b, err := os.ReadFile(env.SecretFile)
			return strings.TrimSpace(string(b)), err
		}
	}
	for _, t := range env.Tenants {
		s.Tenants = append(s.Tenants, refapp.TenantOf(t, env.Profile.OfflineAccess == profile.OfflineAccessType))
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
// application on the run's state directory. It is a conformance.KeyRotator
// and a conformance.Tenanted.
type goProcess struct {
	app *refapp.App
}

var (
	_ conformance.KeyRotator = (*goProcess)(nil)
	_ conformance.Tenanted   = (*goProcess)(nil)
)

// StorageKey reads Env.StorageKeyFile again: a new current key.
func (p *goProcess) StorageKey(context.Context) error { return p.app.StorageKey() }

// Tenant is the process as tenant name sees it. A name the run does not
// have is not refused here, where there is no error to return, but by
// each of the view's operations.
func (p *goProcess) Tenant(name string) conformance.Process {
	return &tenantProcess{goProcess: p, name: name}
}

// tenantProcess is a goProcess whose user operations are one tenant's;
// the others (ServiceCall, Tick, Stop) are the process's.
type tenantProcess struct {
	*goProcess
	name string
}

func (t *tenantProcess) AuthorizationURL(context.Context) (string, error) {
	app, err := t.app.Tenant(t.name)
	if err != nil {
		return "", err
	}
	return app.AuthorizationURL()
}

func (t *tenantProcess) CompleteAuthorization(ctx context.Context, callback string) (conformance.Result, error) {
	app, err := t.app.Tenant(t.name)
	if err != nil {
		return conformance.Result{}, err
	}
	return result(app.CompleteAuthorization(ctx, callback)), nil
}

func (t *tenantProcess) Call(ctx context.Context) (conformance.Result, error) {
	app, err := t.app.Tenant(t.name)
	if err != nil {
		return conformance.Result{}, err
	}
	r, err := app.Call(ctx)
	return result(r), err
}

func (t *tenantProcess) Logout(ctx context.Context) (conformance.Result, error) {
	app, err := t.app.Tenant(t.name)
	if err != nil {
		return conformance.Result{}, err
	}
	return result(app.Logout(ctx)), nil
}

// Reload has nothing to do, as the process's: the tenant's manager reads
// its secret file on every token request. An unknown tenant is an error.
func (t *tenantProcess) Reload(context.Context) error {
	_, err := t.app.Tenant(t.name)
	return err
}

func (p *goProcess) AuthorizationURL(context.Context) (string, error) {
	return p.app.AuthorizationURL()
}

func (p *goProcess) CompleteAuthorization(ctx context.Context, callback string) (conformance.Result, error) {
	return result(p.app.CompleteAuthorization(ctx, callback)), nil
}

func (p *goProcess) Call(ctx context.Context) (conformance.Result, error) {
	r, err := p.app.Call(ctx)
	return result(r), err
}

func (p *goProcess) Logout(ctx context.Context) (conformance.Result, error) {
	return result(p.app.Logout(ctx)), nil
}

// ServiceCall is not offered: the reference manages users' grants, and
// does not declare client_credentials.
func (p *goProcess) ServiceCall(context.Context) (conformance.Result, error) {
	return conformance.Result{}, errors.New("the reference has no client credentials calls")
}

// Reload has nothing to do: the manager reads the secret file on every
// token request.
func (p *goProcess) Reload(context.Context) error { return nil }

// Tick has nothing to do: the manager reads the sim clock itself.
func (p *goProcess) Tick(context.Context) error { return nil }

// Stop has nothing to end: the manager's state is in the store.
func (p *goProcess) Stop(context.Context) error { return nil }

func result(r refapp.Result) conformance.Result {
	return conformance.Result{Outcome: r.Outcome, Reason: r.Reason, Detail: r.Detail}
}
