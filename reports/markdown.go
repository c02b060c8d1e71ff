package reports

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// matrixColumns is the most status columns a Markdown table holds before
// it no longer fits a CI summary without scrolling sideways.
const matrixColumns = 8

// listedFailures bounds the failure list: a step summary is capped in size
// (1 MiB on GitHub) and past a screenful index.html is the better read.
const listedFailures = 60

// summaryLimit is the most WriteMarkdown writes: 1 MiB, the most a CI step
// summary takes on GitHub, whatever the clients said.
const summaryLimit = 1 << 20

// quoteLimit bounds, in characters, each name and message the summary
// quotes: one line each, and index.html has them whole.
const quoteLimit = 300

// statusMark is how a status reads in Markdown. An expected failure is not
// red, since it is what the run was told to expect, and a bug, since it is
// one planted or known.
var statusMark = map[string]string{StatusPass: "✅", StatusFail: "❌", statusXFail: "🐛", StatusSkip: "⏭", StatusError: "💥"}

// listedFailureKinds bounds the kinds of failed refresh named for each
// client: a row a client stays on a line, and index.html names them all.
const listedFailureKinds = 3

// listedChecks bounds the checks named for each client expected to fail.
const listedChecks = 4

// runMark is how run reads in the matrix.
func runMark(run Run) string {
	if run.ExpectedFailure && status(run) == StatusFail {
		return statusMark[statusXFail]
	}
	return statusMark[status(run)]
}

// headMark is the headline's mark, red exactly when conform exits
// non-zero, for a reader who looks no further.
func headMark(t tally) string {
	switch {
	case t.failed():
		return statusMark[StatusFail] + " "
	case t.Pass+t.XFail > 0:
		return statusMark[StatusPass] + " "
	}
	return ""
}

// markedCounts is t by status, each count marked and worded as in the
// headline: "✅ 3 passed".
func markedCounts(t tally) []string {
	var out []string
	for _, c := range t.byStatus(t.XFail > 0) {
		out = append(out, fmt.Sprintf("%s %d %s", statusMark[c.status], c.n, c.word))
	}
	return out
}

// WriteMarkdown writes r as a CI step summary: a headline with the totals,
// the clients expected to fail that did not, the client × scenario matrix
// (or counts per client when the matrix would be too wide), the failed
// checks of every run, which checks caught each client expected to fail,
// and the checks' rationales. Expected failures are counted and marked as
// such, never listed or marked as failures.
func WriteMarkdown(w io.Writer, r *Results) error {
	var b bytes.Buffer
	t := count(r)
	fmt.Fprintf(&b, "## oauthsim conformance: %s%s\n\n", headMark(t), t.verdict())
	fmt.Fprintf(&b, "**%d runs**: %s — %d clients × %d scenarios · wall time %s · sim time covered %s\n\n",
		t.Runs, strings.Join(markedCounts(t), " · "), t.Clients, t.Scenarios, wall(t.Wall), compact(t.Sim))
	if r.LabelFilter != "" {
		fmt.Fprintf(&b, "Label filter %s: only the specs it selects judged these runs.\n\n", code(r.LabelFilter))
	}
	writeMarkdownUnmet(&b, r)

	writeMarkdownMatrix(&b, r)
	writeMarkdownProblems(&b, r)
	writeMarkdownExpected(&b, r)
	writeMarkdownMonitoring(&b, r)

	if len(r.Checks) > 0 {
		failures, caught := failuresByCheck(r), expectedByCheck(r)
		if t.XFail > 0 {
			b.WriteString("### Checks\n\n| check | failed runs | runs " + expectedAndDid + " | why it matters |\n|---|--:|--:|---|\n")
		} else {
			b.WriteString("### Checks\n\n| check | failed runs | why it matters |\n|---|--:|---|\n")
		}
		for _, c := range r.Checks {
			if t.XFail > 0 {
				fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", code(c.ID), failures[c.ID], caught[c.ID], md(c.Rationale))
			} else {
				fmt.Fprintf(&b, "| %s | %d | %s |\n", code(c.ID), failures[c.ID], md(c.Rationale))
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "<sub>oauthsim %s · started %s · details in index.html, data in results.json</sub>\n", md(r.Tool), r.StartedAt.UTC().Format("2006-01-02 15:04:05 MST"))
	_, err := w.Write(limit(b.Bytes()))
	return err
}

// summaryCut ends a summary cut at summaryLimit.
const summaryCut = "\n**This summary is cut here**, at 1 MiB, the most a CI step summary takes: " +
	"the whole report is index.html, and the data results.json, beside summary.md.\n"

// limit is summary whole when it fits in summaryLimit, else cut at the
// end of a line and closed with summaryCut.
func limit(summary []byte) []byte {
	if len(summary) <= summaryLimit {
		return summary
	}
	kept := summary[:summaryLimit-len(summaryCut)]
	kept = kept[:bytes.LastIndexByte(kept, '\n')+1]
	return append(kept, summaryCut...)
}

// writeMarkdownUnmet lists the clients expected to fail that did not, at
// the top: each is a failure, and the most likely one to be missed.
func writeMarkdownUnmet(b *bytes.Buffer, r *Results) {
	var lines []string
	for _, c := range r.Clients {
		if c.Unmet != "" {
			lines = append(lines, fmt.Sprintf("- **%s** %s", md(c.Name), md(c.Unmet)))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "### ❌ Clients %s\n\n%s\n\n", expectedAndDidNot, strings.Join(lines, "\n"))
	b.WriteString("They are broken on purpose (--expect-fail), so the checks should have caught them: either one is not broken the way it was meant to be, or a check no longer catches what it was written for.\n\n")
}

// writeMarkdownMatrix writes the matrix with scenarios as columns, or with
// clients as columns when there are few clients and many scenarios, or
// else a row of counts per client.
func writeMarkdownMatrix(b *bytes.Buffer, r *Results) {
	clients, scenarios := axes(r)
	cells := runsByCell(r)
	mark := func(client, scenario string) string {
		var marks []string
		for _, i := range cells[cellKey{client, scenario}] {
			marks = append(marks, runMark(r.Runs[i]))
		}
		if len(marks) == 0 {
			return "·"
		}
		return strings.Join(marks, " ")
	}
	described := make(map[string]Client, len(r.Clients))
	for _, c := range r.Clients {
		described[c.Name] = c
	}
	clientHead := func(name string) string {
		head := md(name)
		if v := described[name].Version; v != "" {
			head += " " + md(v)
		}
		if described[name].ExpectFail {
			// Its row is full of expected failures: say why up front.
			head += " (expected to fail)"
		}
		return head
	}
	switch {
	case len(scenarios) <= matrixColumns:
		table(b, "client", scenarios, md, clients, clientHead, func(row, col string) string { return mark(row, col) })
	case len(clients) <= matrixColumns:
		table(b, "scenario", clients, clientHead, scenarios, md, func(row, col string) string { return mark(col, row) })
	default:
		byClient := make(map[string]*tally, len(clients))
		for _, c := range clients {
			byClient[c] = &tally{}
		}
		for _, run := range r.Runs {
			byClient[run.Client].add(run)
		}
		xfail := count(r).XFail > 0
		b.WriteString("| client |")
		for _, c := range (tally{}).byStatus(xfail) {
			b.WriteString(" " + statusMark[c.status] + " " + c.word + " |")
		}
		b.WriteString("\n|---|" + strings.Repeat("--:|", len((tally{}).byStatus(xfail))) + "\n")
		for _, c := range clients {
			b.WriteString("| " + clientHead(c) + " |")
			for _, n := range byClient[c].byStatus(xfail) {
				fmt.Fprintf(b, " %d |", n.n)
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
}

// table writes a Markdown table of cell(row, col) with headed rows and columns.
func table(b *bytes.Buffer, corner string, cols []string, colHead func(string) string, rows []string, rowHead func(string) string, cell func(row, col string) string) {
	b.WriteString("| " + corner + " |")
	for _, c := range cols {
		b.WriteString(" " + colHead(c) + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat(":-:|", len(cols)) + "\n")
	for _, row := range rows {
		b.WriteString("| " + rowHead(row) + " |")
		for _, c := range cols {
			b.WriteString(" " + cell(row, c) + " |")
		}
		b.WriteString("\n")
	}
}

// writeMarkdownProblems lists every failed check of every run, one line
// each, and every run that errored.
func writeMarkdownProblems(b *bytes.Buffer, r *Results) {
	var failures, errs, unexercised []string
	for _, run := range r.Runs {
		where := md(run.Client) + " × " + md(run.Scenario)
		if len(run.Unexercised) > 0 {
			unexercised = append(unexercised, fmt.Sprintf("- %s: fault %s never fired on its requests", where, md(strings.Join(run.Unexercised, ", "))))
		}
		switch {
		case run.ExpectedFailure:
			// writeMarkdownExpected counts them: they are not failures.
		case status(run) == StatusFail:
			bad := failed(run)
			if len(bad) == 0 {
				failures = append(failures, fmt.Sprintf("- %s: %s", where, md(firstLine(run.Reason))))
			}
			for _, v := range bad {
				failures = append(failures, fmt.Sprintf("- %s: %s — %s", where, code(v.Check), md(firstLine(v.Message))))
			}
		case status(run) == StatusError:
			errs = append(errs, fmt.Sprintf("- %s: %s", where, md(firstLine(run.Reason))))
		}
	}
	list := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(b, "### %s\n\n", title)
		shown := lines[:min(len(lines), listedFailures)]
		b.WriteString(strings.Join(shown, "\n") + "\n")
		if rest := len(lines) - len(shown); rest > 0 {
			fmt.Fprintf(b, "- … and %d more in index.html\n", rest)
		}
		b.WriteString("\n")
	}
	list("Failures", failures)
	list("Errors", errs)
	// A scenario that never met the client with what it was written for
	// has not judged it: such a run is no pass, and the reader hears why.
	list("Not exercised", unexercised)
}

// writeMarkdownExpected says, for each client expected to fail, how many of
// its runs failed as expected and which checks caught it, most often first:
// one line a client, since the details are in index.html.
func writeMarkdownExpected(b *bytes.Buffer, r *Results) {
	runs, failedRuns := map[string]int{}, map[string]int{}
	caught := map[string]map[string]int{}
	for _, run := range r.Runs {
		runs[run.Client]++
		if !run.ExpectedFailure || status(run) != StatusFail {
			continue
		}
		failedRuns[run.Client]++
		if caught[run.Client] == nil {
			caught[run.Client] = map[string]int{}
		}
		for _, v := range failed(run) {
			caught[run.Client][v.Check]++
		}
	}
	order := make(map[string]int, len(r.Checks))
	for i, c := range r.Checks {
		order[c.ID] = i
	}
	clients, _ := axes(r)
	var lines []string
	for _, client := range clients {
		if failedRuns[client] == 0 {
			continue
		}
		by := caught[client]
		checks := slices.Collect(maps.Keys(by))
		slices.SortFunc(checks, func(x, y string) int {
			return cmp.Or(by[y]-by[x], order[x]-order[y], strings.Compare(x, y))
		})
		var named []string
		for _, id := range checks[:min(len(checks), listedChecks)] {
			named = append(named, fmt.Sprintf("%s ×%d", code(id), by[id]))
		}
		line := fmt.Sprintf("- %s: %d of %d runs", md(client), failedRuns[client], runs[client])
		if len(named) > 0 {
			line += ", caught by " + strings.Join(named, ", ")
		}
		if rest := len(checks) - len(named); rest > 0 {
			line += fmt.Sprintf(" and %s", plural(rest, "other check", "other checks"))
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "### %s Clients %s\n\nBroken on purpose (--expect-fail): their failed runs are expected failures, not failures.\n\n", statusMark[statusXFail], expectedAndDid)
	b.WriteString(strings.Join(lines, "\n") + "\n\n")
}

// writeMarkdownMonitoring writes each client's refresh figures over all its
// runs, a row a client; nothing when no run has figures.
func writeMarkdownMonitoring(b *bytes.Buffer, r *Results) {
	clients, _ := axes(r)
	rows := monitoring(r, clients, listedFailureKinds)
	if len(rows) == 0 {
		return
	}
	b.WriteString("### Monitoring\n\nRefreshes over all runs: those failed (no tokens back) by kind, latency from arrival to answer, " +
		"and time to refresh, before the expiry of the access token replaced (negative: after it). Each run's in index.html.\n\n")
	b.WriteString("| client | refreshes | failed | latency median · p95 · max | time to refresh min · median |\n|---|--:|---|--:|--:|\n")
	for _, f := range rows {
		fmt.Fprintf(b, "| %s | %d | %s | %s · %s · %s | %s · %s |\n", md(f.Client), f.Refreshes, md(f.Failed),
			md(f.LatencyMedian), md(f.LatencyP95), md(f.LatencyMax), md(f.AheadMin), md(f.AheadMedian))
	}
	b.WriteString("\n")
}

// mdEscaper keeps names and messages from turning into markup, table
// columns or raw HTML in the rendered summary.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "|", `\|`, "#", `\#`, "~", `\~`,
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", " ", "\n", " ",
)

// md is s as literal Markdown text on one line, its first quoteLimit
// characters when it is longer.
func md(s string) string { return mdEscaper.Replace(clipQuote(s)) }

// code is s as a code span; backslash escapes do not work inside one, so
// what would end it or the table cell is replaced instead.
func code(s string) string {
	return "`" + strings.NewReplacer("`", "'", "|", `\|`, "\n", " ", "\r", " ").Replace(clipQuote(s)) + "`"
}

// clipQuote is s, or its first quoteLimit characters and an ellipsis.
func clipQuote(s string) string {
	i, n := 0, 0
	for i < len(s) && n < quoteLimit {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	if i == len(s) {
		return s
	}
	return s[:i] + "…"
}
