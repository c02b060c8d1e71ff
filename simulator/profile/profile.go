// Package profile describes how a simulated provider manages token lifetimes:
// access-token and code lifetimes, refresh-token rotation, reuse detection,
// idle and absolute lifetimes, per user×client limits and how offline access
// is requested. The zero value of each field means "off" or "unlimited";
// Generic returns the RFC-strict default.
package profile

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
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
	// RotationRotateKeepOld issues a new refresh token on every refresh but never supersedes
	// the old one: it stays valid until its own idle or absolute expiry (Entra ID).
	RotationRotateKeepOld Rotation = "rotate_keep_old"
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
	// RotateAfter, with a rotating mode, keeps a refresh token younger than this: a refresh
	// answers with the same token until it is this old (Intuit's periodic rotation; 0: rotate
	// on every refresh).
	RotateAfter Duration `json:"rotate_after,omitempty" yaml:"rotate_after,omitempty"`
	// OnReconsent says what a new authorization of the same user and client does to the
	// families it already has: keep them (Google: each consent mints another refresh token)
	// or revoke them. Empty means keep.
	OnReconsent Reconsent `json:"on_reconsent,omitempty" yaml:"on_reconsent,omitempty"`
	// ScopeWithoutOfflineAccess says what a refresh gets whose scope parameter narrows the
	// grant's scope and leaves offline_access out, where offline access is asked for by that
	// scope (OfflineScope); Google-style profiles, where offline access is no scope, ignore
	// it. Empty means keep.
	ScopeWithoutOfflineAccess WithoutOfflineAccess `json:"scope_without_offline_access,omitempty" yaml:"scope_without_offline_access,omitempty"`
	// OnlyOnFirstConsent issues a refresh token only to an authorization that consents
	// anew: the user's first to the client with offline access, one with prompt=consent, one
	// the user was marked as having to consent again for, or the first after the user's
	// refreshable grants to the client all ended (revoked, expired). Any other authorization
	// with offline access gets no refresh token, and the earlier one stays valid (Google).
	OnlyOnFirstConsent bool `json:"only_on_first_consent,omitempty" yaml:"only_on_first_consent,omitempty"`
}

// WithoutOfflineAccess says what a refresh whose scope leaves out offline_access gets.
type WithoutOfflineAccess string

// Answers to a refresh whose scope leaves out offline_access.
const (
	// WithoutOfflineKeep changes nothing about offline access: the access token gets the
	// narrower scope, and the refresh token stays the grant's, with its scope, as RFC 6749
	// §6 has it.
	WithoutOfflineKeep WithoutOfflineAccess = "keep"
	// WithoutOfflineNoRefreshToken answers without a refresh token. The one presented fares
	// as the profile's rotation has it (a rotating profile supersedes it), so at a rotating
	// provider the grant ends when the access token of this answer expires.
	WithoutOfflineNoRefreshToken WithoutOfflineAccess = "no_refresh_token"
)

// TokenFormat is the form of the access and refresh tokens a profile issues.
type TokenFormat string

// Token formats.
const (
	// TokenOpaque: fosite's HMAC tokens, base64url(key).base64url(HMAC), the
	// default ("" too).
	TokenOpaque TokenFormat = "opaque"
	// TokenJWT: JSON Web Tokens, header.payload.signature. The access token
	// is signed RS256 with the key the JWKS endpoint publishes, the refresh
	// token HS512 with a key of the simulator's own; both carry exp, iat,
	// jti, iss, sub (a user's), typ ("Bearer", "Refresh"), azp, sid and
	// scope, and the simulator keeps the same books on them as on opaque ones.
	TokenJWT TokenFormat = "jwt"
)

// Reconsent says what re-authorizing does to a user's existing grants for the same client.
type Reconsent string

// Reconsent modes.
const (
	ReconsentKeep   Reconsent = "keep"
	ReconsentRevoke Reconsent = "revoke"
)

// Profile is one provider's token-lifecycle behaviour.
type Profile struct {
	Name string `json:"name" yaml:"name"`
	// Title names the provider and product the profile models, for listings.
	Title string `json:"title,omitempty" yaml:"title,omitempty"`
	// AccessTokenLifetime is the lifetime of every access token, or the shortest when
	// AccessTokenLifetimeMax is set.
	AccessTokenLifetime Duration `json:"access_token_lifetime" yaml:"access_token_lifetime"`
	// AccessTokenLifetimeMax, when set, gives each access token a random lifetime between
	// AccessTokenLifetime and this (Entra ID: 60 to 90 minutes), from the simulator's seed.
	AccessTokenLifetimeMax Duration      `json:"access_token_lifetime_max,omitempty" yaml:"access_token_lifetime_max,omitempty"`
	CodeLifetime           Duration      `json:"code_lifetime" yaml:"code_lifetime"`
	IDTokenLifetime        Duration      `json:"id_token_lifetime" yaml:"id_token_lifetime"`
	OfflineAccess          OfflineAccess `json:"offline_access" yaml:"offline_access"`
	Refresh                Refresh       `json:"refresh" yaml:"refresh"`
	// TestingAppExpiry kills the refresh tokens of a client whose publishing status is
	// "testing" this long after consent (Google: 7 days), unless only identity scopes
	// (openid, email, profile) were granted. 0: testing status changes nothing.
	TestingAppExpiry Duration `json:"testing_app_expiry,omitempty" yaml:"testing_app_expiry,omitempty"`
	// SPARedemptionByOrigin ties token redemption to the client's platform
	// by the request's Origin header, as Entra does: a token request with an
	// Origin (from a browser page) is refused unless its client is a
	// single-page application (SituationCrossOriginRedemption), and a code
	// or refresh token of a single-page application is refused without one
	// (SituationSPARedemptionWithoutOrigin), both as invalid_request. The
	// token endpoint then answers every origin with CORS headers, so that a
	// page can read the refusal. Off: only a single-page application's
	// allowed origins get CORS headers, and the browser keeps any other
	// page from reading the answer.
	SPARedemptionByOrigin bool `json:"spa_redemption_by_origin,omitempty" yaml:"spa_redemption_by_origin,omitempty"`
	// Shape is where the provider serves its endpoints and how it spells
	// what a provider's own SDK checks: the zero value is oauthsim's own.
	Shape Shape `json:"shape,omitzero" yaml:"shape,omitempty"`
	// Responses replaces the RFC 6749 answer in the situations it names with the
	// provider's own, byte for byte as documented. See Situation.
	Responses map[Situation]Response `json:"responses,omitempty" yaml:"responses,omitempty"`
	// Deviations are the provider's departures from RFC 6749 on every request. See Deviation.
	Deviations []Deviation `json:"deviations,omitempty" yaml:"deviations,omitempty"`
	// Sources holds where each value came from, by dotted path ("refresh.grace"); the
	// profile data files record them next to each value.
	Sources map[string]Source `json:"sources,omitempty" yaml:"-"`
}

// Source is where a profile value comes from.
type Source struct {
	// Ref cites the documentation, issue or article the value is taken from.
	Ref string `json:"ref"`
	// Unconfirmed marks a value no primary source was found for.
	Unconfirmed bool `json:"unconfirmed,omitempty"`
}

// Situation names a moment where a provider answers in its own way.
type Situation string

// Situations a profile can give its own response for. The refresh-token ones
// fall back to SituationRefreshTokenInvalid, then to RFC 6749's invalid_grant.
const (
	// SituationRefreshTokenInvalid: any refused refresh token (the fallback of the ones below).
	SituationRefreshTokenInvalid Situation = "refresh_token_invalid"
	// SituationRefreshTokenExpired: the refresh token reached its absolute lifetime.
	SituationRefreshTokenExpired Situation = "refresh_token_expired"
	// SituationRefreshTokenInactive: the refresh token passed its idle timeout.
	SituationRefreshTokenInactive Situation = "refresh_token_inactive"
	// SituationRefreshTokenRevoked: the grant was revoked (user, admin, password change, eviction).
	SituationRefreshTokenRevoked Situation = "refresh_token_revoked"
	// SituationRefreshTokenReused: a superseded refresh token was presented.
	SituationRefreshTokenReused Situation = "refresh_token_reused"
	// SituationRefreshTokenTestingApp: the testing-app expiry killed the grant.
	SituationRefreshTokenTestingApp Situation = "refresh_token_testing_app"
	// SituationRefreshTokenWrongClient: the refresh token was issued to another client than
	// the one that authenticated (RFC 6749 §6); the grant stays valid for its own client.
	SituationRefreshTokenWrongClient Situation = "refresh_token_wrong_client"
	// SituationClientSecretInvalid: the client authenticated with a wrong or retired secret.
	SituationClientSecretInvalid Situation = "client_secret_invalid"
	// SituationClientSecretExpired: the client authenticated with a secret past its expiry.
	SituationClientSecretExpired Situation = "client_secret_expired"
	// SituationRateLimited: the provider's rate-limit signal, used by rate_limit faults.
	SituationRateLimited Situation = "rate_limited"
	// SituationInteractionRequired: step-up or a claims challenge (Entra AADSTS50076, Google invalid_rapt).
	SituationInteractionRequired Situation = "interaction_required"
	// SituationCrossOriginRedemption: with SPARedemptionByOrigin, a token request from a
	// browser page (with an Origin header) for a client that is no single-page
	// application (Entra AADSTS9002326).
	SituationCrossOriginRedemption Situation = "cross_origin_redemption"
	// SituationSPARedemptionWithoutOrigin: with SPARedemptionByOrigin, a single-page
	// application's code or refresh token redeemed without an Origin header, not from a
	// browser page (Entra AADSTS9002327).
	SituationSPARedemptionWithoutOrigin Situation = "spa_redemption_without_origin"
)

// Situations lists every situation a profile may give a response for.
func Situations() []Situation {
	return []Situation{
		SituationRefreshTokenInvalid, SituationRefreshTokenExpired, SituationRefreshTokenInactive,
		SituationRefreshTokenRevoked, SituationRefreshTokenReused, SituationRefreshTokenTestingApp,
		SituationRefreshTokenWrongClient, SituationClientSecretInvalid, SituationClientSecretExpired, SituationRateLimited,
		SituationInteractionRequired, SituationCrossOriginRedemption, SituationSPARedemptionWithoutOrigin,
	}
}

// Response is an HTTP answer as a provider gives it. Header values and the
// body are Go text/templates over ResponseData, so that a provider's trace
// ids, timestamps and rate-limit counters can be rendered.
type Response struct {
	Status      int               `json:"status" yaml:"status"`
	ContentType string            `json:"content_type,omitempty" yaml:"content_type,omitempty"`
	Headers     map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	Body        string            `json:"body" yaml:"body"`
}

// ResponseData is what a Response's templates can use.
type ResponseData struct {
	// Now is the provider's time, formatted by the template (e.g. {{.Now.Format "2006-01-02 15:04:05Z"}}).
	Now time.Time
	// TraceID and CorrelationID are fresh random UUIDs per response.
	TraceID, CorrelationID string
	// TokenIssuedAt is when the refused token was issued (zero when unknown).
	TokenIssuedAt time.Time
	// Origin is the Origin header of the request refused, an origin
	// (scheme://host[:port]) or "null", never other text, so that it can
	// stand in a JSON string.
	Origin string
	// RetryAfterSeconds, RetryAfterDate (an HTTP-date) and ResetUnix say when a rate-limited
	// caller may try again; Limit and Remaining are the limiter's counters.
	RetryAfterSeconds int
	RetryAfterDate    string
	ResetUnix         int64
	Limit, Remaining  int
}

// Deviation is a departure from RFC 6749 that real providers make.
type Deviation string

// Deviations a profile or a deviation fault can apply.
const (
	// DeviationExpiresInString sends expires_in as a JSON string ("3600").
	DeviationExpiresInString Deviation = "expires_in_string"
	// DeviationExpiresInFractional sends expires_in with a fraction (3599.5).
	DeviationExpiresInFractional Deviation = "expires_in_fractional"
	// DeviationExpiresInMissing leaves expires_in out (RFC 6749 only recommends it).
	DeviationExpiresInMissing Deviation = "expires_in_missing"
	// DeviationTokenTypeLowercase sends token_type "bearer".
	DeviationTokenTypeLowercase Deviation = "token_type_lowercase"
	// DeviationNoRefreshToken answers a refresh grant without refresh_token; the old one stays valid.
	DeviationNoRefreshToken Deviation = "no_refresh_token"
	// DeviationErrorsAs200 answers every token-endpoint error with HTTP 200 (GitHub, Slack).
	DeviationErrorsAs200 Deviation = "errors_as_200"
	// DeviationInvalidGrant401 answers invalid_grant with HTTP 401.
	DeviationInvalidGrant401 Deviation = "invalid_grant_401"
	// DeviationInvalidGrant403 answers invalid_grant with HTTP 403 (Auth0).
	DeviationInvalidGrant403 Deviation = "invalid_grant_403"
	// DeviationIDTokenNonceMismatch answers with an id_token whose nonce is not the one the
	// authorization sent: a fresh random value, validly signed, every other claim the same.
	// It acts only on id_tokens that carry a nonce, those of authorization code grants whose
	// authorization sent one (refreshed id_tokens carry none, OpenID Connect Core §12.2).
	DeviationIDTokenNonceMismatch Deviation = "id_token_nonce_mismatch"
)

// Deviations lists every deviation.
func Deviations() []Deviation {
	return []Deviation{
		DeviationExpiresInString, DeviationExpiresInFractional, DeviationExpiresInMissing,
		DeviationTokenTypeLowercase, DeviationNoRefreshToken, DeviationErrorsAs200,
		DeviationInvalidGrant401, DeviationInvalidGrant403, DeviationIDTokenNonceMismatch,
	}
}

// Clone returns a copy of p that shares no map or slice with it, so that a
// caller may change its copy of a built-in profile without changing anyone
// else's.
func (p Profile) Clone() Profile {
	c := p
	c.Responses = maps.Clone(p.Responses)
	for s, r := range c.Responses {
		r.Headers = maps.Clone(r.Headers)
		c.Responses[s] = r
	}
	c.Deviations = slices.Clone(p.Deviations)
	c.Shape = p.Shape.Clone()
	c.Sources = maps.Clone(p.Sources)
	return c
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
	if p.Name == "" {
		errs = append(errs, errors.New("name must not be empty"))
	}
	positive("access_token_lifetime", p.AccessTokenLifetime)
	if p.AccessTokenLifetimeMax != 0 && p.AccessTokenLifetimeMax < p.AccessTokenLifetime {
		errs = append(errs, fmt.Errorf("access_token_lifetime_max must be at least access_token_lifetime (%s), got %s",
			p.AccessTokenLifetime, p.AccessTokenLifetimeMax))
	}
	positive("code_lifetime", p.CodeLifetime)
	positive("id_token_lifetime", p.IDTokenLifetime)
	errs = append(errs, oneOf("offline_access", p.OfflineAccess, OfflineScope, OfflineAccessType))
	notNegative("testing_app_expiry", p.TestingAppExpiry)

	r := p.Refresh
	errs = append(errs, oneOf("refresh.rotation", r.Rotation,
		RotationNone, RotationRotate, RotationRotateWithGrace, RotationRotateKeepOld))
	if r.Rotation == RotationRotateWithGrace {
		positive("refresh.grace", r.Grace)
	} else if r.Grace != 0 {
		errs = append(errs, fmt.Errorf("refresh.grace is only meaningful with rotation %q", RotationRotateWithGrace))
	}
	notNegative("refresh.rotate_after", r.RotateAfter)
	if r.RotateAfter != 0 && r.Rotation == RotationNone {
		errs = append(errs, fmt.Errorf("refresh.rotate_after is only meaningful with a rotating mode, not rotation %q", RotationNone))
	}
	errs = append(errs,
		oneOf("refresh.reuse_detection", r.ReuseDetection, ReuseOff, ReuseRevokeFamily),
		oneOf("refresh.absolute_mode", r.AbsoluteMode, AbsoluteSliding, AbsoluteInherited),
		oneOf("refresh.on_reconsent", r.OnReconsent, "", ReconsentKeep, ReconsentRevoke),
		oneOf("refresh.scope_without_offline_access", r.ScopeWithoutOfflineAccess, "", WithoutOfflineKeep, WithoutOfflineNoRefreshToken))
	notNegative("refresh.idle_timeout", r.IdleTimeout)
	notNegative("refresh.absolute_lifetime", r.AbsoluteLifetime)
	if r.MaxFamiliesPerUserClient < 0 {
		errs = append(errs, fmt.Errorf("refresh.max_families_per_user_client must not be negative, got %d", r.MaxFamiliesPerUserClient))
	}

	errs = append(errs, p.Shape.validate()...)

	for _, s := range slices.Sorted(maps.Keys(p.Responses)) {
		at := "responses." + string(s)
		if !slices.Contains(Situations(), s) {
			errs = append(errs, fmt.Errorf("%s: unknown situation %q (known: %s)", at, s, quoteAll(Situations())))
		}
		errs = append(errs, p.Responses[s].check(at))
	}
	for i, d := range p.Deviations {
		errs = append(errs, oneOf(fmt.Sprintf("deviations[%d]", i), d, Deviations()...))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("profile %q: %w", p.Name, err)
	}
	return nil
}

// oneOf reports got when it is not one of allowed.
func oneOf[S ~string](name string, got S, allowed ...S) error {
	if slices.Contains(allowed, got) {
		return nil
	}
	return fmt.Errorf("%s must be one of %s, got %q", name, quoteAll(allowed), got)
}

// quoteAll lists values for a message: "a", "b", "c".
func quoteAll[S ~string](values []S) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = strconv.Quote(string(v))
	}
	return strings.Join(q, ", ")
}
