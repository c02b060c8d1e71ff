// Package fault holds the simulator's fault rules: what breaks token
// managers in the field, as plain data. A Fault says which requests it
// matches, in OAuth terms (endpoint, grant type, client, user, family, the
// nth match, a count, a sim-time window, a seeded probability), and what it
// does to them. The same structure is read from scenario and config YAML,
// from the control API's JSON, and built in Go; an Engine decides, request by
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

	"go.yaml.in/yaml/v3"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Kind names what a fault does.
type Kind string

// Fault kinds.
const (
	// RateLimit answers with the provider's rate-limit signal: for a fixed set of matches, or
	// from a real limiter (Limit requests Per window, by client, user, family or globally).
	RateLimit Kind = "rate_limit"
	// Error answers with any status and body: an OAuth error, a 5xx, an HTML page.
	Error Kind = "error"
	// Latency delays the answer by Delay plus up to Jitter (wall time: clients time out on it).
	Latency Kind = "latency"
	// Hang never answers: the connection is held until the client gives up, or Max passes,
	// and then closed without a response.
	Hang Kind = "hang"
	// Reset closes the connection without a response.
	Reset Kind = "reset"
	// Malformed serves the request and then spoils the answer (see Mode).
	Malformed Kind = "malformed"
	// DropAfterCommit serves the request, so a refresh rotates, and then closes the
	// connection: the client never learns the new refresh token.
	DropAfterCommit Kind = "drop_after_commit"
	// Skew sets the provider's clock Offset from the simulation's (and the client's): it
	// moves iat, exp, Date and every expiry decision.
	Skew Kind = "skew"
	// Backdate mints access tokens By earlier than the response leaves, so expires_in
	// overstates their remaining life.
	Backdate Kind = "backdate"
	// PropagationDelay makes the resource refuse a freshly issued access token, and keep
	// accepting a revoked one, for Delay (see On).
	PropagationDelay Kind = "propagation_delay"
	// Deviation makes a token response depart from RFC 6749 (see Deviation).
	Deviation Kind = "deviation"
)

// Kinds lists every fault kind.
func Kinds() []Kind {
	return []Kind{RateLimit, Error, Latency, Hang, Reset, Malformed, DropAfterCommit, Skew, Backdate, PropagationDelay, Deviation}
}

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

// Malformed modes.
const (
	// ModeTruncate cuts the body in half: JSON that does not parse.
	ModeTruncate = "truncate"
	// ModeContentType keeps the body and labels it text/html.
	ModeContentType = "content_type"
	// ModeNotJSON replaces the body with an HTML page, keeping the status.
	ModeNotJSON = "not_json"
	// ModeEmpty keeps the status and headers and sends no body.
	ModeEmpty = "empty"
)

// Retry-After formats (RFC 9110 §10.2.3).
const (
	RetryAfterSeconds  = "seconds"
	RetryAfterHTTPDate = "http_date"
	RetryAfterNone     = "none"
)

// Rate-limit signals other than a built-in profile's name.
const (
	// SignalProfile answers with the active profile's rate_limited response, or as
	// SignalStandard when it has none. It is the default.
	SignalProfile = "profile"
	// SignalStandard answers 429 with Retry-After (RFC 6585 §4) and an RFC 6749 JSON error,
	// temporarily_unavailable.
	SignalStandard = "standard"
	// SignalJSONWithoutError answers 429 with Retry-After and a JSON body that has no
	// "error" member, only a message and the delay in seconds, as APIs that are not OAuth
	// servers answer (Discord documents {"message", "retry_after", "global"}:
	// docs.discord.com/developers/topics/rate-limits, "Exceeding A Rate Limit").
	SignalJSONWithoutError = "json_without_error"
)

// Limiter keys: what a rate_limit's Limit is counted per.
const (
	KeyClient = "client"
	KeyUser   = "user"
	KeyFamily = "family"
	KeyGlobal = "global"
)

// Propagation: what a propagation_delay holds back.
const (
	OnIssue      = "issue"
	OnRevocation = "revocation"
)

// DeviationRandomLifetime gives each access token a random lifetime between
// Min and Max (Entra's 60 to 90 minutes). It is a deviation only faults make;
// profiles have access_token_lifetime_max for it.
const DeviationRandomLifetime profile.Deviation = "random_access_token_lifetime"

// Fault is one rule. Only the parameters of its Kind may be set.
type Fault struct {
	// ID names the fault; the engine assigns "f1", "f2", ... when it is empty.
	ID    string `json:"id,omitempty" yaml:"id,omitempty"`
	Kind  Kind   `json:"kind" yaml:"kind"`
	Match Match  `json:"match,omitzero" yaml:"match,omitempty"`

	// Status and the body of an error (and, with Status, of a rate_limit with signal "standard").
	Status int `json:"status,omitempty" yaml:"status,omitempty"`
	// OAuthError writes an RFC 6749 §5.2 JSON error with this code and ErrorDescription.
	OAuthError       string `json:"oauth_error,omitempty" yaml:"oauth_error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty" yaml:"error_description,omitempty"`
	// Situation answers as the active profile does in that situation (e.g.
	// interaction_required: Entra's AADSTS50076 body).
	Situation profile.Situation `json:"situation,omitempty" yaml:"situation,omitempty"`
	// Body is sent as is, with ContentType (guessed from the body when empty).
	Body        string            `json:"body,omitempty" yaml:"body,omitempty"`
	ContentType string            `json:"content_type,omitempty" yaml:"content_type,omitempty"`
	Headers     map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`

	// Signal is how a rate_limit answers: "profile" (the default: the active profile's
	// rate_limited response, or "standard" when it has none), "standard" (429 JSON
	// temporarily_unavailable with Retry-After), "json_without_error" (429 with
	// Retry-After and JSON without an error member), or the name of a built-in profile
	// whose signal to use (google: 403 HTML; okta: X-Rate-Limit-*; auth0; entra).
	Signal string `json:"signal,omitempty" yaml:"signal,omitempty"`
	// Limit requests Per window, counted by Key, make a real limiter instead of firing on
	// every match.
	Limit int              `json:"limit,omitempty" yaml:"limit,omitempty"`
	Per   profile.Duration `json:"per,omitempty" yaml:"per,omitempty"`
	Key   string           `json:"key,omitempty" yaml:"key,omitempty"`
	// RetryAfter is the delay a fixed rate_limit or an error announces (default 30s for
	// rate_limit); a limiter announces when its window frees.
	RetryAfter profile.Duration `json:"retry_after,omitempty" yaml:"retry_after,omitempty"`
	// RetryAfterFormat forces the Retry-After header: seconds, http_date or none. Empty
	// leaves it to the signal.
	RetryAfterFormat string `json:"retry_after_format,omitempty" yaml:"retry_after_format,omitempty"`

	// Delay is a latency's wait or a propagation_delay's lag; Jitter adds up to that much
	// more at random.
	Delay  profile.Duration `json:"delay,omitempty" yaml:"delay,omitempty"`
	Jitter profile.Duration `json:"jitter,omitempty" yaml:"jitter,omitempty"`
	// Max bounds a hang (default 30s, wall time).
	Max profile.Duration `json:"max,omitempty" yaml:"max,omitempty"`
	// Mode is how malformed spoils the answer: truncate, content_type, not_json or empty.
	Mode string `json:"mode,omitempty" yaml:"mode,omitempty"`
	// Offset is a skew's difference, provider minus client (may be negative).
	Offset profile.Duration `json:"offset,omitempty" yaml:"offset,omitempty"`
	// By is how far back a backdate mints.
	By profile.Duration `json:"by,omitempty" yaml:"by,omitempty"`
	// On says what a propagation_delay holds back: issue, revocation, or both (the default).
	On OneOrMany[string] `json:"on,omitempty" yaml:"on,omitempty"`
	// Deviation names a deviation's departure; random_access_token_lifetime takes
	// MinLifetime and MaxLifetime.
	Deviation   profile.Deviation `json:"deviation,omitempty" yaml:"deviation,omitempty"`
	MinLifetime profile.Duration  `json:"min_lifetime,omitempty" yaml:"min_lifetime,omitempty"`
	MaxLifetime profile.Duration  `json:"max_lifetime,omitempty" yaml:"max_lifetime,omitempty"`
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

// params lists the kind-specific parameters that are set.
func (f *Fault) params() []string {
	var set []string
	add := func(name string, isSet bool) {
		if isSet {
			set = append(set, name)
		}
	}
	add("status", f.Status != 0)
	add("oauth_error", f.OAuthError != "")
	add("error_description", f.ErrorDescription != "")
	add("situation", f.Situation != "")
	add("body", f.Body != "")
	add("content_type", f.ContentType != "")
	add("headers", len(f.Headers) > 0)
	add("signal", f.Signal != "")
	add("limit", f.Limit != 0)
	add("per", f.Per != 0)
	add("key", f.Key != "")
	add("retry_after", f.RetryAfter != 0)
	add("retry_after_format", f.RetryAfterFormat != "")
	add("delay", f.Delay != 0)
	add("jitter", f.Jitter != 0)
	add("max", f.Max != 0)
	add("mode", f.Mode != "")
	add("offset", f.Offset != 0)
	add("by", f.By != 0)
	add("on", len(f.On) > 0)
	add("deviation", f.Deviation != "")
	add("min_lifetime", f.MinLifetime != 0)
	add("max_lifetime", f.MaxLifetime != 0)
	return set
}

// kindParams are the parameters each kind takes.
var kindParams = map[Kind][]string{
	RateLimit:        {"signal", "limit", "per", "key", "retry_after", "retry_after_format", "status"},
	Error:            {"status", "oauth_error", "error_description", "situation", "body", "content_type", "headers", "retry_after", "retry_after_format"},
	Latency:          {"delay", "jitter"},
	Hang:             {"max"},
	Reset:            {},
	Malformed:        {"mode"},
	DropAfterCommit:  {},
	Skew:             {"offset"},
	Backdate:         {"by"},
	PropagationDelay: {"delay", "on"},
	Deviation:        {"deviation", "min_lifetime", "max_lifetime"},
}

// maxWait bounds latency and hang: a fault must not hold a connection (or a
// CI job) for longer.
const maxWait = 10 * time.Minute

// Validate reports every problem with f at once, each as a *FieldError.
func (f *Fault) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	allowed, known := kindParams[f.Kind]
	if !known {
		bad("kind", "must be one of %s, got %q", list(Kinds()), f.Kind)
		return errors.Join(errs...)
	}
	for _, p := range f.params() {
		if !slices.Contains(allowed, p) {
			bad(p, "does not apply to a %s fault (it takes: %s)", f.Kind, orNothing(allowed))
		}
	}
	if f.ID != "" && strings.ContainsAny(f.ID, "/?# ") {
		bad("id", "must not contain '/', '?', '#' or spaces, got %q", f.ID)
	}
	f.Match.validate(f.Kind, bad)
	switch f.Kind {
	case RateLimit:
		f.validateRateLimit(bad)
	case Error:
		f.validateError(bad)
	case Latency:
		if f.Delay <= 0 && f.Jitter <= 0 {
			bad("delay", "a latency needs a positive delay or jitter")
		}
		if f.Delay < 0 || f.Jitter < 0 {
			bad("delay", "delay and jitter must not be negative")
		}
		if (f.Delay + f.Jitter).D() > maxWait {
			bad("delay", "delay plus jitter must be at most %s", profile.Duration(maxWait))
		}
	case Hang:
		if f.Max < 0 || f.Max.D() > maxWait {
			bad("max", "must be between 0 (the default, 30s) and %s", profile.Duration(maxWait))
		}
	case Malformed:
		modes := []string{ModeTruncate, ModeContentType, ModeNotJSON, ModeEmpty}
		if !slices.Contains(modes, f.Mode) {
			bad("mode", "must be one of %s, got %q", list(modes), f.Mode)
		}
	case Skew:
		if f.Offset == 0 {
			bad("offset", "a skew needs a non-zero offset such as 5m or -90s")
		}
	case Backdate:
		if f.By <= 0 {
			bad("by", "a backdate needs a positive duration such as 120s")
		}
	case PropagationDelay:
		if f.Delay <= 0 {
			bad("delay", "a propagation_delay needs a positive delay such as 30s")
		}
		for _, on := range f.On {
			if on != OnIssue && on != OnRevocation {
				bad("on", "must list %q and/or %q, got %q", OnIssue, OnRevocation, on)
			}
		}
	case Deviation:
		f.validateDeviation(bad)
	}
	return errors.Join(errs...)
}

func (m *Match) validate(kind Kind, bad func(field, format string, args ...any)) {
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
	if m.Seed != nil && m.Probability == 0 && kind != Latency {
		bad("match.seed", "only means something with a probability (or a latency's jitter)")
	}
	for _, w := range []struct{ field, v string }{{"match.from", m.From}, {"match.until", m.Until}} {
		if w.v != "" {
			if _, _, err := parseWhen(w.v); err != nil {
				bad(w.field, "%v", err)
			}
		}
	}
	// A skew is the provider's clock: it holds for a window, not per request.
	if kind == Skew {
		if len(m.Endpoint)+len(m.GrantType)+len(m.Client)+len(m.User)+len(m.Family) > 0 || m.Nth != 0 || m.Count != 0 || m.Probability != 0 {
			bad("match", "a skew moves the provider's one clock: it takes only match.from and match.until")
		}
	}
}

func (f *Fault) validateRateLimit(bad func(field, format string, args ...any)) {
	switch f.Signal {
	case "", SignalProfile, SignalStandard, SignalJSONWithoutError:
	default:
		if _, ok := profile.Lookup(f.Signal); !ok {
			bad("signal", "must be profile, standard, json_without_error or a built-in profile (%s), got %q", strings.Join(profile.Names(), ", "), f.Signal)
		}
	}
	if f.Status != 0 && f.Signal != SignalStandard {
		bad("status", "only changes the standard signal's status (set signal: standard)")
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		bad("status", "must be a 4xx or 5xx status, got %d", f.Status)
	}
	if f.Limit < 0 {
		bad("limit", "must be positive, got %d", f.Limit)
	}
	if f.Limit > 0 {
		if f.Per <= 0 {
			bad("limit", "a limit needs its window, per (such as per: 1m)")
		}
		if f.RetryAfter != 0 {
			bad("retry_after", "a limiter announces when its window frees; retry_after is for a fixed rate_limit")
		}
		if f.Match.Nth != 0 || f.Match.Count != 0 || f.Match.Probability != 0 {
			bad("match", "a limiter decides by its own count: leave out nth, count and probability")
		}
		switch f.Key {
		case "", KeyClient, KeyUser, KeyFamily, KeyGlobal:
		default:
			bad("key", "must be client, user, family or global, got %q", f.Key)
		}
	} else if f.Per != 0 || f.Key != "" {
		bad("limit", "per and key need a limit")
	}
	f.validateRetryAfter(bad)
}

func (f *Fault) validateRetryAfter(bad func(field, format string, args ...any)) {
	if f.RetryAfter < 0 {
		bad("retry_after", "must not be negative")
	}
	switch f.RetryAfterFormat {
	case "", RetryAfterSeconds, RetryAfterHTTPDate, RetryAfterNone:
	default:
		bad("retry_after_format", "must be seconds, http_date or none, got %q", f.RetryAfterFormat)
	}
}

func (f *Fault) validateError(bad func(field, format string, args ...any)) {
	bodies := 0
	for _, set := range []bool{f.OAuthError != "", f.Situation != "", f.Body != ""} {
		if set {
			bodies++
		}
	}
	if bodies > 1 {
		bad("body", "give at most one of oauth_error, situation and body")
	}
	if f.Situation != "" && !slices.Contains(profile.Situations(), f.Situation) {
		bad("situation", "must be one of %s, got %q", list(profile.Situations()), f.Situation)
	}
	if f.Situation != "" && f.Status != 0 {
		bad("status", "a situation answers with the profile's own status")
	}
	if f.ErrorDescription != "" && f.OAuthError == "" {
		bad("error_description", "needs an oauth_error")
	}
	if f.Status == 0 && bodies == 0 {
		bad("status", "an error needs a status, an oauth_error, a situation or a body")
	}
	if f.Status != 0 && (f.Status < 200 || f.Status > 599) {
		bad("status", "must be between 200 and 599, got %d", f.Status)
	}
	f.validateRetryAfter(bad)
}

func (f *Fault) validateDeviation(bad func(field, format string, args ...any)) {
	switch {
	case f.Deviation == DeviationRandomLifetime:
		if f.MinLifetime <= 0 || f.MaxLifetime < f.MinLifetime {
			bad("min_lifetime", "random_access_token_lifetime needs 0 < min_lifetime <= max_lifetime")
		}
	case slices.Contains(profile.Deviations(), f.Deviation):
		if f.MinLifetime != 0 || f.MaxLifetime != 0 {
			bad("min_lifetime", "only random_access_token_lifetime takes min_lifetime and max_lifetime")
		}
	default:
		bad("deviation", "must be one of %s, got %q", list(append(profile.Deviations(), DeviationRandomLifetime)), f.Deviation)
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
