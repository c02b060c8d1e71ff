package simulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/family"
	"github.com/oauthsim/oauthsim/simulator/fault"
)

// defaultHang is how long a hang holds a connection when its fault sets no max.
const defaultHang = 30 * time.Second

// loadFaults activates the configured faults, replacing any others.
func (s *Simulator) loadFaults() error {
	s.faults.Reset()
	for i, f := range s.cfg.faults {
		if _, err := s.faults.Add(f, s.clock.Now()); err != nil {
			return fmt.Errorf("fault %d (%s): %w", i+1, f.Kind, err)
		}
	}
	return nil
}

// endpointOf names the provider endpoint at path, in the terms faults match
// by; the control API has none and is never faulted.
func endpointOf(path string) (fault.Endpoint, bool) {
	switch path {
	case PathToken:
		return fault.EndpointToken, true
	case PathAuthorize:
		return fault.EndpointAuthorize, true
	case PathRevoke:
		return fault.EndpointRevoke, true
	case PathIntrospect:
		return fault.EndpointIntrospect, true
	case PathResourceMe, PathUserinfo:
		return fault.EndpointResource, true
	case PathASMetadata, PathOIDCDiscovery:
		return fault.EndpointDiscovery, true
	case PathJWKS:
		return fault.EndpointJWKS, true
	}
	return "", false
}

// requestKinds are the event kinds of requests to each endpoint; discovery
// and JWKS requests are not logged.
var requestKinds = map[fault.Endpoint]events.Kind{
	fault.EndpointToken:      events.TokenRequest,
	fault.EndpointAuthorize:  events.AuthorizeRequest,
	fault.EndpointRevoke:     events.RevokeRequest,
	fault.EndpointIntrospect: events.IntrospectRequest,
	fault.EndpointResource:   events.ResourceRequest,
}

// faulted is a request as the faults see it.
type faulted struct {
	fault.Request
	// token and tokenType fingerprint the code or token the request presented.
	token, tokenType string
	// requestedScope is a refresh or client credentials request's scope
	// parameter as sent (see events.Event.RequestedScope).
	requestedScope *string
}

// injectFaults applies the active faults to requests for provider
// endpoints: it delays them, answers them in the provider's place, or lets
// the provider serve them with the faults that shape or spoil the answer in
// the request's context.
func (s *Simulator) injectFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep, ok := endpointOf(r.URL.Path)
		if !ok || s.faults.Len() == 0 {
			next.ServeHTTP(w, r)
			return
		}
		req := s.faultRequest(ep, r)
		d := s.faults.Decide(req.Request, s.clock.Now())
		for _, f := range d.Latency {
			wait := f.Fault.Delay.D() + f.Jitter
			s.fired(r, req, f, "delayed the request by "+wait.String())
			if !sleep(r.Context(), wait) {
				// The client gave up or the server is stopping: an empty 200
				// would be an answer the provider never gave.
				s.emit(s.unanswered(r, req, f, 0, "", "the client gave up (or the server stopped) during the delay"))
				abortConnection(w, r)
				return
			}
		}
		if d.Answer != nil {
			s.answer(w, r, req, *d.Answer)
			return
		}
		if len(d.Shape) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), shapingKey{}, d.Shape))
		if f := spoiler(r.Context()); f != nil {
			rec := newRecorder()
			next.ServeHTTP(rec, r)
			s.spoil(w, r, req, *f, rec)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// faultRequest learns what faults match on: the endpoint, the grant type,
// and the client, user and family of the credentials and token presented.
func (s *Simulator) faultRequest(ep fault.Endpoint, r *http.Request) faulted {
	req := faulted{Request: fault.Request{Endpoint: ep}}
	if id, _, ok := r.BasicAuth(); ok {
		req.Client, _ = url.QueryUnescape(id)
	}
	var presented string
	var kind fosite.TokenType
	switch ep {
	case fault.EndpointToken, fault.EndpointRevoke, fault.EndpointIntrospect:
		form := peekForm(r)
		if req.Client == "" {
			req.Client = form.Get("client_id")
		}
		req.GrantType = form.Get("grant_type")
		if ep == fault.EndpointToken {
			req.requestedScope = requestedScope(req.GrantType, form)
		}
		switch {
		case ep != fault.EndpointToken:
			presented = form.Get("token")
		case req.GrantType == "refresh_token":
			presented, kind = form.Get("refresh_token"), fosite.RefreshToken
		case req.GrantType == "authorization_code":
			presented, kind = form.Get("code"), fosite.AuthorizeCode
		}
	case fault.EndpointResource:
		presented, kind = fosite.AccessTokenFromRequest(r), fosite.AccessToken
	case fault.EndpointAuthorize:
		q := r.URL.Query()
		req.Client, req.User = q.Get("client_id"), q.Get("login_hint")
	}
	if presented == "" {
		return req
	}
	sig := s.strategy.signature(presented)
	if info, ok := s.store.Token(sig); ok {
		req.Family, req.User, req.token, req.tokenType = info.Family, info.User, info.Fingerprint, string(info.Kind)
		if req.Client == "" {
			req.Client = info.Client
		}
	} else if kind != "" {
		req.token, req.tokenType = family.Fingerprint(kind, sig), string(kind)
	}
	return req
}

// peekForm reads a request's body form without consuming it: the provider
// parses the body again, with its own error handling. A body that does not
// parse, or is too large to hold, yields nothing.
func peekForm(r *http.Request) url.Values {
	if r.Body == nil || r.Body == http.NoBody {
		return url.Values{}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormMemory+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil || len(body) > maxFormMemory {
		return url.Values{}
	}
	peek := r.Clone(r.Context())
	peek.Body = io.NopCloser(bytes.NewReader(body))
	peek.Form, peek.PostForm, peek.MultipartForm = nil, nil, nil
	err = peek.ParseMultipartForm(maxFormMemory)
	if peek.MultipartForm != nil {
		_ = peek.MultipartForm.RemoveAll()
	}
	if err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return url.Values{}
	}
	// The provider reads grant_type and tokens from the body only (RFC 6749 §3.2).
	return peek.PostForm
}

type readCloser struct {
	io.Reader
	io.Closer
}

// sleep waits d of wall time, or until the client gives up; it reports
// whether the wait ran out.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// fired records a fault acting on a request.
func (s *Simulator) fired(r *http.Request, req faulted, f fault.Firing, detail string) {
	e := req.event(events.FaultFired, r, f)
	e.Detail = fmt.Sprintf("%s: %s", f.Fault.Kind, detail)
	s.events.Emit(e)
}

// event is an event about req, on which f acted.
func (req faulted) event(kind events.Kind, r *http.Request, f fault.Firing) events.Event {
	return events.Event{
		Kind: kind, Endpoint: r.URL.Path, Time: requestTime(r.Context()), GrantType: req.GrantType,
		Client: req.Client, User: req.User, Family: req.Family, Token: req.token, TokenType: req.tokenType,
		Fault: f.Fault.ID,
	}
}

// answer answers a request in the provider's place and logs both the fault
// and the request, which the provider never saw.
func (s *Simulator) answer(w http.ResponseWriter, r *http.Request, req faulted, f fault.Firing) {
	var status int
	var code, detail string
	var after func()
	switch f.Fault.Kind {
	case fault.RateLimit:
		status, code = s.writeRendered(w, s.rateLimitResponse(f), s.responseData(f, time.Time{}))
		detail = answered(w, status)
	case fault.Error:
		status, code = s.writeRendered(w, s.errorFaultResponse(f), s.responseData(f, time.Time{}))
		detail = answered(w, status)
	case fault.Hang:
		limit := f.Fault.Max.D()
		if limit == 0 {
			limit = defaultHang
		}
		detail = "held the request until the client gave up (or the server stopped)"
		if sleep(r.Context(), limit) {
			detail = fmt.Sprintf("held the request for %s, then closed the connection without an answer", limit)
		}
		// Returning would send an empty 200; a hang never answers.
		after = func() { abortConnection(w, r) }
	case fault.Reset:
		detail = "closed the connection without an answer"
		after = func() { abortConnection(w, r) }
	}
	s.fired(r, req, f, detail)
	e := s.unanswered(r, req, f, status, code, detail)
	if e != nil && status != 0 {
		e.RetryAt = s.retryAt(w.Header())
	}
	s.emit(e)
	if after != nil {
		after()
	}
}

// unanswered builds the request event of a request the provider never saw,
// so that every attempt a client makes is on the record; nil for endpoints
// without request events. The caller emits it.
func (s *Simulator) unanswered(r *http.Request, req faulted, f fault.Firing, status int, code, detail string) *events.Event {
	kind, ok := requestKinds[req.Endpoint]
	if !ok {
		return nil
	}
	e := req.event(kind, r, f)
	e.Status, e.Outcome, e.Error, e.Detail = status, events.OutcomeFault, code, detail
	e.RequestedScope = req.requestedScope
	return &e
}

// emit logs e unless it is nil.
func (s *Simulator) emit(e *events.Event) {
	if e != nil {
		s.events.Emit(*e)
	}
}

// retryAt reads when an answer with headers h lets the client come back,
// on the sim clock: Retry-After in seconds or as an HTTP-date (RFC 9110
// §10.2.3), else Okta's or Auth0's rate-limit reset in epoch seconds. Dates
// are in the provider's clock, so a skew is taken back out. nil when the
// answer says nothing.
func (s *Simulator) retryAt(h http.Header) *time.Time {
	now := s.clock.Now()
	skew := now.Sub(s.provider.Now())
	var at time.Time
	if v := h.Get("Retry-After"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			at = now.Add(time.Duration(n) * time.Second)
		} else if t, err := http.ParseTime(v); err == nil {
			at = t.Add(skew)
		}
	}
	for _, k := range []string{"X-Rate-Limit-Reset", "X-RateLimit-Reset"} {
		if n, err := strconv.ParseInt(h.Get(k), 10, 64); err == nil && at.IsZero() {
			at = time.Unix(n, 0).Add(skew)
		}
	}
	if at.IsZero() {
		return nil
	}
	return &at
}

// applied records a shaping fault that acted on its request: its count and
// its fault_fired event.
func (s *Simulator) applied(r *http.Request, req faulted, f fault.Firing, detail string) {
	s.faults.Applied(f.Fault)
	s.fired(r, req, f, detail)
}

// spoil delivers, spoils or drops the answer the provider gave.
func (s *Simulator) spoil(w http.ResponseWriter, r *http.Request, req faulted, f fault.Firing, rec *recorder) {
	if f.Fault.Kind == fault.DropAfterCommit {
		s.applied(r, req, f, fmt.Sprintf("the provider answered %d; the answer was dropped and the connection closed", rec.status))
		abortConnection(w, r)
		return
	}
	var detail string
	switch f.Fault.Mode {
	case fault.ModeTruncate:
		rec.body.Truncate(rec.body.Len() / 2)
		detail = fmt.Sprintf("cut the body to %d bytes", rec.body.Len())
	case fault.ModeContentType:
		rec.header.Set("Content-Type", "text/html; charset=utf-8")
		detail = "labelled the body text/html"
	case fault.ModeNotJSON:
		rec.header.Set("Content-Type", "text/html; charset=utf-8")
		rec.body.Reset()
		fmt.Fprintf(&rec.body, "<html><head><title>%d %s</title></head><body><h1>%[2]s</h1></body></html>\n", rec.status, http.StatusText(rec.status))
		detail = "replaced the body with an HTML page"
	case fault.ModeEmpty:
		rec.body.Reset()
		detail = "sent no body"
	}
	s.applied(r, req, f, fmt.Sprintf("%s of a %d answer", detail, rec.status))
	rec.flush(w)
}

// abortConnection closes the client's connection without an answer: with
// an RST where the connection can be taken over, else by aborting the
// handler, which net/http turns into a closed connection or a reset stream.
// A request handed to ServeHTTP in-process has no connection: its response
// is left unwritten rather than panicking in the caller's goroutine.
func abortConnection(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		if r.Context().Value(http.ServerContextKey) == nil {
			return
		}
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

type shapingKey struct{}

// spoiler returns the malformed or drop_after_commit fault that will spoil
// the answer to the request in ctx, if any.
func spoiler(ctx context.Context) *fault.Firing {
	all, _ := ctx.Value(shapingKey{}).([]fault.Firing)
	for i, f := range all {
		if f.Fault.Kind == fault.Malformed || f.Fault.Kind == fault.DropAfterCommit {
			return &all[i]
		}
	}
	return nil
}

// shapingFaults returns the faults of kind that fired on the request in ctx.
func shapingFaults(ctx context.Context, kind fault.Kind) []fault.Firing {
	all, _ := ctx.Value(shapingKey{}).([]fault.Firing)
	var out []fault.Firing
	for _, f := range all {
		if f.Fault.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// recorder holds a provider's answer so that a fault can spoil it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// flush sends the held answer.
func (r *recorder) flush(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	if r.status == 0 {
		r.status = http.StatusOK
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}

// lockedRand is a seeded generator shared by concurrent requests.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newLockedRand(seed uint64) *lockedRand {
	return &lockedRand{r: rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))}
}

// between returns a duration in [lo, hi], whole seconds apart from lo.
func (l *lockedRand) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return lo + time.Duration(l.r.Int64N(int64((hi-lo)/time.Second)+1))*time.Second
}

// contentTypeOf guesses the type of a body a fault gives without one.
func contentTypeOf(body string) string {
	b := strings.TrimSpace(body)
	switch {
	case strings.HasPrefix(b, "{") || strings.HasPrefix(b, "["):
		return "application/json"
	case strings.HasPrefix(b, "<"):
		return "text/html; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}

// answered describes a fault's answer for its event: the status, and the
// Retry-After it announced, if any.
func answered(w http.ResponseWriter, status int) string {
	if ra := w.Header().Get("Retry-After"); ra != "" {
		return fmt.Sprintf("answered %d with Retry-After: %s", status, ra)
	}
	return fmt.Sprintf("answered %d", status)
}
