package reports

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("The timeline's sim-time axis", func() {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	at := func(ds ...time.Duration) []time.Time {
		var ts []time.Time
		for _, d := range ds {
			ts = append(ts, start.Add(d))
		}
		return ts
	}
	const x0, width = 100.0, 900.0
	const day = 24 * time.Hour

	expectFillsInOrder := func(a axis) {
		GinkgoHelper()
		Expect(a.xs[0]).To(Equal(x0))
		Expect(a.xs[len(a.xs)-1]).To(BeNumerically("~", x0+width, 1e-6))
		for i := 1; i < len(a.xs); i++ {
			Expect(a.xs[i]-a.xs[i-1]).To(BeNumerically(">", 0), "instant %d is right of instant %d", i, i-1)
		}
	}

	It("is linear when events are spread evenly", func() {
		a := newAxis(at(0, 10*time.Second, 20*time.Second, 30*time.Second, 40*time.Second), x0, width)
		expectFillsInOrder(a)
		Expect(a.breaks).To(BeEmpty())
		for i := 1; i < len(a.xs); i++ {
			Expect(a.xs[i] - a.xs[i-1]).To(BeNumerically("~", width/4, 1e-6))
		}
		Expect(a.x(start.Add(15*time.Second))).To(BeNumerically("~", x0+width*15/40, 1e-6), "between instants it is linear too")
	})

	It("breaks long waits so that a burst of seconds stays readable", func() {
		// A burst at the start, an hour's wait, a burst, a week's wait, a burst.
		a := newAxis(at(0, time.Second, 2*time.Second, time.Hour, time.Hour+time.Second,
			7*day, 7*day+500*time.Millisecond, 7*day+time.Second), x0, width)
		expectFillsInOrder(a)
		Expect(a.breaks).To(HaveLen(2))
		hour, week := a.breaks[0], a.breaks[1]
		Expect(hour.From).To(Equal(start.Add(2 * time.Second)))
		Expect(hour.To).To(Equal(start.Add(time.Hour)))
		Expect(week.From).To(Equal(start.Add(time.Hour + time.Second)))
		Expect(week.X1-week.X0).To(BeNumerically(">", hour.X1-hour.X0), "a week looks longer than an hour")
		second := a.x(start.Add(time.Second)) - a.x(start)
		Expect(second).To(BeNumerically(">", 50), "a second is wide, where a linear axis gives it %.4f px", width/(7*day).Seconds())
		Expect(hour.X1-hour.X0).To(BeNumerically(">=", second-1e-9), "a wait is never drawn narrower than a second of burst")
		Expect(a.x(start.Add(7*day+500*time.Millisecond))-a.x(start.Add(7*day))).To(BeNumerically("~", second/2, 1e-6), "within bursts one scale holds")
	})

	It("keeps instants a millisecond apart at least minGapPx apart", func() {
		a := newAxis(at(0, time.Millisecond, 2*time.Millisecond, 30*day), x0, width)
		expectFillsInOrder(a)
		Expect(a.xs[1] - a.xs[0]).To(BeNumerically(">=", minGapPx))
		Expect(a.xs[2] - a.xs[1]).To(BeNumerically(">=", minGapPx))
	})

	It("squeezes more instants than fit at minGapPx evenly and in order", func() {
		var ds []time.Duration
		for i := range 1000 {
			ds = append(ds, time.Duration(i)*time.Millisecond)
		}
		a := newAxis(at(ds...), x0, width)
		expectFillsInOrder(a)
		Expect(a.xs[1] - a.xs[0]).To(BeNumerically("~", width/999, 1e-6))
	})

	It("copes with one instant, repeats and disorder", func() {
		Expect(newAxis(at(time.Hour, time.Hour), x0, width).xs).To(Equal([]float64{x0}))
		a := newAxis(at(time.Hour, 0, time.Hour, 2*time.Hour), x0, width)
		Expect(a.ts).To(HaveLen(3))
		expectFillsInOrder(a)
		Expect(a.x(start.Add(-time.Hour))).To(Equal(x0), "before the first instant, at the start")
		Expect(a.x(start.Add(9*time.Hour))).To(BeNumerically("~", x0+width, 1e-6), "after the last, at the end")
	})

	It("labels instants with offsets as fine as it takes to tell them apart", func() {
		a := newAxis(at(0, time.Second, time.Hour, time.Hour+time.Second, 7*day+time.Hour), x0, width)
		var labels []string
		for _, t := range a.ticks(start, x0+width+24) {
			labels = append(labels, t.Label)
		}
		Expect(labels).To(Equal([]string{"+0", "+1s", "+1h", "+1h0m1s", "+7d1h"}))
		Expect(a.ticks(start, x0+width+24)[2].Title).To(Equal("2026-03-01T10:00:00Z"))
	})

	It("drops crowded labels but keeps the end of the run", func() {
		var ds []time.Duration
		for i := range 100 {
			ds = append(ds, time.Duration(i)*time.Second)
		}
		a := newAxis(at(ds...), x0, width)
		ticks := a.ticks(start, x0+width+24)
		Expect(len(ticks)).To(BeNumerically("<", 50))
		for i := 1; i < len(ticks); i++ {
			_, prevEnd := box(ticks[i-1].X, ticks[i-1].Label, ticks[i-1].End)
			x0, _ := box(ticks[i].X, ticks[i].Label, ticks[i].End)
			Expect(x0-prevEnd).To(BeNumerically(">=", labelPadPx), "%q and %q", ticks[i-1].Label, ticks[i].Label)
		}
		Expect(ticks[len(ticks)-1].Label).To(Equal("+1m39s"))
	})
})

var _ = DescribeTable("Offsets shown to people",
	func(d time.Duration, want string) { Expect(offset(d)).To(Equal(want)) },
	Entry("the start", time.Duration(0), "+0"),
	Entry("milliseconds", 250*time.Millisecond, "+250ms"),
	Entry("seconds, truncated to the millisecond", 3*time.Second+217*time.Millisecond+900*time.Microsecond, "+3.217s"),
	Entry("minutes", 5*time.Minute+3*time.Second, "+5m3s"),
	Entry("hours, the seconds left out", time.Hour+2*time.Minute+59*time.Second, "+1h2m"),
	Entry("a round hour", time.Hour, "+1h"),
	Entry("days", 7*24*time.Hour+time.Hour+30*time.Minute, "+7d1h"),
	Entry("before the start", -90*time.Second, "-1m30s"),
	Entry("under a millisecond", 1500*time.Nanosecond, "+1.5µs"),
)

var _ = DescribeTable("Exact offsets, in the event log and tooltips",
	func(d time.Duration, want string) { Expect(exact(d)).To(Equal(want)) },
	Entry("a running clock's nanoseconds left out", 125*time.Millisecond+61069*time.Nanosecond, "+125.061ms"),
	Entry("days, then the rest", 3*24*time.Hour+136*time.Millisecond+215206*time.Nanosecond, "+3d136.215ms"),
	Entry("two events a millisecond apart", 3*time.Second+time.Millisecond, "+3.001s"),
	Entry("before the start", -1500*time.Microsecond-999*time.Nanosecond, "-1.5ms"),
)
