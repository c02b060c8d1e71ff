package protocol_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/protocol"
)

// slack bounds how much later than the wall time slept a reading may be:
// generous, for a loaded machine under the race detector.
const slack = 2 * time.Second

var _ = Describe("Clock", func() {
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

	It("reads the start time at once, in UTC, without a monotonic reading", func() {
		c := protocol.NewClock(start.In(time.FixedZone("CET", 3600)))
		now := c.Now()
		Expect(now.Location()).To(Equal(time.UTC))
		Expect(now).To(Equal(now.Round(0)), "a sim instant must not carry this host's monotonic reading")
		Expect(now).To(BeTemporally(">=", start))
		Expect(now).To(BeTemporally("<", start.Add(slack)))
	})

	It("runs on at the wall clock's rate from the latest request's now", func() {
		c := protocol.NewClock(start)
		sent := start.Add(61 * time.Minute)
		c.Set(sent)
		time.Sleep(50 * time.Millisecond)
		Expect(c.Now().Sub(sent)).To(BeNumerically(">=", 50*time.Millisecond), "a frozen clock would read the request's now")
		Expect(c.Now().Sub(sent)).To(BeNumerically("<", 50*time.Millisecond+slack))
	})

	It("jumps to each request's now, backwards too, and not to the latest of them", func() {
		c := protocol.NewClock(start)
		c.Set(start.Add(24 * time.Hour))
		Expect(c.Now()).To(BeTemporally(">=", start.Add(24*time.Hour)))
		c.Set(start.Add(time.Hour))
		Expect(c.Now()).To(BeTemporally(">=", start.Add(time.Hour)))
		Expect(c.Now()).To(BeTemporally("<", start.Add(time.Hour+slack)))
	})

	It("keeps running from the last now when a request carries none", func() {
		c := protocol.NewClock(start)
		c.Set(start.Add(time.Hour))
		c.Set(time.Time{})
		Expect(c.Now()).To(BeTemporally(">=", start.Add(time.Hour)))
		Expect(c.Now()).To(BeTemporally("<", start.Add(time.Hour+slack)))
	})

	It("is safe for concurrent use", func() {
		c := protocol.NewClock(start)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for j := range 200 {
					c.Set(start.Add(time.Duration(i*200+j) * time.Second))
					_ = c.Now()
				}
			})
		}
		wg.Wait()
		Expect(c.Now()).To(BeTemporally(">=", start))
		Expect(c.Now()).To(BeTemporally("<", start.Add(1600*time.Second+slack)))
	})
})

var _ = Describe("Serve", func() {
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

	// serve runs Serve over the request lines, with a handler that answers
	// each request with the clock's reading when it was handled.
	serve := func(clock *protocol.Clock, lines ...string) map[string]time.Time {
		var out strings.Builder
		err := protocol.Serve(strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, contract.Hello{Name: "t"}, clock,
			func(context.Context, contract.Request) contract.Response {
				return contract.Response{Detail: clock.Now().Format(time.RFC3339Nano)}
			})
		Expect(err).NotTo(HaveOccurred())
		seen := map[string]time.Time{}
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n")[1:] {
			var resp contract.Response
			Expect(json.Unmarshal([]byte(l), &resp)).To(Succeed())
			if resp.Detail != "" {
				t, err := time.Parse(time.RFC3339Nano, resp.Detail)
				Expect(err).NotTo(HaveOccurred())
				seen[resp.ID] = t
			}
		}
		return seen
	}

	It("sets the clock to each request's now before the handler runs", func() {
		clock := protocol.NewClock(start)
		seen := serve(clock, `{"id":"1","op":"time","now":"2026-01-06T10:00:00Z"}`)
		Expect(seen).To(HaveKey("1"))
		Expect(seen["1"]).To(BeTemporally(">=", start.Add(24*time.Hour)), "the handler saw the clock before the request moved it")
		Expect(seen["1"]).To(BeTemporally("<", start.Add(24*time.Hour+slack)))
	})

	It("leaves the clock at the last request read, in the harness's order", func() {
		clock := protocol.NewClock(start)
		serve(clock,
			`{"id":"1","op":"time","now":"2026-02-05T10:00:00Z"}`,
			`{"id":"2","op":"time","now":"2026-01-05T11:00:00Z"}`,
			`{"id":"3","op":"shutdown","now":"2026-01-05T11:00:00Z"}`)
		Expect(clock.Now()).To(BeTemporally(">=", start.Add(time.Hour)))
		Expect(clock.Now()).To(BeTemporally("<", start.Add(time.Hour+slack)), "a month ahead: the first request's now won")
	})

	It("serves without a clock", func() {
		var out strings.Builder
		err := protocol.Serve(strings.NewReader(`{"id":"1","op":"call","now":"2026-01-05T10:00:00Z"}`+"\n"), &out, contract.Hello{Name: "t"}, nil,
			func(context.Context, contract.Request) contract.Response {
				return contract.Response{Outcome: contract.OutcomeOK}
			})
		Expect(err).NotTo(HaveOccurred())
		Expect(out.String()).To(ContainSubstring(`{"id":"1","outcome":"ok"}`))
	})
})
