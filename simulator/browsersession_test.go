package simulator_test

import (
	"net/http"
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// spaAuthorize is an authorization request of spaClient, with PKCE.
func spaAuthorize(extra ...string) url.Values {
	_, challenge := pkce()
	q := url.Values{
		"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {appOrigin + "/callback"},
		"scope": {"openid offline_access api"}, "state": {"state-12345678"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

// authorizeWith sends the authorization request q with the session cookie
// value, when it is not empty.
func (h *harness) authorizeWith(q url.Values, cookie string) reply {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodGet, h.srv.URL+simulator.PathAuthorize+"?"+q.Encode(), nil)
	Expect(err).NotTo(HaveOccurred())
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: simulator.SessionCookie, Value: cookie})
	}
	return h.do(req)
}

// sessionCookie is the session cookie an answer sets; it fails the spec
// when there is none.
func sessionCookie(r reply) *http.Cookie {
	GinkgoHelper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == simulator.SessionCookie {
			return c
		}
	}
	Fail("no session cookie in " + r.header.Get("Set-Cookie"))
	return nil
}

// spaRedirect is the query of an authorization redirect to spaClient's
// redirect URI.
func spaRedirect(r reply) url.Values {
	GinkgoHelper()
	return redirectQueryTo(r, appOrigin+"/callback")
}

var _ = Describe("The session cookie", func() {
	var h *harness
	BeforeEach(func() {
		h = newHarness(simulator.WithClients(spaClient))
	})

	It("is set when a user signs in on the login page, for a frame of another site to send back", func() {
		form := spaAuthorize()
		form.Set("user", "alice")
		r := h.postForm(simulator.PathAuthorize, form, "", "")
		Expect(spaRedirect(r).Get("code")).NotTo(BeEmpty())
		c := sessionCookie(r)
		Expect(c.Value).NotTo(BeEmpty())
		Expect(c.Path).To(Equal("/"))
		Expect(c.Secure).To(BeTrue())
		Expect(c.HttpOnly).To(BeTrue())
		Expect(c.SameSite).To(Equal(http.SameSiteNoneMode))
	})

	It("is set when login_hint signs the user in", func() {
		r := h.get(authorizeURL("demo-public", "openid", "challenge-"+url.QueryEscape("0123456789012345678901234567890123456789"), "login_hint", "bob"))
		Expect(redirectQuery(r).Get("code")).NotTo(BeEmpty())
		Expect(sessionCookie(r).Value).NotTo(BeEmpty())
	})

	It("takes response_mode=query, which discovery lists and MSAL.js always sends, and refuses fragment, which it does not list", func() {
		challenge := "challenge-" + url.QueryEscape("0123456789012345678901234567890123456789")
		r := h.get(authorizeURL("demo-public", "openid", challenge, "login_hint", "bob", "response_mode", "query"))
		Expect(redirectQuery(r).Get("code")).NotTo(BeEmpty(), "%s", r.body)
		r = h.get(authorizeURL("demo-public", "openid", challenge, "login_hint", "bob", "response_mode", "fragment"))
		Expect(redirectQuery(r).Get("code")).To(BeEmpty())
	})

	Describe("with prompt=none from a single-page application", func() {
		var cookie string
		BeforeEach(func() {
			form := spaAuthorize()
			form.Set("user", "alice")
			cookie = sessionCookie(h.postForm(simulator.PathAuthorize, form, "", "")).Value
		})

		It("signs the user in by the cookie alone, and sets no new one", func() {
			r := h.authorizeWith(spaAuthorize("prompt", "none"), cookie)
			q := spaRedirect(r)
			Expect(q.Get("error")).To(BeEmpty(), "%s", q.Get("error_description"))
			Expect(q.Get("code")).NotTo(BeEmpty())
			Expect(r.header.Get("Set-Cookie")).To(BeEmpty())
			e := h.lastRequest(events.AuthorizeRequest)
			Expect(e.User).To(Equal("alice"))
			Expect(e.Detail).To(ContainSubstring("signed in by the session cookie"))
		})

		It("answers login_required at the redirect URI without the cookie, login_hint or not (OpenID Connect Core §3.1.2.6)", func() {
			q := spaRedirect(h.authorizeWith(spaAuthorize("prompt", "none", "login_hint", "alice"), ""))
			Expect(q.Get("error")).To(Equal("login_required"))
			Expect(q.Get("state")).To(Equal("state-12345678"))
			e := h.lastRequest(events.AuthorizeRequest)
			Expect(e.Error).To(Equal("login_required"))
			Expect(e.Detail).To(ContainSubstring("No session cookie was sent"))
		})

		It("answers login_required once a reset has signed everyone out", func() {
			h.srv.Reset()
			q := spaRedirect(h.authorizeWith(spaAuthorize("prompt", "none"), cookie))
			Expect(q.Get("error")).To(Equal("login_required"))
			Expect(h.lastRequest(events.AuthorizeRequest).Detail).To(ContainSubstring("names no session"))
		})
	})

	It("leaves other clients' prompt=none as it was: login_hint signs the user in without a cookie", func() {
		r := h.get(authorizeURL("demo-public", "openid", "challenge-"+url.QueryEscape("0123456789012345678901234567890123456789"), "login_hint", "alice", "prompt", "none"))
		q := redirectQuery(r)
		Expect(q.Get("error")).To(BeEmpty(), "%s", q.Get("error_description"))
		Expect(q.Get("code")).NotTo(BeEmpty())
	})

	It("signs a user in without the login page when a single-page application asks without prompt=none", func() {
		form := spaAuthorize()
		form.Set("user", "bob")
		cookie := sessionCookie(h.postForm(simulator.PathAuthorize, form, "", "")).Value
		q := spaRedirect(h.authorizeWith(spaAuthorize(), cookie))
		Expect(q.Get("code")).NotTo(BeEmpty())
		Expect(h.lastRequest(events.AuthorizeRequest).User).To(Equal("bob"))
	})
})
