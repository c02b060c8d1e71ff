// Package fault holds the simulator's fault rules: what breaks token
// managers in the field, as plain data. A Fault says which requests it
// matches, in OAuth terms (endpoint, grant type, client, user, family, the
// nth match, a count, a sim-time window, a seeded probability), and what it
// does to them: its Effect, one type per kind, as toxiproxy has one type per
// toxic. Each kind's file (kind_*.go) holds its parameters, their
// validation and the hooks through which it acts on a request; the
// simulator calls the hooks at fixed points of a request's way and gives
// them narrow interfaces onto the request (hooks.go), so that no kind
// reaches into the simulator and the simulator tells no kind from another.
// The same structure is read from scenario and config YAML, from the
// control API's JSON, and built in Go; an Engine decides, request by
// request, which faults fire.
package fault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Kind names what a fault does. Each kind is one type of Effect, in a file
// of its own (kind_*.go): its parameters, their validation, and the hooks
// the simulator calls on a request's way.
type Kind string

// effects holds the zero Effect of every kind, in the order Kinds lists them.
var effects = []Effect{
	RateLimitEffect{}, ErrorEffect{}, LatencyEffect{}, HangEffect{}, ResetEffect{}, MalformedEffect{},
	DropAfterCommitEffect{}, SkewEffect{}, BackdateEffect{}, PropagationDelayEffect{}, DeviationEffect{},
}

// Kinds lists every fault kind.
func Kinds() []Kind {
	out := make([]Kind, len(effects))
	for i, e := range effects {
		out[i] = e.Kind()
	}
	return out
}

// Effect is what a fault does, with its parameters: one of the kinds' types
// (RateLimitEffect, ErrorEffect, LatencyEffect, ...), held as a value. A
// kind acts on requests through the hooks it implements (Holder, Answerer,
// Spoiler, Minter, Deviator, TokenShaper, Propagator; see hooks.go), which
// the simulator calls at those points of a request's way; a skew acts on the
// provider's clock instead.
type Effect interface {
	// Kind names the effect's kind, as files and the control API spell it.
	Kind() Kind
	// validate reports each problem with the parameters through bad; m is
	// the fault's match, which some kinds narrow.
	validate(m *Match, bad badFunc)
}

// badFunc reports one problem with one field of a fault.
type badFunc func(field, format string, args ...any)

// Endpoint names a provider endpoint a fault can match.
type Endpoint string

// Endpoints.
const (
	EndpointToken      Endpoint = "token"
	EndpointAuthorize  Endpoint = "authorize"
	EndpointRevoke     Endpoint = "revoke"
	EndpointIntrospect Endpoint = "introspect"
	EndpointResource   Endpoint = "resource" // /api/me and userinfo
	EndpointDiscovery  Endpoint = "discovery"
	EndpointJWKS       Endpoint = "jwks"
)

// Endpoints lists every endpoint a fault can match.
func Endpoints() []Endpoint {
	return []Endpoint{EndpointToken, EndpointAuthorize, EndpointRevoke, EndpointIntrospect, EndpointResource, EndpointDiscovery, EndpointJWKS}
}

// Fault is one rule: which requests it matches, and its Effect on them. In
// a file or JSON its effect's parameters stand beside its kind:
//
//	{"kind": "latency", "delay": "2s", "match": {"endpoint": "token"}}
//
// is Fault{Effect: LatencyEffect{Delay: 2s}, Match: Match{Endpoint: token}}.
type Fault struct {
	// ID names the fault; the engine assigns "f1", "f2", ... when it is empty.
	ID    string
	Match Match
	// Effect is what the fault does; nil is no kind, which Validate refuses.
	Effect Effect

	// refused is what a file or JSON body gave that no effect holds, kept for
	// Validate to report with every other problem.
	refused *refusal
}

// refusal is what decoding a fault could not place: a kind no effect has, or
// parameters (set ones, in document order) that belong to other kinds.
type refusal struct {
	kind  Kind
	stray []string
}

// Kind is the kind of the fault's effect: the kind a file or JSON body
// named, even one that does not exist, or "" for none.
func (f Fault) Kind() Kind {
	switch {
	case f.Effect != nil:
		return f.Effect.Kind()
	case f.refused != nil:
		return f.refused.kind
	}
	return ""
}

// Match says which requests a fault applies to. Empty fields match anything.
type Match struct {
	Endpoint  OneOrMany[Endpoint] `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`
	GrantType OneOrMany[string]   `json:"grant_type,omitempty" yaml:"grant_type,omitempty"`
	Client    OneOrMany[string]   `json:"client,omitempty" yaml:"client,omitempty"`
	User      OneOrMany[string]   `json:"user,omitempty" yaml:"user,omitempty"`
	Family    OneOrMany[string]   `json:"family,omitempty" yaml:"family,omitempty"`
	// Nth fires first on the nth matching request; with no Count, only on it.
	Nth int `json:"nth,omitempty" yaml:"nth,omitempty"`
	// Count fires on at most this many matching requests (from the Nth when set).
	Count int `json:"count,omitempty" yaml:"count,omitempty"`
	// From and Until bound the fault in sim time: an RFC 3339 time, or a duration after
	// the moment the fault was added ("2h", "7d").
	From  string `json:"from,omitempty" yaml:"from,omitempty"`
	Until string `json:"until,omitempty" yaml:"until,omitempty"`
	// Probability fires on this share of the requests that would fire (0 < p ≤ 1), drawn
	// from a generator seeded with Seed, so that a run can be repeated.
	Probability float64 `json:"probability,omitempty" yaml:"probability,omitempty"`
	Seed        *uint64 `json:"seed,omitempty" yaml:"seed,omitempty"`
}

// FieldError is a problem with one field of a fault, named by its key path
// ("match.nth"), so that a YAML reader can point at its line and column.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// maxWait bounds latency and hang: a fault must not hold a connection (or a
// CI job) for longer.
const maxWait = 10 * time.Minute

// Validate reports every problem with f at once, each as a *FieldError.
func (f *Fault) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if f.Effect == nil {
		bad("kind", "must be one of %s, got %q", list(Kinds()), f.Kind())
		return errors.Join(errs...)
	}
	if f.refused != nil {
		for _, p := range f.refused.stray {
			bad(p, "does not apply to a %s fault (it takes: %s)", f.Kind(), orNothing(Params(f.Kind())))
		}
	}
	if f.ID != "" && strings.ContainsAny(f.ID, "/?# ") {
		bad("id", "must not contain '/', '?', '#' or spaces, got %q", f.ID)
	}
	f.Match.validate(f.Effect, bad)
	f.Effect.validate(&f.Match, bad)
	return errors.Join(errs...)
}

func (m *Match) validate(effect Effect, bad badFunc) {
	for _, e := range m.Endpoint {
		if !slices.Contains(Endpoints(), e) {
			bad("match.endpoint", "must be one of %s, got %q", list(Endpoints()), e)
		}
	}
	for _, field := range []struct {
		name string
		vals []string
	}{{"match.grant_type", m.GrantType}, {"match.client", m.Client}, {"match.user", m.User}, {"match.family", m.Family}} {
		if slices.Contains(field.vals, "") {
			bad(field.name, "must not list an empty value")
		}
	}
	if m.Nth < 0 {
		bad("match.nth", "must be positive, got %d", m.Nth)
	}
	if m.Count < 0 {
		bad("match.count", "must be positive, got %d", m.Count)
	}
	if m.Probability < 0 || m.Probability > 1 {
		bad("match.probability", "must be between 0 and 1, got %g", m.Probability)
	}
	// A latency's jitter draws from the seeded generator even without a probability.
	if _, draws := effect.(jittered); m.Seed != nil && m.Probability == 0 && !draws {
		bad("match.seed", "only means something with a probability (or a latency's jitter)")
	}
	for _, w := range []struct{ field, v string }{{"match.from", m.From}, {"match.until", m.Until}} {
		if w.v != "" {
			if _, _, err := parseWhen(w.v); err != nil {
				bad(w.field, "%v", err)
			}
		}
	}
}

// parseWhen reads a window bound: an RFC 3339 time (absolute) or a duration
// after the fault was added (relative).
func parseWhen(s string) (time.Time, time.Duration, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, 0, nil
	}
	d, err := profile.ParseDuration(strings.TrimPrefix(s, "+"))
	if err != nil || d < 0 {
		return time.Time{}, 0, fmt.Errorf("%q is neither an RFC 3339 time nor a duration after the fault is added (such as 2h or 7d)", s)
	}
	return time.Time{}, d.D(), nil
}

// resolveWhen turns a window bound into a sim time, relative ones counted
// from added.
func resolveWhen(s string, added time.Time) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, d, _ := parseWhen(s)
	if t.IsZero() {
		t = added.Add(d)
	}
	return t
}

func list[T ~string](items []T) string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = string(it)
	}
	return strings.Join(s, ", ")
}

func orNothing(items []string) string {
	if len(items) == 0 {
		return "no parameters"
	}
	return strings.Join(items, ", ")
}

// OneOrMany is a list that files and JSON may also give as a single value:
// `endpoint: token` reads as `endpoint: [token]`.
type OneOrMany[T ~string] []T

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *OneOrMany[T]) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = OneOrMany[T]{T(n.Value)}
		return nil
	}
	var items []T
	if err := n.Decode(&items); err != nil {
		return err
	}
	*l = items
	return nil
}

// UnmarshalJSON implements json.Unmarshaler. null is the empty list.
func (l *OneOrMany[T]) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*l = nil
		return nil
	}
	var one T
	if err := json.Unmarshal(b, &one); err == nil {
		*l = OneOrMany[T]{one}
		return nil
	}
	var items []T
	if err := json.Unmarshal(b, &items); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*l = items
	return nil
}
