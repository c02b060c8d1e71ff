package clock_test

import (
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator/clock"
)

var _ = Describe("The flowing clock", func() {
	var (
		start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		wall  *clockwork.FakeClock
		f     *clock.Flow
	)
	BeforeEach(func() {
		wall = clockwork.NewFakeClockAt(time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC))
		f = clock.NewFlowOn(start, wall)
	})

	It("stands still while nothing runs it", func() {
		wall.Advance(time.Hour)
		Expect(f.Now()).To(Equal(start))
		Expect(f.State()).To(Equal(clock.State{At: start}))
	})

	It("moves with the wall clock while run, and keeps what it ran", func() {
		stop := f.Run()
		wall.Advance(250 * time.Millisecond)
		Expect(f.Now()).To(Equal(start.Add(250 * time.Millisecond)))
		stop()
		stop() // a second stop changes nothing
		wall.Advance(time.Hour)
		Expect(f.Now()).To(Equal(start.Add(250 * time.Millisecond)))
	})

	It("runs while any of several holds is held", func() {
		a, b := f.Run(), f.Run()
		wall.Advance(time.Second)
		a()
		wall.Advance(time.Second)
		Expect(f.Now()).To(Equal(start.Add(2 * time.Second)))
		b()
		wall.Advance(time.Second)
		Expect(f.Now()).To(Equal(start.Add(2 * time.Second)))
	})

	It("jumps on Advance, running or not, and runs on from there", func() {
		f.Advance(24 * time.Hour)
		Expect(f.Now()).To(Equal(start.Add(24 * time.Hour)))
		stop := f.Run()
		wall.Advance(time.Second)
		f.Advance(-time.Hour)
		wall.Advance(time.Second)
		Expect(f.Now()).To(Equal(start.Add(23*time.Hour + 2*time.Second)))
		stop()
	})

	It("tells a watcher every change, with the offset from the wall clock while running", func() {
		var seen []clock.State
		f.Watch(func(s clock.State) { seen = append(seen, s) })
		stop := f.Run()
		wall.Advance(time.Second)
		stop()
		Expect(seen).To(HaveLen(3))
		Expect(seen[0]).To(Equal(clock.State{At: start}))
		Expect(seen[1].Running).To(BeTrue())
		Expect(seen[1].Offset()).To(Equal(start.Sub(wall.Now().Add(-time.Second))))
		Expect(seen[2]).To(Equal(clock.State{At: start.Add(time.Second)}))
	})

	It("fires its timers once the time it ran is folded in", func() {
		fired := f.After(500 * time.Millisecond)
		stop := f.Run()
		wall.Advance(time.Second)
		Consistently(fired, 20*time.Millisecond).ShouldNot(Receive())
		stop()
		Eventually(fired).Should(Receive())
	})

	It("is safe to read and run from many goroutines", func() {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 100 {
					stop := f.Run()
					_ = f.Now()
					stop()
				}
			})
		}
		wg.Go(func() {
			for range 100 {
				wall.Advance(time.Millisecond)
			}
		})
		wg.Wait()
		Expect(f.Now()).To(BeTemporally(">=", start))
		Expect(f.Now()).To(BeTemporally("<=", start.Add(100*time.Millisecond)))
		Expect(f.State().Running).To(BeFalse())
	})
})
