package simulator_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
)

// The control API's handlers only decode, call these methods and encode:
// these specs hold the methods to what the API's specs hold the API to.
var _ = Describe("The simulator's methods", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	// last is the newest event of kind.
	last := func(kind events.Kind) events.Event {
		GinkgoHelper()
		evs := h.srv.EventsSince(0).Events
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Kind == kind {
				return evs[i]
			}
		}
		Fail("no " + string(kind) + " event")
		return events.Event{}
	}

	It("move the clock with the event POST /sim/v1/clock records", func() {
		Expect(h.control(http.MethodPost, "/clock", map[string]string{"advance": "90s"}).status).To(Equal(http.StatusOK))
		byAPI := last(events.ClockMoved).Detail
		st, err := h.srv.AdvanceClock(90 * time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(last(events.ClockMoved).Detail).To(Equal(byAPI))
		Expect(st.Now).To(Equal(epoch.Add(3 * time.Minute)))

		to := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
		st, err = h.srv.SetClock(to)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Now).To(Equal(to))
		Expect(last(events.ClockMoved).Detail).To(Equal("set to 2027-03-01T12:00:00Z"))
		_, err = h.srv.SetClock(to.AddDate(300, 0, 0))
		Expect(err).To(MatchError(ContainSubstring("292 years")))
	})

	It("mint a grant whose Response is the token endpoint's answer, and whose JSON is the API's", func(ctx SpecContext) {
		g, err := h.srv.MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice", Scope: new("openid offline_access api")})
		Expect(err).NotTo(HaveOccurred())
		Expect(g.Response).To(And(
			HaveKeyWithValue("access_token", g.AccessToken), HaveKeyWithValue("refresh_token", g.RefreshToken),
			HaveKeyWithValue("id_token", g.IDToken), HaveKeyWithValue("expires_in", 3600.0),
			HaveKeyWithValue("scope", "openid offline_access api"), HaveKeyWithValue("token_type", "Bearer")))
		Expect(verifyIDToken(h, g.IDToken).Issuer).To(Equal(h.srv.URL), "the issuer NewServer set, with no request to take it from")
		Expect(last(events.GrantMinted)).To(And(HaveField("Family", g.Family), HaveField("Detail", "scope openid offline_access api")))

		b, err := json.Marshal(g)
		Expect(err).NotTo(HaveOccurred())
		var wire map[string]any
		Expect(json.Unmarshal(b, &wire)).To(Succeed())
		Expect(wire).To(HaveKeyWithValue("family", g.Family))
		var back simulator.Grant
		Expect(json.Unmarshal(b, &back)).To(Succeed())
		Expect(back).To(Equal(g))
	})

	It("refuse a grant as the token endpoint would, with fosite's RFC 6749 error", func(ctx SpecContext) {
		_, err := h.srv.MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice", Scope: new("admin")})
		rfc, ok := errors.AsType[*fosite.RFC6749Error](err)
		Expect(ok).To(BeTrue(), "%v", err)
		Expect(rfc.ErrorField).To(Equal("invalid_scope"))
		Expect(err).NotTo(MatchError(simulator.ErrNotFound))
	})

	DescribeTable("wrap ErrNotFound for what does not exist",
		func(call func(*simulator.Server) error, message string) {
			err := call(h.srv)
			Expect(err).To(MatchError(simulator.ErrNotFound))
			Expect(err).To(MatchError(ContainSubstring(message)))
		},
		Entry("a grant's client", func(s *simulator.Server) error {
			_, err := s.MintGrant(GinkgoT().Context(), simulator.GrantRequest{ClientID: "nope", User: "alice"})
			return err
		}, `no client "nope"`),
		Entry("a grant's user", func(s *simulator.Server) error {
			_, err := s.MintGrant(GinkgoT().Context(), simulator.GrantRequest{ClientID: "demo", User: "mallory"})
			return err
		}, `no user "mallory"`),
		Entry("a token to revoke", func(s *simulator.Server) error {
			_, err := s.Revoke(simulator.Revocation{Token: "forged"})
			return err
		}, "no token"),
		Entry("a family to revoke", func(s *simulator.Server) error {
			_, err := s.Revoke(simulator.Revocation{Family: "nope"})
			return err
		}, `no family "nope"`),
		Entry("a client", func(s *simulator.Server) error { _, err := s.RegisteredClient("nope"); return err }, `no client "nope"`),
		Entry("a fault", func(s *simulator.Server) error { _, err := s.Fault("nope"); return err }, `no fault "nope"`),
		Entry("a fault to remove", func(s *simulator.Server) error { _, err := s.RemoveFault("nope"); return err }, `no fault "nope"`),
		Entry("a client whose secret to rotate", func(s *simulator.Server) error {
			_, err := s.RotateClientSecret("nope", simulator.SecretRotation{})
			return err
		}, `no client "nope"`),
	)

	DescribeTable("wrap ErrConflict for what exists already",
		func(call func(*simulator.Server) error) {
			Expect(call(h.srv)).To(Succeed())
			Expect(call(h.srv)).To(MatchError(simulator.ErrConflict))
		},
		Entry("a client", func(s *simulator.Server) error {
			_, err := s.AddClient(simulator.Client{ID: "qa", Secret: "s", GrantTypes: []string{"client_credentials"}})
			return err
		}),
		Entry("a user", func(s *simulator.Server) error { _, err := s.AddUser(simulator.User{ID: "carol"}); return err }),
		Entry("a fault", func(s *simulator.Server) error {
			_, err := s.AddFault(fault.Fault{ID: "x", Effect: fault.ResetEffect{}})
			return err
		}),
	)

	It("revoke the family of a token, computing its signature", func(ctx SpecContext) {
		t := h.mint("demo", "alice", "offline_access api")
		done, err := h.srv.Revoke(simulator.Revocation{Token: t.Access})
		Expect(err).NotTo(HaveOccurred())
		Expect(done).To(Equal(simulator.Revoked{Reason: "admin", Families: 1}))
		Expect(h.srv.Families()).To(ConsistOf(And(HaveField("ID", t.Family), HaveField("Revoked", true))))
		expectInvalidGrant(h.refresh(t.Refresh))
	})

	It("add and remove faults with the events the API records", func() {
		st, err := h.srv.AddFault(fault.Fault{Effect: fault.ResetEffect{}, Match: fault.Match{Endpoint: fault.OneOrMany[fault.Endpoint]{fault.EndpointJWKS}}})
		Expect(err).NotTo(HaveOccurred())
		Expect(st.ID).To(Equal("f1"))
		Expect(last(events.FaultAdded)).To(And(HaveField("Fault", "f1"), HaveField("Detail", "reset")))
		Expect(h.srv.Faults()).To(HaveLen(1))
		_, err = h.srv.AddFault(fault.Fault{Effect: fault.LatencyEffect{}})
		Expect(err).To(MatchError(HavePrefix("invalid fault: ")))
		Expect(h.srv.ClearFaults()).To(Equal(1))
		Expect(last(events.FaultRemoved)).To(And(HaveField("Fault", "f1"), HaveField("Detail", "reset after 0 firings")))
	})
})
