package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/net/netutil"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// DefaultAddr is where `oauthsim serve` listens unless told otherwise:
// loopback only, since the control API can revoke anything and move time.
const DefaultAddr = "127.0.0.1:8090"

type serveFlags struct {
	addr    string
	events  int
	config  string
	profile string
	// profileSet says --profile was given, so that it wins over the
	// config file's profile.base; its default does not.
	profileSet    bool
	issuer        string
	remoteControl bool
	// controlToken and controlTokenFile give the control API's token, on
	// the command line or in a file that keeps it out of the process list.
	controlToken     string
	controlTokenFile string
	limits           serverLimits
	verbose          bool
}

// serverLimits bound what a connection may hold of the server: without
// them a few hundred clients that send a byte now and then hold every file
// descriptor, and one of them holds up shutdown.
type serverLimits struct {
	// readHeader and read bound reading a request's headers and the whole
	// request; idle bounds a keep-alive connection's wait for its next
	// request. There is no write timeout: latency and hang faults hold
	// answers back on purpose, for minutes.
	readHeader, read, idle time.Duration
	// maxConns is how many connections are served at once; more wait to be
	// accepted. Zero for no limit.
	maxConns int
	// grace is how long requests in flight get to finish on SIGINT or
	// SIGTERM before their connections are closed.
	grace time.Duration
}

func newServeCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a simulated provider with a control API",
		Long: `Run a simulated OAuth 2.0 / OpenID Connect provider on a clock that reads
the wall clock plus an offset you move with the control API:

  curl -X POST localhost:8090/sim/v1/clock -H 'Content-Type: application/json' -d '{"advance":"61m"}'

--profile picks the built-in provider profile (oauthsim profiles lists them).
With --config too, --profile wins over the file's profile.base, and the
file's other profile keys still override it.

The control API answers loopback callers that name this machine (Host
localhost, a loopback address or the issuer's host), no web page of another
origin, and writes only with Content-Type: application/json. With
--control-token or --control-token-file, every request must also carry
Authorization: Bearer TOKEN; --allow-remote-control requires one.

It stops cleanly on SIGINT or SIGTERM, cutting requests still open after
--shutdown-grace.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			f.profileSet = c.Flags().Changed("profile")
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, f, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&f.addr, "addr", DefaultAddr, "address to listen on (host:port; port 0 picks a free one)")
	cmd.Flags().IntVar(&f.events, "events-keep", 200_000, "keep about this many of the newest events for the control API (0: all; each costs about 300 bytes)")
	cmd.Flags().StringVar(&f.config, "config", "", "YAML file with the profile, clients, users and faults")
	cmd.Flags().StringVar(&f.profile, "profile", "generic", "built-in provider profile; wins over profile.base in --config")
	cmd.Flags().StringVar(&f.issuer, "issuer", "", "issuer URL to advertise (default: http://ADDR)")
	cmd.Flags().BoolVar(&f.remoteControl, "allow-remote-control", false, "let non-loopback callers use the control API (needs a control token, and --issuer naming the host they call)")
	cmd.Flags().StringVar(&f.controlToken, "control-token", "", "bearer token every control API request must carry")
	cmd.Flags().StringVar(&f.controlTokenFile, "control-token-file", "", "file holding the control token (kept out of the process list)")
	cmd.Flags().DurationVar(&f.limits.readHeader, "read-header-timeout", 10*time.Second, "time a client gets to send a request's headers (0: no limit)")
	cmd.Flags().DurationVar(&f.limits.read, "read-timeout", 30*time.Second, "time a client gets to send a whole request, body included (0: no limit)")
	cmd.Flags().DurationVar(&f.limits.idle, "idle-timeout", 60*time.Second, "time a keep-alive connection may wait for its next request (0: the read timeout)")
	cmd.Flags().IntVar(&f.limits.maxConns, "max-conns", 512, "connections served at once; more wait to be accepted (0: no limit)")
	cmd.Flags().DurationVar(&f.limits.grace, "shutdown-grace", 5*time.Second, "on SIGINT or SIGTERM, time requests in flight get to finish before their connections are closed (0: none)")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log a line per request: method, path, status, outcome, error code and fault id (no tokens)")
	return cmd
}

func serve(ctx context.Context, f serveFlags, stdout, stderr io.Writer) error {
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg, err := f.configuration()
	if err != nil {
		return err
	}
	if f.events < 0 {
		return fmt.Errorf("--events-keep %d: give 0 (keep all) or a positive count", f.events)
	}
	if err := f.limits.check(); err != nil {
		return err
	}
	token, err := f.token()
	if err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(f.addr); err != nil {
		return fmt.Errorf("--addr %q: %w", f.addr, err)
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return failure{fmt.Errorf("listen on %s: %w", f.addr, err)}
	}
	issuer := f.issuer
	if issuer == "" {
		issuer = "http://" + ln.Addr().String()
	}
	opts := append(cfg.Options(),
		simulator.WithClock(clock.NewOffset()),
		simulator.WithIssuer(issuer),
		simulator.WithLogger(logger),
		simulator.WithRemoteControl(f.remoteControl),
		simulator.WithControlToken(token),
		simulator.WithEventLimit(f.events),
	)
	sim, err := simulator.New(opts...)
	if err != nil {
		ln.Close()
		return err
	}
	if f.limits.maxConns > 0 {
		ln = netutil.LimitListener(ln, f.limits.maxConns)
	}
	// Requests see a context that ends when shutdown begins, so that a hang or
	// latency fault lets go of its connection instead of holding shutdown up.
	reqCtx, endRequests := context.WithCancel(context.Background())
	defer endRequests()
	var handler http.Handler = sim
	if f.verbose {
		handler = logRequests(sim, logger)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: f.limits.readHeader,
		ReadTimeout:       f.limits.read,
		IdleTimeout:       f.limits.idle,
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	printBanner(stdout, issuer, sim.Profile(), token != "")

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return failure{fmt.Errorf("serve: %w", err)}
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	endRequests()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), f.limits.grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// A client still sending its request after the grace (a slow body)
		// is cut off: it must not turn a requested stop into a failure.
		logger.Info("closing the connections still open after the shutdown grace", "grace", f.limits.grace)
		srv.Close()
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return failure{fmt.Errorf("serve: %w", err)}
	}
	return nil
}

// check refuses negative limits, which net/http would take for none.
func (l serverLimits) check() error {
	for _, d := range []struct {
		flag string
		d    time.Duration
	}{{"--read-header-timeout", l.readHeader}, {"--read-timeout", l.read}, {"--idle-timeout", l.idle}, {"--shutdown-grace", l.grace}} {
		if d.d < 0 {
			return fmt.Errorf("%s %s: give a duration of 0 or more", d.flag, d.d)
		}
	}
	if l.maxConns < 0 {
		return fmt.Errorf("--max-conns %d: give 0 (no limit) or a positive count", l.maxConns)
	}
	return nil
}

// token is the control token --control-token or --control-token-file
// gives, "" for none; --allow-remote-control needs one.
func (f serveFlags) token() (string, error) {
	token := f.controlToken
	switch {
	case token != "" && f.controlTokenFile != "":
		return "", errors.New("give --control-token or --control-token-file, not both")
	case f.controlTokenFile != "":
		b, err := os.ReadFile(f.controlTokenFile)
		if err != nil {
			return "", fmt.Errorf("--control-token-file: %w", err)
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return "", fmt.Errorf("--control-token-file %s: the file is empty", f.controlTokenFile)
		}
	}
	if f.remoteControl && token == "" {
		return "", errors.New("--allow-remote-control needs --control-token or --control-token-file: without a token, anyone who reaches the port can revoke every grant and move time")
	}
	return token, nil
}

// configuration is the configuration --config and --profile describe.
func (f serveFlags) configuration() (simulator.Config, error) {
	p, err := profile.Builtin(f.profile)
	if err != nil {
		return simulator.Config{}, fmt.Errorf("--profile: %w", err)
	}
	if f.config != "" {
		base := ""
		if f.profileSet {
			base = p.Name
		}
		return simulator.LoadConfigWithBase(f.config, base)
	}
	cfg := simulator.DefaultConfig()
	cfg.Profile = simulator.ProfileConfig{Base: p.Name, Profile: p}
	return cfg, nil
}

func printBanner(w io.Writer, issuer string, p profile.Profile, token bool) {
	control := "(clock, grants, faults, revocations, events, clients, users, consents, reset)"
	if token {
		control = "(Authorization: Bearer with the control token)"
	}
	fmt.Fprintf(w, `oauthsim is serving (profile %s: %s)
  issuer        %s
  discovery     %s/.well-known/openid-configuration
  control API   %s/sim/v1/  %s
  demo client   demo / demo-secret  (client_secret_basic or client_secret_post)
  public client demo-public         (PKCE S256)
  redirect URI  %s
  users         alice, bob  (add login_hint=alice to skip the login page)
`, p.Name, p.Title, issuer, issuer, issuer, control, simulator.DemoRedirectURI)
}

// requestLog is serve -v's log: a line per request with its method, path
// and status, and for a request to a provider endpoint what the
// simulator's event for it says (outcome, error code, the fault that
// acted). The event knows what the client got where the response writer
// cannot: a hang or a lost answer shows as the fault it was, not as the
// 200 the provider wrote before a fault dropped it. Only the path is
// logged, never the query, a header or a body: they carry tokens and
// secrets.
type requestLog struct {
	next   http.Handler
	events *events.Log
	logger *slog.Logger

	mu sync.Mutex
	// inFlight holds, for each request being served, the last event's
	// number when it began: its own event comes after it.
	inFlight map[*http.Request]uint64
	// claimed holds the request events already logged with a request, so
	// that two requests to one path served at once take one each; numbers
	// no request in flight can reach are dropped.
	claimed map[uint64]bool
}

// logRequests wraps next, the simulator sim's handler, in a requestLog.
func logRequests(sim *simulator.Simulator, logger *slog.Logger) http.Handler {
	return &requestLog{next: sim, events: sim.Events(), logger: logger, inFlight: map[*http.Request]uint64{}, claimed: map[uint64]bool{}}
}

func (l *requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	l.mu.Lock()
	l.inFlight[r] = l.events.Last()
	l.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w}
	// Deferred: a fault that closes the connection ends the handler with
	// a panic (http.ErrAbortHandler), which goes on after the line.
	defer func() {
		attrs := []any{"method", r.Method, "path", r.URL.Path}
		// What reached the client: a dropped answer was written to a
		// buffer, not to the connection.
		status := sw.status
		if e, ok := l.eventOf(r); ok {
			attrs = append(attrs, "status", statusText(status), "outcome", e.Outcome)
			if e.Error != "" {
				attrs = append(attrs, "error", e.Error)
			}
			if e.Fault != "" {
				attrs = append(attrs, "fault", e.Fault)
			}
		} else {
			attrs = append(attrs, "status", statusText(status))
		}
		l.logger.Debug("request", append(attrs, "took", time.Since(start).Round(time.Microsecond))...)
	}()
	l.next.ServeHTTP(sw, r)
}

// eventOf finds the request event of r, a request that has just been
// answered: the first one for its path since it began that no other
// request has taken. ok is false for requests without one (the control
// API, discovery, the JWKS).
func (l *requestLog) eventOf(r *http.Request) (e events.Event, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	since := l.inFlight[r]
	delete(l.inFlight, r)
	for _, c := range l.events.Since(since) {
		if strings.HasSuffix(string(c.Kind), "_request") && c.Endpoint == r.URL.Path && !l.claimed[c.Seq] {
			l.claimed[c.Seq], e, ok = true, c, true
			break
		}
	}
	oldest := l.events.Last()
	for _, s := range l.inFlight {
		oldest = min(oldest, s)
	}
	for seq := range l.claimed {
		if seq <= oldest {
			delete(l.claimed, seq)
		}
	}
	return e, ok
}

// statusText is a status for the log: "none" where no answer was sent.
func statusText(status int) string {
	if status == 0 {
		return "none"
	}
	return strconv.Itoa(status)
}

// statusWriter notes the status a handler writes. Unwrap lets
// http.ResponseController reach the connection, which the faults that
// close it need.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
