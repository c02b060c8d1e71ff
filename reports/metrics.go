package reports

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Metrics are a run's monitoring figures: how the client's refreshes went,
// as an application would track them. The harness reads them from the
// provider's events (conformance.Metrics says how, and the README); each
// figure keeps the events it was read from, so that a reader can check it
// against the run's event log, and so that a client's figures over all its
// runs are drawn from every sample rather than from each run's summary.
type Metrics struct {
	// Refreshes counts the client's requests of the refresh_token grant.
	Refreshes int `json:"refreshes"`
	// Failed counts those that brought no tokens back; FailureRate is
	// Failed over Refreshes (0 when there were none).
	Failed      int     `json:"failed"`
	FailureRate float64 `json:"failure_rate"`
	// Failures are the sequence numbers of the failed requests' events by
	// kind: "lost" (no answer, or one a fault dropped or spoiled), "429",
	// "5xx", or the error code of another refusal ("invalid_grant").
	Failures map[string][]uint64 `json:"failures,omitempty"`
	// Latency spreads the refresh latencies, TimeToRefresh the times to
	// refresh; each is absent when it has no sample.
	Latency       *Spread `json:"latency,omitempty"`
	TimeToRefresh *Spread `json:"time_to_refresh,omitempty"`
	// Samples are the figures spread, one per refresh request.
	Samples Samples `json:"samples"`
}

// Samples are a run's figures one by one.
type Samples struct {
	// Latency has one sample per refresh request that was answered: from
	// its arrival to its answer.
	Latency []Sample `json:"latency,omitempty"`
	// TimeToRefresh has one sample per successful refresh whose replaced
	// access token is known: how long before that token's expiry the
	// request came, negative when it came after.
	TimeToRefresh []Sample `json:"time_to_refresh,omitempty"`
}

// Sample is one figure and the refresh request's event it was read from.
type Sample struct {
	Seq   uint64   `json:"seq"`
	Value Duration `json:"value"`
	// Replaced is, on a time to refresh, the fingerprint of the access
	// token the refresh replaced.
	Replaced string `json:"replaced,omitempty"`
}

// Spread summarizes samples: their count, least, median, 95th percentile
// and greatest. The median and the percentile are by nearest rank: the
// ⌈n/2⌉-th and ⌈0.95n⌉-th smallest of n, always one of the samples.
type Spread struct {
	Count  int      `json:"count"`
	Min    Duration `json:"min"`
	Median Duration `json:"median"`
	P95    Duration `json:"p95"`
	Max    Duration `json:"max"`
}

// NewMetrics is the figures of refreshes refresh requests, of which those
// in failures (sequence numbers by kind) failed, with their samples.
func NewMetrics(refreshes int, failures map[string][]uint64, latency, timeToRefresh []Sample) *Metrics {
	m := &Metrics{Refreshes: refreshes, Samples: Samples{Latency: latency, TimeToRefresh: timeToRefresh}}
	if len(failures) > 0 {
		m.Failures = failures
	}
	for _, seqs := range failures {
		m.Failed += len(seqs)
	}
	if refreshes > 0 {
		m.FailureRate = float64(m.Failed) / float64(refreshes)
	}
	m.Latency, m.TimeToRefresh = spread(latency), spread(timeToRefresh)
	return m
}

// spread is samples summarized, nil for none.
func spread(samples []Sample) *Spread {
	if len(samples) == 0 {
		return nil
	}
	v := make([]Duration, len(samples))
	for i, s := range samples {
		v[i] = s.Value
	}
	slices.Sort(v)
	rank := func(percent int) Duration {
		return v[(percent*len(v)+99)/100-1]
	}
	return &Spread{Count: len(v), Min: v[0], Median: rank(50), P95: rank(95), Max: v[len(v)-1]}
}

// pooled is the figures of runs taken together: their samples and
// failures pooled, as a client's over all its runs; n counts the runs with
// figures, 0 for a results.json from before them, or only skipped runs.
func pooled(runs []Run) (m *Metrics, n int) {
	refreshes := 0
	failures := map[string][]uint64{}
	var latency, ttr []Sample
	for _, run := range runs {
		if run.Metrics == nil {
			continue
		}
		n++
		refreshes += run.Metrics.Refreshes
		for kind, seqs := range run.Metrics.Failures {
			failures[kind] = append(failures[kind], seqs...)
		}
		latency = append(latency, run.Metrics.Samples.Latency...)
		ttr = append(ttr, run.Metrics.Samples.TimeToRefresh...)
	}
	return NewMetrics(refreshes, failures, latency, ttr), n
}

// failedText is "2 (17%: invalid_grant 1, lost 1)", or "0": the count,
// the rate and the counts by kind, the most frequent first, at most kinds
// of them (all for 0) and "…" for the rest.
func (m *Metrics) failedText(kinds int) string {
	if m.Failed == 0 {
		return "0"
	}
	names := slices.Collect(maps.Keys(m.Failures))
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(len(m.Failures[b])-len(m.Failures[a]), strings.Compare(a, b))
	})
	var parts []string
	for i, k := range names {
		if kinds > 0 && i == kinds {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, len(m.Failures[k])))
	}
	return fmt.Sprintf("%d (%s: %s)", m.Failed, percent(m.FailureRate), strings.Join(parts, ", "))
}

// percent is a rate as a whole percentage, "<1%" rather than a 0% that is
// not.
func percent(rate float64) string {
	if rate > 0 && rate < 0.005 {
		return "<1%"
	}
	return fmt.Sprintf("%.0f%%", rate*100)
}

// latencyText is a latency as reports show it. The events give the time
// an answer left only from a millisecond after the request arrived, so a
// latency of 0 is one under a millisecond.
func latencyText(d Duration) string {
	if d == 0 {
		return "<1ms"
	}
	return compact(time.Duration(d))
}

// aheadText is a time to refresh as reports show it: "+5m" before the
// expiry, "-2m30s" after it, "-549µs" under a millisecond.
func aheadText(d Duration) string { return offset(time.Duration(d).Round(time.Microsecond)) }

// latencyFigures is "median <1ms, p95 2s, max 3s", or "" for none.
func (m *Metrics) latencyFigures() string {
	if m.Latency == nil {
		return ""
	}
	return fmt.Sprintf("median %s, p95 %s, max %s", latencyText(m.Latency.Median), latencyText(m.Latency.P95), latencyText(m.Latency.Max))
}

// aheadFigures is "min -2m, median +5m", or "" for none.
func (m *Metrics) aheadFigures() string {
	if m.TimeToRefresh == nil {
		return ""
	}
	return fmt.Sprintf("min %s, median %s", aheadText(m.TimeToRefresh.Min), aheadText(m.TimeToRefresh.Median))
}

// summary is m in one line, as a run's section shows it under its
// timeline.
func (m *Metrics) summary() string {
	if m.Refreshes == 0 {
		return "Refreshes: none in this run."
	}
	parts := []string{fmt.Sprintf("Refreshes: %s, failed %s", plural(m.Refreshes, "request", "requests"), m.failedText(0))}
	if f := m.latencyFigures(); f != "" {
		parts = append(parts, fmt.Sprintf("latency %s (%s)", f, plural(m.Latency.Count, "answer", "answers")))
	}
	if f := m.aheadFigures(); f != "" {
		parts = append(parts, fmt.Sprintf("time to refresh %s (%s)", f, plural(m.TimeToRefresh.Count, "refresh", "refreshes")))
	}
	return strings.Join(parts, " · ")
}

// clientFigures is a client's figures over all its runs, as the reports'
// monitoring tables show them; "–" stands for a figure without samples.
type clientFigures struct {
	Client string
	// Runs counts the client's runs with figures.
	Runs, Refreshes int
	// Failed is the count, rate and kinds of the failed refreshes.
	Failed                                string
	LatencyMedian, LatencyP95, LatencyMax string
	AheadMin, AheadMedian                 string
	// LatencyCount and AheadCount are how many samples each spread has.
	LatencyCount, AheadCount int
}

// noFigure stands for a figure without samples.
const noFigure = "–"

// monitoring is the figures of each of clients over all its runs, in that
// order, leaving out clients without any (nil when no run has figures);
// Failed names at most kinds kinds of failure (0 for all).
func monitoring(r *Results, clients []string, kinds int) []clientFigures {
	byClient := map[string][]Run{}
	for _, run := range r.Runs {
		byClient[run.Client] = append(byClient[run.Client], run)
	}
	var out []clientFigures
	for _, c := range clients {
		m, n := pooled(byClient[c])
		if n == 0 {
			continue
		}
		f := clientFigures{Client: c, Runs: n, Refreshes: m.Refreshes, Failed: m.failedText(kinds),
			LatencyMedian: noFigure, LatencyP95: noFigure, LatencyMax: noFigure, AheadMin: noFigure, AheadMedian: noFigure}
		if l := m.Latency; l != nil {
			f.LatencyCount, f.LatencyMedian, f.LatencyP95, f.LatencyMax = l.Count, latencyText(l.Median), latencyText(l.P95), latencyText(l.Max)
		}
		if a := m.TimeToRefresh; a != nil {
			f.AheadCount, f.AheadMin, f.AheadMedian = a.Count, aheadText(a.Min), aheadText(a.Median)
		}
		out = append(out, f)
	}
	return out
}
