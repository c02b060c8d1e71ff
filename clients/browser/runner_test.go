//go:build browser

package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	. "github.com/onsi/gomega/gstruct"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// smoke is the specs' token manager (testdata/smoke.js), one Chromium for
// every spec.
var smoke = New("smoke", "testdata/smoke.js")

// world is one run: a simulator on a Flow clock, as the harness has it,
// and a browser process of the smoke module.
type world struct {
	flow *clock.Flow
	sim  *simulator.Simulator
	url  string
	p    *process
	// cookies counts the requests to /__spec/echo that carried the cookie
	// /__spec/set sets.
	mu      sync.Mutex
	cookies []bool
	output  bytes.Buffer
}

// Write keeps what the browser client writes to Env.Output (from
// chromedp's goroutine) and passes it on to GinkgoWriter.
func (w *world) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.output.Write(b)
	return GinkgoWriter.Write(b)
}

func (w *world) written() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.output.String()
}

func newWorld(setup contract.BrowserSetup) *world { return newWorldOf(smoke, setup) }

// newWorldOf is a run of client c. The processes of one client serve on
// its ports, one process at a time, as a harness runs them.
func newWorldOf(c *Client, setup contract.BrowserSetup) *world {
	w := &world{flow: clock.NewFlow(conformance.Epoch)}
	redirect := c.Origins()[hostApp] + "/callback"
	srv := httptest.NewUnstartedServer(nil)
	w.url = "http://" + srv.Listener.Addr().String()
	var err error
	w.sim, err = simulator.New(simulator.WithClock(w.flow), simulator.WithIssuer(w.url), simulator.WithAutoApprove(true),
		simulator.WithClients(simulator.Client{ID: "spa", Public: true, Platform: simulator.PlatformSPA, RedirectURIs: []string{redirect},
			GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"openid", "offline_access", "api"},
			AuthMethods: []string{"none"}}))
	Expect(err).NotTo(HaveOccurred())
	mux := http.NewServeMux()
	mux.Handle("/", w.sim)
	mux.HandleFunc("/__spec/set", func(rw http.ResponseWriter, r *http.Request) {
		http.SetCookie(rw, &http.Cookie{Name: "spec", Value: "1", Path: "/", Secure: true, SameSite: http.SameSiteNoneMode})
		fmt.Fprint(rw, "set")
	})
	mux.HandleFunc("/__spec/echo", func(rw http.ResponseWriter, r *http.Request) {
		_, err := r.Cookie("spec")
		w.mu.Lock()
		w.cookies = append(w.cookies, err == nil)
		w.mu.Unlock()
		fmt.Fprint(rw, "echo")
	})
	srv.Config.Handler = mux
	srv.Start()
	DeferCleanup(srv.Close)
	env := conformance.Env{Issuer: w.url, Resource: w.url + simulator.PathResourceMe, ClientID: "spa", RedirectURI: redirect,
		Scopes: []string{"openid", "api"}, StateDir: GinkgoT().TempDir(), Profile: profile.Generic(), Clock: w.flow,
		HTTP: srv.Client(), Output: w, Browser: &setup}
	done := w.flow.Run()
	proc, err := c.Start(context.Background(), env)
	done()
	Expect(err).NotTo(HaveOccurred())
	w.p = proc.(*process)
	DeferCleanup(func() { Expect(w.p.Stop(context.Background())).To(Succeed()) })
	return w
}

// op runs f as the harness runs an operation: the sim clock running.
func op[T any](w *world, f func(context.Context) (T, error)) T {
	GinkgoHelper()
	done := w.flow.Run()
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := f(ctx)
	Expect(err).NotTo(HaveOccurred())
	return v
}

func (w *world) advance(d time.Duration) error {
	_, err := w.sim.AdvanceClock(d)
	return err
}

func (w *world) pass(d time.Duration, suspend bool) {
	GinkgoHelper()
	op(w, func(ctx context.Context) (struct{}, error) { return struct{}{}, w.p.Pass(ctx, d, suspend, w.advance) })
}

func (w *world) login() {
	GinkgoHelper()
	var callback string
	res := op(w, func(ctx context.Context) (conformance.Result, error) {
		cb, res, err := w.p.Authorize(ctx, "alice")
		callback = cb
		return res, err
	})
	Expect(res.Outcome).To(Equal(contract.OutcomeOK), res.Detail)
	Expect(callback).To(HavePrefix(w.p.origins.app + "/callback?code="))
}

func (w *world) load() []conformance.Result {
	GinkgoHelper()
	return op(w, w.p.Load)
}

// eval evaluates js in tab n's application frame.
func (w *world) eval(n int, js string) string {
	GinkgoHelper()
	f, err := w.p.appFrame(n)
	Expect(err).NotTo(HaveOccurred())
	var s string
	Expect(w.p.eval(context.Background(), f, js, &s)).To(Succeed())
	return s
}

// refreshes are the refreshes the provider carried out, in order.
func (w *world) refreshes() []events.Event {
	var out []events.Event
	for _, e := range w.sim.Events().Since(0) {
		if e.Kind == events.TokenRequest && e.GrantType == "refresh_token" && e.Outcome == events.OutcomeOK {
			out = append(out, e)
		}
	}
	return out
}

// accessExpiries are the expiries of the access tokens the provider issued.
func (w *world) accessExpiries() []time.Time {
	var out []time.Time
	for _, e := range w.sim.Events().Since(0) {
		if e.Kind == events.TokenIssued && e.TokenType == "access_token" && e.ExpiresAt != nil {
			out = append(out, *e.ExpiresAt)
		}
	}
	return out
}

func allOK(results []conformance.Result) {
	GinkgoHelper()
	for i, r := range results {
		Expect(r.Outcome).To(Equal(contract.OutcomeOK), "dashboard %d: %s", i+1, r.Detail)
	}
}

var _ = Describe("A browser client", func() {
	It("logs in, loads three dashboards, and fires its timers at their times on the provider's clock over three sim days", func() {
		w := newWorld(contract.BrowserSetup{Tabs: 1, Dashboards: 3})
		w.login()
		results := w.load()
		Expect(results).To(HaveLen(3))
		allOK(results)

		By("passing three sim days in run mode")
		start := time.Now()
		w.pass(72*time.Hour, false)
		wall := time.Since(start)
		AddReportEntry("wall time per sim day, 3 dashboards", (wall / 3).String())
		fmt.Fprintf(GinkgoWriter, "3 sim days passed in %s of wall time (%s a day)\n", wall, wall/3)

		refreshes := w.refreshes()
		expiries := w.accessExpiries()
		// An hour's access token, refreshed a minute early: 73 in 72 hours.
		Expect(len(refreshes)).To(BeNumerically(">=", 72))
		for i, r := range refreshes {
			due := expiries[i].Add(-time.Minute)
			Expect(r.Time).To(BeTemporally("~", due, time.Second), "refresh %d came at %s, its timer was due at %s", i+1, r.Time, due)
		}
		Expect(w.flow.Now()).To(BeTemporally(">=", conformance.Epoch.Add(72*time.Hour)))
		allOK(w.load())
	})

	It("fires a timer that fell due while suspended once, late, on resume", func() {
		w := newWorld(contract.BrowserSetup{Tabs: 1, Dashboards: 1})
		w.login()
		before := len(w.refreshes())
		resumed := w.flow.Now().Add(5 * time.Hour)
		w.pass(5*time.Hour, true)
		// The runner does not wait for what the wake-up started: the
		// refresh arrives when the network carries it.
		Eventually(func() int { return len(w.refreshes()) }).Should(Equal(before + 1))
		allOK(w.load())
		after := w.refreshes()
		Expect(after).To(HaveLen(before+1), "one refresh for the overdue timer, not one per missed hour")
		Expect(after[before].Time).To(BeTemporally("~", resumed, time.Second))
	})

	It("logs the token request with its frame's origin, and the postMessages with their targetOrigin", func() {
		w := newWorld(contract.BrowserSetup{Tabs: 1, Dashboards: 2})
		w.login()
		allOK(w.load())
		allOK(w.load())
		log := w.p.Log()

		var token []contract.BrowserRequest
		for _, r := range log.Requests {
			if strings.HasSuffix(r.URL, "/oauth2/token") && r.Method == http.MethodPost {
				token = append(token, r)
			}
		}
		Expect(token).NotTo(BeEmpty())
		Expect(token[0].FrameOrigin).To(Equal(w.p.origins.app))
		Expect(token[0].Status).To(Equal(http.StatusOK))
		Expect(token[0].Body).To(ContainSubstring("grant_type=authorization_code"))
		var api []contract.BrowserRequest
		for _, r := range log.Requests {
			if strings.HasPrefix(r.URL, w.url+simulator.PathResourceMe) && r.Method == http.MethodGet {
				api = append(api, r)
			}
		}
		Expect(api).To(HaveLen(4))
		for _, r := range api {
			Expect(r.FrameOrigin).To(Equal(w.p.origins.dash))
			Expect(r.Authorization).To(HavePrefix("Bearer "))
			Expect(r.Authorization).NotTo(ContainSubstring("oauthsim-forged-"), "the smoke module refuses the probe's messages")
		}

		toDash, toApp, probed := 0, 0, 0
		for _, m := range log.Messages {
			switch {
			case m.Probe:
				probed++
				Expect(m.FromOrigin).To(Equal(w.p.origins.probe))
				Expect(m.Data).To(ContainSubstring("oauthsim-forged-"))
			case m.FromOrigin == w.p.origins.app:
				toDash++
				Expect(m.TargetOrigin).To(Equal(w.p.origins.dash))
				Expect(m.ToOrigin).To(Equal(w.p.origins.dash))
			case m.FromOrigin == w.p.origins.dash:
				toApp++
				Expect(m.TargetOrigin).To(Equal(w.p.origins.app))
				Expect(m.ToOrigin).To(Equal(w.p.origins.app))
			}
		}
		Expect(toDash).To(Equal(4))
		Expect(toApp).To(Equal(4))
		Expect(probed).To(BeNumerically(">", 0), "the second load re-sent the first's messages from the probe")

		roles := map[string]int{}
		for _, f := range log.Frames {
			roles[f.Role]++
		}
		Expect(roles[contract.FrameApp]).To(BeNumerically(">=", 2), "the application page and its callback page")
		Expect(roles[contract.FrameDashboard]).To(BeNumerically(">=", 2))
		Expect(roles[contract.FrameProbe]).To(BeNumerically(">=", 1))
	})

	It("keeps sessionStorage across a navigation, and not what the page held in memory", func() {
		w := newWorld(contract.BrowserSetup{Tabs: 1, Dashboards: 1})
		w.eval(1, `sessionStorage.setItem("kept", "yes"); window.held = "yes"; "ok"`)
		op(w, func(ctx context.Context) (conformance.Result, error) {
			return w.p.Browse(ctx, contract.BrowserAction{Kind: contract.BrowseNavigate, Tab: 1})
		})
		Expect(w.eval(1, `location.pathname`)).To(Equal("/next"))
		Expect(w.eval(1, `sessionStorage.getItem("kept")`)).To(Equal("yes"))
		Expect(w.eval(1, `String(window.held)`)).To(Equal("undefined"))
	})

	It("shares localStorage, BroadcastChannel and Web Locks between the tabs of a process, and no storage between processes", func() {
		w := newWorld(contract.BrowserSetup{Tabs: 2, Dashboards: 1})
		w.login()
		Expect(w.eval(2, `String(JSON.parse(localStorage.getItem("oauthsim-smoke")).refresh_token.length > 0)`)).To(Equal("true"))

		By("passing BroadcastChannel messages and holding Web Locks across the tabs")
		w.eval(2, `window.heard = new Promise(r => { new BroadcastChannel("spec").onmessage = (e) => r(e.data); }); "ok"`)
		w.eval(1, `new BroadcastChannel("spec").postMessage("from tab 1"); "ok"`)
		Expect(w.eval(2, `window.heard`)).To(Equal("from tab 1"))
		w.eval(1, `new Promise(held => navigator.locks.request("spec", () => { held(); return new Promise(() => {}); })).then(() => "held")`)
		Expect(w.eval(2, `navigator.locks.query().then(s => s.held.map(l => l.name).join())`)).To(Equal("spec"))
		other := newWorldOf(New("smoke-other", "testdata/smoke.js"), contract.BrowserSetup{Tabs: 1, Dashboards: 1})
		Expect(other.eval(1, `String(localStorage.getItem("oauthsim-smoke"))`)).To(Equal("null"))
	})

	It("sends a SameSite=None cookie of the provider from a cross-site frame unless third-party cookies are blocked", func() {
		w := newWorld(contract.BrowserSetup{Tabs: 1, Dashboards: 1})
		t, err := w.p.tab(1)
		Expect(err).NotTo(HaveOccurred())
		Expect(w.p.goTo(context.Background(), t, w.url+"/__spec/set")).To(Succeed())
		_, err = w.p.poll(context.Background(), t, func() (bool, string, string) {
			return strings.HasSuffix(w.p.topURL(t), "/__spec/set"), "not at /__spec/set", ""
		})
		Expect(err).NotTo(HaveOccurred())
		frameLoad := `new Promise(r => { const f = document.createElement("iframe"); f.onload = () => r("loaded"); f.src = "` + w.url + `/__spec/echo"; document.body.append(f); })`
		for _, value := range []string{contract.ThirdPartyCookiesAllowed, contract.ThirdPartyCookiesBlocked} {
			op(w, func(ctx context.Context) (conformance.Result, error) {
				return w.p.Browse(ctx, contract.BrowserAction{Kind: contract.BrowseThirdPartyCookies, Value: value})
			})
			// The setting takes effect from the next load.
			op(w, func(ctx context.Context) (struct{}, error) {
				return struct{}{}, w.p.navigate(ctx, t, w.p.origins.app+"/")
			})
			Expect(w.eval(1, frameLoad)).To(Equal("loaded"))
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		Expect(w.cookies).To(Equal([]bool{true, false}), "the cookie is sent with third-party cookies allowed, then not once blocked")
	})

	It("delivers a same-origin frame's message with that frame as its source, as a browser does", func() {
		w := newWorld(contract.BrowserSetup{Tabs: 1, Dashboards: 1})
		got := w.eval(1, `new Promise((resolve) => {
			const f = document.createElement("iframe");
			window.addEventListener("message", (e) => { if (e.data === "from the child") resolve(String(e.source === f.contentWindow)); });
			f.onload = () => f.contentWindow.eval('parent.postMessage("from the child", location.origin)');
			f.src = "/callback";
			document.body.append(f);
		})`)
		Expect(got).To(Equal("true"), "the source is the child, not the parent the message went to")
	})

	It("starts Chromium again when a start quits before the browser is up", func() {
		real, err := chromium()
		Expect(err).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()
		marker := filepath.Join(dir, "first-start")
		// The first start exits at once, as a Chromium that quits before
		// printing its DevTools address does; the next is the real one.
		wrapper := filepath.Join(dir, "chromium")
		Expect(os.WriteFile(wrapper, []byte("#!/bin/sh\nif [ ! -e "+marker+" ]; then touch "+marker+"; exit 1; fi\nexec "+real+" \"$@\"\n"), 0o755)).To(Succeed())
		GinkgoT().Setenv(EnvChromium, wrapper)
		w := newWorldOf(New("restart", "testdata/smoke.js"), contract.BrowserSetup{Tabs: 1, Dashboards: 1})
		Expect(marker).To(BeAnExistingFile())
		w.login()
		allOK(w.load())
	})

	It("takes a PNG screenshot of each open tab", func() {
		w := newWorld(contract.BrowserSetup{Tabs: 2, Dashboards: 1})
		shots := op(w, w.p.Screenshot)
		Expect(shots).To(HaveLen(2))
		for _, s := range shots {
			Expect(bytes.HasPrefix(s, []byte("\x89PNG\r\n\x1a\n"))).To(BeTrue())
		}
	})

	It("leaves an open tab where it is after an origin move, and loads the new origin, whose storage starts empty, from then on", func() {
		w := newWorld(contract.BrowserSetup{Tabs: 1, Dashboards: 1})
		w.login()
		op(w, func(ctx context.Context) (conformance.Result, error) {
			return w.p.Browse(ctx, contract.BrowserAction{Kind: contract.BrowseMoveOrigin})
		})
		Expect(w.eval(1, `location.origin`)).To(Equal(w.p.origins.app))
		op(w, func(ctx context.Context) (conformance.Result, error) {
			return w.p.Browse(ctx, contract.BrowserAction{Kind: contract.BrowseNavigate, Tab: 1})
		})
		Expect(w.eval(1, `location.origin`)).To(Equal(w.p.origins.app2))
		Expect(w.eval(1, `String(localStorage.getItem("oauthsim-smoke"))`)).To(Equal("null"))
		var callback string
		res := op(w, func(ctx context.Context) (conformance.Result, error) {
			cb, res, err := w.p.Authorize(ctx, "alice")
			callback = cb
			return res, err
		})
		Expect(callback).To(BeEmpty())
		Expect(res.Outcome).To(Equal(contract.OutcomeError))
		Expect(res.Detail).To(ContainSubstring("the provider kept it at " + w.url))
	})

	It("tells a hidden tab's frames they are hidden and aligns their timers as Chromium's throttling does", func() {
		w := newWorld(contract.BrowserSetup{Tabs: 1, Dashboards: 1})
		hide := func(kind string) {
			op(w, func(ctx context.Context) (conformance.Result, error) {
				return w.p.Browse(ctx, contract.BrowserAction{Kind: kind, Tab: 1})
			})
		}
		// Set while visible, due seven minutes on: it wakes up on a whole
		// minute, for the tab has been hidden five minutes by then.
		w.eval(1, `window.fired = {}; setTimeout(() => fired.before = Date.now(), 7 * 60 * 1000 + 500); "ok"`)
		hide(contract.BrowseHideTab)
		Expect(w.eval(1, `document.visibilityState + " " + document.hidden`)).To(Equal("hidden true"))
		// Hidden for less than five minutes: woken up on a whole second.
		w.eval(1, `setTimeout(() => fired.second = Date.now(), 1500); "ok"`)
		start := w.flow.Now()
		w.pass(10*time.Minute, false)
		// Hidden for more than five minutes: woken up on a whole minute.
		w.eval(1, `setTimeout(() => fired.minute = Date.now(), 1000); "ok"`)
		w.pass(2*time.Minute, false)
		var fired map[string]int64
		Expect(json.Unmarshal([]byte(w.eval(1, `JSON.stringify(fired)`)), &fired)).To(Succeed())
		Expect(fired).To(HaveLen(3))
		Expect(fired["second"]%1000).To(BeZero(), "aligned to the second")
		Expect(fired["second"]).To(BeNumerically(">=", start.Add(1500*time.Millisecond).UnixMilli()))
		Expect(fired["before"]%60000).To(BeZero(), "aligned to the minute")
		Expect(fired["before"]).To(BeNumerically(">=", start.Add(7*time.Minute).UnixMilli()))
		Expect(fired["minute"]%60000).To(BeZero(), "aligned to the minute")
		// Set while hidden, shown before it is due: it fires at its own time.
		set, err := strconv.ParseInt(w.eval(1, `setTimeout(() => fired.shown = Date.now(), 20500); String(Date.now())`), 10, 64)
		Expect(err).NotTo(HaveOccurred())
		hide(contract.BrowseShowTab)
		Expect(w.eval(1, `document.visibilityState`)).To(Equal("visible"))
		w.pass(time.Minute, false)
		Expect(json.Unmarshal([]byte(w.eval(1, `JSON.stringify(fired)`)), &fired)).To(Succeed())
		Expect(fired["shown"]).To(Equal(set + 20500))
	})

	It("embeds the fake-timers bundle that make browser-assets builds", func() {
		npm, err := exec.LookPath("npm")
		Expect(err).NotTo(HaveOccurred(), "this spec rebuilds the bundle: it needs npm (Node 20 or later)")
		dir := GinkgoT().TempDir()
		for _, f := range []string{"package.json", "package-lock.json"} {
			b, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(filepath.Join(dir, f), b, 0o600)).To(Succeed())
		}
		for _, args := range [][]string{{"ci", "--no-audit", "--no-fund", "--loglevel=error"}, {"run", "--silent", "build"}} {
			cmd := exec.Command(npm, args...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "npm %s: %s", args[0], out)
		}
		built, err := os.ReadFile(filepath.Join(dir, "assets", "fake-timers.js"))
		Expect(err).NotTo(HaveOccurred())
		committed, err := assets.ReadFile("assets/fake-timers.js")
		Expect(err).NotTo(HaveOccurred())
		Expect(bytes.Equal(built, committed)).To(BeTrue(), "assets/fake-timers.js is not what make browser-assets builds: run it and commit the result")
	})

	It("completes an authorization the harness follows itself, refuses its replay, and logs out", func() {
		w := newWorld(contract.BrowserSetup{Tabs: 1, Dashboards: 1})
		authURL := op(w, w.p.AuthorizationURL)
		u, err := url.Parse(authURL)
		Expect(err).NotTo(HaveOccurred())
		q := u.Query()
		q.Set("login_hint", "alice")
		u.RawQuery = q.Encode()
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirect.Get(u.String())
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		callback := resp.Header.Get("Location")
		Expect(callback).To(HavePrefix(w.p.origins.app + "/callback?"))

		complete := func() conformance.Result {
			return op(w, func(ctx context.Context) (conformance.Result, error) { return w.p.CompleteAuthorization(ctx, callback) })
		}
		Expect(complete().Outcome).To(Equal(contract.OutcomeOK))
		allOK(w.load())
		Expect(complete().Outcome).To(Equal(contract.OutcomeError), "the smoke module kept no login for a second callback")

		By("recording what the page tells its user and writes to its console")
		w.eval(1, `__oauthsim.report({outcome: "configuration_error", detail: "the redirect URI is not registered"}); console.log("hello from the page"); "ok"`)
		reports := w.p.Log().Reports
		Expect(reports).To(HaveLen(1))
		Expect(reports[0]).To(MatchFields(IgnoreExtras, Fields{"Tab": Equal(1), "Outcome": Equal(contract.OutcomeConfigurationError),
			"Detail": Equal("the redirect URI is not registered")}))
		Expect(w.written()).To(MatchRegexp(`tab 1 app http://app\.localhost:\d+: console\.log: hello from the page`))

		Expect(op(w, w.p.Logout).Outcome).To(Equal(contract.OutcomeOK))
		results := w.load()
		Expect(results).To(HaveLen(1))
		Expect(results[0].Outcome).To(Equal(contract.OutcomeReauthorize))
		Expect(results[0].Reason).To(Equal(contract.ReasonNoGrant))
	})
})
