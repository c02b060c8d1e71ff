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
)

// DefaultAddr is where `oauthsim serve` listens unless told otherwise:
// loopback only, since the control API can revoke anything and move time.
const DefaultAddr = "127.0.0.1:8090"

type serveFlags struct {
	addr          string
	config        string
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

It stops cleanly on SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, f, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&f.addr, "addr", DefaultAddr, "address to listen on (host:port; port 0 picks a free one)")
	cmd.Flags().StringVar(&f.config, "config", "", "YAML file with the profile, clients and users")
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
	cfg := simulator.DefaultConfig()
	if f.config != "" {
		var err error
		if cfg, err = simulator.LoadConfig(f.config); err != nil {
			return err
		}
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
	)
	sim, err := simulator.New(opts...)
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: logRequests(sim, logger), ReadHeaderTimeout: 10 * time.Second}
	printBanner(stdout, issuer, sim.Store().Policy().Name)

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return failure{fmt.Errorf("serve: %w", err)}
	case <-ctx.Done():
	}
	logger.Info("shutting down")
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

func printBanner(w io.Writer, issuer, profileName string) {
	fmt.Fprintf(w, `oauthsim is serving (profile %s)
  issuer        %s
  discovery     %s/.well-known/openid-configuration
  control API   %s/sim/v1/  (clock, grants, revocations, events, clients, users, reset)
  demo client   demo / demo-secret  (client_secret_basic or client_secret_post)
  public client demo-public         (PKCE S256)
  redirect URI  %s
  users         alice, bob  (add login_hint=alice to skip the login page)
`, profileName, issuer, issuer, issuer, simulator.DemoRedirectURI)
}

// logRequests logs each request at debug level.
func logRequests(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		logger.Debug("request", "method", r.Method, "path", r.URL.Path, "took", time.Since(start))
	})
}
