package simulator_test

import (
	"net/http"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// redirectQuery reads the query of an authorization redirect to the demo redirect URI.
func redirectQuery(r reply) url.Values {
	GinkgoHelper()
	return redirectQueryTo(r, simulator.DemoRedirectURI)
}

// redirectQueryTo reads the query of an authorization redirect to uri.
func redirectQueryTo(r reply, uri string) url.Values {
	GinkgoHelper()
	Expect(r.status).To(Equal(http.StatusSeeOther), "%s", r.body)
	loc, err := url.Parse(r.header.Get("Location"))
	Expect(err).NotTo(HaveOccurred())
	Expect(loc.Scheme + "://" + loc.Host + loc.Path).To(Equal(uri))
	return loc.Query()
}

var _ = Describe("Requiring consent again", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	require := func(body map[string]any) map[string]any {
		GinkgoHelper()
		r := h.control(http.MethodPost, "/consents", body)
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		return r.json()
	}
	silently := func() reply {
		GinkgoHelper()
		_, challenge := pkce()
		return h.authorizePublic("openid offline_access", challenge, "prompt", "none")
	}
	consentOf := func(user, client string) map[string]any {
		GinkgoHelper()
		for _, c := range h.control(http.MethodGet, "/consents", nil).json()["consents"].([]any) {
			if m := c.(map[string]any); m["user"] == user && m["client_id"] == client {
				return m
			}
		}
		Fail("no consent of " + user + " to " + client)
		return nil
	}

	It("answers prompt=none with consent_required until the user consents again", func() {
		first := h.signInPublic("openid offline_access")
		Expect(consentOf("alice", "demo-public")).To(And(
			HaveKeyWithValue("consented_at", epoch.Format(time.RFC3339)),
			HaveKeyWithValue("scopes", ConsistOf("openid", "offline_access")),
			HaveKeyWithValue("consent_required", false),
		))
		h.advance("1h")
		body := require(map[string]any{"user": "alice", "client_id": "demo-public", "require": true})
		Expect(body).To(HaveKeyWithValue("revoked_families", BeNumerically("==", 0)))
		Expect(body["consent"]).To(And(
			HaveKeyWithValue("consent_required", true),
			HaveKeyWithValue("required_since", epoch.Add(time.Hour).Format(time.RFC3339)),
		))
		Expect(h.lastEvent(events.ConsentRequired)).To(And(HaveField("User", "alice"), HaveField("Client", "demo-public")))

		By("refusing a silent authorization with the OpenID Connect error, at the redirect URI")
		q := redirectQuery(silently())
		Expect(q.Get("error")).To(Equal("consent_required"))
		Expect(q.Get("state")).To(Equal("state-12345678"))
		Expect(q.Get("code")).To(BeEmpty())
		Expect(h.lastEvent(events.AuthorizeRequest)).To(And(HaveField("Error", "consent_required"), HaveField("Outcome", events.OutcomeDenied)))
		Expect(h.refreshPublic(first.Refresh).status).To(Equal(http.StatusOK), "the mark alone revokes nothing")

		By("consenting again in an authorization that may ask")
		h.signInPublic("openid offline_access")
		Expect(h.lastEvent(events.ConsentRenewed)).To(And(HaveField("User", "alice"), HaveField("Detail", "consented again at /oauth2/authorize")))
		Expect(consentOf("alice", "demo-public")).To(And(
			HaveKeyWithValue("consent_required", false),
			HaveKeyWithValue("consented_at", epoch.Add(time.Hour).Format(time.RFC3339)),
			Not(HaveKey("required_since")),
		))
		Expect(redirectQuery(silently()).Get("code")).NotTo(BeEmpty())
	})

	It("is renewed by a grant minted over the control API, and concerns only that user and client", func() {
		require(map[string]any{"user": "alice", "client_id": "demo-public", "require": true})
		require(map[string]any{"user": "alice", "client_id": "demo", "require": true})
		h.mint("demo-public", "alice", "openid")
		Expect(h.lastEvent(events.ConsentRenewed).Detail).To(Equal("consented again at /sim/v1/grants"))
		Expect(redirectQuery(silently()).Get("code")).NotTo(BeEmpty())
		Expect(consentOf("alice", "demo")).To(HaveKeyWithValue("consent_required", true))
	})

	It("revokes the user's grants to the client when asked, and no others", func() {
		a := h.mint("demo", "alice", "offline_access")
		b := h.mint("demo", "bob", "offline_access")
		c := h.mint("demo-public", "alice", "offline_access")
		body := require(map[string]any{"user": "alice", "client_id": "demo", "require": true, "revoke": true})
		Expect(body).To(HaveKeyWithValue("revoked_families", BeNumerically("==", 1)))
		expectInvalidGrant(h.refresh(a.Refresh))
		Expect(h.refresh(b.Refresh).status).To(Equal(http.StatusOK))
		Expect(h.refreshPublic(c.Refresh).status).To(Equal(http.StatusOK))
		Expect(h.revocations()).To(Equal(map[string]string{a.Family: "consent_revoked"}))
		Expect(h.lastEvent(events.ConsentRequired).Detail).To(HaveSuffix("; 1 live grants revoked"))
	})

	It("clears the mark from the control API and the Go API alike", func() {
		require(map[string]any{"user": "alice", "client_id": "demo-public", "require": true})
		require(map[string]any{"user": "alice", "client_id": "demo-public", "require": false})
		Expect(h.lastEvent(events.ConsentRenewed).Detail).To(Equal("re-prompt mark cleared by the control API"))
		Expect(redirectQuery(silently()).Get("code")).NotTo(BeEmpty())

		_, _, err := h.srv.ChangeConsent(simulator.ConsentChange{User: "alice", ClientID: "demo-public", Require: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(redirectQuery(silently()).Get("error")).To(Equal("consent_required"))
		Expect(h.srv.Consents()).To(ContainElement(HaveField("Required", true)))

		By("recording nothing when nothing changes")
		n := len(h.eventsOf(events.ConsentRequired))
		require(map[string]any{"user": "alice", "client_id": "demo-public", "require": true})
		Expect(h.eventsOf(events.ConsentRequired)).To(HaveLen(n))
	})

	It("forgets consents on reset", func() {
		require(map[string]any{"user": "alice", "client_id": "demo-public", "require": true})
		Expect(h.control(http.MethodPost, "/reset", nil).status).To(Equal(http.StatusOK))
		Expect(h.control(http.MethodGet, "/consents", nil).json()["consents"]).To(BeEmpty())
		Expect(redirectQuery(silently()).Get("code")).NotTo(BeEmpty())
	})

	DescribeTable("refuses bad consent changes with a clear 4xx",
		func(body any, status int, message string) {
			r := h.control(http.MethodPost, "/consents", body)
			Expect(r.status).To(Equal(status), "%s", r.body)
			Expect(r.str("error_description")).To(ContainSubstring(message))
		},
		Entry("no require", map[string]any{"user": "alice", "client_id": "demo"}, 400, `"require" is required`),
		Entry("no user", map[string]any{"client_id": "demo", "require": true}, 400, "user and client_id are required"),
		Entry("no client", map[string]any{"user": "alice", "require": true}, 400, "user and client_id are required"),
		Entry("a string for require", map[string]any{"user": "alice", "client_id": "demo", "require": "yes"}, 400, "invalid JSON"),
		Entry("a misspelt field", map[string]any{"user": "alice", "client_id": "demo", "require": true, "revoek": true}, 400, "unknown field"),
		Entry("no body", "", 400, "must be a JSON object"),
		Entry("an unknown user", map[string]any{"user": "mallory", "client_id": "demo", "require": true}, 404, `no user "mallory"`),
		Entry("an unknown client", map[string]any{"user": "alice", "client_id": "nope", "require": true}, 404, `no client "nope"`),
	)
})
