package clock_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator/clock"
)

func TestClock(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Clock Suite")
}

var _ = Describe("The offset clock", func() {
	It("reads the wall clock until moved", func() {
		Expect(clock.NewOffset().Now()).To(BeTemporally("~", time.Now(), time.Second))
	})

	It("moves forward and back by the offset, and keeps running", func() {
		c := clock.NewOffset()
		c.Advance(90 * 24 * time.Hour)
		Expect(c.Now()).To(BeTemporally("~", time.Now().Add(90*24*time.Hour), time.Second))
		Expect(c.OffsetDuration()).To(Equal(90 * 24 * time.Hour))
		c.Advance(-91 * 24 * time.Hour)
		Expect(c.Now()).To(BeTemporally("~", time.Now().Add(-24*time.Hour), time.Second))
		Expect(c.Since(c.Now().Add(-time.Minute))).To(BeNumerically("~", time.Minute, time.Second))
		Expect(c.Until(c.Now().Add(time.Minute))).To(BeNumerically("~", time.Minute, time.Second))
	})

	It("is set to an instant", func() {
		c := clock.NewOffset()
		target := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
		clock.Set(c, target)
		Expect(c.Now()).To(BeTemporally("~", target, time.Second))
	})
})

var _ = Describe("Moving a clock", func() {
	const most = 106751 * 24 * time.Hour // about 292 years, near the most a time.Duration holds

	It("refuses to wrap the offset clock's offset, and leaves it where it was", func() {
		c := clock.NewOffset()
		Expect(clock.Move(c, most)).To(Succeed())
		Expect(clock.Move(c, most)).To(MatchError("the clock's offset from the wall clock would pass the ±292 years a time.Duration holds"))
		Expect(c.OffsetDuration()).To(Equal(most))
		Expect(clock.Move(c, -most)).To(Succeed())
		Expect(clock.Move(c, -most)).To(Succeed())
		Expect(clock.Move(c, -most)).To(MatchError(ContainSubstring("would pass the ±292 years")))
		Expect(c.OffsetDuration()).To(Equal(-most))
	})

	It("keeps a clock within the years RFC 3339 writes", func() {
		c := clock.NewFake(clock.Latest.Add(-time.Hour))
		Expect(clock.Move(c, time.Hour)).To(Succeed())
		Expect(clock.Move(c, time.Nanosecond)).To(MatchError("it would take the clock from 9999-12-31T23:59:59Z to 10000-01-01T00:00:00Z, outside the years 1 to 9999 that RFC 3339 writes"))
		Expect(c.Now()).To(Equal(clock.Latest))
		Expect(clock.Set(c, clock.Earliest)).To(MatchError(ContainSubstring("more than about 292 years")))

		c = clock.NewFake(clock.Earliest.Add(time.Hour))
		Expect(clock.Set(c, clock.Earliest)).To(Succeed())
		Expect(clock.Move(c, -time.Nanosecond)).To(MatchError(ContainSubstring("outside the years 1 to 9999")))
		Expect(c.Now()).To(Equal(clock.Earliest))
	})
})

var _ = Describe("The fake clock", func() {
	It("stands still until advanced or set", func() {
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		c := clock.NewFake(start)
		Expect(c.Now()).To(Equal(start))
		c.Advance(time.Hour)
		Expect(c.Now()).To(Equal(start.Add(time.Hour)))
		clock.Set(c, start)
		Expect(c.Now()).To(Equal(start))
	})
})
