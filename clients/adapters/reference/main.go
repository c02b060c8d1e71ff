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
	"sync"

	"github.com/jonboulle/clockwork"

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
	// clock:now: the manager reads time only from this clock, which each
	// request moves to the harness's sim time.
	clock := clockwork.NewFakeClockAt(env.Start)
	s := refapp.Settings{
		Issuer: env.Issuer, ClientID: env.ClientID, RedirectURI: env.RedirectURI, Scopes: env.Scopes,
		Resource: env.Resource, StateDir: env.StateDir,
		Provider: tokenmanager.Provider{OfflineAccessType: env.OfflineAccessType, Rotates: env.Rotation != "none", Grace: env.Grace},
		Clock:    clock,
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
	a := &adapter{app: app, clock: clock}
	caps := []string{"refresh", "restart", "concurrency", "logout", "secret_rotation", "shared_state", "clock:now"}
	return protocol.Serve(os.Stdin, os.Stdout, protocol.Hello{Name: name, Version: "dev", Capabilities: caps}, a.serve)
}

type adapter struct {
	app *refapp.App

	// mu makes reading and moving the clock one step: two requests that
	// carry the same time must not move it twice.
	mu    sync.Mutex
	clock *clockwork.FakeClock
}

func (a *adapter) serve(ctx context.Context, r protocol.Request) protocol.Response {
	a.mu.Lock()
	if d := r.Now.Sub(a.clock.Now()); d > 0 {
		a.clock.Advance(d)
	}
	a.mu.Unlock()
	switch r.Op {
	case "authorize":
		u, err := a.app.AuthorizationURL()
		if err != nil {
			return protocol.Response{Error: err.Error()}
		}
		return protocol.Response{URL: u}
	case "callback":
		return respond(a.app.CompleteAuthorization(ctx, r.URL))
	case "call":
		res, err := a.app.Call(ctx)
		if err != nil {
			return protocol.Response{Error: err.Error()}
		}
		return respond(res)
	case "logout":
		return respond(a.app.Logout(ctx))
	case "reload", "time":
		// The manager reads the secret file on every token request, and
		// the clock moved above.
		return protocol.Response{}
	}
	return protocol.Response{Error: "unknown op " + r.Op}
}

func respond(r refapp.Result) protocol.Response {
	return protocol.Response{Outcome: r.Outcome, Reason: r.Reason, Detail: r.Detail}
}
