package family

import (
	"sort"
	"time"

	"github.com/ory/fosite"
)

// Info describes a family for the control API.
type Info struct {
	ID          string    `json:"id"`
	Client      string    `json:"client_id"`
	User        string    `json:"user,omitempty"`
	Created     time.Time `json:"created"`
	Scopes      []string  `json:"scopes"`
	LiveRefresh int       `json:"live_refresh_tokens"`
	// LiveRefreshTokens are the fingerprints of those refresh tokens.
	LiveRefreshTokens []string   `json:"live_refresh_fingerprints,omitempty"`
	Revoked           bool       `json:"revoked"`
	RevokedAt         *time.Time `json:"revoked_at,omitempty"`
	RevokeReason      string     `json:"revoke_reason,omitempty"`
	AccessTokens      int        `json:"access_tokens"`
	// LiveAccess counts the access tokens the resource would still accept.
	LiveAccess    int `json:"live_access_tokens"`
	RefreshTokens int `json:"refresh_tokens"`
	// TestingAppExpiresAt is when the testing-app expiry kills the family's
	// refresh tokens: it was consented while its client was a testing app.
	TestingAppExpiresAt *time.Time `json:"testing_app_expires_at,omitempty"`
}

// TokenInfo describes one stored token.
type TokenInfo struct {
	Kind        fosite.TokenType
	Fingerprint string
	Family      string
	Client      string
	User        string
	Scopes      []string
	IssuedAt    time.Time
	ExpiresAt   time.Time // zero: no fixed expiry
	// RevokedAt is when the token, or its family, was revoked; zero while it is not.
	RevokedAt time.Time
}

// Token looks up the code, access token or refresh token under key. ok is
// false when the store knows none.
func (s *Store) Token(key string) (info TokenInfo, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, scopes := s.tokenAt(key)
	if t == nil {
		return TokenInfo{}, false
	}
	return s.tokenInfo(t, scopes), true
}

// tokenAt finds the token under key, with the scopes it grants: a code's
// or refresh token's record, or a stand-in for an access token or a
// forgotten refresh token; nil when there is none. s.mu must be held.
func (s *Store) tokenAt(key string) (*token, []string) {
	if c, f, ok := s.claimed(fosite.AccessToken, key); ok {
		t := newToken(c.kind, key, f)
		t.issued, t.expires = c.issued, c.expires
		t.revokedAt, t.revoked = f.revokedAccess[key]
		return t, c.scopes
	}
	t := s.codes[key]
	if t == nil {
		t = s.refreshToken(key)
	}
	if t == nil {
		return nil, nil
	}
	return t, t.fam.req.GetGrantedScopes()
}

// tokenInfo describes t, which grants scopes. s.mu must be held.
func (s *Store) tokenInfo(t *token, scopes []string) TokenInfo {
	info := TokenInfo{
		Kind: t.kind, Fingerprint: t.fingerprint(), Family: t.fam.id, Client: t.fam.client, User: t.fam.user,
		Scopes: scopes, IssuedAt: t.issued, ExpiresAt: t.expires,
	}
	if t.kind == fosite.RefreshToken {
		info.ExpiresAt, _, _ = s.refreshDeadline(t)
	}
	switch {
	case t.fam.revoked && (!t.revoked || t.fam.revokedAt.Before(t.revokedAt)):
		info.RevokedAt = t.fam.revokedAt
	case t.revoked:
		info.RevokedAt = t.revokedAt
	}
	return info
}

// RevokeFamily revokes one family. found is false when no family has that
// id; revoked is false when it was revoked already.
func (s *Store) RevokeFamily(id, reason string) (found, revoked bool) {
	s.mu.Lock()
	f, ok := s.families[id]
	s.mu.Unlock()
	return ok, ok && s.revokeLocked([]*family{f}, reason) == 1
}

// RevokeToken revokes the family of the token under key. found is false
// when the store knows no such token; revoked is false when its family was
// revoked already.
func (s *Store) RevokeToken(key, reason string) (found, revoked bool) {
	s.mu.Lock()
	t, _ := s.tokenAt(key)
	s.mu.Unlock()
	return t != nil, t != nil && s.revokeLocked([]*family{t.fam}, reason) == 1
}

// RevokeUser revokes every family of a user (a password change, an account
// lock, the user's "remove access") and returns how many were live.
func (s *Store) RevokeUser(user, reason string) int {
	return s.revokeAll(func() map[string]*family { return s.byUser[user] }, reason)
}

// RevokeClient revokes every family of a client and returns how many were live.
func (s *Store) RevokeClient(client, reason string) int {
	return s.revokeAll(func() map[string]*family { return s.byClient[client] }, reason)
}

// RevokeAll revokes every family and returns how many were live.
func (s *Store) RevokeAll(reason string) int {
	return s.revokeAll(func() map[string]*family { return s.families }, reason)
}

// revokeAll revokes the families pick chooses, read under s.mu, and returns
// how many were live.
func (s *Store) revokeAll(pick func() map[string]*family, reason string) int {
	s.mu.Lock()
	fams := pick()
	list := make([]*family, 0, len(fams))
	for _, f := range fams {
		list = append(list, f)
	}
	s.mu.Unlock()
	// Revoke in creation order so the events read in a stable order.
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	return s.revokeLocked(list, reason)
}

// revokeLocked revokes each family of list under its family lock and
// returns how many were live. A token request holds that lock from reading
// its code or refresh token until it has stored what it issued, so a
// revocation comes wholly before or wholly after it: the request either
// completes or is refused with invalid_grant, never found its grant gone
// half way (which fosite reports as a server error). Locks are taken one
// family at a time and never with s.mu held, the order token requests take
// them in.
func (s *Store) revokeLocked(list []*family, reason string) int {
	n := 0
	for _, f := range list {
		f.lock.Lock()
		s.mu.Lock()
		if s.revokeFamily(f, reason) {
			n++
		}
		s.mu.Unlock()
		f.lock.Unlock()
	}
	return n
}

// Families lists every family, oldest first.
func (s *Store) Families() []Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*family, 0, len(s.families))
	for _, f := range s.families {
		list = append(list, f)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	now := s.clock.Now()
	out := make([]Info, len(list))
	for i, f := range list {
		out[i] = Info{ID: f.id, Client: f.client, User: f.user, Created: f.created, Revoked: f.revoked,
			RevokeReason: f.reason, Scopes: []string{}, RefreshTokens: f.issued, AccessTokens: f.accessIssued}
		if f.issued > 0 || f.accessIssued > 0 {
			out[i].Scopes = f.req.GetGrantedScopes()
		}
		if f.revoked {
			at := f.revokedAt
			out[i].RevokedAt = &at
		}
		if at := s.testingAppDeadline(f); !at.IsZero() {
			out[i].TestingAppExpiresAt = &at
		}
		for _, t := range f.refresh {
			if s.usable(t) {
				out[i].LiveRefresh++
				out[i].LiveRefreshTokens = append(out[i].LiveRefreshTokens, t.fingerprint())
			}
		}
		out[i].LiveAccess = f.access.live(now)
		for key := range f.revokedAccess {
			if c, ok := parseKey(key); ok && (c.expires.IsZero() || now.Before(c.expires)) {
				out[i].LiveAccess--
			}
		}
	}
	return out
}
