package simulator_test

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// twoApps are two confidential clients of one provider, as a tenant with
// two OAuth applications has them.
func twoApps() simulator.Option {
	app := func(id string) simulator.Client {
		return simulator.Client{ID: id, Secret: id + "-secret", RedirectURIs: []string{simulator.DemoRedirectURI}}
	}
	return simulator.WithClients(app("app-a"), app("app-b"))
}

// grantFor mints a grant with a refresh token for client, under the
// profile's offline-access rule.
func (h *harness) grantFor(client string) tokens {
	GinkgoHelper()
	return h.offlineGrantOf(client, "alice", "openid api")
}

// refreshAs refreshes rt with client's credentials.
func (h *harness) refreshAs(client, rt string) reply {
	GinkgoHelper()
	return h.postForm(simulator.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, client, client+"-secret")
}

// family is the store's account of family id.
func (h *harness) family(id string) simulator.FamilyInfo {
	GinkgoHelper()
	i := slices.IndexFunc(h.srv.Families(), func(f simulator.FamilyInfo) bool { return f.ID == id })
	Expect(i).NotTo(Equal(-1), "no family %s", id)
	return h.srv.Families()[i]
}

// expectWrongClient checks the event of the last token request: refused
// as wrong_client, for client, of owner's grant fam.
func (h *harness) expectWrongClient(client, owner, fam string) {
	GinkgoHelper()
	e := h.lastEvent(events.TokenRequest)
	Expect(e.Reason).To(Equal(events.RefusedWrongClient))
	Expect(e.Client).To(Equal(client))
	Expect(e.Owner).To(Equal(owner))
	Expect(e.Family).To(Equal(fam))
	Expect(e.User).To(Equal("alice"))
	Expect(e.Outcome).To(Equal(events.OutcomeDenied))
}

// expectGrantUntouched checks that nothing but requests happened to the
// grant since seq: no rotation, reuse, revocation or eviction.
func (h *harness) expectGrantUntouched(since uint64) {
	GinkgoHelper()
	for _, e := range h.events() {
		if e.Seq > since {
			Expect(e.Kind).To(Equal(events.TokenRequest), "a refused request of another client changed the grant: %+v", e)
		}
	}
}

func lastSeq(evs []events.Event) uint64 { return evs[len(evs)-1].Seq }

var _ = Describe("A refresh token presented by another client", func() {
	DescribeTable("is refused with the profile's answer, and stays its owner's",
		func(name string, status int, body map[string]any) {
			p, err := profile.Builtin(name)
			Expect(err).NotTo(HaveOccurred())
			h := newHarness(simulator.WithProfile(p), twoApps())
			a := h.grantFor("app-a")
			since := lastSeq(h.events())

			r := h.refreshAs("app-b", a.Refresh)
			Expect(r.status).To(Equal(status), "body: %s", r.body)
			got := r.json()
			for k, v := range body {
				Expect(got).To(HaveKeyWithValue(k, v))
			}
			h.expectWrongClient("app-b", "app-a", a.Family)
			h.expectGrantUntouched(since)

			f := h.family(a.Family)
			Expect(f.Client).To(Equal("app-a"))
			Expect(f.Revoked).To(BeFalse())
			Expect(f.LiveRefresh).To(Equal(1))

			Expect(h.refreshAs("app-a", a.Refresh).status).To(Equal(http.StatusOK))
		},
		Entry("generic: RFC 6749's invalid_grant, saying why", "generic", http.StatusBadRequest,
			map[string]any{"error": "invalid_grant", "error_description": ContainSubstring("issued to another client")}),
		Entry("google: unauthorized_client, 401", "google", http.StatusUnauthorized,
			map[string]any{"error": "unauthorized_client", "error_description": "Unauthorized"}),
		Entry("keycloak: its own description", "keycloak", http.StatusBadRequest,
			map[string]any{"error": "invalid_grant", "error_description": "Invalid refresh token. Token client and authorized client don't match"}),
		Entry("okta: its refresh_token_invalid, the fallback", "okta", http.StatusBadRequest,
			map[string]any{"error": "invalid_grant", "error_description": "The refresh token is invalid or expired."}),
	)

	It("is no reuse of a superseded token: the owner's family survives", func() {
		h := newHarness(twoApps()) // generic: rotate, revoke_family on reuse
		a := h.grantFor("app-a")
		next := decodeTokens(h.refreshAs("app-a", a.Refresh))
		Expect(next.Refresh).NotTo(BeEmpty())
		since := lastSeq(h.events())

		Expect(h.refreshAs("app-b", a.Refresh).status).To(Equal(http.StatusBadRequest))
		h.expectWrongClient("app-b", "app-a", a.Family)
		h.expectGrantUntouched(since)
		Expect(h.family(a.Family).Revoked).To(BeFalse())
		Expect(h.refreshAs("app-a", next.Refresh).status).To(Equal(http.StatusOK))
	})

	It("is no use: it keeps no idle timer running", func() {
		p := profile.Generic()
		p.Refresh.IdleTimeout = profile.Duration(30 * 24 * time.Hour)
		h := newHarness(simulator.WithProfile(p), twoApps())
		a := h.grantFor("app-a")
		h.advance("20d")
		Expect(h.refreshAs("app-b", a.Refresh).status).To(Equal(http.StatusBadRequest))
		h.expectWrongClient("app-b", "app-a", a.Family)
		h.advance("11d")
		r := h.refreshAs("app-a", a.Refresh)
		Expect(r.status).To(Equal(http.StatusBadRequest))
		Expect(h.lastEvent(events.TokenRequest).Reason).To(Equal(events.RefusedInactive))
	})

	It("says wrong_client whatever state the grant is in", func() {
		h := newHarness(twoApps())
		a := h.grantFor("app-a")
		_, err := h.srv.Revoke(simulator.Revocation{Family: a.Family})
		Expect(err).NotTo(HaveOccurred())
		Expect(h.refreshAs("app-b", a.Refresh).status).To(Equal(http.StatusBadRequest))
		h.expectWrongClient("app-b", "app-a", a.Family)
		Expect(h.refreshAs("app-a", a.Refresh).status).To(Equal(http.StatusBadRequest))
		Expect(h.lastEvent(events.TokenRequest).Reason).To(Equal(events.RefusedRevoked))
	})
})

var _ = Describe("An authorization code redeemed by another client", func() {
	It("is refused with invalid_grant and stays redeemable by its own", func() {
		h := newHarness(twoApps())
		verifier, challenge := pkce()
		code := codeFrom(h.get(authorizeURL("app-a", "openid offline_access", challenge, "login_hint", "alice")))
		redeem := func(client string) reply {
			return h.postForm(simulator.PathToken, url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {simulator.DemoRedirectURI}, "code_verifier": {verifier},
			}, client, client+"-secret")
		}

		r := redeem("app-b")
		Expect(r.status).To(Equal(http.StatusBadRequest))
		Expect(r.str("error")).To(Equal("invalid_grant"))
		Expect(r.str("error_description")).To(ContainSubstring("issued to another client"))
		e := h.lastEvent(events.TokenRequest)
		Expect(e.Reason).To(Equal(events.RefusedWrongClient))
		Expect(e.Client).To(Equal("app-b"))
		Expect(e.Owner).To(Equal("app-a"))
		Expect(h.eventsOf(events.CodeReuseDetected)).To(BeEmpty())

		Expect(redeem("app-a").status).To(Equal(http.StatusOK))
	})
})
