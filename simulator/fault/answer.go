package fault

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// What the kinds that answer in the provider's place (rate_limit, error)
// share: the Retry-After header they may force, and RFC 6749 error bodies.

// Retry-After formats (RFC 9110 §10.2.3).
const (
	RetryAfterSeconds  = "seconds"
	RetryAfterHTTPDate = "http_date"
	RetryAfterNone     = "none"
)

func validateRetryAfter(after profile.Duration, format string, bad badFunc) {
	if after < 0 {
		bad("retry_after", "must not be negative")
	}
	switch format {
	case "", RetryAfterSeconds, RetryAfterHTTPDate, RetryAfterNone:
	default:
		bad("retry_after_format", "must be seconds, http_date or none, got %q", format)
	}
}

// withRetryAfter sets or removes a response's Retry-After header by format;
// an empty format leaves the response as it is.
func withRetryAfter(resp profile.Response, format string) profile.Response {
	if format == "" {
		return resp
	}
	headers := make(map[string]string, len(resp.Headers)+1)
	for k, v := range resp.Headers {
		if http.CanonicalHeaderKey(k) != "Retry-After" {
			headers[k] = v
		}
	}
	switch format {
	case RetryAfterSeconds:
		headers["Retry-After"] = "{{.RetryAfterSeconds}}"
	case RetryAfterHTTPDate:
		headers["Retry-After"] = "{{.RetryAfterDate}}"
	}
	resp.Headers = headers
	return resp
}

// oauthResponse is an RFC 6749 §5.2 error answer.
func oauthResponse(status int, code, description string) profile.Response {
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{code, description})
	return profile.Response{Status: status, ContentType: "application/json", Body: string(body)}
}

// literal makes text a template that renders as itself: a fault's body and
// headers are the user's words, not templates.
func literal(text string) string {
	return strings.ReplaceAll(text, "{{", `{{"{{"}}`)
}
