package family

import (
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
