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

// appOrigin is the page of the single-page application the specs register
// (spaClient), and otherOrigin a page it does not allow.
const (
	appOrigin   = "http://app.localhost:5173"
	otherOrigin = "http://elsewhere.localhost:5173"
)

// spaClient is a single-page application whose allowed origins default to
// its redirect URI's.
var spaClient = simulator.Client{
	ID: "spa", Public: true, Platform: simulator.PlatformSPA,
	RedirectURIs: []string{appOrigin + "/callback"},
}

// crossOrigin sends a request as a page at origin would: with its Origin
// header, and with an Authorization header when bearer is not empty.
func (h *harness) crossOrigin(method, path, origin string, form url.Values, bearer string) reply {
	GinkgoHelper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	Expect(err).NotTo(HaveOccurred())
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return h.do(req)
}

// preflight sends the CORS preflight a browser sends before a request with
// method and the extra headers from a page at origin.
func (h *harness) preflight(path, origin, method, headers string) reply {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodOptions, h.srv.URL+path, nil)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	return h.do(req)
}

// refreshForm is a public client's refresh request.
func refreshForm(client, rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {client}}
}

// lastRequest is the last event of kind in the log.
func (h *harness) lastRequest(kind events.Kind) events.Event {
	GinkgoHelper()
	evs := h.events()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == kind {
			return evs[i]
		}
	}
	Fail("no " + string(kind) + " event")
	return events.Event{}
}

var _ = Describe("CORS", func() {
	var h *harness
	BeforeEach(func() {
		h = newHarness(simulator.WithClients(spaClient))
	})

	DescribeTable("answers a page at any origin at discovery, the JWKS and the protected resource",
		func(path, method, headers string) {
			r := h.preflight(path, otherOrigin, method, headers)
			Expect(r.status).To(Equal(http.StatusNoContent))
			Expect(r.header.Get("Access-Control-Allow-Origin")).To(Equal(otherOrigin))
			Expect(r.header.Get("Access-Control-Allow-Methods")).To(Equal(method))
			Expect(r.header.Get("Access-Control-Max-Age")).To(Equal("600"))
			Expect(r.header.Values("Vary")).To(ContainElement(ContainSubstring("Origin")))
			if headers != "" {
				Expect(strings.ToLower(r.header.Get("Access-Control-Allow-Headers"))).To(Equal(headers))
			}
		},
		Entry("OpenID Connect discovery", simulator.PathOIDCDiscovery, http.MethodGet, ""),
		Entry("RFC 8414 metadata", simulator.PathASMetadata, http.MethodGet, ""),
		Entry("the JWKS", simulator.PathJWKS, http.MethodGet, ""),
		Entry("the resource, with an access token", simulator.PathResourceMe, http.MethodGet, "authorization"),
	)

	It("lets a page read the resource's answers, its challenge and Retry-After among them", func() {
		t := h.mint("demo", "alice", "openid api")
		ok := h.crossOrigin(http.MethodGet, simulator.PathResourceMe, otherOrigin, nil, t.Access)
		Expect(ok.status).To(Equal(http.StatusOK))
		Expect(ok.header.Get("Access-Control-Allow-Origin")).To(Equal(otherOrigin))
		Expect(ok.header.Values("Vary")).To(ContainElement("Origin"))

		refused := h.crossOrigin(http.MethodGet, simulator.PathResourceMe, otherOrigin, nil, "not-a-token")
		Expect(refused.status).To(Equal(http.StatusUnauthorized))
		Expect(refused.header.Get("Access-Control-Allow-Origin")).To(Equal(otherOrigin))
		exposed := refused.header.Get("Access-Control-Expose-Headers")
		Expect(exposed).To(ContainSubstring("Www-Authenticate"))
		Expect(exposed).To(ContainSubstring("Retry-After"))
		Expect(h.lastRequest(events.ResourceRequest).Origin).To(Equal(otherOrigin))
	})

	It("adds nothing to a request without an Origin header, from a process", func() {
		t := h.mint("spa", "alice", "openid offline_access api")
		r := h.postForm(simulator.PathToken, refreshForm("spa", t.Refresh), "", "")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		Expect(r.header).NotTo(HaveKey("Access-Control-Allow-Origin"))
		Expect(r.header).NotTo(HaveKey("Vary"))
		e := h.lastRequest(events.TokenRequest)
		Expect(e.Origin).To(BeEmpty())
		Expect(e.CORSRefused).To(BeEmpty())
	})

	Describe("at the token, revocation and userinfo endpoints", func() {
		DescribeTable("answers a preflight from a single-page application's allowed origin, and only from one",
			func(path, origin string, allowed bool) {
				r := h.preflight(path, origin, http.MethodPost, "content-type")
				Expect(r.status).To(Equal(http.StatusNoContent))
				if allowed {
					Expect(r.header.Get("Access-Control-Allow-Origin")).To(Equal(origin))
					Expect(r.header.Get("Access-Control-Allow-Methods")).To(Equal(http.MethodPost))
				} else {
					Expect(r.header).NotTo(HaveKey("Access-Control-Allow-Origin"))
					Expect(r.header).NotTo(HaveKey("Access-Control-Allow-Methods"))
				}
			},
			Entry("token, allowed origin", simulator.PathToken, appOrigin, true),
			Entry("token, another origin", simulator.PathToken, otherOrigin, false),
			Entry("revocation, allowed origin", simulator.PathRevoke, appOrigin, true),
			Entry("revocation, another origin", simulator.PathRevoke, otherOrigin, false),
			Entry("userinfo, allowed origin", simulator.PathUserinfo, appOrigin, true),
			Entry("userinfo, another origin", simulator.PathUserinfo, otherOrigin, false),
		)

		It("lets the single-page application's page read a refresh, userinfo and a revocation", func() {
			t := h.mint("spa", "alice", "openid offline_access profile api")
			r := h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, refreshForm("spa", t.Refresh), "")
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
			Expect(r.header.Get("Access-Control-Allow-Origin")).To(Equal(appOrigin))
			Expect(r.header.Values("Vary")).To(ContainElement("Origin"))
			e := h.lastRequest(events.TokenRequest)
			Expect(e.Origin).To(Equal(appOrigin))
			Expect(e.CORSRefused).To(BeEmpty())
			rotated := decodeTokens(r)

			info := h.crossOrigin(http.MethodGet, simulator.PathUserinfo, appOrigin, nil, rotated.Access)
			Expect(info.status).To(Equal(http.StatusOK), "%s", info.body)
			Expect(info.header.Get("Access-Control-Allow-Origin")).To(Equal(appOrigin))

			revoked := h.crossOrigin(http.MethodPost, simulator.PathRevoke, appOrigin, url.Values{"token": {rotated.Refresh}, "client_id": {"spa"}}, "")
			Expect(revoked.status).To(Equal(http.StatusOK), "%s", revoked.body)
			Expect(revoked.header.Get("Access-Control-Allow-Origin")).To(Equal(appOrigin))
			Expect(h.lastRequest(events.RevokeRequest).Origin).To(Equal(appOrigin))
		})

		DescribeTable("gives no CORS headers, so the browser keeps the page from the answer, and records why",
			func(client, origin string, why string) {
				form := url.Values{"grant_type": {"client_credentials"}, "client_id": {client}}
				if client == "spa" {
					form = refreshForm("spa", h.mint("spa", "alice", "openid offline_access api").Refresh)
				}
				r := h.crossOrigin(http.MethodPost, simulator.PathToken, origin, form, "")
				Expect(r.header).NotTo(HaveKey("Access-Control-Allow-Origin"))
				e := h.lastRequest(events.TokenRequest)
				Expect(e.Origin).To(Equal(origin))
				Expect(e.CORSRefused).To(ContainSubstring(why))
			},
			Entry("a confidential web client", "demo", appOrigin, `client "demo" is of platform web`),
			Entry("a native client", "demo-public", appOrigin, `client "demo-public" is of platform native`),
			Entry("a single-page application, from an origin it does not allow", "spa", otherOrigin, "origin "+otherOrigin+` is not one of client "spa"'s allowed origins (`+appOrigin+")"),
			Entry("a client that is not registered", "nobody", appOrigin, `no client "nobody" is registered`),
		)

		It("refuses a refresh from an origin the client does not allow, rotating nothing the page could not see", func() {
			t := h.mint("spa", "alice", "openid offline_access api")
			r := h.crossOrigin(http.MethodPost, simulator.PathToken, otherOrigin, refreshForm("spa", t.Refresh), "")
			Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
			Expect(r.json()["error"]).To(Equal("invalid_request"))
			Expect(r.header).NotTo(HaveKey("Access-Control-Allow-Origin"))
			again := h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, refreshForm("spa", t.Refresh), "")
			Expect(again.status).To(Equal(http.StatusOK), "the refresh token is still the current one: %s", again.body)
		})

		It("finds a userinfo request's client by its access token", func() {
			t := h.mint("demo", "alice", "openid api")
			r := h.crossOrigin(http.MethodGet, simulator.PathUserinfo, appOrigin, nil, t.Access)
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.header).NotTo(HaveKey("Access-Control-Allow-Origin"))
			Expect(h.lastRequest(events.ResourceRequest).CORSRefused).To(ContainSubstring(`client "demo" is of platform web`))
		})

		It("still answers a request whose body the handler must refuse", func() {
			r := h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, url.Values{"client_id": {"spa"}, "grant_type": {"password"}}, "")
			Expect(r.status).To(Equal(http.StatusBadRequest))
			Expect(r.json()["error"]).To(Equal("unsupported_grant_type"))
			Expect(r.header.Get("Access-Control-Allow-Origin")).To(Equal(appOrigin))
		})
	})
})

var _ = Describe("Entra's rule on cross-origin redemption", func() {
	var h *harness
	BeforeEach(func() {
		p, err := profile.Builtin("entra-spa")
		Expect(err).NotTo(HaveOccurred())
		h = newHarness(simulator.WithProfile(p), simulator.WithClients(spaClient))
	})

	It("refuses a token request from a page for a client that is no single-page application (AADSTS9002326), readable by the page", func() {
		r := h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo"}, "client_secret": {"demo-secret"}}, "")
		Expect(r.status).To(Equal(http.StatusBadRequest))
		Expect(r.str("error")).To(Equal("invalid_request"))
		Expect(r.str("error_description")).To(HavePrefix("AADSTS9002326: Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '" + appOrigin + "'.\r\nTrace ID: "))
		Expect(r.json()["error_codes"]).To(Equal([]any{float64(9002326)}))
		Expect(r.header.Get("Access-Control-Allow-Origin")).To(Equal(appOrigin))
		e := h.lastRequest(events.TokenRequest)
		Expect(e.Outcome).To(Equal(events.OutcomeDenied))
		Expect(e.Detail).To(ContainSubstring(`client "demo" is of platform web`))
	})

	It("shows an Origin that is no origin as null, so that the body stays JSON", func() {
		r := h.crossOrigin(http.MethodPost, simulator.PathToken, `x"}`, url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo"}, "client_secret": {"demo-secret"}}, "")
		Expect(r.str("error_description")).To(ContainSubstring("Request origin: 'null'."))
	})

	It("refuses a single-page application's refresh token redeemed without an Origin header (AADSTS9002327), and takes it from the page", func() {
		t := h.mint("spa", "alice", "openid offline_access api")
		r := h.postForm(simulator.PathToken, refreshForm("spa", t.Refresh), "", "")
		Expect(r.status).To(Equal(http.StatusBadRequest))
		Expect(r.str("error")).To(Equal("invalid_request"))
		Expect(r.str("error_description")).To(HavePrefix("AADSTS9002327: Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.\r\nTrace ID: "))
		Expect(r.json()["error_codes"]).To(Equal([]any{float64(9002327)}))

		ok := h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, refreshForm("spa", t.Refresh), "")
		Expect(ok.status).To(Equal(http.StatusOK), "%s", ok.body)
		Expect(ok.header.Get("Access-Control-Allow-Origin")).To(Equal(appOrigin))
	})

	It("leaves every other client's requests without an Origin as they were", func() {
		t := h.mint("demo", "alice", "openid offline_access api")
		Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK))
		pub := h.mint("demo-public", "alice", "openid offline_access api")
		Expect(h.postForm(simulator.PathToken, refreshForm("demo-public", pub.Refresh), "", "").status).To(Equal(http.StatusOK))
	})

	It("says what is wrong in RFC 6749's words at a profile without Entra's bodies", func() {
		p, err := profile.Builtin("generic")
		Expect(err).NotTo(HaveOccurred())
		p.SPARedemptionByOrigin = true
		h := newHarness(simulator.WithProfile(p), simulator.WithClients(spaClient))
		t := h.mint("spa", "alice", "openid offline_access api")
		r := h.postForm(simulator.PathToken, refreshForm("spa", t.Refresh), "", "")
		Expect(r.status).To(Equal(http.StatusBadRequest))
		Expect(r.str("error")).To(Equal("invalid_request"))
		Expect(r.str("error_description")).To(ContainSubstring("may be redeemed only from a browser page, with an Origin header"))
	})
})

var _ = Describe("A client's platform", func() {
	It("defaults to web for a confidential client and native for a public one", func() {
		h := newHarness()
		demo, err := h.srv.RegisteredClient("demo")
		Expect(err).NotTo(HaveOccurred())
		Expect(demo.Platform).To(Equal(simulator.PlatformWeb))
		pub, err := h.srv.RegisteredClient("demo-public")
		Expect(err).NotTo(HaveOccurred())
		Expect(pub.Platform).To(Equal(simulator.PlatformNative))
		Expect(pub.AllowedOrigins).To(BeEmpty())
	})

	It("gives a single-page application the origins of its redirect URIs, each once, unless it lists its own", func() {
		h := newHarness()
		c, err := h.srv.AddClient(simulator.Client{ID: "a", Public: true, Platform: simulator.PlatformSPA,
			RedirectURIs: []string{"http://App.localhost:80/cb", "http://app.localhost/other", "https://x.example:8443/cb"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.AllowedOrigins).To(Equal([]string{"http://app.localhost", "https://x.example:8443"}))
		c, err = h.srv.AddClient(simulator.Client{ID: "b", Public: true, Platform: simulator.PlatformSPA,
			RedirectURIs: []string{appOrigin + "/cb"}, AllowedOrigins: []string{otherOrigin}})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.AllowedOrigins).To(Equal([]string{otherOrigin}))
	})

	It("is set through the control API", func() {
		h := newHarness()
		r := h.control(http.MethodPost, "/clients", map[string]any{"client_id": "spa", "public": true, "platform": "spa",
			"redirect_uris": []string{appOrigin + "/callback"}})
		Expect(r.status).To(Equal(http.StatusCreated), "%s", r.body)
		Expect(r.json()).To(HaveKeyWithValue("allowed_origins", []any{appOrigin}))
		Expect(h.preflight(simulator.PathToken, appOrigin, http.MethodPost, "").header.Get("Access-Control-Allow-Origin")).To(Equal(appOrigin))
	})

	It("reports every misfit in a config file at its client's line and column", func() {
		file := `clients:
  - client_id: a
    client_secret: s
    platform: spa
    redirect_uris: [http://127.0.0.1:3000/callback]
  - client_id: b
    public: true
    platform: browser
    redirect_uris: [http://127.0.0.1:3000/callback]
  - client_id: c
    client_secret: s
    allowed_origins: [http://app.localhost:3000]
    redirect_uris: [http://127.0.0.1:3000/callback]
  - client_id: d
    public: true
    platform: spa
    allowed_origins: [http://app.localhost:3000/, "*"]
    redirect_uris: [http://127.0.0.1:3000/callback]
`
		_, err := simulator.ParseConfig("c.yaml", []byte(file))
		Expect(err).To(HaveOccurred())
		Expect(strings.Split(err.Error(), "\n")).To(Equal([]string{
			`c.yaml:2:5: clients[0]: client "a": a client of platform spa is public: a page in a browser cannot keep a client_secret`,
			`c.yaml:6:5: clients[1]: client "b": platform "browser" is not "web", "spa" or "native"`,
			`c.yaml:10:5: clients[2]: client "c": allowed_origins are for a client of platform spa, not web: only a single-page application calls the provider from a page`,
			`c.yaml:14:5: clients[3]: client "d": allowed origin "http://app.localhost:3000/" is not an origin: scheme://host[:port], lowercase, without a path or a trailing slash (as a browser sends it in the Origin header)`,
			`c.yaml:14:5: clients[3]: allowed origin "*" is not an origin: scheme://host[:port], lowercase, without a path or a trailing slash (as a browser sends it in the Origin header)`,
		}))
	})
})
