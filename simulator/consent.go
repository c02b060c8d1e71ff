package simulator

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Consent is what the simulator knows of one user's consent to one client.
type Consent struct {
	User     string `json:"user"`
	ClientID string `json:"client_id"`
	// ConsentedAt is the sim time of the user's latest consent to the
	// client; zero when the user never consented.
	ConsentedAt time.Time `json:"consented_at,omitzero"`
	// Scopes are the scopes granted at that consent.
	Scopes []string `json:"scopes,omitempty"`
	// Required marks the user as having to consent to the client again: an
	// authorization with prompt=none gets consent_required until one that
	// may ask for consent happens.
	Required bool `json:"consent_required"`
	// RequiredSince is the sim time the mark was set.
	RequiredSince time.Time `json:"required_since,omitzero"`
}

// consentBook holds the consents by user and client.
type consentBook struct {
	mu sync.Mutex
	m  map[consentKey]*Consent
}

type consentKey struct{ user, client string }

func newConsentBook() *consentBook { return &consentBook{m: map[consentKey]*Consent{}} }

// entry returns the consent of user to client, creating it. b.mu must be held.
func (b *consentBook) entry(user, client string) *Consent {
	k := consentKey{user, client}
	c, ok := b.m[k]
	if !ok {
		c = &Consent{User: user, ClientID: client}
		b.m[k] = c
	}
	return c
}

// give records a fresh consent and reports whether it cleared a mark.
func (b *consentBook) give(user, client string, scopes []string, now time.Time) (cleared bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.entry(user, client)
	cleared = c.Required
	c.ConsentedAt, c.Scopes, c.Required, c.RequiredSince = now, slices.Clone(scopes), false, time.Time{}
	return cleared
}

// mark sets or clears the mark and reports whether that changed anything.
func (b *consentBook) mark(user, client string, required bool, now time.Time) (Consent, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.entry(user, client)
	if c.Required == required {
		return *c, false
	}
	c.Required, c.RequiredSince = required, time.Time{}
	if required {
		c.RequiredSince = now
	}
	return *c, true
}

func (b *consentBook) required(user, client string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.m[consentKey{user, client}]
	return ok && c.Required
}

func (b *consentBook) list() []Consent {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Consent, 0, len(b.m))
	for _, c := range b.m {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].User != out[j].User {
			return out[i].User < out[j].User
		}
		return out[i].ClientID < out[j].ClientID
	})
	return out
}

// consented records in world wd user's fresh consent to client, given at
// endpoint, which started the grant fam with scopes: it clears a re-prompt
// mark (recording a consent_renewed event), and the profile's
// refresh.on_reconsent, or invalidate when given, decides whether the
// user's earlier grants to the client are revoked (reason "reconsent").
func (s *Simulator) consented(wd *world, user, client, fam string, scopes []string, endpoint string, invalidate *bool) {
	if wd.consents.give(user, client, scopes, s.provider.Now()) {
		s.events.Emit(events.Event{Kind: events.ConsentRenewed, User: user, Client: client, Family: fam, Detail: "consented again at " + endpoint})
	}
	revoke := s.cfg.profile.Refresh.OnReconsent == profile.ReconsentRevoke
	if invalidate != nil {
		revoke = *invalidate
	}
	if revoke {
		wd.store.RevokeUserClient(user, client, fam, events.ReasonReconsent)
	}
}

// ConsentChange is what ChangeConsent does to one user's consent to one
// client. It is also the body of POST /sim/v1/consents, where "require"
// must be given.
type ConsentChange struct {
	User     string `json:"user"`
	ClientID string `json:"client_id"`
	// Require marks the user as having to consent to the client again, so
	// that prompt=none gets consent_required (OpenID Connect Core
	// §3.1.2.6); false clears the mark as if the user had consented.
	Require bool `json:"require"`
	// Revoke also revokes the user's grants to the client, with reason
	// "consent_revoked", as withdrawing consent at the provider does.
	Revoke bool `json:"revoke,omitempty"`
}

// ChangeConsent applies change, records a consent_required or
// consent_renewed event when the mark changes (revocations record their
// own), and returns the consent as it is now with how many live grants were
// revoked.
func (s *Simulator) ChangeConsent(change ConsentChange) (Consent, int, error) {
	if change.User == "" || change.ClientID == "" {
		return Consent{}, 0, errors.New("user and client_id are required")
	}
	wd := s.current()
	if _, ok := wd.users.get(change.User); !ok {
		return Consent{}, 0, noSuch("user", change.User)
	}
	if _, ok := wd.clients.get(change.ClientID); !ok {
		return Consent{}, 0, noSuch("client", change.ClientID)
	}
	revoked := 0
	if change.Revoke {
		revoked = wd.store.RevokeUserClient(change.User, change.ClientID, "", events.ReasonConsentRevoked)
	}
	c, changed := wd.consents.mark(change.User, change.ClientID, change.Require, s.provider.Now())
	if !changed {
		return c, revoked, nil // the revocations have their own events
	}
	e := events.Event{Kind: events.ConsentRequired, User: change.User, Client: change.ClientID,
		Detail: "prompt=none gets consent_required until the user consents again"}
	if !change.Require {
		e.Kind, e.Detail = events.ConsentRenewed, "re-prompt mark cleared by the control API"
	}
	if change.Revoke {
		e.Detail += fmt.Sprintf("; %d live grants revoked", revoked)
	}
	s.events.Emit(e)
	return c, revoked, nil
}

// Consents lists every user's consent to every client the simulator knows
// of, by user and client.
func (s *Simulator) Consents() []Consent { return s.current().consents.list() }
