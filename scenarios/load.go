package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/conformance/checkid"
	"github.com/oauthsim/oauthsim/internal/yamldoc"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
)

//go:embed *.yaml
var bundled embed.FS

// Bundled returns the scenarios that ship with oauthsim, by name.
func Bundled() ([]*Scenario, error) {
	return loadFS(bundled, ".", "scenarios/")
}

// Load reads scenarios from files and directories (every *.yaml and *.yml
// in a directory, not recursing). Every problem in every file is reported,
// as path:line:column: message, one per line.
func Load(paths ...string) ([]*Scenario, error) {
	var out []*Scenario
	var errs []error
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("load scenarios: %w", err))
			continue
		}
		if !st.IsDir() {
			sc, err := LoadFile(p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, sc)
			continue
		}
		scs, err := loadFS(os.DirFS(p), ".", p+string(filepath.Separator))
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, scs...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, unique(out)
}

// LoadFile reads and checks one scenario file.
func LoadFile(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return Parse(path, data)
}

func loadFS(fsys fs.FS, dir, prefix string) ([]*Scenario, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("load scenarios from %s: %w", prefix, err)
	}
	var out []*Scenario
	var errs []error
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			errs = append(errs, fmt.Errorf("load scenario: %w", err))
			continue
		}
		sc, err := Parse(prefix+e.Name(), data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, sc)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("load scenarios from %s: no .yaml files", prefix)
	}
	return out, unique(out)
}

// unique refuses two scenarios of one name: reports key runs by it.
func unique(scs []*Scenario) error {
	seen := map[string]string{}
	var errs []error
	for _, sc := range scs {
		if first, dup := seen[sc.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: scenario name %q is already used by %s", sc.File, sc.Name, first))
			continue
		}
		seen[sc.Name] = sc.File
	}
	return errors.Join(errs...)
}

// Parse reads and checks a scenario from data; path is used in messages
// and for the default name.
func Parse(path string, data []byte) (*Scenario, error) {
	doc, more, err := yamldoc.Parse(path, data)
	if err != nil {
		return nil, err
	}
	root := yamldoc.Root(doc)
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d:%d: a scenario must be a mapping with name, steps and so on", path, max(root.Line, 1), max(root.Column, 1))
	}
	sc := &Scenario{File: path, Provider: simulator.DefaultConfig()}
	ps, complete := yamldoc.DecodeChecked(root, sc, "a scenario")
	if !complete {
		// Decoding stopped: what was found before still counts.
		return nil, yamldoc.Locate(path, yamldoc.Problems(yamldoc.Sorted(ps)...))
	}
	if len(more) > 0 {
		// A second document would be dropped without a word.
		ps = append(ps, at(yamldoc.Root(more[0]), "a second document: one scenario per file"))
	}
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if sc.Client == "" {
		sc.Client = "demo"
		if len(sc.Tenants) > 0 {
			sc.Client = sc.Tenants[0].Client
		}
	}
	ps = append(ps, sc.check(root)...)
	var errs []error
	if len(ps) > 0 {
		errs = append(errs, yamldoc.Locate(path, yamldoc.Problems(yamldoc.Sorted(ps)...)))
	}
	if p := yamldoc.Child(root, "provider"); p != nil {
		if err := sc.Provider.Check(path, p); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return sc, nil
}

// at is a problem at node n.
func at(n *yaml.Node, format string, args ...any) *yaml.LoadError {
	return yamldoc.At(n, format, args...)
}

// tagPattern is what a tag may look like: it becomes a Ginkgo label.
var tagPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// check finds what decoding alone does not, at the node it concerns.
func (sc *Scenario) check(root *yaml.Node) []*yaml.LoadError {
	var msgs []*yaml.LoadError
	node := func(key string) *yaml.Node {
		if n := yamldoc.Child(root, key); n != nil {
			return n
		}
		return root
	}
	if sc.Description == "" {
		msgs = append(msgs, at(root, "description: say what the scenario shows, for the reports"))
	}
	if !tagPattern.MatchString(sc.Name) {
		msgs = append(msgs, at(node("name"), "name %q: use lower-case letters, digits, '-', '_' and '.'", sc.Name))
	}
	for i, t := range sc.Tags {
		if !tagPattern.MatchString(t) {
			msgs = append(msgs, at(item(node("tags"), i), "tag %q: use lower-case letters, digits, '-', '_' and '.'", t))
		}
	}
	for i, c := range sc.Requires {
		if !slices.Contains(contract.Capabilities(), c) {
			msgs = append(msgs, at(item(node("requires"), i), "unknown capability %q (known: %s)", c, joined(contract.Capabilities())))
		}
	}
	msgs = append(msgs, checkCounts(yamldoc.Child(node("expect"), "counts"), sc.Expect.Counts)...)
	msgs = append(msgs, checkRanges(yamldoc.Child(node("expect"), "fired"), "fired", sc.Expect.Fired)...)
	waived := keysOf(node("waive"))
	for _, id := range sortedKeys(sc.Waive) {
		k := waived(id)
		if !slices.Contains(checkid.All(), id) {
			msgs = append(msgs, at(k, "waive: unknown check %q (known: %s)", id, strings.Join(checkid.All(), ", ")))
		}
		if strings.TrimSpace(sc.Waive[id]) == "" {
			msgs = append(msgs, at(k, "waive: say why %q cannot judge this scenario", id))
		}
	}
	if steps := yamldoc.Child(root, "steps"); len(sc.Steps) == 0 && (steps == nil || len(steps.Content) == 0) {
		msgs = append(msgs, at(node("steps"), "steps: a scenario needs at least one step"))
	}
	clients := map[string]bool{}
	for _, c := range append(simulator.DemoClients(), sc.Provider.Clients...) {
		clients[c.ID] = true
	}
	if !clients[sc.Client] {
		msgs = append(msgs, at(node("client"), "no client %q: the provider has %s", sc.Client, joined(sortedKeys(clients))))
	}
	if d := sc.SimDuration(); d < 0 || d > MaxSimDuration {
		msgs = append(msgs, at(node("steps"), "the timeline covers more than %dd of sim time", MaxSimDuration/(24*time.Hour)))
	}
	for i, f := range sc.Provider.Faults {
		if msg := wallDelay(f); msg != "" {
			msgs = append(msgs, at(item(yamldoc.Child(node("provider"), "faults"), i), "%s", msg))
		}
	}
	msgs = append(msgs, sc.checkBrowser(node("browser"), node("requires"))...)
	msgs = append(msgs, sc.checkTenants(root, node, clients)...)
	for _, st := range sc.Steps {
		if st.Call != nil && st.Call.ClientCredentials && !slices.Contains(sc.Requires, contract.CapClientCredentials) {
			msgs = append(msgs, at(&yaml.Node{Line: st.Line, Column: st.Column}, "a client_credentials call needs %q in requires", contract.CapClientCredentials))
		}
	}
	users := map[string]bool{}
	for _, u := range append(simulator.DemoUsers(), sc.Provider.Users...) {
		users[u.ID] = true
	}
	faults := map[string]bool{}
	for i, f := range sc.Provider.Faults {
		if f.ID == "" {
			continue
		}
		if faults[f.ID] {
			msgs = append(msgs, at(item(yamldoc.Child(node("provider"), "faults"), i), "fault id %q is used twice", f.ID))
		}
		faults[f.ID] = true
	}
	ids := definedFaults(root)
	msgs = append(msgs, checkFired(yamldoc.Child(node("expect"), "fired"), ids)...)
	if steps := yamldoc.Child(root, "steps"); steps != nil && steps.Kind == yaml.SequenceNode {
		for _, n := range steps.Content {
			// yaml hands a null item to no unmarshaler: it would vanish.
			if n.Tag == "!!null" {
				msgs = append(msgs, at(n, "an empty step: give it an action"))
			}
			// From the node, so that a step that failed to decode is checked too.
			msgs = append(msgs, checkFired(yamldoc.Child(n, "fired"), ids)...)
		}
	}
	authorized := false
	for i := range sc.Steps {
		s := &sc.Steps[i]
		// Steps that failed to decode are missing from sc.Steps, so the
		// step's own position is the one to trust, not its index.
		n := &yaml.Node{Line: s.Line, Column: s.Column}
		for _, u := range []string{s.Authorize, s.ChangePassword, s.RequireConsent} {
			if u != "" && !users[u] {
				msgs = append(msgs, at(n, "no user %q: the provider has %s", u, joined(sortedKeys(users))))
			}
		}
		if s.Revoke != nil && s.Revoke.User != "" && !users[s.Revoke.User] {
			msgs = append(msgs, at(n, "revoke: no user %q: the provider has %s", s.Revoke.User, joined(sortedKeys(users))))
		}
		if s.Fault != nil {
			if msg := wallDelay(*s.Fault); msg != "" {
				msgs = append(msgs, at(n, "%s", msg))
			}
		}
		if s.Fault != nil && s.Fault.ID != "" {
			if faults[s.Fault.ID] {
				msgs = append(msgs, at(n, "fault id %q is already active at this step", s.Fault.ID))
			}
			faults[s.Fault.ID] = true
		}
		if s.RemoveFault != "" {
			if !faults[s.RemoveFault] {
				msgs = append(msgs, at(n, "remove_fault: no fault %q is active at this step (give faults an id to remove them)", s.RemoveFault))
			}
			delete(faults, s.RemoveFault)
		}
		// A replayed callback is the one an authorize completed, and a
		// forged one is told from the client's own: both need one before.
		if s.Callback != "" && !authorized {
			msgs = append(msgs, at(n, "callback: needs an authorize step before it"))
		}
		authorized = authorized || s.Authorize != ""
	}
	return msgs
}

// definedFaults are the fault ids the file gives, in provider.faults or in
// any fault step. They are read from the nodes, so that a fault whose step
// failed to decode still counts as defined and is not reported twice.
func definedFaults(root *yaml.Node) map[string]bool {
	ids := map[string]bool{}
	add := func(f *yaml.Node) {
		if id := yamldoc.Child(f, "id"); id != nil && id.Kind == yaml.ScalarNode && id.Value != "" {
			ids[id.Value] = true
		}
	}
	if p := yamldoc.Child(root, "provider"); p != nil {
		if fs := yamldoc.Child(p, "faults"); fs != nil && fs.Kind == yaml.SequenceNode {
			for _, f := range fs.Content {
				add(f)
			}
		}
	}
	if steps := yamldoc.Child(root, "steps"); steps != nil && steps.Kind == yaml.SequenceNode {
		for _, st := range steps.Content {
			if f := yamldoc.Child(st, "fault"); f != nil {
				add(f)
			}
		}
	}
	return ids
}

// checkFired finds, in the mapping n of a fired key, the fault ids the
// file does not define. The engine numbers unnamed faults f1, f2... in the
// order they are added, which the file does not say, so only an explicit
// id can be counted.
func checkFired(n *yaml.Node, ids map[string]bool) []*yaml.LoadError {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	known := "no fault here has an id"
	if len(ids) > 0 {
		known = "ids given here: " + joined(sortedKeys(ids))
	}
	var msgs []*yaml.LoadError
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !ids[k.Value] {
			msgs = append(msgs, at(k, "fired: no fault has id %q (%s); count a fault by an id: of its own, not by the f1, f2... the engine gives faults without one", k.Value, known))
		}
	}
	return msgs
}

// checkCounts finds, in counts (read from the mapping n), the counters
// that do not exist and the bounds no count meets.
func checkCounts(n *yaml.Node, counts map[string]Range) []*yaml.LoadError {
	var msgs []*yaml.LoadError
	key := keysOf(n)
	for name := range counts {
		if _, ok := Counters[name]; !ok {
			msgs = append(msgs, at(key(name), "unknown count %q (known: %s)", name, joined(sortedKeys(Counters))))
		}
	}
	return append(msgs, checkRanges(n, "count", counts)...)
}

// checkRanges finds the ranges (read from the mapping n) that no count
// meets; what names them in messages.
func checkRanges(n *yaml.Node, what string, ranges map[string]Range) []*yaml.LoadError {
	var msgs []*yaml.LoadError
	key := keysOf(n)
	for name, r := range ranges {
		if (r.Min != nil && *r.Min < 0) || (r.Max != nil && *r.Max < 0) {
			msgs = append(msgs, at(key(name), "%s %q: counts are not negative", what, name))
		}
		if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
			msgs = append(msgs, at(key(name), "%s %q: min %d is above max %d", what, name, *r.Min, *r.Max))
		}
	}
	return msgs
}

// UnmarshalYAML reads a step: a mapping with exactly one action key (and
// an optional expect, counts and fired), or an action without parameters
// written alone (`- restart`, `- logout`, `- reload`). Problems are
// reported at the key they concern.
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	s.Line, s.Column = n.Line, n.Column
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "restart":
			s.Restart = true
		case "logout":
			s.Logout = true
		case "reload":
			s.Reload = true
		case "move_origin":
			s.MoveOrigin = true
		case "rotate_storage_key":
			s.RotateStorageKey = &RotateStorageKey{}
		default:
			return yamldoc.Problems(at(n, "step %q: a step is a mapping with one action (%s); only restart, logout, reload, move_origin and rotate_storage_key stand alone", n.Value, strings.Join(actions, ", ")))
		}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return yamldoc.Problems(at(n, "a step is a mapping with one action (%s)", strings.Join(actions, ", ")))
	}
	msgs := yamldoc.UnknownKeys(n, reflect.TypeFor[Step](), "a step")
	if msgs = append(msgs, yamldoc.Mismatches(n, reflect.TypeFor[Step]())...); len(msgs) > 0 {
		return yamldoc.Problems(msgs...)
	}
	var present []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		if slices.Contains(actions, n.Content[i].Value) {
			present = append(present, n.Content[i].Value)
		}
	}
	switch len(present) {
	case 0:
		return yamldoc.Problems(at(n, "a step needs one action: %s", strings.Join(actions, ", ")))
	case 1:
	default:
		return yamldoc.Problems(at(n, "a step has one action, this one has %d (%s): split it into steps", len(present), strings.Join(present, ", ")))
	}
	type plain Step // without this method, so Decode does not recurse
	var p plain
	if err := yamldoc.Decode(n, &p); err != nil {
		return err
	}
	p.Line, p.Column = s.Line, s.Column
	*s = Step(p)
	if msgs := s.check(n, present[0]); len(msgs) > 0 {
		return yamldoc.Problems(msgs...)
	}
	return nil
}

// check finds what is wrong with a decoded step's parameters.
func (s *Step) check(n *yaml.Node, action string) []*yaml.LoadError {
	var msgs []*yaml.LoadError
	value := yamldoc.Child(n, action)
	// An action key with a null or false value would do nothing, silently.
	if value.Tag == "!!null" || (value.Kind == yaml.ScalarNode && value.Value == "") ||
		(action == "restart" || action == "logout" || action == "reload") && !(s.Restart || s.Logout || s.Reload) {
		return []*yaml.LoadError{at(keyOf(n, action), "%s: give it a value (for restart, logout and reload: true)", action)}
	}
	switch action {
	case "callback":
		if !slices.Contains(Callbacks(), s.Callback) {
			msgs = append(msgs, at(value, "callback %q is not one of %s", s.Callback, strings.Join(Callbacks(), ", ")))
		}
	case "call":
		c := s.Call
		for name, v := range map[string]int{"times": c.Times, "concurrent": c.Concurrent, "processes": c.Processes} {
			if v < 0 || v > maxCalls {
				msgs = append(msgs, at(keyOf(value, name), "call.%s: %d is not between 0 and %d", name, v, maxCalls))
			}
		}
		if c.Concurrent > 1 && c.Processes > 1 {
			msgs = append(msgs, at(value, "call: give one of concurrent and processes (times, the rounds, goes with either)"))
		} else if calls := c.Rounds() * c.Callers(); calls > maxCalls {
			msgs = append(msgs, at(value, "call: %d rounds of %d calls are %d calls; a step makes at most %d", c.Rounds(), c.Callers(), calls, maxCalls))
		}
		if c.Every < 0 {
			msgs = append(msgs, at(keyOf(value, "every"), "call.every: must not be negative"))
		}
		if c.ClientCredentials && c.Processes > 1 {
			msgs = append(msgs, at(keyOf(value, "client_credentials"), "call.client_credentials: not with processes"))
		}
		if c.Every > 0 && c.Times < 2 {
			msgs = append(msgs, at(keyOf(value, "every"), "call.every: needs times of 2 or more"))
		}
	case "advance", "suspend":
		if s.Advance+s.Suspend <= 0 {
			msgs = append(msgs, at(value, "%s: the clock only moves forward; give a positive duration", action))
		}
	case "open_tab":
		if d := s.OpenTab.Dashboards; d < 0 || d > maxDashboards {
			msgs = append(msgs, at(keyOf(value, "dashboards"), "open_tab.dashboards: %d is not between 0 and %d", d, maxDashboards))
		}
	case "third_party_cookies":
		if !slices.Contains(thirdPartyCookies, s.ThirdPartyCookies) {
			msgs = append(msgs, at(value, "third_party_cookies %q is not one of %s", s.ThirdPartyCookies, strings.Join(thirdPartyCookies, ", ")))
		}
	case "move_origin":
		if !s.MoveOrigin {
			msgs = append(msgs, at(value, "move_origin: give it true"))
		}
	case "revoke":
		r := s.Revoke
		selectors := 0
		for _, set := range []bool{r.User != "", r.Client, r.All} {
			if set {
				selectors++
			}
		}
		if selectors != 1 {
			msgs = append(msgs, at(value, "revoke: give exactly one of user, client: true and all: true"))
		}
		reasons := []string{events.ReasonUser, events.ReasonAdmin, events.ReasonPasswordChange, events.ReasonSecurity}
		if r.Reason != "" && !slices.Contains(reasons, r.Reason) {
			msgs = append(msgs, at(keyOf(value, "reason"), "revoke.reason %q is not one of %s", r.Reason, strings.Join(reasons, ", ")))
		}
	case "rotate_secret":
		if s.RotateSecret.Grace < 0 || s.RotateSecret.ExpiresIn < 0 {
			msgs = append(msgs, at(value, "rotate_secret: grace and expires_in must not be negative"))
		}
	case "publishing_status":
		if s.PublishingStatus != simulator.PublishingTesting && s.PublishingStatus != simulator.PublishingProduction {
			msgs = append(msgs, at(value, "publishing_status %q is not %s or %s", s.PublishingStatus, simulator.PublishingTesting, simulator.PublishingProduction))
		}
	}
	msgs = append(msgs, checkCounts(yamldoc.Child(n, "counts"), s.Counts)...)
	msgs = append(msgs, checkRanges(yamldoc.Child(n, "fired"), "fired", s.Fired)...)
	if s.Expect != nil {
		e := yamldoc.Child(n, "expect")
		if s.Calls() == 0 {
			msgs = append(msgs, at(keyOf(n, "expect"), "expect: %s step makes no client call to expect anything of", WithArticle(action)))
		}
		for i, alt := range s.Expect.Alternatives() {
			n := e
			if len(s.Expect.OneOf) > 0 {
				n = e.Content[i] // each alternative where it is written
			}
			if !slices.Contains(ExpectableOutcomes(), alt.Outcome) {
				msgs = append(msgs, at(n, "expect: unknown outcome %q (known: %s)", alt.Outcome, joined(ExpectableOutcomes())))
			}
			if alt.Reason != "" && alt.Outcome != contract.OutcomeReauthorize {
				msgs = append(msgs, at(n, "expect.reason: only a reauthorize outcome has a reason"))
			}
			if alt.Reason != "" && !alt.Reason.Known() {
				msgs = append(msgs, at(n, "expect.reason: unknown reason %q (known: %s)", alt.Reason, joined(contract.Reasons())))
			}
		}
	}
	return msgs
}

// maxDashboards and maxTabs bound a browser: each dashboard is a frame
// of a real Chromium, and a run must end in seconds.
const (
	maxDashboards = 12
	maxTabs       = 8
)

var thirdPartyCookies = []string{contract.ThirdPartyCookiesAllowed, contract.ThirdPartyCookiesBlocked}

// checkBrowser checks the browser setup and the tabs the steps name: a
// tab must be open to be closed, navigated, hidden or shown.
func (sc *Scenario) checkBrowser(setup, requires *yaml.Node) []*yaml.LoadError {
	var msgs []*yaml.LoadError
	if sc.NeedsBrowser() && !slices.Contains(sc.Requires, contract.CapBrowser) {
		n := requires
		if yamldoc.Child(requires, "requires") == nil && requires.Kind != yaml.SequenceNode {
			n = setup
		}
		msgs = append(msgs, at(n, "a browser setup or browser step (%s) needs %q in requires", strings.Join(BrowserSteps(), ", "), contract.CapBrowser))
	}
	b := contract.BrowserSetup{}
	if sc.Browser != nil {
		b = *sc.Browser
	}
	if b.Tabs < 0 || b.Tabs > maxTabs {
		msgs = append(msgs, at(keyOf(setup, "tabs"), "browser.tabs: %d is not between 0 and %d", b.Tabs, maxTabs))
	}
	if b.Dashboards < 0 || b.Dashboards > maxDashboards {
		msgs = append(msgs, at(keyOf(setup, "dashboards"), "browser.dashboards: %d is not between 0 and %d", b.Dashboards, maxDashboards))
	}
	if b.ThirdPartyCookies != "" && !slices.Contains(thirdPartyCookies, b.ThirdPartyCookies) {
		msgs = append(msgs, at(keyOf(setup, "third_party_cookies"), "browser.third_party_cookies %q is not one of %s", b.ThirdPartyCookies, strings.Join(thirdPartyCookies, ", ")))
	}
	open := map[int]bool{}
	tabs := max(1, b.Tabs)
	for t := 1; t <= tabs; t++ {
		open[t] = true
	}
	for _, s := range sc.Steps {
		n := &yaml.Node{Line: s.Line, Column: s.Column}
		switch s.Action() {
		case "open_tab":
			tabs++
			open[tabs] = true
			if len(open) > maxTabs {
				msgs = append(msgs, at(n, "open_tab: more than %d tabs open at once", maxTabs))
			}
		case "close_tab", "navigate", "hide_tab", "show_tab":
			t := max(s.CloseTab, s.Navigate, s.HideTab, s.ShowTab)
			if !open[t] {
				msgs = append(msgs, at(n, "%s: tab %d is not open here (open: %s)", s.Action(), t, openTabs(open)))
			}
			if s.CloseTab != 0 {
				delete(open, t)
			}
		}
	}
	return msgs
}

func openTabs(open map[int]bool) string {
	if len(open) == 0 {
		return "none"
	}
	var out []string
	for _, t := range slices.Sorted(maps.Keys(open)) {
		out = append(out, strconv.Itoa(t))
	}
	return strings.Join(out, ", ")
}

// maxCalls bounds the calls of a call step, rounds times callers: each is
// a real request through the client, and a run must end in seconds.
const maxCalls = 1000

// wallDelay says what is wrong with a fault that would hold a request for
// longer than MaxWallDelay of wall time, or "".
func wallDelay(f fault.Fault) string {
	if w, ok := f.Effect.(fault.WallTimed); ok {
		if why := w.Exceeds(MaxWallDelay); why != "" {
			return fmt.Sprintf("a %s in a scenario %s", f.Kind(), why)
		}
	}
	return ""
}

// keyOf is the key node of key in the mapping n, or n itself; with an
// empty key, n. A message about a key points at the key, where a reader
// looks first.
func keyOf(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return &yaml.Node{Line: 1, Column: 1}
	}
	if key != "" && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i]
			}
		}
	}
	return n
}

// keysOf looks up key nodes in the mapping n as keyOf does, through an
// index built once: a file may give thousands of keys, and a scan for
// each would take minutes.
func keysOf(n *yaml.Node) func(key string) *yaml.Node {
	index := map[string]*yaml.Node{}
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			index[n.Content[i].Value] = n.Content[i]
		}
	}
	return func(key string) *yaml.Node {
		if k, ok := index[key]; ok {
			return k
		}
		return keyOf(n, "")
	}
}

// item is item i of the sequence n, or n.
func item(n *yaml.Node, i int) *yaml.Node {
	if n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i]
	}
	return keyOf(n, "")
}

func joined[T ~string](items []T) string {
	out := make([]string, len(items))
	for i, v := range items {
		out[i] = string(v)
	}
	return strings.Join(out, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tenantName is what a tenant's name may look like: it travels in
// requests and names files.
var tenantName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// checkTenants finds what is wrong with the scenario's tenants and the
// steps that name one, and the steps whose capability requires does not
// list (multi_tenant, key_rotation).
func (sc *Scenario) checkTenants(root *yaml.Node, node func(string) *yaml.Node, clients map[string]bool) []*yaml.LoadError {
	var msgs []*yaml.LoadError
	tenants := node("tenants")
	if len(sc.Tenants) > 0 {
		if len(sc.Tenants) < 2 {
			msgs = append(msgs, at(tenants, "tenants: name two or more, or none (one tenant is the scenario's client)"))
		}
		if !slices.Contains(sc.Requires, contract.CapMultiTenant) {
			msgs = append(msgs, at(tenants, "tenants need %q in requires", contract.CapMultiTenant))
		}
		if c := yamldoc.Child(root, "client"); c != nil && sc.Client != sc.Tenants[0].Client {
			msgs = append(msgs, at(c, "client %q: with tenants the client under test is the first tenant's (%q); leave client out", sc.Client, sc.Tenants[0].Client))
		}
	}
	names, owners := map[string]bool{}, map[string]string{}
	for i, t := range sc.Tenants {
		n := item(tenants, i)
		switch {
		case !tenantName.MatchString(t.Name):
			msgs = append(msgs, at(n, "tenant %q: a name is 1 to 32 lower-case letters, digits, '-' and '_', starting with a letter or digit", t.Name))
		case names[t.Name]:
			msgs = append(msgs, at(n, "tenant %q is named twice", t.Name))
		}
		names[t.Name] = true
		switch {
		case t.Client == "":
			msgs = append(msgs, at(n, "tenant %q: give its client, a registration of the provider's clients", t.Name))
		case !clients[t.Client]:
			msgs = append(msgs, at(n, "tenant %q: no client %q: the provider has %s", t.Name, t.Client, joined(sortedKeys(clients))))
		case owners[t.Client] != "":
			msgs = append(msgs, at(n, "tenant %q: client %q is tenant %q's already; each tenant is an OAuth app of its own", t.Name, t.Client, owners[t.Client]))
		}
		if t.Client != "" && owners[t.Client] == "" {
			owners[t.Client] = t.Name
		}
	}
	for _, s := range sc.Steps {
		n := &yaml.Node{Line: s.Line, Column: s.Column}
		if s.Tenant != "" {
			switch {
			case len(sc.Tenants) == 0:
				msgs = append(msgs, at(n, "tenant %q: the scenario names no tenants", s.Tenant))
			case !names[s.Tenant]:
				msgs = append(msgs, at(n, "no tenant %q: the scenario names %s", s.Tenant, joined(sortedKeys(names))))
			case !slices.Contains(TenantSteps(), s.Action()):
				msgs = append(msgs, at(n, "%s step is for no tenant: a tenant goes with %s", WithArticle(s.Action()), strings.Join(TenantSteps(), ", ")))
			case s.Action() == "revoke" && !s.Revoke.Client:
				msgs = append(msgs, at(n, "revoke: a tenant goes with `client: true` (that tenant's app's grants); a user's grants or all of them are every tenant's"))
			}
		}
		if s.RotateStorageKey != nil && !slices.Contains(sc.Requires, contract.CapKeyRotation) {
			msgs = append(msgs, at(n, "rotate_storage_key needs %q in requires", contract.CapKeyRotation))
		}
	}
	return msgs
}

// withArticle is word with "a" or "an" before it, as it is spoken.
func WithArticle(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}
