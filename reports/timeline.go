package reports

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oauthsim/oauthsim/simulator/events"
)

// A run's timeline is laid out here and drawn by the HTML template as
// inline SVG. Lanes from top to bottom: access-token lifetimes, refresh-token
// lifetimes, refresh requests, 401 and 429 answers, faults, and what happened
// to token families (revocation, eviction, reuse detection). A lane with
// nothing in it is left out.

// Geometry, in SVG user units: CSS pixels when the picture is drawn at its
// full width.
const (
	tlWidth     = 1000.0
	tlPlotX0    = 92.0 // room for lane labels
	tlPlotX1    = tlWidth - 24
	tlTop       = 14.0 // room for step labels
	markPitch   = 10.0
	markSep     = 9.0 // closest two markers may sit in one row
	maxMarkRows = 5   // past this, markers at one instant overlap
	maxBarRows  = 6   // token families drawn apart; later ones share the last row
	barPitch    = 10.0
	barHeight   = 7.0
	rtPitch     = 7.0
	rtHeight    = 4.0
	lanePadding = 4.0
)

// px is an SVG coordinate; it prints with one decimal, which is finer than
// a screen shows and keeps the page small.
type px float64

func (p px) String() string {
	return strconv.FormatFloat(math.Round(float64(p)*10)/10, 'f', -1, 64)
}

// timeline is one run's picture, ready for the template.
type timeline struct {
	W, H  px
	AxisY px
	// AxisD draws the axis and its tick marks as one path.
	AxisD  string
	Lanes  []laneView
	Bars   []barView
	Marks  []markView
	Steps  []stepMark
	Breaks []breakView
	Ticks  []tickView
	// Label describes the picture for screen readers.
	Label string
}

type laneView struct {
	Label     string
	Y, H      px
	LabelY    px
	Alternate bool
}

type barView struct {
	X, Y, W, H px
	Class, Tip string
	// Cut marks a token whose family was revoked before it expired.
	Cut  bool
	EndX px
}

type markView struct {
	D, Class, Tip string
	Seq           uint64
}

type stepMark struct {
	X          px
	Top        px
	Label, Tip string
}

type breakView struct {
	X, W, Top, H px
	D, Tip       string
}

type tickView struct {
	X, LabelY    px
	Label, Title string
	// End anchors a label at the right edge by its end, so it is not cut.
	End bool
}

// lane kinds, in drawing order.
const (
	laneAccess = iota
	laneRefreshToken
	laneRefresh
	laneDenied
	laneFault
	laneFamily
	laneCount
)

var laneLabels = [laneCount]string{"access token", "refresh token", "refreshes", "401 · 429", "faults", "token family"}

// shape draws a marker centred on (x, y) as SVG path data.
type shape func(x, y float64) string

func circle(x, y float64) string {
	return "M" + pt(x-4, y) + "a4,4 0 1,0 8,0a4,4 0 1,0 -8,0"
}
func square(x, y float64) string   { return "M" + pt(x-3.5, y-3.5) + "h7v7h-7z" }
func triangle(x, y float64) string { return "M" + pt(x, y-4.5) + "l4.5,8h-9z" }
func diamond(x, y float64) string  { return "M" + pt(x, y-5) + "l4.5,5 -4.5,5 -4.5,-5z" }
func cross(x, y float64) string    { return "M" + pt(x-3.5, y-3.5) + "l7,7m0,-7l-7,7" }
func nabla(x, y float64) string    { return "M" + pt(x-4.5, y-4) + "h9l-4.5,8z" }

func pt(x, y float64) string { return px(x).String() + "," + px(y).String() }

// marker is an event drawn as a symbol.
type marker struct {
	lane  int
	class string
	shape shape
	e     events.Event
	x     float64
	row   int
}

// markers are the symbols e is drawn as: usually none or one, two for a
// refresh that met a 429.
func markers(e events.Event) []marker {
	var out []marker
	add := func(lane int, class string, s shape) {
		out = append(out, marker{lane: lane, class: class, shape: s, e: e})
	}
	switch e.Kind {
	case events.TokenRequest:
		if e.GrantType == "refresh_token" {
			add(laneRefresh, "refresh "+outcomeClass(e.Outcome), circle)
		}
	case events.ResourceRequest:
		if e.Status == 401 {
			add(laneDenied, "s401", square)
		}
	case events.FaultFired:
		add(laneFault, "fault", diamond)
	case events.FamilyRevoked:
		add(laneFamily, "revoked", cross)
	case events.FamilyEvicted:
		add(laneFamily, "evicted", cross)
	case events.RefreshReuseDetected, events.CodeReuseDetected:
		add(laneFamily, "reuse", nabla)
	}
	if e.Status == 429 && strings.HasSuffix(string(e.Kind), "_request") {
		add(laneDenied, "s429", triangle)
	}
	return out
}

// outcomeClass maps a request outcome to a style, and anything else to one
// that cannot collide with the others.
func outcomeClass(outcome string) string {
	switch outcome {
	case events.OutcomeOK, events.OutcomeDenied, events.OutcomeError, events.OutcomeFault:
		return outcome
	}
	return "other"
}

// tokenLife is a token drawn as a bar.
type tokenLife struct {
	e          events.Event
	lane       int
	end        time.Time
	cut, open  bool
	row, shade int
}

// newTimeline lays out run's events; it returns nil for a run with no
// events, which has nothing to draw.
func newTimeline(run Run, origin time.Time, hit map[uint64]bool) *timeline {
	evs := make([]events.Event, 0, len(run.Events))
	for _, e := range run.Events {
		if !e.Time.IsZero() {
			evs = append(evs, e)
		}
	}
	if len(evs) == 0 {
		return nil
	}
	slices.SortStableFunc(evs, func(a, b events.Event) int { return a.Time.Compare(b.Time) })
	start, end := evs[0].Time, evs[len(evs)-1].Time
	var stepStarts []time.Time
	for _, s := range run.Steps {
		if !s.Start.IsZero() {
			stepStarts = append(stepStarts, s.Start)
		}
	}
	for _, t := range append([]time.Time{run.SimStart, run.SimEnd}, stepStarts...) {
		if !t.IsZero() && t.Before(start) {
			start = t
		}
		if t.After(end) {
			end = t
		}
	}

	instants := append([]time.Time{start, end}, stepStarts...)
	lives := tokenLives(evs, end)
	for _, l := range lives {
		instants = append(instants, l.e.Time, l.end)
	}
	var marks []marker
	for _, e := range evs {
		for _, m := range markers(e) {
			marks = append(marks, m)
			instants = append(instants, e.Time)
		}
	}
	ax := newAxis(instants, tlPlotX0, tlPlotX1-tlPlotX0)

	var rows [laneCount]int
	for _, l := range lives {
		rows[l.lane] = max(rows[l.lane], l.row+1)
	}
	for i := range marks {
		marks[i].x = ax.x(marks[i].e.Time)
	}
	slices.SortStableFunc(marks, func(a, b marker) int { return cmp.Compare(a.x, b.x) })
	var lastX [laneCount][maxMarkRows]float64
	var used [laneCount]int
	for i := range marks {
		m := &marks[i]
		m.row = stackRow(m.x, lastX[m.lane][:], &used[m.lane])
		rows[m.lane] = max(rows[m.lane], m.row+1)
	}

	t := &timeline{W: tlWidth}
	laneY := t.placeLanes(rows)
	for _, l := range lives {
		x0, x1 := ax.x(l.e.Time), ax.x(l.end)
		pitch, h, kind := barPitch, barHeight, "access"
		if l.lane == laneRefreshToken {
			pitch, h, kind = rtPitch, rtHeight, "refresh"
		}
		class := fmt.Sprintf("bar %s s%d", kind, l.shade)
		if hit[l.e.Seq] {
			class += " hit"
		}
		w := max(x1-x0, 1.5)
		t.Bars = append(t.Bars, barView{
			X: px(x0), Y: px(laneY[l.lane] + lanePadding/2 + float64(l.row)*pitch + (pitch-h)/2), W: px(w), H: px(h),
			Class: class, Tip: lifeTip(l, origin), Cut: l.cut, EndX: px(x0 + w - 2),
		})
	}
	for _, m := range marks {
		class := "m " + m.class
		if hit[m.e.Seq] {
			class += " hit"
		}
		cy := laneY[m.lane] + lanePadding/2 + float64(m.row)*markPitch + markPitch/2
		t.Marks = append(t.Marks, markView{D: m.shape(m.x, cy), Class: class, Tip: eventTip(m.e, origin), Seq: m.e.Seq})
	}
	t.drawSteps(run.Steps, ax, origin)
	t.drawAxis(ax, origin)
	t.Label = fmt.Sprintf("Timeline of %s × %s from %s to %s: %d tokens, %d marked events", run.Client, run.Scenario,
		offset(start.Sub(origin)), offset(end.Sub(origin)), len(t.Bars), len(t.Marks))
	return t
}

// placeLanes stacks the lanes that have rows, each as tall as its rows
// need, and returns the top of each.
func (t *timeline) placeLanes(rows [laneCount]int) (top [laneCount]float64) {
	y := tlTop
	for lane := range laneCount {
		if rows[lane] == 0 {
			continue
		}
		pitch := markPitch
		switch lane {
		case laneAccess:
			pitch = barPitch
		case laneRefreshToken:
			pitch = rtPitch
		}
		h := float64(rows[lane])*pitch + lanePadding
		top[lane] = y
		t.Lanes = append(t.Lanes, laneView{
			Label: laneLabels[lane], Y: px(y), H: px(h), LabelY: px(y + min(h, 14)/2 + 3.5),
			Alternate: len(t.Lanes)%2 == 1,
		})
		y += h
	}
	t.AxisY = px(y + 2)
	t.H = t.AxisY + 20
	return top
}

// drawSteps draws a line where each step starts. Steps that start at one
// instant share a label ("3,4"); a step too close to the last label for
// one of its own goes without, its line and tooltip still there.
func (t *timeline) drawSteps(steps []Step, ax axis, origin time.Time) {
	labelled := -1
	for _, s := range steps {
		if s.Start.IsZero() {
			continue
		}
		x := px(ax.x(s.Start))
		sm := stepMark{X: x, Top: tlTop - 2, Tip: stepTip(s, origin)}
		switch {
		case labelled >= 0 && t.Steps[labelled].X == x:
			t.Steps[labelled].Label += "," + strconv.Itoa(s.Index)
		case labelled < 0 || x-t.Steps[labelled].X >= 12:
			sm.Label, labelled = strconv.Itoa(s.Index), len(t.Steps)
		}
		t.Steps = append(t.Steps, sm)
	}
}

// drawAxis draws the axis with its ticks, and the breaks across the plot.
func (t *timeline) drawAxis(ax axis, origin time.Time) {
	top := px(tlTop - 2)
	for _, b := range ax.breaks {
		mid := (b.X0 + b.X1) / 2
		t.Breaks = append(t.Breaks, breakView{
			X: px(b.X0), W: px(b.X1 - b.X0), Top: top, H: t.AxisY - top,
			D:   "M" + pt(mid-4, float64(t.AxisY)+4) + "l4,-8m0,8l4,-8",
			Tip: fmt.Sprintf("%s without an event, drawn shortened (%s to %s)", compact(b.To.Sub(b.From)), offset(b.From.Sub(origin)), offset(b.To.Sub(origin))),
		})
	}
	d := "M" + pt(tlPlotX0, float64(t.AxisY)) + "H" + px(tlPlotX1).String()
	for _, tk := range ax.ticks(origin) {
		d += "M" + pt(tk.X, float64(t.AxisY)) + "v4"
		t.Ticks = append(t.Ticks, tickView{X: px(tk.X), LabelY: t.AxisY + 15, Label: tk.Label, Title: tk.Title, End: tk.X > tlWidth-labelGapPx})
	}
	t.AxisD = d
}

// stackRow picks the first of the rows (their last markers' x in lastX) in
// which a marker at x keeps clear of its neighbour, opening a row when none
// does, and when every row is taken the one whose marker is furthest back.
func stackRow(x float64, lastX []float64, used *int) int {
	best := 0
	for r := range *used {
		if x-lastX[r] >= markSep {
			lastX[r] = x
			return r
		}
		if lastX[r] < lastX[best] {
			best = r
		}
	}
	if *used < len(lastX) {
		best = *used
		*used++
	}
	lastX[best] = x
	return best
}

// tokenLives finds the access and refresh tokens issued in evs and how long
// each lived: to its expiry, or to the revocation or eviction of its family
// if that came first; refresh tokens without an expiry live to the end of the
// run. A token still valid at runEnd is drawn to runEnd. Each token family
// gets a row, the same in both lanes, and its successive tokens alternate
// shades so that a refresh shows as a change of colour within the row.
func tokenLives(evs []events.Event, runEnd time.Time) []tokenLife {
	dead := map[string]time.Time{}
	for _, e := range evs {
		if e.Kind == events.FamilyRevoked || e.Kind == events.FamilyEvicted {
			if _, seen := dead[e.Family]; !seen {
				dead[e.Family] = e.Time
			}
		}
	}
	familyRow := map[string]int{}
	var shades [laneCount]map[string]int
	var out []tokenLife
	for _, e := range evs {
		if e.Kind != events.TokenIssued {
			continue
		}
		l := tokenLife{e: e, end: runEnd}
		switch e.TokenType {
		case "access_token":
			l.lane = laneAccess
		case "refresh_token":
			l.lane = laneRefreshToken
		default:
			continue
		}
		if e.ExpiresAt != nil {
			l.end = *e.ExpiresAt
		}
		if at, ok := dead[e.Family]; ok && !at.Before(e.Time) && at.Before(l.end) {
			l.end, l.cut = at, true
		}
		if l.end.After(runEnd) {
			l.end, l.open = runEnd, true
		}
		if l.end.Before(e.Time) {
			l.end = e.Time
		}
		row, ok := familyRow[e.Family]
		if !ok {
			row = min(len(familyRow), maxBarRows-1)
			familyRow[e.Family] = row
		}
		l.row = row
		if shades[l.lane] == nil {
			shades[l.lane] = map[string]int{}
		}
		l.shade = shades[l.lane][e.Family] % 2
		shades[l.lane][e.Family]++
		out = append(out, l)
	}
	return out
}

// eventTip is the tooltip of an event's marker: everything the log says
// about it, with its time both relative and absolute.
func eventTip(e events.Event, origin time.Time) string {
	head := fmt.Sprintf("#%d %s %s\n%s", e.Seq, e.Kind, exact(e.Time.Sub(origin)), absolute(e.Time))
	facts := eventFacts(e, origin)
	if len(facts) == 0 {
		return head
	}
	return head + "\n" + strings.Join(facts, "\n")
}

// eventFacts are the fields of e worth reading, labelled where the value
// alone would be ambiguous.
func eventFacts(e events.Event, origin time.Time) []string {
	var f []string
	add := func(label, v string) {
		if v != "" {
			f = append(f, label+v)
		}
	}
	add("", e.Endpoint)
	add("grant ", e.GrantType)
	if e.TokenType != "" || e.Token != "" {
		f = append(f, strings.TrimSpace(e.TokenType+" "+e.Token))
	}
	add("parent ", e.Parent)
	add("family ", e.Family)
	add("client ", e.Client)
	add("user ", e.User)
	if e.ExpiresAt != nil {
		f = append(f, "expires "+offset(e.ExpiresAt.Sub(origin)))
	}
	if e.Status != 0 {
		f = append(f, strings.TrimSpace(fmt.Sprintf("status %d %s", e.Status, e.Outcome)))
	} else {
		add("outcome ", e.Outcome)
	}
	add("error ", e.Error)
	add("reason: ", e.Reason)
	add("fault ", e.Fault)
	add("", e.Detail)
	return f
}

func lifeTip(l tokenLife, origin time.Time) string {
	e := l.e
	s := fmt.Sprintf("%s %s (#%d, family %s)\nissued %s  %s", e.TokenType, e.Token, e.Seq, e.Family, exact(e.Time.Sub(origin)), absolute(e.Time))
	if e.ExpiresAt != nil {
		s += fmt.Sprintf("\nexpires %s  %s", exact(e.ExpiresAt.Sub(origin)), absolute(*e.ExpiresAt))
	}
	switch {
	case l.cut:
		s += "\nfamily ended " + exact(l.end.Sub(origin))
	case l.open:
		s += "\nstill valid when the run ended"
	}
	return s
}

func stepTip(s Step, origin time.Time) string {
	tip := fmt.Sprintf("step %d (line %d, %s) at %s\n%s", s.Index, s.Line, s.Action, offset(s.Start.Sub(origin)), s.Summary)
	if s.Error != "" {
		tip += "\nerror: " + s.Error
	}
	return tip
}
