// Command oauthsim-bench measures oauthsim as a load target and prints the
// figures `make bench` reports: requests per second and p50/p99 latency of
// the token endpoint and the API on loopback, against a bare net/http
// handler (the ceiling of the HTTP stack) and against the npm package
// oauth2-mock-server; memory per live token family; and how long `oauthsim
// serve` takes to be ready.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oauthsim/oauthsim/internal/bench"
)

func main() {
	var (
		workers  = flag.Int("workers", 16, "requests in flight at once")
		families = flag.Int("families", 16, "token families each worker refreshes in turn")
		warmup   = flag.Duration("warmup", 500*time.Millisecond, "unmeasured warm-up of each load")
		duration = flag.Duration("duration", 3*time.Second, "measured length of each load")
		mockDir  = flag.String("mock", "internal/bench/mockserver", "directory with server.mjs and oauth2-mock-server in node_modules (empty: skip it)")
		node     = flag.String("node", "node", "the node binary for oauth2-mock-server")
		oauthsim = flag.String("oauthsim", "bin/oauthsim", "the oauthsim binary whose start-up is timed (empty: skip)")
		memory   = flag.String("memory", "100000,1000000", "family counts to measure memory at, comma-separated (empty: skip)")
		startups = flag.Int("startups", 10, "starts of oauthsim serve to time")
		memChild = flag.Int("memory-child", 0, "internal: measure this many families in this process and print JSON")
		only     = flag.String("only", "", "run only these sections, comma-separated: load, memory, startup")
		workload = flag.String("workload", "", "run only the workloads whose name contains this")
		cpuProf  = flag.String("cpuprofile", "", "write a CPU profile of this process to the file (pprof)")
		memProf  = flag.String("memprofile", "", "with -memory-child: write a heap profile while the families live (pprof)")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: oauthsim-bench [flags]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	writeHeap := func() {
		f, err := os.Create(*memProf)
		if err == nil {
			err = pprof.WriteHeapProfile(f)
		}
		if err != nil {
			fail(err)
		}
	}
	if *memChild > 0 {
		var atPeak func()
		if *memProf != "" {
			atPeak = writeHeap
		}
		m, err := bench.MeasureFamilies(*memChild, runtime.GOMAXPROCS(0), atPeak)
		if err != nil {
			fail(err)
		}
		if err := json.NewEncoder(os.Stdout).Encode(m); err != nil {
			fail(err)
		}
		return
	}
	counts, err := parseCounts(*memory)
	if err != nil {
		fmt.Fprintf(os.Stderr, "-memory: %v\n", err)
		flag.Usage()
		os.Exit(2)
	}
	want := func(section string) bool { return *only == "" || slices.Contains(strings.Split(*only, ","), section) }
	ctx := context.Background()
	printMachine(*node)
	if want("load") {
		l := bench.Load{Workers: *workers, Warmup: *warmup, Duration: *duration}
		if err := loads(ctx, l, *families, *workload, *mockDir, *node); err != nil {
			fail(err)
		}
	}
	if want("memory") && len(counts) > 0 {
		if err := memories(counts); err != nil {
			fail(err)
		}
	}
	if want("startup") && *oauthsim != "" {
		if err := startup(ctx, *oauthsim, *startups); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "oauthsim-bench:", err)
	os.Exit(1)
}

func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// printMachine says what the figures came from.
func printMachine(node string) {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	nodeVersion := "none"
	if out, err := exec.Command(node, "--version").Output(); err == nil {
		nodeVersion = strings.TrimSpace(string(out))
	}
	fmt.Printf("machine: %s, %d CPUs (GOMAXPROCS %d), %s %s/%s, node %s\n",
		cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH, nodeVersion)
}

type row struct {
	target *bench.Target
	label  string
	res    bench.Result
}

// loads runs every workload against every target, one after another, and
// prints rates, latencies and the ratios the issue set goals for.
func loads(ctx context.Context, l bench.Load, families int, only, mockDir, node string) error {
	fmt.Printf("\nloopback HTTP load: %d workers, closed loop, %s measured after %s of warm-up, each target alone\n", l.Workers, l.Duration, l.Warmup)
	bare, err := bench.Bare()
	if err != nil {
		return err
	}
	defer bare.Close()
	sim, _, err := bench.Simulator("offline_access api")
	if err != nil {
		return err
	}
	defer sim.Close()
	oidc, _, err := bench.Simulator("openid offline_access api")
	if err != nil {
		return err
	}
	defer oidc.Close()
	var mock *bench.Target
	if mockDir != "" {
		if mock, err = bench.MockServer(ctx, node, mockDir); err != nil {
			return fmt.Errorf("%w (make bench installs it with npm ci in %s)", err, mockDir)
		}
		defer mock.Close()
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "workload\ttarget\treq/s\tp50\tp99\terrors\toauthsim ÷ bare\toauthsim ÷ mock\t")
	for _, wl := range bench.Workloads(families) {
		if !strings.Contains(wl.Name, only) {
			continue
		}
		type entry struct {
			t     *bench.Target
			label string
		}
		targets := []entry{{bare, bare.Name}, {sim, sim.Name}}
		if wl.Name == bench.WorkloadRefresh {
			// The price of an id_token on every refresh, which
			// oauth2-mock-server pays too (twice: it signs its access
			// tokens as well).
			targets = append(targets, entry{oidc, "oauthsim, openid scope (RS256 id_token)"})
		}
		if mock != nil {
			targets = append(targets, entry{mock, mock.Name})
		}
		var rows []row
		for _, tg := range targets {
			// A client per load, so that no load starts on another's connections.
			client := bench.NewHTTPClient(l.Workers)
			steps, err := wl.Steps(tg.t, client, l.Workers)
			if err != nil {
				return fmt.Errorf("%s against %s: %w", wl.Name, tg.label, err)
			}
			res, err := bench.Run(ctx, l, steps)
			client.CloseIdleConnections()
			if err != nil {
				return fmt.Errorf("%s against %s: %w", wl.Name, tg.label, err)
			}
			rows = append(rows, row{tg.t, tg.label, res})
		}
		base, mockRate := rows[0].res.PerSecond(), 0.0
		if mock != nil {
			mockRate = rows[len(rows)-1].res.PerSecond()
		}
		for _, r := range rows {
			vsBare, vsMock := "", ""
			if r.target != bare && r.target != mock {
				vsBare = ratio(r.res.PerSecond(), base)
				if mock != nil {
					vsMock = ratio(r.res.PerSecond(), mockRate)
				}
			}
			errs := strconv.Itoa(r.res.Errors)
			fmt.Fprintf(w, "%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t\n", wl.Name, r.label, r.res.PerSecond(), ms(r.res.P50), ms(r.res.P99), errs, vsBare, vsMock)
			if r.res.FirstError != nil {
				defer fmt.Printf("  first error of %s against %s: %v\n", wl.Name, r.label, r.res.FirstError)
			}
		}
	}
	w.Flush()
	fmt.Println("goals: refresh grant ≥ 0.5× bare and ≥ 8× oauth2-mock-server")
	if mock != nil && mock.Note != "" {
		fmt.Printf("note: %s: %s\n", mock.Name, mock.Note)
	}
	return nil
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// memories measures each count in a child process of its own, so that the
// resident set is the families' and not what earlier work left.
func memories(counts []int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Printf("\nmemory per live token family (a fresh process each; goal ≤ 1 KiB)\n")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "families\tGo heap/family\theap/family without the event log\tRSS/family\tpeak RSS/family\tevents\tminted in\t")
	for _, n := range counts {
		cmd := exec.Command(self, "-memory-child", strconv.Itoa(n))
		cmd.Stderr = os.Stderr
		bench.DieWithParent(cmd)
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("measure %d families: %w", n, err)
		}
		var m bench.Memory
		if err := json.Unmarshal(out, &m); err != nil {
			return fmt.Errorf("measure %d families: %w", n, err)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t\n", m.Families, kib(m.HeapPerFamily), kib(m.HeapPerFamilyNoEvents),
			kib(m.RSSPerFamily), kib(m.PeakRSSPerFamily), m.Events, m.MintTime.Round(time.Millisecond))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// The figures above are for families never refreshed; a refresh should
	// add nothing to them.
	const families, refreshes = 2000, 20
	per, err := bench.MeasureRefreshGrowth(families, refreshes)
	if err != nil {
		return err
	}
	fmt.Printf("a rotating family grows by %.0f bytes of Go heap per refresh (%d families refreshed %d times each, the event log aside)\n", per, families, refreshes)
	return nil
}

func kib(b float64) string { return fmt.Sprintf("%.2f KiB", b/1024) }

// startup times n starts of `oauthsim serve` until ready.
func startup(ctx context.Context, bin string, n int) error {
	var banner, ready []time.Duration
	for range n {
		s, err := bench.MeasureStartup(ctx, bin)
		if err != nil {
			return err
		}
		banner, ready = append(banner, s.Banner), append(ready, s.Ready)
	}
	slices.Sort(banner)
	slices.Sort(ready)
	fmt.Printf("\n`%s serve` start-up, %d starts (goal: ready < 100 ms)\n", bin, n)
	fmt.Printf("  banner printed: median %s, max %s\n", ms(banner[len(banner)/2]), ms(banner[len(banner)-1]))
	fmt.Printf("  discovery answers 200: median %s, max %s\n", ms(ready[len(ready)/2]), ms(ready[len(ready)-1]))
	return nil
}
