package simulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// This file renders answers that are data: a profile's own response in a
// situation (Google's "Token has been expired or revoked.", Entra's AADSTS
// bodies, GitHub's errors with HTTP 200) and the answers faults give (see
// the fault package's kinds).

// situationResponse is the active profile's answer in situation, falling back
// from a specific refresh-token situation to refresh_token_invalid; ok is
// false when the profile leaves the situation to RFC 6749.
func (s *Simulator) situationResponse(situation profile.Situation) (profile.Response, bool) {
	responses := s.cfg.profile.Responses
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
		profile.SituationRefreshTokenRevoked, profile.SituationRefreshTokenReused, profile.SituationRefreshTokenTestingApp,
		profile.SituationRefreshTokenWrongClient:
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
