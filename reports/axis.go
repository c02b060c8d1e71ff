package reports

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"time"
)

// The sim-time axis of a run's timeline.
//
// Runs last from seconds to weeks of sim time, and what happens in them
// comes in bursts: a refresh storm within a second, then a week of advanced
// clock with nothing in it. On a linear axis the week takes the whole width
// and the burst becomes one dot. So the axis is a broken one, piecewise
// linear over the instants where something is drawn (events, token ends,
// step starts, the ends of the run):
//
//   - a gap between consecutive instants shorter than a threshold is active:
//     drawn to one linear scale, the one at which the picture fills the
//     plot, but never narrower than minGapPx, so that events a millisecond
//     apart stay apart and in order;
//   - a longer gap is idle: drawn breakPx wide, or as wide as the longest
//     active gap if that is wider, plus a little per factor e by which it
//     exceeds the threshold, so that a longer wait never looks shorter. It is an axisBreak: the page shades it and draws a break
//     mark, and its tooltip gives the real duration;
//   - the threshold is chosen per run: every break costs one, and every
//     active gap that would be narrower than readablePx costs two, so a
//     break is made where it makes a gap readable; the cheapest threshold
//     wins, the one with fewer breaks on a tie. A run whose events are
//     spread evenly is drawn linearly; one of bursts and long waits is
//     broken at the waits.
//
// Tick labels sit at instants, not at round times, since across a break the
// scale changes; each label is an offset from the start of the run.

const (
	minGapPx   = 3.0
	readablePx = 4.0
	breakPx    = 36.0
	// breakLogPx is how much wider an idle gap is drawn per factor e by
	// which it exceeds the threshold, up to maxBreakBonusPx.
	breakLogPx      = 6.0
	maxBreakBonusPx = 28.0
	// labelGapPx keeps tick labels from overlapping.
	labelGapPx = 54.0
)

// axis maps sim time to x.
type axis struct {
	ts     []time.Time // distinct instants, ascending
	xs     []float64   // x of each instant
	breaks []axisBreak
}

// axisBreak is a gap drawn shorter than to scale.
type axisBreak struct {
	X0, X1   float64
	From, To time.Time
}

// newAxis lays out instants (in any order, repeats allowed) over
// [x0, x0+width].
func newAxis(instants []time.Time, x0, width float64) axis {
	ts := slices.Clone(instants)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	ts = slices.CompactFunc(ts, time.Time.Equal)
	a := axis{ts: ts, xs: make([]float64, len(ts))}
	if len(ts) < 2 {
		for i := range a.xs {
			a.xs[i] = x0
		}
		return a
	}
	gaps := make([]float64, len(ts)-1)
	for i := range gaps {
		gaps[i] = ts[i+1].Sub(ts[i]).Seconds()
	}
	widths, idle := layout(gaps, width)
	x := x0
	for i, w := range widths {
		a.xs[i] = x
		if idle[i] {
			a.breaks = append(a.breaks, axisBreak{X0: x, X1: x + w, From: ts[i], To: ts[i+1]})
		}
		x += w
	}
	a.xs[len(ts)-1] = x
	return a
}

// layout decides which gaps (in seconds) are idle and how wide each is
// drawn, the widths adding up to width.
func layout(gaps []float64, width float64) (widths []float64, idle []bool) {
	thresholds := append([]float64{math.Inf(1)}, gaps...)
	slices.SortFunc(thresholds, func(a, b float64) int { return cmp.Compare(b, a) })
	thresholds = slices.Compact(thresholds)
	best, threshold := math.MaxInt, math.Inf(1)
	for _, t := range thresholds {
		var breaks, unreadable int
		var room, active = width, 0.0
		for _, g := range gaps {
			if g >= t {
				breaks++
				room -= breakWidth(g, t, breakPx)
			} else {
				active += g
			}
		}
		if room <= 0 {
			continue
		}
		for _, g := range gaps {
			if g < t && g*room/active < readablePx {
				unreadable++
			}
		}
		// Thresholds come longest first, so on a tie the one with fewer
		// breaks is kept.
		if cost := breaks + 2*unreadable; cost < best {
			best, threshold = cost, t
		}
	}

	widths, idle = make([]float64, len(gaps)), make([]bool, len(gaps))
	var shortest, longest float64 = math.Inf(1), 0
	for i, g := range gaps {
		if g >= threshold {
			idle[i] = true
		} else {
			shortest, longest = min(shortest, g), max(longest, g)
		}
	}
	draw := func(scale float64) (total float64) {
		for i, g := range gaps {
			if idle[i] {
				// Never narrower than the longest active gap, so that a
				// longer wait does not look shorter.
				widths[i] = breakWidth(g, threshold, max(breakPx, longest*scale))
			} else {
				widths[i] = max(g*scale, minGapPx)
			}
			total += widths[i]
		}
		return total
	}
	total := draw(fitScale(draw, width, width/shortest))
	// Only breaks, or more gaps than fit at minGapPx: shrink or stretch
	// everything alike.
	for i := range widths {
		widths[i] *= width / total
	}
	return widths, idle
}

// breakWidth is how wide an idle gap of g seconds is drawn when gaps from
// threshold seconds on are idle and the shortest break is base wide.
func breakWidth(g, threshold, base float64) float64 {
	return base + min(breakLogPx*math.Log(g/threshold), maxBreakBonusPx)
}

// fitScale finds the scale, in pixels per second, at which total(scale)
// reaches width, by bisection up to hi: total grows with the scale, but
// piecewise. It returns 0 when total(0) already reaches width, or when
// there is no active gap and the scale does not matter.
func fitScale(total func(scale float64) float64, width, hi float64) float64 {
	if math.IsInf(hi, 0) || total(0) >= width {
		return 0
	}
	lo := 0.0
	for range 64 {
		mid := (lo + hi) / 2
		if total(mid) < width {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// x is where t falls; times between instants are placed linearly within
// their gap, and times outside the axis at its ends.
func (a axis) x(t time.Time) float64 {
	i := sort.Search(len(a.ts), func(i int) bool { return !a.ts[i].Before(t) })
	switch {
	case len(a.ts) == 0:
		return 0
	case i == len(a.ts):
		return a.xs[i-1]
	case i == 0 || a.ts[i].Equal(t):
		return a.xs[i]
	}
	frac := float64(t.Sub(a.ts[i-1])) / float64(a.ts[i].Sub(a.ts[i-1]))
	return a.xs[i-1] + frac*(a.xs[i]-a.xs[i-1])
}

// tick is a labelled point on the axis.
type tick struct {
	X     float64
	Label string
	Title string
	at    time.Duration
}

// ticks labels the instants that have room for a label, always the first,
// and the last in place of its neighbour when both do not fit, since the
// end of the run is worth more than an instant just before it.
func (a axis) ticks(origin time.Time) []tick {
	var out []tick
	label := func(i int) tick {
		d := a.ts[i].Sub(origin)
		if len(out) == 0 {
			return tick{X: a.xs[i], Label: offset(d), Title: absolute(a.ts[i]), at: d}
		}
		// As many units as tell the label from its neighbour's: "+1h" and
		// then "+1h0m1s", not "+1h" twice.
		prev, text := out[len(out)-1].at, exact(d)
		for n := 2; n <= len(durationUnits); n++ {
			if l := offsetIn(d, n); l != offsetIn(prev, n) {
				text = l
				break
			}
		}
		return tick{X: a.xs[i], Label: text, Title: absolute(a.ts[i]), at: d}
	}
	last := len(a.ts) - 1
	for i := range a.ts {
		if len(out) == 0 || a.xs[i]-out[len(out)-1].X >= labelGapPx {
			out = append(out, label(i))
		}
	}
	if last > 0 && out[len(out)-1].X != a.xs[last] {
		if len(out) > 1 {
			out = out[:len(out)-1]
		}
		if a.xs[last]-out[len(out)-1].X >= labelGapPx {
			out = append(out, label(last))
		}
	}
	return out
}
