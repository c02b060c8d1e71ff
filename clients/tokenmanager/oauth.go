package tokenmanager

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oauthsim/oauthsim/clients/internal/flaw"
)

// Discover reads the provider's endpoints from its RFC 8414 metadata (or
// OpenID Connect discovery, which has the same fields).
func Discover(ctx context.Context, client *http.Client, issuer string) (Endpoints, error) {
	if client == nil {
		client = http.DefaultClient
	}
	var eps Endpoints
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(issuer, "/")+path, nil)
		if err != nil {
			return eps, fmt.Errorf("discover %s: %w", issuer, err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return eps, fmt.Errorf("discover %s: %w", issuer, err)
		}
		var meta struct {
			Authorize string `json:"authorization_endpoint"`
			Token     string `json:"token_endpoint"`
			Revoke    string `json:"revocation_endpoint"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&meta)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && err == nil && meta.Token != "" {
			return Endpoints{Authorize: meta.Authorize, Token: meta.Token, Revoke: meta.Revoke}, nil
		}
	}
	return eps, fmt.Errorf("discover %s: no metadata with a token_endpoint", issuer)
}

// AuthCodeURL starts an authorization: the URL to send the user to, and the
// PKCE verifier that Exchange needs with the code. It asks for offline
// access as the provider wants it asked; extra adds parameters such as
// login_hint or prompt.
func (m *Manager) AuthCodeURL(state string, extra url.Values) (authURL, verifier string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("make PKCE verifier: %w", err)
	}
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	scopes := slices.Clone(m.cfg.Scopes)
	q := url.Values{
		"response_type": {"code"}, "client_id": {m.cfg.ClientID}, "redirect_uri": {m.cfg.RedirectURL},
		"state": {state}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	if m.cfg.flaw != flaw.ForgetOfflineAccess {
		switch m.cfg.Offline {
		case OfflineScope:
			if !slices.Contains(scopes, "offline_access") {
				scopes = append(scopes, "offline_access")
			}
		case OfflineAccessType:
			q.Set("access_type", "offline")
		}
	}
	q.Set("scope", strings.Join(scopes, " "))
	for k, v := range extra {
		q[k] = v
	}
	sep := "?"
	if strings.Contains(m.cfg.Endpoints.Authorize, "?") {
		sep = "&"
	}
	return m.cfg.Endpoints.Authorize + sep + q.Encode(), verifier, nil
}

// ErrNoRefreshToken is returned by Exchange, with the tokens saved, when the
// provider issued no refresh token: the access token works until it
// expires, and then the user must authorize again. Offline access was not
// requested or not granted.
var ErrNoRefreshToken = &ConfigurationError{Code: "no_refresh_token", Description: "the provider issued no refresh token: is offline access requested and granted?"}

// Exchange redeems an authorization code and stores the grant, replacing
// any earlier one (and any dead state) under the manager's key.
func (m *Manager) Exchange(ctx context.Context, code, verifier string) (Token, error) {
	sent := m.cfg.Clock.Now()
	ans, err := m.tokenRequest(ctx, map[string]string{
		"grant_type": "authorization_code", "code": code, "redirect_uri": m.cfg.RedirectURL, "code_verifier": verifier,
	})
	if err != nil {
		return Token{}, fmt.Errorf("exchange code: %w", err)
	}
	if !ans.ok() {
		return Token{}, m.classify(ans, time.Duration(0))
	}
	t := ans.token(sent)
	t.GrantedAt = sent
	m.mu.Lock()
	m.newGrant()
	m.mu.Unlock()
	if err := m.save(ctx, t); err != nil {
		return Token{}, err
	}
	m.log("grant obtained", t)
	if t.RefreshToken == "" {
		return t, ErrNoRefreshToken
	}
	return t, nil
}

// Logout revokes the grant at the provider (RFC 7009) and forgets it here.
// The local tokens are deleted even when revocation fails; its error is
// returned for the record, read as a token endpoint's error answer is (a
// 503 or no answer is a TemporaryError, invalid_client a
// ConfigurationError), so that Outcome tells the user what went wrong.
func (m *Manager) Logout(ctx context.Context) error {
	t, err := m.current(ctx)
	var rerr error
	if err == nil && m.cfg.Endpoints.Revoke != "" {
		token, hint := t.RefreshToken, "refresh_token"
		if token == "" {
			token, hint = t.AccessToken, "access_token"
		}
		rerr = m.revoke(ctx, token, hint)
	}
	if m.cfg.flaw != flaw.MemoryOnly {
		if err := m.cfg.Store.Delete(ctx, m.cfg.Key); err != nil {
			return fmt.Errorf("delete tokens: %w", err)
		}
	}
	m.mu.Lock()
	m.newGrant()
	m.cached = nil
	m.mu.Unlock()
	return rerr
}

func (m *Manager) revoke(ctx context.Context, token, hint string) error {
	req, _, err := m.clientRequest(ctx, m.cfg.Endpoints.Revoke, url.Values{"token": {token}, "token_type_hint": {hint}})
	if err != nil {
		return err
	}
	resp, err := m.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	ans, err := readAnswer(resp)
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	if ans.status != http.StatusOK {
		// RFC 7009 §2.2.1: the revocation endpoint answers errors as the
		// token endpoint does, so the same table reads them
		// (clients/adapters/README.md). No grant age: only a refresh's
		// invalid_grant needs one, for its reason.
		return fmt.Errorf("revoke: %w", m.classify(ans, 0))
	}
	return nil
}

// tokenRequest posts to the token endpoint. After an invalid_client it asks
// for the secret again and retries once: the secret may have been rotated.
func (m *Manager) tokenRequest(ctx context.Context, params map[string]string) (answer, error) {
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	var ans answer
	used := ""
	for range 2 {
		req, secret, err := m.clientRequest(ctx, m.cfg.Endpoints.Token, form)
		if err != nil {
			return ans, notSent{err}
		}
		if used != "" && secret == used {
			break // the secret has not changed: sending it again changes nothing
		}
		used = secret
		resp, err := m.cfg.HTTPClient.Do(req)
		if err != nil {
			return ans, err
		}
		ans, err = readAnswer(resp)
		if err != nil {
			return ans, err
		}
		ans.flawed = m.cfg.flaw == flaw.ErrorIn200IsSuccess
		if code, _ := ans.oauthError(); code != "invalid_client" || m.cfg.AuthStyle == AuthNone || m.cfg.flaw == flaw.NoSecretReload {
			break
		}
		m.cfg.Logger.Warn("client secret refused; reading it again")
	}
	return ans, nil
}

// clientRequest builds a form POST authenticated as the client.
func (m *Manager) clientRequest(ctx context.Context, endpoint string, form url.Values) (*http.Request, string, error) {
	form = maps.Clone(form) // Set replaces values; the caller's form may be sent again
	var secret string
	if m.cfg.AuthStyle != AuthNone {
		var err error
		if secret, err = m.secret(ctx); err != nil {
			return nil, "", fmt.Errorf("read client secret: %w", err)
		}
	}
	switch m.cfg.AuthStyle {
	case AuthPost:
		form.Set("client_id", m.cfg.ClientID)
		form.Set("client_secret", secret)
	case AuthNone:
		form.Set("client_id", m.cfg.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if m.cfg.AuthStyle == AuthBasic {
		// RFC 6749 §2.3.1: both parts form-encoded before Basic.
		req.SetBasicAuth(url.QueryEscape(m.cfg.ClientID), url.QueryEscape(secret))
	}
	return req, secret, nil
}

// secret returns the client secret: asked anew each time, except under the
// no_secret_reload flaw, which keeps the first one for good.
func (m *Manager) secret(ctx context.Context) (string, error) {
	if m.cfg.flaw == flaw.NoSecretReload {
		m.mu.Lock()
		s := m.secretCache
		m.mu.Unlock()
		if s != "" {
			return s, nil
		}
	}
	s, err := m.cfg.ClientSecret(ctx)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	m.secretCache = s
	m.mu.Unlock()
	return s, nil
}

// notSent is a failure before the request left: reading the secret,
// building the request.
type notSent struct{ error }

func (e notSent) Unwrap() error { return e.error }

// wasSent reports whether a failed request may have reached the provider:
// only a failure before sending, or to connect, proves it did not.
func wasSent(err error) bool {
	var op *net.OpError
	var before notSent
	return !errors.As(err, &before) && !(errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect"))
}

// answer is a token endpoint's response, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
	fields map[string]any // nil unless the body is a JSON object
	flawed bool           // the error_in_200_is_success flaw
}

func readAnswer(resp *http.Response) (answer, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, fmt.Errorf("read token response: %w", err)
	}
	return parseAnswer(resp.StatusCode, resp.Header, body), nil
}

// parseAnswer makes an answer of a status, headers and the body as sent.
func parseAnswer(status int, header http.Header, body []byte) answer {
	a := answer{status: status, header: header, body: body}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var fields map[string]any
	if dec.Decode(&fields) == nil {
		a.fields = fields
	}
	return a
}

func (a answer) str(key string) string {
	s, _ := a.fields[key].(string)
	return s
}

// garbled reports whether a success status came without readable tokens
// and without an OAuth error: a truncated or empty body, or not JSON.
func (a answer) garbled() bool {
	code, _ := a.oauthError()
	return a.status >= 200 && a.status < 300 && !a.ok() && code == ""
}

// ok reports whether the answer carries tokens. A 2xx is not enough:
// GitHub and Slack answer errors with 200 (RFC 6749 §5.1 requires
// access_token).
func (a answer) ok() bool {
	if a.flawed {
		return a.status == http.StatusOK
	}
	return a.status/100 == 2 && a.str("access_token") != "" && a.str("error") == ""
}

// oauthError returns the answer's error code and description, in RFC 6749
// form or Slack's {"ok":false,"error":...}.
func (a answer) oauthError() (code, description string) {
	return a.str("error"), a.str("error_description")
}

// token reads the tokens of a successful answer; the access token's expiry
// counts from when the request was sent, which errs on the early side by
// the request's latency.
func (a answer) token(sent time.Time) Token {
	t := Token{
		AccessToken: a.str("access_token"), RefreshToken: a.str("refresh_token"),
		TokenType: a.str("token_type"), Scope: a.str("scope"),
	}
	// A lifetime beyond ten years is a provider's way of saying "never".
	if secs, ok := seconds(a.fields["expires_in"]); ok && secs > 0 && secs < 10*365*24*3600 {
		t.Lifetime = time.Duration(secs * float64(time.Second))
		t.Expiry = sent.Add(t.Lifetime)
	}
	return t
}

// seconds reads expires_in however the provider wrote it: a number, a
// fraction, or a string.
func seconds(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	}
	return 0, false
}

// retryAfter is how long the provider asked the client to wait: Retry-After
// in seconds or as an HTTP-date (RFC 9110 §10.2.3), else a rate-limit reset
// time in epoch seconds (Okta's X-Rate-Limit-Reset, Auth0's
// x-ratelimit-reset). Dates are read against the answer's own Date, so a
// skewed provider clock does not distort the wait.
func (a answer) retryAfter(now time.Time) time.Duration {
	if date, err := http.ParseTime(a.header.Get("Date")); err == nil {
		now = date
	}
	if ra := strings.TrimSpace(a.header.Get("Retry-After")); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil {
			return time.Duration(secs) * time.Second
		}
		if at, err := http.ParseTime(ra); err == nil {
			return at.Sub(now)
		}
	}
	for _, h := range []string{"X-Rate-Limit-Reset", "X-Ratelimit-Reset"} {
		if epoch, err := strconv.ParseInt(a.header.Get(h), 10, 64); err == nil && a.status == http.StatusTooManyRequests {
			return time.Unix(epoch, 0).Sub(now)
		}
	}
	return 0
}

// refused handles a refresh the provider answered with an error.
func (m *Manager) refused(ctx context.Context, gen uint64, t Token, ans answer) error {
	var age time.Duration
	if !t.GrantedAt.IsZero() {
		age = m.cfg.Clock.Now().Sub(t.GrantedAt)
	}
	err := m.classify(ans, age)
	var temp *TemporaryError
	var dead *ReauthorizationRequired
	switch {
	case errors.As(err, &temp):
		return m.transient(ctx, gen, t, temp.Status, temp.RetryAfter, temp.Err)
	case errors.As(err, &dead):
		if m.cfg.flaw == flaw.RetryAfterInvalidGrant {
			return m.transient(ctx, gen, t, ans.status, 0, err)
		}
		if !t.LostRefreshAt.IsZero() {
			// The token went once already and its answer was lost: the
			// provider rotated it, and this was seen as reuse.
			dead.Reason = ReasonReuseDetected
		}
		return m.kill(ctx, gen, dead)
	}
	// A configuration problem or a step-up: the grant lives, but asking again
	// at once would get the same answer; back off as after a failure.
	m.holdOff(ctx, gen, t, 0, err)
	return err
}

// classify reads an error answer from the token endpoint. age is how old
// the grant is, which tells a testing app's death.
func (m *Manager) classify(ans answer, age time.Duration) error {
	return classify(ans, age, m.cfg.Clock.Now())
}

// TokenErrorOutcome is what the reference concludes from a token endpoint's
// error answer (its HTTP status and body as sent) for a grant age old: the
// protocol's outcome and, for reauthorize, the reason. The adapters of real
// libraries answer with the same table (clients/adapters/README.md), so that
// two clients told the same thing by a provider tell their user the same.
func TokenErrorOutcome(status int, body []byte, age time.Duration) (string, Reason) {
	return Outcome(classify(parseAnswer(status, nil, body), age, time.Time{}))
}

// classify is Manager.classify at the time now, which only Retry-After needs.
func classify(ans answer, age time.Duration, now time.Time) error {
	code, desc := ans.oauthError()
	entra := func(codes ...string) bool {
		for _, c := range codes {
			if strings.Contains(desc, "AADSTS"+c+":") {
				return true
			}
		}
		return false
	}
	switch {
	case ans.status == http.StatusTooManyRequests || ans.status >= 500 ||
		code == "temporarily_unavailable" || code == "slow_down" || entra("50196", "90055") ||
		(ans.status == http.StatusForbidden && ans.fields == nil):
		// A 403 that is not JSON is Google's historic rate-limit page;
		// AADSTS50196 and 90055 are Entra's throttling in an invalid_grant.
		return &TemporaryError{Status: ans.status, RetryAfter: ans.retryAfter(now), Err: fmt.Errorf("%s %s", code, desc)}
	case code == "interaction_required" || code == "login_required" || code == "consent_required" ||
		ans.str("error_subtype") == "invalid_rapt" || strings.Contains(desc, "invalid_rapt") ||
		ans.str("suberror") != "" || ans.fields["claims"] != nil || entra("50076", "50079"):
		// Step-up: Entra's MFA and claims challenges come as invalid_grant,
		// and so does Google's reauthentication, whose error_subtype
		// invalid_rapt its description repeats ("reauth related error
		// (invalid_rapt)"): libraries that pass on only the error and its
		// description (Authlib, oauthlib) keep that much of it.
		return &InteractionRequired{Code: code, Description: desc}
	case code == "invalid_grant" || code == "bad_refresh_token" || code == "invalid_refresh_token" || code == "token_revoked":
		return &ReauthorizationRequired{Reason: deadReason(code, desc, age), Code: code, Description: desc, Status: ans.status}
	case code != "":
		// invalid_client, unauthorized_client, invalid_scope, ...: the
		// client's configuration, not the user's grant.
		return &ConfigurationError{Code: code, Description: desc, Status: ans.status}
	}
	return &TemporaryError{Status: ans.status, RetryAfter: ans.retryAfter(now), Err: fmt.Errorf("unexpected HTTP %d without an OAuth error", ans.status)}
}
