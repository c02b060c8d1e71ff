// Package bench measures oauthsim as a load target: a closed-loop HTTP load
// generator on loopback, the targets it compares (a bare net/http handler,
// the simulator, the npm package oauth2-mock-server), the memory a live
// token family costs, and how long `oauthsim serve` takes to be ready.
// cmd/oauthsim-bench prints the figures; `make bench` runs it.
package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Step makes one request of a workload and says whether it succeeded. A
// worker's steps run one after another: the next begins when the last
// answered (a closed loop), as a client fleet's token managers do.
type Step func(ctx context.Context) error

// Load is how a workload is driven.
type Load struct {
	// Workers is how many requests are in flight at once.
	Workers int
	// Warmup is run and not measured: connections open, caches fill.
	Warmup time.Duration
	// Duration is the measured stretch after it.
	Duration time.Duration
}

// Result is what one workload against one target measured.
type Result struct {
	Requests int
	Errors   int
	// FirstError is the first failed request's error, to say why.
	FirstError error
	Elapsed    time.Duration
	P50, P99   time.Duration
}

// PerSecond is the rate of successful requests.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
}

// Run drives l.Workers workers, each making the steps newStep gives it, for
// the warm-up and then the measured duration. newStep is called once per
// worker before any request, so that a worker can hold its own state (the
// refresh tokens of its families).
func Run(ctx context.Context, l Load, newStep func(worker int) (Step, error)) (Result, error) {
	if l.Workers < 1 || l.Duration <= 0 {
		return Result{}, errors.New("bench: a load needs at least one worker and a duration")
	}
	steps := make([]Step, l.Workers)
	for i := range steps {
		s, err := newStep(i)
		if err != nil {
			return Result{}, fmt.Errorf("worker %d: %w", i, err)
		}
		steps[i] = s
	}
	start := time.Now()
	from, until := start.Add(l.Warmup), start.Add(l.Warmup+l.Duration)
	ctx, cancel := context.WithDeadline(ctx, until.Add(10*time.Second))
	defer cancel()
	type tally struct {
		lat    []time.Duration
		errors int
		first  error
	}
	tallies := make([]tally, l.Workers)
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Go(func() {
			t := &tallies[i]
			t.lat = make([]time.Duration, 0, 1<<14)
			for {
				began := time.Now()
				if !began.Before(until) || ctx.Err() != nil {
					return
				}
				err := step(ctx)
				took := time.Since(began)
				if began.Before(from) {
					continue
				}
				// Errors count and are timed alike: a target must not look
				// fast by failing fast.
				t.lat = append(t.lat, took)
				if err != nil {
					t.errors++
					if t.first == nil {
						t.first = err
					}
				}
			}
		})
	}
	wg.Wait()
	var res Result
	var all []time.Duration
	for _, t := range tallies {
		all = append(all, t.lat...)
		res.Errors += t.errors
		if res.FirstError == nil {
			res.FirstError = t.first
		}
	}
	res.Requests = len(all)
	res.Elapsed = l.Duration
	if len(all) > 0 {
		slices.Sort(all)
		res.P50 = all[(len(all)-1)*50/100]
		res.P99 = all[(len(all)-1)*99/100]
	}
	return res, ctx.Err()
}

// NewHTTPClient is a keep-alive client with a connection per worker, so
// that the target, not connection set-up, is measured.
func NewHTTPClient(workers int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = workers * 2
	t.MaxIdleConnsPerHost = workers * 2
	t.MaxConnsPerHost = 0
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}
