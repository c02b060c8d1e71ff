package family

import (
	"slices"
	"sort"
	"time"

	"github.com/ory/fosite"
)

// TestingAppClient is a client that can be an app in testing status, as an
// unverified Google app with an external audience is: the refresh tokens of
// grants consented while it is one die the profile's TestingAppExpiry after
// consent, unless only identity scopes were granted.
type TestingAppClient interface {
	fosite.Client
	IsTestingApp() bool
}

// identityScopes are the scopes a testing app may be granted without its
// grants expiring: signing in, not access to the user's data. Offline access
// is no data either, and is how the grant got a refresh token at all.
var identityScopes = map[string]bool{"openid": true, "email": true, "profile": true, "offline_access": true, "offline": true}

// consentedInTesting reports whether the authorization r starts a grant that
// the testing-app expiry applies to. The client in r is the one fosite
// looked up for the authorization, so its status is the one at consent.
func consentedInTesting(r fosite.Requester) bool {
	c, ok := r.GetClient().(TestingAppClient)
	if !ok || !c.IsTestingApp() {
		return false
	}
	for _, scope := range r.GetGrantedScopes() {
		if !identityScopes[scope] {
			return true
		}
	}
	return false
}

// testingAppDeadline is when the testing-app expiry kills f's refresh
// tokens; zero when it does not apply. s.mu must be held.
func (s *Store) testingAppDeadline(f *family) time.Time {
	if !f.testingApp || s.policy.TestingAppExpiry <= 0 {
		return time.Time{}
	}
	return f.created.Add(s.policy.TestingAppExpiry.D())
}

// RevokeUserClient revokes every family of user with client but except (the
// authorization that replaces them; empty for none) and returns how many
// were live.
func (s *Store) RevokeUserClient(user, client, except, reason string) int {
	return s.revokeAll(func() map[string]*family {
		fams := map[string]*family{}
		for id, f := range s.byUser[user] {
			if f.client == client && id != except {
				fams[id] = f
			}
		}
		return fams
	}, reason)
}

// GrantedScopes lists the scopes that user's live grants to client hold,
// each once, in the order they were first granted. A grant is live until it
// is revoked or, when it has refresh tokens, until none of them is usable;
// a grant without refresh tokens stands as consent after its access tokens
// expire, as a provider's record of consent does.
func (s *Store) GrantedScopes(user, client string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	fams := make([]*family, 0, len(s.byUser[user]))
	for _, f := range s.byUser[user] {
		if f.client == client && !f.revoked && (f.issued == 0 || s.hasUsableRefresh(f)) {
			fams = append(fams, f)
		}
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].seq < fams[j].seq })
	var out []string
	for _, f := range fams {
		for _, scope := range f.scopes {
			if !slices.Contains(out, scope) {
				out = append(out, scope)
			}
		}
	}
	return out
}

// HoldsOfflineGrant reports whether user holds a grant to client that can
// still be refreshed: one not revoked with a usable refresh token, or one
// whose authorization granted offline access and whose code can still be
// redeemed for its first refresh token.
func (s *Store) HoldsOfflineGrant(user, client string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	for _, f := range s.byUser[user] {
		if f.client != client || f.revoked {
			continue
		}
		if s.hasUsableRefresh(f) {
			return true
		}
		c := f.code
		pending := c != nil && !f.withholdRefresh && f.issued == 0 && c.used.IsZero() && !c.revoked && (c.expires.IsZero() || now.Before(c.expires))
		if pending && slices.ContainsFunc(f.scopes, IsOfflineScope) {
			return true
		}
	}
	return false
}

// IsOfflineScope reports whether scope grants offline access: the OpenID
// Connect scope offline_access, or offline, which some providers use.
func IsOfflineScope(scope string) bool { return scope == "offline_access" || scope == "offline" }
