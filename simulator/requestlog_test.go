package simulator_test

import (
	"net/http"
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
)

var _ = Describe("The events of an authorization", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	DescribeTable("tell the PKCE method the request used and whether it sent a nonce",
		func(extra []string, pkce string, nonce bool) {
			q := url.Values{"response_type": {"code"}, "client_id": {"demo"}, "redirect_uri": {simulator.DemoRedirectURI},
				"scope": {"openid"}, "state": {"state-12345678"}, "login_hint": {"alice"}}
			for i := 0; i+1 < len(extra); i += 2 {
				q.Set(extra[i], extra[i+1])
			}
			Expect(h.get(simulator.PathAuthorize + "?" + q.Encode()).status).To(Equal(http.StatusSeeOther))
			e := h.lastEvent(events.AuthorizeRequest)
			Expect(e.PKCE).To(Equal(pkce))
			Expect(e.NonceSent).To(Equal(nonce))
		},
		Entry("S256 with a nonce", []string{"code_challenge", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "code_challenge_method", "S256", "nonce", "n-1"}, "S256", true),
		Entry("plain, refused by the provider, is still logged", []string{"code_challenge", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "code_challenge_method", "plain"}, "plain", false),
		Entry("a challenge without a method is plain (RFC 7636 §4.3)", []string{"code_challenge", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}, "plain", false),
		Entry("no challenge, an empty nonce", []string{"nonce", ""}, "none", false),
	)

	It("name the code issued, as its token_issued and the token request that redeems it do", func() {
		verifier, challenge := pkce()
		code := codeFrom(h.get(authorizeURL("demo", "openid offline_access", challenge, "login_hint", "alice")))
		r := h.postForm(simulator.PathToken, url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {simulator.DemoRedirectURI}, "code_verifier": {verifier},
		}, "demo", "demo-secret")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)

		auth := h.lastEvent(events.AuthorizeRequest)
		Expect(auth.Token).To(HavePrefix("ac_"))
		Expect(auth.TokenType).To(Equal("authorize_code"))
		Expect(auth.Scope).To(Equal("openid offline_access"))
		var issued []string
		for _, e := range h.eventsOf(events.TokenIssued) {
			if e.TokenType == "authorize_code" {
				issued = append(issued, e.Token)
			}
		}
		Expect(issued).To(Equal([]string{auth.Token}))
		redeemed := h.lastEvent(events.TokenRequest)
		Expect(redeemed.GrantType).To(Equal("authorization_code"))
		Expect(redeemed.Token).To(Equal(auth.Token))
		Expect(redeemed.Scope).To(Equal("openid offline_access"))
		Expect(redeemed.RequestedScope).To(BeNil(), "only refresh and client credentials requests log it")
	})

	It("name offline access offline_access however the client asked for it", func() {
		c := h.control(http.MethodPut, "/clients/demo", map[string]any{
			"client_id": "demo", "client_secret": "demo-secret", "redirect_uris": []string{simulator.DemoRedirectURI},
			"grant_types": []string{"authorization_code", "refresh_token"}, "scopes": []string{"openid", "offline"},
		})
		Expect(c.status).To(Equal(http.StatusOK), "%s", c.body)
		_, challenge := pkce()
		codeFrom(h.get(authorizeURL("demo", "openid offline", challenge, "login_hint", "alice")))
		Expect(h.lastEvent(events.AuthorizeRequest).Scope).To(Equal("openid offline_access"))
	})
})
