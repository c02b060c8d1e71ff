package simulator_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/control"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// epoch is where every test's fake clock starts.
var epoch = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// harness is a simulator on a loopback port with a fake clock, and the
// requests the specs make against it.
type harness struct {
	srv   *simulator.Server
	clock *clockwork.FakeClock
	http  *http.Client
	// ctl is the control API's client, for the specs of the API itself.
	ctl *control.Client
}

func newHarness(opts ...simulator.Option) *harness {
	GinkgoHelper()
	fake := clock.NewFake(epoch)
	srv, err := simulator.NewServer(append([]simulator.Option{simulator.WithClock(fake)}, opts...)...)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &harness{srv: srv, clock: fake, http: client, ctl: control.New(srv.URL, client)}
}

// reply is a response with its body read.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json() map[string]any {
	GinkgoHelper()
	var m map[string]any
	Expect(json.Unmarshal(r.body, &m)).To(Succeed(), "body: %s", r.body)
	return m
}

func (r reply) str(key string) string {
	GinkgoHelper()
	v, ok := r.json()[key].(string)
	Expect(ok).To(BeTrue(), "%q is not a string in %s", key, r.body)
	return v
}

func (h *harness) do(req *http.Request) reply {
	GinkgoHelper()
	resp, err := h.http.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return reply{status: resp.StatusCode, header: resp.Header, body: body}
}

func (h *harness) get(path string, header ...string) reply {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	Expect(err).NotTo(HaveOccurred())
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return h.do(req)
}

// postForm posts a form; user and password, when user is not empty, go in
// HTTP Basic authentication.
func (h *harness) postForm(path string, form url.Values, user, password string) reply {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(form.Encode()))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	return h.do(req)
}

// control sends one request to the control API, path under /sim/v1, with
// body as JSON, or as it is when it is a string, and returns the answer
// whatever its status.
func (h *harness) control(method, path string, body any) reply {
	GinkgoHelper()
	var answer []byte
	status, err := h.ctl.Do(context.Background(), method, path, body, &answer)
	if failed, ok := errors.AsType[*control.Error](err); ok {
		return reply{status: failed.Status, header: failed.Header, body: failed.Body}
	}
	Expect(err).NotTo(HaveOccurred())
	return reply{status: status, body: answer}
}

// tokens is a token response.
type tokens struct {
	Access    string  `json:"access_token"`
	Refresh   string  `json:"refresh_token"`
	IDToken   string  `json:"id_token"`
	ExpiresIn float64 `json:"expires_in"`
	Scope     string  `json:"scope"`
	TokenType string  `json:"token_type"`
	Family    string  `json:"family"`
}

func decodeTokens(r reply) tokens {
	GinkgoHelper()
	var t tokens
	Expect(json.Unmarshal(r.body, &t)).To(Succeed())
	return t
}

// mint completes an authorization without the browser.
func (h *harness) mint(client, user, scope string) tokens {
	GinkgoHelper()
	g, err := h.srv.MintGrant(context.Background(), simulator.GrantRequest{ClientID: client, User: user, Scope: &scope})
	Expect(err).NotTo(HaveOccurred(), "mint grant")
	return tokens{Access: g.AccessToken, Refresh: g.RefreshToken, IDToken: g.IDToken, ExpiresIn: g.ExpiresIn.Seconds(),
		Scope: g.Scope, TokenType: g.TokenType, Family: g.Family}
}

func (h *harness) refresh(rt string) reply {
	GinkgoHelper()
	return h.postForm(simulator.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "demo", "demo-secret")
}

func (h *harness) me(at string) reply {
	GinkgoHelper()
	return h.get(simulator.PathResourceMe, "Authorization", "Bearer "+at)
}

func (h *harness) introspect(token string) map[string]any {
	GinkgoHelper()
	r := h.postForm(simulator.PathIntrospect, url.Values{"token": {token}}, "demo", "demo-secret")
	Expect(r.status).To(Equal(http.StatusOK), "introspect: %s", r.body)
	return r.json()
}

// introspectWith introspects token with a bearer access token as the
// caller's credentials, as a public client can, and returns the answer.
func (h *harness) introspectWith(bearer, token string) reply {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+simulator.PathIntrospect, strings.NewReader(url.Values{"token": {token}}.Encode()))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+bearer)
	return h.do(req)
}

// advance moves the clock by d, a duration as the control API takes it
// ("61m", "7d").
func (h *harness) advance(d string) {
	GinkgoHelper()
	by, err := profile.ParseDuration(d)
	Expect(err).NotTo(HaveOccurred())
	_, err = h.srv.AdvanceClock(by.D())
	Expect(err).NotTo(HaveOccurred())
}

// events reads the event log as the control API shows it: times parsed
// back from JSON compare equal to the specs' own.
func (h *harness) events() []events.Event {
	GinkgoHelper()
	page, err := h.ctl.EventsSince(context.Background(), 0)
	Expect(err).NotTo(HaveOccurred())
	return page.Events
}

// kinds lists the kinds of events, in order.
func kinds(evs []events.Event) []events.Kind {
	out := make([]events.Kind, len(evs))
	for i, e := range evs {
		out[i] = e.Kind
	}
	return out
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = strings.Repeat("v", 20) + base64.RawURLEncoding.EncodeToString([]byte(time.Now().String()))
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeURL is an authorization request for the demo redirect URI.
func authorizeURL(client, scope, challenge string, extra ...string) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {client}, "redirect_uri": {simulator.DemoRedirectURI},
		"scope": {scope}, "state": {"state-12345678"},
	}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return simulator.PathAuthorize + "?" + q.Encode()
}

// codeFrom reads the code from an authorization redirect.
func codeFrom(r reply) string {
	GinkgoHelper()
	Expect(r.status).To(Equal(http.StatusSeeOther), "authorize: %s", r.body)
	loc, err := url.Parse(r.header.Get("Location"))
	Expect(err).NotTo(HaveOccurred())
	Expect(loc.Query().Get("error")).To(BeEmpty(), "authorize error: %s", loc.Query().Get("error_description"))
	Expect(loc.Query().Get("state")).To(Equal("state-12345678"))
	return loc.Query().Get("code")
}
