package profile

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Paths names a set of endpoint paths.
type Paths string

// Path sets.
const (
	// PathsOAuthsim serves every endpoint at oauthsim's own path
	// (/oauth2/authorize, /oauth2/token, ...); empty means the same.
	PathsOAuthsim Paths = "oauthsim"
	// PathsAuth0 serves the endpoints also at the paths of Auth0's
	// Authentication API (/authorize, /oauth/token, /oauth/revoke,
	// /userinfo, /.well-known/jwks.json), which Auth0's SDKs build from the
	// tenant's domain without reading discovery; discovery then names these.
	PathsAuth0 Paths = "auth0"
)

// Shape is where a provider serves its endpoints and how it spells what its
// own SDKs check or need: for the SDKs that do not read a discovery document
// (Auth0's) or that decode tokens and send credentials (Keycloak's). The
// zero value is oauthsim's own shape.
type Shape struct {
	// Paths is the set of endpoint paths served besides oauthsim's own, and
	// named by discovery. Empty: oauthsim's.
	Paths Paths `json:"paths,omitempty" yaml:"paths,omitempty"`
	// IssuerTrailingSlash ends the issuer with a slash, in discovery's
	// issuer, ID tokens' iss and introspection's iss alike (Auth0:
	// "https://TENANT.auth0.com/").
	IssuerTrailingSlash bool `json:"issuer_trailing_slash,omitempty" yaml:"issuer_trailing_slash,omitempty"`
	// WebMessage accepts response_mode=web_message at the authorization
	// endpoint: the answer is a page that posts the authorization response
	// to the window that opened or framed it, at the redirect URI's origin.
	WebMessage bool `json:"web_message,omitempty" yaml:"web_message,omitempty"`
	// CORSRequestHeaders are request headers a page may send to the
	// provider's endpoints across origins besides Authorization and
	// Content-Type (Auth0's SDKs send Auth0-Client).
	CORSRequestHeaders []string `json:"cors_request_headers,omitempty" yaml:"cors_request_headers,omitempty"`
	// TokenFormat is the form of the access and refresh tokens: opaque (the
	// default, fosite's HMAC tokens) or jwt, JSON Web Tokens a client can
	// decode, as Keycloak's are and keycloak-js needs. See TokenFormat.
	TokenFormat TokenFormat `json:"token_format,omitempty" yaml:"token_format,omitempty"`
	// CORSAllowCredentials answers the cross-origin requests the
	// client-bound endpoints allow with Access-Control-Allow-Credentials:
	// true, so that a page may send them with credentials (fetch's
	// credentials: 'include'), as Keycloak does for a client's Web Origins
	// and keycloak-js needs. Off: the header is not sent, and the browser
	// refuses such a request's answer.
	CORSAllowCredentials bool `json:"cors_allow_credentials,omitempty" yaml:"cors_allow_credentials,omitempty"`
}

func (s Shape) validate() []error {
	var errs []error
	errs = append(errs, oneOf("shape.paths", s.Paths, "", PathsOAuthsim, PathsAuth0))
	errs = append(errs, oneOf("shape.token_format", s.TokenFormat, "", TokenOpaque, TokenJWT))
	for i, h := range s.CORSRequestHeaders {
		if !headerToken(h) {
			errs = append(errs, fmt.Errorf("shape.cors_request_headers[%d] must be an HTTP header name, got %q", i, h))
		}
		switch strings.ToLower(h) {
		case "authorization", "content-type":
			errs = append(errs, fmt.Errorf("shape.cors_request_headers[%d]: %s is always allowed", i, http.CanonicalHeaderKey(h)))
		}
	}
	return errs
}

// headerToken reports whether h is a field name (RFC 9110 §5.1: a token).
func headerToken(h string) bool {
	if h == "" {
		return false
	}
	for _, c := range h {
		if c > 0x7e || c <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c) {
			return false
		}
	}
	return true
}

// IsZero reports whether s is oauthsim's own shape.
func (s Shape) IsZero() bool {
	return (s.Paths == "" || s.Paths == PathsOAuthsim) && !s.IssuerTrailingSlash && !s.WebMessage && len(s.CORSRequestHeaders) == 0 &&
		(s.TokenFormat == "" || s.TokenFormat == TokenOpaque) && !s.CORSAllowCredentials
}

// Clone is a copy of s that shares nothing with it.
func (s Shape) Clone() Shape {
	s.CORSRequestHeaders = slices.Clone(s.CORSRequestHeaders)
	return s
}

// String says what s changes, as a reader of conform's output needs it.
func (s Shape) String() string {
	if s.IsZero() {
		return "oauthsim's own"
	}
	var parts []string
	if s.Paths != "" && s.Paths != PathsOAuthsim {
		parts = append(parts, string(s.Paths)+"'s endpoint paths")
	}
	if s.IssuerTrailingSlash {
		parts = append(parts, "an issuer ending in a slash")
	}
	if s.WebMessage {
		parts = append(parts, "response_mode=web_message")
	}
	if len(s.CORSRequestHeaders) > 0 {
		parts = append(parts, "CORS request headers "+strings.Join(s.CORSRequestHeaders, ", "))
	}
	if s.TokenFormat == TokenJWT {
		parts = append(parts, "JWT access and refresh tokens")
	}
	if s.CORSAllowCredentials {
		parts = append(parts, "CORS with credentials")
	}
	return strings.Join(parts, "; ")
}

// Shaped names the built-in profiles whose shape is not oauthsim's own.
func Shaped() []string {
	var out []string
	for _, n := range Names() {
		if p, _ := Lookup(n); !p.Shape.IsZero() {
			out = append(out, n)
		}
	}
	return out
}
