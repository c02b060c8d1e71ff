package browser

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/refapp"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/conformance"
)

// bffCookie is the backend-for-frontend's session cookie.
const bffCookie = "oauthsim_bff"

// bff is the application's own server of a backend-for-frontend client
// (tm/BFF.md specifies it): it holds each browser session's grant with the
// reference token manager, in Go, and hands the page access tokens only.
// The refresh token never reaches the browser.
type bff struct {
	env conformance.Env

	mu       sync.Mutex
	sessions map[string]*refapp.App
}

func newBFF(env conformance.Env) *bff {
	return &bff{env: env, sessions: map[string]*refapp.App{}}
}

// bffAnswer is every answer's body: an outcome, and on success what was
// asked for.
type bffAnswer struct {
	Outcome     contract.Outcome `json:"outcome"`
	Reason      contract.Reason  `json:"reason,omitempty"`
	Detail      string           `json:"detail,omitempty"`
	URL         string           `json:"url,omitempty"`
	AccessToken string           `json:"access_token,omitempty"`
	ExpiresIn   int64            `json:"expires_in,omitempty"`
	Lifetime    int64            `json:"lifetime,omitempty"`
	retryAfter  time.Duration
}

// bffStatus is the HTTP status that goes with an outcome (BFF.md).
var bffStatus = map[contract.Outcome]int{
	contract.OutcomeOK:                  http.StatusOK,
	contract.OutcomeReauthorize:         http.StatusUnauthorized,
	contract.OutcomeInteractionRequired: http.StatusForbidden,
	contract.OutcomeConfigurationError:  http.StatusBadGateway,
	contract.OutcomeTemporaryError:      http.StatusServiceUnavailable,
	contract.OutcomeError:               http.StatusBadRequest,
}

// routes serves the four endpoints on mux, for the origin the application
// is served from.
func (b *bff) routes(mux *http.ServeMux) {
	for path, h := range map[string]func(http.ResponseWriter, *http.Request, string, map[string]any) bffAnswer{
		"/bff/login-url": b.loginURL,
		"/bff/callback":  b.callback,
		"/bff/token":     b.token,
		"/bff/logout":    b.logout,
	} {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) { b.serve(w, r, h) })
	}
}

// serve checks what every request must be (JSON, from the application's
// own origin: its CSRF defence), reads its session and body, and writes
// the answer with the status of its outcome.
func (b *bff) serve(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request, string, map[string]any) bffAnswer) {
	own := "http://" + r.Host
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	status, a := b.answer(w, r, own, h)
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(a.retryAfter.Seconds())), 10))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

// answer is the status and answer to r: a refusal, or h's.
func (b *bff) answer(w http.ResponseWriter, r *http.Request, own string, h func(http.ResponseWriter, *http.Request, string, map[string]any) bffAnswer) (int, bffAnswer) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return http.StatusUnsupportedMediaType, bffAnswer{Outcome: contract.OutcomeError, Detail: "the application's server takes JSON only"}
	}
	if o := r.Header.Get("Origin"); o != "" && o != own {
		return http.StatusForbidden, bffAnswer{Outcome: contract.OutcomeError, Detail: "a request from another origin: " + o}
	}
	var body map[string]any
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil {
		return http.StatusBadRequest, bffAnswer{Outcome: contract.OutcomeError, Detail: "the body is no JSON object: " + err.Error()}
	}
	session := ""
	if c, err := r.Cookie(bffCookie); err == nil {
		session = c.Value
	}
	a := h(w, r, session, body)
	return bffStatus[a.Outcome], a
}

// app is the session's application, or nil.
func (b *bff) app(session string) *refapp.App {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sessions[session]
}

func (b *bff) loginURL(w http.ResponseWriter, r *http.Request, session string, body map[string]any) bffAnswer {
	ctx := r.Context()
	redirect, _ := body["redirect_uri"].(string)
	if u, err := url.Parse(redirect); err != nil || u.Host != r.Host {
		return bffAnswer{Outcome: contract.OutcomeError, Detail: "redirect_uri must be on the application's own origin"}
	}
	app := b.app(session)
	if app == nil {
		id := make([]byte, 16)
		if _, err := rand.Read(id); err != nil {
			return bffAnswer{Outcome: contract.OutcomeError, Detail: err.Error()}
		}
		session = hex.EncodeToString(id)
		var err error
		if app, err = b.newApp(ctx, session, redirect); err != nil {
			return bffAnswer{Outcome: contract.OutcomeConfigurationError, Detail: err.Error()}
		}
		b.mu.Lock()
		b.sessions[session] = app
		b.mu.Unlock()
	}
	raw, err := app.AuthorizationURL()
	if err != nil {
		return bffAnswer{Outcome: contract.OutcomeError, Detail: err.Error()}
	}
	if hint, _ := body["login_hint"].(string); hint != "" {
		u, _ := url.Parse(raw)
		q := u.Query()
		q.Set("login_hint", hint)
		u.RawQuery = q.Encode()
		raw = u.String()
	}
	http.SetCookie(w, &http.Cookie{Name: bffCookie, Value: session, Path: "/bff", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return bffAnswer{Outcome: contract.OutcomeOK, URL: raw}
}

// newApp is a session's application: the reference token manager, its
// tokens in a directory of the session's own.
func (b *bff) newApp(ctx context.Context, session, redirect string) (*refapp.App, error) {
	e := b.env
	s := refapp.Settings{
		Issuer: e.Issuer, ClientID: e.ClientID, RedirectURI: redirect, Scopes: e.Scopes, Resource: e.Resource,
		StateDir: filepath.Join(e.StateDir, "bff", session), StorageKeyFile: e.StorageKeyFile,
		Provider: refapp.ProviderOf(e.Profile),
		Clock:    e.Clock, HTTP: e.HTTP,
		Logger: slog.New(slog.NewTextHandler(e.Output, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	return refapp.New(ctx, s, tokenmanager.New)
}

func (b *bff) callback(_ http.ResponseWriter, r *http.Request, session string, body map[string]any) bffAnswer {
	ctx := r.Context()
	app := b.app(session)
	if app == nil {
		return bffAnswer{Outcome: contract.OutcomeError, Detail: "no sign-in was started in this session"}
	}
	code, _ := body["code"].(string)
	state, _ := body["state"].(string)
	res := app.CompleteAuthorization(ctx, "?"+url.Values{"code": {code}, "state": {state}}.Encode())
	if res.Outcome != contract.OutcomeOK {
		return bffAnswer{Outcome: res.Outcome, Reason: res.Reason, Detail: res.Detail}
	}
	return b.tokenOf(ctx, app, "", 0)
}

func (b *bff) token(_ http.ResponseWriter, r *http.Request, session string, body map[string]any) bffAnswer {
	ctx := r.Context()
	app := b.app(session)
	if app == nil {
		return bffAnswer{Outcome: contract.OutcomeReauthorize, Reason: contract.ReasonNoGrant, Detail: "no session: sign in"}
	}
	rejected, _ := body["rejected"].(string)
	minTTL, _ := body["min_ttl"].(float64)
	return b.tokenOf(ctx, app, rejected, time.Duration(max(minTTL, 30)*float64(time.Second)))
}

// tokenOf answers an access token with at least minTTL left and not
// rejected, refreshing for it when needed.
func (b *bff) tokenOf(ctx context.Context, app *refapp.App, rejected string, minTTL time.Duration) bffAnswer {
	t, res := app.Token(ctx, rejected)
	if res.Outcome == contract.OutcomeOK && !t.Expiry.IsZero() && t.Expiry.Sub(b.env.Clock.Now()) < minTTL {
		// Fresh to the manager's margin, not to the page's: the page's
		// timer wants a token that outlives its next turn.
		t, res = app.Token(ctx, t.AccessToken)
	}
	if res.Outcome != contract.OutcomeOK {
		a := bffAnswer{Outcome: res.Outcome, Reason: res.Reason, Detail: res.Detail}
		var temp *tokenmanager.TemporaryError
		if errors.As(res.Err, &temp) {
			a.retryAfter = temp.RetryAfter
		}
		return a
	}
	a := bffAnswer{Outcome: contract.OutcomeOK, AccessToken: t.AccessToken, Lifetime: int64(t.Lifetime.Seconds())}
	if !t.Expiry.IsZero() {
		a.ExpiresIn = int64(t.Expiry.Sub(b.env.Clock.Now()).Seconds())
	}
	if a.Lifetime == 0 {
		a.Lifetime = int64(time.Hour.Seconds())
	}
	return a
}

func (b *bff) logout(w http.ResponseWriter, r *http.Request, session string, _ map[string]any) bffAnswer {
	ctx := r.Context()
	app := b.app(session)
	if app == nil {
		return bffAnswer{Outcome: contract.OutcomeOK}
	}
	res := app.Logout(ctx)
	b.mu.Lock()
	delete(b.sessions, session)
	b.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: bffCookie, Value: "", Path: "/bff", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	a := bffAnswer{Outcome: contract.OutcomeOK}
	if res.Outcome != contract.OutcomeOK {
		a.Detail = fmt.Sprintf("the provider's revocation: %s %s", res.Outcome, res.Detail)
	}
	return a
}
