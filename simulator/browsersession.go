package simulator

import (
	"encoding/base64"
	"net/http"
	"sync"
)

// SessionCookie is the name of the provider's session cookie: a user who
// signs in at the authorization endpoint gets one, and an authorization
// request with prompt=none from a single-page application finds its user
// by it alone, as a real provider's silent renewal in a hidden iframe does.
// It is SameSite=None and Secure, as a cookie must be to reach a provider
// framed by another site; a browser that blocks third-party cookies keeps
// it from such a frame, and prompt=none there answers login_required.
const SessionCookie = "oauthsim_session"

// sessionBook maps session cookies to the users they sign in. It belongs
// to a world: a reset signs everyone out.
type sessionBook struct {
	mu    sync.Mutex
	users map[string]string
}

func newSessionBook() *sessionBook { return &sessionBook{users: map[string]string{}} }

// open starts a session of user and returns its cookie's value.
func (b *sessionBook) open(user string) (string, error) {
	raw, err := randomSecret(24)
	if err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.users[id] = user
	return id, nil
}

// user is the user the session cookie of r signs in; ok is false when r
// sent none, or one of no session here. sent tells the two apart.
func (b *sessionBook) user(r *http.Request) (user string, ok, sent bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return "", false, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	user, ok = b.users[c.Value]
	return user, ok, true
}

// signIn starts a session of user and sets its cookie on the answer w is
// writing. A failure to draw the session's id leaves the user signed in
// for this authorization only; it is logged, and the answer goes out.
func (s *Simulator) signIn(w http.ResponseWriter, wd *world, user string) {
	id, err := wd.sessions.open(user)
	if err != nil {
		s.cfg.logger.Error("session cookie not set", "user", user, "error", err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/",
		HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode,
	})
}
