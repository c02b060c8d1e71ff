package reports

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"time"
	"unicode/utf8"
)

// The sim-time axis of a run's timeline.
//
// Runs last from seconds to weeks of sim time, and what happens in them
// comes in bursts: a refresh storm within a second, then a week of advanced
// clock with nothing in it. On a linear axis the week takes the whole width
// and the burst becomes one dot. So the axis is a broken one, piecewise
// linear over the instants where something is drawn (events, token ends,
// step starts, Retry-After deadlines, the ends of the run):
//
//   - a gap between consecutive instants shorter than a threshold is active:
//     drawn to one linear scale, the one at which the picture fills the
//     plot, but never narrower than minGapPx, so that events a millisecond
//     apart stay apart and in order, nor than markSep between two instants
//     with marks in one lane, so that a 429 and the retry a millisecond
//     after it are two marks side by side and not one blot;
//   - an instant with several marks in one lane is drawn as wide as they
//     need side by side, in the order they happened;
//   - a longer gap is idle: drawn breakPx wide, or as wide as the longest
//     active gap if that is wider, plus a little per factor e by which it
//     exceeds the threshold, so that a longer wait never looks shorter. It
//     is an axisBreak: the page shades it and draws a break mark, and its
//     tooltip gives the real duration;
//   - the threshold is chosen per run: every break costs one, and every
//     active gap that would be narrower than readablePx costs two, so a
//     break is made where it makes a gap readable; the cheapest threshold
//     wins, the one with fewer breaks on a tie. A run whose events are
//     spread evenly is drawn linearly; one of bursts and long waits is
//     broken at the waits;
//   - then, while some active gap is still unreadable, an active gap that
//     takes most of the active time is idle too, whatever its length: a
//     quiet stretch long beside the busy parts of its run is shortened at
//     every scale, minutes among milliseconds as much as days among hours.
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
	// dominantShare is the share of the active time past which a gap is a
	// quiet stretch to shorten while other gaps are unreadable.
	dominantShare = 0.5
	// charPx is about how wide a character of a 10px label is, and
	// labelPadPx the least room between two labels.
	charPx     = 6.5
	labelPadPx = 6.0
)

// axis maps sim time to x.
type axis struct {
	// ts are the instants, ascending; an instant drawn wide (its marks side
	// by side) comes twice, at its left and its right edge.
	ts     []time.Time
	xs     []float64 // x of each instant
	breaks []axisBreak
}

// axisBreak is a gap drawn shorter than to scale.
type axisBreak struct {
	X0, X1   float64
	From, To time.Time
}

// axisPoint is an instant the axis shows, with the room it needs there.
type axisPoint struct {
	T time.Time
	// Lanes has a bit set for each lane with a mark at T.
	Lanes uint
	// Width is how wide the instant is drawn, for marks side by side.
	Width float64
}

// gap is the stretch between two consecutive instants: secs long, drawn at
// least floor wide. A gap of no time is an instant drawn wide.
type gap struct{ secs, floor float64 }

// newAxis lays out instants (in any order, repeats allowed) over
// [x0, x0+width].
func newAxis(instants []time.Time, x0, width float64) axis {
	points := make([]axisPoint, len(instants))
	for i, t := range instants {
		points[i].T = t
	}
	return newMarkedAxis(points, x0, width)
}

// newMarkedAxis lays out points (in any order, repeats allowed, their
// lanes and widths merged) over [x0, x0+width].
func newMarkedAxis(points []axisPoint, x0, width float64) axis {
	ps := slices.Clone(points)
	slices.SortStableFunc(ps, func(a, b axisPoint) int { return a.T.Compare(b.T) })
	var merged []axisPoint
	for _, p := range ps {
		if n := len(merged); n > 0 && merged[n-1].T.Equal(p.T) {
			merged[n-1].Lanes |= p.Lanes
			merged[n-1].Width = max(merged[n-1].Width, p.Width)
			continue
		}
		merged = append(merged, p)
	}
	var a axis
	var gaps []gap
	for i, p := range merged {
		if i > 0 {
			prev := merged[i-1]
			floor := minGapPx
			if prev.Lanes&p.Lanes != 0 {
				floor = markSep
			}
			gaps = append(gaps, gap{secs: p.T.Sub(prev.T).Seconds(), floor: floor})
		}
		a.ts = append(a.ts, p.T)
		if p.Width > 0 {
			gaps = append(gaps, gap{floor: p.Width})
			a.ts = append(a.ts, p.T)
		}
	}
	a.xs = make([]float64, len(a.ts))
	if len(a.ts) < 2 {
		for i := range a.xs {
			a.xs[i] = x0
		}
		return a
	}
	widths, idle := layout(gaps, width)
	x := x0
	for i, w := range widths {
		a.xs[i] = x
		if idle[i] {
			a.breaks = append(a.breaks, axisBreak{X0: x, X1: x + w, From: a.ts[i], To: a.ts[i+1]})
		}
		x += w
	}
	a.xs[len(a.ts)-1] = x
	return a
}

// layout decides which gaps are idle and how wide each is drawn, the
// widths adding up to width.
func layout(gaps []gap, width float64) (widths []float64, idle []bool) {
	thresholds := []float64{math.Inf(1)}
	var fixed float64 // instants drawn wide, whatever the scale
	for _, g := range gaps {
		if g.secs > 0 {
			thresholds = append(thresholds, g.secs)
		} else {
			fixed += g.floor
		}
	}
	slices.SortFunc(thresholds, func(a, b float64) int { return cmp.Compare(b, a) })
	thresholds = slices.Compact(thresholds)
	idle = make([]bool, len(gaps))
	// unreadable counts the active gaps narrower than readablePx when the
	// active ones share what the idle ones leave, and finds the longest.
	unreadable := func() (n int, room, active float64, longest int) {
		room, longest = width-fixed, -1
		minIdle := math.Inf(1)
		for i, g := range gaps {
			if idle[i] {
				minIdle = min(minIdle, g.secs)
			}
		}
		for i, g := range gaps {
			switch {
			case idle[i]:
				room -= breakWidth(g.secs, minIdle, breakPx)
			case g.secs > 0:
				active += g.secs
				if longest < 0 || g.secs > gaps[longest].secs {
					longest = i
				}
			}
		}
		for i, g := range gaps {
			if !idle[i] && g.secs > 0 && g.secs*room/active < readablePx {
				n++
			}
		}
		return n, room, active, longest
	}
	best, threshold := math.MaxInt, math.Inf(1)
	for _, t := range thresholds {
		breaks := 0
		for i, g := range gaps {
			idle[i] = g.secs >= t
			if idle[i] {
				breaks++
			}
		}
		n, room, _, _ := unreadable()
		if room <= 0 {
			continue
		}
		// Thresholds come longest first, so on a tie the one with fewer
		// breaks is kept.
		if cost := breaks + 2*n; cost < best {
			best, threshold = cost, t
		}
	}
	for i, g := range gaps {
		idle[i] = g.secs >= threshold
	}
	for {
		n, room, active, longest := unreadable()
		if n == 0 || longest < 0 || gaps[longest].secs <= dominantShare*active || room-breakPx <= 0 {
			break
		}
		idle[longest] = true
		threshold = min(threshold, gaps[longest].secs)
	}

	widths = make([]float64, len(gaps))
	var shortest, longest float64 = math.Inf(1), 0
	for i, g := range gaps {
		if !idle[i] && g.secs > 0 {
			shortest, longest = min(shortest, g.secs), max(longest, g.secs)
		}
	}
	draw := func(scale float64) (total float64) {
		for i, g := range gaps {
			if idle[i] {
				// Never narrower than the longest active gap, so that a
				// longer wait does not look shorter.
				widths[i] = breakWidth(g.secs, threshold, max(breakPx, longest*scale))
			} else {
				widths[i] = max(g.secs*scale, g.floor)
			}
			total += widths[i]
		}
		return total
	}
	total := draw(fitScale(draw, width, width/shortest))
	// Only breaks, or more gaps than fit at their floors: shrink or stretch
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

// span is where t is drawn: from x(t) to the right edge of an instant
// drawn wide, or x(t) twice.
func (a axis) span(t time.Time) (x0, x1 float64) {
	i := sort.Search(len(a.ts), func(i int) bool { return !a.ts[i].Before(t) })
	x0 = a.x(t)
	if i+1 < len(a.ts) && a.ts[i].Equal(t) && a.ts[i+1].Equal(t) {
		return x0, a.xs[i+1]
	}
	return x0, x0
}

// tick is a labelled point on the axis.
type tick struct {
	X     float64
	Label string
	Title string
	// End anchors the label by its end, so that it is not cut at the right
	// edge of the picture.
	End bool
	at  time.Duration
}

// box is the stretch of x a label of text takes when anchored at x, by its
// middle or by its end; labelWidth is an estimate from the characters, which
// is what a picture drawn without a browser to measure with can go by.
func box(x float64, text string, end bool) (x0, x1 float64) {
	w := labelWidth(text)
	if end {
		return x - w, x
	}
	return x - w/2, x + w/2
}

func labelWidth(text string) float64 { return float64(utf8.RuneCountInString(text)) * charPx }

// clear reports whether a label at [x0, x1] keeps labelPadPx from one that
// ends at prevEnd.
func clear(prevEnd, x0 float64) bool { return x0-prevEnd >= labelPadPx }

// ticks labels the instants that have room for a label, always the first,
// and the last in place of its neighbours when they do not fit, since the
// end of the run is worth more than an instant just before it. right is
// the right edge of the picture: a label that would cross it is anchored by
// its end.
func (a axis) ticks(origin time.Time, right float64) []tick {
	var out []tick
	label := func(i int) tick {
		d := a.ts[i].Sub(origin)
		tk := tick{X: a.xs[i], Label: offset(d), Title: absolute(a.ts[i]), at: d}
		if len(out) > 0 {
			// As many units as tell the label from its neighbour's: "+1h"
			// and then "+1h0m1s", not "+1h" twice.
			prev := out[len(out)-1].at
			tk.Label = exact(d)
			for n := 2; n <= len(durationUnits); n++ {
				if l := offsetIn(d, n); l != offsetIn(prev, n) {
					tk.Label = l
					break
				}
			}
		}
		_, x1 := box(tk.X, tk.Label, false)
		tk.End = x1 > right
		return tk
	}
	fits := func(tk tick) bool {
		if len(out) == 0 {
			return true
		}
		p := out[len(out)-1]
		_, prevEnd := box(p.X, p.Label, p.End)
		x0, _ := box(tk.X, tk.Label, tk.End)
		return clear(prevEnd, x0)
	}
	last := len(a.ts) - 1
	for i := range a.ts {
		if i > 0 && a.ts[i].Equal(a.ts[i-1]) {
			continue // the right edge of an instant drawn wide
		}
		if tk := label(i); fits(tk) {
			out = append(out, tk)
		}
	}
	if last > 0 && out[len(out)-1].at != a.ts[last].Sub(origin) {
		for len(out) > 1 && !fits(label(last)) {
			out = out[:len(out)-1]
		}
		if tk := label(last); fits(tk) {
			out = append(out, tk)
		}
	}
	return out
}
