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
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
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
	verbose       bool
}

func newServeCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a simulated provider with a control API",
		Long: `Run a simulated OAuth 2.0 / OpenID Connect provider on a clock that reads
the wall clock plus an offset you move with the control API:

  curl -X POST localhost:8090/sim/v1/clock -d '{"advance":"61m"}'

--profile picks the built-in provider profile (oauthsim profiles lists them).
With --config too, --profile wins over the file's profile.base, and the
file's other profile keys still override it.

It stops cleanly on SIGINT or SIGTERM.`,
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
	cmd.Flags().BoolVar(&f.remoteControl, "allow-remote-control", false, "let non-loopback callers use the control API")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log every request")
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
		simulator.WithEventLimit(f.events),
	)
	sim, err := simulator.New(opts...)
	if err != nil {
		ln.Close()
		return err
	}
	// Requests see a context that ends when shutdown begins, so that a hang or
	// latency fault lets go of its connection instead of holding shutdown up.
	reqCtx, endRequests := context.WithCancel(context.Background())
	defer endRequests()
	srv := &http.Server{
		Handler:           logRequests(sim, logger),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	printBanner(stdout, issuer, sim.Profile())

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return failure{fmt.Errorf("serve: %w", err)}
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	endRequests()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return failure{fmt.Errorf("shutdown: %w", err)}
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return failure{fmt.Errorf("serve: %w", err)}
	}
	return nil
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

func printBanner(w io.Writer, issuer string, p profile.Profile) {
	fmt.Fprintf(w, `oauthsim is serving (profile %s: %s)
  issuer        %s
  discovery     %s/.well-known/openid-configuration
  control API   %s/sim/v1/  (clock, grants, faults, revocations, events, clients, users, consents, reset)
  demo client   demo / demo-secret  (client_secret_basic or client_secret_post)
  public client demo-public         (PKCE S256)
  redirect URI  %s
  users         alice, bob  (add login_hint=alice to skip the login page)
`, p.Name, p.Title, issuer, issuer, issuer, simulator.DemoRedirectURI)
}

// logRequests logs each request at debug level.
func logRequests(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		logger.Debug("request", "method", r.Method, "path", r.URL.Path, "took", time.Since(start))
	})
}
