package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
)

// Memory is what n live token families cost the process that holds them.
type Memory struct {
	Families int
	// HeapPerFamily is the growth of the Go heap in use, after a full
	// collection, per family; HeapPerFamilyNoEvents the same once the event
	// log is cleared, which is what the families alone hold.
	HeapPerFamily, HeapPerFamilyNoEvents float64
	// RSSPerFamily is the growth of the resident set per family after a
	// full collection: what the machine pays, the runtime's spare room
	// included. PeakRSSPerFamily is the growth of the process's highest
	// resident set while minting, per family.
	RSSPerFamily, PeakRSSPerFamily float64
	Events                         uint64
	MintTime                       time.Duration
}

// MeasureFamilies mints n families on a fresh simulator in this process
// (with its MintGrant, which the control API calls) and measures what they
// hold. Run it in a process of its own: the resident set
// of one that has done other work says little. atPeak, when set, is called
// while the families are alive (to write a heap profile, say).
func MeasureFamilies(n, workers int, atPeak func()) (Memory, error) {
	sim, err := stillSimulator()
	if err != nil {
		return Memory{}, err
	}
	heap0, rss0 := settle()
	started := time.Now()
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := mintInProcess(sim); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return Memory{}, *err
	}
	m := Memory{Families: n, MintTime: time.Since(started), Events: sim.Events().Last()}
	live := 0
	for _, f := range sim.Families() {
		if !f.Revoked && f.LiveAccess > 0 && len(f.LiveRefreshTokens) > 0 {
			live++
		}
	}
	if live != n {
		return Memory{}, fmt.Errorf("%d of the %d families minted are live", live, n)
	}
	peak := status("VmHWM:")
	heap1, rss1 := settle()
	if atPeak != nil {
		atPeak()
	}
	sim.Events().Clear()
	heap2, _ := settle()
	m.HeapPerFamily = float64(heap1-heap0) / float64(n)
	m.RSSPerFamily = float64(rss1-rss0) / float64(n)
	m.PeakRSSPerFamily = float64(peak-rss0) / float64(n)
	m.HeapPerFamilyNoEvents = float64(heap2-heap0) / float64(n)
	runtime.KeepAlive(sim)
	return m, nil
}

// settle collects garbage until the heap stops shrinking, and reads the
// heap in use and the resident set. It leaves the runtime's spare room
// with the process, as a serving process has it.
func settle() (heap, rss uint64) {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, status("VmRSS:")
}

// status reads a size in kB from /proc/self/status (Linux) in bytes, or 0
// where there is none: VmRSS is the resident set, VmHWM its high-water mark.
func status(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// MeasureRefreshGrowth mints families on a fresh simulator and refreshes
// each of them refreshes times, always with the newest refresh token, and
// returns how much the Go heap grew per refresh, the event log cleared. The
// store keeps no record of access tokens nor of the refresh tokens a
// rotation superseded (their claims travel in them), so a provider under
// refresh load should not grow at all.
func MeasureRefreshGrowth(families, refreshes int) (float64, error) {
	sim, err := stillSimulator()
	if err != nil {
		return 0, err
	}
	tokens := make([]string, families)
	for i := range tokens {
		t, err := mintInProcess(sim)
		if err != nil {
			return 0, err
		}
		tokens[i] = t.RefreshToken
	}
	sim.Events().Clear()
	heap0, _ := settle()
	for range refreshes {
		for i, rt := range tokens {
			req := httptest.NewRequest(http.MethodPost, simulator.PathToken, tokenForm(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(clientID, clientSecret)
			var t tokenResponse
			if err := inProcess(sim, req, &t); err != nil {
				return 0, err
			}
			tokens[i] = t.RefreshToken
		}
	}
	sim.Events().Clear()
	heap1, _ := settle()
	runtime.KeepAlive(sim)
	return (float64(heap1) - float64(heap0)) / float64(families*refreshes), nil
}

// stillSimulator is a fresh simulator for measuring memory: the generic
// profile without its cap on families, on a clock that stands still, so
// that every family stays alive however long the work takes.
func stillSimulator() (*simulator.Simulator, error) {
	return simulator.New(simulator.WithClock(clock.NewFake(time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC))), simulator.WithProfile(uncappedProfile()))
}

// mintInProcess mints a grant of the demo client for alice on sim, as the
// memory measurements do: refresh tokens, no id_token.
func mintInProcess(sim *simulator.Simulator) (simulator.Grant, error) {
	return sim.MintGrant(context.Background(), simulator.GrantRequest{ClientID: clientID, User: "alice", Scope: new("offline_access api")})
}

// inProcess serves req with h and decodes its 2xx JSON answer into out.
func inProcess(h http.Handler, req *http.Request, out any) error {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, rec.Code, rec.Body)
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}
