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

// Token looks a token up by signature in every table. ok is false when no
// code, access token or refresh token has that signature.
func (s *Store) Token(sig string) (info TokenInfo, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.find(sig)
	if t == nil {
		return TokenInfo{}, false
	}
	info = TokenInfo{
		Kind: t.kind, Fingerprint: t.fingerprint(), Family: t.fam.id, Client: t.fam.client, User: t.fam.user,
		Scopes: t.req.GetGrantedScopes(), IssuedAt: t.issued, ExpiresAt: t.expires,
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
	return info, true
}

func (s *Store) find(sig string) *token {
	for _, table := range []map[string]*token{s.access, s.refresh, s.codes} {
		if t, ok := table[sig]; ok {
			return t
		}
	}
	return nil
}

// RevokeFamily revokes one family. found is false when no family has that
// id; revoked is false when it was revoked already.
func (s *Store) RevokeFamily(id, reason string) (found, revoked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.families[id]
	return ok, ok && s.revokeFamily(f, reason)
}

// RevokeToken revokes the family of the token with signature sig. found is
// false when no token has that signature; revoked is false when its family
// was revoked already.
func (s *Store) RevokeToken(sig, reason string) (found, revoked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.find(sig)
	return t != nil, t != nil && s.revokeFamily(t.fam, reason)
}

// RevokeUser revokes every family of a user (a password change, an account
// lock, the user's "remove access") and returns how many were live.
func (s *Store) RevokeUser(user, reason string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revokeAll(s.byUser[user], reason)
}

// RevokeClient revokes every family of a client and returns how many were live.
func (s *Store) RevokeClient(client, reason string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revokeAll(s.byClient[client], reason)
}

// RevokeAll revokes every family and returns how many were live.
func (s *Store) RevokeAll(reason string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revokeAll(s.families, reason)
}

func (s *Store) revokeAll(fams map[string]*family, reason string) int {
	// Revoke in creation order so the events read in a stable order.
	list := make([]*family, 0, len(fams))
	for _, f := range fams {
		list = append(list, f)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	n := 0
	for _, f := range list {
		if s.revokeFamily(f, reason) {
			n++
		}
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
	byID := map[string]*Info{}
	now := s.clock.Now()
	out := make([]Info, len(list))
	for i, f := range list {
		out[i] = Info{ID: f.id, Client: f.client, User: f.user, Created: f.created, Revoked: f.revoked,
			RevokeReason: f.reason, Scopes: []string{}, RefreshTokens: len(f.refresh)}
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
			out[i].Scopes = t.req.GetGrantedScopes()
		}
		byID[f.id] = &out[i]
	}
	for _, t := range s.access {
		info := byID[t.fam.id]
		info.AccessTokens++
		if !t.revoked && !t.fam.revoked && (t.expires.IsZero() || now.Before(t.expires)) {
			info.LiveAccess++
		}
		if len(info.Scopes) == 0 {
			info.Scopes = t.req.GetGrantedScopes()
		}
	}
	return out
}
