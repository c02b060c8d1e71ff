package simulator

import (
	"github.com/oauthsim/oauthsim/simulator/family"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// consented applies what a user's fresh consent to a client changes besides
// starting the grant fam: the profile's refresh.on_reconsent, or invalidate
// when given, decides whether the user's earlier grants to the client are
// revoked (reason "reconsent").
func (s *Simulator) consented(user, client, fam string, invalidate *bool) {
	revoke := s.store.Policy().Refresh.OnReconsent == profile.ReconsentRevoke
	if invalidate != nil {
		revoke = *invalidate
	}
	if revoke {
		s.store.RevokeUserClient(user, client, fam, family.ReasonReconsent)
	}
}
