package conformance

import (
	"context"
	"io"
	"net/http"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Client is a client under test: a token manager the harness can start as
// a process, stop and start again.
type Client interface {
	// Name identifies the client in reports ("reference", "mutant/NAME").
	Name() string
	// Describe says in a line what the client is, and Version which build.
	Describe() string
	Version() string
	// Capabilities are what the client can do; a scenario that requires
	// more is skipped for it.
	Capabilities() []contract.Capability
	// Start starts one process of the client. The state directory in env
	// outlives the process: a restart is Stop then Start on the same env.
	Start(ctx context.Context, env Env) (Process, error)
}

// Unavailable is implemented by clients that may be unable to run on this
// machine; a non-empty answer skips every run with that reason.
type Unavailable interface {
	Unavailable() string
}

// Env is what a client process is given: where the provider is, who it
// is, and where its state lives.
type Env struct {
	// Issuer is the provider's base URL; its discovery document names the
	// endpoints. Resource is the protected API the client calls.
	Issuer   string
	Resource string
	ClientID string
	// SecretFile holds the current client secret and is rewritten when the
	// secret is rotated; empty for a public client.
	SecretFile  string
	RedirectURI string
	Scopes      []string
	// StateDir survives restarts; processes of one run share it.
	StateDir string
	// Profile is the provider the scenario simulates, as the client's
	// integrator would know it from the provider's documentation (whether
	// it rotates refresh tokens, its grace windows, how offline access is
	// asked for).
	Profile profile.Profile
	// Clock is the sim clock and HTTP a client for loopback requests to the
	// simulator. Only clients in the harness's own process can use them; a
	// client in another process learns the sim time from the harness. The
	// clock runs with the wall clock while an operation is in flight.
	Clock *clock.Flow
	HTTP  *http.Client
	// Output receives what the client writes (its log): the harness
	// searches it for leaked tokens and secrets.
	Output io.Writer
	// Answers receives the lines a client in another process answers the
	// protocol with, as written, searched as Output is: a token in any
	// field of an answer is a leak as much as one in the log.
	Answers io.Writer
}

// Process is one running process of a client under test. The harness may
// call Call on one process from several goroutines at once (a step of
// concurrent calls): a process must serve them concurrently, as its token
// manager would serve an application's callers. An error from any method
// means the process failed (it crashed, hung, or broke its protocol): the
// run cannot go on, and is reported as an error rather than judged.
type Process interface {
	// AuthorizationURL starts an authorization and returns the URL to send
	// the user's browser to.
	AuthorizationURL(ctx context.Context) (string, error)
	// CompleteAuthorization hands the client the redirect back (the full
	// callback URL with code and state) and returns how that ended.
	CompleteAuthorization(ctx context.Context, callback string) (Result, error)
	// Call makes one authenticated GET of Env.Resource through the token
	// manager and returns how it ended.
	Call(ctx context.Context) (Result, error)
	// ServiceCall makes one GET of Env.Resource as the client itself, with
	// a token of the client credentials grant (capability client_credentials).
	ServiceCall(ctx context.Context) (Result, error)
	// Logout logs the user out, revoking what the client holds.
	Logout(ctx context.Context) (Result, error)
	// Reload tells the process its configuration changed: the client
	// secret in Env.SecretFile was rotated.
	Reload(ctx context.Context) error
	// Tick tells the process the sim clock moved.
	Tick(ctx context.Context) error
	// Stop ends the process, within ctx's deadline. A stopped process is
	// not used again.
	Stop(ctx context.Context) error
}

// Result is how one client operation ended: one of the protocol's
// outcomes, with a reason for a reauthorization and the client's own words.
type Result struct {
	Outcome contract.Outcome
	Reason  contract.Reason
	Detail  string
}
