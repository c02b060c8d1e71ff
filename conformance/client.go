package conformance

import (
	"context"
	"io"
	"net/http"
	"time"

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
	// Browser is how the scenario sets the browser up, for a browser
	// client (capability browser); nil for a scenario without browser.
	Browser *contract.BrowserSetup
	// StorageKeyFile holds the keys the client may encrypt its state with
	// (PROTOCOL.md, Storage keys), the current one first; rewritten when
	// the key is rotated. It is outside StateDir.
	StorageKeyFile string
	// Tenants are the client registrations of a scenario that names
	// tenants (capability multi_tenant), the first the default, whose
	// registration ClientID, SecretFile and RedirectURI describe too; nil
	// otherwise.
	Tenants []contract.Tenant
}

// KeyRotator is implemented by a Process of a client with capability
// key_rotation.
type KeyRotator interface {
	// StorageKey tells the process Env.StorageKeyFile changed: a new
	// current key.
	StorageKey(ctx context.Context) error
}

// Tenanted is implemented by a Process of a client with capability
// multi_tenant.
type Tenanted interface {
	// Tenant is the process seen by the tenant of Env.Tenants named name:
	// its operations are that tenant's (a Reload says its secret file
	// changed). Tenant of the first tenant's name is the process itself,
	// or acts as it.
	Tenant(name string) Process
}

// Origins is implemented by a browser client: the origins its pages are
// served from, by host name ("app.localhost", "dash.localhost"...), each
// with the port it listens on. A scenario names the hosts without a port
// (a redirect URI of http://app.localhost/callback); a run gives them the
// client's.
type Origins interface {
	Origins() map[string]string
}

// Browser is a Process that is a web application in a browser: a tab, or
// several, of an application page on one origin embedding dashboards from
// another, whose token manager is under test. The harness drives it
// through these methods where it has them; Call and Tick are not used.
type Browser interface {
	Process
	// Authorize signs user in through the browser itself: the application
	// starts the authorization, the browser follows the provider's pages
	// (the simulator signs the user in by login_hint and sets its session
	// cookie) and the application completes it at its redirect URI. It
	// returns the callback URL the browser came back to ("" when it did
	// not) and how the authorization ended.
	Authorize(ctx context.Context, user string) (callback string, res Result, err error)
	// Load has every dashboard of every open tab load its data from the
	// API once, all at once, and returns how each load ended.
	Load(ctx context.Context) ([]Result, error)
	// Pass lets d of sim time pass in the browser. With suspend false the
	// browser runs: each timer due in between fires at its time, in order,
	// and the browser calls advance to move the sim clock to that time
	// before it fires. With suspend true the machine sleeps: the browser
	// calls advance(d) at once, and overdue timers fire late, once each.
	// The harness's clock runs with the wall clock during Pass, as during
	// any operation.
	Pass(ctx context.Context, d time.Duration, suspend bool, advance func(time.Duration) error) error
	// Browse carries out a browser step.
	Browse(ctx context.Context, a contract.BrowserAction) (Result, error)
	// Log returns what the browser observed since the process started.
	Log() contract.BrowserLog
	// Screenshot is a PNG of each open tab's page as it is now.
	Screenshot(ctx context.Context) ([][]byte, error)
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
