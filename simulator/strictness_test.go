package simulator_test

import (
	"net/http"
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
)

var _ = Describe("The provider, held to the RFCs", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	// lastEvent is the newest event of kind.
	lastEvent := func(kind events.Kind) events.Event {
		GinkgoHelper()
		var found *events.Event
		for _, e := range h.events() {
			if e.Kind == kind {
				found = &e
			}
		}
		Expect(found).NotTo(BeNil(), "no %s event", kind)
		return *found
	}

	Describe("client authentication at the token endpoint (RFC 6749 §2.3)", func() {
		cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}}
		with := func(extra ...string) url.Values {
			form := url.Values{}
			for k, v := range cc {
				form[k] = v
			}
			for i := 0; i+1 < len(extra); i += 2 {
				form.Set(extra[i], extra[i+1])
			}
			return form
		}

		DescribeTable("refuses a request that uses more than one method, or names two clients, with 400 invalid_request",
			func(form url.Values) {
				r := h.postForm(simulator.PathToken, form, "demo", "demo-secret")
				Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
				Expect(r.str("error")).To(Equal("invalid_request"))
				Expect(r.header.Get("WWW-Authenticate")).To(BeEmpty(), "the credentials were not refused: the request was")
				e := lastEvent(events.TokenRequest)
				Expect(e.Status).To(Equal(http.StatusBadRequest))
				Expect(e.Error).To(Equal("invalid_request"))
			},
			Entry("HTTP Basic and client_secret in the body, agreeing", with("client_id", "demo", "client_secret", "demo-secret")),
			Entry("HTTP Basic and client_secret in the body, disagreeing", with("client_id", "demo", "client_secret", "wrong")),
			Entry("HTTP Basic for one client, client_id for another", with("client_id", "demo-public")),
		)

		It("takes a client_id in the body beside Basic credentials for the same client, and either method alone", func() {
			Expect(h.postForm(simulator.PathToken, with("client_id", "demo"), "demo", "demo-secret").status).To(Equal(http.StatusOK))
			Expect(h.postForm(simulator.PathToken, cc, "demo", "demo-secret").status).To(Equal(http.StatusOK))
			Expect(h.postForm(simulator.PathToken, with("client_id", "demo", "client_secret", "demo-secret"), "", "").status).To(Equal(http.StatusOK))
			Expect(h.postForm(simulator.PathToken, with("client_id", "demo", "client_secret", ""), "demo", "demo-secret").status).
				To(Equal(http.StatusOK), "a parameter without a value is as if omitted (RFC 6749 §3.1)")
		})
	})

	It("refuses a refresh that asks for a scope beyond its grant with 400 invalid_scope, not a narrower answer", func() {
		t := h.mint("demo", "bob", "offline_access api")
		r := h.postForm(simulator.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t.Refresh},
			"scope": {"offline_access api openid profile"}}, "demo", "demo-secret")
		Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
		Expect(r.str("error")).To(Equal("invalid_scope"))
		Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK), "the refused request spent nothing")
	})

	Describe("introspection (RFC 7662)", func() {
		It("shows a client its own tokens, whether it authenticates or holds one of its access tokens", func() {
			t := h.mint("demo", "bob", "offline_access api")
			Expect(h.introspect(t.Access)).To(HaveKeyWithValue("active", true))
			other := h.mint("demo", "alice", "api")
			r := h.introspectWith(other.Access, t.Refresh)
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.json()).To(And(HaveKeyWithValue("active", true), HaveKeyWithValue("client_id", "demo")))
		})

		It("tells a client nothing of another client's token: inactive, as an unknown one", func() {
			demo := h.mint("demo", "bob", "offline_access api")
			public := h.mint("demo-public", "alice", "offline_access api")
			r := h.introspectWith(public.Access, demo.Access)
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.json()).To(Equal(map[string]any{"active": false}))
			Expect(lastEvent(events.IntrospectRequest).Detail).To(ContainSubstring("another client"))
			Expect(h.introspect(public.Access)).To(Equal(map[string]any{"active": false}), "demo asks of demo-public's token")
		})
	})

	Describe("the protected resource (RFC 6750 §2)", func() {
		It("refuses an access token in the query with 400 invalid_request, and says where tokens go", func() {
			t := h.mint("demo", "bob", "offline_access api")
			r := h.get(simulator.PathResourceMe + "?access_token=" + url.QueryEscape(t.Access))
			Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
			Expect(r.str("error")).To(Equal("invalid_request"))
			Expect(r.header.Get("WWW-Authenticate")).To(And(HavePrefix("Bearer "), ContainSubstring(`error="invalid_request"`)))
			e := lastEvent(events.ResourceRequest)
			Expect(e.Status).To(Equal(http.StatusBadRequest))
			Expect(e.Token).To(HavePrefix("at_"), "the event names the token sent in the query")

			By("refusing it beside a header too: one method per request")
			r = h.get(simulator.PathResourceMe+"?access_token="+url.QueryEscape(t.Access), "Authorization", "Bearer "+t.Access)
			Expect(r.status).To(Equal(http.StatusBadRequest))
			Expect(h.me(t.Access).status).To(Equal(http.StatusOK))
		})

		It("reads no token from a form body", func() {
			t := h.mint("demo", "bob", "offline_access api")
			r := h.postForm(simulator.PathResourceMe, url.Values{"access_token": {t.Access}}, "", "")
			Expect(r.status).To(Equal(http.StatusUnauthorized))
			Expect(r.header.Get("WWW-Authenticate")).To(Equal(`Bearer realm="oauthsim"`))
		})
	})

	It("keeps accepting another port on a loopback redirect URI (RFC 8252 §7.3)", func() {
		_, challenge := pkce()
		r := h.get(authorizeURL("demo-public", "openid", challenge, "login_hint", "alice", "redirect_uri", "http://127.0.0.1:9999/callback"))
		Expect(r.status).To(Equal(http.StatusSeeOther))
		Expect(r.header.Get("Location")).To(HavePrefix("http://127.0.0.1:9999/callback?code="))
	})

	Describe("clients and users", func() {
		DescribeTable("refuses a redirect URI whose scheme the browser runs itself",
			func(uri string) {
				r := h.control(http.MethodPost, "/clients", map[string]any{"client_id": "x", "client_secret": "s", "redirect_uris": []string{uri}})
				Expect(r.status).To(Equal(http.StatusBadRequest))
				Expect(r.str("error_description")).To(ContainSubstring("runs or renders itself"))
			},
			Entry("javascript:", "javascript:alert(document.cookie)"),
			Entry("JavaScript: in capitals", "JavaScript:alert(1)"),
			Entry("data:", "data:text/html,<script>alert(1)</script>"),
			Entry("vbscript:", "vbscript:msgbox(1)"),
		)

		It("takes a private-use scheme (RFC 8252 §7.1)", func() {
			r := h.control(http.MethodPost, "/clients", map[string]any{"client_id": "app", "public": true, "redirect_uris": []string{"com.example.app:/callback"}})
			Expect(r.status).To(Equal(http.StatusCreated), "%s", r.body)
		})

		It("refuses a config file that lists a user or client id twice, naming both places", func() {
			_, err := simulator.ParseConfig("c.yaml", []byte(`users:
  - id: carol
  - id: dave
  - id: carol
clients:
  - client_id: app
    client_secret: s
    redirect_uris: [http://127.0.0.1:3000/cb]
  - client_id: app
    client_secret: t
    redirect_uris: [javascript:alert(1)]
`))
			Expect(err).To(MatchError(And(
				ContainSubstring(`c.yaml:4:5: users[2]: id "carol" is users[0]'s already`),
				ContainSubstring(`c.yaml:9:5: clients[1]: id "app" is clients[0]'s already`),
				ContainSubstring(`redirect URI "javascript:alert(1)"`))))
		})

		It("refuses the same through the Go API", func() {
			_, err := simulator.New(simulator.WithUsers(simulator.User{ID: "carol"}, simulator.User{ID: "carol", Name: "Carol Two"}))
			Expect(err).To(MatchError(ContainSubstring(`users[1]: id "carol" is users[0]'s already`)))
		})
	})
})
