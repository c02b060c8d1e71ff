package simulator_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-jose/go-jose/v3"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// jwtParts decodes a JWT-shaped token's header and payload.
func jwtParts(token string) (header, payload map[string]any) {
	GinkgoHelper()
	parts := strings.Split(token, ".")
	Expect(parts).To(HaveLen(3), "not a JWS compact serialization: %s", token)
	for i, into := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(b, into)).To(Succeed(), "part %d: %s", i, b)
	}
	return header, payload
}

// keycloakHarness is a simulator with the keycloak profile, edited, and the
// specs' single-page application.
func keycloakHarness(edit func(*profile.Profile), opts ...simulator.Option) *harness {
	GinkgoHelper()
	p, err := profile.Builtin("keycloak")
	Expect(err).NotTo(HaveOccurred())
	if edit != nil {
		edit(&p)
	}
	return newHarness(append([]simulator.Option{simulator.WithProfile(p), simulator.WithClients(spaClient)}, opts...)...)
}

var _ = Describe("CORS with credentials (keycloak)", func() {
	It("answers a single-page application's allowed origin with Access-Control-Allow-Credentials: true and the origin itself", func() {
		h := keycloakHarness(nil)
		t := h.mint("spa", "alice", "openid offline_access api")
		r := h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, refreshForm("spa", t.Refresh), "")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		Expect(r.header.Get("Access-Control-Allow-Origin")).To(Equal(appOrigin))
		Expect(r.header.Get("Access-Control-Allow-Credentials")).To(Equal("true"))

		pre := h.preflight(simulator.PathToken, appOrigin, http.MethodPost, "content-type")
		Expect(pre.header.Get("Access-Control-Allow-Origin")).To(Equal(appOrigin))
		Expect(pre.header.Get("Access-Control-Allow-Credentials")).To(Equal("true"))
	})

	It("still allows no other origin, and leaves the open endpoints without credentials", func() {
		h := keycloakHarness(nil)
		t := h.mint("spa", "alice", "openid offline_access api")
		r := h.crossOrigin(http.MethodPost, simulator.PathToken, otherOrigin, refreshForm("spa", t.Refresh), "")
		Expect(r.header).NotTo(HaveKey("Access-Control-Allow-Origin"))
		Expect(r.header).NotTo(HaveKey("Access-Control-Allow-Credentials"))
		d := h.get(simulator.PathOIDCDiscovery, "Origin", otherOrigin)
		Expect(d.header.Get("Access-Control-Allow-Origin")).To(Equal(otherOrigin))
		Expect(d.header).NotTo(HaveKey("Access-Control-Allow-Credentials"))
	})

	It("is off where the profile does not say so", func() {
		h := keycloakHarness(func(p *profile.Profile) { p.Shape.CORSAllowCredentials = false })
		t := h.mint("spa", "alice", "openid offline_access api")
		r := h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, refreshForm("spa", t.Refresh), "")
		Expect(r.header.Get("Access-Control-Allow-Origin")).To(Equal(appOrigin))
		Expect(r.header).NotTo(HaveKey("Access-Control-Allow-Credentials"))
	})
})

var _ = Describe("JWT-shaped tokens (keycloak, shape.token_format: jwt)", func() {
	var (
		h      *harness
		tapped []string
	)
	BeforeEach(func() {
		tapped = nil
		h = keycloakHarness(nil, simulator.WithTokenTap(func(kind fosite.TokenType, token string) {
			if kind != fosite.AuthorizeCode {
				tapped = append(tapped, token)
			}
		}))
	})

	It("issues an RS256 access token the JWKS verifies and an HS512 refresh token, with the claims keycloak-js reads", func() {
		t := h.mint("spa", "alice", "openid offline_access profile api")
		ah, ap := jwtParts(t.Access)
		Expect(ah).To(HaveKeyWithValue("alg", "RS256"))
		Expect(ap).To(HaveKeyWithValue("typ", "Bearer"))
		Expect(ap).To(HaveKeyWithValue("sub", "alice"))
		Expect(ap).To(HaveKeyWithValue("azp", "spa"))
		Expect(ap).To(HaveKeyWithValue("scope", "openid offline_access profile api"))
		Expect(ap["iat"]).To(BeEquivalentTo(epoch.Unix()))
		Expect(ap["exp"]).To(BeEquivalentTo(epoch.Unix() + 300))
		Expect(ap["jti"]).NotTo(BeEmpty())
		Expect(ap["sid"]).To(Equal(t.Family))

		var jwks jose.JSONWebKeySet
		Expect(json.Unmarshal(h.get(simulator.PathJWKS).body, &jwks)).To(Succeed())
		keys := jwks.Key(ah["kid"].(string))
		Expect(keys).To(HaveLen(1), "the access token's kid is published")
		parts := strings.Split(t.Access, ".")
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		Expect(err).NotTo(HaveOccurred())
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		Expect(rsa.VerifyPKCS1v15(keys[0].Key.(*rsa.PublicKey), crypto.SHA256, sum[:], sig)).To(Succeed())

		rh, rp := jwtParts(t.Refresh)
		Expect(rh).To(HaveKeyWithValue("alg", "HS512"))
		Expect(rh).NotTo(HaveKey("kid"))
		Expect(rp).To(HaveKeyWithValue("typ", "Refresh"))
		Expect(rp).To(HaveKeyWithValue("sid", ap["sid"]))
		Expect(rp["exp"]).To(BeEquivalentTo(epoch.Unix()+30*60), "the SSO Session Idle from its issue")
		Expect(tapped).To(ConsistOf(t.Access, t.Refresh), "the tap, and so the harness's leak checks, sees the tokens as issued")
	})

	It("keeps the books on them: the resource, introspection, refresh, expiry, revocation", func() {
		t := h.mint("spa", "alice", "openid offline_access api")
		Expect(h.me(t.Access).status).To(Equal(http.StatusOK))
		Expect(h.introspectWith(t.Access, t.Refresh).json()).To(HaveKeyWithValue("active", true))

		h.advance("6m")
		Expect(h.me(t.Access).status).To(Equal(http.StatusUnauthorized), "past its 5 minutes")
		r := h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, refreshForm("spa", t.Refresh), "")
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		next := decodeTokens(r)
		_, np := jwtParts(next.Refresh)
		Expect(np["exp"]).To(BeEquivalentTo(epoch.Unix() + 6*60 + 30*60))
		Expect(h.me(next.Access).status).To(Equal(http.StatusOK))

		h.advance("31m")
		late := h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, refreshForm("spa", next.Refresh), "")
		Expect(late.status).To(Equal(http.StatusBadRequest))
		Expect(late.str("error_description")).To(Equal("Token is not active"))
		Expect(h.lastRequest(events.TokenRequest).Reason).To(Equal(events.RefusedInactive))

		again := h.mint("spa", "alice", "openid offline_access api")
		revoked := h.crossOrigin(http.MethodPost, simulator.PathRevoke, appOrigin, url.Values{"token": {again.Refresh}, "client_id": {"spa"}}, "")
		Expect(revoked.status).To(Equal(http.StatusOK), "%s", revoked.body)
		Expect(h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, refreshForm("spa", again.Refresh), "").status).To(Equal(http.StatusBadRequest))
		Expect(h.me(again.Access).status).To(Equal(http.StatusUnauthorized))
	})

	It("detects the reuse of a rotated refresh token with Revoke Refresh Token on", func() {
		h := keycloakHarness(func(p *profile.Profile) {
			p.Refresh.Rotation, p.Refresh.ReuseDetection = profile.RotationRotate, profile.ReuseRevokeFamily
		})
		t := h.mint("spa", "alice", "openid offline_access api")
		first := h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, refreshForm("spa", t.Refresh), "")
		Expect(first.status).To(Equal(http.StatusOK), "%s", first.body)
		reused := h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, refreshForm("spa", t.Refresh), "")
		Expect(reused.status).To(Equal(http.StatusBadRequest))
		Expect(reused.str("error_description")).To(Equal("Maximum allowed refresh token reuse exceeded"))
		Expect(h.lastRequest(events.TokenRequest).Reason).To(Equal(events.RefusedReused))
		rotated := decodeTokens(first)
		Expect(h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, refreshForm("spa", rotated.Refresh), "").status).
			To(Equal(http.StatusBadRequest), "the family is revoked")
	})

	DescribeTable("refuses a token whose payload or signature was changed",
		func(alter func(parts []string) []string) {
			t := h.mint("spa", "alice", "openid offline_access api")
			forge := func(token string) string { return strings.Join(alter(strings.Split(token, ".")), ".") }
			Expect(h.me(forge(t.Access)).status).To(Equal(http.StatusUnauthorized))
			r := h.crossOrigin(http.MethodPost, simulator.PathToken, appOrigin, refreshForm("spa", forge(t.Refresh)), "")
			Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
			Expect(h.introspectWith(t.Access, t.Refresh).json()).To(HaveKeyWithValue("active", true))
			Expect(h.introspectWith(t.Access, forge(t.Refresh)).json()).To(HaveKeyWithValue("active", false))
		},
		Entry("a later exp", func(parts []string) []string {
			b, _ := base64.RawURLEncoding.DecodeString(parts[1])
			var p map[string]any
			_ = json.Unmarshal(b, &p)
			p["exp"] = p["exp"].(float64) + 3600
			b, _ = json.Marshal(p)
			return []string{parts[0], base64.RawURLEncoding.EncodeToString(b), parts[2]}
		}),
		Entry("no signature", func(parts []string) []string { return []string{parts[0], parts[1], ""} }),
		Entry("alg none", func(parts []string) []string {
			return []string{base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)), parts[1], ""}
		}),
	)

	It("leaves the default profile's tokens opaque", func() {
		h := newHarness(simulator.WithClients(spaClient))
		t := h.mint("spa", "alice", "openid offline_access api")
		Expect(strings.Count(t.Access, ".")).To(Equal(1))
		Expect(strings.Count(t.Refresh, ".")).To(Equal(1))
	})
})
