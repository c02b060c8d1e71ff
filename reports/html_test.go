package reports_test

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/net/html"

	"github.com/oauthsim/oauthsim/reports"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// findAll returns the elements under n that match, in document order.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// is matches elements by tag and classes.
func is(tag string, classes ...string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		if n.Data != tag {
			return false
		}
		have := strings.Fields(attr(n, "class"))
		for _, c := range classes {
			if !slices.Contains(have, c) {
				return false
			}
		}
		return true
	}
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// titleOf is the tooltip of an SVG element.
func titleOf(n *html.Node) string {
	for c := range n.ChildNodes() {
		if c.Type == html.ElementNode && c.Data == "title" {
			return text(c)
		}
	}
	return ""
}

// countingWriter measures output without keeping it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// decodedRuns reads the runs' sections of the page of r as its script
// does: from WriteRunData's file, which must name the page's id; the run
// index says where each run is in its base64url, gzip-compressed chunks,
// whose JSON holds an array for each part of a section.
func decodedRuns(doc *html.Node, r *reports.Results) []string {
	GinkgoHelper()
	found := findAll(doc, func(n *html.Node) bool { return n.Data == "script" && attr(n, "id") == "run-index" })
	Expect(found).To(HaveLen(1))
	var index struct {
		Data string
		Runs [][]any
	}
	Expect(json.Unmarshal([]byte(text(found[0])), &index)).To(Succeed())
	var file strings.Builder
	Expect(reports.WriteRunData(&file, r)).To(Succeed())
	call := regexp.MustCompile(`(?s)\noauthsimRunData\((.*)\);\n$`).FindStringSubmatch(file.String())
	Expect(call).To(HaveLen(2), "the file hands the page its data: %.200s", file.String())
	var data struct {
		ID     string
		Chunks []string
	}
	Expect(json.Unmarshal([]byte(call[1]), &data)).To(Succeed())
	Expect(data.ID).To(Equal(index.Data), "the data is the page's")
	parts := make([][][]string, len(data.Chunks))
	for i, c := range data.Chunks {
		zipped, err := base64.RawURLEncoding.DecodeString(c)
		Expect(err).NotTo(HaveOccurred())
		zr, err := gzip.NewReader(bytes.NewReader(zipped))
		Expect(err).NotTo(HaveOccurred())
		Expect(json.NewDecoder(zr).Decode(&parts[i])).To(Succeed())
	}
	var out []string
	for _, run := range index.Runs {
		c, p := int(run[4].(float64)), int(run[5].(float64))
		var b strings.Builder
		for _, part := range parts[c] {
			b.WriteString(part[p])
		}
		out = append(out, b.String())
	}
	return out
}

// pageOrder is r's runs in the order the page lists them.
func pageOrder(r *reports.Results) []reports.Run {
	return slices.SortedStableFunc(slices.Values(r.Runs), func(a, b reports.Run) int {
		return cmp.Or(cmp.Compare(a.Client, b.Client), cmp.Compare(a.Scenario, b.Scenario))
	})
}

func render(r *reports.Results) (string, *html.Node) {
	GinkgoHelper()
	var buf bytes.Buffer
	Expect(reports.WriteHTML(&buf, r)).To(Succeed())
	doc, err := html.Parse(strings.NewReader(buf.String()))
	Expect(err).NotTo(HaveOccurred())
	return buf.String(), doc
}

var _ = Describe("index.html", func() {
	var (
		r        *reports.Results
		raw      string
		doc      *html.Node
		sections []string
	)
	BeforeEach(func() {
		r = fixture()
		raw, doc = render(r)
		sections = decodedRuns(doc, r)
	})

	// runSection is the section of the page's run i, as the page's script
	// puts it in the page.
	runSection := func(i int) *html.Node {
		GinkgoHelper()
		Expect(sections).To(HaveLen(len(r.Runs)))
		frag, err := html.Parse(strings.NewReader(sections[i]))
		Expect(err).NotTo(HaveOccurred())
		found := findAll(frag, func(n *html.Node) bool { return attr(n, "id") == fmt.Sprintf("run-%d", i) })
		Expect(found).To(HaveLen(1))
		return found[0]
	}

	It("loads nothing but its runs' file beside it, and that only with a script element", func() {
		Expect(findAll(doc, is("link"))).To(BeEmpty())
		Expect(findAll(doc, func(n *html.Node) bool { return attr(n, "src") != "" })).To(BeEmpty())
		Expect(raw).NotTo(MatchRegexp(`(?i)(https?:)?//[a-z]`), "no URL to fetch")
		Expect(raw).NotTo(ContainSubstring("fetch("), "a page opened from disk may not fetch")
		Expect(raw).To(ContainSubstring(`const dataFile = "` + reports.RunDataFile + `"`))
		Expect(findAll(doc, is("style"))).To(HaveLen(1))
		Expect(findAll(doc, is("script"))).To(HaveLen(2), "the run index, and the code that shows the runs")
		for _, s := range sections {
			Expect(s).NotTo(MatchRegexp(`(?i)(https?:)?//[a-z]`))
		}
	})

	It("shows a step's screenshots, and only as PNG data URLs", func() {
		i := slices.IndexFunc(r.Runs, func(run reports.Run) bool { return len(run.Steps) > 0 })
		Expect(i).To(BeNumerically(">=", 0))
		png := "data:image/png;base64,iVBORw0KGgo="
		r.Runs[i].Steps[0].Screenshots = []string{png, "javascript:alert(1)"}
		_, doc = render(r)
		sections = decodedRuns(doc, r)
		imgs := findAll(runSection(i), is("img"))
		Expect(imgs).To(HaveLen(1))
		Expect(attr(imgs[0], "src")).To(Equal(png))
		Expect(attr(imgs[0], "alt")).To(Equal("tab 1 after this step"))
	})

	It("heads the page with the totals", func() {
		header := findAll(doc, is("header"))
		Expect(header).To(HaveLen(1))
		Expect(strings.Join(strings.Fields(text(header[0])), " ")).To(ContainSubstring(
			"oauthsim conformance: 1 of 6 runs failed, 1 errored 6 runs: 3 passed1 failed1 skipped1 errored · 2 clients × 3 scenarios · wall time 1m35s · sim time covered 7d3h"))
	})

	It("has a matrix cell per client × scenario, sorted, linking each run to its section", func() {
		matrix := findAll(doc, is("table", "matrix"))
		Expect(matrix).To(HaveLen(1))
		var heads []string
		for _, th := range findAll(matrix[0], is("th"))[1:] {
			heads = append(heads, text(th))
		}
		Expect(heads).To(Equal([]string{hostile, "refresh-storm", "rotation-basic", "go-ref", "py-lib"}))
		cells := findAll(matrix[0], is("td"))
		Expect(cells).To(HaveLen(6))
		var classes []string
		for _, c := range cells {
			classes = append(classes, attr(c, "class"))
		}
		Expect(classes).To(Equal([]string{"pass", "fail", "pass", "pass", "skip", "error"}))
		Expect(attr(cells[1], "data-k")).To(Equal("single-flight-refresh backs-off-on-429"), "what the check filter matches")
		Expect(attr(findAll(matrix[0], is("th"))[4], "title")).To(Equal("go-ref 1.2.0\nreference token manager\nrefresh, concurrency"), "the version on hover")
		links := findAll(matrix[0], is("a", "cell"))
		Expect(links).To(HaveLen(len(r.Runs)))
		for i, a := range links {
			Expect(attr(a, "href")).To(Equal(fmt.Sprintf("#run-%d", i)))
			runSection(i)
		}
		Expect(attr(links[1], "title")).To(Equal("go-ref × refresh-storm: failed (single-flight-refresh, backs-off-on-429)"))
	})

	It("is the same page whatever order the runs come in", func() {
		shuffled := fixture()
		slices.Reverse(shuffled.Runs)
		again, _ := render(shuffled)
		Expect(again).To(Equal(raw))
	})

	It("offers filters by client, scenario, failed check and status, expected failure among them", func() {
		options := func(name string) []string {
			var out []string
			sel := findAll(doc, func(n *html.Node) bool { return n.Data == "select" && attr(n, "name") == name })
			Expect(sel).To(HaveLen(1))
			for _, o := range findAll(sel[0], is("option")) {
				out = append(out, text(o))
			}
			return out
		}
		Expect(options("client")).To(Equal([]string{"all", "go-ref", "py-lib"}))
		Expect(options("scenario")).To(Equal([]string{"all", hostile, "refresh-storm", "rotation-basic"}))
		Expect(options("check")).To(Equal([]string{"any", "single-flight-refresh", "backs-off-on-429", "expectations"}))
		Expect(options("status")).To(Equal([]string{"any", "failed", "expected failure", "errored", "skipped", "passed"}))
	})

	It("links every run back to the matrix", func() {
		for i := range r.Runs {
			back := findAll(runSection(i), is("a", "back"))
			Expect(back).To(HaveLen(1))
			Expect(attr(back[0], "href")).To(Equal("#matrix"))
		}
		Expect(findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "matrix" })).To(HaveLen(1))
	})

	It("escapes a hostile scenario name everywhere", func() {
		Expect(raw).NotTo(ContainSubstring(hostile))
		Expect(raw).To(ContainSubstring("&lt;script&gt;alert(1)&lt;/script&gt;"))
		for _, s := range sections {
			Expect(s).NotTo(ContainSubstring(hostile))
			Expect(s).NotTo(ContainSubstring("<b>"), "nor does a description's markup become markup")
		}
		Expect(findAll(runSection(0), is("script"))).To(BeEmpty())
		Expect(text(findAll(runSection(0), is("h3"))[0])).To(HavePrefix("go-ref × " + hostile))
		heads := findAll(doc, func(n *html.Node) bool { return n.Data == "th" && text(n) == hostile })
		Expect(heads).To(HaveLen(1), "the name reads as itself")
	})

	It("lists the checks with their rationales", func() {
		checks := findAll(doc, is("table", "checks"))
		Expect(checks).To(HaveLen(1))
		rows := findAll(checks[0], is("tr"))
		Expect(rows).To(HaveLen(4))
		Expect(text(rows[2])).To(Equal("backs-off-on-4291Google & Entra throttle clients that retry at once."))
	})

	It("shows a run's failed checks first, with their messages and the events they point at", func() {
		items := findAll(runSection(1), is("li", "verdict"))
		Expect(items).To(HaveLen(2))
		Expect(attr(items[0], "class")).To(Equal("verdict first"))
		Expect(text(items[0])).To(HavePrefix("fail single-flight-refresh3 refreshes at +1h0m1s, at most 1 expectedthe second one raced the first"))
		Expect(text(items[0])).To(HaveSuffix("events #7, #10"))
		Expect(text(items[1])).To(HavePrefix("fail backs-off-on-429 retried 0s"))
		Expect(text(findAll(runSection(1), is("li"))[4])).To(Equal("pass expectations"))
		refs := findAll(items[0], is("a"))
		Expect(refs).To(HaveLen(2))
		Expect(attr(refs[0], "href")).To(Equal("#run-1-e7"))
		Expect(findAll(runSection(1), func(n *html.Node) bool { return attr(n, "id") == "run-1-e7" })).To(HaveLen(1))
	})

	Describe("a run whose bug buried its cause under the scenario's expectations", func() {
		const description = "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client. The refresh token was already used."
		BeforeEach(func() {
			var lines []string
			var seqs []uint64
			for h := 2; h < 24; h++ {
				lines = append(lines, fmt.Sprintf("step 3 (line 15, call the API 24 times, every 1h0m0s) at +%dh0m0.006s: expected ok, the client answered reauthorize (revoked): reauthorization required: revoked (400 invalid_grant: %s)", h, description))
				seqs = append(seqs, 7)
			}
			r.Runs[1].Checks = []reports.Verdict{
				{Check: "expectations", Status: reports.StatusFail, Message: strings.Join(lines, "\n"), Events: seqs},
				{Check: "single-flight-refresh", Status: reports.StatusFail, Message: "3 refreshes at +1h0m1s", Events: []uint64{10}},
			}
			raw, doc = render(r)
			sections = decodedRuns(doc, r)
		})

		It("puts the check written for the bug before the expectations, and says so", func() {
			items := findAll(runSection(1), is("li", "verdict"))
			Expect(items).To(HaveLen(2))
			Expect(text(items[0])).To(HavePrefix("fail single-flight-refresh"))
			Expect(attr(items[0], "class")).To(ContainSubstring("first"))
			Expect(text(items[1])).To(HavePrefix("fail expectations"))
			Expect(text(runSection(1))).To(ContainSubstring("The checks written for a bug come first"))
			Expect(attr(findAll(doc, is("a", "cell"))[1], "title")).To(HaveSuffix("(single-flight-refresh, expectations)"))
		})

		It("groups the 22 lines that differ only in their time, with one link to their one event", func() {
			item := findAll(runSection(1), is("li", "verdict"))[1]
			lines := findAll(item, func(n *html.Node) bool { return n.Data == "li" && n != item })
			Expect(lines).To(HaveLen(1))
			Expect(text(findAll(lines[0], is("span", "count"))[0])).To(Equal("×22 at +2h…+23h"))
			Expect(findAll(item, is("a"))).To(HaveLen(1))
			Expect(text(item)).To(HaveSuffix("event #7"))
		})

		It("cuts the provider's long description, keeping its end, with the full text a click away", func() {
			item := findAll(runSection(1), is("li", "verdict"))[1]
			more := findAll(item, is("details", "more"))
			Expect(more).To(HaveLen(1))
			Expect(attr(more[0], "open")).To(BeEmpty())
			full := strings.ReplaceAll(text(findAll(item, is("span", "msg"))[0]), "…", "")
			Expect(full).To(Equal("step 3 (line 15, call the API 24 times, every 1h0m0s): expected ok, the client answered reauthorize (revoked): reauthorization required: revoked (400 invalid_grant: " + description + ")"))
			Expect(text(item)).To(ContainSubstring("The refresh token was already used.)"), "the specific end stays in view")
			Expect(text(more[0])).NotTo(ContainSubstring("invalid_grant"), "the error code before the cut stays in view, whole")
			Expect(text(more[0])).To(HavePrefix("… The provided"), "no word is split")
		})
	})

	It("shows a run's steps with offsets from its start and marks unmet ones", func() {
		rows := findAll(findAll(runSection(1), is("table", "steps"))[0], is("tr"))
		Expect(rows).To(HaveLen(6))
		cells := findAll(rows[5], is("td"))
		Expect(attr(rows[5], "class")).To(Equal("unmet"))
		Expect(text(cells[1])).To(Equal("+7d1h"))
		Expect(attr(cells[1], "title")).To(HavePrefix("2026-03-08T10:00:00Z"))
		Expect(text(cells[3])).To(Equal("reauthorize (revoked)"))
		Expect(text(cells[5])).To(Equal("expected ok, got reauthorize"))
		Expect(attr(rows[1], "class")).To(BeEmpty())
	})

	DescribeTable("judges an outcome against the expectation as the harness wrote it",
		func(expected string, out reports.Outcome, met bool) {
			r.Runs[1].Steps = []reports.Step{{Index: 0, Line: 3, Action: "call", Summary: "call", Start: t0, End: t0, Expected: expected, Outcomes: []reports.Outcome{out}}}
			_, doc = render(r)
			sections = decodedRuns(doc, r)
			outcome := findAll(runSection(1), is("span", "outcome"))
			Expect(outcome).To(HaveLen(1))
			if met {
				Expect(attr(outcome[0], "class")).To(Equal("outcome met"))
			} else {
				Expect(attr(outcome[0], "class")).To(Equal("outcome unmet"))
			}
		},
		Entry("the outcome alone", "ok", reports.Outcome{Time: t0, Result: "ok"}, true),
		Entry("an outcome with its reason, named", "reauthorize (revoked)", reports.Outcome{Time: t0, Result: "reauthorize", Reason: "revoked"}, true),
		Entry("an outcome with any reason", "reauthorize", reports.Outcome{Time: t0, Result: "reauthorize", Reason: "revoked"}, true),
		Entry("the wrong reason", "reauthorize (expired)", reports.Outcome{Time: t0, Result: "reauthorize", Reason: "revoked"}, false),
		Entry("one of alternatives", "ok or reauthorize (revoked)", reports.Outcome{Time: t0, Result: "reauthorize", Reason: "revoked"}, true),
		Entry("none of alternatives", "ok or temporary_error", reports.Outcome{Time: t0, Result: "reauthorize", Reason: "revoked"}, false),
		Entry("any outcome", "any", reports.Outcome{Time: t0, Result: "unauthorized"}, true),
	)

	It("marks expected failures apart from failures, and flags a client expected to fail that did not", func() {
		r.Clients = append(r.Clients, reports.Client{Name: "mutant/x"}, reports.Client{Name: "mutant/y"})
		r.Runs = append(r.Runs,
			reports.Run{Client: "mutant/x", Scenario: "rotation-basic", Status: reports.StatusFail, Checks: []reports.Verdict{{Check: "single-flight-refresh", Status: reports.StatusFail, Message: "raced"}}},
			reports.Run{Client: "mutant/y", Scenario: "rotation-basic", Status: reports.StatusPass})
		reports.MarkExpectedFailures(r, func(c string) bool { return strings.HasPrefix(c, "mutant/") }, func(string) string { return "" })
		raw, doc = render(r)
		sections = decodedRuns(doc, r)
		Expect(strings.Join(strings.Fields(text(findAll(doc, is("header"))[0])), " ")).To(ContainSubstring(
			"8 runs: 4 passed1 failed1 expected to fail and did1 skipped1 errored"))
		Expect(text(findAll(doc, is("p", "unmet-clients"))[0])).To(HaveSuffix("mutant/y was expected to fail, and passed"))
		xfail := findAll(doc, is("td", "xfail"))
		Expect(xfail).To(HaveLen(1))
		Expect(text(xfail[0])).To(Equal("⊗"))
		Expect(attr(findAll(xfail[0], is("a"))[0], "title")).To(Equal("mutant/x × rotation-basic: expected failure (single-flight-refresh)"))
		unmet := findAll(doc, is("th", "unmet"))
		Expect(unmet).To(HaveLen(1))
		Expect(text(unmet[0])).To(Equal("⚠ mutant/y"))
		Expect(findAll(doc, is("th", "xf"))).To(HaveLen(1), "the other client expected to fail, in italics")
		i := slices.IndexFunc(pageOrder(r), func(run reports.Run) bool { return run.Client == "mutant/x" })
		badge := findAll(runSection(i), is("span", "badge"))[0]
		Expect(text(badge)).To(Equal("expected failure"))
		Expect(attr(badge, "class")).To(Equal("badge xfail"))
	})

	Describe("the timeline", func() {
		It("is an SVG picture for each run that has events", func() {
			var svgs int
			for i := range sections {
				svgs += len(findAll(runSection(i), is("svg", "timeline")))
			}
			Expect(svgs).To(Equal(5), "the skipped run has no events to draw")
			for _, i := range []int{0, 1, 2, 3, 5} {
				Expect(findAll(runSection(i), is("svg", "timeline"))).To(HaveLen(1))
			}
			Expect(findAll(runSection(4), is("svg", "timeline"))).To(BeEmpty())
		})

		It("has a marker for each refresh, 401, 429, fault and revocation", func() {
			svg := findAll(runSection(1), is("svg", "timeline"))[0]
			count := func(classes ...string) int {
				return len(findAll(svg, is("path", append([]string{"m"}, classes...)...)))
			}
			// Counted from the events by hand, then by rule below.
			Expect(count("refresh")).To(Equal(4))
			Expect(count("refresh", "ok")).To(Equal(1))
			Expect(count("refresh", "fault")).To(Equal(1))
			Expect(count("refresh", "error")).To(Equal(1))
			Expect(count("refresh", "denied")).To(Equal(1))
			Expect(count("s401")).To(Equal(2))
			Expect(count("s429")).To(Equal(2))
			Expect(count("fault")).To(Equal(2+1), "two fired, one refresh answered by a fault")
			Expect(count("revoked")).To(Equal(1))
			Expect(count("reuse")).To(Equal(1))

			for i, run := range pageOrder(r) {
				var want int
				for _, e := range run.Events {
					switch {
					case e.Kind == events.TokenRequest && e.GrantType == "refresh_token", e.Kind == events.ResourceRequest && e.Status == 401,
						e.Kind == events.FaultFired, e.Kind == events.FamilyRevoked, e.Kind == events.RefreshReuseDetected:
						want++
					}
					if e.Status == 429 {
						want++
					}
				}
				Expect(findAll(runSection(i), is("path", "m"))).To(HaveLen(want), "markers of run %d", i)
			}
		})

		It("gives every marker a tooltip with the event's number, time and outcome", func() {
			svg := findAll(runSection(1), is("svg", "timeline"))[0]
			marks := findAll(svg, is("path", "m"))
			Expect(marks).NotTo(BeEmpty())
			for _, m := range marks {
				Expect(titleOf(m)).To(HavePrefix("#" + attr(m, "data-seq") + " "))
			}
			fault := findAll(svg, is("path", "refresh", "fault"))[0]
			Expect(titleOf(fault)).To(Equal("#10 token_request +1h0m1s\n/token\ngrant refresh_token\nfamily fam-a\nstatus 429 fault"))
			fired := findAll(svg, func(n *html.Node) bool { return is("path", "fault")(n) && strings.Contains(titleOf(n), "fault_fired") })
			Expect(fired).To(HaveLen(2))
			Expect(titleOf(fired[0])).To(ContainSubstring("\nfault slow-down\nrate_limit: answered 429"))
			revoked := findAll(svg, is("path", "revoked"))[0]
			Expect(titleOf(revoked)).To(ContainSubstring("family_revoked +7d1h0m0s\nfamily fam-a\nreason: refresh token reuse"))
		})

		It("highlights the events a failed check points at", func() {
			svg := findAll(runSection(1), is("svg", "timeline"))[0]
			var seqs []string
			for _, m := range findAll(svg, is("path", "hit")) {
				seqs = append(seqs, attr(m, "data-seq"))
			}
			Expect(seqs).To(ConsistOf("7", "10", "10"), "event 10 is both a refresh and a 429")
		})

		It("keeps markers at one instant apart", func() {
			svg := findAll(runSection(1), is("svg", "timeline"))[0]
			var starts []string
			for _, m := range findAll(svg, is("path", "refresh")) {
				starts = append(starts, strings.Fields(strings.TrimPrefix(attr(m, "d"), "M"))[0])
			}
			Expect(starts).To(HaveLen(4))
			Expect(slices.Compact(slices.Sorted(slices.Values(starts)))).To(HaveLen(4), "no two refresh markers drawn on the same spot: %v", starts)
		})

		It("draws token lifetimes as bars, cut short by the family's revocation", func() {
			svg := findAll(runSection(1), is("svg", "timeline"))[0]
			access := findAll(svg, is("rect", "bar", "access"))
			refresh := findAll(svg, is("rect", "bar", "refresh"))
			Expect(access).To(HaveLen(2))
			Expect(refresh).To(HaveLen(2))
			Expect(titleOf(refresh[1])).To(Equal("refresh_token rt-fam-a-1 (#9, family fam-a)\nissued +1h0m1s\nexpires +30d1h0m1s\nfamily ended +7d1h0m0s"))
			Expect(findAll(svg, is("rect", "cutend"))).To(HaveLen(2), "both refresh tokens end at the revocation")
			Expect(attr(refresh[1], "height")).To(Equal("4"), "refresh tokens are thinner")
			Expect(attr(access[1], "height")).To(Equal("7"))
		})

		It("labels step boundaries and the axis with offsets, and breaks the idle week", func() {
			svg := findAll(runSection(1), is("svg", "timeline"))[0]
			var steps []string
			for _, s := range findAll(svg, is("g", "step")) {
				steps = append(steps, text(s))
			}
			Expect(steps).To(HaveLen(5))
			Expect(steps[0]).To(Equal("step 0 (line 12, call) at +0\nget a token0"))
			label := findAll(findAll(svg, is("g", "step"))[3], is("text"))[0]
			Expect(label.LastChild.Data).To(Equal("3,4"), "steps at one instant share a label")
			Expect(titleOf(label)).To(ContainSubstring("step 4 (line 20, call)"), "the shared label names each step on hover")
			var ticks []string
			for _, t := range findAll(findAll(svg, is("g", "axis"))[0], is("text")) {
				Expect(titleOf(t)).To(HavePrefix("2026-03-"), "the absolute time on hover")
				ticks = append(ticks, t.LastChild.Data)
			}
			Expect(ticks).To(HaveExactElements("+0", "+1h", "+1h0m1s", "+2h", "+7d1h", "+7d1h0m2s", "+7d1h0m5s"),
				"labels as fine as it takes to tell them apart, ending at the end of the run")
			gaps := findAll(svg, is("g", "gap"))
			Expect(gaps).NotTo(BeEmpty())
			Expect(slices.ContainsFunc(gaps, func(g *html.Node) bool {
				return strings.HasPrefix(titleOf(g), "6d22h without an event, drawn shortened (+2h to +7d1h)")
			})).To(BeTrue())
		})
	})

	It("lists the full event log only for runs that failed or errored", func() {
		logs := func(i int) int { return len(findAll(runSection(i), is("details"))) }
		Expect(findAll(runSection(1), is("table", "events"))).To(HaveLen(1))
		Expect(findAll(findAll(runSection(1), is("table", "events"))[0], is("tr"))).To(HaveLen(len(pageOrder(r)[1].Events)))
		Expect(findAll(runSection(5), is("table", "events"))).To(HaveLen(1), "the errored run")
		Expect(findAll(runSection(0), is("table", "events"))).To(BeEmpty())
		Expect(logs(1)).To(Equal(2), "event log and client output")
	})

	It("stays under 2 MB for 16 clients × 52 scenarios of 60-odd events", func() {
		r := big(16, 52)
		Expect(r.Runs).To(HaveLen(832))
		Expect(len(r.Runs[0].Events)).To(BeNumerically("~", 60, 10))
		var w countingWriter
		Expect(reports.WriteHTML(&w, r)).To(Succeed())
		AddReportEntry("index.html size for 16×52 runs", fmt.Sprintf("%.2f MB", float64(w.n)/1e6))
		Expect(w.n).To(BeNumerically("<", 2_000_000))
	})
})

var _ io.Writer = (*countingWriter)(nil)
