// Package profile describes how a simulated provider manages token lifetimes:
// access-token and code lifetimes, refresh-token rotation, reuse detection,
// idle and absolute lifetimes, per user×client limits and how offline access
// is requested. The zero value of each field means "off" or "unlimited";
// Generic returns the RFC-strict default.
package profile

import (
	"errors"
	"fmt"
	"time"
)

// Rotation says what a refresh grant does to the refresh token it used.
type Rotation string

// Rotation modes.
const (
	// RotationNone keeps the refresh token; refresh responses carry none (Google, Dropbox).
	RotationNone Rotation = "none"
	// RotationRotate issues a new refresh token on every refresh and supersedes the old one at once.
	RotationRotate Rotation = "rotate"
	// RotationRotateWithGrace supersedes the old token but still accepts it for a grace period
	// after its first use (Okta's leeway, Auth0's reuse interval, Xero's 30 minutes).
	RotationRotateWithGrace Rotation = "rotate_with_grace"
)

// ReuseDetection says what happens when a superseded refresh token comes back.
type ReuseDetection string

// Reuse detection modes.
const (
	// ReuseOff refuses the superseded token with invalid_grant and changes nothing else.
	ReuseOff ReuseDetection = "off"
	// ReuseRevokeFamily refuses it and revokes every token of its family (RFC 9700 §4.14.2).
	ReuseRevokeFamily ReuseDetection = "revoke_family"
)

// AbsoluteMode says where a refresh token's absolute lifetime is measured from.
type AbsoluteMode string

// Absolute lifetime modes.
const (
	// AbsoluteSliding measures from the token's own issue: every rotation starts a full lifetime.
	AbsoluteSliding AbsoluteMode = "sliding"
	// AbsoluteInherited measures from the family's first refresh token: rotated tokens inherit its
	// expiry (Okta custom servers, Auth0, Entra SPA).
	AbsoluteInherited AbsoluteMode = "inherited"
)

// OfflineAccess says how a client asks for a refresh token.
type OfflineAccess string

// Offline access rules.
const (
	// OfflineScope grants a refresh token when the offline_access scope is granted (OIDC).
	OfflineScope OfflineAccess = "scope"
	// OfflineAccessType grants one when the authorization request has access_type=offline (Google).
	OfflineAccessType OfflineAccess = "access_type"
)

// Refresh holds the refresh-token policy.
type Refresh struct {
	Rotation       Rotation       `json:"rotation" yaml:"rotation"`
	Grace          Duration       `json:"grace,omitempty" yaml:"grace,omitempty"`
	ReuseDetection ReuseDetection `json:"reuse_detection" yaml:"reuse_detection"`
	// IdleTimeout kills a refresh token that was not used for this long (0: never).
	IdleTimeout Duration `json:"idle_timeout,omitempty" yaml:"idle_timeout,omitempty"`
	// AbsoluteLifetime kills a refresh token this long after AbsoluteMode's start (0: never).
	AbsoluteLifetime Duration     `json:"absolute_lifetime,omitempty" yaml:"absolute_lifetime,omitempty"`
	AbsoluteMode     AbsoluteMode `json:"absolute_mode,omitempty" yaml:"absolute_mode,omitempty"`
	// MaxFamiliesPerUserClient caps live refresh-token families per user and client; the
	// oldest is silently invalidated when a new one would exceed it (0: no cap).
	MaxFamiliesPerUserClient int `json:"max_families_per_user_client,omitempty" yaml:"max_families_per_user_client,omitempty"`
}

// Profile is one provider's token-lifecycle behaviour.
type Profile struct {
	Name                string        `json:"name" yaml:"name"`
	AccessTokenLifetime Duration      `json:"access_token_lifetime" yaml:"access_token_lifetime"`
	CodeLifetime        Duration      `json:"code_lifetime" yaml:"code_lifetime"`
	IDTokenLifetime     Duration      `json:"id_token_lifetime" yaml:"id_token_lifetime"`
	OfflineAccess       OfflineAccess `json:"offline_access" yaml:"offline_access"`
	Refresh             Refresh       `json:"refresh" yaml:"refresh"`
}

// Generic is the RFC-strict default: one-hour access tokens, ten-minute
// codes, refresh tokens through the offline_access scope, and rotation with
// strict reuse detection as RFC 9700 §4.14.2 describes.
func Generic() Profile {
	return Profile{
		Name:                "generic",
		AccessTokenLifetime: Duration(time.Hour),
		CodeLifetime:        Duration(10 * time.Minute),
		IDTokenLifetime:     Duration(time.Hour),
		OfflineAccess:       OfflineScope,
		Refresh: Refresh{
			Rotation:       RotationRotate,
			ReuseDetection: ReuseRevokeFamily,
			AbsoluteMode:   AbsoluteSliding,
		},
	}
}

// Validate reports every inconsistent or out-of-range setting at once.
func (p Profile) Validate() error {
	var errs []error
	positive := func(name string, d Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", name, d))
		}
	}
	notNegative := func(name string, d Duration) {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative, got %s", name, d))
		}
	}
	positive("access_token_lifetime", p.AccessTokenLifetime)
	positive("code_lifetime", p.CodeLifetime)
	positive("id_token_lifetime", p.IDTokenLifetime)
	switch p.OfflineAccess {
	case OfflineScope, OfflineAccessType:
	default:
		errs = append(errs, fmt.Errorf("offline_access must be %q or %q, got %q", OfflineScope, OfflineAccessType, p.OfflineAccess))
	}
	r := p.Refresh
	switch r.Rotation {
	case RotationNone, RotationRotate:
		if r.Grace != 0 {
			errs = append(errs, fmt.Errorf("refresh.grace is only meaningful with rotation %q", RotationRotateWithGrace))
		}
	case RotationRotateWithGrace:
		positive("refresh.grace", r.Grace)
	default:
		errs = append(errs, fmt.Errorf("refresh.rotation must be %q, %q or %q, got %q", RotationNone, RotationRotate, RotationRotateWithGrace, r.Rotation))
	}
	switch r.ReuseDetection {
	case ReuseOff, ReuseRevokeFamily:
	default:
		errs = append(errs, fmt.Errorf("refresh.reuse_detection must be %q or %q, got %q", ReuseOff, ReuseRevokeFamily, r.ReuseDetection))
	}
	switch r.AbsoluteMode {
	case AbsoluteSliding, AbsoluteInherited:
	default:
		errs = append(errs, fmt.Errorf("refresh.absolute_mode must be %q or %q, got %q", AbsoluteSliding, AbsoluteInherited, r.AbsoluteMode))
	}
	notNegative("refresh.idle_timeout", r.IdleTimeout)
	notNegative("refresh.absolute_lifetime", r.AbsoluteLifetime)
	if r.MaxFamiliesPerUserClient < 0 {
		errs = append(errs, fmt.Errorf("refresh.max_families_per_user_client must not be negative, got %d", r.MaxFamiliesPerUserClient))
	}
	if len(errs) > 0 {
		return fmt.Errorf("profile %q: %w", p.Name, errors.Join(errs...))
	}
	return nil
}

// Lookup returns the built-in profile called name.
func Lookup(name string) (Profile, bool) {
	switch name {
	case "generic", "":
		return Generic(), true
	}
	return Profile{}, false
}

// Names lists the built-in profiles.
func Names() []string { return []string{"generic"} }
