package reports_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/net/html"

	"github.com/oauthsim/oauthsim/reports"
)

// samples are values as samples of the events numbered from 1.
func samples(values ...time.Duration) []reports.Sample {
	out := make([]reports.Sample, len(values))
	for i, v := range values {
		out[i] = reports.Sample{Seq: uint64(i + 1), Value: reports.Duration(v)}
	}
	return out
}

// spreadOf is s's figures as durations: count, min, median, p95, max.
func spreadOf(s *reports.Spread) []time.Duration {
	return []time.Duration{time.Duration(s.Count), time.Duration(s.Min), time.Duration(s.Median), time.Duration(s.P95), time.Duration(s.Max)}
}

var _ = Describe("Metrics", func() {
	It("spreads samples by nearest rank, whatever their order: the median and p95 are samples", func() {
		var values []time.Duration
		for i := 20; i >= 1; i-- {
			values = append(values, time.Duration(i)*time.Millisecond)
		}
		m := reports.NewMetrics(20, nil, samples(values...), nil)
		Expect(spreadOf(m.Latency)).To(Equal([]time.Duration{20, time.Millisecond, 10 * time.Millisecond, 19 * time.Millisecond, 20 * time.Millisecond}),
			"the 10th and the 19th smallest of 20")
		Expect(m.TimeToRefresh).To(BeNil(), "no sample, no spread")

		one := reports.NewMetrics(1, nil, nil, samples(-3*time.Minute))
		Expect(spreadOf(one.TimeToRefresh)).To(Equal([]time.Duration{1, -3 * time.Minute, -3 * time.Minute, -3 * time.Minute, -3 * time.Minute}))
		two := reports.NewMetrics(2, nil, samples(4*time.Second, time.Second), nil)
		Expect(spreadOf(two.Latency)).To(Equal([]time.Duration{2, time.Second, time.Second, 4 * time.Second, 4 * time.Second}), "the lower of two middles")
	})

	It("counts the failures of each kind into the failure rate", func() {
		m := reports.NewMetrics(8, map[string][]uint64{"invalid_grant": {3}, "lost": {5, 6}}, nil, nil)
		Expect(m.Failed).To(Equal(3))
		Expect(m.FailureRate).To(Equal(3.0 / 8))

		none := reports.NewMetrics(0, map[string][]uint64{}, nil, nil)
		Expect([]any{none.Failed, none.FailureRate, none.Failures, none.Latency, none.TimeToRefresh}).To(Equal([]any{0, 0.0, map[string][]uint64(nil), (*reports.Spread)(nil), (*reports.Spread)(nil)}))
	})

	It("are in results.json as the README names them, each sample with its event", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, fixture())).To(Succeed())
		var doc struct {
			Runs []struct {
				Metrics map[string]any `json:"metrics"`
			} `json:"runs"`
		}
		Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		storm := doc.Runs[1].Metrics
		Expect(storm).To(HaveKeyWithValue("refreshes", 4.0))
		Expect(storm).To(HaveKeyWithValue("failed", 3.0))
		Expect(storm).To(HaveKeyWithValue("failure_rate", 0.75))
		Expect(storm).To(HaveKeyWithValue("failures", map[string]any{"429": []any{10.0}, "5xx": []any{12.0}, "invalid_grant": []any{16.0}}))
		Expect(storm).To(HaveKeyWithValue("latency", map[string]any{"count": 4.0, "min": "0s", "median": "0s", "p95": "2s", "max": "2s"}))
		Expect(storm).To(HaveKeyWithValue("time_to_refresh", map[string]any{"count": 1.0, "min": "-1s", "median": "-1s", "p95": "-1s", "max": "-1s"}))
		Expect(storm).To(HaveKeyWithValue("samples", HaveKeyWithValue("time_to_refresh", []any{map[string]any{"seq": 7.0, "value": "-1s", "replaced": "at-fam-a-0"}})))
		Expect(doc.Runs[4].Metrics).To(BeNil(), "a skipped run has none")
	})

	Context("in a results.json written before them", func() {
		var old *reports.Results
		BeforeEach(func() {
			var buf bytes.Buffer
			Expect(reports.WriteJSON(&buf, fixture())).To(Succeed())
			var doc map[string]any
			Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
			for _, run := range doc["runs"].([]any) {
				delete(run.(map[string]any), "metrics")
			}
			b, err := json.Marshal(doc)
			Expect(err).NotTo(HaveOccurred())
			path := filepath.Join(GinkgoT().TempDir(), "results.json")
			Expect(os.WriteFile(path, b, 0o644)).To(Succeed())
			old, err = reports.ReadJSON(path)
			Expect(err).NotTo(HaveOccurred())
		})

		It("are absent, and the reports drawn from it say nothing of them", func() {
			for _, run := range old.Runs {
				Expect(run.Metrics).To(BeNil())
			}
			var md bytes.Buffer
			Expect(reports.WriteMarkdown(&md, old)).To(Succeed())
			Expect(md.String()).NotTo(ContainSubstring("Monitoring"))
			_, doc := render(old)
			Expect(findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "monitoring" })).To(BeEmpty())
			for _, s := range decodedRuns(doc, old) {
				Expect(s).NotTo(ContainSubstring(`class="metrics"`))
			}
		})
	})

	Describe("in index.html", func() {
		var (
			r   *reports.Results
			doc *html.Node
		)
		BeforeEach(func() {
			r = fixture()
			_, doc = render(r)
		})

		It("put a run's figures in a line under its timeline", func() {
			sections := decodedRuns(doc, r)
			// Page order: go-ref's runs by scenario name (hostile,
			// refresh-storm, rotation-basic), then py-lib's.
			line := func(i int) string {
				GinkgoHelper()
				frag, err := html.Parse(strings.NewReader(sections[i]))
				Expect(err).NotTo(HaveOccurred())
				found := findAll(frag, is("p", "metrics"))
				if len(found) == 0 {
					return ""
				}
				Expect(found).To(HaveLen(1))
				return text(found[0])
			}
			Expect(sections[1]).To(MatchRegexp(`</svg><p class="metrics"`), "right under the timeline")
			Expect(line(1)).To(Equal("Refreshes: 4 requests, failed 3 (75%: 429 1, 5xx 1, invalid_grant 1) · latency median <1ms, p95 2s, max 2s (4 answers) · time to refresh min -1s, median -1s (1 refresh)"))
			Expect(line(2)).To(Equal("Refreshes: 1 request, failed 0 · latency median <1ms, p95 <1ms, max <1ms (1 answer) · time to refresh min +0, median +0 (1 refresh)"))
			Expect(line(3)).To(Equal(line(2)))
			Expect(line(4)).To(BeEmpty(), "the skipped run has no figures")
			Expect(line(5)).To(Equal("Refreshes: none in this run."), "the errored run")
		})

		It("have a Monitoring table of each client over all its runs, samples pooled", func() {
			section := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "monitoring" })
			Expect(section).To(HaveLen(1))
			var rows [][]string
			for _, tr := range findAll(section[0], is("tr"))[2:] {
				var cells []string
				for _, td := range findAll(tr, is("td")) {
					cells = append(cells, text(td))
				}
				Expect(attr(tr, "data-client")).To(Equal(cells[0]), "the client filter finds it")
				rows = append(rows, cells)
			}
			Expect(rows).To(Equal([][]string{
				{"go-ref", "3", "6", "3 (50%: 429 1, 5xx 1, invalid_grant 1)", "<1ms", "2s", "2s", "-1s", "+0"},
				{"py-lib", "2", "1", "0", "<1ms", "<1ms", "<1ms", "+0", "+0"},
			}))
		})
	})

	It("have a table in summary.md, a row a client in the matrix's order, on one line", func() {
		r := fixture()
		r.Runs[5].Metrics = reports.NewMetrics(6, map[string][]uint64{"lost": {4, 9}, "429": {5}, "5xx": {6}, "invalid_grant": {7}}, samples(30*time.Second), samples(-548985*time.Nanosecond))
		var buf bytes.Buffer
		Expect(reports.WriteMarkdown(&buf, r)).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("### Monitoring\n\n"))
		Expect(buf.String()).To(ContainSubstring("| client | refreshes | failed | latency median · p95 · max | time to refresh min · median |\n|---|--:|---|--:|--:|\n"+
			"| go-ref | 6 | 3 (50%: 429 1, 5xx 1, invalid\\_grant 1) | &lt;1ms · 2s · 2s | -1s · +0 |\n"+
			"| py-lib | 6 | 5 (83%: lost 2, 429 1, 5xx 1, …) | 30s · 30s · 30s | -549µs · -549µs |\n\n"), "the three most frequent kinds of failure; index.html has them all")
		Expect(strings.Index(buf.String(), "### Monitoring")).To(BeNumerically("<", strings.Index(buf.String(), "### Checks")))
	})
})
