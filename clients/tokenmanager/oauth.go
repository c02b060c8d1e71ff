package tokenmanager

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
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

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/internal/flaw"
)

// Discover reads the provider's endpoints from its RFC 8414 metadata (or
// OpenID Connect discovery, which has the same fields), with the issuer
// and jwks_uri that id_tokens are verified against.
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
			Issuer    string `json:"issuer"`
			Authorize string `json:"authorization_endpoint"`
			Token     string `json:"token_endpoint"`
			Revoke    string `json:"revocation_endpoint"`
			JWKS      string `json:"jwks_uri"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&meta)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && err == nil && meta.Token != "" {
			return Endpoints{Authorize: meta.Authorize, Token: meta.Token, Revoke: meta.Revoke, Issuer: meta.Issuer, JWKS: meta.JWKS}, nil
		}
	}
	return eps, fmt.Errorf("discover %s: no metadata with a token_endpoint", issuer)
}

// Authorization is an authorization in progress: what its request sent,
// which its callback is checked against and the code exchange needs. The
// application keeps it, out of the user's reach, until the callback comes,
// and then uses it once.
type Authorization struct {
	// URL is where to send the user.
	URL string
	// State is the state parameter sent: the callback must bring it back.
	State string
	// Verifier is the PKCE code verifier whose S256 challenge was sent.
	Verifier string
	// Nonce is the OpenID Connect nonce sent, when the scopes include
	// openid: the id_token must carry it.
	Nonce string
}

// AuthCodeURL starts an authorization with state, with a fresh PKCE
// verifier and, for openid, a fresh nonce. It asks for offline access as
// the provider wants it asked; extra adds parameters such as login_hint or
// prompt.
func (m *Manager) AuthCodeURL(state string, extra url.Values) (Authorization, error) {
	a := Authorization{State: state}
	scopes := slices.Clone(m.cfg.Scopes)
	q := url.Values{
		"response_type": {"code"}, "client_id": {m.cfg.ClientID}, "redirect_uri": {m.cfg.RedirectURL}, "state": {state},
	}
	if m.cfg.flaw != flaw.NoPKCE {
		verifier, err := random()
		if err != nil {
			return Authorization{}, fmt.Errorf("make PKCE verifier: %w", err)
		}
		sum := sha256.Sum256([]byte(verifier))
		a.Verifier = verifier
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
	}
	if m.idTokens != nil {
		nonce, err := random()
		if err != nil {
			return Authorization{}, fmt.Errorf("make nonce: %w", err)
		}
		a.Nonce = nonce
		q.Set("nonce", nonce)
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
	a.URL = m.cfg.Endpoints.Authorize + sep + q.Encode()
	return a, nil
}

// random is 256 bits from the system's CSPRNG, base64url: a PKCE verifier
// of 43 characters (RFC 7636 §4.1), or a nonce nobody can guess.
func random() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ErrNoRefreshToken is returned by Exchange, with the tokens saved, when the
// provider issued no refresh token and none of the same user's was stored
// to keep: the access token works until it expires, and then the user must
// authorize again. Offline access was not requested or not granted, or the
// provider issues refresh tokens on first consent only (Google) and the
// first went elsewhere.
var ErrNoRefreshToken = &ConfigurationError{Code: "no_refresh_token", Description: "the provider issued no refresh token: is offline access requested and granted?"}

// Exchange redeems the code of authorization a and stores the grant,
// replacing any earlier one (and any dead state) under the manager's key.
// For openid, the id_token is verified first; an IDTokenError leaves the
// earlier grant as it was. An answer without a refresh token keeps the
// stored one of the same user (see keepRefreshToken); a refresh token in the
// answer always replaces the stored one.
func (m *Manager) Exchange(ctx context.Context, code string, a Authorization) (Token, error) {
	sent := m.cfg.Clock.Now()
	params := map[string]string{"grant_type": "authorization_code", "code": code, "redirect_uri": m.cfg.RedirectURL}
	if a.Verifier != "" {
		params["code_verifier"] = a.Verifier
	}
	ans, err := m.tokenRequest(ctx, params)
	if err != nil {
		return Token{}, fmt.Errorf("exchange code: %w", err)
	}
	if !ans.ok() {
		return Token{}, m.classify(ans, time.Duration(0))
	}
	subject, err := m.verifyIDToken(ctx, ans, a.Nonce)
	if err != nil {
		return Token{}, err
	}
	t := ans.token(m.issued(ans, sent))
	t.GrantedAt, t.Subject = sent, subject
	kept := false
	if t.RefreshToken == "" && subject != "" && m.cfg.flaw != flaw.LoseRefreshTokenOnReauthorization {
		// Under the refresh lock: a refresh running meanwhile, in this
		// process or another, could rotate the refresh token being kept.
		unlock, err := m.cfg.Store.Lock(ctx, m.cfg.Key)
		if err != nil {
			return Token{}, fmt.Errorf("lock token: %w", err)
		}
		defer unlock()
		kept = m.keepRefreshToken(ctx, &t)
	}
	m.mu.Lock()
	m.newGrant()
	m.mu.Unlock()
	if err := m.save(ctx, t); err != nil {
		return Token{}, err
	}
	m.log("grant obtained", t)
	if kept {
		m.cfg.Logger.Info("the answer brought no refresh token: the one stored for the same user is kept")
	}
	if t.RefreshToken == "" {
		return t, ErrNoRefreshToken
	}
	return t, nil
}

// keepRefreshToken gives t, the tokens of a code exchange that brought no
// refresh token, the refresh token stored under the manager's key when the
// stored grant is of the same user, t.Subject, which must not be empty; it
// reports whether it did. Google issues a refresh token on a user's first
// consent only: a later authorization of the same user brings none, and the
// first stays valid. Another user's refresh token, or one of a user unknown
// (stored without openid, or before subjects were kept), is not kept: the
// grant would mix two users' tokens, one user's access token and maybe
// another's refresh token, and the next refresh would hand out the other
// user's access. The store's lock for the key must be held.
func (m *Manager) keepRefreshToken(ctx context.Context, t *Token) bool {
	old, err := m.reload(ctx)
	var none *ReauthorizationRequired
	switch {
	case errors.As(err, &none):
		return false
	case err != nil:
		m.cfg.Logger.Warn("read the stored grant to keep its refresh token", "error", err)
		return false
	case old.RefreshToken == "" || old.Subject != t.Subject:
		return false
	}
	// The refresh token keeps the age of the consent that issued it, which a
	// testing app's seven-day death counts from, and the mark of a lost
	// refresh answer, which is about the token, not the authorization. The
	// Backoff goes, as with any new grant: the user is back, and the access
	// token is new.
	t.RefreshToken, t.GrantedAt, t.LostRefreshAt = old.RefreshToken, old.GrantedAt, old.LostRefreshAt
	return true
}

// IDTokenError refuses a code exchange whose id_token failed verification:
// the code may have been injected from another authorization, or the
// answer forged, so none of its tokens is kept. It is no OAuth error, and
// Outcome calls it error.
type IDTokenError struct {
	// Problem says which check failed.
	Problem string
}

func (e *IDTokenError) Error() string { return "id_token refused: " + e.Problem }

// verifyIDToken makes the checks of OpenID Connect Core §3.1.3.7 on the
// id_token of a code exchange, when the scopes include openid: the
// signature by a key of the provider's JWKS, iss, aud, expiry on the
// manager's clock, and the nonce sent with the authorization. It returns
// the id_token's subject, the user the grant is of; empty without openid.
func (m *Manager) verifyIDToken(ctx context.Context, ans answer, nonce string) (string, error) {
	if m.idTokens == nil {
		return "", nil
	}
	raw := ans.str("id_token")
	if raw == "" {
		// OpenID Connect Core §3.1.3.3: the answer to an openid request MUST
		// carry an id_token. Without one nothing binds the tokens to the
		// user and the authorization the application started.
		return "", &IDTokenError{Problem: "the token response has no id_token, which an openid request must get"}
	}
	idt, err := m.idTokens.Verify(ctx, raw)
	if err != nil {
		return "", &IDTokenError{Problem: err.Error()}
	}
	if m.cfg.flaw != flaw.NoNonceCheck && subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return "", &IDTokenError{Problem: "the id_token's nonce does not match the one sent"}
	}
	return idt.Subject, nil
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

// issued is the moment the answer's expires_in counts from: when the
// request was sent, by the manager's own clock, which errs on the early
// side by the request's latency and does not depend on the provider's
// clock. The expiry_from_date_header flaw reads the answer's Date instead.
func (m *Manager) issued(ans answer, sent time.Time) time.Time {
	if m.cfg.flaw == flaw.ExpiryFromDateHeader {
		if date, err := http.ParseTime(ans.header.Get("Date")); err == nil {
			return date
		}
	}
	return sent
}

// token reads the tokens of a successful answer; the access token's expiry
// counts from sent (see Manager.issued).
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
			dead.Reason = contract.ReasonReuseDetected
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
func TokenErrorOutcome(status int, body []byte, age time.Duration) (contract.Outcome, contract.Reason) {
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
