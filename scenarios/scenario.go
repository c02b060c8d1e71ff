package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/internal/yamldoc"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Scenario is one scenario file.
type Scenario struct {
	// Name identifies the scenario in reports and on the command line; it
	// defaults to the file's base name without .yaml.
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Tags        []string `yaml:"tags" example:"[okta, rotation]"`
	// Reproduces is the field failure the scenario is modelled on, and its
	// public source: a provider's documentation, an RFC section or an issue
	// thread.
	Reproduces string `yaml:"reproduces"`
	// Provider is the simulator's configuration, as in `oauthsim serve
	// --config`: a profile (a built-in base plus overrides), clients, users
	// and faults active from the start. The client under test is "demo"
	// unless Client says otherwise.
	Provider simulator.Config `yaml:"provider" example:"{profile: {base: okta}}"`
	// Client is the registered client the client under test uses; with
	// tenants, the first tenant's.
	Client string `yaml:"client" example:"demo"`
	// Tenants are the client registrations the client under test serves
	// at once (an enterprise customer's own OAuth app each), the first the
	// default: a scenario with tenants requires multi_tenant, and its
	// steps name the tenant they are for.
	Tenants []Tenant `yaml:"tenants" example:"[{name: acme, client: acme-app}, {name: globex, client: globex-app}]"`
	// Requires lists the capabilities a client must have for the scenario
	// to run; a client without one is reported as skipped.
	Requires []contract.Capability `yaml:"requires" example:"[refresh, restart]"`
	Steps    []Step                `yaml:"steps" example:"[{authorize: alice}, {call: {}}]"`
	// Browser sets up the browser of a browser client (capability
	// browser): tabs and dashboards at the start, third-party cookies. A
	// scenario with it, or with a browser step, requires browser.
	Browser *contract.BrowserSetup `yaml:"browser" example:"{tabs: 1, dashboards: 3}"`
	Expect  Expectations           `yaml:"expect" example:"{counts: {refreshes: {max: 3}}}"`
	// Waive names checks that cannot fairly judge this scenario, each with
	// the reason (e.g. no-expired-access-token when the provider does not
	// say when access tokens expire). A waived check is reported as skipped
	// with the reason.
	Waive map[string]string `yaml:"waive" example:"{no-expired-access-token: why it cannot judge this scenario}"`

	// File is where the scenario was read from.
	File string `yaml:"-"`
}

// Step is one entry of the timeline: exactly one action, with an optional
// expectation of how the client's calls in it end and optional bounds on
// what the step caused.
type Step struct {
	// Authorize runs the authorization code flow for a user (the
	// simulator signs the user in and consents headlessly).
	Authorize string `yaml:"authorize" example:"alice"`
	// Callback hands the client an authorization callback it did not ask
	// for (CallbackForged) or has completed already (CallbackReplayed).
	Callback string `yaml:"callback" example:"forged"`
	// Call makes authenticated API calls through the client's token manager.
	Call *Call `yaml:"call" example:"{times: 3, every: 20m}"`
	// Advance moves the sim clock forward.
	Advance profile.Duration `yaml:"advance" example:"61m"`
	// Restart stops the client's process and starts it again on the same
	// state directory.
	Restart bool `yaml:"restart" example:"true"`
	// Fault adds a fault (package fault's fields); RemoveFault removes one by id.
	Fault       *fault.Fault `yaml:"fault"`
	RemoveFault string       `yaml:"remove_fault" example:"lose"`
	// Revoke revokes grants at the provider, as a user, an admin or a
	// security response would.
	Revoke *Revoke `yaml:"revoke" example:"{user: alice}"`
	// RotateSecret gives the client a new secret; the client under test
	// reads it from its configuration.
	RotateSecret *RotateSecret `yaml:"rotate_secret" example:"{grace: 1h}"`
	// RotateStorageKey gives the client a new key to encrypt its state
	// with, keeping the old ones in its key file (capability key_rotation).
	RotateStorageKey *RotateStorageKey `yaml:"rotate_storage_key" example:"{reload: false}"`
	// Reload tells the client to read its configuration again, as an
	// operator does after changing it (a rotate_secret with reload: false
	// leaves that to a later step).
	Reload bool `yaml:"reload" example:"true"`
	// ChangePassword revokes every grant of the user, as a password change does.
	ChangePassword string `yaml:"change_password" example:"alice"`
	// Logout asks the client to log out.
	Logout bool `yaml:"logout" example:"true"`
	// PublishingStatus moves the client between "testing" and "production".
	PublishingStatus string `yaml:"publishing_status" example:"testing"`
	// RequireConsent marks the user as having to consent again.
	RequireConsent string `yaml:"require_consent" example:"alice"`
	// Suspend puts the machine to sleep for a while, as a laptop's closed
	// lid does: the sim clock jumps, and a browser's overdue timers fire
	// late, once each, when it wakes. To a client that is no browser it is
	// an advance.
	Suspend profile.Duration `yaml:"suspend" example:"3h"`
	// OpenTab opens another tab of the application (browser).
	OpenTab *OpenTab `yaml:"open_tab" example:"{dashboards: 2}"`
	// CloseTab closes a tab, by number: tabs count from 1 in the order
	// they were opened (browser).
	CloseTab int `yaml:"close_tab" example:"2"`
	// Navigate moves a tab to another page of the application: what the
	// page held in memory is gone, its storage stays (browser).
	Navigate int `yaml:"navigate" example:"1"`
	// HideTab and ShowTab put a tab in the background and back; Chromium
	// throttles a hidden page's timers (browser).
	HideTab int `yaml:"hide_tab" example:"2"`
	ShowTab int `yaml:"show_tab" example:"2"`
	// MoveOrigin deploys the application on a new origin, and moves its
	// registration at the provider there: tabs already open stay on the
	// old origin, whose redirect URI and requests the provider now
	// refuses; what loads afterwards comes from the new one (browser).
	MoveOrigin bool `yaml:"move_origin" example:"true"`
	// ThirdPartyCookies sets whether the browser sends cookies to
	// third-party frames: allowed or blocked (browser).
	ThirdPartyCookies string `yaml:"third_party_cookies" example:"blocked"`
	// Tenant names the tenant (of the scenario's tenants) the step is for:
	// whose grant an authorize, callback, call or logout is, whose secret a
	// rotate_secret or reload rotates, whose registration a revoke of the
	// client, a publishing_status or a require_consent concerns. Without
	// it, the first tenant.
	Tenant string `yaml:"tenant" example:"globex"`
	// Expect is how every client call the step makes must end. A call,
	// an authorize and a logout default to "ok"; other actions, a
	// callback among them, expect nothing unless told.
	Expect *Expect `yaml:"expect"`
	// Counts bound the counters (the names in Counters) over the events
	// the step caused, whatever its action.
	Counts map[string]Range `yaml:"counts" example:"{refreshes: {max: 3}}"`
	// Fired bounds how often each fault, by id, fired during the step.
	Fired map[string]Range `yaml:"fired" example:"{lose: 1}"`

	// Line and Column are where the step starts in its file.
	Line   int `yaml:"-"`
	Column int `yaml:"-"`
}

// OpenTab is an open_tab step: a tab with Dashboards dashboards (the
// scenario's browser.dashboards when zero).
type OpenTab struct {
	Dashboards int `yaml:"dashboards" example:"2"`
}

// Call is a call step: Times rounds, Every apart on the sim clock; each
// round is one call, or Concurrent calls at once from one process, or one
// call from each of Processes processes sharing the state directory.
type Call struct {
	Times      int              `yaml:"times"`
	Every      profile.Duration `yaml:"every" example:"20m"`
	Concurrent int              `yaml:"concurrent"`
	Processes  int              `yaml:"processes"`
	// ClientCredentials makes the calls as the client itself, with tokens
	// of the client credentials grant (RFC 6749 §4.4), not the user's.
	ClientCredentials bool `yaml:"client_credentials"`
}

// Rounds is how many times the step calls, Every apart: Times, at least
// one. A nil call has one round, so that a harness may ask any step.
func (c *Call) Rounds() int {
	if c == nil {
		return 1
	}
	return max(1, c.Times)
}

// Callers is how many callers of the client each round runs at once:
// Concurrent or Processes, at least one. A nil call has one caller.
func (c *Call) Callers() int {
	if c == nil {
		return 1
	}
	return max(1, c.Concurrent, c.Processes)
}

// Revoke selects what a revoke step revokes: one user's grants, the
// client's, or all; Reason is why, as the provider records it: user,
// admin (the default), password_change or security.
type Revoke struct {
	User   string `yaml:"user" example:"alice"`
	Client bool   `yaml:"client"`
	All    bool   `yaml:"all"`
	Reason string `yaml:"reason" example:"security"`
}

// RotateSecret is a client-secret rotation: the old secret keeps working
// for Grace (zero: it stops at once), and the new one expires after
// ExpiresIn (zero: never).
type RotateSecret struct {
	Grace     profile.Duration `yaml:"grace"`
	ExpiresIn profile.Duration `yaml:"expires_in"`
	// Reload, unless false, tells the client to reload its configuration
	// at once; false only rewrites its secret file, as a deployment does
	// that updates the secret store before it restarts or signals the
	// service (or never does).
	Reload *bool `yaml:"reload"`
}

// Reloads reports whether the rotation tells the client to reload at once.
func (r *RotateSecret) Reloads() bool { return r.Reload == nil || *r.Reload }

// RotateStorageKey is a storage-key rotation: a new current key first in
// the client's key file, the old ones kept after it.
type RotateStorageKey struct {
	// Reload, unless false, sends the client storage_key at once; false
	// only rewrites the key file, which the client reads when it next
	// starts.
	Reload *bool `yaml:"reload"`
}

// Reloads reports whether the rotation tells the client at once.
func (r *RotateStorageKey) Reloads() bool { return r.Reload == nil || *r.Reload }

// Tenant is one client registration of a scenario with tenants.
type Tenant struct {
	// Name is what steps call the tenant, and requests to the client.
	Name string `yaml:"name" example:"acme"`
	// Client is the registered client (of the provider's clients) that is
	// the tenant's OAuth app.
	Client string `yaml:"client" example:"acme-app"`
}

// TenantSteps lists the actions a step may name a tenant for.
func TenantSteps() []string {
	return []string{"authorize", "callback", "call", "logout", "rotate_secret", "reload", "revoke", "publishing_status", "require_consent"}
}

// ClientOf is the registered client of the tenant named name ("" for the
// first), and whether the scenario has such a tenant; without tenants the
// scenario's Client is every step's.
func (sc *Scenario) ClientOf(name string) (string, bool) {
	if len(sc.Tenants) == 0 {
		return sc.Client, name == ""
	}
	if name == "" {
		return sc.Tenants[0].Client, true
	}
	for _, t := range sc.Tenants {
		if t.Name == name {
			return t.Client, true
		}
	}
	return "", false
}

// The callbacks a callback step hands the client.
const (
	// CallbackForged: the client starts an authorization and receives a
	// callback with a code from one it did not start and a state it did not
	// issue, as in a login CSRF.
	CallbackForged = "forged"
	// CallbackReplayed: the client receives again the last callback it
	// completed, code and state, as when a browser reloads the redirect.
	CallbackReplayed = "replayed"
)

// Callbacks lists the values of a callback step.
func Callbacks() []string { return []string{CallbackForged, CallbackReplayed} }

// OutcomeAny is what an expectation names when the scenario does not mind
// how the call ends; no client answers it.
const OutcomeAny contract.Outcome = "any"

// MaxWallDelay bounds the wall time a latency or hang fault may hold a
// request: those faults take real time (a client's timeout is real), and a
// harness run must not wait minutes on one.
const MaxWallDelay = 10 * time.Second

// MaxSimDuration bounds a scenario's timeline: past a century of sim time
// expiry arithmetic stops meaning anything.
const MaxSimDuration = 100 * 365 * 24 * time.Hour

// ExpectableOutcomes lists the outcomes an expectation may name: the
// protocol's, and OutcomeAny.
func ExpectableOutcomes() []contract.Outcome { return append(contract.Outcomes(), OutcomeAny) }

// Expect is how a step's calls must end: an outcome and, for reauthorize,
// optionally the reason ("revoked", "expired"...). Written `expect: ok` or
// `expect: {outcome: reauthorize, reason: revoked}`, or as a list of such,
// any of which will do (`expect: [ok, temporary_error]`): where correct
// clients may differ (one retries within the call and succeeds, another
// reports the failure and retries at the next), the scenario says so.
type Expect struct {
	Outcome contract.Outcome `yaml:"outcome"`
	Reason  contract.Reason  `yaml:"reason"`
	// OneOf, when set, holds the alternatives and Outcome is empty.
	OneOf []Expect `yaml:"-"`
}

// UnmarshalYAML reads an expectation given as an outcome alone, as a
// mapping, or as a list of either.
func (e *Expect) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		e.Outcome = contract.Outcome(n.Value)
		return nil
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return yamldoc.Problems(yamldoc.At(n, "expect: an empty list allows no outcome; name one or more"))
		}
		for _, item := range n.Content {
			if item.Kind == yaml.SequenceNode {
				return yamldoc.Problems(yamldoc.At(item, "expect: a list of outcomes holds no list"))
			}
			var alt Expect
			if err := item.Decode(&alt); err != nil {
				return err
			}
			e.OneOf = append(e.OneOf, alt)
		}
		return nil
	}
	if ps := yamldoc.UnknownKeys(n, reflect.TypeFor[Expect](), "expect"); len(ps) > 0 {
		return yamldoc.Problems(ps...)
	}
	type plain Expect
	return n.Decode((*plain)(e))
}

// Alternatives are the expectations any of which will do.
func (e Expect) Alternatives() []Expect {
	if len(e.OneOf) > 0 {
		return e.OneOf
	}
	return []Expect{e}
}

// Matches reports whether a call that ended with outcome and reason meets e.
func (e Expect) Matches(outcome contract.Outcome, reason contract.Reason) bool {
	for _, a := range e.Alternatives() {
		if a.Outcome == OutcomeAny || (a.Outcome == outcome && (a.Reason == "" || a.Reason == reason)) {
			return true
		}
	}
	return false
}

// String is the expectation as a reader would write it.
func (e Expect) String() string {
	alts := e.Alternatives()
	out := make([]string, len(alts))
	for i, a := range alts {
		out[i] = string(a.Outcome)
		if a.Reason != "" {
			out[i] += " (" + string(a.Reason) + ")"
		}
	}
	return strings.Join(out, " or ")
}

// Expectations are what must hold at the end of the run, beyond the
// conformance checks every run is judged by.
type Expectations struct {
	// Counts bound how often something happened over the whole run, by
	// the names in Counters.
	Counts map[string]Range `yaml:"counts" example:"{refreshes: {max: 3}}"`
	// Fired bounds how often each fault, by id, fired over the whole run.
	Fired map[string]Range `yaml:"fired" example:"{lose: 1}"`
}

// Counters names what Expectations.Counts and Step.Counts may bound, with
// what each counts.
var Counters = map[string]string{
	"token_requests":   "requests to the token endpoint, of any grant",
	"refreshes":        "refresh-grant requests to the token endpoint",
	"api_calls":        "requests to the protected resource",
	"unauthorized":     "requests to the protected resource answered 401",
	"reuse_detected":   "superseded refresh tokens presented outside any grace window",
	"families_revoked": "token families revoked, for any reason",
	"revocations":      "requests to the revocation endpoint",
	"authorizations":   "authorization codes redeemed",
}

// Range bounds a count: `3` is exactly three, `{min: 1, max: 2}` a range.
type Range struct {
	Min *int `yaml:"min"`
	Max *int `yaml:"max"`
}

// YAMLShape says how a range is written, for the messages about a file
// that writes it otherwise.
func (Range) YAMLShape() yamldoc.Shape {
	return yamldoc.Shape{Kinds: []yaml.Kind{yaml.ScalarNode, yaml.MappingNode}, Want: "a count: a whole number, or {min, max} with either or both", Example: "{min: 1, max: 3}"}
}

// UnmarshalYAML reads a range given as one number or as min and max.
func (r *Range) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var v int
		if n.ShortTag() != "!!int" || n.Decode(&v) != nil {
			return yamldoc.Problems(at(n, "a count is a whole number, or {min, max} with either or both: e.g. `3` or `{min: 1, max: 3}`"))
		}
		r.Min, r.Max = &v, &v
		return nil
	}
	ps := yamldoc.UnknownKeys(n, reflect.TypeFor[Range](), "a count")
	if ps = append(ps, yamldoc.Mismatches(n, reflect.TypeFor[Range]())...); len(ps) > 0 {
		return yamldoc.Problems(ps...)
	}
	type plain Range
	return n.Decode((*plain)(r))
}

// Holds reports whether n is within the range.
func (r Range) Holds(n int) bool {
	return (r.Min == nil || n >= *r.Min) && (r.Max == nil || n <= *r.Max)
}

// String is the range in words.
func (r Range) String() string {
	switch {
	case r.Min != nil && r.Max != nil && *r.Min == *r.Max:
		return fmt.Sprintf("exactly %d", *r.Min)
	case r.Min != nil && r.Max != nil:
		return fmt.Sprintf("between %d and %d", *r.Min, *r.Max)
	case r.Min != nil:
		return fmt.Sprintf("at least %d", *r.Min)
	case r.Max != nil:
		return fmt.Sprintf("at most %d", *r.Max)
	}
	return "any number"
}

// actions are a step's action keys, in the order Action reports them.
var actions = []string{"authorize", "callback", "call", "advance", "restart", "fault", "remove_fault", "revoke",
	"rotate_secret", "rotate_storage_key", "reload", "change_password", "logout", "publishing_status", "require_consent",
	"suspend", "open_tab", "close_tab", "navigate", "hide_tab", "show_tab", "move_origin", "third_party_cookies"}

// Actions lists the keys of the step actions, in the order of the docs.
func Actions() []string { return slices.Clone(actions) }

// Action names the step's action by its key.
func (s Step) Action() string {
	switch {
	case s.Authorize != "":
		return "authorize"
	case s.Callback != "":
		return "callback"
	case s.Call != nil:
		return "call"
	case s.Advance != 0:
		return "advance"
	case s.Restart:
		return "restart"
	case s.Fault != nil:
		return "fault"
	case s.RemoveFault != "":
		return "remove_fault"
	case s.Revoke != nil:
		return "revoke"
	case s.RotateSecret != nil:
		return "rotate_secret"
	case s.RotateStorageKey != nil:
		return "rotate_storage_key"
	case s.Reload:
		return "reload"
	case s.ChangePassword != "":
		return "change_password"
	case s.Logout:
		return "logout"
	case s.PublishingStatus != "":
		return "publishing_status"
	case s.RequireConsent != "":
		return "require_consent"
	case s.Suspend != 0:
		return "suspend"
	case s.OpenTab != nil:
		return "open_tab"
	case s.CloseTab != 0:
		return "close_tab"
	case s.Navigate != 0:
		return "navigate"
	case s.HideTab != 0:
		return "hide_tab"
	case s.ShowTab != 0:
		return "show_tab"
	case s.MoveOrigin:
		return "move_origin"
	case s.ThirdPartyCookies != "":
		return "third_party_cookies"
	}
	return ""
}

// Summary says what the step does, in words for a report, with the tenant
// it is for when it names one.
func (s Step) Summary() string {
	if s.Tenant != "" {
		return s.summary() + " (tenant " + s.Tenant + ")"
	}
	return s.summary()
}

func (s Step) summary() string {
	switch s.Action() {
	case "authorize":
		return "authorize as " + s.Authorize
	case "callback":
		if s.Callback == CallbackReplayed {
			return "hand the client again the callback it already completed"
		}
		return "hand the client a forged callback (a code it did not ask for, a state it did not issue)"
	case "call":
		return s.Call.summary()
	case "advance":
		return "advance the clock by " + s.Advance.String()
	case "restart":
		return "restart the client"
	case "fault":
		id := s.Fault.ID
		if id != "" {
			id = " " + id
		}
		return fmt.Sprintf("add fault%s (%s)", id, s.Fault.Kind())
	case "remove_fault":
		return "remove fault " + s.RemoveFault
	case "revoke":
		r := s.Revoke
		what := "every grant"
		switch {
		case r.User != "":
			what = r.User + "'s grants"
		case r.Client:
			what = "the client's grants"
		}
		if r.Reason != "" {
			return fmt.Sprintf("revoke %s (%s)", what, r.Reason)
		}
		return "revoke " + what
	case "rotate_secret":
		out := "rotate the client secret"
		if s.RotateSecret.Grace > 0 {
			out += ", the old one valid for " + s.RotateSecret.Grace.String()
		}
		if !s.RotateSecret.Reloads() {
			out += ", without telling the client to reload"
		}
		return out
	case "rotate_storage_key":
		if !s.RotateStorageKey.Reloads() {
			return "rotate the client's storage key, without telling the client"
		}
		return "rotate the client's storage key"
	case "reload":
		return "tell the client to reload its configuration"
	case "change_password":
		return s.ChangePassword + " changes their password"
	case "logout":
		return "log out"
	case "publishing_status":
		return "set the app's publishing status to " + s.PublishingStatus
	case "require_consent":
		return s.RequireConsent + " must consent again"
	case "suspend":
		return "suspend the machine for " + s.Suspend.String()
	case "open_tab":
		if s.OpenTab.Dashboards > 0 {
			return fmt.Sprintf("open another tab, with %d dashboards", s.OpenTab.Dashboards)
		}
		return "open another tab"
	case "close_tab":
		return fmt.Sprintf("close tab %d", s.CloseTab)
	case "navigate":
		return fmt.Sprintf("navigate tab %d to another page", s.Navigate)
	case "hide_tab":
		return fmt.Sprintf("put tab %d in the background", s.HideTab)
	case "show_tab":
		return fmt.Sprintf("bring tab %d back to the front", s.ShowTab)
	case "move_origin":
		return "move the application to a new origin"
	case "third_party_cookies":
		return "third-party cookies " + s.ThirdPartyCookies
	}
	return "nothing"
}

// summary is the call step in words: who calls, how many at once, and how
// many rounds how far apart.
func (c *Call) summary() string {
	out := "call the API"
	if c.ClientCredentials {
		out += " as the client (client credentials)"
	}
	switch {
	case c.Processes > 1:
		out += fmt.Sprintf(" from %d processes at once", c.Processes)
	case c.Concurrent > 1:
		out += fmt.Sprintf(" %d times at once", c.Concurrent)
	}
	rounds := c.Rounds()
	switch {
	case rounds == 1:
	case c.Callers() > 1 && c.Every > 0:
		out += fmt.Sprintf(", %d rounds every %s", rounds, c.Every)
	case c.Callers() > 1:
		out += fmt.Sprintf(", %d rounds", rounds)
	case c.Every > 0:
		out += fmt.Sprintf(" %d times, every %s", rounds, c.Every)
	default:
		out += fmt.Sprintf(" %d times", rounds)
	}
	return out
}

// Calls is how many client calls the step makes.
func (s Step) Calls() int {
	if s.Call == nil {
		if s.Authorize != "" || s.Callback != "" || s.Logout {
			return 1
		}
		return 0
	}
	return s.Call.Rounds() * s.Call.Callers()
}

// Expected is the outcome the step's calls must have, and whether the
// scenario set one: calls default to ok, authorize and logout too. A
// callback has no default: whether a client refuses it, ignores it or
// reports an error, the harness's checks judge what it did with it.
func (s Step) Expected() (Expect, bool) {
	if s.Expect != nil {
		return *s.Expect, true
	}
	if s.Calls() > 0 && s.Callback == "" {
		return Expect{Outcome: contract.OutcomeOK}, true
	}
	return Expect{}, false
}

// SimDuration is how much sim time the timeline covers: every advance and
// every interval between rounds of calls.
func (sc *Scenario) SimDuration() time.Duration {
	var d time.Duration
	for _, s := range sc.Steps {
		d += s.Advance.D() + s.Suspend.D()
		if s.Call != nil {
			d += time.Duration(s.Call.Rounds()-1) * s.Call.Every.D()
		}
	}
	return d
}

// BrowserSteps lists the browser actions, which only a browser client takes.
func BrowserSteps() []string {
	return []string{"open_tab", "close_tab", "navigate", "hide_tab", "show_tab", "move_origin", "third_party_cookies"}
}

// NeedsBrowser reports whether the scenario sets a browser up or has a
// browser step: it requires capability browser.
func (sc *Scenario) NeedsBrowser() bool {
	return sc.Browser != nil || slices.ContainsFunc(sc.Steps, func(s Step) bool { return slices.Contains(BrowserSteps(), s.Action()) })
}

// Profile is the name of the scenario's provider profile.
func (sc *Scenario) Profile() string {
	if sc.Provider.Profile.Base == "" {
		return "generic"
	}
	return sc.Provider.Profile.Base
}

// HasTag reports whether the scenario carries tag.
func (sc *Scenario) HasTag(tag string) bool { return slices.Contains(sc.Tags, tag) }

// FaultKinds lists the kinds of fault the scenario uses, from the start or in steps.
func (sc *Scenario) FaultKinds() []fault.Kind {
	var out []fault.Kind
	for _, f := range sc.Provider.Faults {
		out = append(out, f.Kind())
	}
	for _, s := range sc.Steps {
		if s.Fault != nil {
			out = append(out, s.Fault.Kind())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
