package conformance

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Epoch is where every run's sim clock starts.
var Epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// OperationTimeout bounds, in wall time, one client operation: a client
// that takes longer is hung, and the run fails instead of the harness.
var OperationTimeout = 20 * time.Second

// Record is one client's run of one scenario: what was done, what the
// client answered, and the simulator's events.
type Record struct {
	Scenario *scenarios.Scenario
	Client   Client
	// Skipped says why the run did not happen.
	Skipped string
	// Err is why the harness could not carry the run out.
	Err error
	// Steps are the steps carried out, in order.
	Steps  []StepRecord
	Events []events.Event
	// Output is what the client logged; over outputKeep, its beginning and
	// end, with OutputDropped bytes left out between them.
	Output        string
	OutputDropped int64
	Started       time.Time
	Wall          time.Duration
	SimStart      time.Time
	SimEnd        time.Time
	// Secrets are every client secret the client was given; Tokens every
	// token the provider minted for it. Both must stay out of Output.
	Secrets []string
	Tokens  []string
	// TokenKinds are the tokens' types: access and refresh tokens and
	// authorization codes.
	TokenKinds map[string]fosite.TokenType
	// Faults are the faults the run added, by id, as the provider took them.
	Faults map[string]fault.Fault
	// ClientID and User are whose grant the run is about: with tenants,
	// the first tenant's client and the user it last authorized.
	ClientID string
	User     string
	// TenantClients are the registered clients of the scenario's tenants,
	// by tenant name; nil without tenants.
	TenantClients map[string]string
	// AtRest are the credentials found in the client's state directory,
	// each the first time it was seen there; StateFiles counts the files
	// found there over every search.
	AtRest     []StoredCredential
	StateFiles int
	// Answers are the lines of the client's protocol answers (a client in
	// another process), kept and searched as Output is.
	Answers        string
	AnswersDropped int64
	// Browser is what a browser client's browser was seen to do; nil for
	// a client that is no browser.
	Browser *contract.BrowserLog
	// droppedLeaks and droppedAnswerLeaks are the credentials found in
	// the output and answers left out, the latter with those in what was
	// cut from long details and reasons.
	droppedLeaks, droppedAnswerLeaks []hit
	// outputTotal is how many bytes the client logged.
	outputTotal int64
	// masks is built once, on first use: the credentials are known by then.
	masks     *strings.Replacer
	masksOnce sync.Once
}

// needles are every form of the run's credentials (see needles).
func (r *Record) needles() []needle { return needles(r.Tokens, r.Secrets, r.clientIDs()...) }

// clientIDs are the run's client ids: the scenario's client, and every
// tenant's.
func (r *Record) clientIDs() []string {
	ids := []string{r.ClientID}
	for _, name := range slices.Sorted(maps.Keys(r.TenantClients)) {
		if id := r.TenantClients[name]; id != r.ClientID {
			ids = append(ids, id)
		}
	}
	return ids
}

// Mask replaces every token and secret of the run in s, in every form the
// leak check looks for, with [MASKED]: what reports show must not spread
// them further.
func (r *Record) Mask(s string) string {
	if s == "" {
		return s
	}
	r.masksOnce.Do(func() { r.masks = masker(r.needles()) })
	return r.masks.Replace(s)
}

// StepRecord is one step as it was carried out.
type StepRecord struct {
	Step  scenarios.Step
	Index int
	Start time.Time
	End   time.Time
	// FirstSeq and LastSeq bound the events the step caused.
	FirstSeq, LastSeq uint64
	Calls             []CallRecord
	Err               error
	// Code is the authorization code a callback step handed the client:
	// one it must not redeem.
	Code string
	// Screenshots are PNGs of a browser client's tabs after the step.
	Screenshots [][]byte
}

// CallRecord is one client operation and how it ended, with whether the
// user's grant was alive at the provider when it ended.
type CallRecord struct {
	Result
	Time time.Time
	// Live: the provider held a usable refresh token (or, for a grant
	// without one, a live access token) for the user and the client (the
	// tenant's, with tenants).
	Live bool
	// Tenant is the tenant the operation was for; "" without tenants, or
	// for the first.
	Tenant string
	// FirstSeq and LastSeq bound the events of the operation. Operations
	// that ran at once (a step of concurrent calls or processes) cannot be
	// told apart in the log: each has the bounds of all of them.
	FirstSeq, LastSeq uint64
	// Callers is how many operations share those bounds: 1, or the
	// callers of a step that ran them at once.
	Callers int
}

// Run carries sc out against c and records everything. It never panics on
// a misbehaving client: a crash or hang is the record's Err.
func Run(ctx context.Context, sc *scenarios.Scenario, c Client) *Record {
	rec := &Record{Scenario: sc, Client: c, Started: time.Now(), ClientID: sc.Client}
	defer func() { rec.Wall = time.Since(rec.Started) }()
	// A client that could not say what it can do fails every run: skipping
	// them for want of capabilities would hide that it is broken.
	if p, ok := c.(interface{ ProbeError() error }); ok && p.ProbeError() != nil {
		rec.Err = fmt.Errorf("the client could not be probed: %w", p.ProbeError())
		return rec
	}
	if u, ok := c.(Unavailable); ok {
		if why := u.Unavailable(); why != "" {
			rec.Skipped = why
			return rec
		}
	}
	if missing := missingCapabilities(sc, c); len(missing) > 0 {
		rec.Skipped = fmt.Sprintf("the client lacks %s", strings.Join(missing, ", "))
		return rec
	}
	r, err := newRun(sc, c, rec)
	if err != nil {
		rec.Err = err
		return rec
	}
	defer r.close()
	rec.SimStart = r.clock.Now()
	rec.Err = r.steps(ctx)
	// The client's last words (its log at shutdown) belong to the run, and
	// the leak check reads them: stop it before taking its output.
	if err := r.stopLast(); err != nil && rec.Err == nil {
		rec.Err = clipError(r.env.finder, fmt.Errorf("stop the client at the end: %w", err))
	}
	// What the client left in its state directory after its last words
	// is judged too.
	r.searchState("the end of the run")
	rec.SimEnd = r.clock.Now()
	rec.Events = r.srv.Events().Since(0)
	rec.Tokens = r.tokens()
	r.mu.Lock()
	rec.TokenKinds = maps.Clone(r.kinds)
	r.mu.Unlock()
	out, answers := r.output.result(), r.answers.result()
	rec.Output, rec.OutputDropped, rec.outputTotal, rec.droppedLeaks = out.text, out.dropped, out.total, out.leaks
	rec.Answers, rec.AnswersDropped, rec.droppedAnswerLeaks = answers.text, answers.dropped, slices.Concat(answers.leaks, r.clippedLeaks)
	return rec
}

func missingCapabilities(sc *scenarios.Scenario, c Client) []string {
	var missing []string
	for _, need := range sc.Requires {
		if !slices.Contains(c.Capabilities(), need) {
			missing = append(missing, string(need))
		}
	}
	return missing
}

// stateRoot is where runs keep their state directories: $TMPDIR when set,
// else memory-backed /dev/shm when the machine has it, since clients fsync every token they
// save and a disk makes that the bulk of a run's time; else the temp dir.
var stateRoot = sync.OnceValue(func() string {
	if dir := os.Getenv("TMPDIR"); dir != "" {
		return dir // the user's choice wins
	}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "oauthsim-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
})

// signingKey is the id_token key every run's simulator shares: a 2048-bit
// RSA key takes tens of milliseconds to make, longer than most runs take.
var signingKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("id_token signing key: %w", err)
	}
	return k, nil
})

// run is the state of one run in progress.
type run struct {
	rec    *Record
	sc     *scenarios.Scenario
	client Client
	clock  *clock.Flow
	srv    *simulator.Server
	http   *http.Client
	env    Env
	dir    string
	output *output
	// answers are the client's protocol answers, as it wrote them.
	answers *output
	proc    Process

	mu     sync.Mutex
	minted []string
	// kinds are the minted tokens' types, by token.
	kinds map[string]fosite.TokenType
	// clippedLeaks are the credentials found in what was cut from the
	// client's answers (see clipAnswer).
	clippedLeaks []hit
	// dropped are the families the user logged out of: the client rightly
	// holds nothing of them, even where a failed revocation left them alive.
	dropped map[string]bool
	// callback is the last redirect back the client was handed in an
	// authorization: what a replayed callback hands it again.
	callback string
	// shots counts the steps whose screenshots were kept.
	shots int
	// users are the users each tenant last authorized, by tenant name
	// ("" for the first tenant, or the scenario's only client).
	users map[string]string
	// storageKeys are the keys of the client's key file, current first.
	storageKeys []contract.StorageKey
	// secretFiles are the tenants' secret files, by tenant name ("" for
	// the first).
	secretFiles map[string]string
	// stored are the credentials already found in the state directory,
	// by file and credential.
	stored map[[2]string]bool
	// tenant is the tenant the step being carried out is for, as
	// tenantKey has it: the operations it records are that tenant's.
	tenant string
}

func newRun(sc *scenarios.Scenario, c Client, rec *Record) (*run, error) {
	dir, err := os.MkdirTemp(stateRoot(), "oauthsim-run-")
	if err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	r := &run{rec: rec, sc: sc, client: c, clock: clock.NewFlow(Epoch), dir: dir, dropped: map[string]bool{}, kinds: map[string]fosite.TokenType{},
		users: map[string]string{}, secretFiles: map[string]string{}, stored: map[[2]string]bool{}}
	r.output, r.answers = newOutput(r.credentials), newOutput(r.credentials)
	key, err := signingKey()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	provider := sc.Provider
	if o, ok := c.(Origins); ok {
		provider.Clients = atOrigins(provider.Clients, o.Origins())
	}
	opts := append(provider.Options(), simulator.WithClock(r.clock), simulator.WithTokenTap(r.tap), simulator.WithSigningKey(key))
	r.srv, err = simulator.NewServer(opts...)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start the simulator: %w", err)
	}
	// The harness is the user's browser: it reads the redirect back to the
	// client rather than following it to a callback nobody serves. A copy,
	// since the server hands the client under test the same *http.Client.
	browser := *r.srv.Client()
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r.http = &browser
	rec.Faults = map[string]fault.Fault{}
	for _, st := range r.srv.Faults() {
		rec.Faults[st.ID] = st.Fault
	}
	registered, err := r.registeredClient()
	if err != nil {
		r.close()
		return nil, err
	}
	r.env = Env{
		Issuer:      r.srv.URL,
		Resource:    r.srv.URL + simulator.PathResourceMe,
		ClientID:    registered.ID,
		RedirectURI: registered.RedirectURIs[0],
		Scopes:      []string{"openid", "api"},
		StateDir:    filepath.Join(dir, "state"),
		Profile:     sc.Provider.Profile.Profile,
		Clock:       r.clock,
		HTTP:        r.srv.Client(),
		Output:      r.output,
		Answers:     r.answers,
	}
	// What the client is told of its tokens is its registration's, where
	// that has lifetimes of its own.
	r.env.Profile = r.tenantProfile(registered.ID)
	if sc.NeedsBrowser() {
		r.env.Browser = &contract.BrowserSetup{}
		if sc.Browser != nil {
			*r.env.Browser = *sc.Browser
		}
	}
	if err := os.MkdirAll(r.env.StateDir, 0o700); err != nil {
		r.close()
		return nil, err
	}
	if !registered.Public {
		r.env.SecretFile = filepath.Join(dir, "client_secret")
		r.secretFiles[""] = r.env.SecretFile
		if err := r.setSecret("", registered.Secret); err != nil {
			r.close()
			return nil, err
		}
	}
	if err := r.setUpTenants(); err != nil {
		r.close()
		return nil, err
	}
	r.env.StorageKeyFile = filepath.Join(dir, "storage_keys")
	if err := r.rotateStorageKey(); err != nil {
		r.close()
		return nil, fmt.Errorf("storage key file: %w", err)
	}
	return r, nil
}

// setUpTenants registers the scenario's tenants with the run: each its
// secret file (the first tenant's is the client's), and its entry in the
// client's environment.
func (r *run) setUpTenants() error {
	if len(r.sc.Tenants) == 0 {
		return nil
	}
	r.rec.TenantClients = map[string]string{}
	for i, t := range r.sc.Tenants {
		c, err := r.srv.RegisteredClient(t.Client)
		if err == nil && len(c.RedirectURIs) == 0 {
			err = fmt.Errorf("client %q has no redirect URI", t.Client)
		}
		if err != nil {
			return fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		r.rec.TenantClients[t.Name] = c.ID
		p := r.tenantProfile(c.ID)
		ct := contract.Tenant{Name: t.Name, ClientID: c.ID, RedirectURI: c.RedirectURIs[0],
			RefreshRotation: contract.Rotation(p.Refresh.Rotation), RefreshGrace: int(p.Refresh.Grace.D().Seconds())}
		if !c.Public {
			if i == 0 {
				ct.ClientSecretFile = r.env.SecretFile
			} else {
				ct.ClientSecretFile = filepath.Join(r.dir, "client_secret."+t.Name)
				r.secretFiles[t.Name] = ct.ClientSecretFile
				if err := r.setSecret(t.Name, c.Secret); err != nil {
					return err
				}
			}
		}
		r.env.Tenants = append(r.env.Tenants, ct)
	}
	return nil
}

// tenantProfile is what the provider documents for client id's tokens:
// the profile, with what the client's registration says of its own.
func (r *run) tenantProfile(id string) profile.Profile {
	if p, err := r.srv.ClientProfile(id); err == nil {
		return p
	}
	return r.env.Profile
}

// tenantKey is how the run keys a tenant: "" for the first (or the
// scenario's only client), else its name.
func (r *run) tenantKey(name string) string {
	if len(r.sc.Tenants) == 0 || name == r.sc.Tenants[0].Name {
		return ""
	}
	return name
}

// clientOf is the client id of the tenant named name ("" for the first).
func (r *run) clientOf(name string) string {
	if key := r.tenantKey(name); key != "" {
		return r.rec.TenantClients[key]
	}
	return r.env.ClientID
}

// procFor is the running process as the tenant named name sees it.
func (r *run) procFor(name string) (Process, error) {
	if r.tenantKey(name) == "" {
		return r.proc, nil
	}
	t, ok := r.proc.(Tenanted)
	if !ok {
		return nil, fmt.Errorf("the client lists %s but its process serves no tenant", contract.CapMultiTenant)
	}
	return t.Tenant(name), nil
}

// view is p as the tenant of the step being carried out sees it: p itself
// for the first tenant. A process of a client without tenants is never
// asked for another (procFor refused the step).
func (r *run) view(p Process) Process {
	if t, ok := p.(Tenanted); ok && r.tenant != "" {
		return t.Tenant(r.tenant)
	}
	return p
}

// rotateStorageKey puts a new random key first in the client's key file,
// keeping the older ones: what the client saved before stays readable.
func (r *run) rotateStorageKey() error {
	key := make([]byte, 32)
	rand.Read(key)
	r.storageKeys = append([]contract.StorageKey{{ID: fmt.Sprintf("k%d", len(r.storageKeys)+1), Key: key}}, r.storageKeys...)
	tmp := r.env.StorageKeyFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(contract.FormatStorageKeys(r.storageKeys)), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, r.env.StorageKeyFile)
}

// registeredClient reads the client under test's registration.
func (r *run) registeredClient() (simulator.Client, error) {
	c, err := r.srv.RegisteredClient(r.sc.Client)
	if err == nil && len(c.RedirectURIs) == 0 {
		err = fmt.Errorf("client %q has no redirect URI", r.sc.Client)
	}
	return c, err
}

func (r *run) tap(kind fosite.TokenType, token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.minted = append(r.minted, token)
	r.kinds[token] = kind
}

func (r *run) tokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.minted)
}

// credentials are the tokens and secrets given out so far, in every form
// the leak check looks for: what must not appear in the client's output or
// answers. The output calls it while the run goes on.
func (r *run) credentials() []needle {
	r.mu.Lock()
	defer r.mu.Unlock()
	return needles(r.minted, r.rec.Secrets, r.env.ClientID)
}

// stopLast stops the client's running process, if any.
func (r *run) stopLast() error {
	if r.proc == nil {
		return nil
	}
	err := r.stop(r.proc)
	r.proc = nil
	return err
}

func (r *run) close() {
	_ = r.stopLast()
	// A request a fault still holds (a hang, a long latency) would keep
	// Close waiting: cut the connections first.
	r.srv.CloseClientConnections()
	r.srv.Close()
	os.RemoveAll(r.dir)
}

// stop stops p within the operation timeout, a panic in it included.
// The sim clock runs meanwhile: what the client does as it exits takes time.
func (r *run) stop(p Process) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), OperationTimeout)
	defer cancel()
	r.keepLog(p)
	defer r.clock.Run()()
	defer recovered(&err, "Stop")
	return p.Stop(ctx)
}

// recovered turns a panic in the client under test into *err: a broken
// client fails its run, it does not take the harness down.
func recovered(err *error, what string) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("the client panicked in %s: %v", what, v)
	}
}

// setSecret writes a tenant's secret file (tenant "" is the first, or the
// scenario's only client), atomically, as a deployment that rotates
// secrets would.
func (r *run) setSecret(tenant, secret string) error {
	r.mu.Lock()
	r.rec.Secrets = append(r.rec.Secrets, secret)
	r.mu.Unlock()
	file := r.secretFiles[tenant]
	if file == "" {
		return fmt.Errorf("the client is public: it has no secret file to write")
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(secret+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// steps carries out the timeline, stopping at the first step the harness
// could not carry out. A client that answers wrongly is not such a step:
// that is for the checks to judge.
func (r *run) steps(ctx context.Context) error {
	var err error
	if r.proc, err = r.start(ctx); err != nil {
		return clipError(r.env.finder, fmt.Errorf("start the client: %w", err))
	}
	for i, s := range r.sc.Steps {
		sr := StepRecord{Step: s, Index: i, Start: r.clock.Now(), FirstSeq: r.srv.Events().Last() + 1}
		sr.Err = clipError(r.env.finder, r.step(ctx, s, &sr))
		r.searchState(fmt.Sprintf("step %d (line %d, %s)", i+1, s.Line, s.Summary()))
		r.screenshot(&sr)
		sr.End, sr.LastSeq = r.clock.Now(), r.srv.Events().Last()
		r.rec.Steps = append(r.rec.Steps, sr)
		if sr.Err != nil {
			return fmt.Errorf("step %d (line %d, %s): %w", i+1, s.Line, s.Summary(), sr.Err)
		}
	}
	return nil
}

func (r *run) start(ctx context.Context) (p Process, err error) {
	ctx, cancel := context.WithTimeout(ctx, OperationTimeout)
	defer cancel()
	defer r.clock.Run()()
	defer recovered(&err, "Start")
	return r.client.Start(ctx, r.env)
}

func (r *run) step(ctx context.Context, s scenarios.Step, sr *StepRecord) error {
	b := r.browser()
	r.tenant = r.tenantKey(s.Tenant)
	proc, err := r.procFor(s.Tenant)
	if err != nil {
		return err
	}
	client := r.clientOf(s.Tenant)
	switch s.Action() {
	case "authorize":
		r.rec.User = s.Authorize
		r.users[r.tenant] = s.Authorize
		if b != nil {
			return r.browserAuthorize(ctx, b, s.Authorize, sr)
		}
		return r.authorize(ctx, proc, s.Authorize, sr)
	case "call":
		return r.call(ctx, s.Call, sr)
	case "advance", "suspend":
		if b != nil {
			return r.pass(ctx, b, s.Advance.D()+s.Suspend.D(), s.Suspend != 0)
		}
		if _, err := r.srv.AdvanceClock(s.Advance.D() + s.Suspend.D()); err != nil {
			return err
		}
		return r.notify(ctx, "Tick", Process.Tick)
	case "open_tab", "close_tab", "navigate", "hide_tab", "show_tab", "move_origin", "third_party_cookies":
		return r.browse(ctx, s)
	case "restart":
		err := r.stop(r.proc)
		r.proc = nil
		if err != nil {
			return fmt.Errorf("stop the client: %w", err)
		}
		p, err := r.start(ctx)
		if err != nil {
			return fmt.Errorf("start the client again: %w", err)
		}
		r.proc = p
		return nil
	case "fault":
		st, err := r.srv.AddFault(*s.Fault)
		if err != nil {
			return fmt.Errorf("add the fault: %w", err)
		}
		r.rec.Faults[st.ID] = st.Fault
		return nil
	case "remove_fault":
		_, err := r.srv.RemoveFault(s.RemoveFault)
		return err
	case "revoke":
		rev := simulator.Revocation{Reason: s.Revoke.Reason}
		switch {
		case s.Revoke.User != "":
			rev.User = s.Revoke.User
		case s.Revoke.Client:
			rev.ClientID = client
		default:
			rev.All = true
		}
		_, err := r.srv.Revoke(rev)
		return err
	case "rotate_secret":
		rot := simulator.SecretRotation{Grace: s.RotateSecret.Grace, ExpiresIn: s.RotateSecret.ExpiresIn}
		c, err := r.srv.RotateClientSecret(client, rot)
		if err != nil {
			return err
		}
		if err := r.setSecret(r.tenant, c.Secret); err != nil {
			return err
		}
		if !s.RotateSecret.Reloads() {
			// The operator's reload comes late, or never: the new secret
			// is in the file, and nobody says so.
			return nil
		}
		return r.notifyProc(ctx, proc, "Reload", Process.Reload)
	case "reload":
		return r.notifyProc(ctx, proc, "Reload", Process.Reload)
	case "rotate_storage_key":
		if err := r.rotateStorageKey(); err != nil {
			return fmt.Errorf("rewrite the storage key file: %w", err)
		}
		if !s.RotateStorageKey.Reloads() {
			// The client reads the file when it next starts.
			return nil
		}
		k, ok := r.proc.(KeyRotator)
		if !ok {
			return fmt.Errorf("the client lists %s but its process takes no storage key", contract.CapKeyRotation)
		}
		return r.notifyProc(ctx, r.proc, "StorageKey", func(_ Process, octx context.Context) error { return k.StorageKey(octx) })
	case "callback":
		return r.badCallback(ctx, proc, s.Callback, sr)
	case "change_password":
		_, err := r.srv.Revoke(simulator.Revocation{User: s.ChangePassword, Reason: events.ReasonPasswordChange})
		return err
	case "logout":
		err := r.do(ctx, sr, "Logout", proc.Logout)
		// The user gave up every grant the client (the tenant's app) held,
		// whatever became of its revocation at the provider.
		for _, f := range r.srv.Families() {
			if f.Client == client {
				r.dropped[f.ID] = true
			}
		}
		return err
	case "publishing_status":
		_, err := r.srv.SetPublishingStatus(client, s.PublishingStatus)
		return err
	case "require_consent":
		_, _, err := r.srv.ChangeConsent(simulator.ConsentChange{User: s.RequireConsent, ClientID: client, Require: true})
		return err
	}
	return fmt.Errorf("a step without an action")
}

// authorize is the user's browser: it opens the client's authorization
// URL as user (the simulator signs them in and consents at once) and hands
// the redirect back to the client.
func (r *run) authorize(ctx context.Context, proc Process, user string, sr *StepRecord) error {
	// The operation may outlive a timeout, and close with it: it keeps to
	// the process it started with.
	return r.do(ctx, sr, "the authorization", func(ctx context.Context) (Result, error) {
		raw, err := proc.AuthorizationURL(ctx)
		if err != nil {
			return Result{}, fmt.Errorf("start the authorization: %w", err)
		}
		u, err := url.Parse(raw)
		if err != nil {
			return Result{Outcome: contract.OutcomeError, Detail: "the authorization URL: " + err.Error()}, nil
		}
		q := u.Query()
		q.Set("login_hint", user)
		u.RawQuery = q.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return Result{Outcome: contract.OutcomeError, Detail: err.Error()}, nil
		}
		resp, err := r.http.Do(req)
		if err != nil {
			return Result{Outcome: contract.OutcomeError, Detail: "open the authorization URL: " + err.Error()}, nil
		}
		resp.Body.Close()
		callback := resp.Header.Get("Location")
		if callback == "" {
			return Result{Outcome: contract.OutcomeError, Detail: "the provider did not redirect back: " + resp.Status}, nil
		}
		r.callback = callback
		return proc.CompleteAuthorization(ctx, callback)
	})
}

// badCallback hands the client a redirect back it must refuse. A forged one
// is a login CSRF: the attacker authorizes as themselves, through the
// client's own authorization URL (so that its PKCE challenge and redirect
// fit), under a state of their own, and makes the victim's browser deliver
// the result. A replayed one is the last callback the client completed, as
// a reload of the redirect page delivers it again.
func (r *run) badCallback(ctx context.Context, proc Process, kind string, sr *StepRecord) error {
	return r.do(ctx, sr, "the callback", func(ctx context.Context) (Result, error) {
		callback := r.callback
		if kind == scenarios.CallbackForged {
			raw, err := proc.AuthorizationURL(ctx)
			if err != nil {
				return Result{}, fmt.Errorf("start the authorization: %w", err)
			}
			if callback, err = r.forge(ctx, raw); err != nil {
				return Result{}, err
			}
		}
		if callback == "" {
			return Result{}, errors.New("no callback to replay: no authorization was completed before")
		}
		if u, err := url.Parse(callback); err == nil {
			sr.Code = u.Query().Get("code")
		}
		return proc.CompleteAuthorization(ctx, callback)
	})
}

// forge runs the attacker's authorization through the client's URL raw.
func (r *run) forge(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("the client's authorization URL: %w", err)
	}
	attacker := "bob"
	if r.rec.User == attacker {
		attacker = "alice"
	}
	q := u.Query()
	q.Set("login_hint", attacker)
	q.Set("state", "forged-by-"+attacker)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("the attacker's authorization: %w", err)
	}
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	if c, err := url.Parse(callback); err != nil || c.Query().Get("code") == "" {
		return "", fmt.Errorf("the attacker's authorization (as %s) did not redirect back with a code: %s %s", attacker, resp.Status, callback)
	}
	return callback, nil
}

// call makes the step's API calls: in a row, at once, or from several
// processes sharing the state directory.
func (r *run) call(ctx context.Context, c *scenarios.Call, sr *StepRecord) error {
	// A browser's callers are its dashboards, all of which load each round.
	if b := r.browser(); b != nil {
		for i := range c.Rounds() {
			if err := r.interval(ctx, c, i); err != nil {
				return err
			}
			if err := r.load(ctx, b, sr); err != nil {
				return err
			}
		}
		return nil
	}
	switch {
	case c.Processes > 1:
		// Each round starts the other processes afresh and stops them
		// after: between rounds only the first is running, to hear that
		// the clock moved.
		for i := range c.Rounds() {
			if err := r.interval(ctx, c, i); err != nil {
				return err
			}
			if err := r.processes(ctx, sr, c.Processes); err != nil {
				return err
			}
		}
		return nil
	case c.Concurrent > 1:
		for i := range c.Rounds() {
			if err := r.interval(ctx, c, i); err != nil {
				return err
			}
			if err := r.together(ctx, sr, c.Concurrent, func(int) Process { return r.view(r.proc) }, c.ClientCredentials); err != nil {
				return err
			}
		}
		return nil
	}
	proc := r.view(r.proc)
	op := proc.Call
	if c.ClientCredentials {
		op = proc.ServiceCall
	}
	for i := range c.Rounds() {
		if err := r.interval(ctx, c, i); err != nil {
			return err
		}
		if err := r.do(ctx, sr, "Call", op); err != nil {
			return err
		}
	}
	return nil
}

// processes makes one call from each of n processes at once: the running
// one and n-1 more, started for it and stopped after.
func (r *run) processes(ctx context.Context, sr *StepRecord, n int) error {
	procs := []Process{r.proc}
	var err error
	for range n - 1 {
		p, serr := r.start(ctx)
		if serr != nil {
			err = fmt.Errorf("start another process: %w", serr)
			break
		}
		procs = append(procs, p)
	}
	if err == nil {
		err = r.together(ctx, sr, len(procs), func(i int) Process { return r.view(procs[i]) }, false)
	}
	for _, p := range procs[1:] {
		err = errors.Join(err, r.stop(p))
	}
	return err
}

// interval moves the clock by the step's every before its round i (from 0).
func (r *run) interval(ctx context.Context, c *scenarios.Call, i int) error {
	if i == 0 || c.Every <= 0 {
		return nil
	}
	if b := r.browser(); b != nil {
		return r.pass(ctx, b, c.Every.D(), false)
	}
	if _, err := r.srv.AdvanceClock(c.Every.D()); err != nil {
		return err
	}
	return r.notify(ctx, "Tick", Process.Tick)
}

// together makes n calls at once, call i through proc(i). They are held
// at a barrier and let go together, so that they overlap however the
// goroutines happen to be scheduled.
func (r *run) together(ctx context.Context, sr *StepRecord, n int, proc func(int) Process, service bool) error {
	results := make([]Result, n)
	errs := make([]error, n)
	first := r.srv.Events().Last() + 1
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-gate
			op := proc(i).Call
			if service {
				op = proc(i).ServiceCall
			}
			results[i], errs[i] = r.bounded(ctx, "Call", op)
		})
	}
	close(gate)
	wg.Wait()
	for _, res := range results {
		c := r.called(res)
		c.FirstSeq, c.Callers = first, n
		sr.Calls = append(sr.Calls, c)
	}
	return joinDistinct(errs)
}

// joinDistinct joins errs, saying each distinct message once with how many
// calls it ended: a thousand calls to a mute client are one reason, not a
// thousand lines of it. Messages are told apart by their first line; what
// follows (a client's stderr tail, read at a different moment by each call)
// is kept from the first of them.
func joinDistinct(errs []error) error {
	var order []string
	count := map[string]int{}
	full := map[string]string{}
	for _, err := range errs {
		if err == nil {
			continue
		}
		msg := err.Error()
		first, _, _ := strings.Cut(msg, "\n")
		if count[first] == 0 {
			order = append(order, first)
			full[first] = msg
		}
		count[first]++
	}
	if len(order) == 0 {
		return nil
	}
	lines := make([]string, len(order))
	for i, first := range order {
		lines[i] = full[first]
		if n := count[first]; n > 1 {
			lines[i] = fmt.Sprintf("%d calls: %s", n, full[first])
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}

// notify tells the running process something, within the operation
// timeout; a failure to take it is an error of the run.
func (r *run) notify(ctx context.Context, what string, op func(Process, context.Context) error) error {
	return r.notifyProc(ctx, r.proc, what, op)
}

// notifyProc is notify through p (a tenant's view of the process).
func (r *run) notifyProc(ctx context.Context, p Process, what string, op func(Process, context.Context) error) error {
	_, err := r.bounded(ctx, what, func(ctx context.Context) (Result, error) { return Result{}, op(p, ctx) })
	return err
}

// do makes one client operation and records how it ended.
func (r *run) do(ctx context.Context, sr *StepRecord, what string, op func(context.Context) (Result, error)) error {
	first := r.srv.Events().Last() + 1
	res, err := r.bounded(ctx, what, op)
	c := r.called(res)
	c.FirstSeq = first
	sr.Calls = append(sr.Calls, c)
	return err
}

// bounded runs op with the operation timeout. A client that overruns it is
// hung, and one that fails or panics is broken: either way the run cannot
// go on, so that is an error of the run, not an outcome to judge.
//
// The sim clock runs with the wall clock while op is in flight: a client's
// own waits (a retry delay, a slow answer it sits out) are then on the
// record as the time they took.
func (r *run) bounded(ctx context.Context, what string, op func(context.Context) (Result, error)) (Result, error) {
	return r.boundedWithin(ctx, what, OperationTimeout, op)
}

// boundedWithin is bounded with a limit of its own.
func (r *run) boundedWithin(ctx context.Context, what string, limit time.Duration, op func(context.Context) (Result, error)) (Result, error) {
	octx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	defer r.clock.Run()()
	type answer struct {
		res Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		var a answer
		defer func() { done <- a }()
		defer recovered(&a.err, what)
		a.res, a.err = op(octx)
	}()
	select {
	case a := <-done:
		if a.err != nil {
			return Result{Outcome: contract.OutcomeError, Detail: a.err.Error()}, a.err
		}
		return a.res, nil
	case <-octx.Done():
		if ctx.Err() != nil {
			return Result{Outcome: contract.OutcomeError, Detail: "interrupted"}, fmt.Errorf("interrupted: %w", context.Cause(ctx))
		}
		return Result{Outcome: contract.OutcomeError, Detail: "no answer"}, fmt.Errorf("the client did not answer within %s", limit)
	}
}

// called records how an operation ended, its events up to now.
func (r *run) called(res Result) CallRecord {
	res.Detail = r.clipAnswer(res.Detail, "the detail")
	res.Reason = contract.Reason(r.clipAnswer(string(res.Reason), "the reason"))
	return CallRecord{Result: res, Time: r.clock.Now(), Live: r.live(r.tenant), Tenant: r.tenant, LastSeq: r.srv.Events().Last(), Callers: 1}
}

// clipAnswer keeps the first answerKeep bytes of a text the client
// answered. What it cuts is searched for credentials first, as the leak
// check would have searched it whole.
func (r *run) clipAnswer(s, of string) string {
	if len(s) <= answerKeep {
		return s
	}
	f := r.env.finder()
	hits := f.find([]byte(s), nil)
	r.mu.Lock()
	r.clippedLeaks = append(r.clippedLeaks, hits...)
	r.mu.Unlock()
	return clip(f, s, answerKeep, of)
}

// live reports whether the user's grant to the client still works for a
// client that kept what it was given: the provider would accept a refresh
// token that reached the client, or, for a grant without refresh tokens, a
// live access token. A token minted for an answer that never arrived (a
// lost or spoiled response) does not count: no client could hold it; nor
// does a grant the user logged out of.
func (r *run) live(tenant string) bool {
	user, client := r.users[tenant], r.clientOf(tenant)
	if user == "" {
		return false
	}
	delivered := deliveredRefreshTokens(r.srv.Events().Since(0))
	for _, f := range r.srv.Families() {
		if f.Client != client || f.User != user || f.Revoked || r.dropped[f.ID] {
			continue
		}
		if f.RefreshTokens == 0 && f.LiveAccess > 0 {
			return true
		}
		for _, fp := range f.LiveRefreshTokens {
			if delivered[fp] {
				return true
			}
		}
	}
	return false
}

// deliveredRefreshTokens are the fingerprints of the refresh tokens whose
// token response reached the client intact. A token request's tokens are
// logged before the request's own event.
func deliveredRefreshTokens(evs []events.Event) map[string]bool {
	delivered := map[string]bool{}
	pending := map[string][]string{}
	for _, e := range evs {
		switch {
		case e.Kind == events.TokenIssued && e.TokenType == "refresh_token":
			pending[e.Family] = append(pending[e.Family], e.Token)
		case e.Kind == events.TokenRequest:
			if e.Outcome == events.OutcomeOK && e.Fault == "" {
				for _, fp := range pending[e.Family] {
					delivered[fp] = true
				}
			}
			delete(pending, e.Family)
		}
	}
	return delivered
}
