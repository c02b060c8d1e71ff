package simulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3/jwt"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// addFault adds a fault over the control API and returns its id.
func (h *harness) addFault(f any) string {
	GinkgoHelper()
	r := h.control(http.MethodPost, "/faults", f)
	Expect(r.status).To(Equal(http.StatusCreated), "add fault: %s", r.body)
	return r.str("id")
}

// tryDo sends a request that may get no answer at all.
func (h *harness) tryDo(req *http.Request, timeout time.Duration) (reply, error) {
	c := *h.http
	c.Timeout = timeout
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	var body []byte
	body, err = io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: body}, err
}

func (h *harness) refreshRequest(rt string) *http.Request {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+simulator.PathToken,
		strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo", "demo-secret")
	return req
}

// firings returns the fault_fired events of the fault id.
func firings(evs []events.Event, id string) []events.Event {
	var out []events.Event
	for _, e := range evs {
		if e.Kind == events.FaultFired && e.Fault == id {
			out = append(out, e)
		}
	}
	return out
}

var _ = Describe("Faults", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	Describe("the control API", func() {
		It("adds, lists, shows and removes faults, recording each change", func() {
			r := h.control(http.MethodPost, "/faults", map[string]any{"kind": "reset", "match": map[string]any{"endpoint": "token"}})
			Expect(r.status).To(Equal(http.StatusCreated), "%s", r.body)
			Expect(r.str("id")).To(Equal("f1"))
			Expect(r.json()["match"]).To(HaveKeyWithValue("seed", BeNumerically("==", fault.DefaultSeed)))
			Expect(r.json()["match"]).To(HaveKeyWithValue("endpoint", ConsistOf("token")))
			h.addFault(map[string]any{"id": "slow", "kind": "latency", "delay": "1ms"})

			list := h.control(http.MethodGet, "/faults", nil)
			Expect(list.status).To(Equal(http.StatusOK))
			var body struct{ Faults []fault.Status }
			Expect(json.Unmarshal(list.body, &body)).To(Succeed())
			Expect(body.Faults).To(HaveLen(2))
			Expect(body.Faults[0].ID).To(Equal("f1"))
			Expect(body.Faults[1].ID).To(Equal("slow"))

			Expect(h.control(http.MethodGet, "/faults/slow", nil).str("kind")).To(Equal("latency"))
			del := h.control(http.MethodDelete, "/faults/f1", nil)
			Expect(del.status).To(Equal(http.StatusOK))
			Expect(h.control(http.MethodGet, "/faults/f1", nil).status).To(Equal(http.StatusNotFound))
			Expect(h.control(http.MethodDelete, "/faults/f1", nil).status).To(Equal(http.StatusNotFound))
			Expect(h.control(http.MethodDelete, "/faults", nil).json()).To(HaveKeyWithValue("removed", BeNumerically("==", 1)))
			Expect(kinds(h.events())).To(Equal([]events.Kind{events.FaultAdded, events.FaultAdded, events.FaultRemoved, events.FaultRemoved}))
		})

		DescribeTable("refuses a bad fault with 400 naming the field",
			func(f string, field string) {
				r := h.control(http.MethodPost, "/faults", f)
				Expect(r.status).To(Equal(http.StatusBadRequest), "%s", r.body)
				Expect(r.str("error")).To(Equal("invalid_request"))
				Expect(r.str("error_description")).To(ContainSubstring(field))
			},
			Entry("unknown kind", `{"kind":"explode"}`, "kind: must be one of"),
			Entry("a parameter of another kind", `{"kind":"latency","delay":"1s","status":500}`, "status: does not apply to a latency fault"),
			Entry("unknown field", `{"kind":"reset","mtach":{}}`, "unknown field"),
			Entry("unknown endpoint", `{"kind":"reset","match":{"endpoint":"tokens"}}`, "match.endpoint"),
			Entry("probability above 1", `{"kind":"reset","match":{"probability":1.5}}`, "match.probability"),
			Entry("bad window", `{"kind":"reset","match":{"from":"yesterday"}}`, "match.from"),
			Entry("window backwards", `{"kind":"reset","match":{"from":"2h","until":"1h"}}`, "match.until"),
			Entry("limit without window", `{"kind":"rate_limit","limit":5}`, "limit: a limit needs its window"),
			Entry("skew with a filter", `{"kind":"skew","offset":"5m","match":{"client":"demo"}}`, "match:"),
			Entry("bad malformed mode", `{"kind":"malformed","mode":"garble"}`, "mode:"),
			Entry("unknown deviation", `{"kind":"deviation","deviation":"expires_in_hex"}`, "deviation:"),
			Entry("hang beyond the bound", `{"kind":"hang","max":"1h"}`, "max:"),
			Entry("bad duration", `{"kind":"latency","delay":"soon"}`, "invalid duration"),
		)

		It("answers 409 for an id already active", func() {
			h.addFault(map[string]any{"id": "x", "kind": "reset"})
			Expect(h.control(http.MethodPost, "/faults", map[string]any{"id": "x", "kind": "reset"}).status).To(Equal(http.StatusConflict))
		})

		It("restores the configured faults, with zero counts, on reset", func() {
			h = newHarness(simulator.WithFaults(fault.Fault{ID: "cfg", Effect: fault.ErrorEffect{Status: 503}}))
			Expect(h.get(simulator.PathJWKS).status).To(Equal(http.StatusServiceUnavailable))
			h.addFault(map[string]any{"kind": "reset"})
			Expect(h.control(http.MethodPost, "/reset", nil).status).To(Equal(http.StatusOK))
			list := h.control(http.MethodGet, "/faults", nil)
			var body struct{ Faults []fault.Status }
			Expect(json.Unmarshal(list.body, &body)).To(Succeed())
			Expect(body.Faults).To(HaveLen(1))
			Expect(body.Faults[0].ID).To(Equal("cfg"))
			Expect(body.Faults[0].Fired).To(BeZero())
		})

		It("never faults the control API itself", func() {
			h.addFault(map[string]any{"kind": "reset"})
			Expect(h.control(http.MethodGet, "/clock", nil).status).To(Equal(http.StatusOK))
		})
	})

	Describe("rate_limit", func() {
		It("answers 429 with Retry-After on exactly the matching requests", func() {
			t := h.mint("demo", "alice", "openid offline_access api")
			id := h.addFault(map[string]any{"kind": "rate_limit", "retry_after": "30s",
				"match": map[string]any{"endpoint": "token", "grant_type": "refresh_token", "nth": 2, "count": 2}})
			Expect(h.me(t.Access).status).To(Equal(http.StatusOK), "the resource does not match")

			first := h.refresh(t.Refresh)
			Expect(first.status).To(Equal(http.StatusOK))
			rt := decodeTokens(first).Refresh
			for range 2 {
				r := h.refresh(rt)
				Expect(r.status).To(Equal(http.StatusTooManyRequests))
				Expect(r.header.Get("Retry-After")).To(Equal("30"))
				Expect(r.str("error")).To(Equal("temporarily_unavailable"))
			}
			Expect(h.refresh(rt).status).To(Equal(http.StatusOK), "the provider never saw the limited requests, so the token is still good")

			evs := h.events()
			Expect(firings(evs, id)).To(HaveLen(2))
			var limited []events.Event
			for _, e := range evs {
				if e.Kind == events.TokenRequest && e.Outcome == events.OutcomeFault {
					limited = append(limited, e)
				}
			}
			Expect(limited).To(HaveLen(2))
			Expect(limited[0].Status).To(Equal(http.StatusTooManyRequests))
			Expect(limited[0].Fault).To(Equal(id))
			Expect(limited[0].GrantType).To(Equal("refresh_token"))
			Expect(limited[0].Family).To(Equal(t.Family))
			Expect(limited[0].User).To(Equal("alice"))
			Expect(limited[0].Token).NotTo(BeEmpty())
		})

		It("records when the client may come back, on the sim clock, whatever the header's form", func() {
			t := h.mint("demo", "alice", "openid offline_access api")
			h.addFault(map[string]any{"id": "secs", "kind": "rate_limit", "retry_after": "30s", "match": map[string]any{"grant_type": "refresh_token", "count": 1}})
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusTooManyRequests))
			h.addFault(map[string]any{"id": "date", "kind": "rate_limit", "retry_after": "90s", "retry_after_format": "http_date", "match": map[string]any{"grant_type": "refresh_token", "count": 1}})
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusTooManyRequests))
			h.addFault(map[string]any{"id": "okta", "kind": "rate_limit", "signal": "okta", "limit": 1, "per": "1m", "match": map[string]any{"endpoint": "resource"}})
			Expect(h.me(t.Access).status).To(Equal(http.StatusOK))
			Expect(h.me(t.Access).status).To(Equal(http.StatusTooManyRequests))
			h.addFault(map[string]any{"id": "none", "kind": "error", "status": 503, "match": map[string]any{"endpoint": "introspect"}})
			Expect(h.postForm(simulator.PathIntrospect, url.Values{"token": {t.Access}}, "demo", "demo-secret").status).To(Equal(http.StatusServiceUnavailable))

			at := map[string]*time.Time{}
			for _, e := range h.events() {
				if e.Outcome == events.OutcomeFault {
					at[e.Fault] = e.RetryAt
				}
			}
			Expect(at).To(HaveLen(4))
			Expect(at["secs"]).To(HaveValue(Equal(epoch.Add(30 * time.Second))))
			Expect(at["date"]).To(HaveValue(Equal(epoch.Add(90 * time.Second))))
			Expect(at["okta"]).To(HaveValue(Equal(epoch.Add(time.Minute))), "from X-Rate-Limit-Reset")
			Expect(at["none"]).To(BeNil(), "a 503 without Retry-After says nothing")
		})

		It("gives Retry-After as an HTTP-date when asked", func() {
			h.addFault(map[string]any{"kind": "rate_limit", "retry_after": "90s", "retry_after_format": "http_date"})
			r := h.get(simulator.PathJWKS)
			Expect(r.status).To(Equal(http.StatusTooManyRequests))
			at, err := http.ParseTime(r.header.Get("Retry-After"))
			Expect(err).NotTo(HaveOccurred(), "Retry-After %q", r.header.Get("Retry-After"))
			Expect(at).To(Equal(epoch.Add(90 * time.Second)))
		})

		It("limits N requests per window per key, on the sim clock", func() {
			alice := h.mint("demo", "alice", "api")
			bob := h.mint("demo", "bob", "api")
			h.addFault(map[string]any{"kind": "rate_limit", "limit": 2, "per": "1m", "key": "user", "match": map[string]any{"endpoint": "resource"}})
			Expect(h.me(alice.Access).status).To(Equal(http.StatusOK))
			h.advance("20s")
			Expect(h.me(alice.Access).status).To(Equal(http.StatusOK))
			third := h.me(alice.Access)
			Expect(third.status).To(Equal(http.StatusTooManyRequests))
			Expect(third.header.Get("Retry-After")).To(Equal("40"), "the first request leaves the window 40s from now")
			Expect(h.me(bob.Access).status).To(Equal(http.StatusOK), "bob has his own count")
			h.advance("41s")
			Expect(h.me(alice.Access).status).To(Equal(http.StatusOK))
		})

		It("uses the standard signal with another status when asked", func() {
			h.addFault(map[string]any{"kind": "rate_limit", "signal": "standard", "status": 503})
			r := h.get(simulator.PathJWKS)
			Expect(r.status).To(Equal(http.StatusServiceUnavailable))
			Expect(r.header.Get("Retry-After")).To(Equal("30"))
		})

		It("answers with JSON that has no error member when the signal says json_without_error", func() {
			t := h.mint("demo", "alice", "offline_access api")
			id := h.addFault(map[string]any{"kind": "rate_limit", "signal": "json_without_error", "retry_after": "45s", "match": map[string]any{"count": 1}})
			r := h.refresh(t.Refresh)
			Expect(r.status).To(Equal(http.StatusTooManyRequests))
			Expect(r.header.Get("Content-Type")).To(Equal("application/json"))
			Expect(r.header.Get("Retry-After")).To(Equal("45"))
			Expect(r.json()).NotTo(HaveKey("error"))
			Expect(r.json()).To(HaveKeyWithValue("retry_after", BeNumerically("==", 45)))
			Expect(r.json()).To(HaveKeyWithValue("message", Not(BeEmpty())))
			e := h.lastEvent(events.TokenRequest)
			Expect(e.Fault).To(Equal(id))
			Expect(e.Outcome).To(Equal(events.OutcomeFault))
			Expect(e.Error).To(BeEmpty())
			Expect(e.RetryAt).To(HaveValue(Equal(epoch.Add(45 * time.Second))))
			Expect(e.RequestedScope).To(BeNil())
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK))
		})

		It("records when a rate-limited or unavailable resource lets the client come back", func() {
			t := h.mint("demo", "alice", "api")
			h.addFault(map[string]any{"id": "limited", "kind": "rate_limit", "retry_after": "45s", "match": map[string]any{"endpoint": "resource", "count": 1}})
			Expect(h.me(t.Access).status).To(Equal(http.StatusTooManyRequests))
			h.addFault(map[string]any{"id": "down", "kind": "error", "status": 503, "retry_after": "20s", "match": map[string]any{"endpoint": "resource", "count": 1}})
			Expect(h.me(t.Access).status).To(Equal(http.StatusServiceUnavailable))
			h.addFault(map[string]any{"id": "slow", "kind": "error", "status": 429, "retry_after": "2m", "match": map[string]any{"endpoint": "resource", "count": 1}})
			Expect(h.me(t.Access).status).To(Equal(http.StatusTooManyRequests))
			at := map[string]*time.Time{}
			for _, e := range h.eventsOf(events.ResourceRequest) {
				if e.Outcome == events.OutcomeFault {
					at[e.Fault] = e.RetryAt
				}
			}
			Expect(at).To(HaveKeyWithValue("limited", HaveValue(Equal(epoch.Add(45*time.Second)))))
			Expect(at).To(HaveKeyWithValue("down", HaveValue(Equal(epoch.Add(20*time.Second)))))
			Expect(at).To(HaveKeyWithValue("slow", HaveValue(Equal(epoch.Add(2*time.Minute)))))
		})

		It("logs the scope a rate-limited refresh sent", func() {
			t := h.mint("demo", "alice", "offline_access api")
			h.addFault(map[string]any{"kind": "rate_limit", "match": map[string]any{"count": 1}})
			Expect(h.refreshScope(t.Refresh, "api").status).To(Equal(http.StatusTooManyRequests))
			Expect(h.lastEvent(events.TokenRequest).RequestedScope).To(HaveValue(Equal("api")))
		})
	})

	Describe("error", func() {
		It("answers an OAuth error without the provider seeing the request", func() {
			t := h.mint("demo", "alice", "offline_access api")
			h.addFault(map[string]any{"kind": "error", "oauth_error": "invalid_grant", "error_description": "injected", "match": map[string]any{"count": 1}})
			r := h.refresh(t.Refresh)
			Expect(r.status).To(Equal(http.StatusBadRequest))
			Expect(r.json()).To(Equal(map[string]any{"error": "invalid_grant", "error_description": "injected"}))
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK))
		})

		It("answers any status with an HTML page and a Retry-After", func() {
			h.addFault(map[string]any{"kind": "error", "status": 502, "body": "<html><body>Bad Gateway</body></html>", "retry_after": "10s"})
			r := h.get(simulator.PathASMetadata)
			Expect(r.status).To(Equal(http.StatusBadGateway))
			Expect(r.header.Get("Content-Type")).To(HavePrefix("text/html"))
			Expect(r.header.Get("Retry-After")).To(Equal("10"))
			Expect(string(r.body)).To(Equal("<html><body>Bad Gateway</body></html>"))
		})

		It("answers a step-up as the profile does, or as RFC 6749 when it has no own answer", func() {
			t := h.mint("demo", "alice", "offline_access api")
			h.addFault(map[string]any{"kind": "error", "situation": "interaction_required"})
			r := h.refresh(t.Refresh)
			Expect(r.status).To(Equal(http.StatusBadRequest))
			Expect(r.str("error")).To(Equal("interaction_required"))
		})

		It("matches by client, user and family", func() {
			alice := h.mint("demo", "alice", "offline_access api")
			bob := h.mint("demo", "bob", "offline_access api")
			h.addFault(map[string]any{"kind": "error", "status": 500, "match": map[string]any{"family": alice.Family}})
			Expect(h.refresh(alice.Refresh).status).To(Equal(http.StatusInternalServerError))
			Expect(h.refresh(bob.Refresh).status).To(Equal(http.StatusOK))
			Expect(h.control(http.MethodDelete, "/faults", nil).status).To(Equal(http.StatusOK))
			h.addFault(map[string]any{"kind": "error", "status": 500, "match": map[string]any{"user": "bob", "client": []string{"demo"}}})
			Expect(h.refresh(alice.Refresh).status).To(Equal(http.StatusOK))
			Expect(h.me(bob.Access).status).To(Equal(http.StatusInternalServerError))
		})

		It("holds to its sim-time window", func() {
			h.addFault(map[string]any{"kind": "error", "status": 503, "match": map[string]any{"from": "1h", "until": "2h"}})
			Expect(h.get(simulator.PathJWKS).status).To(Equal(http.StatusOK))
			h.advance("1h")
			Expect(h.get(simulator.PathJWKS).status).To(Equal(http.StatusServiceUnavailable))
			h.advance("59m59s")
			Expect(h.get(simulator.PathJWKS).status).To(Equal(http.StatusServiceUnavailable))
			h.advance("1s")
			Expect(h.get(simulator.PathJWKS).status).To(Equal(http.StatusOK))
		})

		It("fires with a seeded probability, the same way on every run", func() {
			pattern := func(seed uint64) []int {
				h := newHarness()
				h.addFault(map[string]any{"kind": "error", "status": 503, "match": map[string]any{"probability": 0.5, "seed": seed}})
				var out []int
				for range 40 {
					out = append(out, h.get(simulator.PathJWKS).status)
				}
				return out
			}
			first := pattern(7)
			Expect(pattern(7)).To(Equal(first))
			Expect(first).To(ContainElement(http.StatusOK))
			Expect(first).To(ContainElement(http.StatusServiceUnavailable))
			Expect(pattern(8)).NotTo(Equal(first))
		})
	})

	Describe("latency, hang and reset", func() {
		It("delays an answer past a client's timeout", func() {
			h.addFault(map[string]any{"kind": "latency", "delay": "400ms"})
			req, _ := http.NewRequest(http.MethodGet, h.srv.URL+simulator.PathJWKS, nil)
			_, err := h.tryDo(req, 50*time.Millisecond)
			Expect(err).To(HaveOccurred())
			var ue *url.Error
			Expect(errors.As(err, &ue) && ue.Timeout()).To(BeTrue(), "want a timeout, got %v", err)
			Expect(h.control(http.MethodDelete, "/faults", nil).status).To(Equal(http.StatusOK))
			_, err = h.tryDo(req, 2*time.Second)
			Expect(err).NotTo(HaveOccurred())
		})

		It("logs the request a client gave up on during a delay", func() {
			t := h.mint("demo", "alice", "offline_access api")
			h.addFault(map[string]any{"kind": "latency", "delay": "2s", "match": map[string]any{"endpoint": "token"}})
			_, err := h.tryDo(h.refreshRequest(t.Refresh), 100*time.Millisecond)
			Expect(err).To(HaveOccurred())
			Eventually(h.events).Should(ContainElement(And(
				HaveField("Kind", events.TokenRequest), HaveField("Outcome", events.OutcomeFault),
				HaveField("Fault", "f1"), HaveField("Family", t.Family))))
		})

		It("holds a request until the client gives up", func() {
			t := h.mint("demo", "alice", "offline_access api")
			id := h.addFault(map[string]any{"kind": "hang", "match": map[string]any{"endpoint": "token"}})
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := h.tryDo(h.refreshRequest(t.Refresh).WithContext(ctx), 0)
			Expect(err).To(MatchError(context.DeadlineExceeded))
			Eventually(func() []events.Event { return firings(h.events(), id) }).Should(ContainElement(
				HaveField("Detail", ContainSubstring("until the client gave up"))))
		})

		It("closes a held connection without an answer after its bound", func() {
			h.addFault(map[string]any{"kind": "hang", "max": "50ms"})
			req, _ := http.NewRequest(http.MethodGet, h.srv.URL+simulator.PathJWKS, nil)
			_, err := h.tryDo(req, 5*time.Second)
			Expect(err).To(HaveOccurred())
			var ue *url.Error
			Expect(errors.As(err, &ue) && !ue.Timeout()).To(BeTrue(), "want a closed connection, not a timeout: %v", err)
		})

		It("resets the connection, and the provider never sees the request", func() {
			t := h.mint("demo", "alice", "offline_access api")
			h.addFault(map[string]any{"kind": "reset", "match": map[string]any{"endpoint": "token", "count": 1}})
			_, err := h.tryDo(h.refreshRequest(t.Refresh), 5*time.Second)
			Expect(err).To(HaveOccurred())
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK), "the token was not used")
			var faulted []events.Event
			for _, e := range h.events() {
				if e.Kind == events.TokenRequest && e.Outcome == events.OutcomeFault {
					faulted = append(faulted, e)
				}
			}
			Expect(faulted).To(HaveLen(1))
			Expect(faulted[0].Status).To(BeZero())
		})
	})

	Describe("malformed", func() {
		DescribeTable("spoils the answer of a request the provider served",
			func(mode string, check func(reply)) {
				t := h.mint("demo", "alice", "offline_access api")
				h.addFault(map[string]any{"kind": "malformed", "mode": mode, "match": map[string]any{"endpoint": "token", "count": 1}})
				r := h.refresh(t.Refresh)
				Expect(r.status).To(Equal(http.StatusOK))
				check(r)
				evs := h.events()
				Expect(firings(evs, "f1")).To(HaveLen(1))
				named := "f1"
				if mode == fault.ModeContentType {
					named = "" // the tokens still arrive readable
				}
				Expect(evs).To(ContainElement(And(HaveField("Kind", events.TokenRequest), HaveField("Status", 200), HaveField("Fault", named))),
					"the served request names the fault that kept its answer from the client")
				Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusBadRequest), "the refresh was committed: the old token is spent")
			},
			Entry("truncate", fault.ModeTruncate, func(r reply) {
				Expect(json.Valid(r.body)).To(BeFalse())
				Expect(r.body).NotTo(BeEmpty())
			}),
			Entry("content_type", fault.ModeContentType, func(r reply) {
				Expect(json.Valid(r.body)).To(BeTrue())
				Expect(r.header.Get("Content-Type")).To(HavePrefix("text/html"))
			}),
			Entry("not_json", fault.ModeNotJSON, func(r reply) {
				Expect(string(r.body)).To(HavePrefix("<html>"))
			}),
			Entry("empty", fault.ModeEmpty, func(r reply) {
				Expect(r.body).To(BeEmpty())
			}),
		)
	})

	Describe("drop_after_commit", func() {
		lose := func(h *harness, rt string) {
			GinkgoHelper()
			h.addFault(map[string]any{"kind": "drop_after_commit", "match": map[string]any{"endpoint": "token", "grant_type": "refresh_token", "count": 1}})
			_, err := h.tryDo(h.refreshRequest(rt), 5*time.Second)
			Expect(err).To(HaveOccurred(), "the client gets no answer")
		}

		It("kills the grant when the provider has no grace window", func() {
			t := h.mint("demo", "alice", "offline_access api")
			lose(h, t.Refresh)
			expectInvalidGrant(h.refresh(t.Refresh))
			Expect(kinds(h.events())).To(ContainElements(events.RefreshRotated, events.FaultFired, events.RefreshReuseDetected, events.FamilyRevoked))
		})

		It("lets the client retry with the old token inside a grace window", func() {
			p := profile.Generic()
			p.Refresh.Rotation, p.Refresh.Grace = profile.RotationRotateWithGrace, profile.Duration(30*time.Second)
			h = newHarness(simulator.WithProfile(p))
			t := h.mint("demo", "alice", "offline_access api")
			lose(h, t.Refresh)
			h.advance("10s")
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK))
			Expect(kinds(h.events())).To(ContainElement(events.RefreshGraceReuse))
		})
	})

	Describe("skew", func() {
		It("moves the provider's clock: Date, iat and expiry, but not the event log", func() {
			before := h.mint("demo", "alice", "offline_access api")
			h.addFault(map[string]any{"kind": "skew", "offset": "10m"})
			t := h.mint("demo", "alice", "offline_access api")
			Expect(t.ExpiresIn).To(BeNumerically("==", 3600))
			r := h.me(t.Access)
			Expect(r.status).To(Equal(http.StatusOK))
			date, err := http.ParseTime(r.header.Get("Date"))
			Expect(err).NotTo(HaveOccurred())
			Expect(date).To(Equal(epoch.Add(10 * time.Minute)))
			Expect(h.introspect(t.Access)).To(HaveKeyWithValue("iat", BeNumerically("==", epoch.Add(10*time.Minute).Unix())))
			h.advance("51m")
			Expect(h.me(before.Access).status).To(Equal(http.StatusUnauthorized), "51 minutes on the client's clock are 61 on the provider's")
			Expect(h.me(t.Access).status).To(Equal(http.StatusOK), "a token minted on the skewed clock lives its hour on it")
			evs := h.events()
			Expect(evs[len(evs)-1].Time).To(Equal(epoch.Add(51 * time.Minute)))
		})

		It("logs each token's expiry on the event log's axis, not the provider's", func() {
			h.addFault(map[string]any{"kind": "skew", "offset": "10m"})
			h.mint("demo", "alice", "offline_access api")
			var issued []events.Event
			for _, e := range h.events() {
				if e.Kind == events.TokenIssued && e.TokenType == "access_token" {
					issued = append(issued, e)
				}
			}
			Expect(issued).To(HaveLen(1))
			Expect(issued[0].Time).To(Equal(epoch), "events keep sim time")
			Expect(*issued[0].ExpiresAt).To(Equal(epoch.Add(time.Hour)),
				"the token dies when the provider's clock, 10 minutes ahead, reaches its hour: 60 sim minutes after it was minted")
		})
	})

	Describe("backdate", func() {
		It("announces a full lifetime for a token minted earlier", func() {
			h.addFault(map[string]any{"kind": "backdate", "by": "120s"})
			t := h.mint("demo", "alice", "offline_access api")
			r := h.refresh(t.Refresh)
			Expect(r.status).To(Equal(http.StatusOK))
			fresh := decodeTokens(r)
			Expect(fresh.ExpiresIn).To(BeNumerically("==", 3600))
			Expect(h.introspect(fresh.Access)).To(HaveKeyWithValue("exp", BeNumerically("==", epoch.Add(58*time.Minute).Unix())))
			h.advance("58m")
			Expect(h.me(fresh.Access).status).To(Equal(http.StatusUnauthorized))
		})
	})

	Describe("propagation_delay", func() {
		It("refuses a fresh access token at the resource until it has propagated", func() {
			id := h.addFault(map[string]any{"kind": "propagation_delay", "delay": "30s", "on": "issue"})
			t := h.mint("demo", "alice", "offline_access api")
			r := h.me(t.Access)
			Expect(r.status).To(Equal(http.StatusUnauthorized))
			Expect(r.header.Get("WWW-Authenticate")).To(ContainSubstring(`error="invalid_token"`))
			h.advance("30s")
			Expect(h.me(t.Access).status).To(Equal(http.StatusOK))
			Expect(firings(h.events(), id)).To(HaveLen(1))
		})

		It("keeps accepting a revoked access token until the revocation has propagated", func() {
			h.addFault(map[string]any{"kind": "propagation_delay", "delay": "30s", "on": []string{"revocation"}})
			t := h.mint("demo", "alice", "offline_access api")
			rv := h.postForm(simulator.PathRevoke, url.Values{"token": {t.Refresh}}, "demo", "demo-secret")
			Expect(rv.status).To(Equal(http.StatusOK))
			r := h.me(t.Access)
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.json()).To(HaveKeyWithValue("sub", "alice"))
			h.advance("30s")
			Expect(h.me(t.Access).status).To(Equal(http.StatusUnauthorized))
		})
	})

	Describe("deviation", func() {
		refreshWith := func(dev string) (reply, tokens) {
			GinkgoHelper()
			t := h.mint("demo", "alice", "offline_access api")
			h.addFault(map[string]any{"kind": "deviation", "deviation": dev})
			return h.refresh(t.Refresh), t
		}

		It("sends expires_in as a string, and records that it did", func() {
			r, _ := refreshWith("expires_in_string")
			Expect(r.json()).To(HaveKeyWithValue("expires_in", "3600"))
			Expect(firings(h.events(), "f1")).To(ConsistOf(And(
				HaveField("Detail", "deviation: expires_in_string"), HaveField("User", "alice"), HaveField("Client", "demo"))))
		})
		It("sends a fractional expires_in", func() {
			r, _ := refreshWith("expires_in_fractional")
			Expect(r.json()).To(HaveKeyWithValue("expires_in", 3599.5))
		})
		It("leaves expires_in out", func() {
			r, _ := refreshWith("expires_in_missing")
			Expect(r.json()).NotTo(HaveKey("expires_in"))
			Expect(r.json()).To(HaveKey("access_token"))
		})
		It("sends token_type in lowercase", func() {
			r, _ := refreshWith("token_type_lowercase")
			Expect(r.json()).To(HaveKeyWithValue("token_type", "bearer"))
		})
		It("answers a refresh without refresh_token, keeping the old one valid", func() {
			r, t := refreshWith("no_refresh_token")
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.json()).NotTo(HaveKey("refresh_token"))
			Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK))
		})
		It("answers errors with HTTP 200, and counts only the answers it changed", func() {
			r, _ := refreshWith("errors_as_200")
			Expect(r.json()).To(HaveKey("access_token"))
			Expect(h.control(http.MethodGet, "/faults/f1", nil).json()).To(HaveKeyWithValue("fired", BeNumerically("==", 0)))
			r = h.refresh("not-a-token")
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.str("error")).To(Equal("invalid_grant"))
			Expect(firings(h.events(), "f1")).To(ConsistOf(HaveField("Detail", ContainSubstring("invalid_grant with 200 instead of 400"))))
		})
		DescribeTable("answers invalid_grant with another status",
			func(dev string, status int) {
				h.addFault(map[string]any{"kind": "deviation", "deviation": dev})
				Expect(h.refresh("not-a-token").status).To(Equal(status))
				r := h.postForm(simulator.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, "demo", "wrong")
				Expect(r.status).To(Equal(http.StatusUnauthorized), "invalid_client keeps its status")
			},
			Entry("401", "invalid_grant_401", http.StatusUnauthorized),
			Entry("403", "invalid_grant_403", http.StatusForbidden),
		)
		It("gives the id_token a nonce the authorization did not send, validly signed, and says so", func() {
			verifier, challenge := pkce()
			code := codeFrom(h.get(authorizeURL("demo", "openid offline_access", challenge, "login_hint", "alice", "nonce", "n-0123456789")))
			id := h.addFault(map[string]any{"kind": "deviation", "deviation": "id_token_nonce_mismatch"})
			r := h.postForm(simulator.PathToken, url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {simulator.DemoRedirectURI}, "code_verifier": {verifier},
			}, "demo", "demo-secret")
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
			t := decodeTokens(r)
			claims := verifyIDToken(h, t.IDToken)
			Expect(claims.Subject).To(Equal("alice"))
			Expect(claims.Audience).To(ContainElement("demo"))
			var extra struct {
				Nonce  string `json:"nonce"`
				AtHash string `json:"at_hash"`
			}
			tok, err := jwt.ParseSigned(t.IDToken)
			Expect(err).NotTo(HaveOccurred())
			Expect(tok.UnsafeClaimsWithoutVerification(&extra)).To(Succeed())
			Expect(extra.Nonce).NotTo(BeEmpty())
			Expect(extra.Nonce).NotTo(Equal("n-0123456789"))
			Expect(extra.AtHash).NotTo(BeEmpty())
			Expect(firings(h.events(), id)).To(ConsistOf(HaveField("Detail", ContainSubstring("nonce"))))

			By("leaving alone answers whose id_token has no nonce: a refresh's")
			Expect(decodeTokens(h.refresh(t.Refresh)).IDToken).NotTo(BeEmpty())
			Expect(firings(h.events(), id)).To(HaveLen(1))
			st := h.control(http.MethodGet, "/faults/"+id, nil).json()
			Expect(st).To(HaveKeyWithValue("fired", BeNumerically("==", 1)))
		})

		It("does not fire on an authorization that sent no nonce", func() {
			verifier, challenge := pkce()
			code := codeFrom(h.get(authorizeURL("demo", "openid", challenge, "login_hint", "alice")))
			id := h.addFault(map[string]any{"kind": "deviation", "deviation": "id_token_nonce_mismatch"})
			r := h.postForm(simulator.PathToken, url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {simulator.DemoRedirectURI}, "code_verifier": {verifier},
			}, "demo", "demo-secret")
			Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
			verifyIDToken(h, decodeTokens(r).IDToken)
			Expect(firings(h.events(), id)).To(BeEmpty())
		})

		It("gives access tokens a random lifetime in a range, the same on every run", func() {
			lifetimes := func() []float64 {
				h := newHarness()
				h.addFault(map[string]any{"kind": "deviation", "deviation": "random_access_token_lifetime", "min_lifetime": "60m", "max_lifetime": "90m"})
				t := h.mint("demo", "alice", "offline_access api")
				var out []float64
				rt := t.Refresh
				for range 8 {
					next := decodeTokens(h.refresh(rt))
					out = append(out, next.ExpiresIn)
					rt = next.Refresh
				}
				return out
			}
			first := lifetimes()
			Expect(first).To(HaveEach(And(BeNumerically(">=", 3600), BeNumerically("<=", 5400))))
			Expect(first).NotTo(HaveEach(first[0]))
			Expect(lifetimes()).To(Equal(first))
		})
	})
})

var _ = Describe("Faults, in combination", func() {
	var h *harness
	BeforeEach(func() { h = newHarness() })

	It("do not panic a caller that serves requests in-process", func() {
		sim := simulator.MustNew(simulator.WithFaults(fault.Fault{Effect: fault.ResetEffect{}}, fault.Fault{Effect: fault.DropAfterCommitEffect{}}))
		rec := httptest.NewRecorder()
		Expect(func() { sim.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, simulator.PathJWKS, nil)) }).NotTo(Panic())
		Expect(rec.Body.Len()).To(BeZero())
	})

	It("count a propagation_delay only where it changed the answer", func() {
		old := h.mint("demo", "alice", "api")
		h.advance("1m")
		h.addFault(map[string]any{"kind": "propagation_delay", "delay": "30s", "match": map[string]any{"count": 1}})
		Expect(h.me(old.Access).status).To(Equal(http.StatusOK), "an old token has propagated")
		fresh := h.mint("demo", "alice", "api")
		Expect(h.me(fresh.Access).status).To(Equal(http.StatusUnauthorized), "the count was not spent on the old token")
		Expect(h.control(http.MethodGet, "/faults/f1", nil).json()).To(HaveKeyWithValue("fired", BeNumerically("==", 1)))
	})

	It("spoil an answer once: the first spoiler wins and the next does not see the request", func() {
		t := h.mint("demo", "alice", "offline_access api")
		h.addFault(map[string]any{"kind": "malformed", "mode": "empty"})
		h.addFault(map[string]any{"kind": "drop_after_commit"})
		r := h.refresh(t.Refresh)
		Expect(r.status).To(Equal(http.StatusOK))
		Expect(r.body).To(BeEmpty())
		Expect(h.control(http.MethodGet, "/faults/f2", nil).json()).To(And(
			HaveKeyWithValue("matched", BeNumerically("==", 0)), HaveKeyWithValue("fired", BeNumerically("==", 0))))
	})

	It("reach a request its endpoint refuses the method of, and not the control API's", func() {
		h.addFault(map[string]any{"kind": "error", "status": 503, "match": map[string]any{"endpoint": "jwks"}})
		req, err := http.NewRequest(http.MethodPost, h.srv.URL+simulator.PathJWKS, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(h.do(req).status).To(Equal(http.StatusServiceUnavailable), "the fault answers before the 405")
		h.addFault(map[string]any{"kind": "reset"})
		Expect(h.control(http.MethodPut, "/faults", nil).status).To(Equal(http.StatusMethodNotAllowed))
	})

	It("send a fault's body and headers as written, braces included", func() {
		h.addFault(map[string]any{"kind": "error", "status": 500, "body": "use {{ and }} {{.Now}}", "headers": map[string]string{"X-Note": "{{oops"}})
		r := h.get(simulator.PathJWKS)
		Expect(string(r.body)).To(Equal("use {{ and }} {{.Now}}"))
		Expect(r.header.Get("X-Note")).To(Equal("{{oops"))
	})

	It("treat a JSON null match list as no filter, and refuse an empty value", func() {
		h.addFault(map[string]any{"kind": "error", "status": 503, "match": map[string]any{"client": nil}})
		Expect(h.get(simulator.PathJWKS).status).To(Equal(http.StatusServiceUnavailable))
		r := h.control(http.MethodPost, "/faults", map[string]any{"kind": "reset", "match": map[string]any{"client": ""}})
		Expect(r.status).To(Equal(http.StatusBadRequest))
		Expect(r.str("error_description")).To(ContainSubstring("match.client: must not list an empty value"))
	})

	It("skew the secret grace window and the clock the control API reports", func() {
		h.addFault(map[string]any{"kind": "skew", "offset": "10m"})
		rot := h.control(http.MethodPost, "/clients/demo/secret", map[string]string{"client_secret": "fresh", "grace": "5m"})
		Expect(rot.status).To(Equal(http.StatusOK), "%s", rot.body)
		cc := url.Values{"grant_type": {"client_credentials"}}
		Expect(h.postForm(simulator.PathToken, cc, "demo", "demo-secret").status).To(Equal(http.StatusOK), "inside the grace window")
		h.advance("5m")
		Expect(h.postForm(simulator.PathToken, cc, "demo", "demo-secret").status).To(Equal(http.StatusUnauthorized))
		Expect(h.control(http.MethodGet, "/clock", nil).json()).To(HaveKeyWithValue("provider_now", epoch.Add(15*time.Minute).Format(time.RFC3339Nano)))
	})

	It("announce a limiter's window and an explicit retry_after through a profile's signal", func() {
		entra, ok := profile.Lookup("entra")
		Expect(ok).To(BeTrue())
		h = newHarness(simulator.WithProfile(entra))
		h.addFault(map[string]any{"kind": "rate_limit", "limit": 1, "per": "10m", "match": map[string]any{"endpoint": "jwks"}})
		h.addFault(map[string]any{"kind": "rate_limit", "retry_after": "5m", "match": map[string]any{"endpoint": "discovery"}})
		Expect(h.get(simulator.PathJWKS).status).To(Equal(http.StatusOK))
		Expect(h.get(simulator.PathJWKS).header.Get("Retry-After")).To(Equal("600"))
		Expect(h.get(simulator.PathASMetadata).header.Get("Retry-After")).To(Equal("300"))
	})
})

var _ = Describe("Faults in a config file", func() {
	It("are read with the rest of the file", func() {
		cfg, err := simulator.ParseConfig("sim.yaml", []byte("faults:\n  - kind: rate_limit\n    match: {endpoint: token, nth: 3}\n    retry_after: 45s\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.Faults).To(HaveLen(1))
		Expect(cfg.Faults[0].Match.Endpoint).To(ConsistOf(fault.EndpointToken))
		Expect(cfg.Faults[0].Effect).To(Equal(fault.RateLimitEffect{RetryAfter: profile.Duration(45 * time.Second)}))
	})

	It("reports each bad field as file:line:column", func() {
		_, err := simulator.ParseConfig("sim.yaml", []byte("faults:\n  - kind: latency\n    delay: 1s\n    status: 500\n  - kind: reset\n    match:\n      nht: 2\n"))
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("sim.yaml:4:5: status: does not apply to a latency fault"))
		Expect(err.Error()).To(ContainSubstring(`sim.yaml:7:7: unknown field "nht" in match`))
	})
})
