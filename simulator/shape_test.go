package simulator_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// shapeHarness is a simulator with the built-in profile name and spaClient.
func shapeHarness(name string) *harness {
	GinkgoHelper()
	p, err := profile.Builtin(name)
	Expect(err).NotTo(HaveOccurred())
	return newHarness(simulator.WithProfile(p), simulator.WithClients(spaClient))
}

// signInAt signs alice in on the login page at path for spaClient, and
// returns the code, the PKCE verifier and the session cookie's value.
func (h *harness) signInAt(path string) (code, verifier, cookie string) {
	GinkgoHelper()
	verifier, challenge := pkce()
	form := spaAuthorize("code_challenge", challenge)
	form.Set("user", "alice")
	r := h.postForm(path, form, "", "")
	q := spaRedirect(r)
	Expect(q.Get("state")).To(Equal("state-12345678"))
	return q.Get("code"), verifier, sessionCookie(r).Value
}

// postMessageCall is the call a web_message page makes:
// postMessage({type: ..., response: {...}}, "origin").
var postMessageCall = regexp.MustCompile(`postMessage\(\{type: "authorization_response", response: (\{[^}]*\})\}, "([^"]*)"\)`)

// postMessageOf reads the response and the target origin out of a
// web_message page.
func postMessageOf(r reply) (response map[string]any, target string) {
	GinkgoHelper()
	Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
	Expect(r.header.Get("Content-Type")).To(HavePrefix("text/html"))
	Expect(r.header.Get("Cache-Control")).To(Equal("no-store"))
	m := postMessageCall.FindSubmatch(r.body)
	Expect(m).NotTo(BeNil(), "no postMessage of an authorization_response in %s", r.body)
	Expect(string(r.body)).To(ContainSubstring("window.opener || window.parent"))
	return reply{body: m[1]}.json(), strings.ReplaceAll(string(m[2]), `\/`, `/`)
}

var _ = Describe("The auth0 profile's shape", func() {
	It("serves the endpoints at Auth0's paths, and oauthsim's own still", func() {
		h := shapeHarness("auth0")
		code, verifier, _ := h.signInAt("/authorize")
		r := h.postForm("/oauth/token", url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appOrigin + "/callback"},
			"client_id": {"spa"}, "code_verifier": {verifier},
		}, "", "")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		t := decodeTokens(r)

		Expect(h.get("/userinfo", "Authorization", "Bearer "+t.Access).str("sub")).To(Equal("alice"))
		Expect(h.get("/.well-known/jwks.json").json()).To(HaveKey("keys"))
		rotated := h.postForm("/oauth/token", refreshForm("spa", t.Refresh), "", "")
		Expect(rotated.status).To(Equal(http.StatusOK), "%s", rotated.body)
		Expect(h.postForm(simulator.PathToken, refreshForm("spa", decodeTokens(rotated).Refresh), "", "").status).To(Equal(http.StatusOK))
		Expect(h.postForm("/oauth/revoke", url.Values{"token": {t.Access}, "client_id": {"spa"}}, "", "").status).To(Equal(http.StatusOK))

		var paths []string
		for _, e := range h.events() {
			if strings.HasSuffix(string(e.Kind), "_request") {
				paths = append(paths, e.Endpoint)
			}
		}
		Expect(paths).To(Equal([]string{"/authorize", "/oauth/token", "/userinfo", "/oauth/token", simulator.PathToken, "/oauth/revoke"}),
			"events keep the path each request was sent to")
	})

	It("has faults and CORS treat Auth0's paths as the endpoints they stand for", func() {
		h := shapeHarness("auth0")
		r := h.control(http.MethodPost, "/faults", map[string]any{"kind": "error", "status": 503, "match": map[string]any{"endpoint": "token"}})
		Expect(r.status).To(Equal(http.StatusCreated), "%s", r.body)
		t := h.mint("spa", "alice", "openid offline_access api")
		out := h.crossOrigin(http.MethodPost, "/oauth/token", appOrigin, refreshForm("spa", t.Refresh), "")
		Expect(out.status).To(Equal(http.StatusServiceUnavailable), "%s", out.body)
		Expect(out.header.Get("Access-Control-Allow-Origin")).To(Equal(appOrigin))
		Expect(h.crossOrigin(http.MethodPost, "/oauth/token", otherOrigin, refreshForm("spa", t.Refresh), "").header.Get("Access-Control-Allow-Origin")).To(BeEmpty())
	})

	It("answers 404 at Auth0's paths at every other profile", func() {
		h := shapeHarness("okta")
		Expect(h.get("/authorize?" + spaAuthorize().Encode()).status).To(Equal(http.StatusNotFound))
		Expect(h.postForm("/oauth/token", url.Values{"grant_type": {"refresh_token"}}, "", "").status).To(Equal(http.StatusNotFound))
		Expect(h.get("/.well-known/jwks.json").status).To(Equal(http.StatusNotFound))
	})

	It("names Auth0's paths in discovery, under an issuer with a trailing slash, and lists web_message", func() {
		h := shapeHarness("auth0")
		for _, doc := range []string{simulator.PathOIDCDiscovery, simulator.PathASMetadata} {
			m := h.get(doc).json()
			Expect(m).To(HaveKeyWithValue("issuer", h.srv.URL+"/"))
			Expect(m).To(HaveKeyWithValue("authorization_endpoint", h.srv.URL+"/authorize"))
			Expect(m).To(HaveKeyWithValue("token_endpoint", h.srv.URL+"/oauth/token"))
			Expect(m).To(HaveKeyWithValue("revocation_endpoint", h.srv.URL+"/oauth/revoke"))
			Expect(m).To(HaveKeyWithValue("userinfo_endpoint", h.srv.URL+"/userinfo"))
			Expect(m).To(HaveKeyWithValue("jwks_uri", h.srv.URL+"/.well-known/jwks.json"))
			Expect(m).To(HaveKeyWithValue("introspection_endpoint", h.srv.URL+simulator.PathIntrospect), "Auth0 has no introspection endpoint of its own")
			Expect(m).To(HaveKeyWithValue("response_modes_supported", []any{"query", "web_message"}))
		}
	})

	It("leaves discovery as it was at every other profile", func() {
		m := shapeHarness("generic").get(simulator.PathOIDCDiscovery).json()
		Expect(m["issuer"]).NotTo(HaveSuffix("/"))
		Expect(m).To(HaveKeyWithValue("token_endpoint", m["issuer"].(string)+simulator.PathToken))
		Expect(m).To(HaveKeyWithValue("response_modes_supported", []any{"query"}))
	})

	It("signs ID tokens with the issuer discovery names, trailing slash and all, at both paths", func() {
		h := shapeHarness("auth0")
		code, verifier, _ := h.signInAt(simulator.PathAuthorize)
		r := h.postForm(simulator.PathToken, url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appOrigin + "/callback"},
			"client_id": {"spa"}, "code_verifier": {verifier},
		}, "", "")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		Expect(verifyIDToken(h, decodeTokens(r).IDToken).Issuer).To(Equal(h.srv.URL + "/"))
		minted := h.mint("spa", "alice", "openid offline_access api")
		Expect(verifyIDToken(h, minted.IDToken).Issuer).To(Equal(h.srv.URL + "/"))
		Expect(h.introspect(h.mint("demo", "alice", "openid api").Access)).To(HaveKeyWithValue("iss", h.srv.URL+"/"))

		Expect(verifyIDToken(h, shapeHarness("generic").mint("spa", "alice", "openid").IDToken).Issuer).NotTo(HaveSuffix("/"))
	})

	It("lets a page send Auth0-Client with its token requests, at Auth0's profile only", func() {
		h := shapeHarness("auth0")
		for _, path := range []string{"/oauth/token", simulator.PathToken, "/oauth/revoke"} {
			r := h.preflight(path, appOrigin, http.MethodPost, "auth0-client,content-type")
			Expect(r.header.Get("Access-Control-Allow-Origin")).To(Equal(appOrigin), path)
			Expect(strings.ToLower(r.header.Get("Access-Control-Allow-Headers"))).To(ContainSubstring("auth0-client"), path)
		}
		r := shapeHarness("okta").preflight(simulator.PathToken, appOrigin, http.MethodPost, "auth0-client,content-type")
		Expect(r.header.Get("Access-Control-Allow-Origin")).To(BeEmpty(), "a header the profile does not allow fails the preflight")
	})

	Describe("response_mode=web_message", func() {
		It("posts the code and state to the redirect URI's origin from the silent iframe", func() {
			h := shapeHarness("auth0")
			_, _, cookie := h.signInAt("/authorize")
			verifier, challenge := pkce()
			response, target := postMessageOf(h.authorizeWith(spaAuthorize("prompt", "none", "response_mode", "web_message", "code_challenge", challenge), cookie))
			Expect(target).To(Equal(appOrigin), "never *")
			Expect(response).To(HaveKeyWithValue("state", "state-12345678"))
			Expect(response).To(HaveKey("code"))
			Expect(response).NotTo(HaveKey("error"))

			r := h.postForm("/oauth/token", url.Values{
				"grant_type": {"authorization_code"}, "code": {response["code"].(string)}, "redirect_uri": {appOrigin + "/callback"},
				"client_id": {"spa"}, "code_verifier": {verifier},
			}, "", "")
			Expect(r.status).To(Equal(http.StatusOK), "the posted code is redeemed: %s", r.body)

			var last events.Event
			for _, e := range h.events() {
				if e.Kind == events.AuthorizeRequest {
					last = e
				}
			}
			Expect(last.Status).To(Equal(http.StatusOK))
			Expect(last.Outcome).To(Equal(events.OutcomeOK))
		})

		It("posts login_required with the state when no session cookie comes", func() {
			h := shapeHarness("auth0")
			response, target := postMessageOf(h.authorizeWith(spaAuthorize("prompt", "none", "response_mode", "web_message"), ""))
			Expect(target).To(Equal(appOrigin))
			Expect(response).To(HaveKeyWithValue("error", "login_required"))
			Expect(response).To(HaveKeyWithValue("state", "state-12345678"))
			Expect(response["error_description"]).To(ContainSubstring("No session cookie was sent"))
			Expect(response).NotTo(HaveKey("code"))
		})

		It("posts nothing for a redirect URI the client does not have", func() {
			h := shapeHarness("auth0")
			q := spaAuthorize("prompt", "none", "response_mode", "web_message", "redirect_uri", otherOrigin+"/callback")
			r := h.authorizeWith(q, "")
			Expect(r.status).To(Equal(http.StatusBadRequest))
			Expect(string(r.body)).NotTo(ContainSubstring("postMessage"))
		})

		It("is refused at every other profile", func() {
			h := shapeHarness("okta")
			r := h.authorizeWith(spaAuthorize("prompt", "none", "response_mode", "web_message"), "")
			Expect(string(r.body)).NotTo(ContainSubstring("postMessage"))
			Expect(r.status).To(Equal(http.StatusBadRequest))
			Expect(r.str("error")).To(Equal("unsupported_response_mode"))
		})
	})

	It("names the endpoint an Auth0 path stands for", func() {
		Expect(simulator.CanonicalPath("/oauth/token")).To(Equal(simulator.PathToken))
		Expect(simulator.CanonicalPath("/authorize")).To(Equal(simulator.PathAuthorize))
		Expect(simulator.CanonicalPath(simulator.PathToken)).To(Equal(simulator.PathToken))
		Expect(simulator.CanonicalPath("/api/me")).To(Equal("/api/me"))
	})
})
