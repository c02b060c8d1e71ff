package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Memory is what n live token families cost the process that holds them.
type Memory struct {
	Families int
	// HeapPerFamily is the growth of the Go heap in use, after a full
	// collection, per family; HeapPerFamilyNoEvents the same once the event
	// log is cleared, which is what the families alone hold.
	HeapPerFamily, HeapPerFamilyNoEvents float64
	// RSSPerFamily is the growth of the resident set per family: what the
	// machine pays, the runtime's spare room included.
	RSSPerFamily float64
	Events       uint64
	MintTime     time.Duration
}

// MeasureFamilies mints n families on a fresh simulator in this process
// (through its control API, in-process, as serve would answer it) and
// measures what they hold. Run it in a process of its own: the resident set
// of one that has done other work says little. atPeak, when set, is called
// while the families are alive (to write a heap profile, say).
func MeasureFamilies(n, workers int, atPeak func()) (Memory, error) {
	p := profile.Generic()
	p.Refresh.MaxFamiliesPerUserClient = 0
	// A clock that stands still: the families stay alive however long the
	// minting takes.
	sim, err := simulator.New(simulator.WithClock(clock.NewFake(time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC))), simulator.WithProfile(p))
	if err != nil {
		return Memory{}, err
	}
	heap0, rss0 := settle()
	started := time.Now()
	body := `{"client_id":"demo","user":"alice","scope":"offline_access api"}`
	var next atomic.Int64
	var failed atomic.Pointer[string]
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				rec := httptest.NewRecorder()
				req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, simulator.PathControlPrefix+"/grants", strings.NewReader(body))
				sim.ServeHTTP(rec, req)
				if rec.Code != http.StatusCreated {
					msg := fmt.Sprintf("mint a grant: %d %s", rec.Code, rec.Body)
					failed.CompareAndSwap(nil, &msg)
					return
				}
			}
		})
	}
	wg.Wait()
	if msg := failed.Load(); msg != nil {
		return Memory{}, fmt.Errorf("%s", *msg)
	}
	m := Memory{Families: n, MintTime: time.Since(started), Events: sim.Events().Last()}
	live := 0
	for _, f := range sim.Store().Families() {
		if !f.Revoked && f.LiveAccess > 0 && len(f.LiveRefreshTokens) > 0 {
			live++
		}
	}
	if live != n {
		return Memory{}, fmt.Errorf("%d of the %d families minted are live", live, n)
	}
	heap1, rss1 := settle()
	if atPeak != nil {
		atPeak()
	}
	sim.Events().Clear()
	heap2, _ := settle()
	m.HeapPerFamily = float64(heap1-heap0) / float64(n)
	m.RSSPerFamily = float64(rss1-rss0) / float64(n)
	m.HeapPerFamilyNoEvents = float64(heap2-heap0) / float64(n)
	runtime.KeepAlive(sim)
	return m, nil
}

// settle collects garbage until the heap stops shrinking, and reads the
// heap in use and the resident set.
func settle() (heap, rss uint64) {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, residentSet()
}

// residentSet is the process's resident set in bytes, from /proc (Linux),
// or 0 where there is none.
func residentSet() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}
