// Command reference is the reference token manager (clients/tokenmanager)
// behind the client protocol of clients/PROTOCOL.md, so that the harness
// can run it as a subprocess like any other client: its verdicts must equal
// those of the in-process run, which runs the same application
// (clients/refapp). With -mutant NAME it is that broken variant.
//
// It encrypts its token files with the keys of OAUTHSIM_STORAGE_KEY_FILE,
// reading the file again on storage_key, and serves every tenant of
// OAUTHSIM_TENANTS, each request for the one it names: its hello lists
// encrypts_at_rest, key_rotation and multi_tenant. Without a key file (an
// older harness, a run by hand) it encrypts with the application's
// built-in key, and storage_key fails.
//
//	oauthsim conform --client-cmd 'go run ./clients/adapters/reference'
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/clients/protocol"
	"github.com/oauthsim/oauthsim/clients/refapp"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
)

func main() {
	mutant := flag.String("mutant", "", "run the broken variant NAME (see oauthsim clients) instead of the reference")
	flag.Parse()
	if err := run(*mutant); err != nil {
		fmt.Fprintln(os.Stderr, "reference adapter:", err)
		os.Exit(1)
	}
}

func run(mutant string) error {
	env, err := protocol.ReadEnv()
	if err != nil {
		return err
	}
	name, build := "reference", refapp.Build(tokenmanager.New)
	if mutant != "" {
		m, ok := mutants.Lookup(mutant)
		if !ok {
			return fmt.Errorf("no mutant %q", mutant)
		}
		name, build = "mutant/"+m.Name, m.New
	}
	// clock:now: the manager reads time only from this clock, which Serve
	// sets from each request's now.
	clock := protocol.NewClock(env.Start)
	s := refapp.Settings{
		Issuer: env.Issuer, ClientID: env.ClientID, RedirectURI: env.RedirectURI, Scopes: env.Scopes,
		Resource: env.Resource, StateDir: env.StateDir, StorageKeyFile: env.StorageKeyFile,
		Provider: tokenmanager.Provider{OfflineAccessType: env.OfflineAccessType, Rotates: env.Rotation != contract.RotationNone, Grace: env.Grace},
		Clock:    simClock{sim: clock},
		HTTP:     &http.Client{},
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if env.SecretFile != "" {
		s.Secret = env.Secret
	}
	for _, t := range env.Tenants {
		s.Tenants = append(s.Tenants, refapp.TenantOf(t, env.OfflineAccessType))
	}
	app, err := refapp.New(context.Background(), s, build)
	if err != nil {
		return err
	}
	a := &adapter{app: app}
	caps := []contract.Capability{contract.CapRefresh, contract.CapRestart, contract.CapConcurrency, contract.CapLogout,
		contract.CapSecretRotation, contract.CapSharedState, contract.CapEncryptsAtRest, contract.CapKeyRotation, contract.CapMultiTenant,
		contract.CapClockNow}
	return protocol.Serve(os.Stdin, os.Stdout, contract.Hello{Name: name, Version: "dev", Capabilities: caps}, clock, a.serve)
}

// simClock is the sim time of a protocol.Clock as the clockwork.Clock the
// manager takes. The manager only reads the time; the embedded Clock is
// nil, so that a timer set on it panics instead of running on a clock
// that would miss the harness's jumps.
type simClock struct {
	clockwork.Clock
	sim *protocol.Clock
}

func (c simClock) Now() time.Time                  { return c.sim.Now() }
func (c simClock) Since(t time.Time) time.Duration { return c.sim.Now().Sub(t) }
func (c simClock) Until(t time.Time) time.Duration { return t.Sub(c.sim.Now()) }

type adapter struct {
	app *refapp.App
}

func (a *adapter) serve(ctx context.Context, r contract.Request) contract.Response {
	switch r.Op {
	case contract.OpStorageKey:
		if err := a.app.StorageKey(); err != nil {
			return contract.Response{Error: err.Error()}
		}
		return contract.Response{}
	case contract.OpTime:
		// Serve has set the clock from the request.
		return contract.Response{}
	}
	// Every other op is a tenant's: the one it names, or the default.
	app, err := a.app.Tenant(r.Tenant)
	if err != nil {
		return contract.Response{Error: err.Error()}
	}
	switch r.Op {
	case contract.OpAuthorize:
		u, err := app.AuthorizationURL()
		if err != nil {
			return contract.Response{Error: err.Error()}
		}
		return contract.Response{URL: u}
	case contract.OpCallback:
		return respond(app.CompleteAuthorization(ctx, r.URL))
	case contract.OpCall:
		res, err := app.Call(ctx)
		if err != nil {
			return contract.Response{Error: err.Error()}
		}
		return respond(res)
	case contract.OpLogout:
		return respond(app.Logout(ctx))
	case contract.OpReload:
		// The tenant's manager reads its secret file on every token request.
		return contract.Response{}
	}
	return contract.Response{Error: "unknown op " + string(r.Op)}
}

func respond(r refapp.Result) contract.Response {
	return contract.Response{Outcome: r.Outcome, Reason: r.Reason, Detail: r.Detail}
}
