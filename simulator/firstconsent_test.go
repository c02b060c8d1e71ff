package simulator_test

import (
	"net/http"
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// signIn completes the authorization code flow for demo as alice, asking
// for offline access as Google has it, with the extra authorization
// parameters given.
func (h *harness) signIn(extra ...string) tokens {
	GinkgoHelper()
	verifier, challenge := pkce()
	code := codeFrom(h.get(authorizeURL("demo", "openid api", challenge, append([]string{"login_hint", "alice", "access_type", "offline"}, extra...)...)))
	r := h.postForm(simulator.PathToken, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {simulator.DemoRedirectURI}, "code_verifier": {verifier},
	}, "demo", "demo-secret")
	Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
	return decodeTokens(r)
}

var _ = Describe("Refresh tokens on first consent only (google)", func() {
	var h *harness
	BeforeEach(func() { h = profileHarness("google") })

	It("issues one to the first authorization, none to a later one, and keeps the first valid", func() {
		first := h.signIn()
		Expect(first.Refresh).NotTo(BeEmpty())

		seq := h.events()
		second := h.signIn()
		Expect(second.Refresh).To(BeEmpty())
		Expect(second.Access).NotTo(BeEmpty())
		Expect(second.IDToken).NotTo(BeEmpty())
		Expect(h.me(second.Access).status).To(Equal(http.StatusOK))
		Expect(h.refresh(first.Refresh).status).To(Equal(http.StatusOK), "the earlier refresh token stays valid")

		By("logging no refresh token the client was not sent, and saying why")
		Expect(issuedAfter(h.events(), seq[len(seq)-1].Seq)).NotTo(HaveKey("refresh_token"))
		auth := h.lastEvent(events.AuthorizeRequest)
		Expect(auth.Scope).To(Equal("openid api offline_access"), "offline access is granted: the refresh token the user holds carries it")
		Expect(auth.Detail).To(ContainSubstring("first consent only"))
		redeemed := h.eventsOf(events.TokenRequest)[1]
		Expect(redeemed.Token).To(Equal(auth.Token))
		Expect(redeemed.Scope).To(Equal("openid api offline_access"))
		Expect(redeemed.Detail).To(ContainSubstring("no refresh token"))
	})

	It("issues another with prompt=consent, which the earlier one survives", func() {
		first := h.signIn()
		again := h.signIn("prompt", "consent")
		Expect(again.Refresh).NotTo(BeEmpty())
		Expect(again.Refresh).NotTo(Equal(first.Refresh))
		Expect(h.refresh(first.Refresh).status).To(Equal(http.StatusOK))
		Expect(h.refresh(again.Refresh).status).To(Equal(http.StatusOK))
	})

	It("issues another once the user's grants to the client were all revoked", func() {
		h.signIn()
		Expect(h.control(http.MethodPost, "/revocations", map[string]any{"user": "alice", "reason": "user"}).status).To(Equal(http.StatusOK))
		Expect(h.signIn().Refresh).NotTo(BeEmpty())
	})

	It("issues another once the earlier refresh token died of six months unused", func() {
		h.signIn()
		h.advance("183d")
		Expect(h.signIn().Refresh).NotTo(BeEmpty())
	})

	It("issues another when the user was marked as having to consent again", func() {
		h.signIn()
		Expect(h.control(http.MethodPost, "/consents", map[string]any{"user": "alice", "client_id": "demo", "require": true}).status).To(Equal(http.StatusOK))
		Expect(h.signIn().Refresh).NotTo(BeEmpty())
	})

	It("counts a code not yet redeemed as the first consent", func() {
		_, challenge := pkce()
		codeFrom(h.get(authorizeURL("demo", "openid api", challenge, "login_hint", "alice", "access_type", "offline")))
		Expect(h.signIn().Refresh).To(BeEmpty())
	})

	It("applies to grants minted through the control API, which may ask prompt=consent", func() {
		req := map[string]any{"client_id": "demo", "user": "alice", "scope": "openid api", "access_type": "offline"}
		Expect(h.grant(req).Refresh).NotTo(BeEmpty())
		Expect(h.grant(req).Refresh).To(BeEmpty())
		Expect(h.lastEvent(events.GrantMinted).Detail).To(ContainSubstring("first consent only"))
		req["prompt"] = "consent"
		Expect(h.grant(req).Refresh).NotTo(BeEmpty())
	})

	It("is google's alone: the generic profile issues one to every authorization with offline access", func() {
		g := newHarness()
		Expect(g.mint("demo", "alice", "offline_access").Refresh).NotTo(BeEmpty())
		Expect(g.mint("demo", "alice", "offline_access").Refresh).NotTo(BeEmpty())
	})
})
