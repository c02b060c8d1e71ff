package bench_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/oauthsim/oauthsim/internal/bench"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// short is a load small enough for a spec.
var short = bench.Load{Workers: 4, Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond}

func workload(name string) bench.Workload {
	for _, w := range bench.Workloads(2) {
		if w.Name == name {
			return w
		}
	}
	Fail("no workload " + name)
	return bench.Workload{}
}

func run(t *bench.Target, w bench.Workload) bench.Result {
	GinkgoHelper()
	c := bench.NewHTTPClient(short.Workers)
	defer c.CloseIdleConnections()
	steps, err := w.Steps(t, c, short.Workers)
	Expect(err).NotTo(HaveOccurred())
	res, err := bench.Run(context.Background(), short, steps)
	Expect(err).NotTo(HaveOccurred())
	return res
}

var _ = Describe("The load generator", func() {
	It("refuses a load without workers or a duration", func() {
		_, err := bench.Run(context.Background(), bench.Load{Duration: time.Second}, nil)
		Expect(err).To(MatchError(ContainSubstring("at least one worker")))
	})

	It("drives every workload against the bare handler without errors, and measures its latencies", func() {
		bare, err := bench.Bare()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(bare.Close)
		for _, w := range bench.Workloads(2) {
			res := run(bare, w)
			Expect(res.Errors).To(BeZero(), "%s: %v", w.Name, res.FirstError)
			Expect(res.Requests).To(BeNumerically(">", 0), w.Name)
			Expect(res.PerSecond()).To(BeNumerically(">", 0), w.Name)
			Expect(res.P50).To(BeNumerically(">", 0), w.Name)
			Expect(res.P99).To(BeNumerically(">=", res.P50), w.Name)
		}
	})

	It("refreshes each of the simulator's families with the token the last refresh returned, under strict reuse detection", func() {
		t, sim, err := bench.Simulator("offline_access api")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(t.Close)
		res := run(t, workload(bench.WorkloadRefresh))
		Expect(res.Errors).To(BeZero(), "%v", res.FirstError)
		var refreshed, reused int
		for _, e := range sim.Events().Since(0) {
			switch {
			case e.Kind == events.TokenRequest && e.GrantType == "refresh_token" && e.Outcome == events.OutcomeOK:
				refreshed++
			case e.Kind == events.RefreshReuseDetected:
				reused++
			}
		}
		Expect(reused).To(BeZero())
		// The warm-up's refreshes are served too, and not counted.
		Expect(refreshed).To(BeNumerically(">=", res.Requests))
	})

	It("would see the simulator refuse a stale refresh token: its reuse detection is on", func() {
		t, sim, err := bench.Simulator("offline_access api")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(t.Close)
		grants, err := t.Grants(context.Background(), 1)
		Expect(err).NotTo(HaveOccurred())
		c := bench.NewHTTPClient(1)
		refresh := func(rt string) int {
			req, err := http.NewRequest(http.MethodPost, t.URL+t.TokenPath,
				strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("demo", "demo-secret")
			resp, err := c.Do(req)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			return resp.StatusCode
		}
		Expect(refresh(grants[0])).To(Equal(http.StatusOK))
		Expect(refresh(grants[0])).To(Equal(http.StatusBadRequest))
		kinds := []events.Kind{}
		for _, e := range sim.Events().Since(0) {
			kinds = append(kinds, e.Kind)
		}
		Expect(kinds).To(ContainElement(events.RefreshReuseDetected))
	})

	It("drives oauth2-mock-server when make bench has installed it", func() {
		dir := filepath.Join("mockserver")
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "oauth2-mock-server")); err != nil {
			Skip("oauth2-mock-server is not installed (make bench installs it)")
		}
		node, err := exec.LookPath("node")
		Expect(err).NotTo(HaveOccurred())
		t, err := bench.MockServer(context.Background(), node, dir)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(t.Close)
		Expect(t.Name).To(MatchRegexp(`^oauth2-mock-server \d+\.\d+\.\d+$`))
		for _, w := range bench.Workloads(2) {
			res := run(t, w)
			Expect(res.Errors).To(BeZero(), "%s: %v", w.Name, res.FirstError)
		}
	})
})

var _ = Describe("Memory per family", func() {
	It("counts the heap the simulator's live families hold, with and without the event log", func() {
		m, err := bench.MeasureFamilies(2000, 2, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Families).To(Equal(2000))
		Expect(m.HeapPerFamily).To(BeNumerically(">", 100))
		Expect(m.HeapPerFamilyNoEvents).To(BeNumerically("<", m.HeapPerFamily))
		Expect(m.Events).To(BeNumerically(">=", 2000*4), "a mint logs its grant and three tokens")
		Expect(m.PeakRSSPerFamily).To(BeNumerically(">=", m.RSSPerFamily*0.9))
	})

	It("counts what a rotating family keeps per refresh: nothing", func() {
		per, err := bench.MeasureRefreshGrowth(200, 5)
		Expect(err).NotTo(HaveOccurred())
		// Access tokens and superseded refresh tokens carry their claims;
		// the store keeps no record of either. A few bytes of noise remain.
		Expect(per).To(BeNumerically("<", 16))
	})
})

var _ = Describe("Start-up of oauthsim serve", func() {
	It("times the banner and the first answer of the discovery document", func() {
		bin, err := gexec.Build("github.com/oauthsim/oauthsim/cmd/oauthsim")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
		s, err := bench.MeasureStartup(context.Background(), bin)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Banner).To(BeNumerically(">", 0))
		Expect(s.Ready).To(BeNumerically(">=", s.Banner))
	})

	It("says so when the binary does not start", func() {
		_, err := bench.MeasureStartup(context.Background(), "/bin/false")
		Expect(err).To(MatchError(ContainSubstring("without its banner")))
	})
})
