package reports_test

import (
	"bytes"
	"fmt"
	"io"
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

var _ = Describe("index.html", func() {
	var (
		r   *reports.Results
		raw string
		doc *html.Node
	)
	BeforeEach(func() {
		r = fixture()
		var buf bytes.Buffer
		Expect(reports.WriteHTML(&buf, r)).To(Succeed())
		raw = buf.String()
		var err error
		doc, err = html.Parse(strings.NewReader(raw))
		Expect(err).NotTo(HaveOccurred())
	})

	runSection := func(i int) *html.Node {
		GinkgoHelper()
		found := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == fmt.Sprintf("run-%d", i) })
		Expect(found).To(HaveLen(1))
		return found[0]
	}

	It("is self-contained: nothing to load and no script", func() {
		Expect(findAll(doc, is("script"))).To(BeEmpty())
		Expect(findAll(doc, is("link"))).To(BeEmpty())
		Expect(findAll(doc, func(n *html.Node) bool { return attr(n, "src") != "" })).To(BeEmpty())
		Expect(raw).NotTo(MatchRegexp(`(?i)(https?:)?//[a-z]`), "no URL to fetch")
		Expect(findAll(doc, is("style"))).To(HaveLen(1))
	})

	It("heads the page with the totals", func() {
		header := findAll(doc, is("header"))
		Expect(header).To(HaveLen(1))
		Expect(strings.Join(strings.Fields(text(header[0])), " ")).To(ContainSubstring(
			"6 runs 3 passed1 failed1 skipped1 errored · 2 clients × 3 scenarios · wall time 1m35s · sim time covered 7d3h"))
	})

	It("has a matrix cell per client × scenario, linking each run to its section", func() {
		matrix := findAll(doc, is("table", "matrix"))
		Expect(matrix).To(HaveLen(1))
		cells := findAll(matrix[0], is("td"))
		Expect(cells).To(HaveLen(6))
		var classes []string
		for _, c := range cells {
			classes = append(classes, attr(c, "class"))
		}
		Expect(classes).To(Equal([]string{"pass", "fail", "pass", "error", "skip", "pass"}))
		links := findAll(matrix[0], is("a", "cell"))
		Expect(links).To(HaveLen(len(r.Runs)))
		for i, a := range links {
			Expect(attr(a, "href")).To(Equal(fmt.Sprintf("#run-%d", i)))
			runSection(i)
		}
		Expect(attr(links[1], "title")).To(Equal("go-ref × refresh-storm: fail (single-flight-refresh, backs-off-on-429)"))
	})

	It("escapes a hostile scenario name everywhere", func() {
		Expect(raw).NotTo(ContainSubstring(hostile))
		Expect(raw).To(ContainSubstring("&lt;script&gt;alert(1)&lt;/script&gt;"))
		Expect(findAll(doc, is("script"))).To(BeEmpty())
		Expect(findAll(doc, is("b"))).To(BeEmpty(), "nor does a description's markup become markup")
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
		items := findAll(runSection(1), is("li"))
		Expect(items).To(HaveLen(3))
		Expect(text(items[0])).To(HavePrefix("fail single-flight-refresh 3 refreshes at +1h0m1s"))
		Expect(text(items[0])).To(HaveSuffix("events #7, #10"))
		Expect(text(items[1])).To(HavePrefix("fail backs-off-on-429 retried 0s"))
		Expect(text(items[2])).To(Equal("pass expectations"))
		refs := findAll(items[0], is("a"))
		Expect(refs).To(HaveLen(2))
		Expect(attr(refs[0], "href")).To(Equal("#run-1-e7"))
		Expect(findAll(runSection(1), func(n *html.Node) bool { return attr(n, "id") == "run-1-e7" })).To(HaveLen(1))
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

	Describe("the timeline", func() {
		It("is an SVG picture for each run that has events", func() {
			svgs := findAll(doc, is("svg", "timeline"))
			Expect(svgs).To(HaveLen(5), "the skipped run has no events to draw")
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

			for i, run := range r.Runs {
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
			Expect(titleOf(fault)).To(Equal("#10 token_request +1h0m1s\n2026-03-01T10:00:01Z\n/token\ngrant refresh_token\nfamily fam-a\nstatus 429 fault"))
			fired := findAll(svg, func(n *html.Node) bool { return is("path", "fault")(n) && strings.Contains(titleOf(n), "fault_fired") })
			Expect(fired).To(HaveLen(2))
			Expect(titleOf(fired[0])).To(ContainSubstring("\nfault slow-down\nrate_limit: answered 429"))
			revoked := findAll(svg, is("path", "revoked"))[0]
			Expect(titleOf(revoked)).To(ContainSubstring("family_revoked +7d1h0m0s\n2026-03-08T10:00:00Z\nfamily fam-a\nreason: refresh token reuse"))
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
			Expect(titleOf(refresh[1])).To(Equal("refresh_token rt-fam-a-1 (#9, family fam-a)\nissued +1h0m1s  2026-03-01T10:00:01Z\nexpires +30d1h0m1s  2026-03-31T10:00:01Z\nfamily ended +7d1h0m0s"))
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
			Expect(steps[3]).To(HaveSuffix("advance 7d3,4"), "steps at one instant share a label")
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
		Expect(findAll(findAll(runSection(1), is("table", "events"))[0], is("tr"))).To(HaveLen(len(r.Runs[1].Events)))
		Expect(findAll(runSection(3), is("table", "events"))).To(HaveLen(1))
		Expect(findAll(runSection(0), is("table", "events"))).To(BeEmpty())
		Expect(logs(1)).To(Equal(2), "event log and client output")
	})

	It("stays under 15 MB for 16 clients × 35 scenarios of 60-odd events", func() {
		r := big(16, 35)
		Expect(r.Runs).To(HaveLen(560))
		Expect(len(r.Runs[0].Events)).To(BeNumerically("~", 60, 10))
		var w countingWriter
		Expect(reports.WriteHTML(&w, r)).To(Succeed())
		AddReportEntry("index.html size for 16×35 runs", fmt.Sprintf("%.2f MB", float64(w.n)/1e6))
		fmt.Fprintf(GinkgoWriter, "index.html for 16×35 runs: %d bytes\n", w.n)
		Expect(w.n).To(BeNumerically("<", 15_000_000))
	})
})

var _ io.Writer = (*countingWriter)(nil)
