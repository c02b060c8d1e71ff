package conformance_test

import (
	"context"
	"testing"
	"time"

	"github.com/oauthsim/oauthsim/clients/inprocess"
	"github.com/oauthsim/oauthsim/conformance"
)

// BenchmarkDefaultMatrix runs what `make run` runs: every built-in client
// against every bundled scenario, judged by every check, one after another
// as the Ginkgo suite does. It reports the runs it makes and the simulated
// days they cover (every run's own, summed over clients and scenarios; a
// skipped run covers none), beside its wall time per op.
func BenchmarkDefaultMatrix(b *testing.B) {
	clients := inprocess.Builtin("bench")
	var days float64
	for b.Loop() {
		days = 0
		for _, c := range clients {
			for _, sc := range bundled {
				rec := conformance.Run(context.Background(), sc, c)
				if rec.Err != nil {
					b.Fatalf("%s × %s: %v", c.Name(), sc.Name, rec.Err)
				}
				conformance.Failures(rec)
				days += rec.SimEnd.Sub(rec.SimStart).Hours() / 24
			}
		}
	}
	b.ReportMetric(float64(len(clients)*len(bundled)), "runs/op")
	b.ReportMetric(days, "sim-days/op")
	b.ReportMetric(float64(b.Elapsed())/float64(time.Second)/float64(b.N), "s/op")
}
