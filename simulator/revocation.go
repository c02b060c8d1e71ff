package simulator

import (
	"errors"
	"fmt"
	"slices"

	"github.com/oauthsim/oauthsim/simulator/events"
)

// Revocation says which families Revoke revokes: exactly one of Token,
// Family, User, ClientID and All. It is also the body of
// POST /sim/v1/revocations.
type Revocation struct {
	// Token revokes the family of a code, access token or refresh token
	// the simulator issued.
	Token string `json:"token,omitempty"`
	// Family revokes the family with that id (Grant.Family).
	Family string `json:"family,omitempty"`
	// User revokes every family of the user, as a password change does.
	User string `json:"user,omitempty"`
	// ClientID revokes every family of the client.
	ClientID string `json:"client_id,omitempty"`
	// All revokes every family.
	All bool `json:"all,omitempty"`
	// Reason is events.ReasonUser, ReasonAdmin (the default),
	// ReasonPasswordChange or ReasonSecurity; events and a profile's
	// answers to the revoked tokens tell it.
	Reason string `json:"reason,omitempty"`
}

// Revoked is what Revoke did.
type Revoked struct {
	// Reason is the reason the families were revoked with.
	Reason string `json:"reason"`
	// Families counts the families that were live until now.
	Families int `json:"revoked_families"`
}

// controlReasons are the reasons a Revocation may give.
var controlReasons = []string{events.ReasonUser, events.ReasonAdmin, events.ReasonPasswordChange, events.ReasonSecurity}

// Revoke revokes families as a user removing access, an admin, a password
// change or a security response would; each one revoked records a
// family_revoked event. It fails with ErrNotFound when the token, family,
// user or client named does not exist.
func (s *Simulator) Revoke(req Revocation) (Revoked, error) {
	selectors := 0
	for _, set := range []bool{req.Token != "", req.Family != "", req.User != "", req.ClientID != "", req.All} {
		if set {
			selectors++
		}
	}
	if selectors != 1 {
		return Revoked{}, errors.New(`give exactly one of "token", "family", "user", "client_id" and "all": true`)
	}
	if req.Reason == "" {
		req.Reason = events.ReasonAdmin
	}
	if !slices.Contains(controlReasons, req.Reason) {
		return Revoked{}, fmt.Errorf("reason %q is not one of %v", req.Reason, controlReasons)
	}
	done := Revoked{Reason: req.Reason}
	wd := s.current()
	switch {
	case req.Token != "":
		// The store knows tokens by signature, which only the simulator's
		// token strategy can compute.
		found, now := wd.store.RevokeToken(s.tokens.signature(req.Token), req.Reason)
		if !found {
			return Revoked{}, missing("no token like that was issued here")
		}
		done.Families = count(now)
	case req.Family != "":
		found, now := wd.store.RevokeFamily(req.Family, req.Reason)
		if !found {
			return Revoked{}, missing("no family %q", req.Family)
		}
		done.Families = count(now)
	case req.User != "":
		if _, ok := wd.users.get(req.User); !ok {
			return Revoked{}, missing("no user %q", req.User)
		}
		done.Families = wd.store.RevokeUser(req.User, req.Reason)
	case req.ClientID != "":
		if _, ok := wd.clients.get(req.ClientID); !ok {
			return Revoked{}, missing("no client %q", req.ClientID)
		}
		done.Families = wd.store.RevokeClient(req.ClientID, req.Reason)
	default:
		done.Families = wd.store.RevokeAll(req.Reason)
	}
	return done, nil
}

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}
