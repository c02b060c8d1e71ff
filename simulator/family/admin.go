package family

import (
	"sort"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Info describes a family for the control API.
type Info struct {
	ID            string     `json:"id"`
	Client        string     `json:"client_id"`
	User          string     `json:"user,omitempty"`
	Created       time.Time  `json:"created"`
	Scopes        []string   `json:"scopes"`
	LiveRefresh   int        `json:"live_refresh_tokens"`
	Revoked       bool       `json:"revoked"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	RevokeReason  string     `json:"revoke_reason,omitempty"`
	AccessTokens  int        `json:"access_tokens"`
	RefreshTokens int        `json:"refresh_tokens"`
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
		info.ExpiresAt, _ = s.refreshDeadline(t)
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
	sort.Slice(list, func(i, j int) bool { return olderFirst(list[i].created, list[i].id, list[j].created, list[j].id) })
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
	byID := map[string]*Info{}
	out := make([]Info, 0, len(s.families))
	for _, f := range s.families {
		info := Info{ID: f.id, Client: f.client, User: f.user, Created: f.created, Revoked: f.revoked, RevokeReason: f.reason, Scopes: []string{}}
		if f.revoked {
			at := f.revokedAt
			info.RevokedAt = &at
		}
		out = append(out, info)
	}
	for i := range out {
		byID[out[i].ID] = &out[i]
	}
	now := s.clock.Now()
	for _, t := range s.access {
		info := byID[t.fam.id]
		info.AccessTokens++
		info.Scopes = t.req.GetGrantedScopes()
	}
	for _, t := range s.refresh {
		info := byID[t.fam.id]
		info.RefreshTokens++
		info.Scopes = t.req.GetGrantedScopes()
		deadline, _ := s.refreshDeadline(t)
		usable := t.used.IsZero() || s.policy.Refresh.Rotation == profile.RotationNone || s.inGrace(t)
		if !t.revoked && !t.fam.revoked && usable && (deadline.IsZero() || now.Before(deadline)) {
			info.LiveRefresh++
		}
	}
	sort.Slice(out, func(i, j int) bool { return olderFirst(out[i].Created, out[i].ID, out[j].Created, out[j].ID) })
	return out
}

// olderFirst orders families by creation time, then by id for a stable order.
func olderFirst(at time.Time, id string, bt time.Time, bid string) bool {
	if !at.Equal(bt) {
		return at.Before(bt)
	}
	return id < bid
}
