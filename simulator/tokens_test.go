package simulator_test

import (
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator/events"
)

var _ = Describe("Tokens that carry their claims", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	// lastResource is the newest resource_request event.
	lastResource := func() events.Event {
		GinkgoHelper()
		evs := h.events()
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Kind == events.ResourceRequest {
				return evs[i]
			}
		}
		Fail("no resource_request event")
		return events.Event{}
	}

	It("refuse an access token a year past its expiry with the answer and event of the moment it expired", func() {
		t := h.mint("demo", "alice", "offline_access api")
		h.advance("61m")
		first := h.me(t.Access)
		then := lastResource()
		h.advance("365d")
		for range 3 {
			// Refreshes made since count the expired tokens out of the family.
			r := h.refresh(t.Refresh)
			Expect(r.status).To(Equal(http.StatusOK))
			t.Refresh = decodeTokens(r).Refresh
		}
		again := h.me(t.Access)
		now := lastResource()
		Expect(again.status).To(Equal(http.StatusUnauthorized))
		Expect(again.body).To(Equal(first.body))
		Expect(again.header.Get("WWW-Authenticate")).To(Equal(first.header.Get("WWW-Authenticate")))
		Expect(now).To(And(HaveField("Token", then.Token), HaveField("Family", t.Family), HaveField("Client", "demo"),
			HaveField("User", "alice"), HaveField("Reason", events.RefusedExpired), HaveField("Detail", then.Detail)))
	})

	It("are unknown with their claims forged, or minted by another simulator", func() {
		t := h.mint("demo", "alice", "offline_access api")
		claims, sig, ok := strings.Cut(t.Access, ".")
		Expect(ok).To(BeTrue())
		forged := claims + "." + strings.Repeat("A", len(sig))
		r := h.me(forged)
		Expect(r.status).To(Equal(http.StatusUnauthorized))
		Expect(r.str("error_description")).To(Equal("unknown token"))
		Expect(lastResource()).To(And(HaveField("Family", ""), HaveField("Reason", events.RefusedUnknown)),
			"a forged token's claims name no family")

		other := newHarness().mint("demo", "alice", "offline_access api")
		Expect(h.me(other.Access).status).To(Equal(http.StatusUnauthorized))
		Expect(h.refresh(other.Refresh).str("error")).To(Equal("invalid_grant"))
		Expect(h.srv.Families()).To(HaveLen(1))
	})

	It("answer a refresh token a thousand rotations old with reuse detection", func() {
		t := h.mint("demo", "alice", "offline_access api")
		rt, at := t.Refresh, t.Access
		for range 1000 {
			r := h.refresh(rt)
			Expect(r.status).To(Equal(http.StatusOK))
			rt, at = decodeTokens(r).Refresh, decodeTokens(r).Access
		}
		Expect(h.refresh(t.Refresh).str("error")).To(Equal("invalid_grant"))
		fam := h.srv.Families()[0]
		Expect(fam).To(And(HaveField("Revoked", true), HaveField("RevokeReason", events.ReasonReuseDetected), HaveField("RefreshTokens", 1001)))
		Expect(h.refresh(rt).str("error")).To(Equal("invalid_grant"), "the newest dies with its family")
		Expect(h.me(at).status).To(Equal(http.StatusUnauthorized))
		Expect(lastResource().Reason).To(Equal(events.RefusedRevoked))
	})
})
