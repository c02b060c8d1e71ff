// Command reference is the reference token manager (clients/tokenmanager)
// behind the client protocol of clients/PROTOCOL.md, so that the harness
// can run it as a subprocess like any other client: its verdicts must equal
// those of the in-process run, which runs the same application
// (clients/refapp). With -mutant NAME it is that broken variant.
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
		Resource: env.Resource, StateDir: env.StateDir,
		Provider: tokenmanager.Provider{OfflineAccessType: env.OfflineAccessType, Rotates: env.Rotation != contract.RotationNone, Grace: env.Grace},
		Clock:    simClock{sim: clock},
		HTTP:     &http.Client{},
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if env.SecretFile != "" {
		s.Secret = env.Secret
	}
	app, err := refapp.New(context.Background(), s, build)
	if err != nil {
		return err
	}
	a := &adapter{app: app}
	caps := []contract.Capability{contract.CapRefresh, contract.CapRestart, contract.CapConcurrency, contract.CapLogout,
		contract.CapSecretRotation, contract.CapSharedState, contract.CapClockNow}
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
	case contract.OpAuthorize:
		u, err := a.app.AuthorizationURL()
		if err != nil {
			return contract.Response{Error: err.Error()}
		}
		return contract.Response{URL: u}
	case contract.OpCallback:
		return respond(a.app.CompleteAuthorization(ctx, r.URL))
	case contract.OpCall:
		res, err := a.app.Call(ctx)
		if err != nil {
			return contract.Response{Error: err.Error()}
		}
		return respond(res)
	case contract.OpLogout:
		return respond(a.app.Logout(ctx))
	case contract.OpReload, contract.OpTime:
		// The manager reads the secret file on every token request, and
		// Serve has set the clock from the request.
		return contract.Response{}
	}
	return contract.Response{Error: "unknown op " + string(r.Op)}
}

func respond(r refapp.Result) contract.Response {
	return contract.Response{Outcome: r.Outcome, Reason: r.Reason, Detail: r.Detail}
}
