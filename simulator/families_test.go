package simulator_test

import (
	"net/http"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	. "github.com/onsi/gomega/gstruct"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// withRefresh is the generic profile with its refresh policy changed by edit.
func withRefresh(edit func(r *profile.Refresh)) simulator.Option {
	p := profile.Generic()
	edit(&p.Refresh)
	return simulator.WithProfile(p)
}

func expectInvalidGrant(r reply) {
	GinkgoHelper()
	Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
	Expect(r.str("error")).To(Equal("invalid_grant"))
}

var _ = Describe("Refresh-token rotation", func() {
	Context("with strict rotation and reuse detection (generic)", func() {
		var h *harness
		BeforeEach(func() { h = newHarness() })

		It("rotates on every refresh and revokes the family when an old token comes back", func() {
			t := h.mint("demo", "alice", "openid offline_access")
			r := h.refresh(t.Refresh)
			Expect(r.status).To(Equal(http.StatusOK))
			next := decodeTokens(r)
			Expect(next.Refresh).NotTo(BeEmpty())
			Expect(next.Refresh).NotTo(Equal(t.Refresh))
			Expect(next.ExpiresIn).To(BeNumerically("==", 3600))

			By("replaying the superseded token")
			expectInvalidGrant(h.refresh(t.Refresh))

			By("finding the new token dead too, and its access token")
			expectInvalidGrant(h.refresh(next.Refresh))
			Expect(h.me(next.Access).status).To(Equal(http.StatusUnauthorized))
			Expect(h.me(t.Access).status).To(Equal(http.StatusUnauthorized))

			evs := h.events()
			var rotated, reuse, revoked *events.Event
			for i := range evs {
				switch evs[i].Kind {
				case events.RefreshRotated:
					rotated = &evs[i]
				case events.RefreshReuseDetected:
					reuse = &evs[i]
				case events.FamilyRevoked:
					revoked = &evs[i]
				}
			}
			Expect(rotated).NotTo(BeNil())
			Expect(reuse).NotTo(BeNil())
			Expect(reuse.Token).To(Equal(rotated.Token), "the reused token is the one the first refresh superseded")
			Expect(reuse.Family).To(Equal(t.Family))
			Expect(reuse.User).To(Equal("alice"))
			Expect(reuse.Client).To(Equal("demo"))
			Expect(revoked).NotTo(BeNil())
			Expect(revoked.Reason).To(Equal("reuse_detected"))
			Expect(revoked.Seq).To(BeNumerically(">", reuse.Seq))
		})

		It("records each token request with its outcome, family and presented token", func() {
			t := h.mint("demo", "alice", "offline_access")
			h.refresh(t.Refresh)
			h.refresh(t.Refresh)
			var reqs []events.Event
			for _, e := range h.events() {
				if e.Kind == events.TokenRequest {
					reqs = append(reqs, e)
				}
			}
			Expect(reqs).To(HaveLen(2))
			Expect(reqs[0]).To(MatchFields(IgnoreExtras, Fields{
				"GrantType": Equal("refresh_token"), "Status": Equal(200), "Outcome": Equal("ok"),
				"Client": Equal("demo"), "User": Equal("alice"), "Family": Equal(t.Family),
			}))
			Expect(reqs[1]).To(MatchFields(IgnoreExtras, Fields{
				"Status": Equal(400), "Outcome": Equal("denied"), "Error": Equal("invalid_grant"), "Family": Equal(t.Family),
			}))
			Expect(reqs[0].Token).To(HavePrefix("rt_"))
			Expect(reqs[1].Token).To(Equal(reqs[0].Token), "both requests presented the same refresh token")
			Expect(reqs[0].Time).To(Equal(epoch))
		})

		It("refuses a refresh token presented by another client", func() {
			t := h.mint("demo-public", "alice", "offline_access")
			expectInvalidGrant(h.refresh(t.Refresh))
		})
	})

	Context("with a grace window", func() {
		var h *harness
		BeforeEach(func() {
			h = newHarness(withRefresh(func(r *profile.Refresh) {
				r.Rotation, r.Grace = profile.RotationRotateWithGrace, profile.Duration(30*time.Second)
			}))
		})

		It("accepts the superseded token again inside the window, as after a lost response", func() {
			t := h.mint("demo", "alice", "offline_access")
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK))
			h.advance("20s")
			retry := h.refresh(t.Refresh)
			Expect(retry.status).To(Equal(http.StatusOK))
			Expect(h.refresh(decodeTokens(retry).Refresh).status).To(Equal(http.StatusOK))
			Expect(kinds(h.events())).To(ContainElement(events.RefreshGraceReuse))
		})

		It("treats it as reuse once the window has passed", func() {
			t := h.mint("demo", "alice", "offline_access")
			next := decodeTokens(h.refresh(t.Refresh))
			h.advance("31s")
			expectInvalidGrant(h.refresh(t.Refresh))
			expectInvalidGrant(h.refresh(next.Refresh))
		})

		It("closes the window once the newer token has been used", func() {
			t := h.mint("demo", "alice", "offline_access")
			next := decodeTokens(h.refresh(t.Refresh))
			Expect(h.refresh(next.Refresh).status).To(Equal(http.StatusOK))
			expectInvalidGrant(h.refresh(t.Refresh))
		})
	})

	Context("without rotation", func() {
		It("keeps the refresh token and sends none in refresh responses", func() {
			h := newHarness(withRefresh(func(r *profile.Refresh) { r.Rotation = profile.RotationNone }))
			t := h.mint("demo", "alice", "offline_access")
			for range 3 {
				r := h.refresh(t.Refresh)
				Expect(r.status).To(Equal(http.StatusOK))
				Expect(r.json()).NotTo(HaveKey("refresh_token"))
				Expect(r.json()).To(HaveKey("access_token"))
			}
		})
	})

	Context("rotating but keeping the old token (Entra)", func() {
		It("issues a new refresh token each time and keeps accepting the old ones", func() {
			h := newHarness(withRefresh(func(r *profile.Refresh) {
				r.Rotation, r.ReuseDetection = profile.RotationRotateKeepOld, profile.ReuseOff
			}))
			t := h.mint("demo", "alice", "offline_access")
			next := decodeTokens(h.refresh(t.Refresh))
			Expect(next.Refresh).NotTo(BeEmpty())
			Expect(next.Refresh).NotTo(Equal(t.Refresh))
			again := h.refresh(t.Refresh)
			Expect(again.status).To(Equal(http.StatusOK), "the old token is not revoked by its use")
			Expect(decodeTokens(again).Refresh).NotTo(Equal(next.Refresh))
			Expect(h.refresh(next.Refresh).status).To(Equal(http.StatusOK))
			Expect(kinds(h.events())).NotTo(ContainElement(events.RefreshReuseDetected))
		})

		It("still lets an old token die of its own idle timeout", func() {
			h := newHarness(withRefresh(func(r *profile.Refresh) {
				r.Rotation, r.ReuseDetection, r.IdleTimeout = profile.RotationRotateKeepOld, profile.ReuseOff, profile.Duration(90*24*time.Hour)
			}))
			t := h.mint("demo", "alice", "offline_access")
			next := decodeTokens(h.refresh(t.Refresh))
			h.advance("60d")
			Expect(h.refresh(next.Refresh).status).To(Equal(http.StatusOK))
			h.advance("31d")
			expectInvalidGrant(h.refresh(t.Refresh))
		})
	})

	Context("rotating periodically (Intuit)", func() {
		It("answers with the same token until it is rotate_after old, then rotates", func() {
			h := newHarness(withRefresh(func(r *profile.Refresh) {
				r.RotateAfter, r.ReuseDetection = profile.Duration(24*time.Hour), profile.ReuseOff
			}))
			t := h.mint("demo", "alice", "offline_access")
			h.advance("23h")
			r := h.refresh(t.Refresh)
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.json()).To(HaveKeyWithValue("refresh_token", t.Refresh), "the answer carries the token, unchanged")
			h.advance("1h")
			next := decodeTokens(h.refresh(t.Refresh))
			Expect(next.Refresh).NotTo(BeEmpty())
			expectInvalidGrant(h.refresh(t.Refresh))
			Expect(h.refresh(next.Refresh).status).To(Equal(http.StatusOK))
		})
	})

	Context("without reuse detection", func() {
		It("refuses the superseded token but leaves the family alive", func() {
			h := newHarness(withRefresh(func(r *profile.Refresh) { r.ReuseDetection = profile.ReuseOff }))
			t := h.mint("demo", "alice", "offline_access")
			next := decodeTokens(h.refresh(t.Refresh))
			expectInvalidGrant(h.refresh(t.Refresh))
			Expect(h.refresh(next.Refresh).status).To(Equal(http.StatusOK))
			Expect(kinds(h.events())).NotTo(ContainElement(events.FamilyRevoked))
		})
	})
})

var _ = Describe("Access-token lifetimes", func() {
	It("draws each lifetime from the profile's range, the same way for the same seed", func() {
		p := profile.Generic()
		p.AccessTokenLifetime, p.AccessTokenLifetimeMax = profile.Duration(60*time.Minute), profile.Duration(90*time.Minute)
		lifetimes := func(seed uint64) []float64 {
			h := newHarness(simulator.WithProfile(p), simulator.WithSeed(seed))
			var out []float64
			for range 6 {
				out = append(out, h.mint("demo", "alice", "offline_access").ExpiresIn)
			}
			return out
		}
		first := lifetimes(3)
		Expect(first).To(HaveEach(And(BeNumerically(">=", 3600), BeNumerically("<=", 5400))))
		Expect(first).NotTo(HaveEach(first[0]))
		Expect(lifetimes(3)).To(Equal(first))
		Expect(lifetimes(4)).NotTo(Equal(first))
	})
})

var _ = Describe("Refresh-token lifetimes", func() {
	It("kills a refresh token left unused past the idle timeout, and resets it on use", func() {
		h := newHarness(withRefresh(func(r *profile.Refresh) { r.IdleTimeout = profile.Duration(7 * 24 * time.Hour) }))
		t := h.mint("demo", "alice", "offline_access")
		h.advance("6d")
		next := decodeTokens(h.refresh(t.Refresh))
		Expect(next.Refresh).NotTo(BeEmpty())
		h.advance("6d")
		next = decodeTokens(h.refresh(next.Refresh))
		Expect(next.Refresh).NotTo(BeEmpty())
		h.advance("7d")
		r := h.refresh(next.Refresh)
		expectInvalidGrant(r)
		Expect(r.str("error_description")).To(ContainSubstring("expired"))
		Expect(h.introspect(next.Refresh)).To(Equal(map[string]any{"active": false}))
	})

	It("keeps the first token's absolute expiry across rotations when inherited", func() {
		h := newHarness(withRefresh(func(r *profile.Refresh) {
			r.AbsoluteLifetime, r.AbsoluteMode = profile.Duration(30*24*time.Hour), profile.AbsoluteInherited
		}))
		t := h.mint("demo", "alice", "offline_access")
		rt := t.Refresh
		for range 3 {
			h.advance("9d")
			r := h.refresh(rt)
			Expect(r.status).To(Equal(http.StatusOK))
			rt = decodeTokens(r).Refresh
		}
		Expect(h.introspect(rt)).To(HaveKeyWithValue("exp", BeNumerically("==", epoch.Add(30*24*time.Hour).Unix())))
		h.advance("3d") // day 30
		expectInvalidGrant(h.refresh(rt))
	})

	It("gives every rotated token a full lifetime when sliding", func() {
		h := newHarness(withRefresh(func(r *profile.Refresh) {
			r.AbsoluteLifetime, r.AbsoluteMode = profile.Duration(30*24*time.Hour), profile.AbsoluteSliding
		}))
		rt := h.mint("demo", "alice", "offline_access").Refresh
		for range 4 {
			h.advance("29d")
			r := h.refresh(rt)
			Expect(r.status).To(Equal(http.StatusOK))
			rt = decodeTokens(r).Refresh
		}
		h.advance("30d")
		expectInvalidGrant(h.refresh(rt))
	})
})

var _ = Describe("The cap on live families per user and client", func() {
	It("silently invalidates the oldest family", func() {
		h := newHarness(withRefresh(func(r *profile.Refresh) { r.MaxFamiliesPerUserClient = 2 }))
		first := h.mint("demo", "alice", "offline_access")
		h.advance("1m")
		second := h.mint("demo", "alice", "offline_access")
		h.advance("1m")
		other := h.mint("demo-public", "alice", "offline_access")
		bob := h.mint("demo", "bob", "offline_access")
		refreshed := decodeTokens(h.refresh(first.Refresh))
		Expect(refreshed.Refresh).NotTo(BeEmpty(), "two families are within the cap")

		h.advance("1m")
		third := h.mint("demo", "alice", "offline_access")
		Expect(h.refresh(second.Refresh).status).To(Equal(http.StatusOK))
		Expect(h.refresh(third.Refresh).status).To(Equal(http.StatusOK))
		Expect(h.postForm(simulator.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {other.Refresh}, "client_id": {"demo-public"}}, "", "").status).
			To(Equal(http.StatusOK), "another client's family is not counted")
		Expect(h.refresh(bob.Refresh).status).To(Equal(http.StatusOK), "another user's family is not counted")

		var evicted []events.Event
		for _, e := range h.events() {
			if e.Kind == events.FamilyEvicted {
				evicted = append(evicted, e)
			}
		}
		Expect(evicted).To(HaveLen(1))
		Expect(evicted[0].Family).To(Equal(first.Family), "age counts from a family's first refresh token, however recently it was rotated")
		expectInvalidGrant(h.refresh(refreshed.Refresh))
	})
})
