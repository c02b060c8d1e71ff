package conformance

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/reports"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator"
)

// maxScreenshots bounds the steps a run takes pictures after: a report
// shows those of the steps that went wrong, and a long timeline must not
// hold hundreds of them.
const maxScreenshots = 40

// maxShown bounds the steps whose pictures a report shows.
const maxShown = 8

// passLimit bounds the wall time of letting d of sim time pass in a
// browser: three operation timeouts for each sim hour begun, at most
// maxPassLimit. A page's timers fire one by one, each followed by what it
// started; a library whose timer ticks every few seconds fires thousands
// of them an hour. The bound is there to end a page that never settles, not to time
// one that does.
func passLimit(d time.Duration) time.Duration {
	hours := max(1, int64((d+time.Hour-1)/time.Hour))
	// With oidc-client-ts (two 5 s intervals a page) in three tabs, a 2 h
	// advance is about 8,600 timer firings: 35 s on an idle 2-core
	// machine, and more than the 40 s that one timeout an hour gave when
	// other work shared the machine.
	return min(time.Duration(hours)*3*OperationTimeout, maxPassLimit)
}

// maxPassLimit is the most a Pass may take, however long it is.
const maxPassLimit = 10 * time.Minute

// browser is the running process as a browser, or nil when it is none.
func (r *run) browser() Browser {
	b, _ := r.proc.(Browser)
	return b
}

// browserAuthorize signs the user in through the browser itself, which
// keeps the provider's session cookie as a user's browser does.
func (r *run) browserAuthorize(ctx context.Context, b Browser, user string, sr *StepRecord) error {
	return r.do(ctx, sr, "the authorization", func(ctx context.Context) (Result, error) {
		callback, res, err := b.Authorize(ctx, user)
		if callback != "" {
			r.callback = callback
		}
		return res, err
	})
}

// load has every dashboard load its data once: they load at once, as the
// callers of a concurrent step do, and are judged alike.
func (r *run) load(ctx context.Context, b Browser, sr *StepRecord) error {
	first := r.srv.Events().Last() + 1
	// A Load that overran the timeout may still end, and write, later.
	var loaded atomic.Pointer[[]Result]
	_, err := r.bounded(ctx, "Load", func(ctx context.Context) (Result, error) {
		results, err := b.Load(ctx)
		loaded.Store(&results)
		return Result{}, err
	})
	results := []Result{{Outcome: contract.OutcomeError}}
	if err != nil {
		results[0].Detail = err.Error()
	} else if p := loaded.Load(); p != nil {
		results = *p
	}
	for _, res := range results {
		c := r.called(res)
		c.FirstSeq, c.Callers = first, len(results)
		sr.Calls = append(sr.Calls, c)
	}
	return err
}

// pass lets d of sim time pass in the browser: it runs, firing its timers
// at their times, or it sleeps and wakes late.
func (r *run) pass(ctx context.Context, b Browser, d time.Duration, suspend bool) error {
	_, err := r.boundedWithin(ctx, "Pass", passLimit(d), func(ctx context.Context) (Result, error) {
		return Result{}, b.Pass(ctx, d, suspend, func(d time.Duration) error {
			_, err := r.srv.AdvanceClock(d)
			return err
		})
	})
	return err
}

// browse carries out a browser step. It is no client call: what the
// application makes of it shows in the calls after it and in what the
// browser observed, which the checks judge.
func (r *run) browse(ctx context.Context, s scenarios.Step) error {
	b := r.browser()
	if b == nil {
		return fmt.Errorf("%s: the client is no browser", s.Action())
	}
	if s.MoveOrigin {
		if err := r.moveRegistration(); err != nil {
			return err
		}
		// The grants the old origin's pages hold can no longer be used: the
		// provider refuses their refreshes from there, and the new origin's
		// pages never had them. Asking the user to sign in again is right.
		for _, f := range r.srv.Families() {
			r.dropped[f.ID] = true
		}
	}
	a := contract.BrowserAction{Kind: s.Action(), Tab: max(s.CloseTab, s.Navigate, s.HideTab, s.ShowTab), Value: s.ThirdPartyCookies}
	if s.OpenTab != nil {
		a.Dashboards = s.OpenTab.Dashboards
	}
	_, err := r.bounded(ctx, "Browse", func(ctx context.Context) (Result, error) { return b.Browse(ctx, a) })
	return err
}

// screenshot keeps pictures of the pages after each step of a browser
// run: which steps went wrong is known only once the checks have judged
// the run (see Suite.verdict), and the pages are gone by then.
func (r *run) screenshot(sr *StepRecord) {
	b := r.browser()
	if b == nil || r.shots >= maxScreenshots {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), OperationTimeout)
	defer cancel()
	pngs, err := b.Screenshot(ctx)
	if err != nil {
		return // a picture is a help for the reader; its absence fails nothing
	}
	sr.Screenshots = pngs
	r.shots++
}

// wentWrong reports whether step s of a run went wrong by itself: a call
// did not end ok, or the step failed.
func (s StepRecord) wentWrong() bool {
	return s.Err != nil || slices.ContainsFunc(s.Calls, func(c CallRecord) bool { return c.Outcome != contract.OutcomeOK })
}

// shots are step s's pictures as a report shows them: PNG data URLs.
func (s StepRecord) shots() []string {
	var out []string
	for _, png := range s.Screenshots {
		out = append(out, "data:image/png;base64,"+base64.StdEncoding.EncodeToString(png))
	}
	return out
}

// showShots gives the report's steps of run the pictures of the steps of
// r that went wrong or that hold an event of a failed check, the earliest
// maxShown of them.
func showShots(run *reports.Run, r *Record, failed []uint64) {
	shown := 0
	for i, s := range r.Steps {
		if i >= len(run.Steps) || len(s.Screenshots) == 0 {
			continue
		}
		if len(run.Steps[i].Screenshots) > 0 {
			shown++
			continue
		}
		flagged := s.wentWrong() || slices.ContainsFunc(failed, func(seq uint64) bool { return seq >= s.FirstSeq && seq <= s.LastSeq })
		if flagged && shown < maxShown {
			run.Steps[i].Screenshots = s.shots()
			shown++
		}
	}
}

// keepLog adds what process p's browser observed to the run's record.
func (r *run) keepLog(p Process) {
	b, ok := p.(Browser)
	if !ok {
		return
	}
	l := b.Log()
	if r.rec.Browser == nil {
		r.rec.Browser = &contract.BrowserLog{}
	}
	r.rec.Browser.Frames = append(r.rec.Browser.Frames, l.Frames...)
	r.rec.Browser.Requests = append(r.rec.Browser.Requests, l.Requests...)
	r.rec.Browser.Messages = append(r.rec.Browser.Messages, l.Messages...)
	r.rec.Browser.Reports = append(r.rec.Browser.Reports, l.Reports...)
}

// maskedBrowser is the browser's log with every credential masked, for a
// report; nil for a client that is no browser.
func (r *Record) maskedBrowser() *contract.BrowserLog {
	if r.Browser == nil {
		return nil
	}
	l := &contract.BrowserLog{Reports: slices.Clone(r.Browser.Reports)}
	for _, f := range r.Browser.Frames {
		f.URL = r.Mask(f.URL)
		l.Frames = append(l.Frames, f)
	}
	for _, q := range r.Browser.Requests {
		q.URL, q.Referer, q.Authorization, q.Body = r.Mask(q.URL), r.Mask(q.Referer), r.Mask(q.Authorization), r.Mask(q.Body)
		l.Requests = append(l.Requests, q)
	}
	for _, m := range r.Browser.Messages {
		m.Data = r.Mask(m.Data)
		l.Messages = append(l.Messages, m)
	}
	for i := range l.Reports {
		l.Reports[i].Detail = r.Mask(l.Reports[i].Detail)
	}
	return l
}

// atOrigins gives the scenario's clients the browser client's origins: a
// redirect URI or allowed origin on one of its hosts without a port gets
// the port the client serves that host on.
func atOrigins(clients []simulator.Client, origins map[string]string) []simulator.Client {
	at := func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil || u.Port() != "" {
			return raw
		}
		o, ok := origins[u.Host]
		if !ok {
			return raw
		}
		return o + strings.TrimPrefix(raw, u.Scheme+"://"+u.Host)
	}
	out := make([]simulator.Client, len(clients))
	for i, c := range clients {
		c.RedirectURIs = mapped(c.RedirectURIs, at)
		c.AllowedOrigins = mapped(c.AllowedOrigins, at)
		out[i] = c
	}
	return out
}

func mapped(in []string, f func(string) string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

// moveRegistration is the provider's side of an origin move: the team
// registered the application's new origin in place of the old one, so its
// redirect URIs and allowed origins on the old origin now name the new.
// Pages still open on the old origin are then refused.
func (r *run) moveRegistration() error {
	o, ok := r.client.(Origins)
	if !ok {
		return fmt.Errorf("move_origin: the client names no origins")
	}
	origins := o.Origins()
	from, to := origins[contract.BrowserAppHost], origins[contract.BrowserMovedAppHost]
	if from == "" || to == "" {
		return fmt.Errorf("move_origin: the client names no origin for %s and %s", contract.BrowserAppHost, contract.BrowserMovedAppHost)
	}
	c, err := r.registeredClient()
	if err != nil {
		return err
	}
	move := func(raw string) string {
		if raw == from || strings.HasPrefix(raw, from+"/") {
			return to + strings.TrimPrefix(raw, from)
		}
		return raw
	}
	c.RedirectURIs, c.AllowedOrigins = mapped(c.RedirectURIs, move), mapped(c.AllowedOrigins, move)
	_, err = r.srv.ReplaceClient(c)
	return err
}
