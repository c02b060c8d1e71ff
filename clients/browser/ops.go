package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/conformance"
)

var _ conformance.Browser = (*process)(nil)

// begin starts an operation: every frame's clock catches up with the sim
// clock and follows the wall clock, as the harness's does while an
// operation is in flight. The returned func stops them again.
func (p *process) begin(ctx context.Context) func() {
	p.mu.Lock()
	p.flowing = true
	p.mu.Unlock()
	// What a frame that cannot be told does shows in the operation itself
	// (a load that does not end, say): the operation goes on.
	p.each(ctx, "flow")
	return func() {
		p.mu.Lock()
		p.flowing = false
		p.mu.Unlock()
		p.each(context.WithoutCancel(ctx), "hold")
	}
}

// frameState is what a frame's harness answers the runner: its requests
// in flight and its earliest timer's sim time in milliseconds (-1: none).
type frameState struct {
	Pending int   `json:"pending"`
	Next    int64 `json:"next"`
}

// each calls the harness's method on every live frame at once, with the
// sim time now, and sums up their states: every request in flight, the
// earliest timer of any.
func (p *process) each(ctx context.Context, method string) (frameState, error) {
	expr := fmt.Sprintf("self.__oauthsim ? __oauthsim.%s(%d) : {pending: 0, next: -1}", method, p.env.Clock.Now().UnixMilli())
	frames := p.live("")
	states := make([]frameState, len(frames))
	errs := make([]error, len(frames))
	for i := range states {
		// A frame that went away meanwhile has no timer left.
		states[i].Next = -1
	}
	var wg sync.WaitGroup
	for i, f := range frames {
		wg.Go(func() {
			if err := p.eval(ctx, f, expr, &states[i]); err != nil && !gone(err) {
				errs[i] = fmt.Errorf("tab %d frame %s: %s: %w", f.t.n, f.role, method, err)
			}
		})
	}
	wg.Wait()
	sum := frameState{Next: -1}
	for i, s := range states {
		if errs[i] != nil {
			return sum, errs[i]
		}
		sum.Pending += s.Pending
		if s.Next >= 0 && (sum.Next < 0 || s.Next < sum.Next) {
			sum.Next = s.Next
		}
	}
	return sum, nil
}

// settleLimit bounds how long the runner waits, in wall time, for the
// requests in flight to end after timers fired (a hang fault holds one).
const settleLimit = 5 * time.Second

// settle waits until no frame has a request in flight, twice in a row
// after a couple of macrotasks in each, so that what fired has run its
// course: a message to another frame, the request that one made. It
// returns the frames' state then.
func (p *process) settle(ctx context.Context) (frameState, error) {
	return p.settleAfter(ctx, "settle")
}

// settleAfter is settle whose first round calls method instead (tickTo or
// jumpTo, which settle after moving the clock).
func (p *process) settleAfter(ctx context.Context, method string) (frameState, error) {
	deadline := time.Now().Add(settleLimit)
	for quiet := 0; ; method = "settle" {
		st, err := p.each(ctx, method)
		if err != nil || time.Now().After(deadline) {
			return st, err
		}
		if st.Pending > 0 {
			quiet = 0
			time.Sleep(time.Millisecond)
			continue
		}
		if quiet++; quiet == 2 {
			return st, ctx.Err()
		}
	}
}

// maxFirings bounds the timers one Pass fires at the same instant: a page
// that keeps scheduling zero-delay timers would otherwise never let time
// pass.
const maxFirings = 10000

// Pass implements conformance.Browser.
func (p *process) Pass(ctx context.Context, d time.Duration, suspend bool, advance func(time.Duration) error) error {
	if suspend {
		if err := advance(d); err != nil {
			return err
		}
		// The machine wakes: overdue timers fire, once. What they start (a
		// refresh, say) is still on the wire when the user's next action
		// comes, as on a real wake-up, where the network comes back with
		// the page: the runner does not wait for it.
		_, err := p.each(ctx, "jumpTo")
		return err
	}
	st, err := p.each(ctx, "hold")
	remaining := d
	for same := 0; err == nil; {
		gap := time.Duration(st.Next-p.env.Clock.Now().UnixMilli()) * time.Millisecond
		if st.Next < 0 || gap > remaining {
			break
		}
		if gap > 0 {
			if err := advance(gap); err != nil {
				return err
			}
			remaining -= gap
			same = 0
		} else if same++; same > maxFirings {
			return fmt.Errorf("the page fired %d timers without letting time pass", maxFirings)
		}
		st, err = p.settleAfter(ctx, "tickTo")
	}
	if err != nil {
		return err
	}
	if remaining > 0 {
		if err := advance(remaining); err != nil {
			return err
		}
	}
	if _, err := p.each(ctx, "hold"); err != nil {
		return err
	}
	_, err = p.settle(ctx)
	return err
}

// Tick implements conformance.Process: the frames catch up with the sim
// clock, firing what is due.
func (p *process) Tick(ctx context.Context) error {
	_, err := p.each(ctx, "hold")
	return err
}

// Authorize implements conformance.Browser.
func (p *process) Authorize(ctx context.Context, user string) (string, conformance.Result, error) {
	defer p.begin(ctx)()
	authURL, err := p.authorizationURL(ctx)
	if err != nil {
		return "", conformance.Result{Outcome: contract.OutcomeError, Detail: err.Error()}, nil
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return "", conformance.Result{Outcome: contract.OutcomeError, Detail: "the authorization URL: " + err.Error()}, nil
	}
	q := u.Query()
	q.Set("login_hint", user)
	u.RawQuery = q.Encode()
	t, err := p.tab(p.firstOpen())
	if err != nil {
		return "", conformance.Result{}, err
	}
	if err := p.goTo(ctx, t, u.String()); err != nil {
		return "", conformance.Result{}, err
	}
	// The provider sends the browser back to the callback page, or keeps it
	// on a page of its own that says why not (an unregistered redirect URI).
	if stayed, err := p.waitCallback(ctx, t); err != nil {
		return "", conformance.Result{}, err
	} else if stayed != "" {
		return "", conformance.Result{Outcome: contract.OutcomeError, Detail: "the browser did not come back to the application: the provider kept it at " + stayed}, nil
	}
	callback := p.topURL(t)
	res, err := p.complete(ctx, t)
	return callback, res, err
}

// providerStay is how long a page of the provider may stay in the tab
// before the runner concludes that the provider will not send the browser
// back (its answers redirect at once, or show a page and stop).
const providerStay = 500 * time.Millisecond

// waitCallback waits until tab t is on the application's callback page and
// ready, or has stayed on a page of another origin: it returns that page.
func (p *process) waitCallback(ctx context.Context, t *tab) (string, error) {
	callback := p.appOrigin() + "/callback"
	return p.poll(ctx, t, func() (bool, string, string) {
		ok, state := p.tabReady(t, callback)
		if ok {
			return true, state, ""
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if top := t.top(); top != nil && top.origin != p.origins.app && top.origin != p.origins.app2 && time.Since(top.committed) > providerStay {
			return false, state, top.url
		}
		return false, state, ""
	})
}

// authorizationURL asks the first open tab's application manager to start
// a login: the tab the user is in.
func (p *process) authorizationURL(ctx context.Context) (string, error) {
	f, err := p.appFrame(p.firstOpen())
	if err != nil {
		return "", err
	}
	var s string
	if err := p.eval(ctx, f, "(async () => String(await __oauthsim.manager.authorizationUrl()))()", &s); err != nil {
		return "", fmt.Errorf("authorizationUrl(): %w", err)
	}
	return s, nil
}

func (p *process) tab(n int) (*tab, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n < 1 || n > len(p.tabs) {
		return nil, fmt.Errorf("there is no tab %d: %d were opened", n, len(p.tabs))
	}
	if t := p.tabs[n-1]; !t.closed {
		return t, nil
	}
	return nil, fmt.Errorf("tab %d is closed", n)
}

// AuthorizationURL implements conformance.Process.
func (p *process) AuthorizationURL(ctx context.Context) (string, error) {
	defer p.begin(ctx)()
	return p.authorizationURL(ctx)
}

// CompleteAuthorization implements conformance.Process: the first open tab
// goes to callback, the application completes the authorization there, and
// the tab goes back to the application's page.
func (p *process) CompleteAuthorization(ctx context.Context, callback string) (conformance.Result, error) {
	defer p.begin(ctx)()
	t, err := p.tab(p.firstOpen())
	if err != nil {
		return conformance.Result{}, err
	}
	if err := p.navigate(ctx, t, callback); err != nil {
		return conformance.Result{Outcome: contract.OutcomeError, Detail: err.Error()}, nil
	}
	return p.complete(ctx, t)
}

// complete has tab t's callback page complete the authorization, and takes
// the tab back to the application.
func (p *process) complete(ctx context.Context, t *tab) (conformance.Result, error) {
	res, err := p.managerCall(ctx, t.n, "completeAuthorization(location.href)")
	if err != nil {
		return res, err
	}
	if err := p.navigate(ctx, t, p.appOrigin()+t.path); err != nil {
		return res, err
	}
	_, err = p.settle(ctx)
	return res, err
}

// Load implements conformance.Browser: every dashboard of every open tab
// loads at once; then the probe re-sends what the application posted to
// its dashboards, forged, and a dashboard that takes it uses the forged
// token at its next load. The probe comes after the load, not before: it
// waits for what its messages cause, and must not let what a step before
// started (a refresh a wake-up sent) finish before the dashboards load.
func (p *process) Load(ctx context.Context) ([]conformance.Result, error) {
	defer p.begin(ctx)()
	results, err := p.load(ctx, p.live(contract.FrameDashboard))
	if err != nil {
		return nil, err
	}
	if err := p.probe(ctx); err != nil {
		return nil, err
	}
	return results, nil
}

func (p *process) load(ctx context.Context, dashboards []liveFrame) ([]conformance.Result, error) {
	out := make([]conformance.Result, len(dashboards))
	var wg sync.WaitGroup
	for i, f := range dashboards {
		wg.Go(func() {
			lctx, cancel := context.WithTimeout(ctx, loadTimeout)
			defer cancel()
			var v map[string]string
			err := p.eval(lctx, f, "__oauthsim.load ? __oauthsim.load() : {outcome: 'error', detail: 'the dashboard has no manager'}", &v)
			if errors.Is(err, context.DeadlineExceeded) || lctx.Err() != nil && ctx.Err() == nil {
				err = fmt.Errorf("tab %d: the dashboard's load did not end within %s", f.t.n, loadTimeout)
			}
			out[i] = result(v, err)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, err := p.settle(ctx)
	return out, err
}

// probe has each tab's probe frame re-send, forged, the messages its
// application posted to a dashboard since the last time.
func (p *process) probe(ctx context.Context) error {
	p.mu.Lock()
	var sends []contract.BrowserMessage
	for _, m := range p.log.Messages[p.probed:] {
		if !m.Probe && m.ToOrigin == p.origins.dash && m.FromOrigin != p.origins.dash {
			sends = append(sends, m)
		}
	}
	p.probed = len(p.log.Messages)
	p.mu.Unlock()
	probes := p.live(contract.FrameProbe)
	for _, m := range sends {
		for _, f := range probes {
			if f.t.n != m.Tab {
				continue
			}
			if err := p.eval(ctx, f, "__oauthsim.probe("+jsString(m.Data)+")", nil); err != nil && !gone(err) {
				return fmt.Errorf("tab %d: the probe: %w", f.t.n, err)
			}
		}
	}
	if len(sends) == 0 {
		return nil
	}
	_, err := p.settle(ctx)
	return err
}

// jsString quotes s as a JavaScript string literal (JSON's is one).
func jsString(s string) string {
	b := new(strings.Builder)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Call implements conformance.Process: the first dashboard of the first
// open tab loads once.
func (p *process) Call(ctx context.Context) (conformance.Result, error) {
	defer p.begin(ctx)()
	dashboards := p.live(contract.FrameDashboard)
	if len(dashboards) == 0 {
		return conformance.Result{}, errors.New("no open tab has a dashboard")
	}
	out, err := p.load(ctx, dashboards[:1])
	if err != nil {
		return conformance.Result{}, err
	}
	return out[0], nil
}

// Logout implements conformance.Process, in the first open tab.
func (p *process) Logout(ctx context.Context) (conformance.Result, error) {
	defer p.begin(ctx)()
	return p.managerCall(ctx, p.firstOpen(), "logout()")
}

func (p *process) firstOpen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.tabs {
		if !t.closed {
			return t.n
		}
	}
	return 1
}

// ServiceCall is not offered: a browser holds no client secret.
func (p *process) ServiceCall(context.Context) (conformance.Result, error) {
	return conformance.Result{}, errors.New("a browser client makes no client credentials calls")
}

// Reload has nothing to do: a browser client is public, with no secret.
func (p *process) Reload(context.Context) error { return nil }

// Stop implements conformance.Process: the browser context goes, with its
// tabs and storage, and so do the origins.
func (p *process) Stop(context.Context) error {
	p.stop()
	if p.release != nil {
		p.release()
		p.release = nil
	}
	return nil
}

// Log implements conformance.Browser.
func (p *process) Log() contract.BrowserLog {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.log
	l.Frames = append([]contract.BrowserFrame(nil), l.Frames...)
	l.Requests = append([]contract.BrowserRequest(nil), l.Requests...)
	l.Messages = append([]contract.BrowserMessage(nil), l.Messages...)
	l.Reports = append([]contract.BrowserReport(nil), l.Reports...)
	return l
}

// Screenshot implements conformance.Browser.
func (p *process) Screenshot(ctx context.Context) ([][]byte, error) {
	var out [][]byte
	for _, t := range p.openTabs() {
		c, done := within(t.ctx, ctx)
		png, err := chromedp.Run(c, chromedp.CaptureScreenshot())
		done()
		if err != nil {
			return nil, fmt.Errorf("tab %d: screenshot: %w", t.n, err)
		}
		out = append(out, png)
	}
	return out, nil
}

func (p *process) openTabs() []*tab {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*tab
	for _, t := range p.tabs {
		if !t.closed {
			out = append(out, t)
		}
	}
	return out
}

// showHidden tells every frame of tab t whether the tab is hidden, and
// since when.
func (p *process) showHidden(ctx context.Context, t *tab) error {
	p.mu.Lock()
	since := t.hiddenSince
	p.mu.Unlock()
	expr := "self.__oauthsim && __oauthsim.hide(false)"
	if !since.IsZero() {
		expr = fmt.Sprintf("self.__oauthsim && __oauthsim.hide(true, %d)", since.UnixMilli())
	}
	for _, f := range p.live("") {
		if f.t != t {
			continue
		}
		if err := p.eval(ctx, f, expr, nil); err != nil && !gone(err) {
			return fmt.Errorf("tab %d: %w", t.n, err)
		}
	}
	return nil
}

// Browse implements conformance.Browser.
func (p *process) Browse(ctx context.Context, a contract.BrowserAction) (conformance.Result, error) {
	defer p.begin(ctx)()
	ok := conformance.Result{Outcome: contract.OutcomeOK}
	switch a.Kind {
	case contract.BrowseOpenTab:
		n := a.Dashboards
		if n == 0 {
			n = p.setup.Dashboards
		}
		return ok, p.openTab(ctx, n)
	case contract.BrowseThirdPartyCookies:
		b, err := blocked(a.Value)
		if err != nil {
			return conformance.Result{}, err
		}
		p.mu.Lock()
		p.blocked3p = b
		p.mu.Unlock()
		for _, t := range p.openTabs() {
			if err := chromedp.Do(t.ctx, chromedp.Func(p.cookieControls)); err != nil {
				return conformance.Result{}, fmt.Errorf("tab %d: cookie controls: %w", t.n, err)
			}
		}
		return ok, nil
	case contract.BrowseMoveOrigin:
		// The application is deployed on its new origin: what is loaded
		// from now on (a navigation, a new tab, a sign-in) comes from there,
		// with no storage; a tab already open stays on the old origin, with
		// what it holds, as a user's open tab does until reloaded.
		p.mu.Lock()
		p.moved = true
		p.mu.Unlock()
		return ok, nil
	}
	t, err := p.tab(a.Tab)
	if err != nil {
		return conformance.Result{}, fmt.Errorf("%s: %w", a.Kind, err)
	}
	switch a.Kind {
	case contract.BrowseCloseTab:
		p.mu.Lock()
		t.closed = true
		p.mu.Unlock()
		t.cancel()
		now := p.env.Clock.Now()
		p.mu.Lock()
		for id := range t.frames {
			t.detach(id, func(f *frame) { p.closeEntry(f, now) })
		}
		p.mu.Unlock()
		return ok, nil
	case contract.BrowseNavigate:
		t.path = map[string]string{"/": "/next", "/next": "/"}[t.path]
		return ok, p.navigate(ctx, t, p.appOrigin()+t.path)
	case contract.BrowseHideTab, contract.BrowseShowTab:
		p.mu.Lock()
		t.hiddenSince = time.Time{}
		if a.Kind == contract.BrowseHideTab {
			t.hiddenSince = p.env.Clock.Now()
		}
		p.mu.Unlock()
		if err := p.showHidden(ctx, t); err != nil {
			return conformance.Result{}, fmt.Errorf("%s: %w", a.Kind, err)
		}
		_, err := p.settle(ctx)
		return ok, err
	}
	return conformance.Result{}, fmt.Errorf("unknown browser step %q", a.Kind)
}
