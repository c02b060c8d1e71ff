package simulator

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"
	"github.com/rs/cors"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// A page in a browser may call some of the provider's endpoints from its
// own origin; the browser lets it read an answer only if the answer allows
// its origin (CORS). Which origins an endpoint allows:
//
//   - discovery, the JWKS and the protected resource: any origin. They hold
//     nothing a page could not fetch anyway, and a resource takes its
//     caller's access token in the Authorization header, never a cookie.
//   - the token, revocation and userinfo endpoints: the allowed origins of
//     the client the request is for, when that client is a single-page
//     application (platform spa); none for any other client. A confidential
//     web client's page that calls the token endpoint itself is refused by
//     the browser, as at Auth0 (Allowed Web Origins), Okta (Trusted Origins)
//     and Entra (only redirect URIs of type spa enable CORS on the token
//     endpoint: learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow).
//     Where the profile ties redemption to the Origin header
//     (profile.SPARedemptionByOrigin), the token endpoint answers every
//     origin and refuses the wrong client with an error a page can read,
//     as Entra's AADSTS9002326 reaches MSAL.js in the browser.
//
// A request without an Origin header, from a process, is served exactly
// as if there were no CORS at all.
var (
	openOrigins = []string{PathASMetadata, PathOIDCDiscovery, PathJWKS, PathResourceMe}
	clientBound = []string{PathToken, PathRevoke, PathUserinfo}
	// corsExposed are the headers of an answer a page needs to read beyond
	// the CORS-safelisted ones: a resource's challenge, and when a
	// rate-limited caller may come back (the profiles' rate-limit headers).
	corsExposed = []string{"WWW-Authenticate", "Retry-After",
		"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset",
		"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
)

// preflightHeader marks a CORS preflight request (Fetch standard §4.8).
const preflightHeader = "Access-Control-Request-Method"

// corsRoutes answers the preflight requests of the endpoints a page may
// call. They come before the endpoints' own routes, go through no fault and
// record no event: a browser sends them on its own, not the token manager,
// and caches the answer (Access-Control-Max-Age).
func (s *Simulator) corsRoutes(r *mux.Router, c *cors.Cors) {
	bound := s.boundCORS(c)
	for _, p := range slices.Concat(openOrigins, clientBound) {
		h := c
		if slices.Contains(clientBound, p) {
			h = bound
		}
		r.Methods(http.MethodOptions).Path(p).Headers(preflightHeader, "").Handler(h.Handler(http.NotFoundHandler()))
	}
}

// newCORS is the CORS policy of the provider's endpoints: whether origin
// may read the answer to r is the verdict crossOrigin left in r's context,
// or, for a preflight, which carries no credentials and no body, whether
// any request to the endpoint from origin could be allowed.
func (s *Simulator) newCORS() *cors.Cors {
	return cors.New(s.corsOptions())
}

// boundCORS is the CORS policy of the client-bound endpoints: c, or, where
// the profile says so (profile.Shape.CORSAllowCredentials), the same policy with
// Access-Control-Allow-Credentials: true. rs/cors then still echoes the
// one allowed origin, never "*", as the Fetch standard requires of an
// answer to a request with credentials (§3.2.5, CORS check).
//
// Keycloak answers an origin among a client's Web Origins with the origin
// and Access-Control-Allow-Credentials: true (keycloak.org/docs/latest/
// server_admin, "Basic configuration": Web Origins "handles Cross-Origin
// Resource Sharing (CORS)"; github.com/keycloak/keycloak
// services/src/main/java/org/keycloak/services/cors/DefaultCors.java sets
// the header to its auth flag, which the token, revocation and userinfo
// endpoints set: Cors.add(request).auth() in TokenEndpoint,
// TokenRevocationEndpoint and UserInfoEndpoint), and
// keycloak-js depends on it: it sends its token requests with credentials:
// 'include' (lib/keycloak.js, fetchAccessToken and fetchRefreshToken). The
// open endpoints are left as they are.
func (s *Simulator) boundCORS(c *cors.Cors) *cors.Cors {
	if !s.cfg.profile.Shape.CORSAllowCredentials {
		return c
	}
	o := s.corsOptions()
	o.AllowCredentials = true
	return cors.New(o)
}

// corsOptions are the options of the CORS policy newCORS makes.
func (s *Simulator) corsOptions() cors.Options {
	return cors.Options{
		AllowOriginVaryRequestFunc: func(r *http.Request, origin string) (bool, []string) {
			if r.Method == http.MethodOptions && r.Header.Get(preflightHeader) != "" {
				return s.mayPreflight(r.URL.Path, origin), nil
			}
			return corsRefusal(r.Context()) == "", nil
		},
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: s.corsRequestHeaders(),
		ExposedHeaders: corsExposed,
		MaxAge:         600,
	}
}

// mayPreflight reports whether a page at origin may send requests to the
// endpoint at path: any page for the open endpoints, else a page at an
// origin some single-page application allows.
func (s *Simulator) mayPreflight(path, origin string) bool {
	if slices.Contains(openOrigins, path) || (path == PathToken && s.cfg.profile.SPARedemptionByOrigin) {
		return true
	}
	return slices.ContainsFunc(s.current().clients.list(), func(c Client) bool {
		return c.Platform == PlatformSPA && slices.Contains(c.AllowedOrigins, origin)
	})
}

type corsRefusalKey struct{}

// corsRefusal is why the answer to the request whose context ctx is allows
// no origin; "" when it allows the request's, or the request sent none.
func corsRefusal(ctx context.Context) string {
	why, _ := ctx.Value(corsRefusalKey{}).(string)
	return why
}

// crossOrigin serves the cross-origin requests to the endpoint next with
// the CORS headers c decides on, after deciding whether the request's
// origin is allowed; requests without an Origin header go to next alone.
func (s *Simulator) crossOrigin(c *cors.Cors, next http.Handler) http.Handler {
	withCORS, withBound := c.Handler(next), s.boundCORS(c).Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		if why := s.originVerdict(r, origin); why != "" {
			r = r.WithContext(context.WithValue(r.Context(), corsRefusalKey{}, why))
		}
		if slices.Contains(clientBound, r.URL.Path) {
			withBound.ServeHTTP(w, r)
			return
		}
		withCORS.ServeHTTP(w, r)
	})
}

// originVerdict says why the answer to r may not be read by a page at
// origin; "" when it may.
func (s *Simulator) originVerdict(r *http.Request, origin string) string {
	path := r.URL.Path
	if !slices.Contains(clientBound, path) || (path == PathToken && s.cfg.profile.SPARedemptionByOrigin) {
		return ""
	}
	id := s.callerClient(r)
	if id == "" {
		return "the request names no client, whose allowed origins decide"
	}
	c, ok := s.within(r.Context()).clients.get(id)
	switch {
	case !ok:
		return fmt.Sprintf("no client %q is registered", id)
	case c.Platform != PlatformSPA:
		return fmt.Sprintf("client %q is of platform %s: only a single-page application (platform spa) is answered across origins", id, c.Platform)
	case !slices.Contains(c.AllowedOrigins, origin):
		return fmt.Sprintf("origin %s is not one of client %q's allowed origins (%s)", origin, id, strings.Join(c.AllowedOrigins, ", "))
	}
	return ""
}

// callerClient is the client a request to a client-bound endpoint is for:
// the one its HTTP Basic credentials or its client_id name, or, at
// userinfo, the one its access token was issued to.
func (s *Simulator) callerClient(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(id)
		return id
	}
	if r.URL.Path == PathUserinfo {
		if token := bearerToken(r); token != "" {
			info, _ := s.within(r.Context()).store.Token(s.tokens.signature(token))
			return info.Client
		}
	}
	return peekForm(r).Get("client_id")
}

// shownOrigin is a request's Origin header as a response template may
// show it: an origin, or "null" for anything else, so that it can stand in
// a JSON string.
func shownOrigin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" && originOf(o) == o {
		return o
	}
	return "null"
}

// originRefusal is a token request refused for its Origin header, in the
// situation the profile may have its own answer for.
type originRefusal struct {
	situation profile.Situation
	error
}

func (e originRefusal) Unwrap() error { return e.error }

// redemptionOrigin holds a token request of grant in world wd to the
// profile's SPARedemptionByOrigin: a single-page application redeems its
// codes and refresh tokens from a page, with an Origin header, and only a
// single-page application redeems anything from a page. Entra enforces
// both (AADSTS9002326, AADSTS9002327): a server that redeems a single-page
// application's refresh token, and a web app's page that calls the token
// endpoint itself, both fail at once rather than by a CORS error alone.
// A request whose client is not registered is left for fosite to refuse.
func (s *Simulator) redemptionOrigin(wd *world, r *http.Request, grant string) error {
	if !s.cfg.profile.SPARedemptionByOrigin {
		return nil
	}
	id := r.PostForm.Get("client_id")
	if user, _, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(user)
	}
	c, ok := wd.clients.get(id)
	if !ok {
		return nil
	}
	origin := r.Header.Get("Origin")
	switch {
	case origin != "" && c.Platform != PlatformSPA:
		return originRefusal{profile.SituationCrossOriginRedemption, fosite.ErrInvalidRequest.WithHintf(
			"Cross-origin token redemption is permitted only for a single-page application (platform spa); client %q is of platform %s, and the request came from origin %s.", id, c.Platform, origin)}
	case origin == "" && c.Platform == PlatformSPA && (grant == "authorization_code" || grant == "refresh_token"):
		return originRefusal{profile.SituationSPARedemptionWithoutOrigin, fosite.ErrInvalidRequest.WithHintf(
			"The codes and refresh tokens of client %q, a single-page application (platform spa), may be redeemed only from a browser page, with an Origin header; this request sent none.", id)}
	}
	return nil
}
