package reports

import (
	"bytes"
	"fmt"
	"io"
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

// statusMark is how a status reads in Markdown.
var statusMark = map[string]string{StatusPass: "✅", StatusFail: "❌", StatusSkip: "⏭", StatusError: "💥"}

// WriteMarkdown writes r as a CI step summary: a headline with the totals,
// the client × scenario matrix (or counts per client when the matrix would
// be too wide), the failed checks of every run and the checks' rationales.
func WriteMarkdown(w io.Writer, r *Results) error {
	var b bytes.Buffer
	t := count(r)
	fmt.Fprintf(&b, "## oauthsim conformance: %s\n\n", t.verdict())
	fmt.Fprintf(&b, "**%d runs**: %s %d passed · %s %d failed · %s %d skipped · %s %d errored — %d clients × %d scenarios · wall time %s · sim time covered %s\n\n",
		t.Runs, statusMark[StatusPass], t.Pass, statusMark[StatusFail], t.Fail, statusMark[StatusSkip], t.Skip, statusMark[StatusError], t.Error,
		t.Clients, t.Scenarios, wall(t.Wall), compact(t.Sim))
	if r.LabelFilter != "" {
		fmt.Fprintf(&b, "Label filter %s: only the specs it selects judged these runs.\n\n", code(r.LabelFilter))
	}

	writeMarkdownMatrix(&b, r)
	writeMarkdownProblems(&b, r)

	if len(r.Checks) > 0 {
		failures := failuresByCheck(r)
		b.WriteString("### Checks\n\n| check | failed runs | why it matters |\n|---|--:|---|\n")
		for _, c := range r.Checks {
			fmt.Fprintf(&b, "| %s | %d | %s |\n", code(c.ID), failures[c.ID], md(c.Rationale))
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

// writeMarkdownMatrix writes the matrix with scenarios as columns, or with
// clients as columns when there are few clients and many scenarios, or
// else a row of counts per client.
func writeMarkdownMatrix(b *bytes.Buffer, r *Results) {
	clients, scenarios := axes(r)
	cells := runsByCell(r)
	mark := func(client, scenario string) string {
		var marks []string
		for _, i := range cells[cellKey{client, scenario}] {
			marks = append(marks, statusMark[status(r.Runs[i])])
		}
		if len(marks) == 0 {
			return "·"
		}
		return strings.Join(marks, " ")
	}
	versions := make(map[string]string, len(r.Clients))
	for _, c := range r.Clients {
		versions[c.Name] = c.Version
	}
	clientHead := func(name string) string {
		if v := versions[name]; v != "" {
			return md(name) + " " + md(v)
		}
		return md(name)
	}
	switch {
	case len(scenarios) <= matrixColumns:
		table(b, "client", scenarios, md, clients, clientHead, func(row, col string) string { return mark(row, col) })
	case len(clients) <= matrixColumns:
		table(b, "scenario", clients, clientHead, scenarios, md, func(row, col string) string { return mark(col, row) })
	default:
		b.WriteString("| client | " + strings.Join([]string{statusMark[StatusPass], statusMark[StatusFail], statusMark[StatusSkip], statusMark[StatusError]}, " | ") + " |\n|---|--:|--:|--:|--:|\n")
		byClient := make(map[string]*tally, len(clients))
		for _, c := range clients {
			byClient[c] = &tally{}
		}
		for _, run := range r.Runs {
			byClient[run.Client].add(run)
		}
		for _, c := range clients {
			t := byClient[c]
			fmt.Fprintf(b, "| %s | %d | %d | %d | %d |\n", clientHead(c), t.Pass, t.Fail, t.Skip, t.Error)
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
		switch status(run) {
		case StatusFail:
			bad := failed(run)
			if len(bad) == 0 {
				failures = append(failures, fmt.Sprintf("- %s: %s", where, md(firstLine(run.Reason))))
			}
			for _, v := range bad {
				failures = append(failures, fmt.Sprintf("- %s: %s — %s", where, code(v.Check), md(firstLine(v.Message))))
			}
		case StatusError:
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
