package conformance_test

import (
	"encoding/base64"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/conformance/checkid"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// story builds a run by hand: a scenario of the given steps, and calls
// whose events the test appends, each call a window of events.
type story struct {
	rec *conformance.Record
	seq uint64
}

func newStory(yaml string) *story {
	sc, err := scenarios.Parse("story.yaml", []byte(yaml))
	Expect(err).NotTo(HaveOccurred())
	return &story{rec: &conformance.Record{Scenario: sc, SimStart: conformance.Epoch, ClientID: "demo", User: "alice"}}
}

// event appends e at offset at, as the client's.
func (s *story) event(at time.Duration, e events.Event) events.Event {
	s.seq++
	e.Seq, e.Time, e.Client = s.seq, conformance.Epoch.Add(at), "demo"
	if e.Outcome == "" {
		e.Outcome = events.OutcomeOK
		if e.Status >= 400 {
			e.Outcome = events.OutcomeDenied
		}
	}
	s.rec.Events = append(s.rec.Events, e)
	return e
}

// call records the events evs adds as step i's operation(s): callers at
// once, each ending with outcome.
func (s *story) call(i, callers int, outcome contract.Outcome, live bool, evs func()) {
	for len(s.rec.Steps) <= i {
		n := len(s.rec.Steps)
		s.rec.Steps = append(s.rec.Steps, conformance.StepRecord{Step: s.rec.Scenario.Steps[n], Index: n, FirstSeq: s.seq + 1, LastSeq: s.seq})
	}
	first := s.seq + 1
	evs()
	st := &s.rec.Steps[i]
	for range callers {
		st.Calls = append(st.Calls, conformance.CallRecord{Result: conformance.Result{Outcome: outcome}, Time: conformance.Epoch,
			Live: live, FirstSeq: first, LastSeq: s.seq, Callers: callers})
	}
	st.LastSeq = s.seq
}

func (s *story) judge(id string) conformance.Judgement {
	c, ok := conformance.LookupCheck(id)
	Expect(ok).To(BeTrue(), id)
	return c.Judge(s.rec)
}

var (
	api401   = events.Event{Kind: events.ResourceRequest, Status: http.StatusUnauthorized}
	api200   = events.Event{Kind: events.ResourceRequest, Status: http.StatusOK}
	refreshK = events.Event{Kind: events.TokenRequest, GrantType: "refresh_token", Status: http.StatusOK, Family: "f1"}
)

var _ = Describe("The checks' ids", func() {
	It("are package checkid's, in its order, which is what scenario waivers are checked against", func() {
		var ids []string
		for _, c := range conformance.Checks() {
			ids = append(ids, c.ID)
		}
		Expect(ids).To(Equal(checkid.All()))
	})
})

var _ = Describe("The API handling checks", func() {
	const oneCall = "description: x\nsteps:\n  - call: {}\n  - call: {}\n"

	It("fail a client that refreshes again and again in one call while the API answers 401", func() {
		s := newStory(oneCall)
		s.call(0, 1, "unauthorized", true, func() {
			for range 3 {
				s.event(0, api401)
				s.event(0, refreshK)
			}
			s.event(0, api401)
		})
		j := s.judge(conformance.CheckNoRefreshLoop)
		Expect(j.Applies).To(BeTrue())
		Expect(j.Failures).To(ConsistOf(ContainSubstring("refreshed 3 times in one call")))
	})

	It("pass one refresh and one retry per call, and per caller in a round of callers at once", func() {
		s := newStory("description: x\nsteps:\n  - call: {}\n  - call: {concurrent: 3}\n")
		s.call(0, 1, "unauthorized", true, func() {
			s.event(0, api401)
			s.event(0, refreshK)
			s.event(0, api401)
		})
		s.call(1, 3, "ok", true, func() {
			for range 3 {
				s.event(time.Hour, api401)
			}
			s.event(time.Hour, refreshK)
			for range 3 {
				s.event(time.Hour, api200)
			}
		})
		j := s.judge(conformance.CheckNoRefreshLoop)
		Expect(j.Applies).To(BeTrue())
		Expect(j.Failures).To(BeEmpty())
	})

	It("fail an API request within the call before the API's Retry-After, and pass one in the next call", func() {
		s := newStory(oneCall)
		limited := events.Event{Kind: events.ResourceRequest, Status: http.StatusTooManyRequests}
		at := conformance.Epoch.Add(30 * time.Second)
		limited.RetryAt = &at
		s.call(0, 1, "temporary_error", true, func() {
			s.event(0, limited)
			s.event(2*time.Second, api200)
		})
		j := s.judge(conformance.CheckAPIRetryAfter)
		Expect(j.Failures).To(ConsistOf(ContainSubstring("28s before its answer")))

		s = newStory(oneCall)
		s.call(0, 1, "temporary_error", true, func() { s.event(0, limited) })
		s.call(1, 1, "ok", true, func() { s.event(2*time.Second, api200) })
		j = s.judge(conformance.CheckAPIRetryAfter)
		Expect(j.Applies).To(BeTrue())
		Expect(j.Failures).To(BeEmpty())
	})

	It("fail an immediate retry of a 503 without Retry-After, in the same call", func() {
		s := newStory(oneCall)
		s.call(0, 1, "ok", true, func() {
			s.event(0, events.Event{Kind: events.ResourceRequest, Status: http.StatusServiceUnavailable, Outcome: events.OutcomeError})
			s.event(5*time.Millisecond, api200)
		})
		Expect(s.judge(conformance.CheckAPIRetryAfter).Failures).To(ConsistOf(ContainSubstring("a retry at once")))
	})
})

var _ = Describe("backs-off-after-failure", func() {
	It("fails a retry sent the moment a slow failure was answered, though it came 100 ms after the failed request arrived", func() {
		s := newStory("description: x\nsteps:\n  - call: {}\n")
		failed := refreshK
		failed.Status, failed.Outcome = http.StatusServiceUnavailable, events.OutcomeError
		done := conformance.Epoch.Add(100 * time.Millisecond)
		failed.Answered = &done
		s.call(0, 1, "temporary_error", true, func() {
			s.event(0, failed)
			s.event(101*time.Millisecond, refreshK)
		})
		Expect(s.judge(conformance.CheckBackoff).Failures).To(ConsistOf(ContainSubstring("1ms after a failed one was answered")))
	})
})

var _ = Describe("reauthorize-exactly-when-dead", func() {
	It("fails temporary_error for a grant the provider has declared dead, in the call that learnt it and after", func() {
		s := newStory("description: x\nsteps:\n  - call: {}\n  - call: {}\n")
		dead := refreshK
		dead.Status, dead.Error, dead.Reason = http.StatusBadRequest, "invalid_grant", "revoked"
		s.call(0, 1, "temporary_error", false, func() { s.event(0, dead) })
		s.call(1, 1, "temporary_error", false, func() {})
		Expect(s.judge(conformance.CheckReauthorizeWhenDead).Failures).To(HaveExactElements(
			ContainSubstring("step 1 (line 3)"), ContainSubstring("step 2 (line 4)")))
	})

	It("passes temporary_error for a dead grant the provider has not yet said is dead (an outage hides it)", func() {
		s := newStory("description: x\nsteps:\n  - call: {}\n")
		down := refreshK
		down.Status, down.Outcome = http.StatusServiceUnavailable, events.OutcomeError
		s.call(0, 1, "temporary_error", false, func() { s.event(0, down) })
		j := s.judge(conformance.CheckReauthorizeWhenDead)
		Expect(j.Applies).To(BeTrue())
		Expect(j.Failures).To(BeEmpty())
	})

	It("does not count a refusal a fault made in the provider's place", func() {
		s := newStory("description: x\nsteps:\n  - call: {}\n  - call: {}\n")
		faked := refreshK
		faked.Status, faked.Error, faked.Reason, faked.Fault = http.StatusBadRequest, "invalid_grant", "revoked", "f1"
		s.call(0, 1, "temporary_error", false, func() { s.event(0, faked) })
		s.call(1, 1, "temporary_error", false, func() {})
		Expect(s.judge(conformance.CheckReauthorizeWhenDead).Failures).To(BeEmpty())
	})
})

var _ = Describe("one-refresh-for-concurrent-callers", func() {
	It("fails callers that each retry at once a refresh that just failed, and passes one shared attempt", func() {
		s := newStory("description: x\nsteps:\n  - call: {concurrent: 3}\n")
		failed := refreshK
		failed.Status, failed.Outcome = http.StatusServiceUnavailable, events.OutcomeError
		s.call(0, 3, "temporary_error", true, func() {
			s.event(0, failed)
			s.event(time.Millisecond, failed)
			s.event(2*time.Millisecond, failed)
		})
		Expect(s.judge(conformance.CheckSingleRefresh).Failures).To(ConsistOf(ContainSubstring("did not share the failed refresh's outcome")))

		s = newStory("description: x\nsteps:\n  - call: {concurrent: 3}\n")
		s.call(0, 3, "temporary_error", true, func() { s.event(0, failed) })
		j := s.judge(conformance.CheckSingleRefresh)
		Expect(j.Applies).To(BeTrue())
		Expect(j.Failures).To(BeEmpty())
	})

	It("measures from when a failed refresh was answered, not when it arrived: a slow failure is no delay of the client's", func() {
		s := newStory("description: x\nsteps:\n  - call: {concurrent: 3}\n")
		slow := func(at time.Duration) events.Event {
			e := refreshK
			e.Status, e.Outcome = http.StatusServiceUnavailable, events.OutcomeError
			done := conformance.Epoch.Add(at + 100*time.Millisecond)
			e.Answered = &done
			return e
		}
		// Each caller in turn, the moment the one before failed: 100 ms
		// apart by arrival, 1 ms after each answer.
		s.call(0, 3, "temporary_error", true, func() {
			s.event(0, slow(0))
			s.event(101*time.Millisecond, slow(101*time.Millisecond))
			s.event(202*time.Millisecond, slow(202*time.Millisecond))
		})
		Expect(s.judge(conformance.CheckSingleRefresh).Failures).To(ConsistOf(ContainSubstring("2 refresh requests went out while another caller's refresh was failing, or less than 50ms after its failure was answered")))
		Expect(s.judge(conformance.CheckBackoff).Failures).To(BeEmpty(), "two of three callers may make a first attempt too soon")
	})

	It("judges each round of a step of rounds on its own: one refresh a round is right", func() {
		s := newStory("description: x\nsteps:\n  - call: {concurrent: 2, times: 2, every: 1h}\n")
		s.call(0, 2, "ok", true, func() { s.event(0, refreshK) })
		s.call(0, 2, "ok", true, func() { s.event(time.Hour, refreshK) })
		Expect(s.judge(conformance.CheckSingleRefresh).Failures).To(BeEmpty())
	})
})

var _ = Describe("The authorization checks", func() {
	It("fail an authorization without PKCE S256", func() {
		s := newStory("description: x\nsteps:\n  - authorize: alice\n")
		s.call(0, 1, "ok", true, func() { s.event(0, events.Event{Kind: events.AuthorizeRequest, Status: 303, PKCE: "none"}) })
		Expect(s.judge(conformance.CheckPKCE).Failures).To(ConsistOf(ContainSubstring("without PKCE")))
		s.rec.Events[0].PKCE = "S256"
		Expect(s.judge(conformance.CheckPKCE).Failures).To(BeEmpty())
	})

	It("fail a refresh whose scope leaves out offline access, and pass one that sends no scope", func() {
		s := newStory("description: x\nsteps:\n  - authorize: alice\n  - call: {}\n  - call: {}\n")
		s.call(0, 1, "ok", true, func() {
			s.event(0, events.Event{Kind: events.AuthorizeRequest, Status: 303, Scope: "openid api offline_access"})
			s.event(0, events.Event{Kind: events.TokenRequest, GrantType: "authorization_code", Status: 200, Family: "f1"})
		})
		s.call(1, 1, "ok", true, func() { s.event(time.Hour, refreshK) })
		j := s.judge(conformance.CheckKeepsOfflineAccess)
		Expect(j.Applies).To(BeTrue())
		Expect(j.Failures).To(BeEmpty())
		narrow, scope := refreshK, "openid api"
		narrow.RequestedScope = &scope
		s.call(2, 1, "ok", true, func() { s.event(2*time.Hour, narrow) })
		Expect(s.judge(conformance.CheckKeepsOfflineAccess).Failures).To(ConsistOf(ContainSubstring(`scope "openid api", without the offline_access`)))
	})
})

var _ = Describe("no-token-or-secret-in-output", func() {
	const token = "ory_rt_abcdefghijklmnopqrstuvwxyz0123456789.ABCDEFGHIJKLMNOP"

	judge := func(detail, answers string) conformance.Judgement {
		s := newStory("description: x\nsteps:\n  - call: {}\n")
		s.rec.Tokens, s.rec.Secrets = []string{token}, []string{"s3cr3t-of-the-demo-client"}
		s.call(0, 1, "error", true, func() {})
		s.rec.Steps[0].Calls[0].Detail = detail
		s.rec.Answers = answers
		return s.judge(conformance.CheckNoSecretsInOutput)
	}

	It("finds a token in a protocol answer's detail, and names the answers", func() {
		Expect(judge("refresh with "+token+" failed", "").Failures).To(ConsistOf(And(
			ContainSubstring("protocol answers contain 1 token"), ContainSubstring("[MASKED]"), Not(ContainSubstring(token)))))
	})

	It("finds a token in base64 inside a longer encoded text, and a secret in a Basic header", func() {
		blob := base64.StdEncoding.EncodeToString([]byte(`{"x":"` + token + `"}`))
		basic := base64.StdEncoding.EncodeToString([]byte("demo:s3cr3t-of-the-demo-client"))
		Expect(judge("", `{"id":"1","outcome":"error","debug":"`+blob+`","auth":"Basic `+basic+`"}`+"\n").Failures).To(ConsistOf(
			ContainSubstring("1 token value(s) the provider issued (base64)"),
			ContainSubstring("1 client secret value(s) the provider issued (an HTTP Basic credential")))
	})

	It("finds a JWT-shaped token (a profile with shape.token_format: jwt) as issued and inside a JSON string", func() {
		jwt := "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3NjcyNTg0MDAsInR5cCI6IlJlZnJlc2gifQ.c2lnbmF0dXJlLW9mLXRoZS1yZWZyZXNoLXRva2Vu"
		s := newStory("description: x\nsteps:\n  - call: {}\n")
		s.rec.Tokens = []string{jwt}
		s.call(0, 1, "error", true, func() {})
		s.rec.Steps[0].Calls[0].Detail = "refresh with " + jwt + " failed"
		s.rec.Answers = `{"id":"1","outcome":"error","debug":{"refresh_token":"` + jwt + `"}}` + "\n"
		Expect(s.judge(conformance.CheckNoSecretsInOutput).Failures).To(ConsistOf(And(
			ContainSubstring("protocol answers contain 1 token value(s) the provider issued (as issued)"),
			ContainSubstring("[MASKED]"), Not(ContainSubstring(jwt)))))
	})

	It("passes answers that carry neither", func() {
		j := judge("invalid_grant: Token has been expired or revoked.", `{"id":"1","outcome":"reauthorize"}`)
		Expect(j.Applies).To(BeTrue())
		Expect(j.Failures).To(BeEmpty())
	})
})

var _ = Describe("A step's own expectations", func() {
	It("count the step's events and its fault firings", func() {
		s := newStory("description: x\nsteps:\n  - fault: {id: down, kind: error, status: 503}\n  - call: {}\n    expect: any\n    counts: {refreshes: 0}\n    fired: {down: {min: 2}}\n")
		s.call(1, 1, "temporary_error", true, func() {
			s.event(0, refreshK)
			s.event(0, events.Event{Kind: events.FaultFired, Fault: "down"})
		})
		Expect(s.judge(conformance.CheckExpectations).Failures).To(ConsistOf(
			ContainSubstring("step 2 (line 4, call the API): expected exactly 0 refreshes"),
			ContainSubstring("expected fault down to fire at least 2 time(s), it fired 1")))
	})
})
