package simulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
)

var _ = Describe("Revocation", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	revoke := func(body map[string]any) reply {
		GinkgoHelper()
		r := h.control(http.MethodPost, "/revocations", body)
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		return r
	}

	It("by family kills its refresh and access tokens and no other family", func() {
		a := h.mint("demo", "alice", "offline_access")
		b := h.mint("demo", "alice", "offline_access")
		Expect(revoke(map[string]any{"family": a.Family}).json()).To(HaveKeyWithValue("revoked_families", BeNumerically("==", 1)))
		expectInvalidGrant(h.refresh(a.Refresh))
		Expect(h.me(a.Access).status).To(Equal(http.StatusUnauthorized))
		Expect(h.me(b.Access).status).To(Equal(http.StatusOK))
	})

	It("by token revokes the token's family", func() {
		a := h.mint("demo", "alice", "offline_access")
		revoke(map[string]any{"token": a.Access})
		expectInvalidGrant(h.refresh(a.Refresh))
	})

	It("by user, for a password change, kills all of the user's families and records the reason", func() {
		a1 := h.mint("demo", "alice", "offline_access")
		a2 := h.mint("demo-public", "alice", "offline_access")
		b := h.mint("demo", "bob", "offline_access")
		r := revoke(map[string]any{"user": "alice", "reason": "password_change"})
		Expect(r.json()).To(HaveKeyWithValue("revoked_families", BeNumerically("==", 2)))
		Expect(h.me(a1.Access).status).To(Equal(http.StatusUnauthorized))
		Expect(h.me(a2.Access).status).To(Equal(http.StatusUnauthorized))
		Expect(h.me(b.Access).status).To(Equal(http.StatusOK))
		var reasons []string
		for _, e := range h.events() {
			if e.Kind == events.FamilyRevoked {
				reasons = append(reasons, e.Reason)
			}
		}
		Expect(reasons).To(Equal([]string{"password_change", "password_change"}))
	})

	It("by client and for all", func() {
		a := h.mint("demo", "alice", "offline_access")
		p := h.mint("demo-public", "bob", "offline_access")
		revoke(map[string]any{"client_id": "demo-public"})
		Expect(h.me(p.Access).status).To(Equal(http.StatusUnauthorized))
		Expect(h.me(a.Access).status).To(Equal(http.StatusOK))
		revoke(map[string]any{"all": true, "reason": "security"})
		Expect(h.me(a.Access).status).To(Equal(http.StatusUnauthorized))
	})

	It("through the RFC 7009 endpoint kills the access token with the refresh token", func() {
		a := h.mint("demo", "alice", "offline_access")
		r := h.postForm(simulator.PathRevoke, url.Values{"token": {a.Refresh}, "token_type_hint": {"refresh_token"}}, "demo", "demo-secret")
		Expect(r.status).To(Equal(http.StatusOK))
		Expect(h.me(a.Access).status).To(Equal(http.StatusUnauthorized))
		expectInvalidGrant(h.refresh(a.Refresh))
		By("answering 200 for an unknown token too, as RFC 7009 §2.2 says")
		Expect(h.postForm(simulator.PathRevoke, url.Values{"token": {"nonsense"}}, "demo", "demo-secret").status).To(Equal(http.StatusOK))
		var revoked []events.Event
		for _, e := range h.events() {
			if e.Kind == events.FamilyRevoked {
				revoked = append(revoked, e)
			}
		}
		Expect(revoked).To(HaveLen(1))
		Expect(revoked[0].Reason).To(Equal("client_revocation"))
	})

	DescribeTable("refuses bad requests with a clear 4xx",
		func(body any, status int, message string) {
			r := h.control(http.MethodPost, "/revocations", body)
			Expect(r.status).To(Equal(status), "%s", r.body)
			Expect(r.str("error_description")).To(ContainSubstring(message))
		},
		Entry("no selector", map[string]any{}, 400, "exactly one of"),
		Entry("two selectors", map[string]any{"user": "alice", "all": true}, 400, "exactly one of"),
		Entry("unknown reason", map[string]any{"all": true, "reason": "boredom"}, 400, `reason "boredom"`),
		Entry("unknown field", map[string]any{"famliy": "x"}, 400, "unknown field"),
		Entry("unknown family", map[string]any{"family": "nope"}, 404, `no family "nope"`),
		Entry("unknown user", map[string]any{"user": "nope"}, 404, `no user "nope"`),
		Entry("unknown client", map[string]any{"client_id": "nope"}, 404, `no client "nope"`),
		Entry("unknown token", map[string]any{"token": "nope"}, 404, "no token"),
		Entry("not JSON", "revoke everything", 400, "invalid JSON"),
	)
})

var _ = Describe("The control API", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	It("mints a grant as the token endpoint would answer it", func() {
		r := h.control(http.MethodPost, "/grants", map[string]string{"client_id": "demo", "user": "alice", "scope": "openid offline_access"})
		Expect(r.status).To(Equal(http.StatusCreated))
		m := r.json()
		Expect(m).To(HaveKeyWithValue("token_type", "Bearer"))
		Expect(m).To(HaveKeyWithValue("expires_in", BeNumerically("==", 3600)))
		Expect(m).To(HaveKeyWithValue("scope", "openid offline_access"))
		Expect(m).To(HaveKey("refresh_token"))
		Expect(m).To(HaveKey("id_token"))
		Expect(m).To(HaveKey("family"))
		fams := h.control(http.MethodGet, "/families", nil).json()["families"].([]any)
		Expect(fams).To(HaveLen(1))
		Expect(fams[0]).To(HaveKeyWithValue("id", m["family"]))
		Expect(fams[0]).To(HaveKeyWithValue("live_refresh_tokens", BeNumerically("==", 1)))
		Expect(fams[0]).To(HaveKeyWithValue("live_access_tokens", BeNumerically("==", 1)))

		h.advance("61m")
		fams = h.control(http.MethodGet, "/families", nil).json()["families"].([]any)
		Expect(fams[0]).To(HaveKeyWithValue("live_access_tokens", BeNumerically("==", 0)), "the access token expired")
		Expect(fams[0]).To(HaveKeyWithValue("access_tokens", BeNumerically("==", 1)))
	})

	It("mints for every client's default scopes when no scope is given, public clients included", func() {
		r := h.control(http.MethodPost, "/grants", map[string]string{"client_id": "demo-public", "user": "bob"})
		Expect(r.status).To(Equal(http.StatusCreated), "%s", r.body)
		Expect(r.str("scope")).To(Equal("openid offline_access profile api"))
	})

	DescribeTable("refuses bad grant requests",
		func(body map[string]any, status int, message string) {
			r := h.control(http.MethodPost, "/grants", body)
			Expect(r.status).To(Equal(status), "%s", r.body)
			Expect(string(r.body)).To(ContainSubstring(message))
		},
		Entry("unknown client", map[string]any{"client_id": "nope", "user": "alice"}, 404, `no client`),
		Entry("unknown user", map[string]any{"client_id": "demo", "user": "mallory"}, 404, `no user`),
		Entry("a scope the client may not have", map[string]any{"client_id": "demo", "user": "alice", "scope": "admin"}, 400, "invalid_scope"),
		Entry("a foreign redirect URI", map[string]any{"client_id": "demo", "user": "alice", "redirect_uri": "http://evil.test/cb"}, 400, "invalid_request"),
	)

	DescribeTable("refuses bad clock moves",
		func(body any, message string) {
			r := h.control(http.MethodPost, "/clock", body)
			Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
			Expect(r.str("error_description")).To(ContainSubstring(message))
		},
		Entry("nothing", map[string]any{}, "exactly one of"),
		Entry("both", map[string]any{"advance": "1m", "set": "2026-01-01T00:00:00Z"}, "exactly one of"),
		Entry("a bad duration", map[string]any{"advance": "soon"}, `invalid duration "soon"`),
		Entry("a bad time", map[string]any{"set": "tomorrow"}, `"tomorrow" is not an RFC 3339 time`),
		Entry("a number", map[string]any{"advance": 60}, "invalid JSON"),
		Entry("two objects", `{"advance":"1m"}{"advance":"1m"}`, "single JSON object"),
		Entry("an empty body", "", "must be a JSON object"),
	)

	It("lists events since a sequence number and rejects a bad one", func() {
		h.advance("1m")
		h.advance("1m")
		r := h.control(http.MethodGet, "/events?since=1", nil)
		Expect(r.status).To(Equal(http.StatusOK))
		evs := r.json()["events"].([]any)
		Expect(evs).To(HaveLen(1))
		Expect(evs[0]).To(HaveKeyWithValue("seq", BeNumerically("==", 2)))
		Expect(evs[0]).To(HaveKeyWithValue("kind", "clock_moved"))
		Expect(r.json()).NotTo(HaveKey("next"), "nothing follows")
		Expect(h.control(http.MethodGet, "/events?since=-1", nil).status).To(Equal(http.StatusBadRequest))
	})

	Describe("paging events", func() {
		// page reads one page of GET /events.
		page := func(query string) simulator.EventPage {
			GinkgoHelper()
			r := h.control(http.MethodGet, "/events?"+query, nil)
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
			var p simulator.EventPage
			Expect(json.Unmarshal(r.body, &p)).To(Succeed())
			return p
		}
		emit := func(n int) {
			for range n {
				h.advance("1s")
			}
		}

		It("answers a limited page with where the next starts, until the newest", func() {
			emit(25)
			var seqs []uint64
			since := uint64(0)
			for pages := 1; ; pages++ {
				p := page(fmt.Sprintf("since=%d&limit=10", since))
				Expect(len(p.Events)).To(BeNumerically("<=", 10))
				Expect(p.First).To(Equal(uint64(1)))
				Expect(p.Last).To(Equal(uint64(25)))
				for _, e := range p.Events {
					seqs = append(seqs, e.Seq)
				}
				if p.Next == 0 {
					Expect(pages).To(Equal(3))
					break
				}
				Expect(p.Next).To(Equal(p.Events[len(p.Events)-1].Seq))
				since = p.Next
			}
			Expect(seqs).To(HaveLen(25))
			for i, seq := range seqs {
				Expect(seq).To(Equal(uint64(i + 1)))
			}
		})

		It("holds at most the default page when no limit is given, and no more than the maximum", func() {
			emit(simulator.DefaultEventsPage + 1)
			p := page("since=0")
			Expect(p.Events).To(HaveLen(simulator.DefaultEventsPage))
			Expect(p.Next).To(Equal(uint64(simulator.DefaultEventsPage)))
			Expect(page("since=0&limit=" + strconv.Itoa(simulator.MaxEventsPage)).Events).To(HaveLen(simulator.DefaultEventsPage + 1))
		})

		It("is what the Go client reads the whole log through", func(ctx SpecContext) {
			emit(simulator.MaxEventsPage + 5)
			all, err := h.ctl.EventsSince(ctx, 3)
			Expect(err).NotTo(HaveOccurred())
			Expect(all.Events).To(HaveLen(simulator.MaxEventsPage + 2))
			Expect(all.Events[0].Seq).To(Equal(uint64(4)))
			Expect(all.Events[len(all.Events)-1].Seq).To(Equal(all.Last))
			Expect(all.Next).To(BeZero())
			one, err := h.ctl.EventsPage(ctx, 3, 2)
			Expect(err).NotTo(HaveOccurred())
			Expect(one.Events).To(HaveExactElements(HaveField("Seq", uint64(4)), HaveField("Seq", uint64(5))))
			Expect(one.Next).To(Equal(uint64(5)))
		})

		DescribeTable("refuses a bad limit",
			func(limit string) {
				r := h.control(http.MethodGet, "/events?limit="+limit, nil)
				Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
				Expect(r.str("error_description")).To(Equal(fmt.Sprintf("limit: %q is not a page size from 1 to 10000", limit)))
			},
			Entry("zero", "0"), Entry("negative", "-5"), Entry("over the maximum", "10001"), Entry("not a number", "all"),
		)
	})

	Describe("client secrets", func() {
		BeforeEach(func() {
			r := h.control(http.MethodPost, "/clients/demo/secret", map[string]string{"client_secret": "second-secret", "grace": "1h"})
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		})

		It("are left out of reads, their states kept, unless asked for", func() {
			for _, path := range []string{"/clients", "/clients/demo", "/clients?secrets=false"} {
				r := h.control(http.MethodGet, path, nil)
				Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
				Expect(string(r.body)).NotTo(Or(ContainSubstring("second-secret"), ContainSubstring("demo-secret"), ContainSubstring(`"client_secret"`)), path)
				Expect(string(r.body)).To(And(ContainSubstring(`"client_secret_state": "active"`), ContainSubstring(`"state": "grace"`)), path)
			}
			r := h.control(http.MethodGet, "/clients/demo", nil)
			Expect(r.json()).To(HaveKeyWithValue("previous_secrets", ConsistOf(HaveKeyWithValue("valid_until", "2026-01-01T10:00:00Z"))))
		})

		It("are shown when asked for", func() {
			Expect(h.control(http.MethodGet, "/clients/demo?secrets=true", nil).json()).To(And(
				HaveKeyWithValue("client_secret", "second-secret"),
				HaveKeyWithValue("previous_secrets", ConsistOf(HaveKeyWithValue("client_secret", "demo-secret")))))
			Expect(string(h.control(http.MethodGet, "/clients?secrets=true", nil).body)).To(ContainSubstring(`"client_secret": "second-secret"`))
			Expect(h.control(http.MethodGet, "/clients?secrets=maybe", nil).str("error_description")).To(Equal(`secrets: "maybe" is neither true nor false`))
			Expect(h.control(http.MethodGet, "/clients/nobody", nil).status).To(Equal(http.StatusNotFound))
		})
	})

	Describe("the clock's range", func() {
		It("refuses an advance that would wrap serve's offset clock, and answers 400 each time", func() {
			h = newHarness(simulator.WithClock(clock.NewOffset()))
			r := h.control(http.MethodPost, "/clock", map[string]string{"advance": "106751d"})
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
			ahead := h.srv.ClockState().Now
			Expect(ahead).To(BeTemporally(">", time.Now().AddDate(292, 0, 0)))
			Expect(r.json()).NotTo(HaveKey("provider_now"), "no skew holds")
			last := h.srv.Events().Last()
			for range 2 {
				r = h.control(http.MethodPost, "/clock", map[string]string{"advance": "106751d"})
				Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
				Expect(r.str("error_description")).To(Equal("advance the clock by 106751d: the clock's offset from the wall clock would pass the ±292 years a time.Duration holds"))
			}
			Expect(h.srv.ClockState().Now).To(BeTemporally("~", ahead, time.Minute), "the clock stayed where it was")
			Expect(h.srv.Events().Last()).To(Equal(last), "no clock_moved event")
		})

		It("refuses a move past year 9999 or before year 1, which RFC 3339 cannot write", func() {
			for _, step := range []string{"106751d", "-2562047h"} {
				var r reply
				for moves := 0; ; moves++ {
					Expect(moves).To(BeNumerically("<", 40), "the clock reached year 9999 and year 1 within 35 moves")
					if r = h.control(http.MethodPost, "/clock", map[string]string{"advance": step}); r.status != http.StatusOK {
						break
					}
				}
				Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
				Expect(r.str("error_description")).To(MatchRegexp(`^advance the clock by \S+: it would take the clock from \S+ to \S+, outside the years 1 to 9999 that RFC 3339 writes$`))
				now, err := time.Parse(time.RFC3339, h.control(http.MethodGet, "/clock", nil).str("now"))
				Expect(err).NotTo(HaveOccurred(), "the clock is still written in RFC 3339")
				Expect(now.Year()).To(Or(BeNumerically(">", 9700), BeNumerically("<", 300)))
			}
		})

		It("refuses the same through the Go methods, with an error, and leaves the clock where it was", func() {
			var err error
			for err == nil {
				_, err = h.srv.AdvanceClock(106751 * 24 * time.Hour)
			}
			Expect(err).To(MatchError(HavePrefix("advance the clock by 106751d: it would take the clock from")))
			at := h.clock.Now()
			Expect(at.Year()).To(BeNumerically(">", 9700))
			_, err = h.srv.SetClock(at.AddDate(280, 0, 0))
			Expect(err).To(MatchError(MatchRegexp(`^set the clock to \S+: it would take the clock from \S+ to \S+, outside the years 1 to 9999 that RFC 3339 writes$`)))
			Expect(h.clock.Now()).To(Equal(at))
		})
	})

	It("creates clients that can then get tokens, and refuses duplicates and bad ones", func() {
		client := map[string]any{"client_id": "qa", "client_secret": "qa-secret", "grant_types": []string{"client_credentials"}, "scopes": []string{"api"}}
		r := h.control(http.MethodPost, "/clients", client)
		Expect(r.status).To(Equal(http.StatusCreated), "%s", r.body)
		Expect(r.json()).To(HaveKeyWithValue("token_endpoint_auth_methods", ConsistOf("client_secret_basic", "client_secret_post")))
		Expect(h.control(http.MethodPost, "/clients", client).status).To(Equal(http.StatusConflict))
		tok := h.postForm(simulator.PathToken, url.Values{"grant_type": {"client_credentials"}}, "qa", "qa-secret")
		Expect(tok.status).To(Equal(http.StatusOK), "%s", tok.body)

		bad := h.control(http.MethodPost, "/clients", map[string]any{"client_id": "x", "grant_types": []string{"password"}})
		Expect(bad.status).To(Equal(http.StatusBadRequest))
		Expect(bad.str("error_description")).To(And(ContainSubstring("client_secret is required"), ContainSubstring(`grant type "password"`)))

		list := h.control(http.MethodGet, "/clients", nil).json()["clients"].([]any)
		Expect(list).To(HaveLen(3))
	})

	It("replaces a client secret: the old one stops working", func() {
		r := h.control(http.MethodPost, "/clients/demo/secret", map[string]string{"client_secret": "new-secret"})
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		cc := url.Values{"grant_type": {"client_credentials"}}
		old := h.postForm(simulator.PathToken, cc, "demo", "demo-secret")
		Expect(old.status).To(Equal(http.StatusUnauthorized))
		Expect(old.str("error")).To(Equal("invalid_client"))
		Expect(h.postForm(simulator.PathToken, cc, "demo", "new-secret").status).To(Equal(http.StatusOK))

		By("generating a secret when none is given")
		gen := h.control(http.MethodPost, "/clients/demo/secret", nil)
		Expect(gen.status).To(Equal(http.StatusOK))
		Expect(h.postForm(simulator.PathToken, cc, "demo", gen.str("client_secret")).status).To(Equal(http.StatusOK))
		Expect(h.control(http.MethodPost, "/clients/demo-public/secret", nil).status).To(Equal(http.StatusBadRequest))
	})

	It("adds users who can then sign in", func() {
		Expect(h.control(http.MethodPost, "/users", map[string]string{"id": "carol", "name": "Carol"}).status).To(Equal(http.StatusCreated))
		Expect(h.control(http.MethodPost, "/users", map[string]string{"id": "carol"}).status).To(Equal(http.StatusConflict))
		Expect(h.control(http.MethodPost, "/users", map[string]string{"name": "nobody"}).status).To(Equal(http.StatusBadRequest))
		Expect(h.me(h.mint("demo", "carol", "api").Access).json()).To(HaveKeyWithValue("sub", "carol"))
	})

	It("resets tokens, clients, users and events but not the clock", func() {
		t := h.mint("demo", "alice", "offline_access")
		h.control(http.MethodPost, "/users", map[string]string{"id": "carol"})
		h.advance("1h")
		last := h.events()[len(h.events())-1].Seq
		Expect(h.control(http.MethodPost, "/reset", nil).status).To(Equal(http.StatusOK))
		expectInvalidGrant(h.refresh(t.Refresh))
		Expect(h.control(http.MethodPost, "/grants", map[string]string{"client_id": "demo", "user": "carol"}).status).To(Equal(http.StatusNotFound))
		evs := h.events()
		Expect(evs[0].Kind).To(Equal(events.Reset))
		Expect(evs[0].Seq).To(BeNumerically(">", last), "sequence numbers never repeat")
		Expect(h.clock.Now()).To(BeTemporally("==", epoch.Add(time.Hour)))
	})

	It("serves the profile in force", func() {
		r := h.control(http.MethodGet, "/profile", nil)
		Expect(r.json()).To(HaveKeyWithValue("name", "generic"))
		Expect(r.json()).To(HaveKeyWithValue("access_token_lifetime", "1h0m0s"))
	})

	It("answers unknown paths and methods with JSON errors", func() {
		r := h.control(http.MethodGet, "/nothing", nil)
		Expect(r.status).To(Equal(http.StatusNotFound))
		Expect(r.str("error")).To(Equal("not_found"))
		r = h.control(http.MethodDelete, "/clock", nil)
		Expect(r.status).To(Equal(http.StatusMethodNotAllowed))
		Expect(r.str("error")).To(Equal("method_not_allowed"))
	})
})
