package fault

import (
	"net/http"
	"strings"
	"time"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// RateLimit answers with the provider's rate-limit signal: for a fixed set of
// matches, or from a real limiter (Limit requests Per window, by client,
// user, family or globally).
const RateLimit Kind = "rate_limit"

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

// defaultRetryAfter is what a fixed rate_limit announces when it sets no
// retry_after.
const defaultRetryAfter = 30 * time.Second

// RateLimitEffect is a rate_limit fault.
type RateLimitEffect struct {
	// Signal is how it answers: "profile" (the default: the active profile's
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
	// RetryAfter is the delay a fixed rate_limit announces (default 30s); a limiter
	// announces when its window frees.
	RetryAfter profile.Duration `json:"retry_after,omitempty" yaml:"retry_after,omitempty"`
	// RetryAfterFormat forces the Retry-After header: seconds, http_date or none. Empty
	// leaves it to the signal.
	RetryAfterFormat string `json:"retry_after_format,omitempty" yaml:"retry_after_format,omitempty"`
	// Status replaces the standard signal's 429.
	Status int `json:"status,omitempty" yaml:"status,omitempty"`
}

// Kind implements Effect.
func (RateLimitEffect) Kind() Kind { return RateLimit }

func (e RateLimitEffect) validate(m *Match, bad badFunc) {
	switch e.Signal {
	case "", SignalProfile, SignalStandard, SignalJSONWithoutError:
	default:
		if _, ok := profile.Lookup(e.Signal); !ok {
			bad("signal", "must be profile, standard, json_without_error or a built-in profile (%s), got %q", strings.Join(profile.Names(), ", "), e.Signal)
		}
	}
	if e.Status != 0 && e.Signal != SignalStandard {
		bad("status", "only changes the standard signal's status (set signal: standard)")
	}
	if e.Status != 0 && (e.Status < 400 || e.Status > 599) {
		bad("status", "must be a 4xx or 5xx status, got %d", e.Status)
	}
	if e.Limit < 0 {
		bad("limit", "must be positive, got %d", e.Limit)
	}
	if e.Limit > 0 {
		if e.Per <= 0 {
			bad("limit", "a limit needs its window, per (such as per: 1m)")
		}
		if e.RetryAfter != 0 {
			bad("retry_after", "a limiter announces when its window frees; retry_after is for a fixed rate_limit")
		}
		if m.Nth != 0 || m.Count != 0 || m.Probability != 0 {
			bad("match", "a limiter decides by its own count: leave out nth, count and probability")
		}
		switch e.Key {
		case "", KeyClient, KeyUser, KeyFamily, KeyGlobal:
		default:
			bad("key", "must be client, user, family or global, got %q", e.Key)
		}
	} else if e.Per != 0 || e.Key != "" {
		bad("limit", "per and key need a limit")
	}
	validateRetryAfter(e.RetryAfter, e.RetryAfterFormat, bad)
}

// limiter makes the engine count requests for a limiter, when the fault has one.
func (e RateLimitEffect) limiter() limiter {
	return limiter{limit: e.Limit, per: e.Per.D(), key: e.Key}
}

// retryAfter is what a fixed rate_limit announces.
func (e RateLimitEffect) retryAfter() time.Duration {
	if e.RetryAfter != 0 {
		return e.RetryAfter.D()
	}
	return defaultRetryAfter
}

// Answer answers with the signal.
func (e RateLimitEffect) Answer(x Exchange) string { return x.Respond(e.response(x)) }

// standardRateLimit is the rate-limit signal of a provider that documents
// none: 429 with Retry-After (RFC 6585 §4) and an RFC 6749 error code a
// client can recognise as transient.
var standardRateLimit = profile.Response{
	Status:      http.StatusTooManyRequests,
	ContentType: "application/json",
	Headers:     map[string]string{"Retry-After": "{{.RetryAfterSeconds}}"},
	Body:        `{"error":"temporarily_unavailable","error_description":"Too many requests: retry after {{.RetryAfterSeconds}} seconds."}`,
}

// jsonRateLimit is the json_without_error signal (see
// SignalJSONWithoutError): a 429 with Retry-After whose JSON body has a
// message and the delay but no "error" member, so that a client which takes
// every JSON error body for an OAuth error finds no code in it.
var jsonRateLimit = profile.Response{
	Status:      http.StatusTooManyRequests,
	ContentType: "application/json",
	Headers:     map[string]string{"Retry-After": "{{.RetryAfterSeconds}}"},
	Body:        `{"message":"Too many requests; slow down.","retry_after":{{.RetryAfterSeconds}}}`,
}

// response is the signal, its Retry-After forced to the fault's format when
// it names one.
func (e RateLimitEffect) response(x Exchange) profile.Response {
	resp := standardRateLimit
	switch e.Signal {
	case SignalStandard:
		if e.Status != 0 {
			resp.Status = e.Status
		}
	case SignalJSONWithoutError:
		resp = jsonRateLimit
	case "", SignalProfile:
		if r, ok := x.Situation(profile.SituationRateLimited); ok {
			resp = r
		}
	default:
		if p, ok := profile.Lookup(e.Signal); ok {
			if r, ok := p.Responses[profile.SituationRateLimited]; ok {
				resp = r
			}
		}
	}
	format := e.RetryAfterFormat
	if format == "" {
		_, announces := resp.Headers["Retry-After"]
		switch {
		case e.RetryAfter != 0:
			// An explicit retry_after is announced whatever the signal.
			format = RetryAfterSeconds
		case e.Limit > 0 && announces:
			// A signal that announces a delay announces the limiter's.
			format = RetryAfterSeconds
		}
	}
	return withRetryAfter(resp, format)
}
