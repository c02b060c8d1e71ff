package simulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// loadFaults activates the configured faults in a new world's engine.
func (s *Simulator) loadFaults(engine *fault.Engine) error {
	for i, f := range s.cfg.faults {
		if _, err := engine.Add(f, s.clock.Now()); err != nil {
			return fmt.Errorf("fault %d (%s): %w", i+1, f.Kind(), err)
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

// providerHandler serves a request to a provider endpoint, with the faults
// that fired on it and act while it is served.
type providerHandler func(w http.ResponseWriter, r *http.Request, sh shaping)

// withFaults applies the active faults to the requests h serves: it holds
// them, answers them in h's place, or has h serve them with the faults that
// shape or spoil the answer. Each fault acts through its kind's hooks
// (fault.Holder, fault.Answerer, fault.Spoiler here; the others where h
// mints, answers a token request or checks a token). The request works in
// the world current when it arrived (see world), and leaves no multipart
// temporary file behind.
func (s *Simulator) withFaults(h providerHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = s.pin(r)
		// net/http removes the temporary files of the form it parsed on the
		// request it handed the server's handler, not on this copy of it,
		// which fosite parses.
		defer removeMultipartFiles(r)
		faults := s.within(r.Context()).faults
		ep, ok := endpointOf(r.URL.Path)
		if !ok || faults.Len() == 0 {
			h(w, r, shaping{})
			return
		}
		req := s.faultRequest(ep, r)
		d := faults.Decide(req.Request, s.clock.Now())
		for _, f := range d.Latency {
			x := s.stub(w, r, req, f)
			if ended := f.Fault.Effect.(fault.Holder).Hold(x, f); ended != "" {
				x.Close()
				x.end(ended)
				return
			}
		}
		if d.Answer != nil {
			x := s.stub(w, r, req, *d.Answer)
			detail := d.Answer.Fault.Effect.(fault.Answerer).Answer(x)
			x.Fired(detail)
			x.end(detail)
			return
		}
		sh := shaping{firings: d.Shape}
		sp, f, spoils := sh.spoiler()
		if !spoils {
			h(w, r, sh)
			return
		}
		rec := newRecorder()
		h(rec, r, sh)
		x := s.stub(w, r, req, f)
		s.applied(r, req, f, sp.Spoil(x, fault.Held{Status: rec.status, Header: rec.header, Body: &rec.body}))
		if x.closing {
			abortConnection(w, r)
			return
		}
		rec.flush(w)
	})
}

// removeMultipartFiles deletes the temporary files of a multipart form
// parsed on r, if any.
func removeMultipartFiles(r *http.Request) {
	if r.MultipartForm != nil {
		_ = r.MultipartForm.RemoveAll()
	}
}

// shaping is the faults that fired on a request and act while the provider
// serves it; the provider's handlers are given it with the request. The zero
// shaping is a request no fault fired on.
type shaping struct {
	firings []fault.Firing
}

// hooked yields the firings of sh whose effect has the hook H, with the hook,
// in the order the faults were added.
func hooked[H any](sh shaping) iter.Seq2[H, fault.Firing] {
	return func(yield func(H, fault.Firing) bool) {
		for _, f := range sh.firings {
			if h, ok := f.Fault.Effect.(H); ok && !yield(h, f) {
				return
			}
		}
	}
}

// spoiler is the fault that spoils the answer, if any (the engine lets one
// spoil it).
func (sh shaping) spoiler() (fault.Spoiler, fault.Firing, bool) {
	for sp, f := range hooked[fault.Spoiler](sh) {
		return sp, f, true
	}
	return nil, fault.Firing{}, false
}

// lostTo is the id of the fault that keeps the answer's content from the
// client, if any: the provider served the request, but the tokens it
// minted never arrive.
func (sh shaping) lostTo() string {
	if sp, f, ok := sh.spoiler(); ok && sp.LosesAnswer() {
		return f.Fault.ID
	}
	return ""
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
	wd := s.within(r.Context())
	sig := s.tokens.signature(presented)
	if info, ok := wd.store.Token(sig); ok {
		req.Family, req.User, req.token, req.tokenType = info.Family, info.User, info.Fingerprint, string(info.Kind)
		if req.Client == "" {
			req.Client = info.Client
		}
	} else if kind != "" {
		req.token, req.tokenType = events.Fingerprint(string(kind), sig), string(kind)
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
	removeMultipartFiles(peek)
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
	e.Detail = fmt.Sprintf("%s: %s", f.Fault.Kind(), detail)
	s.events.Emit(e)
}

// event is an event about req, on which f acted.
func (req faulted) event(kind events.Kind, r *http.Request, f fault.Firing) events.Event {
	return events.Event{
		Kind: kind, Endpoint: requestPath(r), Time: requestTime(r.Context()), GrantType: req.GrantType,
		Client: req.Client, User: req.User, Family: req.Family, Token: req.token, TokenType: req.tokenType,
		Fault: f.Fault.ID,
	}
}

// exchangeStub is one firing's fault.Exchange: the request as a fault acting
// on it at the HTTP level sees it.
type exchangeStub struct {
	s   *Simulator
	w   http.ResponseWriter
	r   *http.Request
	req faulted
	f   fault.Firing
	// status and code are what Respond sent; closing, that the fault closes
	// the connection.
	status  int
	code    string
	closing bool
}

func (s *Simulator) stub(w http.ResponseWriter, r *http.Request, req faulted, f fault.Firing) *exchangeStub {
	return &exchangeStub{s: s, w: w, r: r, req: req, f: f}
}

// Fired implements fault.Exchange.
func (x *exchangeStub) Fired(detail string) { x.s.fired(x.r, x.req, x.f, detail) }

// Wait implements fault.Exchange.
func (x *exchangeStub) Wait(d time.Duration) bool { return sleep(x.r.Context(), d) }

// Situation implements fault.Exchange.
func (x *exchangeStub) Situation(situation profile.Situation) (profile.Response, bool) {
	return x.s.situationResponse(situation)
}

// Respond implements fault.Exchange.
func (x *exchangeStub) Respond(resp profile.Response) string {
	x.status, x.code = x.s.writeRendered(x.w, resp, x.s.responseData(x.f, time.Time{}))
	return answered(x.w, x.status)
}

// Close implements fault.Exchange: the connection is closed in end, or once
// a spoiled answer is dropped, after the request is logged.
func (x *exchangeStub) Close() { x.closing = true }

// end logs a request the provider never saw, which the fault answered or
// held with detail, and closes its connection if the fault asked to.
func (x *exchangeStub) end(detail string) {
	e := x.s.unanswered(x.r, x.req, x.f, x.status, x.code, detail)
	if e != nil && x.status != 0 {
		e.RetryAt = x.s.retryAt(x.w.Header())
	}
	x.s.emit(e)
	if x.closing {
		abortConnection(x.w, x.r)
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
	s.within(r.Context()).faults.Applied(f.Fault)
	s.fired(r, req, f, detail)
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

// answered describes a fault's answer for its event: the status, and the
// Retry-After it announced, if any.
func answered(w http.ResponseWriter, status int) string {
	if ra := w.Header().Get("Retry-After"); ra != "" {
		return fmt.Sprintf("answered %d with Retry-After: %s", status, ra)
	}
	return fmt.Sprintf("answered %d", status)
}
