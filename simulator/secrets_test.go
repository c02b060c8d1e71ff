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

// eventsOf lists the events of one kind, in order.
func (h *harness) eventsOf(kind events.Kind) []events.Event {
	GinkgoHelper()
	var out []events.Event
	for _, e := range h.events() {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// lastEvent is the newest event of kind; the spec fails when there is none.
func (h *harness) lastEvent(kind events.Kind) events.Event {
	GinkgoHelper()
	evs := h.eventsOf(kind)
	Expect(evs).NotTo(BeEmpty(), "no %s event", kind)
	return evs[len(evs)-1]
}

var _ = Describe("Client-secret rotation", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	cc := url.Values{"grant_type": {"client_credentials"}}
	withSecret := func(secret string) reply {
		GinkgoHelper()
		return h.postForm(simulator.PathToken, cc, "demo", secret)
	}
	expectRefused := func(r reply, detail string) {
		GinkgoHelper()
		expectOAuthError(r, http.StatusUnauthorized, "invalid_client")
		Expect(r.header.Get("WWW-Authenticate")).To(HavePrefix("Basic "), "RFC 6749 §5.2: the client used HTTP Basic")
		e := h.lastEvent(events.TokenRequest)
		Expect(e.Status).To(Equal(http.StatusUnauthorized))
		Expect(e.Detail).To(ContainSubstring(detail))
	}
	rotate := func(body map[string]string) reply {
		GinkgoHelper()
		r := h.control(http.MethodPost, "/clients/demo/secret", body)
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		return r
	}
	previousState := func() any {
		GinkgoHelper()
		prev := h.control(http.MethodGet, "/clients/demo", nil).json()["previous_secrets"].([]any)
		return prev[0].(map[string]any)["state"]
	}

	It("accepts the previous secret inside the grace window and refuses it after, saying it was an old one", func() {
		r := rotate(map[string]string{"client_secret": "new-secret", "grace": "1h"})
		Expect(r.json()).To(HaveKeyWithValue("client_secret_state", "active"))
		Expect(r.json()["previous_secrets"]).To(ConsistOf(And(
			HaveKeyWithValue("client_secret", "demo-secret"),
			HaveKeyWithValue("replaced_at", "2026-01-01T09:00:00Z"),
			HaveKeyWithValue("valid_until", "2026-01-01T10:00:00Z"),
			HaveKeyWithValue("state", "grace"),
		)))
		Expect(h.lastEvent(events.ClientSecretRotated)).To(And(
			HaveField("Client", "demo"),
			HaveField("Detail", ContainSubstring("previous secret valid until 2026-01-01T10:00:00Z")),
		))

		By("authenticating with either secret for the hour")
		Expect(withSecret("demo-secret").status).To(Equal(http.StatusOK))
		Expect(withSecret("new-secret").status).To(Equal(http.StatusOK))
		h.advance("59m")
		Expect(withSecret("demo-secret").status).To(Equal(http.StatusOK))

		By("refusing the old secret once the hour is over")
		h.advance("1m")
		expectRefused(withSecret("demo-secret"), "previous client secret, replaced at 2026-01-01T09:00:00Z, whose grace window ended at 2026-01-01T10:00:00Z")
		Expect(withSecret("new-secret").status).To(Equal(http.StatusOK))
		Expect(previousState()).To(Equal("retired"))

		By("telling a wrong secret apart from an old one")
		expectRefused(withSecret("never-issued"), "matches none of the client's secrets")
	})

	It("follows the sim clock at introspection and revocation too", func() {
		rotate(map[string]string{"client_secret": "new-secret", "grace": "10m"})
		t := h.mint("demo", "alice", "offline_access")
		h.advance("11m")
		r := h.postForm(simulator.PathIntrospect, url.Values{"token": {t.Access}}, "demo", "demo-secret")
		Expect(r.status).To(Equal(http.StatusUnauthorized))
		r = h.postForm(simulator.PathRevoke, url.Values{"token": {t.Refresh}}, "demo", "demo-secret")
		expectOAuthError(r, http.StatusUnauthorized, "invalid_client")
		Expect(h.lastEvent(events.RevokeRequest).Detail).To(ContainSubstring("previous client secret"))
		Expect(h.postForm(simulator.PathIntrospect, url.Values{"token": {t.Access}}, "demo", "new-secret").json()).To(HaveKeyWithValue("active", true))
	})

	It("refuses the old secret at once without a grace window", func() {
		rotate(map[string]string{"client_secret": "new-secret"})
		Expect(h.lastEvent(events.ClientSecretRotated).Detail).To(ContainSubstring("previous secret refused from now on"))
		expectRefused(withSecret("demo-secret"), "previous client secret")
	})

	It("refuses a secret past its expiry as expired, in the body as well as in HTTP Basic", func() {
		r := rotate(map[string]string{"client_secret": "short-lived", "expires_in": "90d"})
		Expect(r.json()).To(HaveKeyWithValue("client_secret_expires_at", "2026-04-01T09:00:00Z"))
		Expect(h.lastEvent(events.ClientSecretRotated).Detail).To(ContainSubstring("the new secret expires at 2026-04-01T09:00:00Z"))
		h.advance("89d")
		Expect(withSecret("short-lived").status).To(Equal(http.StatusOK))
		h.advance("1d")
		expectRefused(withSecret("short-lived"), "the client secret expired at 2026-04-01T09:00:00Z")
		post := url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo"}, "client_secret": {"short-lived"}}
		expectOAuthError(h.postForm(simulator.PathToken, post, "", ""), http.StatusUnauthorized, "invalid_client")
		Expect(h.lastEvent(events.TokenRequest).Detail).To(ContainSubstring("expired at"))
		Expect(h.control(http.MethodGet, "/clients/demo", nil).json()).To(HaveKeyWithValue("client_secret_state", "expired"))

		By("rotating to a fresh secret, whose predecessor is expired, not merely retired")
		rotate(map[string]string{"client_secret": "fresh", "grace": "1h"})
		Expect(previousState()).To(Equal("expired"))
		expectRefused(withSecret("short-lived"), "previous client secret, which expired at 2026-04-01T09:00:00Z")
		Expect(withSecret("fresh").status).To(Equal(http.StatusOK))
	})

	It("keeps the secret and sets only its expiry when rotated to the same secret", func() {
		r := rotate(map[string]string{"client_secret": "demo-secret", "expires_in": "1h"})
		Expect(r.json()).NotTo(HaveKey("previous_secrets"))
		Expect(h.lastEvent(events.ClientSecretRotated).Detail).To(HavePrefix("secret kept"))
		h.advance("1h")
		expectRefused(withSecret("demo-secret"), "the client secret expired")
	})

	It("reads secret expiry and previous secrets from the config file", func() {
		cfg, err := simulator.ParseConfig("oauthsim.yaml", []byte(`
clients:
  - client_id: rolling
    client_secret: current
    client_secret_expires_at: 2026-01-02T09:00:00Z
    grant_types: [client_credentials]
    previous_secrets:
      - client_secret: older
        valid_until: 2026-01-01T12:00:00Z
`))
		Expect(err).NotTo(HaveOccurred())
		h := newHarness(cfg.Options()...)
		for _, secret := range []string{"current", "older"} {
			Expect(h.postForm(simulator.PathToken, cc, "rolling", secret).status).To(Equal(http.StatusOK), secret)
		}
		h.advance("3h")
		expectOAuthError(h.postForm(simulator.PathToken, cc, "rolling", "older"), http.StatusUnauthorized, "invalid_client")
		h.advance("21h")
		expectOAuthError(h.postForm(simulator.PathToken, cc, "rolling", "current"), http.StatusUnauthorized, "invalid_client")
	})

	DescribeTable("refuses bad rotations with a clear 4xx",
		func(path string, body any, status int, message string) {
			r := h.control(http.MethodPost, path, body)
			Expect(r.status).To(Equal(status), "%s", r.body)
			Expect(r.str("error_description")).To(ContainSubstring(message))
			Expect(withSecret("demo-secret").status).To(Equal(http.StatusOK), "a refused rotation changes nothing")
		},
		Entry("a bad duration", "/clients/demo/secret", map[string]any{"grace": "soon"}, 400, `invalid duration "soon"`),
		Entry("a number for a duration", "/clients/demo/secret", map[string]any{"expires_in": 3600}, 400, "invalid JSON"),
		Entry("a negative grace", "/clients/demo/secret", map[string]any{"grace": "-1h"}, 400, "must not be negative"),
		Entry("a misspelt field", "/clients/demo/secret", map[string]any{"graec": "1h"}, 400, "unknown field"),
		Entry("a public client", "/clients/demo-public/secret", map[string]any{"grace": "1h"}, 400, "public"),
		Entry("an unknown client", "/clients/nope/secret", map[string]any{}, 404, `no client "nope"`),
	)

	DescribeTable("refuses clients with inconsistent secrets",
		func(client map[string]any, message string) {
			r := h.control(http.MethodPut, "/clients/x", client)
			Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
			Expect(r.str("error_description")).To(ContainSubstring(message))
		},
		Entry("a public client with an expiry", map[string]any{"public": true, "redirect_uris": []string{simulator.DemoRedirectURI},
			"client_secret_expires_at": "2026-02-01T00:00:00Z"}, "a public client has no client_secret_expires_at"),
		Entry("a previous secret without valid_until", map[string]any{"client_secret": "s", "grant_types": []string{"client_credentials"},
			"previous_secrets": []map[string]any{{"client_secret": "p"}}}, "valid_until is required"),
		Entry("a previous secret equal to the current one", map[string]any{"client_secret": "s", "grant_types": []string{"client_credentials"},
			"previous_secrets": []map[string]any{{"client_secret": "s", "valid_until": "2027-01-01T00:00:00Z"}}}, "cannot also be a previous one"),
		Entry("a time that is not RFC 3339", map[string]any{"client_secret": "s", "client_secret_expires_at": "tomorrow"}, "invalid JSON"),
	)

	It("records the states it shows as read-only: a client's GET answer with its secrets can be PUT back", func() {
		rotate(map[string]string{"client_secret": "new-secret", "grace": "1h"})
		got := h.control(http.MethodGet, "/clients/demo?secrets=true", nil)
		r := h.control(http.MethodPut, "/clients/demo", string(got.body))
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		Expect(withSecret("demo-secret").status).To(Equal(http.StatusOK))
		h.advance(time.Hour.String())
		Expect(withSecret("demo-secret").status).To(Equal(http.StatusUnauthorized))
	})
})
