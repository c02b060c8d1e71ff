package simulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// race sends n refresh requests with the same token at once and counts the
// statuses and error codes.
func race(n int, send func() (int, string)) (statuses map[int]int, codes map[string]int) {
	statuses, codes = map[int]int{}, map[string]int{}
	var mu sync.Mutex
	var start, done sync.WaitGroup
	start.Add(1)
	for range n {
		done.Add(1)
		go func() {
			defer GinkgoRecover()
			defer done.Done()
			start.Wait()
			status, code := send()
			mu.Lock()
			statuses[status]++
			codes[code]++
			mu.Unlock()
		}()
	}
	start.Done()
	done.Wait()
	return statuses, codes
}

func errorCode(body []byte) string {
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	s, _ := m["error"].(string)
	return s
}

var _ = Describe("Concurrent refreshes of one token under strict rotation", func() {
	It("let exactly one of 1000 in-process requests succeed; the rest get invalid_grant", func(ctx SpecContext) {
		sim := simulator.MustNew(simulator.WithClock(clock.NewFake(epoch)))
		t, err := sim.MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice", Scope: new("offline_access")})
		Expect(err).NotTo(HaveOccurred())
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t.RefreshToken}}.Encode()

		statuses, codes := race(1000, func() (int, string) {
			req := httptest.NewRequest(http.MethodPost, simulator.PathToken, strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("demo", "demo-secret")
			rec := httptest.NewRecorder()
			sim.ServeHTTP(rec, req)
			return rec.Code, errorCode(rec.Body.Bytes())
		})
		Expect(statuses).To(Equal(map[int]int{200: 1, 400: 999}))
		Expect(codes).To(Equal(map[string]int{"": 1, "invalid_grant": 999}))

		var reuse, revoked int
		for _, e := range sim.Events().Since(0) {
			switch e.Kind {
			case events.RefreshReuseDetected:
				reuse++
			case events.FamilyRevoked:
				revoked++
			}
		}
		Expect(reuse).To(BeNumerically(">=", 1), "the first request after the winner is a reuse")
		Expect(revoked).To(Equal(1), "the family is revoked once")
	})

	It("let exactly one of 50 parallel HTTP requests succeed", func() {
		h := newHarness()
		t := h.mint("demo", "alice", "offline_access")
		statuses, _ := race(50, func() (int, string) {
			r := h.refresh(t.Refresh)
			return r.status, errorCode(r.body)
		})
		Expect(statuses).To(Equal(map[int]int{200: 1, 400: 49}))
	})

	It("keep families independent: parallel refreshes of different families all succeed", func() {
		h := newHarness()
		var rts []string
		for range 20 {
			rts = append(rts, h.mint("demo", "alice", "offline_access").Refresh)
		}
		var i int
		var mu sync.Mutex
		statuses, _ := race(len(rts), func() (int, string) {
			mu.Lock()
			rt := rts[i]
			i++
			mu.Unlock()
			r := h.refresh(rt)
			return r.status, errorCode(r.body)
		})
		Expect(statuses).To(Equal(map[int]int{200: 20}))
	})
})

// beside runs act in a loop on another goroutine until the returned stop is
// called, and stop waits for it to end.
func beside(act func()) (stop func()) {
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(ended)
		for {
			select {
			case <-done:
				return
			default:
				act()
			}
		}
	}()
	return func() { close(done); <-ended }
}

// codeOf is the RFC 6749 error code of err, "" for none.
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return fosite.ErrorToRFC6749Error(err).ErrorField
}

// answer is how a reply reads in the counts below: "200 ", "400 invalid_grant".
func (r reply) answer() string { return fmt.Sprint(r.status, " ", errorCode(r.body)) }

// mintAndRefresh mints rounds grants for alice, refreshing each that was
// granted once, and counts the grants' error codes ("" for none) and the
// refreshes' answers.
func mintAndRefresh(ctx context.Context, h *harness, rounds int) (mints, refreshes map[string]int) {
	GinkgoHelper()
	mints, refreshes = map[string]int{}, map[string]int{}
	for range rounds {
		g, err := h.srv.MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice", Scope: new("offline_access")})
		mints[codeOf(err)]++
		if err == nil {
			refreshes[h.refresh(g.RefreshToken).answer()]++
		}
	}
	return mints, refreshes
}

var _ = Describe("Grants and refreshes racing the control API", func() {
	const rounds = 1500

	It("complete or answer invalid_grant while the user's grants are revoked, never server_error", func(ctx SpecContext) {
		h := newHarness()
		stop := beside(func() { _, _ = h.srv.Revoke(simulator.Revocation{User: "alice"}) })
		mints, refreshes := mintAndRefresh(ctx, h, rounds)
		stop()
		// The code's family revoked between fosite's two reads of the code
		// once made the exchange a server_error.
		Expect(mints).To(HaveKey(""))
		for code := range mints {
			Expect(code).To(BeElementOf("", "invalid_grant"), "grants: %v", mints)
		}
		for answer := range refreshes {
			Expect(answer).To(BeElementOf("200 ", "400 invalid_grant"), "refreshes: %v", refreshes)
		}
	})

	It("complete, and refresh, while the clock jumps an hour back and forth: the clock stands still during a request", func(ctx SpecContext) {
		h := newHarness()
		stop := beside(func() {
			_, _ = h.srv.AdvanceClock(61 * time.Minute)
			_, _ = h.srv.AdvanceClock(-61 * time.Minute)
		})
		mints, refreshes := mintAndRefresh(ctx, h, rounds)
		stop()
		// A code issued before a jump ahead and redeemed after it expired
		// between fosite's two checks of it: invalid_request, or
		// invalid_grant for a grant that never left the provider.
		Expect(mints).To(Equal(map[string]int{"": rounds}))
		Expect(refreshes).To(Equal(map[string]int{"200 ": rounds}))
	})

	It("complete while the client's secret is rotated: a grant authenticates with the secret of its start", func(ctx SpecContext) {
		h := newHarness()
		stop := beside(func() { _, _ = h.srv.RotateClientSecret("demo", simulator.SecretRotation{}) })
		mints := map[string]int{}
		for range rounds {
			_, err := h.srv.MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice", Scope: new("offline_access")})
			mints[codeOf(err)]++
		}
		stop()
		Expect(mints).To(Equal(map[string]int{"": rounds}))
	})

	It("answer a refresh racing the RFC 7009 revocation of its token with 200 or invalid_grant, never 'retry' (invalid_request)", func(ctx SpecContext) {
		h := newHarness()
		refreshes, revocations := map[string]int{}, map[string]int{}
		for range rounds {
			g, err := h.srv.MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice", Scope: new("offline_access")})
			Expect(err).NotTo(HaveOccurred())
			var refreshed, revoked reply
			var both sync.WaitGroup
			both.Go(func() {
				defer GinkgoRecover()
				refreshed = h.refresh(g.RefreshToken)
			})
			both.Go(func() {
				defer GinkgoRecover()
				revoked = h.postForm(simulator.PathRevoke, url.Values{"token": {g.RefreshToken}}, "demo", "demo-secret")
			})
			both.Wait()
			refreshes[refreshed.answer()]++
			revocations[revoked.answer()]++
		}
		Expect(revocations).To(Equal(map[string]int{"200 ": rounds}))
		for answer := range refreshes {
			Expect(answer).To(BeElementOf("200 ", "400 invalid_grant"), "refreshes: %v", refreshes)
		}
	})
})
