package reports

import (
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/oauthsim/oauthsim/simulator/events"
)

//go:embed index.html.tmpl
var indexSource string

// indexTemplate is parsed once: it is part of the program, so an error in
// it is a bug the specs catch, not something to report at run time.
var indexTemplate = template.Must(template.New("index").Parse(indexSource))

// WriteHTML writes r as one self-contained page: the totals, a client ×
// scenario matrix linking to each run, the checks and their rationales, and
// for every run its verdicts, a timeline on the sim-time axis and its steps.
// The page loads nothing and runs no script, so it can be opened from a CI
// artifact or a mail attachment as it is.
func WriteHTML(w io.Writer, r *Results) error {
	return indexTemplate.Execute(w, newPage(r))
}

// page is what the template draws; everything is computed here so the
// template only places it.
type page struct {
	Title   string
	Tally   tally
	Tool    string
	Started string
	// LabelFilter is the filter the run was given, shown as a caveat.
	LabelFilter string
	Wall, Sim   string
	Scenarios   []scenarioHead
	Rows        []matrixRow
	Checks      []checkRow
	Legend      []legendItem
	Runs        []runView
}

type scenarioHead struct{ Name, Tip string }

type matrixRow struct {
	Client, Version, Tip string
	Cells                []matrixCell
}

type matrixCell struct {
	Class string
	Links []cellLink
}

type cellLink struct{ Href, Symbol, Tip string }

type checkRow struct {
	ID, Rationale string
	Failed        int
}

type legendItem struct {
	Label, Class, D string
	Bar             bool
}

type runView struct {
	ID, Client, Scenario, Status, Reason string
	Description, Reproduces              string
	Wall, SimSpan                        string
	// Failed verdicts come first, then those that could not judge, then
	// the ids of those that passed, which need no more room.
	Failed, Other []verdictView
	Passed        []string
	Timeline      *timeline
	Steps         []stepView
	// Events lists the event log in full for runs someone will debug.
	Events []eventRow
	Output string
}

type verdictView struct {
	Check, Status, Message string
	Events                 []eventRef
}

type eventRef struct{ Href, Label string }

type stepView struct {
	Index, Line              int
	Action, Summary, At, Abs string
	Expected, Error, Class   string
	Outcomes                 []outcomeView
}

type outcomeView struct{ Text, Tip, Class string }

type eventRow struct {
	// ID is the anchor of an event a failed check points at; the others
	// need none, and 60 of them a run add up over a large matrix.
	ID                   string
	Seq                  uint64
	At, Abs, Kind, Facts string
}

// statusSymbol is how a status reads in a matrix cell, next to its colour
// for those who cannot tell the colours apart.
var statusSymbol = map[string]string{StatusPass: "✓", StatusFail: "✗", StatusSkip: "–", StatusError: "!"}

// statusRank orders statuses from worst, for a cell holding several runs.
var statusRank = map[string]int{StatusError: 0, StatusFail: 1, StatusSkip: 2, StatusPass: 3}

func newPage(r *Results) page {
	t := count(r)
	p := page{
		Tally: t, Tool: r.Tool, Wall: wall(t.Wall), Sim: compact(t.Sim), LabelFilter: r.LabelFilter,
		Title: "oauthsim conformance: " + t.verdict(),
	}
	if !r.StartedAt.IsZero() {
		p.Started = r.StartedAt.Format(time.RFC3339)
	}
	clients, scenarios := axes(r)
	described := make(map[string]Scenario, len(r.Scenarios))
	for _, s := range r.Scenarios {
		described[s.Name] = s
	}
	for _, name := range scenarios {
		s := described[name]
		p.Scenarios = append(p.Scenarios, scenarioHead{Name: name, Tip: strings.TrimSpace(s.Description + "\n" + s.File)})
	}
	p.Rows = matrix(r, clients, scenarios)
	failures := failuresByCheck(r)
	for _, c := range r.Checks {
		p.Checks = append(p.Checks, checkRow{ID: c.ID, Rationale: c.Rationale, Failed: failures[c.ID]})
	}
	p.Legend = legend()
	for i, run := range r.Runs {
		p.Runs = append(p.Runs, newRunView(i, run, described[run.Scenario]))
	}
	return p
}

// matrix is a row per client and a cell per scenario, each cell coloured
// by the worst of its runs and linking to every one of them.
func matrix(r *Results, clients, scenarios []string) []matrixRow {
	var rows []matrixRow
	byName := make(map[string]Client, len(r.Clients))
	for _, c := range r.Clients {
		byName[c.Name] = c
	}
	cells := runsByCell(r)
	for _, client := range clients {
		c := byName[client]
		row := matrixRow{Client: client, Version: c.Version, Tip: strings.TrimSpace(c.Description + "\n" + strings.Join(c.Capabilities, ", "))}
		for _, scenario := range scenarios {
			cell := matrixCell{Class: "none"}
			for _, i := range cells[cellKey{client, scenario}] {
				run := r.Runs[i]
				st := status(run)
				if cell.Class == "none" || statusRank[st] < statusRank[cell.Class] {
					cell.Class = st
				}
				tip := fmt.Sprintf("%s × %s: %s", client, scenario, st)
				if bad := failed(run); len(bad) > 0 {
					ids := make([]string, len(bad))
					for j, v := range bad {
						ids[j] = v.Check
					}
					tip += " (" + strings.Join(ids, ", ") + ")"
				} else if run.Reason != "" {
					tip += ": " + firstLine(run.Reason)
				}
				cell.Links = append(cell.Links, cellLink{Href: runID(i), Symbol: statusSymbol[st], Tip: tip})
			}
			row.Cells = append(row.Cells, cell)
		}
		rows = append(rows, row)
	}
	return rows
}

func runID(i int) string { return fmt.Sprintf("run-%d", i) }

// origin is the instant a run's offsets count from: its start on the sim
// clock, or its first event when the harness did not record a start.
func origin(run Run) time.Time {
	if !run.SimStart.IsZero() {
		return run.SimStart
	}
	for _, e := range run.Events {
		if !e.Time.IsZero() {
			return e.Time
		}
	}
	return time.Time{}
}

func newRunView(i int, run Run, s Scenario) runView {
	o := origin(run)
	st := status(run)
	v := runView{
		ID: runID(i), Client: run.Client, Scenario: run.Scenario, Status: st, Reason: run.Reason,
		Description: s.Description, Reproduces: s.Reproduces,
		Wall: wall(time.Duration(run.Duration)), Output: run.Output,
	}
	if run.SimEnd.After(run.SimStart) {
		v.SimSpan = compact(run.SimEnd.Sub(run.SimStart))
	}
	hit := map[uint64]bool{}
	for _, c := range failed(run) {
		for _, seq := range c.Events {
			hit[seq] = true
		}
	}
	listEvents := st == StatusFail || st == StatusError || len(hit) > 0
	for _, c := range run.Checks {
		if c.Status == StatusPass {
			v.Passed = append(v.Passed, c.Check)
			continue
		}
		vv := verdictView{Check: c.Check, Status: c.Status, Message: c.Message}
		for _, seq := range c.Events {
			ref := eventRef{Label: fmt.Sprintf("#%d", seq)}
			if hit[seq] {
				ref.Href = fmt.Sprintf("%s-e%d", v.ID, seq)
			}
			vv.Events = append(vv.Events, ref)
		}
		if c.Status == StatusFail {
			v.Failed = append(v.Failed, vv)
		} else {
			v.Other = append(v.Other, vv)
		}
	}
	v.Timeline = newTimeline(run, o, hit)
	for _, s := range run.Steps {
		sv := stepView{
			Index: s.Index, Line: s.Line, Action: s.Action, Summary: s.Summary,
			Expected: s.Expected, Error: s.Error,
		}
		if !s.Start.IsZero() {
			sv.At, sv.Abs = offsetIn(s.Start.Sub(o), 3), absolute(s.Start)
			if !s.End.IsZero() {
				sv.Abs += " – " + absolute(s.End)
			}
		}
		for _, out := range s.Outcomes {
			ov := outcomeView{Text: out.Result, Class: "met"}
			if out.Reason != "" {
				ov.Text += " (" + out.Reason + ")"
			}
			if s.Expected != "" && out.Result != s.Expected {
				ov.Class, sv.Class = "unmet", "unmet"
			}
			ov.Tip = strings.TrimSpace(fmt.Sprintf("%s %s\n%s", offset(out.Time.Sub(o)), absolute(out.Time), out.Detail))
			sv.Outcomes = append(sv.Outcomes, ov)
		}
		if s.Error != "" {
			sv.Class = "unmet"
		}
		v.Steps = append(v.Steps, sv)
	}
	if listEvents {
		evs := slices.Clone(run.Events)
		slices.SortStableFunc(evs, func(a, b events.Event) int { return cmp.Compare(a.Seq, b.Seq) })
		for _, e := range evs {
			row := eventRow{
				Seq: e.Seq, At: exact(e.Time.Sub(o)), Abs: absolute(e.Time),
				Kind: string(e.Kind), Facts: strings.Join(eventFacts(e, o), " · "),
			}
			if hit[e.Seq] {
				row.ID = fmt.Sprintf("%s-e%d", v.ID, e.Seq)
			}
			v.Events = append(v.Events, row)
		}
	}
	return v
}

// legend explains the timeline's symbols with the shapes and classes the
// timelines use.
func legend() []legendItem {
	const x, y = 7, 7
	return []legendItem{
		{Label: "access token, issued to expiry", Class: "bar access s0", Bar: true},
		{Label: "refresh token, issued to expiry or end of family", Class: "bar refresh s0", Bar: true},
		{Label: "refresh: ok", Class: "m refresh ok", D: circle(x, y)},
		{Label: "refresh: denied (4xx)", Class: "m refresh denied", D: circle(x, y)},
		{Label: "refresh: provider error (5xx)", Class: "m refresh error", D: circle(x, y)},
		{Label: "refresh: answered by a fault", Class: "m refresh fault", D: circle(x, y)},
		{Label: "401 from the resource server", Class: "m s401", D: square(x, y)},
		{Label: "429 from any endpoint", Class: "m s429", D: triangle(x, y)},
		{Label: "fault fired", Class: "m fault", D: diamond(x, y)},
		{Label: "family revoked", Class: "m revoked", D: cross(x, y)},
		{Label: "family evicted (too many)", Class: "m evicted", D: cross(x, y)},
		{Label: "reuse detected", Class: "m reuse", D: nabla(x, y)},
		{Label: "event a failed check points at", Class: "m refresh ok hit", D: circle(x, y)},
	}
}
