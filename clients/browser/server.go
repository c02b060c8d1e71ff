package browser

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// The runner's origins: the application, where it moves to, its
// dashboards, and the harness's probe. Chromium resolves every *.localhost
// name to the loopback address and treats it as a secure context; each
// name is a site of its own.
const (
	hostApp   = contract.BrowserAppHost
	hostApp2  = contract.BrowserMovedAppHost
	hostDash  = "dash.localhost"
	hostProbe = "probe.localhost"
)

// appPort is the port of the application's origin, which the redirect URI
// the provider knows names: http://app.localhost:PORT/callback.
func appPort(redirectURI string) (string, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return "", fmt.Errorf("the redirect URI %q: %w", redirectURI, err)
	}
	if u.Scheme != "http" || u.Hostname() != hostApp || u.Port() == "" || u.Path != "/callback" {
		return "", fmt.Errorf("the browser runner serves the application at its redirect URI, which must be http://%s:PORT/callback; got %q", hostApp, redirectURI)
	}
	return u.Port(), nil
}

// RedirectURI picks a free loopback port and returns the redirect URI the
// provider must know for a browser client: the application's callback
// page on it. The port is free when RedirectURI returns; a process of the
// client listens on it.
func RedirectURI() (string, error) {
	o := freeOrigin(hostApp)
	if o == "" {
		return "", errors.New("no free loopback port")
	}
	return o + "/callback", nil
}

// freeOrigin is host's origin on a loopback port free now, or "" when
// there is none. A client keeps its application's ports for all its runs,
// and listens on them only while a process runs: a port of the kernel's
// ephemeral range, which it also hands out as the source port of every
// outgoing connection and to every listener on port 0, can be taken in
// between (a run errored with "address already in use"). So the port is
// one below that range, where only a listener asking for it by number
// lands; port 0 only when no such port is free.
func freeOrigin(host string) string {
	low := ephemeralLow()
	for range 64 {
		port := staticPortMin + rand.IntN(low-staticPortMin)
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			l.Close()
			return fmt.Sprintf("http://%s:%d", host, port)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ""
	}
	defer l.Close()
	return fmt.Sprintf("http://%s:%d", host, l.Addr().(*net.TCPAddr).Port)
}

// staticPortMin is the lowest port freeOrigin picks: above the registered
// services most machines run.
const staticPortMin = 20000

// ephemeralLow is the first port of the kernel's ephemeral range: Linux's
// ip_local_port_range, else IANA's dynamic range (49152, RFC 6335 §6).
func ephemeralLow() int {
	low := 49152
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	return max(low, staticPortMin+1000)
}

// origins are the runner's servers for one process.
type origins struct {
	app, app2, dash, probe string
	servers                []*http.Server
}

func (o *origins) close() {
	for _, s := range o.servers {
		_ = s.Close()
	}
}

// listen serves h on 127.0.0.1:port (0 for any) and returns the origin of
// host there.
func (o *origins) listen(host, port string, h http.Handler) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return "", fmt.Errorf("serve %s on 127.0.0.1:%s: %w", host, port, err)
	}
	s := &http.Server{Handler: h}
	o.servers = append(o.servers, s)
	go func() { _ = s.Serve(l) }()
	return fmt.Sprintf("http://%s:%d", host, l.Addr().(*net.TCPAddr).Port), nil
}

// pageConfig is what a page's harness starts from (__oauthsimInit.page).
type pageConfig struct {
	Env        map[string]any `json:"env"`
	Dashboards int            `json:"dashboards,omitempty"`
	Callback   bool           `json:"callback,omitempty"`
	N          int            `json:"n,omitempty"`
}

// handler serves one origin of a process.
func (p *process) handler(role string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__oauthsim/harness.js", func(w http.ResponseWriter, r *http.Request) {
		p.asset(w, "application/javascript", "assets/fake-timers.js", "page/harness.js")
	})
	mux.HandleFunc("GET /__oauthsim/{script}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("script")
		if name != "app.js" && name != "dashboard.js" {
			http.NotFound(w, r)
			return
		}
		p.asset(w, "application/javascript", "page/"+name)
	})
	mux.HandleFunc("GET /tm.js", func(w http.ResponseWriter, r *http.Request) {
		noStore(w, "application/javascript")
		_, _ = w.Write(p.module)
	})
	// What the module imports by a relative path (./reference.js) resolves
	// beside /tm.js: the other modules of its directory. Only modules, so
	// that nothing else of the user's directory is served.
	mux.HandleFunc("GET /{file}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if !strings.HasSuffix(name, ".js") && !strings.HasSuffix(name, ".mjs") {
			http.NotFound(w, r)
			return
		}
		b, err := fs.ReadFile(p.imports, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		noStore(w, "application/javascript")
		_, _ = w.Write(b)
	})
	switch role {
	case contract.FrameApp:
		if p.bff != nil {
			p.bff.routes(mux)
		}
		app := func(callback bool) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				origin := "http://" + r.Host
				cfg := pageConfig{Env: p.appEnv(origin), Callback: callback}
				if !callback {
					cfg.Dashboards = p.dashboardsOf(r.URL.Query().Get("tab"))
				}
				probe := fmt.Sprintf(`<iframe hidden title="oauthsim probe" src="%s/probe"></iframe>`, html.EscapeString(p.origins.probe))
				// The probe first: its frame is attached first, so that the
				// order of window.frames and of the frames the runner tracks
				// agree however a browser orders them.
				p.page(w, "application", cfg, "app.js", probe+`<div id="dashboards"></div>`)
			}
		}
		mux.HandleFunc("GET /{$}", app(false))
		mux.HandleFunc("GET /next", app(false))
		mux.HandleFunc("GET /callback", app(true))
	case contract.FrameDashboard:
		mux.HandleFunc("GET /dashboard", func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			p.page(w, "dashboard", pageConfig{Env: p.dashboardEnv(), N: n}, "dashboard.js", "")
		})
	case contract.FrameProbe:
		mux.HandleFunc("GET /probe", func(w http.ResponseWriter, r *http.Request) {
			p.page(w, "probe", pageConfig{}, "", "")
		})
	}
	return mux
}

func noStore(w http.ResponseWriter, contentType string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
}

// asset writes embedded files one after the other.
func (p *process) asset(w http.ResponseWriter, contentType string, names ...string) {
	noStore(w, contentType)
	for _, n := range names {
		b, err := fs.ReadFile(assets, n)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(b)
		_, _ = w.Write([]byte{'\n'})
	}
}

// page writes a page of the runner: the harness first, at the sim time
// of now, then the page's module (none for the probe).
func (p *process) page(w http.ResponseWriter, title string, cfg pageConfig, script, body string) {
	init, err := json.Marshal(map[string]any{"now": p.env.Clock.Now().UnixMilli(), "flowing": p.isFlowing(), "page": cfg})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	noStore(w, "text/html; charset=utf-8")
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>oauthsim %s</title>\n", title)
	// JSON in a script element: only "</" could end it early.
	fmt.Fprintf(&b, "<script>self.__oauthsimInit = %s;</script>\n", strings.ReplaceAll(string(init), "</", `<\/`))
	b.WriteString("<script src=\"/__oauthsim/harness.js\"></script>\n")
	if script != "" {
		fmt.Fprintf(&b, "<script type=\"module\" src=\"/__oauthsim/%s\"></script>\n", script)
	} else {
		b.WriteString("<script>self.__oauthsim.markReady();</script>\n")
	}
	fmt.Fprintf(&b, "</head><body><p id=\"status\">oauthsim %s</p>%s</body></html>\n", title, body)
	_, _ = w.Write([]byte(b.String()))
}

// appEnv is the env of app(env) on the application origin origin.
func (p *process) appEnv(origin string) map[string]any {
	e := p.env
	scopes := slices.DeleteFunc(slices.Clone(e.Scopes), func(s string) bool { return s == "offline_access" })
	offline := contract.OfflineAccessScope
	if e.Profile.OfflineAccess == profile.OfflineAccessType {
		offline = contract.OfflineAccessType
	}
	m := p.dashboardEnv()
	m["appOrigin"] = origin
	m["issuer"] = e.Issuer
	m["clientId"] = e.ClientID
	m["redirectUri"] = origin + "/callback"
	m["scopes"] = scopes
	m["offlineAccess"] = string(offline)
	m["profile"] = e.Profile.Name
	m["rotation"] = string(e.Profile.Refresh.Rotation)
	m["grace"] = int(e.Profile.Refresh.Grace.D().Seconds())
	return m
}

// dashboardEnv is the env of dashboard(env): the application's origin is
// wherever the application now is.
func (p *process) dashboardEnv() map[string]any {
	return map[string]any{"api": p.env.Resource, "appOrigin": p.appOrigin(), "dashboardOrigin": p.origins.dash}
}

// serve starts the four origins; the application's on the redirect URI's
// port.
func (p *process) serve(app2 string) error {
	port, err := appPort(p.env.RedirectURI)
	if err != nil {
		return err
	}
	port2 := "0"
	if u, err := url.Parse(app2); err == nil && u.Port() != "" {
		port2 = u.Port()
	}
	o := &p.origins
	for _, s := range []struct {
		host, port, role string
		origin           *string
	}{
		{hostApp, port, contract.FrameApp, &o.app},
		{hostApp2, port2, contract.FrameApp, &o.app2},
		{hostDash, "0", contract.FrameDashboard, &o.dash},
		{hostProbe, "0", contract.FrameProbe, &o.probe},
	} {
		if *s.origin, err = o.listen(s.host, s.port, p.handler(s.role)); err != nil {
			o.close()
			return err
		}
	}
	return nil
}
