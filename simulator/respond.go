package simulator

import (
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// This file renders answers that are data: a profile's own response in a
// situation (Google's "Token has been expired or revoked.", Entra's AADSTS
// bodies, GitHub's errors with HTTP 200) and the answers faults give.

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
// fault.SignalJSONWithoutError): a 429 with Retry-After whose JSON body has
// a message and the delay but no "error" member, so that a client which
// takes every JSON error body for an OAuth error finds no code in it.
var jsonRateLimit = profile.Response{
	Status:      http.StatusTooManyRequests,
	ContentType: "application/json",
	Headers:     map[string]string{"Retry-After": "{{.RetryAfterSeconds}}"},
	Body:        `{"message":"Too many requests; slow down.","retry_after":{{.RetryAfterSeconds}}}`,
}

// standardResponses answer each situation as RFC 6749 would, for profiles
// that do not give their own.
var standardResponses = map[profile.Situation]profile.Response{
	profile.SituationRateLimited:         standardRateLimit,
	profile.SituationInteractionRequired: oauthResponse(http.StatusBadRequest, "interaction_required", "The user must sign in again to satisfy a policy."),
	profile.SituationClientSecretInvalid: oauthResponse(http.StatusUnauthorized, "invalid_client", "The client secret is not valid."),
	profile.SituationClientSecretExpired: oauthResponse(http.StatusUnauthorized, "invalid_client", "The client secret has expired."),
}

func oauthResponse(status int, code, description string) profile.Response {
	body, _ := json.Marshal(errorBody{Error: code, Description: description})
	return profile.Response{Status: status, ContentType: "application/json", Body: string(body)}
}

// situationResponse is the active profile's answer in situation, falling back
// from a specific refresh-token situation to refresh_token_invalid; ok is
// false when the profile leaves the situation to RFC 6749.
func (s *Simulator) situationResponse(situation profile.Situation) (profile.Response, bool) {
	responses := s.store.Policy().Responses
	if r, ok := responses[situation]; ok {
		return r, true
	}
	if isRefreshSituation(situation) {
		r, ok := responses[profile.SituationRefreshTokenInvalid]
		return r, ok
	}
	return profile.Response{}, false
}

func isRefreshSituation(s profile.Situation) bool {
	switch s {
	case profile.SituationRefreshTokenInvalid, profile.SituationRefreshTokenExpired, profile.SituationRefreshTokenInactive,
		profile.SituationRefreshTokenRevoked, profile.SituationRefreshTokenReused, profile.SituationRefreshTokenTestingApp:
		return true
	}
	return false
}

// responseData is what a response template may use, at the provider's time.
func (s *Simulator) responseData(f fault.Firing, issued time.Time) profile.ResponseData {
	now := s.provider.Now()
	secs := fault.WholeSeconds(f.RetryAfter)
	retryAt := now.Add(time.Duration(secs) * time.Second)
	return profile.ResponseData{
		Now: now, TraceID: uuid.NewString(), CorrelationID: uuid.NewString(), TokenIssuedAt: issued,
		RetryAfterSeconds: secs, RetryAfterDate: retryAt.UTC().Format(http.TimeFormat), ResetUnix: retryAt.Unix(),
		Limit: f.Limit, Remaining: f.Remaining,
	}
}

// rateLimitResponse is the signal a rate_limit fault answers with, its
// Retry-After forced to the fault's format when it names one.
func (s *Simulator) rateLimitResponse(f fault.Firing) profile.Response {
	resp := standardRateLimit
	switch f.Fault.Signal {
	case fault.SignalStandard:
		if f.Fault.Status != 0 {
			resp.Status = f.Fault.Status
		}
	case fault.SignalJSONWithoutError:
		resp = jsonRateLimit
	case "", fault.SignalProfile:
		if r, ok := s.store.Policy().Responses[profile.SituationRateLimited]; ok {
			resp = r
		}
	default:
		if p, ok := profile.Lookup(f.Fault.Signal); ok {
			if r, ok := p.Responses[profile.SituationRateLimited]; ok {
				resp = r
			}
		}
	}
	format := f.Fault.RetryAfterFormat
	if format == "" {
		_, announces := resp.Headers["Retry-After"]
		switch {
		case f.Fault.RetryAfter != 0:
			// An explicit retry_after is announced whatever the signal.
			format = fault.RetryAfterSeconds
		case f.Fault.Limit > 0 && announces:
			// A signal that announces a delay announces the limiter's.
			format = fault.RetryAfterSeconds
		}
	}
	return withRetryAfter(resp, format)
}

// errorFaultResponse is the answer an error fault gives.
func (s *Simulator) errorFaultResponse(f fault.Firing) profile.Response {
	ft := f.Fault
	var resp profile.Response
	switch {
	case ft.Situation != "":
		var ok bool
		if resp, ok = s.situationResponse(ft.Situation); !ok {
			resp, ok = standardResponses[ft.Situation]
			if !ok {
				resp = oauthResponse(http.StatusBadRequest, "invalid_grant", "The refresh token is invalid.")
			}
		}
	case ft.OAuthError != "":
		resp = oauthResponse(http.StatusBadRequest, ft.OAuthError, ft.ErrorDescription)
		resp.Body = literal(resp.Body)
	case ft.Body != "":
		resp = profile.Response{Status: http.StatusInternalServerError, ContentType: ft.ContentType, Body: literal(ft.Body)}
		if resp.ContentType == "" {
			resp.ContentType = contentTypeOf(ft.Body)
		}
	default:
		code := "server_error"
		switch {
		case ft.Status == http.StatusServiceUnavailable:
			code = "temporarily_unavailable"
		case ft.Status < 500:
			code = "invalid_request"
		}
		resp = oauthResponse(ft.Status, code, http.StatusText(ft.Status))
	}
	if ft.Status != 0 {
		resp.Status = ft.Status
	}
	if len(ft.Headers) > 0 {
		headers := maps.Clone(resp.Headers)
		if headers == nil {
			headers = map[string]string{}
		}
		for k, v := range ft.Headers {
			headers[k] = literal(v)
		}
		resp.Headers = headers
	}
	format := ft.RetryAfterFormat
	if format == "" && ft.RetryAfter > 0 {
		format = fault.RetryAfterSeconds
	}
	return withRetryAfter(resp, format)
}

// literal makes text a template that renders as itself: a fault's body and
// headers are the user's words, not templates.
func literal(text string) string {
	return strings.ReplaceAll(text, "{{", `{{"{{"}}`)
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
	case fault.RetryAfterSeconds:
		headers["Retry-After"] = "{{.RetryAfterSeconds}}"
	case fault.RetryAfterHTTPDate:
		headers["Retry-After"] = "{{.RetryAfterDate}}"
	}
	resp.Headers = headers
	return resp
}

// writeRendered renders resp with data and writes it. It returns the status
// sent and the body's "error" member, if the body is JSON and has one.
// Templates were checked when the profile was validated; a response that
// fails anyway is logged and written with what did render.
func (s *Simulator) writeRendered(w http.ResponseWriter, resp profile.Response, data profile.ResponseData) (int, string) {
	out, err := resp.Render(data)
	if err != nil {
		s.cfg.logger.Error("response template failed", "error", err)
	}
	for k, v := range out.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(out.Body)))
	w.WriteHeader(out.Status)
	_, _ = w.Write(out.Body)
	var parsed struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(out.Body, &parsed)
	return out.Status, parsed.Error
}
