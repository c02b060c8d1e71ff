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
// lifetimes, refresh requests, 401 and 429 answers, Retry-After windows,
// faults, and what happened to token families (revocation, eviction, reuse
// detection). A lane with nothing in it is left out.

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
	// maxSpreadPx is the most room marks at one instant in one lane take
	// side by side; more of them than fit markSep apart are drawn closer,
	// and stack.
	maxSpreadPx = 90.0
	maxBarRows  = 6 // token families drawn apart; later ones share the last row
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
	// Windows are the waits an answer asked for (Retry-After, a rate-limit
	// reset), from the answer to when the client may come back.
	Windows []windowView
	Ticks   []tickView
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
	// x, y is the marker's centre, for specs.
	x, y float64
}

type stepMark struct {
	X          px
	Top        px
	Label, Tip string
	// LabelTip is the tooltip of a label that names more than one step:
	// each of them in full.
	LabelTip string
}

type breakView struct {
	X, W, Top, H px
	D, Tip       string
}

// windowView is a wait an answer asked for: a bar in its lane, and a band
// across the plot from Top, BandH tall, so that a retry inside it shows.
type windowView struct {
	X, W, Y, H, Top, BandH px
	Tip                    string
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
	laneWait
	laneFault
	laneFamily
	// laneTab is the first of a browser client's tabs, one lane each.
	laneTab
	laneCount = laneTab + maxTabLanes
)

// maxTabLanes is how many tabs get a lane: as many as a scenario opens.
const maxTabLanes = 8

var laneLabels = [laneCount]string{"access token", "refresh token", "refreshes", "401 · 429", "Retry-After", "faults", "token family",
	"tab 1", "tab 2", "tab 3", "tab 4", "tab 5", "tab 6", "tab 7", "tab 8"}

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
	// nth is the marker's place among those at its instant in its lane,
	// of count.
	nth, count int
	// tip, when set, says what a browser marker is; an event's marker
	// says what its event is.
	tip string
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

	var rows [laneCount]int
	instants := append([]time.Time{start, end}, stepStarts...)
	lives := tokenLives(evs, end)
	for _, l := range lives {
		instants = append(instants, l.e.Time, l.end)
	}
	waits := retryWindows(evs)
	for _, w := range waits {
		instants = append(instants, w.from, w.to)
	}
	points := make([]axisPoint, 0, len(instants)+len(evs))
	for _, t := range instants {
		points = append(points, axisPoint{T: t})
	}
	marks := spreadMarkers(evs, browserMarkers(run.Browser, origin)...)
	for _, m := range marks {
		if m.e.Time.Before(start) {
			start = m.e.Time
		}
		if m.e.Time.After(end) {
			end = m.e.Time
		}
	}
	for _, m := range marks {
		points = append(points, axisPoint{T: m.e.Time, Lanes: 1 << m.lane, Width: float64(m.count-1) * markPitchAt(m.count)})
	}
	ax := newMarkedAxis(points, tlPlotX0, tlPlotX1-tlPlotX0)
	if len(waits) > 0 {
		rows[laneWait] = 1
	}

	for _, l := range lives {
		rows[l.lane] = max(rows[l.lane], l.row+1)
	}
	// The widest group at an instant set its width; when the axis had to
	// squeeze, every group at it is squeezed alike.
	wide := map[int64]float64{}
	for _, m := range marks {
		k := m.e.Time.UnixNano()
		wide[k] = max(wide[k], float64(m.count-1)*markPitchAt(m.count))
	}
	for i := range marks {
		m := &marks[i]
		x0, x1 := ax.span(m.e.Time)
		m.x = x0
		if w := wide[m.e.Time.UnixNano()]; w > 0 {
			m.x += float64(m.nth) * markPitchAt(m.count) * (x1 - x0) / w
		}
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
		tip := m.tip
		if tip == "" {
			tip = eventTip(m.e, origin)
		}
		t.Marks = append(t.Marks, markView{D: m.shape(m.x, cy), Class: class, Tip: tip, Seq: m.e.Seq, x: m.x, y: cy})
	}
	for _, w := range waits {
		x0, x1 := ax.x(w.from), ax.x(w.to)
		t.Windows = append(t.Windows, windowView{
			X: px(x0), W: px(max(x1-x0, 1.5)), Y: px(laneY[laneWait] + lanePadding/2 + 1.5), H: px(markPitch - 3),
			Top: tlTop - 2, BandH: t.AxisY - (tlTop - 2), Tip: w.tip(origin),
		})
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

// drawSteps draws a line where each step starts. A label names the steps
// at its line and those right of it too close for a label of their own
// ("3–5,7,8"), so that no two labels overlap; its LabelTip gives each of
// them in full when it names more than one.
func (t *timeline) drawSteps(steps []Step, ax axis, origin time.Time) {
	type label struct {
		at      int // the step whose line carries it
		indexes []int
		tips    []string
	}
	var labels []label
	end := func(l label) float64 {
		_, x1 := box(float64(t.Steps[l.at].X), stepRanges(l.indexes), false)
		return x1
	}
	for _, s := range steps {
		if s.Start.IsZero() {
			continue
		}
		tip := stepTip(s, origin)
		t.Steps = append(t.Steps, stepMark{X: px(ax.x(s.Start)), Top: tlTop - 2, Tip: tip})
		labels = append(labels, label{at: len(t.Steps) - 1, indexes: []int{s.Index}, tips: []string{tip}})
		// Merge into the label on the left while the two overlap; a
		// merged label is wider, so it may reach the one before it.
		for n := len(labels); n > 1; n = len(labels) {
			l, prev := labels[n-1], labels[n-2]
			x0, _ := box(float64(t.Steps[l.at].X), stepRanges(l.indexes), false)
			if clear(end(prev), x0) {
				break
			}
			prev.indexes = append(prev.indexes, l.indexes...)
			prev.tips = append(prev.tips, l.tips...)
			labels = append(labels[:n-2], prev)
		}
	}
	for _, l := range labels {
		t.Steps[l.at].Label = stepRanges(l.indexes)
		if len(l.tips) > 1 {
			t.Steps[l.at].LabelTip = strings.Join(l.tips, "\n\n")
		}
	}
}

// stepRanges writes step numbers as a label: three or more in a row as a
// range, "3–5,7,8".
func stepRanges(indexes []int) string {
	var parts []string
	for i := 0; i < len(indexes); {
		j := i
		for j+1 < len(indexes) && indexes[j+1] == indexes[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, fmt.Sprintf("%d–%d", indexes[i], indexes[j]))
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, strconv.Itoa(indexes[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
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
	for _, tk := range ax.ticks(origin, tlWidth) {
		d += "M" + pt(tk.X, float64(t.AxisY)) + "v4"
		t.Ticks = append(t.Ticks, tickView{X: px(tk.X), LabelY: t.AxisY + 15, Label: tk.Label, Title: tk.Title, End: tk.End})
	}
	t.AxisD = d
}

// markPitchAt is how far apart count markers at one instant in one lane
// are drawn: markSep, closer when that would take more than maxSpreadPx.
func markPitchAt(count int) float64 {
	if count < 2 {
		return 0
	}
	return min(markSep, maxSpreadPx/float64(count-1))
}

// spreadMarkers are the markers of evs (sorted by time), each numbered
// among those at its instant in its lane, in the order of the log.
func spreadMarkers(evs []events.Event, more ...marker) []marker {
	var out []marker
	for _, e := range evs {
		out = append(out, markers(e)...)
	}
	out = append(out, more...)
	slices.SortStableFunc(out, func(a, b marker) int { return a.e.Time.Compare(b.e.Time) })
	type key struct {
		lane int
		t    int64
	}
	count := map[key]int{}
	for i := range out {
		k := key{out[i].lane, out[i].e.Time.UnixNano()}
		out[i].nth = count[k]
		count[k]++
	}
	for i := range out {
		out[i].count = count[key{out[i].lane, out[i].e.Time.UnixNano()}]
	}
	return out
}

// wait is an answer's request to come back later.
type wait struct {
	e        events.Event
	from, to time.Time
}

// retryWindows are the waits the answers in evs asked for: from when the
// answer left to its RetryAt (Retry-After, or a rate-limit reset).
func retryWindows(evs []events.Event) []wait {
	var out []wait
	for _, e := range evs {
		if e.RetryAt == nil {
			continue
		}
		from := e.Time
		if e.Answered != nil {
			from = *e.Answered
		}
		if e.RetryAt.After(from) {
			out = append(out, wait{e: e, from: from, to: *e.RetryAt})
		}
	}
	return out
}

func (w wait) tip(origin time.Time) string {
	e := w.e
	what := fmt.Sprintf("%d answer", e.Status)
	if e.Status == 0 {
		what = "answer"
	}
	s := fmt.Sprintf("#%d %s to %s at %s: come back at %s, %s later", e.Seq, what, strings.TrimSpace(string(e.Kind)+" "+e.Endpoint),
		exact(w.from.Sub(origin)), exact(w.to.Sub(origin)), compact(w.to.Sub(w.from)))
	if e.Detail != "" {
		s += "\n" + e.Detail
	}
	return s
}

// stackRow picks the first of the rows (their last markers' x in lastX) in
// which a marker at x keeps clear of its neighbour, opening a row when none
// does, and when every row is taken the one whose marker is furthest back.
func stackRow(x float64, lastX []float64, used *int) int {
	best := 0
	for r := range *used {
		if x-lastX[r] >= markSep-1e-6 { // a hair less: markSep apart to the eye, however the sums round
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
// about it, at its offset from the run's start. Absolute times, random to
// the nanosecond, are left to the axis's ticks and results.json: on every
// mark of 1,700 runs they doubled what the page carries.
func eventTip(e events.Event, origin time.Time) string {
	head := fmt.Sprintf("#%d %s %s", e.Seq, e.Kind, exact(e.Time.Sub(origin)))
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
	add("family ", shortID(e.Family))
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
	s := fmt.Sprintf("%s %s (#%d, family %s)\nissued %s", e.TokenType, e.Token, e.Seq, shortID(e.Family), exact(e.Time.Sub(origin)))
	if e.ExpiresAt != nil {
		s += "\nexpires " + exact(e.ExpiresAt.Sub(origin))
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

// shortID is the first 8 characters of a family id, a UUID: enough to tell
// a run's families apart, as a token's fingerprint is; results.json has
// the whole id.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
