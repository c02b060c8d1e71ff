package simulator_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
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
	"github.com/oauthsim/oauthsim/simulator/events"
)

// epoch is where every test's fake clock starts.
var epoch = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// harness is a simulator on a loopback port with a fake clock, and the
// requests the specs make against it.
type harness struct {
	srv   *simulator.Server
	clock *clockwork.FakeClock
	http  *http.Client
}

func newHarness(opts ...simulator.Option) *harness {
	GinkgoHelper()
	fake := clock.NewFake(epoch)
	srv, err := simulator.NewServer(append([]simulator.Option{simulator.WithClock(fake)}, opts...)...)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &harness{srv: srv, clock: fake, http: client}
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

func (h *harness) control(method, path string, body any) reply {
	GinkgoHelper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			Expect(err).NotTo(HaveOccurred())
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, h.srv.URL+"/sim/v1"+path, rd)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/json")
	return h.do(req)
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

// mint completes an authorization through the control API.
func (h *harness) mint(client, user, scope string) tokens {
	GinkgoHelper()
	r := h.control(http.MethodPost, "/grants", map[string]string{"client_id": client, "user": user, "scope": scope})
	Expect(r.status).To(Equal(http.StatusCreated), "mint grant: %s", r.body)
	return decodeTokens(r)
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

func (h *harness) advance(d string) {
	GinkgoHelper()
	r := h.control(http.MethodPost, "/clock", map[string]string{"advance": d})
	Expect(r.status).To(Equal(http.StatusOK), "advance clock: %s", r.body)
}

func (h *harness) events() []events.Event {
	GinkgoHelper()
	r := h.control(http.MethodGet, "/events", nil)
	Expect(r.status).To(Equal(http.StatusOK))
	var body struct {
		Events []events.Event `json:"events"`
	}
	Expect(json.Unmarshal(r.body, &body)).To(Succeed())
	return body.Events
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
