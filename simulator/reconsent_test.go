package simulator_test

import (
	"net/http"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// authorizePublic runs /oauth2/authorize for demo-public as alice with the
// extra parameters given and returns the redirect.
func (h *harness) authorizePublic(scope, challenge string, extra ...string) reply {
	GinkgoHelper()
	return h.get(authorizeURL("demo-public", scope, challenge, append([]string{"login_hint", "alice"}, extra...)...))
}

// signInPublic completes the authorization code flow for demo-public as
// alice with the extra authorization parameters given.
func (h *harness) signInPublic(scope string, extra ...string) tokens {
	GinkgoHelper()
	verifier, challenge := pkce()
	code := codeFrom(h.authorizePublic(scope, challenge, extra...))
	r := h.postForm(simulator.PathToken, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {simulator.DemoRedirectURI},
		"client_id": {"demo-public"}, "code_verifier": {verifier},
	}, "", "")
	Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
	return decodeTokens(r)
}

func (h *harness) refreshPublic(rt string) reply {
	GinkgoHelper()
	return h.postForm(simulator.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"demo-public"}}, "", "")
}

// grant mints through the control API with a body of any shape.
func (h *harness) grant(body map[string]any) tokens {
	GinkgoHelper()
	r := h.control(http.MethodPost, "/grants", body)
	Expect(r.status).To(Equal(http.StatusCreated), "%s", r.body)
	return decodeTokens(r)
}

// revocations maps each revoked family to the reason it was revoked for.
func (h *harness) revocations() map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	for _, e := range h.eventsOf(events.FamilyRevoked) {
		out[e.Family] = e.Reason
	}
	return out
}

var _ = Describe("A new authorization of the same user and client", func() {
	reconsent := func(mode profile.Reconsent) simulator.Option {
		return withRefresh(func(r *profile.Refresh) { r.OnReconsent = mode })
	}

	It("keeps the earlier grants by default, as Google does", func() {
		h := newHarness()
		first := h.mint("demo", "alice", "offline_access")
		second := h.mint("demo", "alice", "offline_access")
		Expect(first.Family).NotTo(Equal(second.Family))
		Expect(h.refresh(first.Refresh).status).To(Equal(http.StatusOK))
		Expect(h.refresh(second.Refresh).status).To(Equal(http.StatusOK))
		Expect(h.revocations()).To(BeEmpty())
	})

	It("revokes the user's earlier grants to that client, and no others, when the profile says revoke", func() {
		h := newHarness(reconsent(profile.ReconsentRevoke))
		first := h.mint("demo", "alice", "offline_access")
		bob := h.mint("demo", "bob", "offline_access")
		other := h.mint("demo-public", "alice", "offline_access")
		second := h.mint("demo", "alice", "offline_access")
		expectInvalidGrant(h.refresh(first.Refresh))
		Expect(h.me(first.Access).status).To(Equal(http.StatusUnauthorized))
		Expect(h.refresh(second.Refresh).status).To(Equal(http.StatusOK))
		Expect(h.refresh(bob.Refresh).status).To(Equal(http.StatusOK))
		Expect(h.refreshPublic(other.Refresh).status).To(Equal(http.StatusOK))
		Expect(h.revocations()).To(Equal(map[string]string{first.Family: "reconsent"}))
	})

	It("revokes at /oauth2/authorize when the user consents, but not on a prompt=none authorization", func() {
		h := newHarness(reconsent(profile.ReconsentRevoke))
		first := h.signInPublic("openid offline_access")
		_, challenge := pkce()
		codeFrom(h.authorizePublic("openid offline_access", challenge, "prompt", "none"))
		Expect(h.refreshPublic(first.Refresh).status).To(Equal(http.StatusOK), "prompt=none asks no consent")
		Expect(h.revocations()).To(BeEmpty())

		By("consenting: revoked at once, before the new code is redeemed")
		codeFrom(h.authorizePublic("openid offline_access", challenge))
		expectInvalidGrant(h.refreshPublic(first.Refresh))
		var reasons []string
		for _, reason := range h.revocations() {
			reasons = append(reasons, reason)
		}
		Expect(reasons).To(Equal([]string{"reconsent", "reconsent"}), "the first grant, and the prompt=none one whose code was never redeemed")
	})

	DescribeTable("follows invalidate_previous on /sim/v1/grants over the profile",
		func(mode profile.Reconsent, invalidate bool) {
			h := newHarness(reconsent(mode))
			first := h.mint("demo", "alice", "offline_access")
			h.grant(map[string]any{"client_id": "demo", "user": "alice", "scope": "offline_access", "invalidate_previous": invalidate})
			if invalidate {
				expectInvalidGrant(h.refresh(first.Refresh))
			} else {
				Expect(h.refresh(first.Refresh).status).To(Equal(http.StatusOK))
			}
		},
		Entry("true over keep", profile.ReconsentKeep, true),
		Entry("false over revoke", profile.ReconsentRevoke, false),
	)
})

var _ = Describe("include_granted_scopes", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	scopes := func(t tokens) []string { return strings.Fields(t.Scope) }

	It("unions a grant minted over the control API with the user's live grants to the client", func() {
		h.mint("demo", "alice", "openid profile offline_access")
		h.mint("demo", "bob", "api offline_access")
		t := h.grant(map[string]any{"client_id": "demo", "user": "alice", "scope": "api offline_access", "include_granted_scopes": true})
		Expect(scopes(t)).To(ConsistOf("api", "offline_access", "openid", "profile"))
		Expect(t.IDToken).NotTo(BeEmpty(), "openid came with the union")
		Expect(h.me(t.Access).json()["scope"]).To(Equal(t.Scope))
		Expect(h.lastEvent(events.GrantMinted).Detail).To(Equal("scope api offline_access; include_granted_scopes added openid profile"))
		next := decodeTokens(h.refresh(t.Refresh))
		Expect(scopes(next)).To(ConsistOf("api", "offline_access", "openid", "profile"), "the refresh token carries the union")

		By("granting only what is asked without it")
		Expect(scopes(h.mint("demo", "alice", "api"))).To(ConsistOf("api"))
	})

	It("unions at /oauth2/authorize too, and says so in the event", func() {
		h.signInPublic("openid profile")
		t := h.signInPublic("api offline_access", "include_granted_scopes", "true")
		Expect(scopes(t)).To(ConsistOf("api", "offline_access", "openid", "profile"))
		var authorize events.Event
		for _, e := range h.eventsOf(events.AuthorizeRequest) {
			authorize = e
		}
		Expect(authorize.Detail).To(Equal("include_granted_scopes added openid profile"))
	})

	It("leaves out revoked grants, offline access, and scopes the client may no longer have", func() {
		revoked := h.mint("demo", "alice", "api")
		Expect(h.control(http.MethodPost, "/revocations", map[string]any{"family": revoked.Family}).status).To(Equal(http.StatusOK))
		h.mint("demo", "alice", "openid profile offline_access")
		Expect(h.control(http.MethodPut, "/clients/demo", map[string]any{
			"client_secret": "demo-secret", "redirect_uris": []string{simulator.DemoRedirectURI},
			"grant_types": []string{"authorization_code", "refresh_token"}, "scopes": []string{"openid", "offline_access", "api"},
		}).status).To(Equal(http.StatusOK))
		t := h.grant(map[string]any{"client_id": "demo", "user": "alice", "scope": "openid", "include_granted_scopes": true})
		Expect(scopes(t)).To(ConsistOf("openid"))
		Expect(t.Refresh).To(BeEmpty(), "offline access is asked for anew")
	})

	DescribeTable("refuses bad grant bodies",
		func(body map[string]any, message string) {
			r := h.control(http.MethodPost, "/grants", body)
			Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
			Expect(r.str("error_description")).To(ContainSubstring(message))
		},
		Entry("a string for invalidate_previous", map[string]any{"client_id": "demo", "user": "alice", "invalidate_previous": "yes"}, "invalid JSON"),
		Entry("a number for include_granted_scopes", map[string]any{"client_id": "demo", "user": "alice", "include_granted_scopes": 1}, "invalid JSON"),
		Entry("a misspelt field", map[string]any{"client_id": "demo", "user": "alice", "include_granted_scope": true}, "unknown field"),
	)
})
