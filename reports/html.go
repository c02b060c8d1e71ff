package reports

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/oauthsim/oauthsim/simulator/events"
)

//go:embed index.html.tmpl
var indexSource string

//go:embed index.js
var indexScript string

// indexTemplate is parsed once: it is part of the program, so an error in
// it is a bug the specs catch, not something to report at run time.
var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).Parse(indexSource))

// WriteHTML writes r as a page: the totals, filters, a client × scenario
// matrix that scrolls in its own box with its headers in view, a list of
// the runs, and the checks with their rationales. What each run holds (its
// verdicts, timeline, steps and events) is most of the weight and is read
// one run at a time, so it is not in the page: WriteRunData writes it,
// gzip-compressed, into RunDataFile beside the page, which the page's
// script loads when a run is first opened. It loads it with a script
// element, which browsers allow a page opened from disk, where they refuse
// it a fetch. The page names the data it goes with, and says so when the
// file beside it is another run's or missing.
func WriteHTML(w io.Writer, r *Results) error { return (&rendering{r: r}).writePage(w) }

// RunDataFile is the file beside index.html that holds its runs' details.
const RunDataFile = "index-runs.js"

// runDataMark opens RunDataFile: Write knows its own file by it.
const runDataMark = "// oauthsim conformance: the runs of index.html"

// WriteRunData writes RunDataFile for the page WriteHTML writes of r: a
// script that hands the page the runs' sections, packed, with the id of
// the page they go with.
func WriteRunData(w io.Writer, r *Results) error { return (&rendering{r: r}).writeRunData(w) }

// rendering is the page of r and its runs' sections, computed on first
// use: Write draws index.html and RunDataFile from one rendering, as
// packing every run's section is most of the work of both.
type rendering struct {
	r      *Results
	done   bool
	page   page
	chunks []string
	err    error
}

func (v *rendering) get() (page, []string, error) {
	if !v.done {
		v.page, v.chunks, v.err = newPage(v.r)
		v.done = true
	}
	return v.page, v.chunks, v.err
}

func (v *rendering) writePage(w io.Writer) error {
	p, _, err := v.get()
	if err != nil {
		return err
	}
	return indexTemplate.ExecuteTemplate(w, "index", p)
}

func (v *rendering) writeRunData(w io.Writer) error {
	p, chunks, err := v.get()
	if err != nil {
		return err
	}
	body, err := json.Marshal(struct {
		ID     string   `json:"id"`
		Chunks []string `json:"chunks"`
	}{p.Index.Data, chunks})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s (%s); the page opens it when a run is.\noauthsimRunData(%s);\n", runDataMark, RunDataFile, body)
	return err
}

// page is what the template draws; everything is computed here so the
// template only places it.
type page struct {
	Title, Verdict string
	Tally          tally
	Tool           string
	Started        string
	// LabelFilter is the filter the run was given, shown as a caveat.
	LabelFilter string
	Wall, Sim   string
	// Unmet lists the clients expected to fail that did not, and how.
	Unmet     []string
	Scenarios []scenarioHead
	Rows      []matrixRow
	Checks    []checkRow
	Legend    []legendItem
	// Monitoring is each client's refresh figures over all its runs.
	Monitoring []clientFigures
	// Index lists the runs for the page's script, which draws the run
	// list from it and finds each run's section in RunDataFile.
	Index  runIndex
	Script template.JS
}

type scenarioHead struct{ Name, Tip string }

type matrixRow struct {
	Client, Version, Tip string
	// ExpectFail marks a client broken on purpose; Unmet says how it
	// failed to fail, which makes it a failure.
	ExpectFail bool
	Unmet      string
	Cells      []matrixCell
}

type matrixCell struct {
	Class string
	// Statuses and Checks are what the filters match: the classes of the
	// cell's runs and the checks they failed, space-separated.
	Statuses, Checks string
	Links            []cellLink
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

// runIndex is the run list as the page's script reads it: names once,
// then a row a run in page order, of numbers into them.
type runIndex struct {
	// Data is the id of the run data the page goes with: a hash of it.
	Data      string            `json:"data"`
	Clients   []string          `json:"clients"`
	Scenarios []string          `json:"scenarios"`
	Checks    []string          `json:"checks"`
	Labels    map[string]string `json:"labels"`
	Runs      []runIndexRow     `json:"runs"`
}

// runIndexRow is [client, scenario, class, [failed checks], chunk, position].
type runIndexRow []any

type runView struct {
	ID, Client, Scenario, Class, Label, Reason string
	Description, Reproduces                    string
	Wall, SimSpan                              string
	// Start is the absolute time offsets count from.
	Start string
	// Failed verdicts come first, those written for a bug before the
	// scenario's expectations; then those that could not judge, then the
	// ids of those that passed, which need no more room.
	Failed, Other []verdictView
	// Ranked says the named checks were put before the expectations.
	Ranked   bool
	Passed   []string
	Timeline *timeline
	// Metrics is the run's refresh figures in a line.
	Metrics string
	Steps   []stepView
	// Events lists the event log in full for runs someone will debug.
	Events []eventRow
	Output string
}

type verdictView struct {
	Check, Status string
	Lines         []lineView
	Events        []eventRef
	// First marks the first failed check, the one a reader is taken to.
	First bool
}

// lineView is one line of a verdict's message, or several identical but
// for their time, counted.
type lineView struct {
	Count int
	// When is "at +2h…+23h" for a counted line.
	When string
	Text cutText
}

// cutText is a text that may be too long to read in passing: Head and
// Tail are shown, Middle only on demand.
type cutText struct{ Head, Middle, Tail string }

type eventRef struct{ Href, Label string }

type stepView struct {
	Index, Line              int
	Action, Summary, At, Abs string
	Expected, Error, Class   string
	Outcomes                 []outcomeView
	// Shots are a browser client's tabs after the step went wrong.
	Shots []template.URL
}

type outcomeView struct{ Text, Tip, Class string }

type eventRow struct {
	// ID is the anchor of an event a failed check points at; the others
	// need none.
	ID              string
	Seq             uint64
	At, Kind, Facts string
}

// Classes and labels of a run as the page shows it: an expected failure
// is its own kind, neither a failure nor a pass.
const classXFail = "xfail"

var runLabel = map[string]string{
	StatusPass: "passed", StatusFail: "failed", classXFail: "expected failure", StatusSkip: "skipped", StatusError: "errored",
}

// statusSymbol is how a status reads in a matrix cell, next to its colour
// for those who cannot tell the colours apart.
var statusSymbol = map[string]string{StatusPass: "✓", StatusFail: "✗", classXFail: "⊗", StatusSkip: "–", StatusError: "!"}

// statusRank orders classes from worst, for a cell holding several runs.
var statusRank = map[string]int{StatusError: 0, StatusFail: 1, classXFail: 2, StatusSkip: 3, StatusPass: 4}

// runClass is how the page shows run: its status, or an expected failure.
func runClass(run Run) string {
	st := status(run)
	if st == StatusFail && run.ExpectedFailure {
		return classXFail
	}
	return st
}

// expectationsCheck is the pseudo-check under which a run reports the
// scenario's own expected outcomes and counts.
const expectationsCheck = "expectations"

// newPage computes the page of r and its runs' sections, packed in chunks
// (one a scenario; each base64url text of a gzip stream, see pack).
func newPage(r *Results) (page, []string, error) {
	t := count(r)
	p := page{
		Tally: t, Tool: r.Tool, Wall: wall(t.Wall), Sim: compact(t.Sim), LabelFilter: r.LabelFilter,
		Title: "oauthsim conformance: " + t.verdict(), Verdict: t.verdict(),
		Script: template.JS(indexScript),
	}
	if !r.StartedAt.IsZero() {
		p.Started = r.StartedAt.Format(time.RFC3339)
	}
	clients, scenarios := axes(r)
	slices.Sort(clients)
	slices.Sort(scenarios)
	described := make(map[string]Scenario, len(r.Scenarios))
	for _, s := range r.Scenarios {
		described[s.Name] = s
	}
	for _, name := range scenarios {
		s := described[name]
		p.Scenarios = append(p.Scenarios, scenarioHead{Name: name, Tip: strings.TrimSpace(name + "\n" + s.Description + "\n" + s.File)})
	}
	for _, c := range r.Clients {
		if c.Unmet != "" {
			p.Unmet = append(p.Unmet, c.Name+" "+c.Unmet)
		}
	}
	slices.Sort(p.Unmet)
	runs := sortedRuns(r)
	p.Rows = matrix(r, runs, clients, scenarios)
	failures := failuresByCheck(r)
	for _, c := range r.Checks {
		p.Checks = append(p.Checks, checkRow{ID: c.ID, Rationale: c.Rationale, Failed: failures[c.ID]})
	}
	p.Legend = legend()
	p.Monitoring = monitoring(r, clients, 0)
	chunks, where, err := packRuns(runs, scenarios, described)
	if err != nil {
		return page{}, nil, err
	}
	p.Index = newRunIndex(r, runs, clients, scenarios, where)
	sum := sha256.New()
	for _, c := range chunks {
		io.WriteString(sum, c)
		sum.Write([]byte{0})
	}
	p.Index.Data = hex.EncodeToString(sum.Sum(nil)[:12])
	return p, chunks, nil
}

// packRuns renders the runs' sections and packs them, one chunk a
// scenario: its runs repeat each other across clients, which deflate's
// 32 KiB window only sees when they sit side by side. where tells, for
// each run, its chunk and its position in it.
func packRuns(runs []Run, scenarios []string, described map[string]Scenario) (chunks []string, where [][2]int, err error) {
	byScenario := map[string][]int{}
	for i, run := range runs {
		byScenario[run.Scenario] = append(byScenario[run.Scenario], i)
	}
	where = make([][2]int, len(runs))
	for _, name := range scenarios {
		var sections [][]string
		for pos, i := range byScenario[name] {
			parts, err := runSection(i, runs[i], described[name])
			if err != nil {
				return nil, nil, fmt.Errorf("index.html: run %s × %s: %w", runs[i].Client, name, err)
			}
			sections = append(sections, parts)
			where[i] = [2]int{len(chunks), pos}
		}
		packed, err := pack(sections)
		if err != nil {
			return nil, nil, err
		}
		chunks = append(chunks, packed)
	}
	return chunks, where, nil
}

// newRunIndex lists runs for the page's script, each with the place of its
// section (where, from packRuns).
func newRunIndex(r *Results, runs []Run, clients, scenarios []string, where [][2]int) runIndex {
	index := runIndex{Clients: clients, Scenarios: scenarios, Labels: runLabel}
	checkNo := map[string]int{}
	number := func(check string) int {
		n, ok := checkNo[check]
		if !ok {
			n = len(index.Checks)
			checkNo[check] = n
			index.Checks = append(index.Checks, check)
		}
		return n
	}
	for _, c := range r.Checks {
		number(c.ID)
	}
	clientNo, scenarioNo := position(clients), position(scenarios)
	for i, run := range runs {
		bad := []int{} // a JSON list, not null, when none failed
		for _, v := range rankFailed(failed(run)) {
			bad = append(bad, number(v.Check))
		}
		index.Runs = append(index.Runs, runIndexRow{clientNo[run.Client], scenarioNo[run.Scenario], runClass(run), bad, where[i][0], where[i][1]})
	}
	return index
}

// sortedRuns is r.Runs by client, then scenario, whatever order the
// harness finished them in, so that two reports of one run read alike.
func sortedRuns(r *Results) []Run {
	runs := slices.Clone(r.Runs)
	slices.SortStableFunc(runs, func(a, b Run) int {
		return cmp.Or(cmp.Compare(a.Client, b.Client), cmp.Compare(a.Scenario, b.Scenario))
	})
	return runs
}

// position maps each name to its index.
func position(names []string) map[string]int {
	m := make(map[string]int, len(names))
	for i, n := range names {
		m[n] = i
	}
	return m
}

// pack is the sections of a chunk's runs as the page carries them: a JSON
// array of the sections' first parts, then of their second parts and so
// on (like parts of runs of one scenario side by side compress best),
// gzip-compressed and base64url-encoded, whose characters need no escaping
// in a script. The page's script joins a run's parts into its section.
func pack(sections [][]string) (string, error) {
	byPart := make([][]string, len(runParts))
	for _, s := range sections {
		for j := range byPart {
			byPart[j] = append(byPart[j], s[j])
		}
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false) // no HTML parser reads it
	if err := enc.Encode(byPart); err != nil {
		return "", fmt.Errorf("index.html: pack runs: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("index.html: pack runs: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// runParts are the templates that draw a run's section, in order; they
// are packed apart (see pack).
var runParts = []string{"run-head", "run-timeline", "run-steps", "run-tail"}

// runSection renders the parts of the section of run i.
func runSection(i int, run Run, s Scenario) ([]string, error) {
	v := newRunView(i, run, s)
	parts := make([]string, len(runParts))
	for j, name := range runParts {
		var b strings.Builder
		if err := indexTemplate.ExecuteTemplate(&b, name, v); err != nil {
			return nil, err
		}
		// html/template writes "+" as "&#43;" in text; the character
		// needs no escaping in HTML, and offsets are full of it.
		parts[j] = strings.ReplaceAll(b.String(), "&#43;", "+")
	}
	return parts, nil
}

// matrix is a row per client and a cell per scenario, each cell coloured
// by the worst of its runs and linking to every one of them; runs are in
// page order (sortedRuns).
func matrix(r *Results, runs []Run, clients, scenarios []string) []matrixRow {
	var rows []matrixRow
	byName := make(map[string]Client, len(r.Clients))
	for _, c := range r.Clients {
		byName[c.Name] = c
	}
	cells := make(map[cellKey][]int, len(runs))
	for i, run := range runs {
		k := cellKey{run.Client, run.Scenario}
		cells[k] = append(cells[k], i)
	}
	for _, client := range clients {
		c := byName[client]
		tip := strings.TrimSpace(c.Description + "\n" + strings.Join(c.Capabilities, ", "))
		if c.Unmet != "" {
			tip = client + " " + c.Unmet + ": a failure\n" + tip
		} else if c.ExpectFail {
			tip = "expected to fail (--expect-fail)\n" + tip
		}
		row := matrixRow{Client: client, Version: c.Version, Tip: tip, ExpectFail: c.ExpectFail, Unmet: c.Unmet}
		for _, scenario := range scenarios {
			cell := matrixCell{Class: "none"}
			var classes, checks []string
			for _, i := range cells[cellKey{client, scenario}] {
				run := runs[i]
				cls := runClass(run)
				if cell.Class == "none" || statusRank[cls] < statusRank[cell.Class] {
					cell.Class = cls
				}
				classes = appendNew(classes, cls)
				tip := fmt.Sprintf("%s × %s: %s", client, scenario, runLabel[cls])
				if bad := rankFailed(failed(run)); len(bad) > 0 {
					ids := make([]string, len(bad))
					for j, v := range bad {
						ids[j] = v.Check
						checks = appendNew(checks, v.Check)
					}
					tip += " (" + strings.Join(ids, ", ") + ")"
				} else if run.Reason != "" {
					tip += ": " + firstLine(run.Reason)
				}
				cell.Links = append(cell.Links, cellLink{Href: runID(i), Symbol: statusSymbol[cls], Tip: tip})
			}
			cell.Statuses, cell.Checks = strings.Join(classes, " "), strings.Join(checks, " ")
			row.Cells = append(row.Cells, cell)
		}
		rows = append(rows, row)
	}
	return rows
}

func runID(i int) string { return fmt.Sprintf("run-%d", i) }

// rankFailed orders failed verdicts for a reader: the named checks, each
// written for one kind of bug, before the scenario's expectations, which
// fail as a consequence of nearly any bug and would bury the cause.
func rankFailed(vs []Verdict) []Verdict {
	return slices.SortedStableFunc(slices.Values(vs), func(a, b Verdict) int {
		return cmpBool(a.Check == expectationsCheck, b.Check == expectationsCheck)
	})
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

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
	cls := runClass(run)
	v := runView{
		ID: runID(i), Client: run.Client, Scenario: run.Scenario, Class: cls, Label: runLabel[cls], Reason: run.Reason,
		Description: s.Description, Reproduces: s.Reproduces,
		Wall: wall(time.Duration(run.Duration)), Output: run.Output,
	}
	if run.SimEnd.After(run.SimStart) {
		v.SimSpan = compact(run.SimEnd.Sub(run.SimStart))
	}
	if !o.IsZero() {
		v.Start = absolute(o)
	}
	bad := rankFailed(failed(run))
	hit := map[uint64]bool{}
	for _, c := range bad {
		for _, seq := range c.Events {
			hit[seq] = true
		}
	}
	for _, c := range run.Checks {
		switch c.Status {
		case StatusPass:
			v.Passed = append(v.Passed, c.Check)
		case StatusFail:
			// Listed below from bad, in its ranking.
		default:
			v.Other = append(v.Other, newVerdictView(v.ID, c, hit))
		}
	}
	for j, c := range bad {
		vv := newVerdictView(v.ID, c, hit)
		vv.First = j == 0
		v.Failed = append(v.Failed, vv)
	}
	v.Ranked = len(bad) > 1 && bad[len(bad)-1].Check == expectationsCheck
	v.Timeline = newTimeline(run, o, hit)
	if run.Metrics != nil {
		v.Metrics = run.Metrics.summary()
	}
	for _, s := range run.Steps {
		v.Steps = append(v.Steps, newStepView(s, o))
	}
	if cls == StatusFail || cls == classXFail || cls == StatusError || len(hit) > 0 {
		evs := slices.Clone(run.Events)
		slices.SortStableFunc(evs, func(a, b events.Event) int { return cmp.Compare(a.Seq, b.Seq) })
		for _, e := range evs {
			row := eventRow{
				Seq: e.Seq, At: exact(e.Time.Sub(o)),
				Kind: string(e.Kind), Facts: strings.Join(eventFacts(e, o), " · "),
			}
			if hit[e.Seq] {
				row.ID = eventID(v.ID, e.Seq)
			}
			v.Events = append(v.Events, row)
		}
	}
	return v
}

func eventID(run string, seq uint64) string { return fmt.Sprintf("%s-e%d", run, seq) }

// newVerdictView groups c's message lines and links each event it points
// at once, however many of its lines point there.
func newVerdictView(run string, c Verdict, hit map[uint64]bool) verdictView {
	vv := verdictView{Check: c.Check, Status: c.Status, Lines: groupLines(c.Message)}
	seen := map[uint64]bool{}
	for _, seq := range c.Events {
		if seen[seq] {
			continue
		}
		seen[seq] = true
		ref := eventRef{Label: fmt.Sprintf("#%d", seq)}
		if hit[seq] {
			ref.Href = eventID(run, seq)
		}
		vv.Events = append(vv.Events, ref)
	}
	return vv
}

// atOffset finds the sim time a message line happened at, as the checks
// write it ("at +2h0m0.006s").
var atOffset = regexp.MustCompile(` at ([+-][0-9][0-9dhmsµn.]*)`)

// groupLines splits a message into lines and folds those identical but for
// the time they name into one, counted, with the first and last time: a
// client that failed the same way 22 times reads as one line ×22.
func groupLines(msg string) []lineView {
	type group struct {
		// text is the first line, key the lines without their time.
		text, key   string
		count       int
		first, last string
	}
	var groups []*group
	byText := map[string]*group{}
	if msg == "" {
		return nil
	}
	for _, line := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		key, at := line, ""
		if m := atOffset.FindStringSubmatchIndex(line); m != nil {
			key, at = line[:m[0]]+line[m[1]:], line[m[2]:m[3]]
		}
		g := byText[key]
		if g == nil {
			g = &group{text: line, key: key, first: at}
			groups, byText[key] = append(groups, g), g
		}
		g.count++
		g.last = at
	}
	out := make([]lineView, 0, len(groups))
	for _, g := range groups {
		lv := lineView{Count: 1, Text: cut(g.text)}
		if g.count > 1 {
			lv.Count, lv.Text = g.count, cut(g.key)
			if g.first != "" {
				lv.When = "at " + shortOffset(g.first) + "…" + shortOffset(g.last)
			}
		}
		out = append(out, lv)
	}
	return out
}

// shortOffset is an offset as the checks write it ("+2h0m0.006s") with its
// two largest units ("+2h"), or as it is when it does not parse.
func shortOffset(s string) string {
	d, err := time.ParseDuration(strings.TrimPrefix(s, "+"))
	if err != nil {
		return s
	}
	return offset(d)
}

// Lines longer than cutAbove show their first cutHead and last cutTail
// characters: a provider's error_description runs to 250 characters, and
// the specific part of it (fosite's hint) is at its end.
const cutAbove, cutHead, cutTail = 240, 150, 70

// cutCode is how far around the cut the head looks for an error code.
const cutCode = 40

// lastRune is the index of the last c in r, -1 for none.
func lastRune(r []rune, c rune) int {
	for i := len(r) - 1; i >= 0; i-- {
		if r[i] == c {
			return i
		}
	}
	return -1
}

func cut(s string) cutText {
	r := []rune(s)
	if len(r) <= cutAbove {
		return cutText{Head: s}
	}
	last := len(r) - cutTail
	end := cutHead
	// No word is split: "invalid_gr…" reads as neither.
	for end < last && !unicode.IsSpace(r[end]) {
		end++
	}
	// An error code the head ends inside, "(400 invalid_grant:", is kept
	// whole: it is the part the reader looks for first.
	if open := lastRune(r[:end], '('); open >= 0 && end-open < cutCode {
		if colon := slices.Index(r[end:min(end+cutCode, last)], ':'); colon >= 0 {
			end += colon + 1
		}
	}
	return cutText{Head: string(r[:end]), Middle: string(r[end:last]), Tail: string(r[last:])}
}

func newStepView(s Step, o time.Time) stepView {
	sv := stepView{
		Index: s.Index, Line: s.Line, Action: s.Action, Summary: s.Summary,
		Expected: s.Expected, Error: s.Error,
	}
	for _, shot := range s.Screenshots {
		// Only the PNG data URLs the harness writes: a results.json edited
		// by hand must not put another URL in an img.
		if strings.HasPrefix(shot, "data:image/png;base64,") {
			sv.Shots = append(sv.Shots, template.URL(shot))
		}
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
		if s.Expected != "" && !expectationMet(s.Expected, out) {
			ov.Class, sv.Class = "unmet", "unmet"
		}
		ov.Tip = strings.TrimSpace(offset(out.Time.Sub(o)) + "\n" + out.Detail)
		sv.Outcomes = append(sv.Outcomes, ov)
	}
	if s.Error != "" {
		sv.Class = "unmet"
	}
	return sv
}

// expectationMet reports whether out meets expected, an expectation as
// the harness writes it: alternatives joined by " or ", each an outcome
// ("reauthorize"), an outcome and the reason it must give ("reauthorize
// (revoked)"), or "any". An outcome expected without a reason is met
// whatever reason the client gave.
func expectationMet(expected string, out Outcome) bool {
	for _, alt := range strings.Split(expected, " or ") {
		result, reason, qualified := strings.Cut(strings.TrimSpace(alt), " (")
		reason = strings.TrimSuffix(reason, ")")
		if result == "any" || (result == out.Result && (!qualified || reason == out.Reason)) {
			return true
		}
	}
	return false
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
