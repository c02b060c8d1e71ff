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
