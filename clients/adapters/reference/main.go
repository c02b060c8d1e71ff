// Command reference is the reference token manager (clients/tokenmanager)
// behind the client protocol of clients/PROTOCOL.md, so that the harness
// can run it as a subprocess like any other client: its verdicts must equal
// those of the in-process run. With -mutant NAME it is that broken variant.
//
//	oauthsim conform --client-cmd 'go run ./clients/adapters/reference'
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"github.com/jonboulle/clockwork"

	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/clients/protocol"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
)

// stateKey encrypts the token files, which live in the run's state
// directory and must be readable after a restart.
var stateKey = []byte("oauthsim conformance state key!!")

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
	name, build := "reference", tokenmanager.New
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
	keys, err := tokenmanager.NewKeyring("k1", map[string][]byte{"k1": stateKey})
	if err != nil {
		return err
	}
	store, err := tokenmanager.NewFileStore(filepath.Join(env.StateDir, "tokens"), keys)
	if err != nil {
		return err
	}
	httpClient := &http.Client{}
	endpoints, err := tokenmanager.Discover(context.Background(), httpClient, env.Issuer)
	if err != nil {
		return err
	}
	cfg := tokenmanager.Config{
		Endpoints: endpoints, ClientID: env.ClientID, RedirectURL: env.RedirectURI, Scopes: env.Scopes,
		Store: store, Key: "user", Clock: clock, HTTPClient: httpClient,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if env.SecretFile == "" {
		cfg.AuthStyle = tokenmanager.AuthNone
	} else {
		cfg.ClientSecret = func(context.Context) (string, error) { return env.Secret() }
	}
	cfg.ForProvider(tokenmanager.Provider{OfflineAccessType: env.OfflineAccessType, Rotates: env.Rotation != "none", Grace: env.Grace})
	m, err := build(cfg)
	if err != nil {
		return err
	}
	a := &adapter{m: m, resource: env.Resource, http: httpClient, clock: clock}
	caps := []string{"refresh", "restart", "concurrency", "logout", "secret_rotation", "shared_state", "clock:now"}
	return protocol.Serve(os.Stdin, os.Stdout, protocol.Hello{Name: name, Version: "dev", Capabilities: caps}, a.serve)
}

type adapter struct {
	m        *tokenmanager.Manager
	resource string
	http     *http.Client
	clock    *clockwork.FakeClock

	mu              sync.Mutex
	state, verifier string
}

func (a *adapter) serve(ctx context.Context, r protocol.Request) protocol.Response {
	a.mu.Lock()
	if d := r.Now.Sub(a.clock.Now()); d > 0 {
		a.clock.Advance(d)
	}
	a.mu.Unlock()
	switch r.Op {
	case "authorize":
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		u, verifier, err := a.m.AuthCodeURL(hex.EncodeToString(b), nil)
		if err != nil {
			return protocol.Response{Error: err.Error()}
		}
		a.mu.Lock()
		a.state, a.verifier = hex.EncodeToString(b), verifier
		a.mu.Unlock()
		return protocol.Response{URL: u}
	case "callback":
		u, err := url.Parse(r.URL)
		if err != nil {
			return protocol.Response{Outcome: "error", Detail: err.Error()}
		}
		q := u.Query()
		a.mu.Lock()
		state, verifier := a.state, a.verifier
		a.mu.Unlock()
		switch {
		case q.Get("error") != "":
			return protocol.Response{Outcome: "error", Detail: "authorization refused: " + q.Get("error")}
		case q.Get("state") != state:
			return protocol.Response{Outcome: "error", Detail: "the callback's state does not match"}
		}
		_, err = a.m.Exchange(ctx, q.Get("code"), verifier)
		return respond(err)
	case "call":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.resource, nil)
		if err != nil {
			return protocol.Response{Error: err.Error()}
		}
		resp, err := a.m.Do(ctx, req)
		if err != nil {
			return respond(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return protocol.Response{Outcome: "ok"}
		case http.StatusUnauthorized:
			return protocol.Response{Outcome: "unauthorized", Detail: resp.Status}
		}
		return protocol.Response{Outcome: "error", Detail: "the API answered " + resp.Status}
	case "logout":
		return respond(a.m.Logout(ctx))
	case "reload", "time":
		// The manager reads the secret file on every token request, and
		// the clock moved above.
		return protocol.Response{}
	}
	return protocol.Response{Error: "unknown op " + r.Op}
}

func respond(err error) protocol.Response {
	outcome, reason := tokenmanager.Outcome(err)
	resp := protocol.Response{Outcome: outcome, Reason: string(reason)}
	if err != nil {
		resp.Detail = err.Error()
	}
	return resp
}
