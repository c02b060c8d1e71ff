package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/control"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// ServeEventLimit is `oauthsim serve`'s default --events-keep.
const ServeEventLimit = 200_000

// Target is an OAuth server on loopback that the workloads run against.
type Target struct {
	Name string
	// Note says how the target's work differs from the simulator's, where
	// it does.
	Note string
	// URL is the server's base URL; TokenPath and APIPath its token
	// endpoint and the GET the "api" workload calls.
	URL                string
	TokenPath, APIPath string
	// Scope is what the refresh workload's grants ask for.
	Scope string
	// Grants makes n refresh tokens, each the start of a chain of refreshes.
	Grants func(ctx context.Context, n int) ([]string, error)
	close  func() error
}

// Close stops the target.
func (t *Target) Close() error { return t.close() }

// The client every target knows.
const (
	clientID     = "demo"
	clientSecret = "demo-secret"
)

// Bare starts the ceiling: a net/http handler that parses a form and
// answers a fixed token response, and answers the API with fixed JSON. It
// is all the HTTP stack does and nothing an OAuth server adds.
func Bare() (*Target, error) {
	fixed := []byte(`{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt","scope":"api"}`)
	me := []byte(`{"sub":"alice"}`)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") == "" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixed)
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(me)
	})
	t, err := serveLoopback(mux)
	if err != nil {
		return nil, err
	}
	t.Name, t.TokenPath, t.APIPath = "bare net/http", "/token", "/api/me"
	t.Grants = func(_ context.Context, n int) ([]string, error) { return repeat("rt", n), nil }
	return t, nil
}

// Simulator starts oauthsim's provider with the generic profile: refresh
// tokens rotate on every use and a reused one revokes its family (strict
// reuse detection), with no cap on a user's families, on a clock that runs
// with the wall clock as `serve`'s does. scope is what grants ask for.
func Simulator(scope string) (*Target, *simulator.Simulator, error) {
	p := uncappedProfile()
	if p.Refresh.Rotation != profile.RotationRotate || p.Refresh.ReuseDetection != profile.ReuseRevokeFamily || p.Refresh.Grace.D() != 0 {
		return nil, nil, fmt.Errorf("the generic profile no longer rotates with strict reuse detection: %+v", p.Refresh)
	}
	// The event limit serve has by default: without one, the log of a
	// long load would grow the heap the collector walks.
	sim, err := simulator.New(simulator.WithClock(clock.NewOffset()), simulator.WithProfile(p), simulator.WithEventLimit(ServeEventLimit))
	if err != nil {
		return nil, nil, err
	}
	t, err := serveLoopback(sim)
	if err != nil {
		return nil, nil, err
	}
	t.Name, t.TokenPath, t.APIPath, t.Scope = "oauthsim", simulator.PathToken, simulator.PathResourceMe, scope
	// The grants come through the control API, as a load generator in
	// another process would get them.
	t.Grants = func(ctx context.Context, n int) ([]string, error) {
		c := NewHTTPClient(1)
		defer c.CloseIdleConnections()
		ctl := control.New(t.URL, c)
		out := make([]string, n)
		for i := range out {
			g, err := ctl.MintGrant(ctx, simulator.GrantRequest{ClientID: clientID, User: "alice", Scope: &scope})
			if err != nil {
				return nil, fmt.Errorf("mint a grant: %w", err)
			}
			out[i] = g.RefreshToken
		}
		return out, nil
	}
	return t, sim, nil
}

// MockServer starts the npm package oauth2-mock-server (installed in
// dir/node_modules) with node, through dir/server.mjs.
func MockServer(ctx context.Context, node, dir string) (*Target, error) {
	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = dir
	DieWithParent(cmd)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start oauth2-mock-server: %w", err)
	}
	stop := func() error {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil
	}
	// server.mjs prints its URL and the package's version once listening.
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, out)
	}()
	var ready struct{ URL, Version string }
	select {
	case line, ok := <-lines:
		if !ok || json.Unmarshal([]byte(line), &ready) != nil || ready.URL == "" {
			stop()
			return nil, fmt.Errorf("oauth2-mock-server did not say where it listens: %q", line)
		}
	case <-time.After(20 * time.Second):
		stop()
		return nil, errors.New("oauth2-mock-server did not start within 20 s")
	case <-ctx.Done():
		stop()
		return nil, ctx.Err()
	}
	return &Target{
		Name: "oauth2-mock-server " + ready.Version,
		Note: "no token state: it accepts any refresh token; it signs every access token it issues as an RS256 JWT, and an id_token on every refresh too, where oauthsim's access tokens are opaque (HMAC); its userinfo, the API here, checks no token. The like-for-like refresh row is oauthsim's with the openid scope",
		URL:  ready.URL, TokenPath: "/token", APIPath: "/userinfo",
		Grants: func(_ context.Context, n int) ([]string, error) { return repeat("any-refresh-token", n), nil },
		close:  stop,
	}, nil
}

// uncappedProfile is the generic profile without its cap on a user's live
// families: the benchmarks mint all of theirs for one user.
func uncappedProfile() profile.Profile {
	p := profile.Generic()
	p.Refresh.MaxFamiliesPerUserClient = 0
	return p
}

// serveLoopback serves h on a free port of 127.0.0.1.
func serveLoopback(h http.Handler) (*Target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	// Close, not Shutdown: a load leaves connections its client dialled and
	// never used, which Shutdown waits seconds for.
	return &Target{URL: "http://" + ln.Addr().String(), close: srv.Close}, nil
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// do sends req and decodes a 2xx answer into out (when not nil); anything
// else is an error with the status and the start of the body.
func do(c *http.Client, req *http.Request, out any) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %.200s", req.Method, req.URL.Path, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// tokenForm is a token request's body.
func tokenForm(v url.Values) io.Reader { return strings.NewReader(v.Encode()) }
