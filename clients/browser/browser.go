// Package browser runs token managers that live in a web page, in headless
// Chromium, as conformance clients: the browser runner. A client is a
// JavaScript module (README.md says what it exports); the runner serves an
// application page that holds it on one origin, dashboards that hold it on
// another, moves every frame's clock with the sim clock, and records what the
// browser does (contract.BrowserLog) for the harness to judge.
package browser

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/conformance"
)

//go:embed assets/fake-timers.js page
var assets embed.FS

// Client is a browser token manager as a conformance client: every process
// of it is a fresh browser context of one Chromium, which the client starts
// with its first process and ends with its last.
type Client struct {
	name, description, version string
	// dir holds the module, file, and what it imports relatively.
	dir  fs.FS
	file string
	// bff: the application has its own server, which holds the grant
	// (WithBFF).
	bff bool
	// app and app2 are the application's origins, before and after an
	// origin move: their ports are picked once, for every run's
	// registration.
	app, app2 string
	portsOnce sync.Once

	mu      sync.Mutex
	users   int
	browser context.Context
	stop    func()
}

var (
	_ conformance.Client      = (*Client)(nil)
	_ conformance.Unavailable = (*Client)(nil)
)

// Option configures a Client.
type Option func(*Client)

// WithDescription sets what Describe says.
func WithDescription(d string) Option { return func(c *Client) { c.description = d } }

// WithBFF gives the application its own server, a backend-for-frontend
// that holds the user's grant with the reference token manager and hands
// the page access tokens (tm/BFF.md): for a module written against it.
func WithBFF() Option { return func(c *Client) { c.bff = true } }

// WithVersion sets what Version says.
func WithVersion(v string) Option { return func(c *Client) { c.version = v } }

// New is the browser client named name whose token manager is the ES module
// in the file at modulePath, read anew by every process (so an edited module
// is picked up by the next run).
func New(name, modulePath string, opts ...Option) *Client {
	c := &Client{name: name, description: "the browser token manager " + modulePath, version: "dev",
		dir: os.DirFS(filepath.Dir(modulePath)), file: filepath.Base(modulePath)}
	for _, o := range opts {
		o(c)
	}
	return c
}

// NewFS is New for a module that is built in: the file name in fsys, a
// directory whose other modules it may import (./reference.js).
func NewFS(name string, fsys fs.FS, file string, opts ...Option) *Client {
	c := New(name, file, opts...)
	c.dir, c.file = fsys, file
	return c
}

// Origins implements conformance.Origins: the application's origin, and
// the one it moves to, each on a port the client keeps for its runs.
func (c *Client) Origins() map[string]string {
	c.portsOnce.Do(func() {
		c.app, c.app2 = freeOrigin(hostApp), freeOrigin(hostApp2)
	})
	if c.app == "" || c.app2 == "" {
		return nil
	}
	return map[string]string{hostApp: c.app, hostApp2: c.app2}
}

// Name implements conformance.Client.
func (c *Client) Name() string { return c.name }

// Describe implements conformance.Client.
func (c *Client) Describe() string { return c.description }

// Version implements conformance.Client.
func (c *Client) Version() string { return c.version }

// Capabilities: a browser client refreshes and logs out, its clock is the
// sim clock (the runner moves it), and it is a browser. A restart would be
// a browser restart, which the browser steps stand for.
func (c *Client) Capabilities() []contract.Capability {
	caps := []contract.Capability{contract.CapBrowser, contract.CapRefresh, contract.CapLogout, contract.CapClockNow}
	if !c.bff {
		// The page itself redeems; a backend-for-frontend's server does.
		caps = append(caps, contract.CapSPA)
	}
	return caps
}

// EnvChromium names the Chromium executable to use instead of the first of
// chromium, chromium-browser and google-chrome on PATH.
const EnvChromium = "OAUTHSIM_CHROMIUM"

// chromium finds the browser.
func chromium() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		return exec.LookPath(p)
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium: none of chromium, chromium-browser, google-chrome is on PATH and " + EnvChromium + " is not set (Debian: apt-get install chromium)")
}

// Unavailable implements conformance.Unavailable: without Chromium every
// run of a browser client is skipped, saying why.
func (c *Client) Unavailable() string {
	if _, err := chromium(); err != nil {
		return err.Error()
	}
	return ""
}

// flags are the Chromium flags the runner adds to chromedp's defaults
// (headless, no first run, no background throttling, no extensions...);
// README.md says why each is there.
func flags() []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		// CI containers run as root, where Chromium's sandbox cannot start.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(1024, 768),
		// Cross-site iframes stay in their page's renderer, not in
		// out-of-process frames of their own: every frame's network events,
		// execution contexts and bindings then come on the tab's one
		// DevTools session. What the checks judge (origins, postMessage's
		// targetOrigin, cookies, storage partitions) does not depend on
		// process isolation. Measured on Chromium 148 with site isolation
		// on: each dashboard of a tab is a target of type iframe of its own.
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "IsolateOrigins,site-per-process,Translate"),
		// Nothing leaves the machine: the runner's origins are *.localhost.
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-pings", true),
	}
}

// startAttempts is how many times acquire starts Chromium before it gives
// up. A Chromium started while the previous one is still exiting now and
// then quits before it prints its DevTools address ("chrome failed to
// start:" with nothing after it: 1 of 80 starts in one CI run on a loaded
// 2-core machine); a second start has always come up.
const startAttempts = 3

// acquire starts the client's browser with its first process.
func (c *Client) acquire() (context.Context, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.browser == nil {
		path, err := chromium()
		if err != nil {
			return nil, err
		}
		for attempt := 1; c.browser == nil; attempt++ {
			err := c.start(path)
			if err == nil {
				break
			}
			if attempt == startAttempts {
				return nil, fmt.Errorf("start Chromium %s (%d attempts): %w", path, attempt, err)
			}
			time.Sleep(time.Duration(attempt) * time.Second)
		}
	}
	c.users++
	return c.browser, nil
}

// start starts one Chromium, with a profile of its own, as c's browser.
func (c *Client) start(path string) error {
	dir, err := profileDir()
	if err != nil {
		return err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.UserDataDir(dir))
	opts = append(opts, flags()...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancel := chromedp.NewContext(actx)
	stop := func() {
		cancel()
		cancelAlloc()
		os.RemoveAll(dir)
	}
	if err := chromedp.Do(bctx); err != nil {
		stop()
		return err
	}
	c.browser, c.stop = bctx, stop
	return nil
}

// profileDir makes the browser's user data directory, with the one
// preference the runner sets: third-party cookies allowed (cookie controls
// off), as a browser out of the box has them. Chromium 148 blocks them in
// every browser context otherwise ("UserPreferences" in the DevTools
// protocol's blocked reasons), and the scenarios' third_party_cookies step
// blocks them per tab (Network.setCookieControls).
func profileDir() (string, error) {
	dir, err := os.MkdirTemp("", "oauthsim-chromium-")
	if err != nil {
		return "", err
	}
	prefs := filepath.Join(dir, "Default", "Preferences")
	if err := os.MkdirAll(filepath.Dir(prefs), 0o700); err != nil {
		return "", err
	}
	return dir, os.WriteFile(prefs, []byte(`{"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": false}}`), 0o600)
}

// release ends the browser with the last process.
func (c *Client) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users--
	if c.users == 0 && c.stop != nil {
		c.stop()
		c.browser, c.stop = nil, nil
	}
}

// Start implements conformance.Client: a fresh browser context (no
// cookies, no storage), the runner's origins, and the scenario's tabs.
func (c *Client) Start(ctx context.Context, env conformance.Env) (conformance.Process, error) {
	module, err := fs.ReadFile(c.dir, c.file)
	if err != nil {
		return nil, fmt.Errorf("read the token manager module: %w", err)
	}
	browser, err := c.acquire()
	if err != nil {
		return nil, err
	}
	c.Origins()
	p, err := start(ctx, browser, env, setup{module: module, imports: c.dir, app2: c.app2, bff: c.bff})
	if err != nil {
		c.release()
		return nil, err
	}
	p.release = c.release
	return p, nil
}
