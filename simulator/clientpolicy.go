package simulator

import (
	"errors"
	"fmt"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// ClientRefresh is a client's own refresh-token policy: each field it sets
// replaces the profile's field of the same name (profile.Refresh), for
// this client's grants only. A tenant's applications differ there: Entra
// assigns token lifetime policies per application, an Okta authorization
// server's access policies target clients, and Auth0 sets rotation and
// expiry per application.
type ClientRefresh struct {
	// Rotation replaces refresh.rotation. Another mode than
	// rotate_with_grace drops the profile's grace unless Grace is set too,
	// and none drops its rotate_after, which only a rotating mode has.
	Rotation profile.Rotation `json:"rotation,omitempty" yaml:"rotation,omitempty" example:"rotate"`
	// Grace replaces refresh.grace; it needs rotation rotate_with_grace,
	// the client's or the profile's.
	Grace *profile.Duration `json:"grace,omitempty" yaml:"grace,omitempty" example:"30s"`
	// IdleTimeout replaces refresh.idle_timeout; 0 turns it off.
	IdleTimeout *profile.Duration `json:"idle_timeout,omitempty" yaml:"idle_timeout,omitempty" example:"30d"`
	// AbsoluteLifetime replaces refresh.absolute_lifetime; 0 turns it off.
	AbsoluteLifetime *profile.Duration `json:"absolute_lifetime,omitempty" yaml:"absolute_lifetime,omitempty" example:"90d"`
}

// cloneLifetimes gives c copies of its own lifetimes, so that the
// registry's registration and a caller's copy of it share none.
func (c *Client) cloneLifetimes() {
	clone := func(d *profile.Duration) *profile.Duration {
		if d == nil {
			return nil
		}
		v := *d
		return &v
	}
	c.AccessTokenLifetime = clone(c.AccessTokenLifetime)
	if c.Refresh != nil {
		r := *c.Refresh
		r.Grace, r.IdleTimeout, r.AbsoluteLifetime = clone(r.Grace), clone(r.IdleTimeout), clone(r.AbsoluteLifetime)
		c.Refresh = &r
	}
}

// checkLifetimes reports the client's own lifetimes that no profile could
// take, whatever it is: the rest depends on the profile (amend).
func (c Client) checkLifetimes() []error {
	var errs []error
	if d := c.AccessTokenLifetime; d != nil && *d <= 0 {
		errs = append(errs, fmt.Errorf("access_token_lifetime must be positive, got %s", *d))
	}
	r := c.Refresh
	if r == nil {
		return errs
	}
	switch r.Rotation {
	case "", profile.RotationNone, profile.RotationRotate, profile.RotationRotateWithGrace, profile.RotationRotateKeepOld:
	default:
		errs = append(errs, fmt.Errorf("refresh.rotation must be one of %q, %q, %q or %q, got %q",
			profile.RotationNone, profile.RotationRotate, profile.RotationRotateWithGrace, profile.RotationRotateKeepOld, r.Rotation))
	}
	if r.Grace != nil && *r.Grace <= 0 {
		errs = append(errs, fmt.Errorf("refresh.grace must be positive, got %s (leave it out, or choose another rotation, for none)", *r.Grace))
	}
	for name, d := range map[string]*profile.Duration{"refresh.idle_timeout": r.IdleTimeout, "refresh.absolute_lifetime": r.AbsoluteLifetime} {
		if d != nil && *d < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative, got %s", name, *d))
		}
	}
	return errs
}

// amend returns base with the client's own lifetimes in place of its
// own, each overridden value's source naming the client, and reports a
// combination the profile would refuse (rotate_with_grace with no grace,
// a grace without it).
func (c Client) amend(base profile.Profile) (profile.Profile, error) {
	p := base.Clone()
	if c.AccessTokenLifetime == nil && c.Refresh == nil {
		return p, nil
	}
	if p.Sources == nil {
		p.Sources = map[string]profile.Source{}
	}
	own := profile.Source{Ref: fmt.Sprintf("the registration of client %q", c.ID)}
	if d := c.AccessTokenLifetime; d != nil {
		// A lifetime of the client's own is one lifetime, not the
		// profile's range.
		p.AccessTokenLifetime, p.AccessTokenLifetimeMax = *d, 0
		p.Sources["access_token_lifetime"] = own
		delete(p.Sources, "access_token_lifetime_max")
	}
	if r := c.Refresh; r != nil {
		if r.Rotation != "" {
			p.Refresh.Rotation = r.Rotation
			p.Sources["refresh.rotation"] = own
			if r.Rotation != profile.RotationRotateWithGrace {
				p.Refresh.Grace = 0
			}
			if r.Rotation == profile.RotationNone {
				p.Refresh.RotateAfter = 0
			}
		}
		set := func(path string, field *profile.Duration, v *profile.Duration) {
			if v != nil {
				*field = *v
				p.Sources[path] = own
			}
		}
		set("refresh.grace", &p.Refresh.Grace, r.Grace)
		set("refresh.idle_timeout", &p.Refresh.IdleTimeout, r.IdleTimeout)
		set("refresh.absolute_lifetime", &p.Refresh.AbsoluteLifetime, r.AbsoluteLifetime)
	}
	if err := p.Validate(); err != nil {
		return base, fmt.Errorf("client %q: its own lifetimes do not fit the profile: %w", c.ID, errors.Unwrap(err))
	}
	return p, nil
}

// policyOf is the profile as it governs the tokens of client id: the
// registry's, amended by the client's own lifetimes; the registry's for a
// client it does not know.
func (r *registry) policyOf(id string) profile.Profile {
	if c, ok := r.get(id); ok {
		return c.policy
	}
	return r.base
}

// ClientProfile returns the profile as it governs the tokens of client id:
// the profile in force, with the client's own access-token lifetime and
// refresh-token rotation, grace, idle timeout and absolute lifetime in
// place of the profile's (their sources name the client). A harness
// tells a client under test what its provider documents from it. It fails
// with ErrNotFound when there is no such client.
func (s *Simulator) ClientProfile(id string) (profile.Profile, error) {
	c, ok := s.current().clients.get(id)
	if !ok {
		return profile.Profile{}, missing("no client %q", id)
	}
	return c.policy.Clone(), nil
}
