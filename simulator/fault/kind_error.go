package fault

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Error answers with any status and body: an OAuth error, a 5xx, an HTML page.
const Error Kind = "error"

// ErrorEffect is an error fault.
type ErrorEffect struct {
	// Status is the answer's status.
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
	// RetryAfter is the delay the answer announces in Retry-After, in
	// RetryAfterFormat (seconds, http_date or none; seconds when only
	// RetryAfter is set).
	RetryAfter       profile.Duration `json:"retry_after,omitempty" yaml:"retry_after,omitempty"`
	RetryAfterFormat string           `json:"retry_after_format,omitempty" yaml:"retry_after_format,omitempty"`
}

// Kind implements Effect.
func (ErrorEffect) Kind() Kind { return Error }

func (e ErrorEffect) validate(_ *Match, bad badFunc) {
	bodies := 0
	for _, set := range []bool{e.OAuthError != "", e.Situation != "", e.Body != ""} {
		if set {
			bodies++
		}
	}
	if bodies > 1 {
		bad("body", "give at most one of oauth_error, situation and body")
	}
	if e.Situation != "" && !slices.Contains(profile.Situations(), e.Situation) {
		bad("situation", "must be one of %s, got %q", list(profile.Situations()), e.Situation)
	}
	if e.Situation != "" && e.Status != 0 {
		bad("status", "a situation answers with the profile's own status")
	}
	if e.ErrorDescription != "" && e.OAuthError == "" {
		bad("error_description", "needs an oauth_error")
	}
	if e.Status == 0 && bodies == 0 {
		bad("status", "an error needs a status, an oauth_error, a situation or a body")
	}
	if e.Status != 0 && (e.Status < 200 || e.Status > 599) {
		bad("status", "must be between 200 and 599, got %d", e.Status)
	}
	validateRetryAfter(e.RetryAfter, e.RetryAfterFormat, bad)
}

// clone keeps the engine's copy of the headers apart from the caller's.
func (e ErrorEffect) clone() Effect {
	e.Headers = maps.Clone(e.Headers)
	return e
}

// retryAfter is the delay the answer announces.
func (e ErrorEffect) retryAfter() time.Duration { return e.RetryAfter.D() }

// Answer answers with the fault's status and body.
func (e ErrorEffect) Answer(x Exchange) string { return x.Respond(e.response(x)) }

// standardResponses answer each situation as RFC 6749 would, for profiles
// that do not give their own.
var standardResponses = map[profile.Situation]profile.Response{
	profile.SituationRateLimited:         standardRateLimit,
	profile.SituationInteractionRequired: oauthResponse(http.StatusBadRequest, "interaction_required", "The user must sign in again to satisfy a policy."),
	profile.SituationClientSecretInvalid: oauthResponse(http.StatusUnauthorized, "invalid_client", "The client secret is not valid."),
	profile.SituationClientSecretExpired: oauthResponse(http.StatusUnauthorized, "invalid_client", "The client secret has expired."),
}

// response is the answer: the profile's own in the situation, an OAuth
// error, the body given, or a JSON error for the status.
func (e ErrorEffect) response(x Exchange) profile.Response {
	var resp profile.Response
	switch {
	case e.Situation != "":
		var ok bool
		if resp, ok = x.Situation(e.Situation); !ok {
			resp, ok = standardResponses[e.Situation]
			if !ok {
				resp = oauthResponse(http.StatusBadRequest, "invalid_grant", "The refresh token is invalid.")
			}
		}
	case e.OAuthError != "":
		resp = oauthResponse(http.StatusBadRequest, e.OAuthError, e.ErrorDescription)
		resp.Body = literal(resp.Body)
	case e.Body != "":
		resp = profile.Response{Status: http.StatusInternalServerError, ContentType: e.ContentType, Body: literal(e.Body)}
		if resp.ContentType == "" {
			resp.ContentType = contentTypeOf(e.Body)
		}
	default:
		code := "server_error"
		switch {
		case e.Status == http.StatusServiceUnavailable:
			code = "temporarily_unavailable"
		case e.Status < 500:
			code = "invalid_request"
		}
		resp = oauthResponse(e.Status, code, http.StatusText(e.Status))
	}
	if e.Status != 0 {
		resp.Status = e.Status
	}
	if len(e.Headers) > 0 {
		headers := maps.Clone(resp.Headers)
		if headers == nil {
			headers = map[string]string{}
		}
		for k, v := range e.Headers {
			headers[k] = literal(v)
		}
		resp.Headers = headers
	}
	format := e.RetryAfterFormat
	if format == "" && e.RetryAfter > 0 {
		format = RetryAfterSeconds
	}
	return withRetryAfter(resp, format)
}

// contentTypeOf guesses the type of a body a fault gives without one.
func contentTypeOf(body string) string {
	b := strings.TrimSpace(body)
	switch {
	case strings.HasPrefix(b, "{") || strings.HasPrefix(b, "["):
		return "application/json"
	case strings.HasPrefix(b, "<"):
		return "text/html; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}
