package simulator_test

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
)

// expectOAuthError checks an RFC 6749 §5.2 error response.
func expectOAuthError(r reply, status int, code string) {
	GinkgoHelper()
	Expect(r.status).To(Equal(status), "%s", r.body)
	Expect(r.header.Get("Content-Type")).To(HavePrefix("application/json"))
	Expect(r.str("error")).To(Equal(code))
}

var _ = Describe("Bad input at the token endpoint", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	raw := func(method, contentType, body string, header ...string) reply {
		GinkgoHelper()
		req, err := http.NewRequest(method, h.srv.URL+simulator.PathToken, strings.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return h.do(req)
	}
	const form = "application/x-www-form-urlencoded"

	DescribeTable("answers RFC 6749 errors with the right status",
		func(method, contentType, body string, status int, code string, header ...string) {
			expectOAuthError(raw(method, contentType, body, header...), status, code)
		},
		Entry("GET", http.MethodGet, "", "", 400, "invalid_request"),
		Entry("an empty body", http.MethodPost, form, "", 400, "invalid_request"),
		Entry("a malformed form", http.MethodPost, form, "grant_type=%zz&refresh_token=%", 400, "invalid_request"),
		Entry("a JSON body", http.MethodPost, "application/json", `{"grant_type":"client_credentials"}`, 400, "invalid_request"),
		Entry("an unsupported grant type", http.MethodPost, form, "grant_type=password&username=a&password=b", 400, "unsupported_grant_type"),
		Entry("an unknown grant type from a known client", http.MethodPost, form, "grant_type=urn:nonsense&client_id=demo&client_secret=demo-secret", 400, "unsupported_grant_type"),
		Entry("a refresh grant with no token", http.MethodPost, form, "grant_type=refresh_token&client_id=demo&client_secret=demo-secret", 400, "invalid_grant"),
		Entry("a garbage refresh token", http.MethodPost, form, "grant_type=refresh_token&refresh_token=abc.def&client_id=demo&client_secret=demo-secret", 400, "invalid_grant"),
		Entry("a code grant with no code", http.MethodPost, form, "grant_type=authorization_code&client_id=demo&client_secret=demo-secret", 400, "invalid_grant"),
		Entry("a wrong secret in the body", http.MethodPost, form, "grant_type=client_credentials&client_id=demo&client_secret=wrong", 401, "invalid_client"),
		Entry("an unknown client", http.MethodPost, form, "grant_type=client_credentials&client_id=nobody&client_secret=x", 401, "invalid_client"),
		Entry("a scope the client may not have", http.MethodPost, form, "grant_type=client_credentials&client_id=demo&client_secret=demo-secret&scope=admin", 400, "invalid_scope"),
		// fosite's answer; RFC 6749 §5.2 would also allow unauthorized_client.
		Entry("a public client asking for client_credentials", http.MethodPost, form, "grant_type=client_credentials&client_id=demo-public", 400, "invalid_grant"),
		Entry("a non-Basic Authorization header", http.MethodPost, form, "grant_type=client_credentials", 401, "invalid_client", "Authorization", "Bearer x"),
		Entry("Basic credentials that are not base64", http.MethodPost, form, "grant_type=client_credentials", 401, "invalid_client", "Authorization", "Basic !!!"),
	)

	It("asks for HTTP Basic again after a failed HTTP Basic authentication (RFC 6749 §5.2)", func() {
		r := h.postForm(simulator.PathToken, url.Values{"grant_type": {"client_credentials"}}, "demo", "wrong")
		expectOAuthError(r, http.StatusUnauthorized, "invalid_client")
		Expect(r.header.Get("WWW-Authenticate")).To(HavePrefix("Basic "))
	})

	It("refuses a client authentication method the client does not allow", func() {
		h.control(http.MethodPut, "/clients/basic-only", map[string]any{
			"client_secret": "s", "grant_types": []string{"client_credentials"}, "token_endpoint_auth_methods": []string{"client_secret_basic"},
		})
		r := h.postForm(simulator.PathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {"basic-only"}, "client_secret": {"s"}}, "", "")
		expectOAuthError(r, http.StatusUnauthorized, "invalid_client")
		Expect(h.postForm(simulator.PathToken, url.Values{"grant_type": {"client_credentials"}}, "basic-only", "s").status).To(Equal(http.StatusOK))
	})

	It("never answers random forms with a 5xx or a body that is not an OAuth error", func() {
		rng := rand.New(rand.NewPCG(7, 11))
		fields := []string{"grant_type", "refresh_token", "code", "client_id", "client_secret", "scope", "redirect_uri", "code_verifier", "%", "\x00"}
		values := []string{"", "refresh_token", "authorization_code", "client_credentials", "demo", "demo-secret", "demo-public",
			"a.b", "%", "\xff\xfe", strings.Repeat("x", 5000), "openid offline_access", "http://127.0.0.1:8765/callback", "null"}
		for i := range 400 {
			var b strings.Builder
			for j := range 1 + rng.IntN(6) {
				if j > 0 {
					b.WriteByte('&')
				}
				b.WriteString(url.QueryEscape(fields[rng.IntN(len(fields))]))
				b.WriteByte('=')
				v := values[rng.IntN(len(values))]
				if rng.IntN(4) == 0 {
					b.WriteString(v) // unescaped, sometimes malformed
				} else {
					b.WriteString(url.QueryEscape(v))
				}
			}
			var header []string
			if rng.IntN(3) == 0 {
				header = []string{"Authorization", []string{"Basic ZGVtbzpkZW1vLXNlY3JldA==", "Basic Og==", "Basic", "Digest x", "Basic ZGVtbw=="}[rng.IntN(5)]}
			}
			r := raw(http.MethodPost, form, b.String(), header...)
			Expect(r.status).To(BeNumerically("<", 500), "request %d %q: %s", i, b.String(), r.body)
			if r.status != http.StatusOK {
				var body map[string]any
				Expect(json.Unmarshal(r.body, &body)).To(Succeed(), "request %d %q: %s", i, b.String(), r.body)
				Expect(body).To(HaveKeyWithValue("error", Not(BeEmpty())))
			}
		}
	})
})

var _ = Describe("Bad input elsewhere", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	It("answers a missing access token with 401 and a Bearer challenge", func() {
		r := h.get(simulator.PathResourceMe)
		Expect(r.status).To(Equal(http.StatusUnauthorized))
		Expect(r.header.Get("WWW-Authenticate")).To(Equal(`Bearer realm="oauthsim"`))
	})

	It("answers a forged access token and a refresh token with invalid_token", func() {
		t := h.mint("demo", "alice", "offline_access")
		for _, tok := range []string{"forged", "abc.def", t.Refresh} {
			r := h.me(tok)
			Expect(r.status).To(Equal(http.StatusUnauthorized))
			Expect(r.header.Get("WWW-Authenticate")).To(ContainSubstring(`error="invalid_token"`))
		}
	})

	It("answers introspection with bad client credentials with 401", func() {
		r := h.postForm(simulator.PathIntrospect, url.Values{"token": {"x"}}, "demo", "wrong")
		Expect(r.status).To(Equal(http.StatusUnauthorized))
		Expect(r.json()).To(HaveKey("error"))
		Expect(h.postForm(simulator.PathIntrospect, url.Values{}, "demo", "demo-secret").status).To(Equal(http.StatusBadRequest))
	})

	It("answers revocation without a token with invalid_request and a bad secret with 401", func() {
		expectOAuthError(h.postForm(simulator.PathRevoke, url.Values{}, "demo", "demo-secret"), 400, "invalid_request")
		expectOAuthError(h.postForm(simulator.PathRevoke, url.Values{"token": {"x"}}, "demo", "wrong"), 401, "invalid_client")
	})

	It("answers a broken authorization request without a redirect", func() {
		r := h.get(simulator.PathAuthorize + "?client_id=nobody&response_type=code")
		Expect(r.status).To(BeNumerically(">=", 400))
		Expect(r.status).To(BeNumerically("<", 500))
		r = h.get(simulator.PathAuthorize + "?client_id=demo&response_type=code&redirect_uri=http://evil.test/")
		Expect(r.status).To(BeNumerically(">=", 400))
		Expect(r.status).To(BeNumerically("<", 500))
		Expect(r.header.Get("Location")).To(BeEmpty())
	})
})
