package simulator_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// postMultipart sends a token request as multipart/form-data, which fosite
// accepts as well as a urlencoded form.
func (h *harness) postMultipart(fields map[string]string, user, password string) reply {
	GinkgoHelper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		Expect(mw.WriteField(k, v)).To(Succeed())
	}
	Expect(mw.Close()).To(Succeed())
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+simulator.PathToken, &body)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	return h.do(req)
}

var _ = Describe("Multipart token requests", func() {
	It("get the same rotation, reuse detection and events as urlencoded ones", func() {
		h := newHarness()
		t := h.mint("demo", "alice", "offline_access")
		Expect(h.postMultipart(map[string]string{"grant_type": "refresh_token", "refresh_token": t.Refresh}, "demo", "demo-secret").status).To(Equal(http.StatusOK))
		expectInvalidGrant(h.postMultipart(map[string]string{"grant_type": "refresh_token", "refresh_token": t.Refresh}, "demo", "demo-secret"))
		var reqs, revoked []events.Event
		for _, e := range h.events() {
			switch e.Kind {
			case events.TokenRequest:
				reqs = append(reqs, e)
			case events.FamilyRevoked:
				revoked = append(revoked, e)
			}
		}
		Expect(reqs).To(HaveLen(2))
		Expect(reqs[1].GrantType).To(Equal("refresh_token"))
		Expect(revoked).To(HaveLen(1))
		Expect(revoked[0].Reason).To(Equal("reuse_detected"))
	})

	It("redeem a code once when sent 50 times at once", func() {
		h := newHarness()
		verifier, challenge := pkce()
		code := codeFrom(h.get(authorizeURL("demo", "openid offline_access", challenge, "login_hint", "alice")))
		statuses, _ := race(50, func() (int, string) {
			r := h.postMultipart(map[string]string{
				"grant_type": "authorization_code", "code": code, "redirect_uri": simulator.DemoRedirectURI, "code_verifier": verifier,
			}, "demo", "demo-secret")
			return r.status, errorCode(r.body)
		})
		Expect(statuses).To(Equal(map[int]int{200: 1, 400: 49}))
	})
})

var _ = Describe("Authorization request details", func() {
	It("accepts an id_token_hint it issued, with the sim clock years ahead", func() {
		h := newHarness(simulator.WithClock(clock.NewFake(time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC))))
		t := h.mint("demo", "alice", "openid")
		_, challenge := pkce()
		code := codeFrom(h.get(authorizeURL("demo", "openid", challenge, "login_hint", "alice", "id_token_hint", t.IDToken)))
		Expect(code).NotTo(BeEmpty())
	})

	It("works without state, and sends none back", func() {
		h := newHarness()
		_, challenge := pkce()
		u := authorizeURL("demo", "openid", challenge, "login_hint", "alice")
		q := parseAuthorizeQuery(u)
		q.Del("state")
		r := h.get(simulator.PathAuthorize + "?" + q.Encode())
		Expect(r.status).To(Equal(http.StatusSeeOther), "%s", r.body)
		loc, err := url.Parse(r.header.Get("Location"))
		Expect(err).NotTo(HaveOccurred())
		Expect(loc.Query().Get("code")).NotTo(BeEmpty())
		Expect(loc.Query()).NotTo(HaveKey("state"))

		By("keeping the placeholder off the login page")
		q.Del("login_hint")
		page := h.get(simulator.PathAuthorize + "?" + q.Encode())
		Expect(string(page.body)).NotTo(ContainSubstring(`name="state"`))
	})

	It("accepts a short state", func() {
		h := newHarness()
		_, challenge := pkce()
		r := h.get(authorizeURL("demo", "openid", challenge, "login_hint", "alice", "state", "abc"))
		loc, err := url.Parse(r.header.Get("Location"))
		Expect(err).NotTo(HaveOccurred())
		Expect(loc.Query().Get("state")).To(Equal("abc"))
		Expect(loc.Query().Get("code")).NotTo(BeEmpty())
	})
})

var _ = Describe("The family cap, at the edges", func() {
	It("never evicts the family it is making room for, even when the clock stands still", func() {
		h := newHarness(withRefresh(func(r *profile.Refresh) { r.MaxFamiliesPerUserClient = 1 }))
		for range 20 {
			older := h.mint("demo", "alice", "offline_access")
			newer := h.mint("demo", "alice", "offline_access")
			Expect(h.refresh(newer.Refresh).status).To(Equal(http.StatusOK))
			expectInvalidGrant(h.refresh(older.Refresh))
		}
	})

	It("counts only families whose refresh tokens still work", func() {
		h := newHarness(withRefresh(func(r *profile.Refresh) {
			r.MaxFamiliesPerUserClient = 2
			r.IdleTimeout = profile.Duration(time.Hour)
		}))
		h.mint("demo", "alice", "offline_access") // dies of idleness below
		revoked := h.mint("demo", "alice", "offline_access")
		h.control(http.MethodPost, "/revocations", map[string]any{"family": revoked.Family})
		h.advance("2h")
		live := h.mint("demo", "alice", "offline_access")
		h.mint("demo", "alice", "offline_access")
		Expect(kinds(h.events())).NotTo(ContainElement(events.FamilyEvicted))
		Expect(h.refresh(live.Refresh).status).To(Equal(http.StatusOK))
	})
})

var _ = Describe("Public clients", func() {
	It("cannot authenticate to introspection with an empty secret", func() {
		h := newHarness()
		t := h.mint("demo", "alice", "api")
		r := h.postForm(simulator.PathIntrospect, url.Values{"token": {t.Access}}, "demo-public", "")
		Expect(r.status).To(Equal(http.StatusUnauthorized), "%s", r.body)
		Expect(r.str("error")).To(Equal("invalid_client"))
		Expect(r.header.Get("WWW-Authenticate")).To(HavePrefix("Basic "))
	})
})

var _ = Describe("Clock limits", func() {
	DescribeTable("refuse moves a time.Duration cannot hold, and leave the clock alone",
		func(body map[string]string) {
			h := newHarness()
			r := h.control(http.MethodPost, "/clock", body)
			Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
			Expect(r.str("error_description")).To(ContainSubstring("292 years"))
			Expect(h.clock.Now()).To(Equal(epoch))
		},
		Entry("too many days", map[string]string{"advance": "300000d"}),
		Entry("days plus hours past the limit", map[string]string{"advance": "106751d999999h"}),
		Entry("a far instant", map[string]string{"set": "9999-12-31T00:00:00Z"}),
	)
})

var _ = Describe("Answers the router makes itself", func() {
	It("carry the sim time in Date", func() {
		h := newHarness()
		for _, r := range []reply{h.get("/nope"), h.control(http.MethodDelete, "/clock", nil)} {
			date, err := http.ParseTime(r.header.Get("Date"))
			Expect(err).NotTo(HaveOccurred())
			Expect(date).To(BeTemporally("==", epoch))
		}
	})
})
