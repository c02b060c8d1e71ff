package simulator_test

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

func dur(s string) *profile.Duration {
	GinkgoHelper()
	d, err := profile.ParseDuration(s)
	Expect(err).NotTo(HaveOccurred())
	return &d
}

// appWith is a confidential client whose secret is its id's, as
// refreshAs expects, with its own lifetimes set by change.
func appWith(id string, change func(*simulator.Client)) simulator.Client {
	c := simulator.Client{ID: id, Secret: id + "-secret", RedirectURIs: []string{simulator.DemoRedirectURI}}
	if change != nil {
		change(&c)
	}
	return c
}

var _ = Describe("A client's own lifetimes", func() {
	It("give its access tokens its lifetime, and the others the profile's", func() {
		h := newHarness(simulator.WithClients(
			appWith("app-a", func(c *simulator.Client) { c.AccessTokenLifetime = dur("5m") }),
			appWith("app-b", nil)))
		a, b := h.grantFor("app-a"), h.grantFor("app-b")
		Expect(a.ExpiresIn).To(BeNumerically("==", 300))
		Expect(b.ExpiresIn).To(BeNumerically("==", h.srv.Profile().AccessTokenLifetime.D().Seconds()))

		// A refresh mints by the same rule.
		Expect(decodeTokens(h.refreshAs("app-a", a.Refresh)).ExpiresIn).To(BeNumerically("==", 300))
		h.advance("6m")
		Expect(h.me(a.Access).status).To(Equal(http.StatusUnauthorized))
		Expect(h.me(b.Access).status).To(Equal(http.StatusOK))

		own, err := h.srv.ClientProfile("app-a")
		Expect(err).NotTo(HaveOccurred())
		Expect(own.AccessTokenLifetime).To(Equal(*dur("5m")))
		Expect(own.Sources["access_token_lifetime"].Ref).To(ContainSubstring(`client "app-a"`))
		other, err := h.srv.ClientProfile("app-b")
		Expect(err).NotTo(HaveOccurred())
		Expect(other.AccessTokenLifetime).To(Equal(h.srv.Profile().AccessTokenLifetime))
		_, err = h.srv.ClientProfile("nobody")
		Expect(err).To(MatchError(simulator.ErrNotFound))
	})

	It("replace the profile's range with one lifetime", func() {
		p, err := profile.Builtin("entra") // 60 to 90 minutes
		Expect(err).NotTo(HaveOccurred())
		Expect(p.AccessTokenLifetimeMax).To(BeNumerically(">", p.AccessTokenLifetime))
		h := newHarness(simulator.WithProfile(p), simulator.WithClients(
			appWith("app-a", func(c *simulator.Client) { c.AccessTokenLifetime = dur("10m") })))
		for range 3 {
			Expect(h.grantFor("app-a").ExpiresIn).To(BeNumerically("==", 600))
		}
	})

	It("keep a client's refresh token under rotation none while the profile rotates", func() {
		h := newHarness(simulator.WithClients( // generic: rotate, reuse revokes the family
			appWith("app-a", func(c *simulator.Client) { c.Refresh = &simulator.ClientRefresh{Rotation: profile.RotationNone} }),
			appWith("app-b", nil)))
		a, b := h.grantFor("app-a"), h.grantFor("app-b")

		for range 2 {
			r := h.refreshAs("app-a", a.Refresh)
			Expect(r.status).To(Equal(http.StatusOK), "body: %s", r.body)
			Expect(decodeTokens(r).Refresh).To(BeEmpty(), "a provider that never rotates sends no new refresh token")
		}
		Expect(h.eventsOf(events.RefreshRotated)).To(BeEmpty())

		next := decodeTokens(h.refreshAs("app-b", b.Refresh))
		Expect(next.Refresh).NotTo(BeEmpty())
		Expect(next.Refresh).NotTo(Equal(b.Refresh))
		Expect(h.refreshAs("app-b", b.Refresh).status).To(Equal(http.StatusBadRequest))
		Expect(h.lastEvent(events.TokenRequest).Reason).To(Equal(events.RefusedReused))

		own, err := h.srv.ClientProfile("app-a")
		Expect(err).NotTo(HaveOccurred())
		Expect(own.Refresh.Rotation).To(Equal(profile.RotationNone))
	})

	It("give a client's refresh tokens its idle timeout and absolute lifetime", func() {
		h := newHarness(simulator.WithClients(
			appWith("app-a", func(c *simulator.Client) {
				c.Refresh = &simulator.ClientRefresh{IdleTimeout: dur("1h"), AbsoluteLifetime: dur("1d")}
			}),
			appWith("app-b", nil)))
		a, b := h.grantFor("app-a"), h.grantFor("app-b")
		h.advance("2h")
		Expect(h.refreshAs("app-a", a.Refresh).status).To(Equal(http.StatusBadRequest))
		Expect(h.lastEvent(events.TokenRequest).Reason).To(Equal(events.RefusedInactive))
		Expect(h.refreshAs("app-b", b.Refresh).status).To(Equal(http.StatusOK))
	})

	It("give a client a grace window of its own", func() {
		h := newHarness(simulator.WithClients(appWith("app-a", func(c *simulator.Client) {
			c.Refresh = &simulator.ClientRefresh{Rotation: profile.RotationRotateWithGrace, Grace: dur("30s")}
		})))
		a := h.grantFor("app-a")
		Expect(h.refreshAs("app-a", a.Refresh).status).To(Equal(http.StatusOK))
		Expect(h.refreshAs("app-a", a.Refresh).status).To(Equal(http.StatusOK), "inside the client's grace window")
		Expect(h.eventsOf(events.RefreshGraceReuse)).To(HaveLen(1))
		h.advance("1m")
		Expect(h.refreshAs("app-a", a.Refresh).status).To(Equal(http.StatusBadRequest))
	})

	DescribeTable("refuse values no provider has, saying which",
		func(change func(*simulator.Client), want string) {
			h := newHarness()
			_, err := h.srv.AddClient(appWith("app-x", change))
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("an access-token lifetime of zero", func(c *simulator.Client) { c.AccessTokenLifetime = dur("0") },
			"access_token_lifetime must be positive"),
		Entry("an unknown rotation", func(c *simulator.Client) { c.Refresh = &simulator.ClientRefresh{Rotation: "sometimes"} },
			`refresh.rotation must be one of "none", "rotate", "rotate_with_grace" or "rotate_keep_old", got "sometimes"`),
		Entry("a negative idle timeout", func(c *simulator.Client) { c.Refresh = &simulator.ClientRefresh{IdleTimeout: dur("-1h")} },
			"refresh.idle_timeout must not be negative"),
		Entry("a grace without rotate_with_grace", func(c *simulator.Client) { c.Refresh = &simulator.ClientRefresh{Grace: dur("30s")} },
			`its own lifetimes do not fit the profile: refresh.grace is only meaningful with rotation "rotate_with_grace"`),
		Entry("rotate_with_grace without a grace", func(c *simulator.Client) {
			c.Refresh = &simulator.ClientRefresh{Rotation: profile.RotationRotateWithGrace}
		}, "refresh.grace must be positive"),
	)

	It("are read from a config file, and checked against its profile there", func() {
		cfg, err := simulator.ParseConfig("sim.yaml", []byte(`
clients:
  - client_id: app-a
    client_secret: app-a-secret
    redirect_uris: [http://127.0.0.1:8765/callback]
    access_token_lifetime: 5m
    refresh: {rotation: none, idle_timeout: 30d}
`))
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.Clients[0].AccessTokenLifetime).To(Equal(dur("5m")))
		Expect(cfg.Clients[0].Refresh).To(Equal(&simulator.ClientRefresh{Rotation: profile.RotationNone, IdleTimeout: dur("30d")}))

		_, err = simulator.ParseConfig("sim.yaml", []byte(`
clients:
  - client_id: app-a
    client_secret: app-a-secret
    redirect_uris: [http://127.0.0.1:8765/callback]
    refresh: {grace: 30s}
`))
		Expect(err).To(MatchError(And(ContainSubstring("sim.yaml:3:"), ContainSubstring("refresh.grace is only meaningful"))))
	})

	It("are set and shown by the control API", func() {
		h := newHarness()
		r := h.control(http.MethodPut, "/clients/app-a", map[string]any{
			"client_id": "app-a", "client_secret": "app-a-secret", "redirect_uris": []string{simulator.DemoRedirectURI},
			"access_token_lifetime": "5m", "refresh": map[string]any{"rotation": "none"},
		})
		Expect(r.status).To(BeElementOf(http.StatusOK, http.StatusCreated), "body: %s", r.body)
		got := h.control(http.MethodGet, "/clients/app-a", nil).json()
		shown, err := profile.ParseDuration(got["access_token_lifetime"].(string))
		Expect(err).NotTo(HaveOccurred())
		Expect(shown).To(Equal(*dur("5m")))
		Expect(got).To(HaveKeyWithValue("refresh", HaveKeyWithValue("rotation", "none")))
		Expect(h.grantFor("app-a").ExpiresIn).To(BeNumerically("==", 300))

		r = h.control(http.MethodPut, "/clients/app-a", map[string]any{
			"client_id": "app-a", "client_secret": "app-a-secret", "redirect_uris": []string{simulator.DemoRedirectURI},
			"access_token_lifetime": "0s",
		})
		Expect(r.status).To(Equal(http.StatusBadRequest), "body: %s", r.body)
		Expect(string(r.body)).To(ContainSubstring("access_token_lifetime must be positive"))
	})
})
