package simulator

import (
	"maps"
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is what the simulator keeps about a signed-in user with each
// token. fosite's session holds its own wall-clock times; AuthTime is the
// sim time the user signed in at, which is what id_tokens report.
type Session struct {
	openid.DefaultSession
	AuthTime time.Time `json:"auth_time"`
}

func newSession() *Session {
	return &Session{DefaultSession: openid.DefaultSession{Claims: &jwt.IDTokenClaims{}, Headers: &jwt.Headers{}}}
}

// newUserSession is the session of user u, signed in at authTime (sim time).
// fosite checks prompt and max_age against the request time in its own
// wall-clock frame; the simulator signs the user in on the request itself, so
// both of fosite's instants are the request's.
func newUserSession(u User, authTime, fositeRequestedAt time.Time) *Session {
	s := newSession()
	s.Subject, s.Username, s.AuthTime = u.ID, u.ID, authTime
	s.Claims.Subject = u.ID
	s.Claims.AuthTime, s.Claims.RequestedAt = fositeRequestedAt, fositeRequestedAt
	return s
}

// Clone implements fosite.Session. The embedded session's Clone would drop
// AuthTime, and it copies by reflection, which cost an eighth of a refresh
// grant's CPU. This copies by hand every field DefaultSession has in fosite
// v0.49; claim and header Extra values are copied shallowly, and the
// simulator puts only strings and numbers there.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := &Session{AuthTime: s.AuthTime}
	c.Username, c.Subject = s.Username, s.Subject
	c.ExpiresAt = maps.Clone(s.ExpiresAt)
	if s.Claims != nil {
		claims := *s.Claims
		claims.Audience = slices.Clone(claims.Audience)
		claims.AuthenticationMethodsReferences = slices.Clone(claims.AuthenticationMethodsReferences)
		claims.Extra = maps.Clone(claims.Extra)
		c.Claims = &claims
	}
	if s.Headers != nil {
		c.Headers = &jwt.Headers{Extra: maps.Clone(s.Headers.Extra)}
	}
	return c
}
