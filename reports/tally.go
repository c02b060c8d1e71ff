package reports

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds what the four writers share: the totals of a headline,
// the matrix axes, verdict ordering and how times are shown to people.

// tally is what every report's headline says.
type tally struct {
	// Fail counts failures; XFail the failed runs of clients expected to
	// fail (Run.ExpectedFailure), which Fail leaves out.
	Runs, Pass, Fail, XFail, Skip, Error int
	// Unmet counts the clients expected to fail that did not.
	Unmet int
	// Unexercised counts the runs a fault of their scenario never met.
	Unexercised        int
	Clients, Scenarios int
	// Wall is the wall time of the whole conformance run; Sim the sim time
	// the scenarios cover: each scenario's longest run once, however many
	// clients ran it (they all go through the same timeline).
	Wall, Sim time.Duration
}

// count totals r for the headlines.
func count(r *Results) tally {
	clients, scenarios := axes(r)
	t := tally{Runs: len(r.Runs), Clients: len(clients), Scenarios: len(scenarios), Wall: time.Duration(r.Duration)}
	longest := map[string]time.Duration{}
	for _, run := range r.Runs {
		t.add(run)
		if span := run.SimEnd.Sub(run.SimStart); span > longest[run.Scenario] {
			longest[run.Scenario] = span
		}
	}
	for _, span := range longest {
		t.Sim += span
	}
	for _, c := range r.Clients {
		if c.Unmet != "" {
			t.Unmet++
		}
	}
	return t
}

// Tally is the one-line count of r's runs by status, for a terminal: the
// numbers every report's headline gives, in the words they use.
func Tally(r *Results) string {
	t := count(r)
	var counts []string
	for _, c := range t.byStatus(t.XFail > 0) {
		counts = append(counts, fmt.Sprintf("%d %s", c.n, c.word))
	}
	runs := "runs"
	if t.Runs == 1 {
		runs = "run"
	}
	line := fmt.Sprintf("%d %s: %s, in %s", t.Runs, runs, strings.Join(counts, ", "), t.Wall.Round(time.Millisecond))
	if t.Unmet > 0 {
		line += "; " + t.unmet()
	}
	if t.Unexercised > 0 {
		// Those runs are skipped when their checks held, and failed when
		// not; either way the reader should know the scenario missed them.
		line += fmt.Sprintf("; %d not exercised by a fault of their scenario (summary.md lists them)", t.Unexercised)
	}
	return line
}

// The words for a run and a client given --expect-fail, the same in every
// report: a broken client is "expected to fail", and it either "did" (its
// failed runs) or "did not" (the client, which fails the whole run).
const (
	expectedAndDid    = "expected to fail and did"
	expectedAndDidNot = "expected to fail and did not"
)

// unmet counts the clients expected to fail that did not.
func (t tally) unmet() string {
	return plural(t.Unmet, "client", "clients") + " " + expectedAndDidNot
}

// failed tells whether the tally holds a failure: what makes conform exit
// non-zero (Results.Problems) and junit.xml red.
func (t tally) failed() bool { return t.Fail+t.Error+t.Unmet > 0 }

// verdict is the headline's one-line judgement. It says "failed" exactly
// when the results hold a failure, so that a headline never contradicts
// the exit status; expected failures are counted, not judged.
func (t tally) verdict() string {
	switch {
	case t.Runs == 0:
		return "no runs"
	case t.failed():
		var problems []string
		if t.Unmet > 0 {
			// First: one such client is a bug in the suite's checks.
			problems = append(problems, t.unmet())
		}
		switch {
		case t.Fail > 0 && t.Error > 0:
			problems = append(problems, fmt.Sprintf("%d of %d runs failed, %d errored", t.Fail, t.Runs, t.Error))
		case t.Fail > 0:
			problems = append(problems, fmt.Sprintf("%d of %d runs failed", t.Fail, t.Runs))
		case t.Error > 0:
			problems = append(problems, fmt.Sprintf("%d of %d runs errored", t.Error, t.Runs))
		}
		return strings.Join(problems, "; ")
	case t.Pass == 0 && t.XFail == 0:
		return "no run passed"
	case t.Pass == t.Runs:
		return "all runs passed"
	}
	// Not "all runs passed": some were skipped or failed as expected, and
	// the counts say which.
	line := "no failures — " + t.counts()
	if t.Unexercised > 0 {
		// Those runs judged nothing of what their scenario was written for.
		line += fmt.Sprintf("; %d of %d runs not exercised by their scenario", t.Unexercised, t.Runs)
	}
	return line
}

// counts lists the statuses t holds, in the tally's words and order.
func (t tally) counts() string {
	var parts []string
	for _, c := range t.byStatus(true) {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.word))
		}
	}
	return strings.Join(parts, ", ")
}

// statusXFail stands for an expected failure where the reports key by
// status: a run's Status is still StatusFail.
const statusXFail = "xfail"

// statusCount is the count of one status, and its word in the headlines.
type statusCount struct {
	status, word string
	n            int
}

// byStatus is t by status, in the order and words of every headline;
// with xfail, expected failures come after failures. Runs not given
// --expect-fail have none, and their reports are spared the term.
func (t tally) byStatus(xfail bool) []statusCount {
	out := []statusCount{{StatusPass, "passed", t.Pass}, {StatusFail, "failed", t.Fail}}
	if xfail {
		out = append(out, statusCount{statusXFail, expectedAndDid, t.XFail})
	}
	return append(out, statusCount{StatusSkip, "skipped", t.Skip}, statusCount{StatusError, "errored", t.Error})
}

// plural is n and the noun for it: "1 client", "2 clients".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// add counts run.
func (t *tally) add(run Run) {
	if len(run.Unexercised) > 0 {
		t.Unexercised++
	}
	switch status(run) {
	case StatusPass:
		t.Pass++
	case StatusFail:
		if run.ExpectedFailure {
			t.XFail++
		} else {
			t.Fail++
		}
	case StatusSkip:
		t.Skip++
	default:
		t.Error++
	}
}

// status is run's status, with one the reports do not know shown as an
// error: a harness bug must not look like a pass.
func status(run Run) string {
	switch run.Status {
	case StatusPass, StatusFail, StatusSkip:
		return run.Status
	}
	return StatusError
}

// axes returns the client and scenario names of the matrix: those Results
// lists, in its order, then any that only a run names, so that no run is
// left out of a matrix.
func axes(r *Results) (clients, scenarios []string) {
	for _, c := range r.Clients {
		clients = appendNew(clients, c.Name)
	}
	for _, s := range r.Scenarios {
		scenarios = appendNew(scenarios, s.Name)
	}
	for _, run := range r.Runs {
		clients = appendNew(clients, run.Client)
		scenarios = appendNew(scenarios, run.Scenario)
	}
	return clients, scenarios
}

func appendNew(names []string, name string) []string {
	if slices.Contains(names, name) {
		return names
	}
	return append(names, name)
}

// cellKey finds the runs of one matrix cell.
type cellKey struct{ client, scenario string }

// runsByCell indexes r.Runs by client and scenario. A cell usually holds
// one run, but nothing forbids a harness from repeating one.
func runsByCell(r *Results) map[cellKey][]int {
	cells := make(map[cellKey][]int, len(r.Runs))
	for i, run := range r.Runs {
		k := cellKey{run.Client, run.Scenario}
		cells[k] = append(cells[k], i)
	}
	return cells
}

// failed returns the verdicts of run that failed, in check order.
func failed(run Run) []Verdict {
	var out []Verdict
	for _, v := range run.Checks {
		if v.Status == StatusFail {
			out = append(out, v)
		}
	}
	return out
}

// failuresByCheck counts the runs each check failed, leaving out expected
// failures: those are the broken clients' (expectedByCheck).
func failuresByCheck(r *Results) map[string]int { return checkFailures(r, false) }

// expectedByCheck counts the expected failures each check failed: which
// checks caught the clients broken on purpose.
func expectedByCheck(r *Results) map[string]int { return checkFailures(r, true) }

// checkFailures counts, per check, the failed runs whose ExpectedFailure is
// expected.
func checkFailures(r *Results, expected bool) map[string]int {
	n := make(map[string]int, len(r.Checks))
	for _, run := range r.Runs {
		if run.ExpectedFailure != expected {
			continue
		}
		for _, v := range failed(run) {
			n[v.Check]++
		}
	}
	return n
}

// rationales maps check ids to their rationale.
func rationales(r *Results) map[string]string {
	m := make(map[string]string, len(r.Checks))
	for _, c := range r.Checks {
		m[c.ID] = c.Rationale
	}
	return m
}

// firstLine is the first line of s, for places with room for one.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}

// offset shows a sim time relative to the start of its run with the two
// largest units ("+1h2m", "+7d1h", "+3.2s"), truncated rather than rounded
// so that labels never run ahead of the events they mark.
func offset(d time.Duration) string { return offsetIn(d, 2) }

// offsetIn is offset with up to n units.
func offsetIn(d time.Duration, n int) string {
	if d < 0 {
		return "-" + compactIn(-d, n)
	}
	return "+" + compactIn(d, n)
}

// compact is d with its two largest units, counting days, which
// time.Duration.String does not.
func compact(d time.Duration) string { return compactIn(d, 2) }

var durationUnits = []struct {
	d    time.Duration
	name string
}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}}

// compactIn is d with up to n units from the largest it has, seconds and
// milliseconds written as one decimal number ("1h0m1.05s").
func compactIn(d time.Duration, n int) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return d.String()
	}
	first := 0
	for d < durationUnits[first].d {
		first++
	}
	last := min(first+n, len(durationUnits)) - 1
	values := make([]int64, last+1)
	for i := first; i <= last; i++ {
		values[i] = int64(d / durationUnits[i].d)
		d %= durationUnits[i].d
	}
	for last > first && values[last] == 0 {
		last--
	}
	var b strings.Builder
	for i := first; i <= last; i++ {
		if durationUnits[i].name == "s" && i < last {
			// In whole numbers: 1 + 503/1000 as a float64 prints as
			// 1.5030000000000001.
			b.WriteString(strconv.FormatInt(values[i], 10))
			if ms := values[i+1]; ms != 0 {
				b.WriteString("." + strings.TrimRight(fmt.Sprintf("%03d", ms), "0"))
			}
			b.WriteString("s")
			break
		}
		b.WriteString(strconv.FormatInt(values[i], 10) + durationUnits[i].name)
	}
	return b.String()
}

// exact shows an offset to the microsecond, with days, for the event log
// and tooltips, where two events a millisecond apart must read differently.
// The sim clock runs with the wall clock while a client works, so event
// times have nanoseconds, which say nothing a reader can use; truncated, as
// offset is, so that no time reads later than it was.
func exact(d time.Duration) string {
	const day = 24 * time.Hour
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	d = d.Truncate(time.Microsecond)
	if d < day {
		return sign + d.String()
	}
	return sign + strconv.FormatInt(int64(d/day), 10) + "d" + (d % day).String()
}

// absolute is the full time, shown next to an offset.
func absolute(t time.Time) string { return t.Format(time.RFC3339Nano) }

// wall shows a wall-clock duration at the precision a person reads it.
func wall(d time.Duration) string {
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}
