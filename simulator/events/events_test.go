package events_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator/events"
)

func TestEvents(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Events Suite")
}

var _ = Describe("The event log", func() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var log *events.Log
	BeforeEach(func() { log = events.NewLog(func() time.Time { return now }) })

	It("numbers events from 1 and stamps them with the clock unless they carry a time", func() {
		Expect(log.Last()).To(BeZero())
		a := log.Emit(events.Event{Kind: events.TokenIssued})
		b := log.Emit(events.Event{Kind: events.ClockMoved, Time: now.Add(time.Hour)})
		Expect(a.Seq).To(Equal(uint64(1)))
		Expect(a.Time).To(Equal(now))
		Expect(b.Seq).To(Equal(uint64(2)))
		Expect(b.Time).To(Equal(now.Add(time.Hour)))
		Expect(log.Last()).To(Equal(uint64(2)))
	})

	It("returns the events after a sequence number, and none past the end", func() {
		for range 5 {
			log.Emit(events.Event{Kind: events.TokenRequest})
		}
		Expect(log.Since(0)).To(HaveLen(5))
		since := log.Since(3)
		Expect(since).To(HaveLen(2))
		Expect(since[0].Seq).To(Equal(uint64(4)))
		Expect(log.Since(5)).To(BeEmpty())
		Expect(log.Since(99)).To(BeEmpty())
	})

	DescribeTable("returns the right events across the log's internal blocks",
		func(since uint64) {
			for range 10000 {
				log.Emit(events.Event{Kind: events.TokenRequest})
			}
			got := log.Since(since)
			Expect(got).To(HaveLen(10000 - int(since)))
			for i, e := range got {
				Expect(e.Seq).To(Equal(since + uint64(i) + 1))
			}
		},
		Entry("from the start", uint64(0)),
		Entry("from the end of the first block", uint64(4095)),
		Entry("from a block boundary", uint64(4096)),
		Entry("from inside the third block", uint64(8200)),
		Entry("from the last event", uint64(10000)),
	)

	DescribeTable("returns a page of at most a limit of events, across blocks and after dropped ones",
		func(keep, since, limit, wantFirst, wantLen int) {
			log.SetLimit(keep)
			for range 10000 {
				log.Emit(events.Event{Kind: events.TokenRequest})
			}
			got, first, last := log.Page(uint64(since), limit)
			Expect(first).To(Equal(log.First()))
			Expect(last).To(Equal(uint64(10000)))
			Expect(got).To(HaveLen(wantLen))
			for i, e := range got {
				Expect(e.Seq).To(Equal(uint64(wantFirst + i)))
			}
		},
		Entry("inside a block", 0, 10, 5, 11, 5),
		Entry("across two block boundaries", 0, 4000, 5000, 4001, 5000),
		Entry("cut by the end of the log", 0, 9990, 100, 9991, 10),
		Entry("without a limit", 0, 9000, 0, 9001, 1000),
		Entry("from before the oldest kept", 4000, 0, 10, 4097, 10),
	)

	It("keeps about the newest events under a limit, numbered without gaps, and says which is the oldest", func() {
		log.SetLimit(5000)
		for range 3*4096 + 10 {
			log.Emit(events.Event{Kind: events.TokenIssued})
		}
		kept := log.Since(0)
		Expect(len(kept)).To(And(BeNumerically(">=", 5000), BeNumerically("<", 5000+4096)))
		Expect(log.First()).To(BeNumerically(">", 1))
		Expect(kept[0].Seq).To(Equal(log.First()))
		Expect(kept[len(kept)-1].Seq).To(Equal(log.Last()))
		Expect(log.Last()).To(Equal(uint64(3*4096 + 10)))
		for i := range kept[1:] {
			Expect(kept[i+1].Seq).To(Equal(kept[i].Seq+1), "no gaps")
		}
		Expect(log.Since(log.First() + 9)).To(HaveLen(len(kept) - 10))
	})

	It("keeps every event without a limit", func() {
		for range 3 * 4096 {
			log.Emit(events.Event{Kind: events.TokenIssued})
		}
		Expect(log.First()).To(Equal(uint64(1)))
		Expect(log.Since(0)).To(HaveLen(3 * 4096))
	})

	It("keeps numbering after Clear", func() {
		log.Emit(events.Event{Kind: events.TokenRequest})
		log.Emit(events.Event{Kind: events.TokenRequest})
		log.Clear()
		Expect(log.Since(0)).To(BeEmpty())
		Expect(log.Last()).To(Equal(uint64(2)))
		e := log.Emit(events.Event{Kind: events.Reset})
		Expect(e.Seq).To(Equal(uint64(3)))
		Expect(log.Since(0)).To(HaveLen(1))
		Expect(log.Since(1)).To(HaveLen(1), "a poller that saw seq 1 before the clear still gets seq 3")
	})

	It("restarts with one event, which no concurrent emitter gets ahead of", func() {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 200 {
					log.Emit(events.Event{Kind: events.TokenRequest})
				}
			})
		}
		restarted := log.Restart(events.Event{Kind: events.Reset})
		wg.Wait()
		evs := log.Since(0)
		Expect(evs[0]).To(Equal(restarted), "the reset opens what the log keeps")
		Expect(evs[0].Seq).To(Equal(log.First()))
		for _, e := range evs[1:] {
			Expect(e.Kind).To(Equal(events.TokenRequest))
		}
	})

	It("gives concurrent emitters distinct, gapless numbers", func() {
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					log.Emit(events.Event{Kind: events.TokenRequest})
				}
			}()
		}
		wg.Wait()
		all := log.Since(0)
		Expect(all).To(HaveLen(1000))
		for i, e := range all {
			Expect(e.Seq).To(Equal(uint64(i + 1)))
		}
	})
})

var _ = Describe("An event in JSON", func() {
	It("tells a scope parameter sent empty from one not sent, and leaves out what a request did not use", func() {
		empty := ""
		b, err := json.Marshal(events.Event{Kind: events.TokenRequest, RequestedScope: &empty})
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(ContainSubstring(`"requested_scope":""`))
		b, err = json.Marshal(events.Event{Kind: events.TokenRequest})
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).NotTo(ContainSubstring("requested_scope"))
		Expect(string(b)).NotTo(ContainSubstring("pkce"))
		Expect(string(b)).NotTo(ContainSubstring("nonce_sent"))
		b, err = json.Marshal(events.Event{Kind: events.AuthorizeRequest, PKCE: "S256", NonceSent: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(ContainSubstring(`"pkce":"S256","nonce_sent":true`))
	})
})

var _ = Describe("Fingerprint", func() {
	It("tells a token's kind and hides its signature, the same every time", func() {
		fp := events.Fingerprint("refresh_token", "secret-signature")
		Expect(fp).To(HavePrefix("rt_"))
		Expect(fp).NotTo(ContainSubstring("secret"))
		Expect(events.Fingerprint("refresh_token", "secret-signature")).To(Equal(fp))
		Expect(events.Fingerprint("access_token", "secret-signature")).To(HavePrefix("at_"))
		Expect(events.Fingerprint("authorize_code", "secret-signature")).To(HavePrefix("ac_"))
		Expect(events.Fingerprint("refresh_token", "another-signature")).NotTo(Equal(fp))
	})
})
