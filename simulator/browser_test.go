//go:build browser

package simulator_test

// These specs drive headless Chromium against the simulator: a page at
// http://app.localhost:PORT (another site than the simulator's
// http://127.0.0.1:PORT) runs the authorization code flow with PKCE and
// calls the token, userinfo and revocation endpoints across origins, and a
// hidden iframe renews silently with prompt=none, with third-party cookies
// allowed and then blocked. They need Chromium, so they are built only
// with the browser tag:
//
//	go test -tags browser ./simulator/ -args -ginkgo.label-filter=browser

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// appPages are the application's pages, templates over the simulator's
// URL (%[1]s) and the application's origin (%[2]s).
var appPages = map[string]string{
	// start begins the authorization code flow with PKCE: the verifier
	// waits in sessionStorage for the callback.
	"/start": `<!doctype html><script type="module">
const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const verifier = b64(crypto.getRandomValues(new Uint8Array(32)));
sessionStorage.setItem("verifier", verifier);
const challenge = b64(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
const q = new URLSearchParams({response_type: "code", client_id: "spa", redirect_uri: "%[2]s/callback",
  scope: "openid offline_access profile api", state: "s-1", code_challenge: challenge,
  code_challenge_method: "S256", login_hint: "alice"});
location.assign("%[1]s/oauth2/authorize?" + q);
</script>`,
	// callback redeems the code, refreshes, reads userinfo and revokes,
	// from the page, and tries what a confidential web client's page
	// cannot: the browser must refuse it the answer.
	"/callback": `<!doctype html><script type="module">
const form = (o) => ({method: "POST", body: new URLSearchParams(o)});
const call = async (url, init) => {
  try { const r = await fetch(url, init); return {status: r.status, body: await r.json()}; }
  catch (e) { return {blocked: String(e)}; }
};
const q = new URLSearchParams(location.search);
window.result = (async () => {
  const code = await call("%[1]s/oauth2/token", form({grant_type: "authorization_code", code: q.get("code"),
    redirect_uri: "%[2]s/callback", client_id: "spa", code_verifier: sessionStorage.getItem("verifier")}));
  const refresh = await call("%[1]s/oauth2/token", form({grant_type: "refresh_token",
    refresh_token: code.body.refresh_token, client_id: "spa"}));
  const userinfo = await call("%[1]s/oauth2/userinfo", {headers: {Authorization: "Bearer " + refresh.body.access_token}});
  const revoke = await fetch("%[1]s/oauth2/revoke", form({token: refresh.body.refresh_token, client_id: "spa"}));
  const web = await call("%[1]s/oauth2/token", form({grant_type: "client_credentials", client_id: "demo", client_secret: "demo-secret"}));
  return {state: q.get("state"), code: code.status, refresh: refresh.status, rotated: refresh.body.refresh_token !== code.body.refresh_token,
    userinfo: userinfo.body.sub, revoke: revoke.status, web: web.blocked || "read"};
})();
</script>`,
	// frame renews silently: a hidden iframe asks the simulator with
	// prompt=none, and its answer comes back by postMessage.
	"/frame": `<!doctype html><body><script>
window.result = new Promise((resolve) => {
  addEventListener("message", (e) => { if (e.origin === "%[2]s") resolve(e.data); });
});
const f = document.createElement("iframe");
f.style.display = "none";
f.src = "%[1]s/oauth2/authorize?" + new URLSearchParams({response_type: "code", client_id: "spa",
  redirect_uri: "%[2]s/silent", scope: "openid api", state: "s-2", prompt: "none",
  code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256"});
document.body.append(f);
</script>`,
	"/silent": `<!doctype html><script>
const q = new URLSearchParams(location.search);
parent.postMessage({code: !!q.get("code"), error: q.get("error")}, "%[2]s");
</script>`,
}

// cookieControls are the parameters of Network.setCookieControls as
// Chromium 148 takes them: all three are required, and cdproto v0.160.1's
// SetCookieControlsParams, which has only the first, is refused with
// "Invalid parameters".
type cookieControls struct {
	EnableThirdPartyCookieRestriction bool `json:"enableThirdPartyCookieRestriction"`
	DisableThirdPartyCookieMetadata   bool `json:"disableThirdPartyCookieMetadata"`
	DisableThirdPartyCookieHeuristics bool `json:"disableThirdPartyCookieHeuristics"`
}

var setCookieControls = cdp.Command[cookieControls, cdp.Empty]{Method: network.CommandSetCookieControls}

// allowThirdPartyCookies is the Preferences file of a Chromium profile
// that allows third-party cookies: headless Chromium 148 blocks them in a
// fresh profile (the cookie's blocked reason is UserPreferences), as if
// the user had chosen to.
const allowThirdPartyCookies = `{"profile":{"cookie_controls_mode":0}}`

// browserTab starts headless Chromium with a profile whose Preferences
// file is prefs ("" for a fresh profile) and returns a tab's context,
// ended when the container is over.
func browserTab(prefs string) context.Context {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	if prefs != "" {
		Expect(os.MkdirAll(filepath.Join(dir, "Default"), 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "Default", "Preferences"), []byte(prefs), 0o644)).To(Succeed())
	}
	// The browser is $CHROMIUM, or chromium on PATH.
	browser, err := exec.LookPath(cmp.Or(os.Getenv("CHROMIUM"), "chromium"))
	Expect(err).NotTo(HaveOccurred(), "the browser specs need Chromium: install Debian's chromium package (apt-get install chromium) or set CHROMIUM to its path")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.UserDataDir(dir),
		// CI runs as root in a container: no sandbox, no GPU, and
		// /dev/shm may be small.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		// The simulator's frame stays in the page's process, so that its
		// requests' network events, which say why a cookie was not sent,
		// come to the page's target.
		chromedp.Flag("disable-site-isolation-trials", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	DeferCleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	DeferCleanup(cancel)
	Expect(chromedp.Do(ctx)).To(Succeed()) // start the browser before the timeout
	ctx, cancel = context.WithTimeout(ctx, time.Minute)
	DeferCleanup(cancel)
	return ctx
}

// browserApp is the simulator, with a single-page application registered
// for the application's pages, and the pages' server on 127.0.0.1, whose
// pages a browser loads as appURL, another site than the simulator's.
func browserApp() (h *harness, appURL string) {
	GinkgoHelper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	appURL = fmt.Sprintf("http://app.localhost:%d", listener.Addr().(*net.TCPAddr).Port)
	h = newHarness(simulator.WithClients(simulator.Client{ID: "spa", Public: true, Platform: simulator.PlatformSPA,
		RedirectURIs: []string{appURL + "/callback", appURL + "/silent"}}))
	app := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, ok := appPages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, page, h.srv.URL, appURL)
	}))
	app.Listener.Close()
	app.Listener = listener
	app.Start()
	DeferCleanup(app.Close)
	return h, appURL
}

// page drives a tab over the application's pages.
type page struct {
	ctx    context.Context
	appURL string
}

// open loads the application's page at path, then waits for the page the
// flow ends on (at) to have a result, and decodes it into out.
func (p page) open(path, at string, out any) {
	GinkgoHelper()
	Expect(chromedp.Do(p.ctx, chromedp.Navigate(p.appURL+path))).To(Succeed())
	_, err := chromedp.Run(p.ctx, chromedp.Poll[bool](fmt.Sprintf("location.pathname === %q && window.result !== undefined", at)))
	Expect(err).NotTo(HaveOccurred())
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[json.RawMessage]("window.result", chromedp.EvalAwaitPromise))
	Expect(err).NotTo(HaveOccurred())
	Expect(json.Unmarshal(v, out)).To(Succeed(), "%s", v)
}

// silentRenewal is what the hidden iframe of /frame reported.
type silentRenewal struct {
	Code  bool
	Error string
	// Blocked are the reasons the browser gave for not sending the
	// session cookie with the frame's request; none when it sent it.
	Blocked []network.CookieBlockedReason
}

// renew loads /frame, which renews silently in a hidden iframe, and says
// what came of it.
func (p page) renew() silentRenewal {
	GinkgoHelper()
	var got silentRenewal
	var mu sync.Mutex
	listening, stop := context.WithCancel(p.ctx)
	defer stop()
	Expect(chromedp.Listen(listening, func(ev any) {
		if x, ok := ev.(*network.EventRequestWillBeSentExtraInfo); ok {
			for _, c := range x.AssociatedCookies {
				if c.Cookie.Name == simulator.SessionCookie {
					mu.Lock()
					got.Blocked = append(got.Blocked, c.BlockedReasons...)
					mu.Unlock()
				}
			}
		}
	})).To(Succeed())
	p.open("/frame", "/frame", &got)
	stop()
	mu.Lock()
	defer mu.Unlock()
	return got
}

// signIn runs the authorization code flow with PKCE from the
// application's page, and returns what the page got.
func (p page) signIn() (got struct {
	State, Web, Userinfo  string
	Code, Refresh, Revoke int
	Rotated               bool
}) {
	GinkgoHelper()
	p.open("/start", "/callback", &got)
	return got
}

var _ = Describe("A browser page", Label("browser"), Ordered, func() {
	var (
		h *harness
		p page
	)
	BeforeAll(func() {
		h, p.appURL = browserApp()
		p.ctx = browserTab(allowThirdPartyCookies)
	})

	It("runs the authorization code flow with PKCE across origins: code, refresh, userinfo and revocation", func() {
		got := p.signIn()
		Expect(got.State).To(Equal("s-1"))
		Expect(got.Code).To(Equal(http.StatusOK))
		Expect(got.Refresh).To(Equal(http.StatusOK))
		Expect(got.Rotated).To(BeTrue())
		Expect(got.Userinfo).To(Equal("alice"))
		Expect(got.Revoke).To(Equal(http.StatusOK))
		Expect(got.Web).To(ContainSubstring("Failed to fetch"), "a confidential web client's token answer must not reach the page")

		var fromPage []events.Event
		for _, e := range h.events() {
			if e.Origin != "" {
				fromPage = append(fromPage, e)
			}
		}
		Expect(fromPage).To(HaveEach(HaveField("Origin", p.appURL)))
		Expect(fromPage).To(ContainElement(And(HaveField("GrantType", "authorization_code"), HaveField("Outcome", events.OutcomeOK))))
		Expect(fromPage).To(ContainElement(And(HaveField("GrantType", "refresh_token"), HaveField("Outcome", events.OutcomeOK))))
		Expect(fromPage).To(ContainElement(HaveField("Kind", events.RevokeRequest)))
		Expect(fromPage).To(ContainElement(And(HaveField("Client", "demo"), HaveField("CORSRefused", ContainSubstring("platform web")))))
	})

	It("keeps the session cookie the simulator set at http://127.0.0.1, Secure and SameSite=None", func() {
		got, err := chromedp.Call(p.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{h.srv.URL + "/"}})
		Expect(err).NotTo(HaveOccurred())
		i := slices.IndexFunc(got.Cookies, func(c *network.Cookie) bool { return c.Name == simulator.SessionCookie })
		Expect(i).To(BeNumerically(">=", 0), "cookies: %v", got.Cookies)
		c := got.Cookies[i]
		Expect(c.Secure).To(BeTrue())
		Expect(c.HTTPOnly).To(BeTrue())
		Expect(c.SameSite).To(Equal(network.CookieSameSiteNone))
	})

	It("renews silently in a hidden iframe of another site, by the cookie, where third-party cookies are allowed", func() {
		got := p.renew()
		Expect(got.Blocked).To(BeEmpty())
		Expect(got.Error).To(BeEmpty())
		Expect(got.Code).To(BeTrue())
		Expect(h.lastRequest(events.AuthorizeRequest).Detail).To(ContainSubstring("signed in by the session cookie"))
	})

	It("gets login_required in the iframe once Network.setCookieControls blocks third-party cookies", func() {
		_, err := chromedp.Call(p.ctx, setCookieControls, cookieControls{EnableThirdPartyCookieRestriction: true})
		Expect(err).NotTo(HaveOccurred())
		got := p.renew()
		Expect(got.Blocked).To(ConsistOf(network.CookieBlockedReasonThirdPartyPhaseout))
		Expect(got.Error).To(Equal("login_required"))
		Expect(got.Code).To(BeFalse())
		e := h.lastRequest(events.AuthorizeRequest)
		Expect(e.Error).To(Equal("login_required"))
		Expect(e.Detail).To(ContainSubstring("No session cookie was sent"))
	})

	It("still signs the user in by the cookie at the top level, where it is first-party", func() {
		q := url.Values{"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {p.appURL + "/silent"}, "scope": {"openid"},
			"state": {"s-3"}, "prompt": {"none"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
		Expect(chromedp.Do(p.ctx, chromedp.Navigate(h.srv.URL+simulator.PathAuthorize+"?"+q.Encode()))).To(Succeed())
		e := h.lastRequest(events.AuthorizeRequest)
		Expect(e.Outcome).To(Equal(events.OutcomeOK), "%s", e.Detail)
		Expect(e.Detail).To(ContainSubstring("signed in by the session cookie"))
	})
})

var _ = Describe("Headless Chromium with a fresh profile", Label("browser"), func() {
	It("blocks third-party cookies, by user preference: a silent renewal in an iframe gets login_required", func() {
		h, appURL := browserApp()
		p := page{ctx: browserTab(""), appURL: appURL}
		Expect(p.signIn().Code).To(Equal(http.StatusOK))
		got := p.renew()
		Expect(got.Blocked).To(ConsistOf(network.CookieBlockedReasonUserPreferences))
		Expect(got.Error).To(Equal("login_required"))
		Expect(h.lastRequest(events.AuthorizeRequest).Error).To(Equal("login_required"))
	})
})
