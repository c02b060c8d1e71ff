package simulator_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// profileHarness is a simulator running a built-in profile.
func profileHarness(name string, opts ...simulator.Option) *harness {
	GinkgoHelper()
	p, ok := profile.Lookup(name)
	Expect(ok).To(BeTrue(), "no profile %q", name)
	return newHarness(append([]simulator.Option{simulator.WithProfile(p)}, opts...)...)
}

// offlineGrant mints a grant that carries a refresh token under the
// profile's offline-access rule.
func (h *harness) offlineGrant(user, scope string) tokens {
	GinkgoHelper()
	return h.offlineGrantOf("demo", user, scope)
}

// offlineGrantOf is offlineGrant for another client than demo.
func (h *harness) offlineGrantOf(client, user, scope string) tokens {
	GinkgoHelper()
	req := map[string]string{"client_id": client, "user": user, "scope": scope}
	if h.srv.Profile().OfflineAccess == profile.OfflineAccessType {
		req["access_type"] = "offline"
	} else {
		req["scope"] += " offline_access"
	}
	r := h.control(http.MethodPost, "/grants", req)
	Expect(r.status).To(Equal(http.StatusCreated), "mint grant: %s", r.body)
	t := decodeTokens(r)
	Expect(t.Refresh).NotTo(BeEmpty(), "the grant has no refresh token: %s", r.body)
	return t
}

// aadsts checks an Entra error body: the AADSTS code in error_codes and in
// the description, with the trace and correlation ids repeated in both.
func aadsts(code int) func(reply) {
	return func(r reply) {
		GinkgoHelper()
		var body struct {
			Error         string `json:"error"`
			Description   string `json:"error_description"`
			Codes         []int  `json:"error_codes"`
			Timestamp     string `json:"timestamp"`
			TraceID       string `json:"trace_id"`
			CorrelationID string `json:"correlation_id"`
			URI           string `json:"error_uri"`
		}
		Expect(json.Unmarshal(r.body, &body)).To(Succeed(), "%s", r.body)
		Expect(body.Error).To(Equal("invalid_grant"))
		Expect(body.Codes).To(Equal([]int{code}))
		uuid := `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
		Expect(body.TraceID).To(MatchRegexp("^" + uuid + "$"))
		Expect(body.CorrelationID).To(MatchRegexp("^" + uuid + "$"))
		Expect(body.Description).To(MatchRegexp(`^AADSTS%d: .*\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: `,
			code, regexp.QuoteMeta(body.TraceID), regexp.QuoteMeta(body.CorrelationID)))
		Expect(body.URI).To(HaveSuffix("code=" + strconv.Itoa(code)))
		Expect(body.Timestamp).NotTo(BeEmpty())
	}
}

// exactly checks a body byte for byte.
func exactly(body string) func(reply) {
	return func(r reply) {
		GinkgoHelper()
		Expect(string(r.body)).To(Equal(body))
	}
}

// rfcInvalidGrant checks the RFC 6749 answer of a profile with none of its own.
func rfcInvalidGrant(r reply) {
	GinkgoHelper()
	Expect(r.str("error")).To(Equal("invalid_grant"))
}

// deadBodies is how each built-in profile answers a refresh with a revoked
// grant's token.
var deadBodies = []struct {
	name   string
	status int
	check  func(reply)
}{
	{"generic", 400, rfcInvalidGrant},
	{"google", 400, exactly(`{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`)},
	{"entra", 400, aadsts(50173)},
	{"entra-spa", 400, aadsts(50173)},
	{"okta", 400, exactly(`{"error":"invalid_grant","error_description":"The refresh token is invalid or expired."}`)},
	{"okta-custom", 400, exactly(`{"error":"invalid_grant","error_description":"The refresh token is invalid or expired."}`)},
	{"auth0", 403, exactly(`{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}`)},
	{"github", 200, func(r reply) {
		Expect(r.str("error")).To(Equal("bad_refresh_token"))
		Expect(r.str("error_description")).To(Equal("The refresh token passed is incorrect or expired."))
		Expect(r.json()).NotTo(HaveKey("access_token"))
	}},
	{"salesforce", 400, exactly(`{"error":"invalid_grant","error_description":"expired access/refresh token"}`)},
	{"dropbox", 400, exactly(`{"error":"invalid_grant","error_description":"refresh token is invalid or revoked"}`)},
	{"slack", 200, exactly(`{"ok":false,"error":"invalid_refresh_token"}`)},
	{"xero", 400, exactly(`{"error":"invalid_grant"}`)},
	{"intuit", 400, exactly(`{"error":"invalid_grant"}`)},
	{"oracle-idcs", 400, rfcInvalidGrant},
	{"keycloak", 400, exactly(`{"error":"invalid_grant","error_description":"Session not active"}`)},
}

var _ = Describe("Provider profiles over HTTP", func() {
	It("has a dead-refresh-token answer to check for every built-in profile", func() {
		var names []string
		for _, d := range deadBodies {
			names = append(names, d.name)
		}
		Expect(names).To(ConsistOf(profile.Names()))
	})

	for _, d := range deadBodies {
		It(d.name+": a revoked grant's refresh answers as the provider documents", func() {
			h := profileHarness(d.name)
			t := h.offlineGrant("alice", "openid")
			rv := h.control(http.MethodPost, "/revocations", map[string]string{"family": t.Family, "reason": "user"})
			Expect(rv.status).To(Equal(http.StatusOK), "%s", rv.body)
			r := h.refresh(t.Refresh)
			Expect(r.status).To(Equal(d.status), "%s", r.body)
			Expect(r.header.Get("Content-Type")).To(HavePrefix("application/json"))
			d.check(r)
			evs := h.events()
			last := evs[len(evs)-1]
			Expect(last.Kind).To(Equal(events.TokenRequest))
			Expect(last.Status).To(Equal(d.status))
			Expect(last.Error).To(Equal("invalid_grant"), "the event keeps the OAuth meaning whatever the body says")
		})
	}

	DescribeTable("a rate_limit fault answers with the provider's signal",
		func(name string, status int, check func(reply)) {
			h := profileHarness(name)
			h.addFault(map[string]any{"kind": "rate_limit", "match": map[string]any{"endpoint": "token"}})
			r := h.postForm(simulator.PathToken, url.Values{"grant_type": {"client_credentials"}}, "demo", "demo-secret")
			Expect(r.status).To(Equal(status), "%s", r.body)
			check(r)
			Expect(h.events()).To(ContainElement(And(HaveField("Kind", events.TokenRequest), HaveField("Status", status),
				HaveField("Outcome", events.OutcomeFault), HaveField("Fault", "f1"), HaveField("Client", "demo"))))
		},
		Entry("generic: 429, Retry-After in seconds, RFC 6749 JSON", "generic", 429, func(r reply) {
			Expect(r.header.Get("Retry-After")).To(Equal("30"))
			Expect(r.str("error")).To(Equal("temporarily_unavailable"))
		}),
		Entry("google: 403 with an HTML page and no Retry-After", "google", 403, func(r reply) {
			Expect(r.header.Get("Content-Type")).To(HavePrefix("text/html"))
			Expect(r.header.Values("Retry-After")).To(BeEmpty())
			Expect(string(r.body)).To(ContainSubstring("<html>"))
		}),
		Entry("entra: 429, Retry-After: 60, plain text", "entra", 429, func(r reply) {
			Expect(r.header.Get("Retry-After")).To(Equal("60"))
			Expect(r.header.Get("Content-Type")).To(HavePrefix("text/plain"))
			Expect(string(r.body)).To(Equal("Too Many Requests"))
		}),
		Entry("okta: 429 with X-Rate-Limit-* and the reset as epoch seconds", "okta", 429, func(r reply) {
			Expect(r.header.Get("X-Rate-Limit-Reset")).To(Equal(strconv.FormatInt(epoch.Add(30*time.Second).Unix(), 10)))
			Expect(r.header.Get("X-Rate-Limit-Remaining")).To(Equal("0"))
			Expect(r.header).To(HaveKey("X-Rate-Limit-Limit"))
		}),
		Entry("auth0: 429 with x-ratelimit-*", "auth0", 429, func(r reply) {
			Expect(r.header.Get("X-Ratelimit-Reset")).To(Equal(strconv.FormatInt(epoch.Add(30*time.Second).Unix(), 10)))
		}),
		Entry("slack: 429 with Retry-After", "slack", 429, func(r reply) {
			Expect(r.header.Get("Retry-After")).To(Equal("30"))
		}),
		Entry("dropbox: 429 with Retry-After", "dropbox", 429, func(r reply) {
			Expect(r.header.Get("Retry-After")).To(Equal("30"))
		}),
		Entry("xero: 429 with Retry-After", "xero", 429, func(r reply) {
			Expect(r.header.Get("Retry-After")).To(Equal("30"))
		}),
		Entry("intuit: a bare 429", "intuit", 429, func(r reply) {
			Expect(r.header.Values("Retry-After")).To(BeEmpty())
		}),
	)

	It("names Okta's limiter counts in its headers", func() {
		h := profileHarness("okta")
		h.addFault(map[string]any{"kind": "rate_limit", "limit": 4, "per": "1s", "match": map[string]any{"endpoint": "token"}})
		for range 4 {
			Expect(h.postForm(simulator.PathToken, url.Values{"grant_type": {"client_credentials"}}, "demo", "demo-secret").status).To(Equal(http.StatusOK))
		}
		r := h.postForm(simulator.PathToken, url.Values{"grant_type": {"client_credentials"}}, "demo", "demo-secret")
		Expect(r.status).To(Equal(http.StatusTooManyRequests))
		Expect(r.header.Get("X-Rate-Limit-Limit")).To(Equal("4"))
		Expect(r.header.Get("X-Rate-Limit-Reset")).To(Equal(strconv.FormatInt(epoch.Add(time.Second).Unix(), 10)))
	})

	Describe("lifecycles", func() {
		It("google: a grant consented in testing status dies after 7 days with Google's body", func() {
			h := profileHarness("google")
			Expect(h.control(http.MethodPost, "/clients/demo/publishing-status", map[string]string{"status": "testing"}).status).To(Equal(http.StatusOK))
			t := h.offlineGrant("alice", "api")
			h.advance("6d23h")
			r := h.refresh(t.Refresh)
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
			Expect(r.json()).NotTo(HaveKey("refresh_token"), "Google does not rotate")
			h.advance("1h")
			r = h.refresh(t.Refresh)
			Expect(r.status).To(Equal(http.StatusBadRequest))
			Expect(string(r.body)).To(Equal(`{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`))
		})

		It("google: offline access is granted but never named in a token response's scope, as Google has no such scope", func() {
			h := profileHarness("google")
			req := map[string]string{"client_id": "demo", "user": "alice", "scope": "openid api", "access_type": "offline"}
			minted := h.control(http.MethodPost, "/grants", req)
			Expect(minted.status).To(Equal(http.StatusCreated))
			Expect(minted.str("scope")).To(Equal("openid api"))
			r := h.refresh(decodeTokens(minted).Refresh)
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.str("scope")).To(Equal("openid api"))
			okta := profileHarness("okta")
			Expect(okta.refresh(okta.offlineGrant("alice", "openid").Refresh).str("scope")).To(Equal("openid offline_access"),
				"where offline access is a scope, it is named")
		})

		It("okta: a rotated token may be reused for 30 seconds; after that the family is revoked", func() {
			h := profileHarness("okta")
			t := h.offlineGrant("alice", "openid")
			next := decodeTokens(h.refresh(t.Refresh))
			h.advance("29s")
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK), "inside the 30 s leeway")
			h.advance("2s")
			r := h.refresh(t.Refresh)
			Expect(string(r.body)).To(Equal(`{"error":"invalid_grant","error_description":"The refresh token is invalid or expired."}`))
			Expect(h.refresh(next.Refresh).status).To(Equal(http.StatusBadRequest), "reuse revoked the family")
			Expect(kinds(h.events())).To(ContainElements(events.RefreshGraceReuse, events.RefreshReuseDetected, events.FamilyRevoked))
		})

		It("entra: random 60-90 minute access tokens; old refresh tokens stay valid; 90 idle days answer AADSTS700082", func() {
			h := profileHarness("entra")
			t := h.offlineGrant("alice", "openid")
			Expect(t.ExpiresIn).To(And(BeNumerically(">=", 3600), BeNumerically("<=", 5400)))
			next := decodeTokens(h.refresh(t.Refresh))
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK))
			Expect(h.refresh(next.Refresh).status).To(Equal(http.StatusOK))
			h.advance("91d")
			r := h.refresh(next.Refresh)
			Expect(r.status).To(Equal(http.StatusBadRequest))
			aadsts(700082)(r)
			Expect(r.str("error_description")).To(ContainSubstring("The token was issued on " + epoch.Format("2006-01-02T15:04:05")))
		})

		It("entra: an expired client secret answers AADSTS7000222 with 401", func() {
			h := profileHarness("entra")
			t := h.offlineGrant("alice", "openid")
			rot := h.control(http.MethodPost, "/clients/demo/secret", map[string]string{"client_secret": "new-secret", "expires_in": "1d"})
			Expect(rot.status).To(Equal(http.StatusOK), "%s", rot.body)
			h.advance("1d")
			r := h.postForm(simulator.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t.Refresh}}, "demo", "new-secret")
			Expect(r.status).To(Equal(http.StatusUnauthorized))
			Expect(r.str("error")).To(Equal("invalid_client"))
			Expect(r.json()["error_codes"]).To(Equal([]any{float64(7000222)}))
			Expect(r.header.Get("WWW-Authenticate")).To(HavePrefix("Basic"))
		})

		It("entra-spa: refresh tokens inherit a fixed 24 hours and then answer AADSTS700084", func() {
			h := profileHarness("entra-spa")
			t := h.offlineGrant("alice", "openid")
			h.advance("23h")
			next := decodeTokens(h.refresh(t.Refresh))
			Expect(next.Refresh).NotTo(BeEmpty())
			h.advance("1h")
			r := h.refresh(next.Refresh)
			Expect(r.status).To(Equal(http.StatusBadRequest))
			Expect(r.json()["error_codes"]).To(Equal([]any{float64(700084)}))
		})

		It("xero: a lost refresh may be retried with the old token for 30 minutes", func() {
			h := profileHarness("xero")
			t := h.offlineGrant("alice", "openid")
			h.addFault(map[string]any{"kind": "drop_after_commit", "match": map[string]any{"endpoint": "token", "count": 1}})
			_, err := h.tryDo(h.refreshRequest(t.Refresh), 5*time.Second)
			Expect(err).To(HaveOccurred())
			h.advance("29m")
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK))
		})

		It("github: a refresh kills the old refresh token, and its error comes with HTTP 200", func() {
			h := profileHarness("github")
			t := h.offlineGrant("alice", "api")
			Expect(t.ExpiresIn).To(BeNumerically("==", 8*3600))
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK))
			r := h.refresh(t.Refresh)
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.str("error")).To(Equal("bad_refresh_token"))
		})

		It("auth0: every invalid_grant is a 403, and rotated tokens keep the family's 30 days", func() {
			h := profileHarness("auth0")
			t := h.offlineGrant("alice", "openid")
			h.advance("14d")
			next := decodeTokens(h.refresh(t.Refresh))
			h.advance("14d")
			next = decodeTokens(h.refresh(next.Refresh))
			h.advance("2d")
			Expect(h.refresh(next.Refresh).status).To(Equal(http.StatusForbidden))
		})
	})
})
