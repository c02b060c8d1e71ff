package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gorilla/mux"
)

// Paths of the provider's endpoints.
const (
	PathAuthorize      = "/oauth2/authorize"
	PathToken          = "/oauth2/token"
	PathRevoke         = "/oauth2/revoke"
	PathIntrospect     = "/oauth2/introspect"
	PathUserinfo       = "/oauth2/userinfo"
	PathJWKS           = "/oauth2/jwks"
	PathASMetadata     = "/.well-known/oauth-authorization-server"
	PathOIDCDiscovery  = "/.well-known/openid-configuration"
	PathResourceMe     = "/api/me"
	PathControlPrefix  = "/sim/v1"
	controlContentType = "application/json"
)

// handler is the whole simulator: the router behind the middleware that
// every answer needs, 404s and 405s included (mux runs its own middleware
// only for routes that match).
func (s *Simulator) handler() http.Handler {
	return s.recoverPanics(s.stampRequest(s.shapePaths(s.routes())))
}

// routes routes each request to its endpoint. The provider's endpoints,
// and the 405s at their paths, are served through the faults (withFaults);
// those a browser page may call, with CORS (crossOrigin, corsRoutes).
func (s *Simulator) routes() *mux.Router {
	r := mux.NewRouter()
	c := s.newCORS()
	s.corsRoutes(r, c)
	provider := func(h providerHandler) http.Handler { return s.crossOrigin(c, s.withFaults(h)) }
	r.Handle(PathAuthorize, s.withFaults(s.handleAuthorize)).Methods(http.MethodGet, http.MethodPost)
	r.Handle(PathToken, provider(s.handleToken))
	r.Handle(PathRevoke, provider(s.handleRevoke))
	r.Handle(PathIntrospect, s.withFaults(s.handleIntrospect))
	r.Handle(PathUserinfo, provider(s.handleUserinfo)).Methods(http.MethodGet, http.MethodPost)
	r.Handle(PathJWKS, provider(s.handleJWKS)).Methods(http.MethodGet)
	r.Handle(PathASMetadata, provider(s.handleMetadata)).Methods(http.MethodGet)
	r.Handle(PathOIDCDiscovery, provider(s.handleMetadata)).Methods(http.MethodGet)
	r.Handle(PathResourceMe, provider(s.handleResource))
	s.controlRoutes(r)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no endpoint at %s", r.URL.Path))
	})
	r.MethodNotAllowedHandler = s.withFaults(func(w http.ResponseWriter, r *http.Request, _ shaping) {
		writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s does not accept %s", r.URL.Path, r.Method))
	})
	return r
}

// stampRequest makes the Date header tell sim time, as a real provider's
// Date tells its own clock, and carries the issuer URL to the handlers.
func (s *Simulator) stampRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := s.clock.Now()
		w.Header().Set("Date", s.provider.Now().UTC().Format(http.TimeFormat))
		ctx := context.WithValue(r.Context(), issuerKey{}, s.issuerFor(r))
		ctx = context.WithValue(ctx, requestTimeKey{}, now)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type requestTimeKey struct{}

// requestTime is the sim time a request arrived at: its events carry it, as
// its Date header does, even if the clock moves while it is served.
func requestTime(ctx context.Context) time.Time {
	t, _ := ctx.Value(requestTimeKey{}).(time.Time)
	return t
}

// recoverPanics turns a panic into a logged 500 with an RFC 6749 error body
// rather than a dropped connection. Panics are bugs: bad input must get a
// 4xx long before it could cause one.
func (s *Simulator) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.cfg.logger.Error("panic serving request", slog.String("path", r.URL.Path), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				writeJSONError(w, http.StatusInternalServerError, "server_error", "internal error; see the simulator's log")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// errorBody is an RFC 6749 §5.2 error, also used by the control API.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", controlContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, errorBody{Error: code, Description: description})
}
