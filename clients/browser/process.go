package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/conformance"
)

// How long the runner waits, in wall time, for a page to be ready and for
// a dashboard's load to end, before it says so.
const (
	readyTimeout = 15 * time.Second
	loadTimeout  = 10 * time.Second
	// bodyLimit cuts request bodies and messages in the log (16 KiB).
	bodyLimit = 16 << 10
)

// process is one process of a browser client: a browser context with its
// tabs, the runner's four origins, and what was observed.
type process struct {
	env    conformance.Env
	setup  contract.BrowserSetup
	module []byte
	// imports are the files beside the module, which it may import by a
	// relative path.
	imports fs.FS
	// bff is the application's own server, for a module that has one.
	bff     *bff
	origins origins
	release func()
	// root holds the browser context: a blank target of its own, so that
	// closing any tab leaves the context (its storage) to the others.
	root   context.Context
	cancel func()

	mu        sync.Mutex
	tabs      []*tab
	log       contract.BrowserLog
	flowing   bool
	moved     bool
	blocked3p bool
	// probed counts the messages of the log the probe has re-sent.
	probed int
}

// tab is one tab of the application.
type tab struct {
	n          int
	ctx        context.Context
	cancel     func()
	closed     bool
	dashboards int
	path       string
	// hiddenSince is when the tab was put in the background; zero while
	// it is not.
	hiddenSince time.Time
	frames      map[cdp.FrameID]*frame
	contexts    map[runtime.ExecutionContextID]cdp.FrameID
	requests    map[network.RequestID]int
}

// frame is a frame of a tab as it is now.
type frame struct {
	id       cdp.FrameID
	parent   cdp.FrameID
	children []cdp.FrameID
	url      string
	origin   string
	role     string
	context  runtime.ExecutionContextID
	unique   string
	ready    bool
	readyErr string
	// entry is the frame's index in the log's Frames, -1 before a document.
	entry int
	// committed is when (wall time) its document was committed.
	committed time.Time
}

var yes = true

// setup is what a process is started with, beside its environment: the
// module and the files beside it, the origin the application moves to, and
// whether it has a server of its own.
type setup struct {
	module  []byte
	imports fs.FS
	app2    string
	bff     bool
}

func start(ctx context.Context, browser context.Context, env conformance.Env, s setup) (*process, error) {
	p := &process{env: env, module: s.module, imports: s.imports}
	if s.bff {
		p.bff = newBFF(env)
	}
	if err := p.serve(s.app2); err != nil {
		return nil, err
	}
	p.root, p.cancel = chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(p.root); err != nil {
		p.stop()
		return nil, fmt.Errorf("open a browser context: %w", err)
	}
	if env.Browser != nil {
		p.setup = *env.Browser
	}
	// A scenario without browser settings gets one tab with one dashboard.
	p.setup.Tabs, p.setup.Dashboards = max(p.setup.Tabs, 1), max(p.setup.Dashboards, 1)
	var err error
	if p.blocked3p, err = blocked(p.setup.ThirdPartyCookies); err != nil {
		p.stop()
		return nil, err
	}
	done := p.begin(ctx)
	defer done()
	for range p.setup.Tabs {
		if err := p.openTab(ctx, p.setup.Dashboards); err != nil {
			p.stop()
			return nil, err
		}
	}
	return p, nil
}

// blocked reads a third-party cookie setting; empty is the default, allowed.
func blocked(setting string) (bool, error) {
	switch setting {
	case "", contract.ThirdPartyCookiesAllowed:
		return false, nil
	case contract.ThirdPartyCookiesBlocked:
		return true, nil
	}
	return false, fmt.Errorf("third_party_cookies: want %s or %s, got %q", contract.ThirdPartyCookiesAllowed, contract.ThirdPartyCookiesBlocked, setting)
}

func (p *process) stop() {
	if p.cancel != nil {
		p.cancel()
	}
	p.origins.close()
}

func (p *process) isFlowing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flowing
}

func (p *process) appOrigin() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.moved {
		return p.origins.app2
	}
	return p.origins.app
}

// dashboardsOf is the number of dashboards tab n's page mounts.
func (p *process) dashboardsOf(tabParam string) int {
	n, _ := strconv.Atoi(tabParam)
	p.mu.Lock()
	defer p.mu.Unlock()
	if n < 1 || n > len(p.tabs) {
		return 0
	}
	return p.tabs[n-1].dashboards
}

// openTab opens the application in a new tab of the process's browser
// context and waits for its page and dashboards.
func (p *process) openTab(ctx context.Context, dashboards int) error {
	p.mu.Lock()
	t := &tab{n: len(p.tabs) + 1, dashboards: dashboards, path: "/", frames: map[cdp.FrameID]*frame{},
		contexts: map[runtime.ExecutionContextID]cdp.FrameID{}, requests: map[network.RequestID]int{}}
	p.tabs = append(p.tabs, t)
	p.mu.Unlock()
	t.ctx, t.cancel = chromedp.NewContext(p.root, chromedp.WithListener(func(ev any) { p.event(t, ev) }))
	err := chromedp.Do(t.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, runtime.AddBinding, runtime.AddBindingParams{Name: "__oauthsimRecord"}); err != nil {
			return err
		}
		return p.cookieControls(ctx, tg)
	}))
	if err != nil {
		return fmt.Errorf("open tab %d: %w", t.n, err)
	}
	return p.navigate(ctx, t, p.appOrigin()+t.path)
}

// cookieControls applies the process's third-party cookie setting to a
// tab (Network.setCookieControls; it takes effect from the next load).
func (p *process) cookieControls(ctx context.Context, tg *chromedp.Target) error {
	p.mu.Lock()
	blocked := p.blocked3p
	p.mu.Unlock()
	// Chromium 148 wants all three fields, where cdproto's
	// SetCookieControlsParams has only the first: Invalid parameters.
	return tg.Call(ctx, network.CommandSetCookieControls, map[string]bool{
		"enableThirdPartyCookieRestriction": blocked,
		"disableThirdPartyCookieMetadata":   false,
		"disableThirdPartyCookieHeuristics": blocked,
	}, nil)
}

// navigate loads page in tab t's top frame and waits until it is ready.
func (p *process) navigate(ctx context.Context, t *tab, target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	q := u.Query()
	if u.Path != "/callback" {
		q.Set("tab", strconv.Itoa(t.n))
		u.RawQuery = q.Encode()
	}
	if err := p.goTo(ctx, t, u.String()); err != nil {
		return err
	}
	if err := p.waitReady(ctx, t, pageOf(u.String())); err != nil {
		return err
	}
	// A page loaded in a background tab is hidden from the start.
	return p.showHidden(ctx, t)
}

// goTo starts loading target in tab t's top frame.
func (p *process) goTo(ctx context.Context, t *tab, target string) error {
	// The page it leaves is not the one waited for, even at the same URL.
	p.mu.Lock()
	if top := t.top(); top != nil {
		top.ready = false
	}
	p.mu.Unlock()
	err := chromedp.Do(t.ctx, chromedp.Func(func(cctx context.Context, tg *chromedp.Target) error {
		c, done := within(cctx, ctx)
		defer done()
		_, err := cdp.Call(c, tg, page.Navigate, page.NavigateParams{URL: target})
		return err
	}))
	if err != nil {
		return fmt.Errorf("tab %d: navigate to %s: %w", t.n, target, err)
	}
	return nil
}

// topURL is the URL of tab t's top frame.
func (p *process) topURL(t *tab) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f := t.top(); f != nil {
		return f.url
	}
	return ""
}

// within is ctx of a chromedp action, ended early when the caller's is;
// done releases it.
func within(ctx, caller context.Context) (c context.Context, done func()) {
	c, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(caller, cancel)
	return c, func() {
		stop()
		cancel()
	}
}

// waitReady waits until tab t's top frame shows page (a URL without query),
// its module has run, and so have those of its dashboards and probe.
func (p *process) waitReady(ctx context.Context, t *tab, page string) error {
	_, err := p.poll(ctx, t, func() (bool, string, string) {
		ok, state := p.tabReady(t, page)
		return ok, state, ""
	})
	return err
}

// poll checks every few milliseconds until check says the tab is ready or
// gives up with a reason, and fails when neither happens in readyTimeout.
func (p *process) poll(ctx context.Context, t *tab, check func() (ready bool, state, giveUp string)) (string, error) {
	deadline := time.Now().Add(readyTimeout)
	for {
		ok, state, giveUp := check()
		if ok || giveUp != "" {
			return giveUp, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("tab %d did not get ready within %s: %s", t.n, readyTimeout, state)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// pageOf is a URL without its query and fragment.
func pageOf(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.Scheme + "://" + u.Host + u.Path
}

func (p *process) tabReady(t *tab, page string) (bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	top := t.top()
	if top == nil || pageOf(top.url) != page {
		if top == nil {
			return false, "it has no page"
		}
		return false, fmt.Sprintf("its page is %q, not %s", top.url, page)
	}
	if !top.ready {
		return false, "the application's page has not run its module"
	}
	if strings.HasSuffix(page, "/callback") {
		return true, ""
	}
	dashboards, probe := 0, false
	for _, id := range top.children {
		f := t.frames[id]
		if f == nil || !f.ready {
			continue
		}
		switch f.role {
		case contract.FrameDashboard:
			dashboards++
		case contract.FrameProbe:
			probe = true
		}
	}
	if dashboards < t.dashboards || !probe {
		return false, fmt.Sprintf("%d of %d dashboards ready, probe ready %t", dashboards, t.dashboards, probe)
	}
	return true, ""
}

func (t *tab) top() *frame {
	for _, f := range t.frames {
		if f.parent == "" {
			return f
		}
	}
	return nil
}

// roleOf is what a frame of origin is, the top frame or not.
func (p *process) roleOf(origin string, top bool) string {
	switch origin {
	case p.origins.app, p.origins.app2:
		if top {
			return contract.FrameApp
		}
	case p.origins.dash:
		return contract.FrameDashboard
	case p.origins.probe:
		return contract.FrameProbe
	}
	return contract.FrameOther
}

// event records what a tab's DevTools session tells. It runs on chromedp's
// reading goroutine and must not send a command.
func (p *process) event(t *tab, ev any) {
	now := p.env.Clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := ev.(type) {
	case *page.EventFrameAttached:
		f := t.frame(e.FrameID)
		f.parent = e.ParentFrameID
		if parent := t.frames[e.ParentFrameID]; parent != nil {
			parent.children = append(parent.children, e.FrameID)
		}
	case *page.EventFrameNavigated:
		fr := e.Frame
		f := t.frame(fr.ID)
		f.parent = fr.ParentID
		// The frames in the document it leaves go with it.
		for _, c := range slices.Clone(f.children) {
			t.detach(c, func(g *frame) { p.closeEntry(g, now) })
		}
		p.closeEntry(f, now)
		f.url, f.origin, f.ready, f.readyErr, f.committed = fr.URL, fr.SecurityOrigin, false, "", time.Now()
		f.role = p.roleOf(fr.SecurityOrigin, fr.ParentID == "")
		f.entry = len(p.log.Frames)
		p.log.Frames = append(p.log.Frames, contract.BrowserFrame{ID: string(fr.ID), Tab: t.n, Role: f.role,
			Origin: fr.SecurityOrigin, URL: fr.URL, Opened: now})
	case *page.EventFrameDetached:
		if e.Reason == page.FrameDetachedReasonSwap {
			return
		}
		t.detach(e.FrameID, func(f *frame) { p.closeEntry(f, now) })
	case *runtime.EventExecutionContextCreated:
		var aux struct {
			FrameID   cdp.FrameID `json:"frameId"`
			IsDefault bool        `json:"isDefault"`
		}
		if json.Unmarshal(e.Context.AuxData, &aux) == nil && aux.IsDefault {
			f := t.frame(aux.FrameID)
			f.context, f.unique = e.Context.ID, e.Context.UniqueID
			t.contexts[e.Context.ID] = aux.FrameID
		}
	// executionContextsCleared is not heeded: after a navigation that
	// changed renderer (to the provider and back) it came after the new
	// page's context was created, and would forget that one. A frame's
	// newest default context is the one used; destroyed ones are named.
	case *runtime.EventExecutionContextDestroyed:
		for _, f := range t.frames {
			if f.unique == e.ExecutionContextUniqueID {
				delete(t.contexts, f.context)
				f.context, f.unique = 0, ""
			}
		}
	case *runtime.EventBindingCalled:
		p.recorded(t, t.frames[t.contexts[e.ExecutionContextID]], e.Payload, now)
	case *runtime.EventConsoleAPICalled:
		p.console(t, t.frames[t.contexts[e.ExecutionContextID]], string(e.Type), e.Args)
	case *runtime.EventExceptionThrown:
		if d := e.ExceptionDetails; d != nil {
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text = d.Exception.Description
			}
			p.write(t, t.frames[t.contexts[d.ExecutionContextID]], "uncaught", text)
		}
	case *network.EventRequestWillBeSent:
		p.request(t, e, now)
	case *network.EventResponseReceived:
		if i, ok := t.requests[e.RequestID]; ok && e.Response != nil {
			p.log.Requests[i].Status = int(e.Response.Status)
		}
	case *network.EventLoadingFailed:
		if i, ok := t.requests[e.RequestID]; ok {
			r := &p.log.Requests[i]
			r.Failed = e.ErrorText
			if e.CorsErrorStatus != nil {
				r.Blocked = "cors: " + string(e.CorsErrorStatus.CorsError)
			} else if e.BlockedReason != "" {
				r.Blocked = string(e.BlockedReason)
			}
		}
	}
}

func (t *tab) frame(id cdp.FrameID) *frame {
	f := t.frames[id]
	if f == nil {
		f = &frame{id: id, entry: -1}
		t.frames[id] = f
	}
	return f
}

// detach forgets a frame and the frames in it.
func (t *tab) detach(id cdp.FrameID, closed func(*frame)) {
	f := t.frames[id]
	if f == nil {
		return
	}
	for _, c := range f.children {
		t.detach(c, closed)
	}
	closed(f)
	if parent := t.frames[f.parent]; parent != nil {
		parent.children = removeID(parent.children, id)
	}
	delete(t.frames, id)
}

func removeID(ids []cdp.FrameID, id cdp.FrameID) []cdp.FrameID {
	out := ids[:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

func (p *process) closeEntry(f *frame, now time.Time) {
	if f.entry >= 0 && p.log.Frames[f.entry].Closed.IsZero() {
		p.log.Frames[f.entry].Closed = now
	}
}

func cut(s string) string {
	if len(s) > bodyLimit {
		return s[:bodyLimit]
	}
	return s
}

func (p *process) request(t *tab, e *network.EventRequestWillBeSent, now time.Time) {
	if i, ok := t.requests[e.RequestID]; ok && e.RedirectResponse != nil {
		p.log.Requests[i].Status = int(e.RedirectResponse.Status)
	}
	r := e.Request
	if r == nil {
		return
	}
	header := func(name string) string {
		for k, v := range r.Headers {
			if strings.EqualFold(k, name) {
				s, _ := v.(string)
				return s
			}
		}
		return ""
	}
	var body strings.Builder
	for _, d := range r.PostDataEntries {
		body.Write(d.Bytes)
	}
	req := contract.BrowserRequest{At: now, Tab: t.n, Frame: string(e.FrameID), Type: string(e.Type), Method: r.Method,
		URL: r.URL, Referer: header("Referer"), Authorization: header("Authorization"), Body: cut(body.String())}
	if f := t.frames[e.FrameID]; f != nil {
		req.FrameOrigin = f.origin
	}
	t.requests[e.RequestID] = len(p.log.Requests)
	p.log.Requests = append(p.log.Requests, req)
}

// record is what the harness of a frame sends through __oauthsimRecord.
type record struct {
	Kind string `json:"kind"`
	To   struct {
		How   string `json:"how"`
		Index int    `json:"index"`
	} `json:"to"`
	TargetOrigin string `json:"targetOrigin"`
	Data         string `json:"data"`
	Probe        bool   `json:"probe"`
	Outcome      string `json:"outcome"`
	Reason       string `json:"reason"`
	Detail       string `json:"detail"`
	Error        string `json:"error"`
}

func (p *process) recorded(t *tab, f *frame, payload string, now time.Time) {
	var r record
	if f == nil || json.Unmarshal([]byte(payload), &r) != nil {
		return
	}
	switch r.Kind {
	case "ready":
		f.ready, f.readyErr = true, r.Error
		if r.Error != "" {
			p.write(t, f, "error", "the page's module failed: "+r.Error)
		}
	case "report":
		p.log.Reports = append(p.log.Reports, contract.BrowserReport{At: now, Tab: t.n, Outcome: contract.Outcome(r.Outcome),
			Reason: contract.Reason(r.Reason), Detail: r.Detail})
	case "message":
		m := contract.BrowserMessage{At: now, Tab: t.n, From: string(f.id), FromOrigin: f.origin, TargetOrigin: r.TargetOrigin,
			Data: cut(r.Data), Probe: r.Probe}
		if to := t.messageTarget(f, r.To.How, r.To.Index); to != nil {
			m.To, m.ToOrigin = string(to.id), to.origin
		}
		p.log.Messages = append(p.log.Messages, m)
	}
}

// messageTarget finds the frame a message went to, from where the sending
// frame saw it: its parent, its i-th child, its parent's i-th child.
func (t *tab) messageTarget(f *frame, how string, i int) *frame {
	child := func(of *frame) *frame {
		if of == nil || i < 0 || i >= len(of.children) {
			return nil
		}
		return t.frames[of.children[i]]
	}
	switch how {
	case "self":
		return f
	case "parent":
		return t.frames[f.parent]
	case "top":
		return t.top()
	case "child":
		return child(f)
	case "sibling":
		return child(t.frames[f.parent])
	}
	return nil
}

// console writes what a frame logged to Env.Output, where the harness
// looks for leaked tokens.
func (p *process) console(t *tab, f *frame, kind string, args []*runtime.RemoteObject) {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a == nil:
		case len(a.Value) > 0:
			var s string
			if json.Unmarshal(a.Value, &s) == nil {
				parts = append(parts, s)
			} else {
				parts = append(parts, string(a.Value))
			}
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	p.write(t, f, kind, strings.Join(parts, " "))
}

func (p *process) write(t *tab, f *frame, kind, text string) {
	if p.env.Output == nil {
		return
	}
	who := "?"
	if f != nil {
		who = f.role + " " + f.origin
	}
	fmt.Fprintf(p.env.Output, "%s tab %d %s: console.%s: %s\n", p.env.Clock.Now().UTC().Format(time.RFC3339Nano), t.n, who, kind, text)
}

// liveFrame is a frame to evaluate in: its tab and its JavaScript context.
type liveFrame struct {
	t       *tab
	id      cdp.FrameID
	role    string
	context runtime.ExecutionContextID
}

// live is the frames of open tabs that have a document now (of role, or
// any when role is ""), in tree order.
func (p *process) live(role string) []liveFrame {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []liveFrame
	for _, t := range p.tabs {
		if t.closed {
			continue
		}
		top := t.top()
		if top == nil {
			continue
		}
		var walk func(f *frame)
		walk = func(f *frame) {
			// Every frame, the provider's pages too: the runner's
			// expressions ask whether the harness is there.
			if f.context != 0 && (role == "" || f.role == role) {
				out = append(out, liveFrame{t: t, id: f.id, role: f.role, context: f.context})
			}
			for _, c := range f.children {
				if cf := t.frames[c]; cf != nil {
					walk(cf)
				}
			}
		}
		walk(top)
	}
	return out
}

// eval evaluates expr in a frame, awaiting a promise, and decodes its
// value into out (when not nil).
func (p *process) eval(ctx context.Context, f liveFrame, expr string, out any) error {
	res, err := chromedp.Run(f.t.ctx, func(cctx context.Context, tg *chromedp.Target) (runtime.EvaluateResult, error) {
		c, done := within(cctx, ctx)
		defer done()
		return cdp.Call(c, tg, runtime.Evaluate, runtime.EvaluateParams{Expression: expr, ContextID: f.context,
			ReturnByValue: &yes, AwaitPromise: &yes})
	})
	if err != nil {
		return err
	}
	if d := res.ExceptionDetails; d != nil {
		if d.Exception != nil && d.Exception.Description != "" {
			return errors.New(d.Exception.Description)
		}
		return errors.New(d.Text)
	}
	if out == nil || res.Result == nil || len(res.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(res.Result.Value, out)
}

// gone reports an error of evaluating in a frame that went away meanwhile
// (navigated, detached): its clock went with it.
func gone(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "context") && (strings.Contains(s, "destroyed") || strings.Contains(s, "Cannot find")) ||
		strings.Contains(s, "No frame") || strings.Contains(s, "Inspected target navigated")
}

// appFrame is tab n's application frame.
func (p *process) appFrame(n int) (liveFrame, error) {
	for _, f := range p.live(contract.FrameApp) {
		if f.t.n == n {
			return f, nil
		}
	}
	return liveFrame{}, fmt.Errorf("tab %d has no application page", n)
}

// result decodes a token manager's result; a thrown error is one too.
func result(v map[string]string, err error) conformance.Result {
	if err != nil {
		return conformance.Result{Outcome: contract.OutcomeError, Detail: err.Error()}
	}
	out := conformance.Result{Outcome: contract.Outcome(v["outcome"]), Reason: contract.Reason(v["reason"]), Detail: v["detail"]}
	if !out.Outcome.Known() {
		out.Detail = fmt.Sprintf("the token manager answered the outcome %q: %s", out.Outcome, out.Detail)
		out.Outcome = contract.OutcomeError
	}
	return out
}

// managerCall calls a method of tab n's application manager and decodes
// the result it resolves to.
func (p *process) managerCall(ctx context.Context, n int, js string) (conformance.Result, error) {
	f, err := p.appFrame(n)
	if err != nil {
		return conformance.Result{}, err
	}
	var v map[string]string
	err = p.eval(ctx, f, "(async () => { const r = await __oauthsim.manager."+js+"; return {outcome: String(r && r.outcome || ''), reason: String(r && r.reason || ''), detail: String(r && r.detail || '')}; })()", &v)
	return result(v, err), nil
}
