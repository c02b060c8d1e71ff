package simulator_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

var _ = Describe("The movable clock", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	It("kills a 60-minute access token 61 sim minutes later, with no wall time passing", func() {
		t := h.mint("demo", "alice", "openid offline_access api")
		Expect(t.ExpiresIn).To(BeNumerically("==", 3600))

		By("using the token while it lives")
		r := h.me(t.Access)
		Expect(r.status).To(Equal(http.StatusOK))
		Expect(r.json()).To(Equal(map[string]any{"sub": "alice", "client_id": "demo", "scope": "openid offline_access api"}))
		Expect(h.introspect(t.Access)).To(HaveKeyWithValue("active", true))

		By("advancing the clock 59 minutes: still alive")
		h.advance("59m")
		Expect(h.me(t.Access).status).To(Equal(http.StatusOK))

		By("advancing 2 more minutes: dead at the resource and at introspection")
		started := time.Now()
		h.advance("2m")
		r = h.me(t.Access)
		Expect(r.status).To(Equal(http.StatusUnauthorized))
		Expect(r.header.Get("WWW-Authenticate")).To(ContainSubstring(`error="invalid_token"`))
		Expect(h.introspect(t.Access)).To(Equal(map[string]any{"active": false}))
		Expect(time.Since(started)).To(BeNumerically("<", 5*time.Second), "the expiry must come from the sim clock, not from waiting")
	})

	It("says in the event why a token was refused: expired apart from revoked", func() {
		t := h.mint("demo", "alice", "openid offline_access api")
		h.advance("61m")
		Expect(h.me(t.Access).status).To(Equal(http.StatusUnauthorized))
		fresh := decodeTokens(h.refresh(t.Refresh))
		h.control(http.MethodPost, "/revocations", map[string]any{"user": "alice"})
		Expect(h.me(fresh.Access).status).To(Equal(http.StatusUnauthorized))
		Expect(h.refresh(fresh.Refresh).status).To(Equal(http.StatusBadRequest))

		var reasons []string
		for _, e := range h.events() {
			if e.Status != 0 && e.Status != http.StatusOK && e.Status != http.StatusCreated {
				reasons = append(reasons, string(e.Kind)+" "+e.Reason)
			}
		}
		Expect(reasons).To(Equal([]string{"resource_request expired", "resource_request revoked", "token_request revoked"}))
	})

	It("shows a token tap every token it mints, and only those", func() {
		var mu sync.Mutex
		seen := map[string]fosite.TokenType{}
		h = newHarness(simulator.WithTokenTap(func(kind fosite.TokenType, token string) {
			mu.Lock()
			defer mu.Unlock()
			seen[token] = kind
		}))
		t := h.mint("demo", "alice", "openid offline_access api")
		fresh := decodeTokens(h.refresh(t.Refresh))
		mu.Lock()
		defer mu.Unlock()
		Expect(seen).To(HaveKeyWithValue(t.Access, fosite.AccessToken))
		Expect(seen).To(HaveKeyWithValue(t.Refresh, fosite.RefreshToken))
		Expect(seen).To(HaveKeyWithValue(fresh.Access, fosite.AccessToken))
		Expect(seen).To(HaveKeyWithValue(fresh.Refresh, fosite.RefreshToken))
		Expect(slices.Sorted(maps.Values(seen))).To(Equal([]fosite.TokenType{fosite.AccessToken, fosite.AccessToken, fosite.AuthorizeCode, fosite.RefreshToken, fosite.RefreshToken}),
			"minting a grant redeems one code, as the token endpoint would")
	})

	It("reports sim time in the Date header, expires_in, introspection and the id_token", func() {
		h.advance("3d")
		now := epoch.Add(72 * time.Hour)
		t := h.mint("demo", "alice", "openid offline_access")

		r := h.get(simulator.PathOIDCDiscovery)
		date, err := http.ParseTime(r.header.Get("Date"))
		Expect(err).NotTo(HaveOccurred())
		Expect(date).To(BeTemporally("==", now))

		info := h.introspect(t.Access)
		Expect(info["iat"]).To(BeNumerically("==", now.Unix()))
		Expect(info["exp"]).To(BeNumerically("==", now.Add(time.Hour).Unix()))
		Expect(info["sub"]).To(Equal("alice"))

		claims := verifyIDToken(h, t.IDToken)
		Expect(claims.IssuedAt.Time()).To(BeTemporally("==", now))
		Expect(claims.Expiry.Time()).To(BeTemporally("==", now.Add(time.Hour)))
		Expect(claims.Issuer).To(Equal(h.srv.URL))
		Expect(claims.Subject).To(Equal("alice"))
		Expect([]string(claims.Audience)).To(ConsistOf("demo"))
	})

	It("moves by set as well as by advance, and records the move", func() {
		r := h.control(http.MethodPost, "/clock", map[string]string{"set": "2027-03-01T12:00:00Z"})
		Expect(r.status).To(Equal(http.StatusOK))
		Expect(r.str("now")).To(Equal("2027-03-01T12:00:00Z"))
		Expect(h.control(http.MethodGet, "/clock", nil).str("now")).To(Equal("2027-03-01T12:00:00Z"))
		h.advance("7d")
		Expect(h.clock.Now()).To(BeTemporally("==", time.Date(2027, 3, 8, 12, 0, 0, 0, time.UTC)))
		Expect(kinds(h.events())).To(Equal([]events.Kind{events.ClockMoved, events.ClockMoved}))
	})

	It("expires authorization codes after 10 sim minutes", func() {
		verifier, challenge := pkce()
		code := codeFrom(h.get(authorizeURL("demo-public", "openid", challenge, "login_hint", "alice")))
		h.advance("10m1s")
		r := h.postForm(simulator.PathToken, url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {simulator.DemoRedirectURI},
			"client_id": {"demo-public"}, "code_verifier": {verifier},
		}, "", "")
		Expect(r.status).To(Equal(http.StatusBadRequest))
		Expect(r.str("error")).To(Equal("invalid_grant"))
	})
})

// verifyIDToken checks an id_token's signature against the JWKS endpoint and returns its claims.
func verifyIDToken(h *harness, raw string) jwt.Claims {
	GinkgoHelper()
	var set jose.JSONWebKeySet
	r := h.get(simulator.PathJWKS)
	Expect(r.status).To(Equal(http.StatusOK))
	Expect(json.Unmarshal(r.body, &set)).To(Succeed())
	Expect(set.Keys).To(HaveLen(1))
	tok, err := jwt.ParseSigned(raw)
	Expect(err).NotTo(HaveOccurred())
	Expect(tok.Headers[0].KeyID).To(Equal(set.Keys[0].KeyID))
	var claims jwt.Claims
	Expect(tok.Claims(set.Keys[0].Key, &claims)).To(Succeed())
	return claims
}

var _ = Describe("The authorization code flow", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	It("completes headlessly for a public client with PKCE, login_hint and auto-consent", func() {
		verifier, challenge := pkce()
		code := codeFrom(h.get(authorizeURL("demo-public", "openid offline_access api", challenge, "login_hint", "bob", "nonce", "nonce-1234567")))
		r := h.postForm(simulator.PathToken, url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {simulator.DemoRedirectURI},
			"client_id": {"demo-public"}, "code_verifier": {verifier},
		}, "", "")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		Expect(r.header.Get("Cache-Control")).To(Equal("no-store"))
		t := decodeTokens(r)
		Expect(t.TokenType).To(Equal("Bearer"))
		Expect(t.Refresh).NotTo(BeEmpty())
		Expect(h.me(t.Access).json()).To(HaveKeyWithValue("sub", "bob"))

		tok, err := jwt.ParseSigned(t.IDToken)
		Expect(err).NotTo(HaveOccurred())
		var extra struct {
			Nonce string `json:"nonce"`
			Auth  int64  `json:"auth_time"`
		}
		Expect(tok.UnsafeClaimsWithoutVerification(&extra)).To(Succeed())
		Expect(extra.Nonce).To(Equal("nonce-1234567"))
		Expect(extra.Auth).To(Equal(epoch.Unix()))
		verifyIDToken(h, t.IDToken)
	})

	It("requires PKCE from public clients", func() {
		r := h.get(authorizeURL("demo-public", "openid", "", "login_hint", "alice"))
		Expect(r.status).To(Equal(http.StatusSeeOther))
		loc, err := url.Parse(r.header.Get("Location"))
		Expect(err).NotTo(HaveOccurred())
		Expect(loc.Query().Get("error")).To(Equal("invalid_request"))
	})

	It("refuses a code verifier that does not match the challenge", func() {
		_, challenge := pkce()
		code := codeFrom(h.get(authorizeURL("demo-public", "openid", challenge, "login_hint", "alice")))
		r := h.postForm(simulator.PathToken, url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {simulator.DemoRedirectURI},
			"client_id": {"demo-public"}, "code_verifier": {strings.Repeat("x", 50)},
		}, "", "")
		Expect(r.status).To(Equal(http.StatusBadRequest))
		Expect(r.str("error")).To(Equal("invalid_grant"))
	})

	It("shows a person a login page, then completes when they pick a user", func() {
		_, challenge := pkce()
		page := h.get(authorizeURL("demo", "openid api", challenge))
		Expect(page.status).To(Equal(http.StatusOK))
		Expect(page.header.Get("Content-Type")).To(HavePrefix("text/html"))
		Expect(string(page.body)).To(ContainSubstring(`name="user" value="alice"`))
		Expect(string(page.body)).To(ContainSubstring(`name="user" value="bob"`))

		form := url.Values{"user": {"alice"}}
		for k, v := range parseAuthorizeQuery(authorizeURL("demo", "openid api", challenge)) {
			form[k] = v
		}
		r := h.postForm(simulator.PathAuthorize, form, "", "")
		Expect(codeFrom(r)).NotTo(BeEmpty())
	})

	It("answers prompt=none without a user with login_required", func() {
		_, challenge := pkce()
		r := h.get(authorizeURL("demo", "openid", challenge, "prompt", "none"))
		Expect(r.status).To(Equal(http.StatusSeeOther))
		Expect(r.header.Get("Location")).To(ContainSubstring("error=login_required"))
	})

	It("shows the login page instead of auto-approving when auto-approve is off", func() {
		h = newHarness(simulator.WithAutoApprove(false))
		_, challenge := pkce()
		r := h.get(authorizeURL("demo", "openid", challenge, "login_hint", "alice"))
		Expect(r.status).To(Equal(http.StatusOK))
		Expect(string(r.body)).To(ContainSubstring("Sign in to oauthsim"))
	})

	It("revokes what a code produced when the code is redeemed twice", func() {
		verifier, challenge := pkce()
		code := codeFrom(h.get(authorizeURL("demo-public", "openid offline_access", challenge, "login_hint", "alice")))
		form := url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {simulator.DemoRedirectURI},
			"client_id": {"demo-public"}, "code_verifier": {verifier},
		}
		first := h.postForm(simulator.PathToken, form, "", "")
		Expect(first.status).To(Equal(http.StatusOK))
		second := h.postForm(simulator.PathToken, form, "", "")
		Expect(second.status).To(Equal(http.StatusBadRequest))
		Expect(second.str("error")).To(Equal("invalid_grant"))
		Expect(h.me(decodeTokens(first).Access).status).To(Equal(http.StatusUnauthorized))
		Expect(kinds(h.events())).To(ContainElements(events.CodeReuseDetected, events.FamilyRevoked))
	})

	It("issues tokens to a confidential client over the code flow with HTTP Basic", func() {
		verifier, challenge := pkce()
		code := codeFrom(h.get(authorizeURL("demo", "offline_access api", challenge, "login_hint", "alice")))
		r := h.postForm(simulator.PathToken, url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {simulator.DemoRedirectURI}, "code_verifier": {verifier},
		}, "demo", "demo-secret")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		t := decodeTokens(r)
		Expect(t.IDToken).To(BeEmpty(), "no openid scope, no id_token")
		Expect(t.Refresh).NotTo(BeEmpty())
	})
})

var _ = Describe("Offline access", func() {
	It("issues refresh tokens only with the offline_access scope under the generic profile", func() {
		h := newHarness()
		Expect(h.mint("demo", "alice", "openid api").Refresh).To(BeEmpty())
		Expect(h.mint("demo", "alice", "openid offline_access").Refresh).NotTo(BeEmpty())
	})

	It("issues them only for access_type=offline when the profile says so, as Google does", func() {
		p := profile.Generic()
		p.OfflineAccess = profile.OfflineAccessType
		h := newHarness(simulator.WithProfile(p))
		Expect(h.mint("demo", "alice", "openid offline_access").Refresh).To(BeEmpty())
		r := h.control(http.MethodPost, "/grants", map[string]string{"client_id": "demo", "user": "alice", "scope": "openid api", "access_type": "offline"})
		Expect(r.status).To(Equal(http.StatusCreated))
		Expect(decodeTokens(r).Refresh).NotTo(BeEmpty())
	})
})

var _ = Describe("client_credentials", func() {
	It("issues an access token with no refresh token and no user", func() {
		h := newHarness()
		r := h.postForm(simulator.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}}, "demo", "demo-secret")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		t := decodeTokens(r)
		Expect(t.Refresh).To(BeEmpty())
		Expect(t.Scope).To(Equal("api"))
		me := h.me(t.Access)
		Expect(me.status).To(Equal(http.StatusOK))
		Expect(me.json()).To(HaveKeyWithValue("client_id", "demo"))
	})

	It("accepts client_secret_post as well as client_secret_basic", func() {
		h := newHarness()
		r := h.postForm(simulator.PathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo"}, "client_secret": {"demo-secret"}}, "", "")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
	})
})

var _ = Describe("Discovery", func() {
	It("serves RFC 8414 metadata and OpenID discovery with matching endpoints", func() {
		h := newHarness()
		for _, path := range []string{simulator.PathASMetadata, simulator.PathOIDCDiscovery} {
			r := h.get(path)
			Expect(r.status).To(Equal(http.StatusOK))
			m := r.json()
			Expect(m).To(HaveKeyWithValue("issuer", h.srv.URL))
			Expect(m).To(HaveKeyWithValue("token_endpoint", h.srv.URL+simulator.PathToken))
			Expect(m).To(HaveKeyWithValue("revocation_endpoint", h.srv.URL+simulator.PathRevoke))
			Expect(m).To(HaveKeyWithValue("introspection_endpoint", h.srv.URL+simulator.PathIntrospect))
			Expect(m).To(HaveKeyWithValue("jwks_uri", h.srv.URL+simulator.PathJWKS))
			Expect(m["code_challenge_methods_supported"]).To(ConsistOf("S256"))
			Expect(m["id_token_signing_alg_values_supported"]).To(ConsistOf("RS256"))
		}
	})

	It("serves userinfo for a token with the openid scope", func() {
		h := newHarness()
		t := h.mint("demo", "alice", "openid profile")
		r := h.get(simulator.PathUserinfo, "Authorization", "Bearer "+t.Access)
		Expect(r.status).To(Equal(http.StatusOK))
		Expect(r.json()).To(Equal(map[string]any{"sub": "alice", "name": "Alice Example", "preferred_username": "alice"}))
		t = h.mint("demo", "alice", "api")
		Expect(h.get(simulator.PathUserinfo, "Authorization", "Bearer "+t.Access).status).To(Equal(http.StatusForbidden))
	})
})

func parseAuthorizeQuery(u string) url.Values {
	GinkgoHelper()
	parsed, err := url.Parse(u)
	Expect(err).NotTo(HaveOccurred())
	return parsed.Query()
}

var _ = Describe("A sim clock far from the wall clock", func() {
	DescribeTable("changes nothing a client sees except the times",
		func(start time.Time) {
			fake := clock.NewFake(start)
			h := newHarness(simulator.WithClock(fake))
			verifier, challenge := pkce()
			code := codeFrom(h.get(authorizeURL("demo-public", "openid offline_access", challenge,
				"login_hint", "alice", "prompt", "login", "max_age", "60", "nonce", "nonce-1234567")))
			r := h.postForm(simulator.PathToken, url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {simulator.DemoRedirectURI},
				"client_id": {"demo-public"}, "code_verifier": {verifier},
			}, "", "")
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
			t := decodeTokens(r)
			Expect(t.ExpiresIn).To(BeNumerically("==", 3600))
			claims := verifyIDToken(h, t.IDToken)
			Expect(claims.IssuedAt.Time()).To(BeTemporally("==", start))

			h.advance("30m")
			r = h.postForm(simulator.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t.Refresh}, "client_id": {"demo-public"}}, "", "")
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
			next := decodeTokens(r)
			Expect(next.ExpiresIn).To(BeNumerically("==", 3600))
			Expect(verifyIDToken(h, next.IDToken).IssuedAt.Time()).To(BeTemporally("==", start.Add(30*time.Minute)))
			// demo-public has no secret: it introspects with an access token of its own.
			Expect(h.introspectWith(t.Access, next.Access).json()).To(HaveKeyWithValue("exp", BeNumerically("==", start.Add(90*time.Minute).Unix())))
			h.advance("61m")
			Expect(h.me(next.Access).status).To(Equal(http.StatusUnauthorized))
		},
		Entry("years ahead", time.Date(2035, 6, 1, 0, 0, 0, 0, time.UTC)),
		Entry("years behind", time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC)),
	)
})
