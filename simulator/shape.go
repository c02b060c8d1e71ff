package simulator

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// The profile's shape (profile.Shape): where the endpoints answer and how
// the issuer is spelled, for SDKs that build a provider's URLs themselves
// instead of reading discovery, as Auth0's do.

// auth0Paths are the paths of Auth0's Authentication API
// (auth0.com/docs/api/authentication: "Base URL ... https://{yourDomain}";
// GET /authorize, POST /oauth/token, POST /oauth/revoke, GET /userinfo;
// Auth0's discovery document names https://{yourDomain}/.well-known/jwks.json
// as its jwks_uri), each with the oauthsim endpoint that serves it. Auth0's
// /v2/logout has no counterpart: oauthsim has no end-session endpoint.
// Auth0 has no public introspection endpoint either, so introspection stays
// at oauthsim's own path.
var auth0Paths = map[string]string{
	"/authorize":             PathAuthorize,
	"/oauth/token":           PathToken,
	"/oauth/revoke":          PathRevoke,
	"/userinfo":              PathUserinfo,
	"/.well-known/jwks.json": PathJWKS,
}

// CanonicalPath is the oauthsim path of the endpoint a request to path
// reaches: path itself, or the oauthsim endpoint an Auth0 path stands for
// (served where the profile's shape.paths is auth0). A harness reading a
// browser's network log names endpoints by it.
func CanonicalPath(path string) string {
	if p, ok := auth0Paths[path]; ok {
		return p
	}
	return path
}

// endpointPath is the path the profile's discovery document names for the
// endpoint at oauthsim's path p.
func endpointPath(pr profile.Profile, p string) string {
	if pr.Shape.Paths != profile.PathsAuth0 {
		return p
	}
	for auth0, ours := range auth0Paths {
		if ours == p {
			return auth0
		}
	}
	return p
}

type requestPathKey struct{}

// requestPath is the path r was sent to, as its events tell it: an Auth0
// path stays one, though the request is routed by oauthsim's path.
func requestPath(r *http.Request) string {
	if p, ok := r.Context().Value(requestPathKey{}).(string); ok {
		return p
	}
	return r.URL.Path
}

// shapePaths routes a request to one of the profile's own paths to the
// oauthsim endpoint it stands for, so that faults, CORS and events treat it
// as that endpoint; oauthsim's own paths keep answering.
func (s *Simulator) shapePaths(next http.Handler) http.Handler {
	if s.cfg.profile.Shape.Paths != profile.PathsAuth0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		canon, ok := auth0Paths[r.URL.Path]
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), requestPathKey{}, r.URL.Path))
		u := *r.URL
		u.Path, u.RawPath = canon, ""
		r.URL = &u
		next.ServeHTTP(w, r)
	})
}

// shapeIssuer is the issuer of a provider at base URL: with the profile's
// shape.issuer_trailing_slash, ending in a slash, as Auth0's
// "https://{yourDomain}/" does.
func (s *Simulator) shapeIssuer(base string) string {
	if s.cfg.profile.Shape.IssuerTrailingSlash && base != "" && !strings.HasSuffix(base, "/") {
		return base + "/"
	}
	return base
}

// responseModes are the response modes discovery lists: query, and
// web_message where the profile's shape accepts it. oauthsim's discovery
// lists the modes it serves: a tenant's own discovery document at Auth0 lists
// query, fragment and form_post, and leaves out the web_message it serves to
// its SDKs (unconfirmed by Auth0's documentation; seen in tenants' published
// documents).
func (s *Simulator) responseModes() []string {
	modes := []string{"query"}
	if s.cfg.profile.Shape.WebMessage {
		modes = append(modes, string(responseModeWebMessage))
	}
	return modes
}

// corsRequestHeaders are the request headers a page may send across
// origins: Authorization, Content-Type and the profile's own.
func (s *Simulator) corsRequestHeaders() []string {
	return slices.Concat([]string{"Authorization", "Content-Type"}, s.cfg.profile.Shape.CORSRequestHeaders)
}

// responseModeWebMessage is the web message response mode (OAuth 2.0 Web
// Message Response Mode, draft-sakimura-oauth-wmrm and
// draft-meyerzuselha-oauth-web-message-response-mode): the authorization
// response goes to the client's window by postMessage instead of a redirect.
const responseModeWebMessage fosite.ResponseModeType = "web_message"

// webMessage is fosite's handler of response_mode=web_message, set where
// the profile's shape accepts it. The answer is an HTML page that posts
// {type: "authorization_response", response: {...}} to the window that
// opened it (a popup) or else framed it (a hidden iframe), with the redirect
// URI's origin as the target origin, never "*": only the client's own page
// may read the code. The parameters are those a redirect would carry: code
// and state, or error, error_description and state.
type webMessage struct{}

func (webMessage) ResponseModes() fosite.ResponseModeTypes {
	return fosite.ResponseModeTypes{responseModeWebMessage}
}

func (webMessage) WriteAuthorizeResponse(_ context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder) {
	writeWebMessage(w, ar, resp.GetParameters())
}

func (webMessage) WriteAuthorizeError(_ context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, err error) {
	rfc := fosite.ErrorToRFC6749Error(err)
	if !ar.IsRedirectURIValid() {
		// No origin to post to: the error goes to the browser itself, as
		// fosite answers a request whose redirect URI it cannot trust.
		writeJSONError(w, rfc.CodeField, rfc.ErrorField, rfc.GetDescription())
		return
	}
	params := url.Values{"error": {rfc.ErrorField}, "error_description": {rfc.GetDescription()}}
	if st := ar.GetState(); st != "" && st != absentState {
		params.Set("state", st)
	}
	writeWebMessage(w, ar, params)
}

var webMessagePage = template.Must(template.New("web_message").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oauthsim — authorization response</title></head>
<body><script>
(function () {
  var target = window.opener || window.parent;
  target.postMessage({type: "authorization_response", response: {{.Response}}}, {{.Origin}});
})();
</script></body></html>
`))

// writeWebMessage answers with the page that posts params to the redirect
// URI's origin.
func writeWebMessage(w http.ResponseWriter, ar fosite.AuthorizeRequester, params url.Values) {
	response := map[string]string{}
	for k := range params {
		response[k] = params.Get(k)
	}
	raw, _ := json.Marshal(response)
	origin := originOf(ar.GetRedirectURI().String())
	if origin == "" {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "response_mode=web_message posts to the redirect URI's origin, and this redirect URI has no http(s) origin")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_ = webMessagePage.Execute(w, map[string]any{
		"Response": template.JS(raw),
		"Origin":   origin,
	})
}
