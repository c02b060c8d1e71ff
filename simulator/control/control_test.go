package control_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/jonboulle/clockwork"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/control"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

var epoch = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

var _ = Describe("The control API client", func() {
	var (
		srv  *simulator.Server
		fake *clockwork.FakeClock
		c    *control.Client
	)
	BeforeEach(func() {
		fake = clock.NewFake(epoch)
		srv = simulator.NewTestServer(GinkgoT(), simulator.WithClock(fake))
		c = control.New(srv.URL, srv.Client())
	})

	// resource calls the protected resource with an access token and
	// returns the status.
	resource := func(at string) int {
		GinkgoHelper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+simulator.PathResourceMe, nil)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Authorization", "Bearer "+at)
		resp, err := srv.Client().Do(req)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		return resp.StatusCode
	}

	It("mints a grant whose tokens work until the clock it moves passes their life", func(ctx SpecContext) {
		scope := "openid offline_access api"
		g, err := c.MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice", Scope: &scope})
		Expect(err).NotTo(HaveOccurred())
		Expect(g.AccessToken).NotTo(BeEmpty())
		Expect(g.RefreshToken).NotTo(BeEmpty())
		Expect(g.IDToken).NotTo(BeEmpty())
		Expect(g.TokenType).To(Equal("Bearer"))
		Expect(g.ExpiresIn).To(Equal(time.Hour))
		Expect(g.Scope).To(Equal(scope))
		Expect(g.Response).To(HaveKeyWithValue("access_token", g.AccessToken))
		Expect(g.Response).NotTo(HaveKey("family"), "the family is no part of a token response")
		Expect(srv.Families()).To(ConsistOf(HaveField("ID", g.Family)))
		Expect(resource(g.AccessToken)).To(Equal(http.StatusOK))

		st, err := c.AdvanceClock(ctx, 61*time.Minute)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Now).To(BeTemporally("==", epoch.Add(61*time.Minute)))
		Expect(st.ProviderNow).To(BeZero())
		Expect(resource(g.AccessToken)).To(Equal(http.StatusUnauthorized))

		st, err = c.SetClock(ctx, epoch.Add(-time.Hour))
		Expect(err).NotTo(HaveOccurred())
		Expect(fake.Now()).To(BeTemporally("==", epoch.Add(-time.Hour)))
		Expect(c.ClockState(ctx)).To(Equal(st))
		page, err := c.EventsSince(ctx, 0)
		Expect(err).NotTo(HaveOccurred())
		var moves []string
		for _, e := range page.Events {
			if e.Kind == events.ClockMoved {
				moves = append(moves, e.Detail)
			}
		}
		Expect(moves).To(Equal([]string{"advanced by 1h1m0s", "set to 2026-01-01T08:00:00Z"}))
		Expect(page.Last).To(Equal(srv.Events().Last()))
		Expect(page.First).To(Equal(uint64(1)))
	})

	It("revokes the family of a token it cannot sign itself, and lists families as the simulator does", func(ctx SpecContext) {
		g, err := c.MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice"})
		Expect(err).NotTo(HaveOccurred())
		done, err := c.Revoke(ctx, simulator.Revocation{Token: g.RefreshToken, Reason: "user"})
		Expect(err).NotTo(HaveOccurred())
		Expect(done).To(Equal(simulator.Revoked{Reason: "user", Families: 1}))
		fams, err := c.Families(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(fams).To(HaveLen(1))
		Expect(fams[0]).To(And(HaveField("ID", g.Family), HaveField("Revoked", true), HaveField("RevokeReason", "user")))
		Expect(resource(g.AccessToken)).To(Equal(http.StatusUnauthorized))
	})

	It("manages clients, users and consents", func(ctx SpecContext) {
		qa := simulator.Client{ID: "qa", Secret: "qa-secret", GrantTypes: []string{"client_credentials"}}
		added, err := c.AddClient(ctx, qa)
		Expect(err).NotTo(HaveOccurred())
		Expect(added.AuthMethods).To(ConsistOf(simulator.AuthSecretBasic, simulator.AuthSecretPost), "defaults filled in")
		_, err = c.AddClient(ctx, qa)
		Expect(err).To(MatchError(simulator.ErrConflict))
		qa.Scopes = []string{"api"}
		_, err = c.ReplaceClient(ctx, qa)
		Expect(err).NotTo(HaveOccurred())
		got, err := c.RegisteredClient(ctx, "qa")
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Scopes).To(Equal([]string{"api"}))
		Expect(c.Clients(ctx)).To(HaveLen(3))

		rotated, err := c.RotateClientSecret(ctx, "demo", simulator.SecretRotation{Grace: profile.Duration(5 * time.Minute)})
		Expect(err).NotTo(HaveOccurred())
		Expect(rotated.Secret).NotTo(Equal("demo-secret"))
		Expect(rotated.PreviousSecrets).To(ConsistOf(HaveField("State", simulator.SecretGrace)))
		moved, err := c.SetPublishingStatus(ctx, "demo", simulator.PublishingTesting)
		Expect(err).NotTo(HaveOccurred())
		Expect(moved.PublishingStatus).To(Equal(simulator.PublishingTesting))

		_, err = c.AddUser(ctx, simulator.User{ID: "carol"})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Users(ctx)).To(ContainElement(HaveField("ID", "carol")))
		consent, revoked, err := c.ChangeConsent(ctx, simulator.ConsentChange{User: "carol", ClientID: "demo", Require: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(consent.Required).To(BeTrue())
		Expect(revoked).To(BeZero())
		Expect(c.Consents(ctx)).To(ConsistOf(HaveField("User", "carol")))

		By("telling the simulator's own methods' story in its event log")
		Expect(srv.Events().Since(0)).To(ContainElements(
			HaveField("Kind", events.ClientChanged), HaveField("Kind", events.ClientSecretRotated),
			HaveField("Kind", events.UserChanged), HaveField("Kind", events.ConsentRequired)))
	})

	It("adds, reads and removes faults", func(ctx SpecContext) {
		st, err := c.AddFault(ctx, fault.Fault{ID: "slow", Effect: fault.LatencyEffect{Delay: profile.Duration(time.Millisecond)}})
		Expect(err).NotTo(HaveOccurred())
		Expect(st.AddedAt).To(BeTemporally("==", epoch))
		Expect(st.Match.Seed).To(HaveValue(Equal(fault.DefaultSeed)), "as stored, seed filled in")
		_, err = c.AddFault(ctx, fault.Fault{ID: "slow", Effect: fault.ResetEffect{}})
		Expect(err).To(MatchError(simulator.ErrConflict))
		_, err = c.AddFault(ctx, fault.Fault{Effect: fault.ResetEffect{}})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Faults(ctx)).To(HaveExactElements(HaveField("Fault.ID", "slow"), HaveField("Fault.ID", "f1")))
		Expect(c.Fault(ctx, "slow")).To(HaveField("Fault.Kind()", fault.Latency))
		removed, err := c.RemoveFault(ctx, "slow")
		Expect(err).NotTo(HaveOccurred())
		Expect(removed.ID).To(Equal("slow"))
		_, err = c.Fault(ctx, "slow")
		Expect(err).To(MatchError(simulator.ErrNotFound))
		Expect(c.ClearFaults(ctx)).To(Equal(1))
		Expect(srv.Faults()).To(BeEmpty())
	})

	It("reads the profile in force, and resets all but the clock", func(ctx SpecContext) {
		p, err := c.Profile(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Name).To(Equal("generic"))
		Expect(p.AccessTokenLifetime).To(Equal(profile.Duration(time.Hour)))
		_, err = c.AddUser(ctx, simulator.User{ID: "carol"})
		Expect(err).NotTo(HaveOccurred())
		_, err = c.AdvanceClock(ctx, time.Hour)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Reset(ctx)).To(Succeed())
		Expect(srv.Users()).NotTo(ContainElement(HaveField("ID", "carol")))
		Expect(fake.Now()).To(BeTemporally("==", epoch.Add(time.Hour)))
	})

	Describe("errors", func() {
		It("carry the status, the error code and its description", func(ctx SpecContext) {
			_, err := c.MintGrant(ctx, simulator.GrantRequest{ClientID: "nope", User: "alice"})
			failed, ok := errors.AsType[*control.Error](err)
			Expect(ok).To(BeTrue(), "%v", err)
			Expect(failed.Status).To(Equal(http.StatusNotFound))
			Expect(failed.Code).To(Equal("not_found"))
			Expect(failed.Description).To(Equal(`no client "nope"`))
			Expect(err).To(MatchError(simulator.ErrNotFound))
			Expect(err).To(MatchError(`control API POST /grants: 404 not_found: no client "nope"`))
		})

		It("carry the token endpoint's RFC 6749 refusal of a grant", func(ctx SpecContext) {
			scope := "admin"
			_, err := c.MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice", Scope: &scope})
			failed, ok := errors.AsType[*control.Error](err)
			Expect(ok).To(BeTrue(), "%v", err)
			Expect(failed.Status).To(Equal(http.StatusBadRequest))
			Expect(failed.Code).To(Equal("invalid_scope"))
			Expect(err).NotTo(MatchError(simulator.ErrNotFound))
		})

		It("say what the answer was when it is no JSON error", func(ctx SpecContext) {
			plain := httpServer(func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "upstream is down", http.StatusBadGateway)
			})
			_, err := control.New(plain, nil).ClockState(ctx)
			Expect(err).To(MatchError("control API GET /clock: 502: upstream is down"))
		})
	})

	Describe("the raw method", func() {
		It("sends a body as it is written and hands the answer back as it came", func(ctx SpecContext) {
			var answer []byte
			status, err := c.Do(ctx, http.MethodPost, "/clock", `{"advance":"2m"}`, &answer)
			Expect(err).NotTo(HaveOccurred())
			Expect(status).To(Equal(http.StatusOK))
			Expect(string(answer)).To(Equal("{\n  \"now\": \"2026-01-01T09:02:00Z\"\n}\n"))
		})

		It("answers a malformed body with the API's refusal", func(ctx SpecContext) {
			status, err := c.Do(ctx, http.MethodPost, "/revocations", "revoke everything", nil)
			Expect(status).To(Equal(http.StatusBadRequest))
			Expect(err).To(MatchError(ContainSubstring("invalid_request: invalid JSON body")))
			status, err = c.Do(ctx, http.MethodPost, "/clock", []byte(`{"advance":"1m"}{"advance":"1m"}`), nil)
			Expect(status).To(Equal(http.StatusBadRequest))
			Expect(err).To(MatchError(ContainSubstring("single JSON object")))
		})

		It("encodes any other body as JSON and decodes the answer into out", func(ctx SpecContext) {
			var out struct{ Removed int }
			status, err := c.Do(ctx, http.MethodDelete, "/faults", nil, &out)
			Expect(err).NotTo(HaveOccurred())
			Expect(status).To(Equal(http.StatusOK))
			var st fault.Status
			status, err = c.Do(ctx, http.MethodPost, "/faults", map[string]any{"kind": "reset", "match": map[string]any{"endpoint": "jwks"}}, &st)
			Expect(err).NotTo(HaveOccurred())
			Expect(status).To(Equal(http.StatusCreated))
			Expect(st.ID).To(Equal("f1"))
		})

		It("escapes the ids the typed methods put in paths", func(ctx SpecContext) {
			_, err := c.RegisteredClient(ctx, "no such client?")
			Expect(err).To(MatchError(`control API GET /clients/no%20such%20client%3F?secrets=true: 404 not_found: no client "no such client?"`))
		})
	})
})

// httpServer serves h on loopback for the spec and returns its URL.
func httpServer(h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	DeferCleanup(srv.Close)
	return srv.URL
}
