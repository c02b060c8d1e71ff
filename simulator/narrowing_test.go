package simulator_test

import (
	"net/http"
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// refreshScope refreshes as demo with a scope parameter.
func (h *harness) refreshScope(rt, scope string) reply {
	GinkgoHelper()
	return h.postForm(simulator.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {scope}}, "demo", "demo-secret")
}

// issuedAfter lists the token_issued events logged after seq, by token type.
func issuedAfter(evs []events.Event, seq uint64) map[string][]string {
	out := map[string][]string{}
	for _, e := range evs {
		if e.Kind == events.TokenIssued && e.Seq > seq {
			out[e.TokenType] = append(out[e.TokenType], e.Token)
		}
	}
	return out
}

var _ = Describe("A refresh that narrows its scope (RFC 6749 §6)", func() {
	It("gets an access token with the narrower scope while the refresh token keeps the grant's", func() {
		h := newHarness()
		t := h.mint("demo", "alice", "openid offline_access api")
		r := h.refreshScope(t.Refresh, "api")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		narrow := decodeTokens(r)
		Expect(narrow.Scope).To(Equal("offline_access api"), "the generic profile keeps offline access (keep)")
		Expect(narrow.IDToken).To(BeEmpty(), "openid was left out")
		Expect(h.me(narrow.Access).json()).To(HaveKeyWithValue("scope", "offline_access api"))
		Expect(narrow.Refresh).NotTo(BeEmpty())
		Expect(h.introspect(narrow.Refresh)).To(HaveKeyWithValue("scope", "openid offline_access api"))

		By("refreshing again without a scope: the grant's whole scope")
		full := decodeTokens(h.refresh(narrow.Refresh))
		Expect(full.Scope).To(Equal("openid offline_access api"))
		Expect(full.IDToken).NotTo(BeEmpty())

		evs := h.eventsOf(events.TokenRequest)
		Expect(evs[len(evs)-2].RequestedScope).To(HaveValue(Equal("api")))
		Expect(evs[len(evs)-2].Scope).To(Equal("offline_access api"))
		Expect(evs[len(evs)-1].RequestedScope).To(BeNil(), "no scope parameter sent")
		Expect(evs[len(evs)-1].Scope).To(Equal("openid offline_access api"))
	})

	It("refuses a scope the grant does not hold with invalid_scope, and leaves the refresh token as it was", func() {
		h := newHarness()
		t := h.mint("demo", "alice", "offline_access api")
		r := h.refreshScope(t.Refresh, "api profile")
		Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
		Expect(r.str("error")).To(Equal("invalid_scope"))
		e := h.lastEvent(events.TokenRequest)
		Expect(e.Error).To(Equal("invalid_scope"))
		Expect(e.RequestedScope).To(HaveValue(Equal("api profile")))
		Expect(h.eventsOf(events.RefreshRotated)).To(BeEmpty())
		Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK), "the token was not spent")
	})

	It("logs an empty scope parameter as sent, and treats it as absent (RFC 6749 §3.1)", func() {
		h := newHarness()
		t := h.mint("demo", "alice", "offline_access api")
		r := h.refreshScope(t.Refresh, "")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		Expect(decodeTokens(r).Scope).To(Equal("offline_access api"))
		Expect(h.lastEvent(events.TokenRequest).RequestedScope).To(HaveValue(Equal("")))
	})

	Describe("leaving offline_access out", func() {
		It("okta: answers without a refresh token and spends the one presented, so the grant ends with this access token", func() {
			h := profileHarness("okta")
			t := h.offlineGrant("alice", "openid api")
			before := h.events()
			r := h.refreshScope(t.Refresh, "openid api")
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
			Expect(r.json()).NotTo(HaveKey("refresh_token"))
			narrow := decodeTokens(r)
			Expect(narrow.Scope).To(Equal("openid api"))
			Expect(narrow.IDToken).NotTo(BeEmpty())
			Expect(h.me(narrow.Access).status).To(Equal(http.StatusOK))

			By("logging the request as sent, and no refresh token the client never got")
			evs := h.events()
			issued := issuedAfter(evs, before[len(before)-1].Seq)
			Expect(issued).To(HaveKey("access_token"))
			Expect(issued).NotTo(HaveKey("refresh_token"))
			e := h.lastEvent(events.TokenRequest)
			Expect(e.Outcome).To(Equal(events.OutcomeOK))
			Expect(e.RequestedScope).To(HaveValue(Equal("openid api")))
			Expect(e.Scope).To(Equal("openid api"))
			Expect(e.Detail).To(ContainSubstring("no refresh token"))
			Expect(h.lastEvent(events.RefreshRotated).Detail).To(ContainSubstring("no refresh token minted"))

			By("refusing the spent token once Okta's 30-second leeway has passed")
			h.advance("31s")
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusBadRequest))
			Expect(h.familyInfo(t.Family)).To(HaveKeyWithValue("live_refresh_tokens", BeNumerically("==", 0)))
		})

		It("okta: still rotates when the narrower scope keeps offline_access", func() {
			h := profileHarness("okta")
			t := h.offlineGrant("alice", "openid api")
			r := h.refreshScope(t.Refresh, "openid offline_access")
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
			Expect(decodeTokens(r).Refresh).NotTo(BeEmpty())
			Expect(decodeTokens(r).Scope).To(Equal("openid offline_access"))
			Expect(h.lastEvent(events.TokenRequest).RequestedScope).To(HaveValue(Equal("openid offline_access")))
		})

		It("auth0: keeps offline access, where nothing else is documented", func() {
			h := profileHarness("auth0")
			t := h.offlineGrant("alice", "openid api")
			r := h.refreshScope(t.Refresh, "api")
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
			next := decodeTokens(r)
			Expect(next.Refresh).NotTo(BeEmpty())
			Expect(next.Scope).To(Equal("api offline_access"))
			Expect(h.introspect(next.Refresh)).To(HaveKeyWithValue("scope", "openid api offline_access"))
			Expect(h.refresh(next.Refresh).status).To(Equal(http.StatusOK))
		})

		It("google: cannot leave out offline access, which is no scope there", func() {
			h := profileHarness("google")
			t := h.offlineGrant("alice", "openid api")
			r := h.refreshScope(t.Refresh, "api")
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
			Expect(decodeTokens(r).Scope).To(Equal("api"))
			e := h.lastEvent(events.TokenRequest)
			Expect(e.RequestedScope).To(HaveValue(Equal("api")))
			Expect(e.Scope).To(Equal("api offline_access"), "the event names offline access, which Google's answer never does")
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK), "Google keeps the refresh token")
		})
	})

	It("logs the scope a client credentials request sent", func() {
		h := newHarness()
		r := h.postForm(simulator.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}}, "demo", "demo-secret")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		e := h.lastEvent(events.TokenRequest)
		Expect(e.RequestedScope).To(HaveValue(Equal("api")))
		Expect(e.Scope).To(Equal("api"))
	})
})
