package simulator_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/control"
)

// contextFromRemote makes an in-process request look as if it came over a
// listener from 192.0.2.1, a documentation address that is never dialled.
func contextFromRemote(req *http.Request) context.Context {
	req.RemoteAddr = "192.0.2.1:40000"
	return context.WithValue(req.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8090})
}

// controlState is what the control API can change, read through the
// simulator's methods: a refused request must leave all of it as it was.
type controlState struct {
	Clock    simulator.ClockState
	Clients  []simulator.Client
	Faults   int
	Families []simulator.FamilyInfo
	Users    int
	// LastEvent moves with every change the API makes, a reset included.
	LastEvent uint64
}

func stateOf(srv *simulator.Server) controlState {
	return controlState{Clock: srv.ClockState(), Clients: srv.Clients(), Faults: len(srv.Faults()), Families: srv.Families(),
		Users: len(srv.Users()), LastEvent: srv.Events().Last()}
}

// browser sends what a browser sends: method, path under /sim/v1, a body
// with its content type (none when empty), and header pairs.
func (h *harness) browser(method, path, contentType, body string, header ...string) reply {
	GinkgoHelper()
	req, err := http.NewRequest(method, h.srv.URL+simulator.PathControlPrefix+path, strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	return h.do(req)
}

var _ = Describe("The control API's guard", func() {
	var h *harness
	BeforeEach(func() {
		h = newHarness()
		h.mint("demo", "alice", "offline_access") // a family for a revocation to kill
	})

	const evil = "http://evil.example"

	DescribeTable("refuses a web page of another origin with a 4xx that changes nothing",
		func(method, path, contentType, body string, header ...string) {
			before := stateOf(h.srv)
			r := h.browser(method, path, contentType, body, header...)
			Expect(r.status).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "%s", r.body)
			Expect(r.str("error")).NotTo(BeEmpty())
			Expect(stateOf(h.srv)).To(Equal(before))
		},
		Entry("a text/plain POST moving the clock", "POST", "/clock", "text/plain", `{"advance":"400d"}`, "Origin", evil),
		Entry("a form POST adding a fault", "POST", "/faults", "application/x-www-form-urlencoded",
			`{"kind":"error","status":503,"match":{"endpoint":"token"}}`, "Origin", evil),
		Entry("a text/plain POST adding the attacker's client", "POST", "/clients", "text/plain",
			`{"client_id":"evil","client_secret":"evil-secret","redirect_uris":["http://evil.example/cb"]}`, "Origin", evil),
		Entry("a text/plain POST rotating the demo secret", "POST", "/clients/demo/secret", "text/plain", `{"client_secret":"attacker-chosen"}`, "Origin", evil),
		Entry("a text/plain POST revoking everything", "POST", "/revocations", "text/plain", `{"all":true}`, "Origin", evil),
		Entry("a multipart POST resetting", "POST", "/reset", "multipart/form-data; boundary=x", "--x--\r\n", "Origin", evil),
		Entry("a bodiless POST resetting", "POST", "/reset", "", "", "Origin", evil),
		Entry("a text/plain POST with no Origin, from a browser that sends Sec-Fetch-Site", "POST", "/clock", "text/plain", `{"advance":"1m"}`,
			"Sec-Fetch-Site", "cross-site"),
		Entry("a JSON POST that got past a preflight", "POST", "/clock", "application/json", `{"advance":"1m"}`, "Origin", evil),
		Entry("a JSON POST from a page of the same site on another port", "POST", "/clock", "application/json", `{"advance":"1m"}`,
			"Origin", "http://127.0.0.1:1", "Sec-Fetch-Site", "same-site"),
		Entry("a JSON POST from a sandboxed page (Origin null)", "POST", "/revocations", "application/json", `{"all":true}`, "Origin", "null"),
		Entry("a text/plain POST from no browser at all", "POST", "/clock", "text/plain", `{"advance":"1m"}`),
		Entry("a DELETE without a content type", "DELETE", "/faults", "", ""),
		Entry("a JSON POST for another Host (DNS rebinding)", "POST", "/grants", "application/json", `{"client_id":"demo","user":"alice"}`,
			"Host", "evil.example:8090"),
		Entry("a JSON POST for another Host from that Host's own page", "POST", "/clock", "application/json", `{"advance":"1m"}`,
			"Host", "evil.example:8090", "Origin", "http://evil.example:8090", "Sec-Fetch-Site", "same-origin"),
	)

	It("shows nothing to another Host (DNS rebinding): no secrets, no tokens, no events", func() {
		for _, path := range []string{"/clients?secrets=true", "/clients/demo?secrets=true", "/events", "/clock", "/families"} {
			r := h.browser(http.MethodGet, path, "", "", "Host", "evil.example:8090")
			Expect(r.status).To(Equal(http.StatusForbidden), path)
			Expect(r.str("error_description")).To(ContainSubstring(`not for "evil.example:8090": a web page whose name points at this machine`))
			Expect(string(r.body)).NotTo(ContainSubstring("demo-secret"))
		}
	})

	It("shows nothing to a page of another origin that reads", func() {
		r := h.browser(http.MethodGet, "/clients?secrets=true", "", "", "Origin", evil, "Sec-Fetch-Site", "cross-site")
		Expect(r.status).To(Equal(http.StatusForbidden))
		Expect(r.str("error_description")).To(ContainSubstring(`no web page of another origin (Origin "http://evil.example"`))
		Expect(string(r.body)).NotTo(ContainSubstring("demo-secret"))
	})

	It("says which rule refused a write and what it takes", func() {
		r := h.browser(http.MethodPost, "/clock", "text/plain", `{"advance":"1m"}`)
		Expect(r.status).To(Equal(http.StatusUnsupportedMediaType))
		Expect(r.str("error")).To(Equal("unsupported_media_type"))
		Expect(r.str("error_description")).To(HavePrefix(`POST needs Content-Type: application/json, even without a body, not "text/plain"`))
	})

	DescribeTable("answers this machine's callers: curl, the Go client, the simulator's own pages",
		func(method, path, contentType, body string, header ...string) {
			for i := range header {
				header[i] = strings.ReplaceAll(header[i], "ORIGIN", h.srv.URL)
			}
			r := h.browser(method, path, contentType, body, header...)
			Expect(r.status).To(BeNumerically("<", 300), "%s", r.body)
		},
		Entry("curl's JSON POST", "POST", "/clock", "application/json", `{"advance":"1m"}`),
		Entry("a JSON POST with a charset", "POST", "/clock", "application/json; charset=utf-8", `{"advance":"1m"}`),
		Entry("a JSON DELETE without a body", "DELETE", "/faults", "application/json", ""),
		Entry("a JSON POST without a body", "POST", "/reset", "application/json", ""),
		Entry("a GET without a content type", "GET", "/clock", "", ""),
		Entry("a GET typed into the browser", "GET", "/events", "", "", "Sec-Fetch-Site", "none"),
		Entry("a JSON POST from a page of the simulator's own origin", "POST", "/clock", "application/json", `{"advance":"1m"}`,
			"Origin", "ORIGIN", "Sec-Fetch-Site", "same-origin"),
		Entry("Host localhost", "GET", "/clock", "", "", "Host", "localhost:8090"),
		Entry("Host localhost without a port", "GET", "/clock", "", "", "Host", "LOCALHOST"),
		Entry("Host 127.0.0.2", "GET", "/clock", "", "", "Host", "127.0.0.2:8090"),
		Entry("Host [::1]", "GET", "/clock", "", "", "Host", "[::1]:8090"),
	)

	It("answers the issuer's host, which the operator chose, and pages of the issuer's origin", func() {
		sim := simulator.MustNew(simulator.WithIssuer("http://sim.test:8090"))
		serve := func(method, target string, header ...string) int {
			GinkgoHelper()
			req := httptest.NewRequest(method, target, strings.NewReader(`{"advance":"1m"}`))
			req.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			rec := httptest.NewRecorder()
			sim.ServeHTTP(rec, req)
			return rec.Code
		}
		Expect(serve(http.MethodGet, "http://SIM.test:8090/sim/v1/clock")).To(Equal(http.StatusOK))
		Expect(serve(http.MethodPost, "http://sim.test:8090/sim/v1/clock", "Origin", "http://sim.test:8090")).To(Equal(http.StatusOK))
		Expect(serve(http.MethodPost, "http://127.0.0.1:8090/sim/v1/clock", "Origin", "http://sim.test:8090", "Sec-Fetch-Site", "cross-site")).
			To(Equal(http.StatusOK), "a proxy in between handed on another Host")
		Expect(serve(http.MethodGet, "http://other.test:8090/sim/v1/clock")).To(Equal(http.StatusForbidden))
		Expect(serve(http.MethodPost, "http://sim.test:8090/sim/v1/clock", "Origin", "http://other.test:8090")).To(Equal(http.StatusForbidden))
	})

	It("leaves the provider's endpoints to pages of any origin", func() {
		req, err := http.NewRequest(http.MethodGet, h.srv.URL+simulator.PathOIDCDiscovery, nil)
		Expect(err).NotTo(HaveOccurred())
		req.Host = "evil.example:8090"
		req.Header.Set("Origin", evil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		Expect(h.do(req).status).To(Equal(http.StatusOK))
	})
})

var _ = Describe("The control token", func() {
	const token = "s3cret-t0ken"
	var h *harness
	BeforeEach(func() { h = newHarness(simulator.WithControlToken(token)) })

	DescribeTable("is required of every request, from loopback too",
		func(method, path string, header ...string) {
			before := stateOf(h.srv)
			r := h.browser(method, path, "application/json", `{"advance":"1m"}`, header...)
			Expect(r.status).To(Equal(http.StatusUnauthorized), "%s", r.body)
			Expect(r.header.Get("WWW-Authenticate")).To(Equal(`Bearer realm="oauthsim control API"`))
			Expect(r.str("error")).To(Equal("unauthorized"))
			Expect(string(r.body)).NotTo(ContainSubstring(token))
			Expect(stateOf(h.srv)).To(Equal(before))
		},
		Entry("none", "POST", "/clock"),
		Entry("a wrong one", "POST", "/clock", "Authorization", "Bearer wrong"),
		Entry("a longer one", "POST", "/clock", "Authorization", "Bearer "+token+"x"),
		Entry("in Basic", "POST", "/clock", "Authorization", "Basic "+token),
		Entry("a read without one", "GET", "/clients"),
	)

	It("lets a request that carries it through, sent by control.WithToken", func(ctx SpecContext) {
		Expect(h.browser(http.MethodPost, "/clock", "application/json", `{"advance":"1m"}`, "Authorization", "bearer "+token).status).To(Equal(http.StatusOK))
		st, err := control.New(h.srv.URL, h.http, control.WithToken(token)).AdvanceClock(ctx, 59*time.Minute)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Now).To(BeTemporally("==", epoch.Add(time.Hour)))
		_, err = h.ctl.ClockState(ctx)
		Expect(err).To(MatchError(ContainSubstring("401 unauthorized")))
	})

	It("is what remote control needs, and still leaves the other rules in force", func() {
		_, err := simulator.New(simulator.WithRemoteControl(true))
		Expect(err).To(MatchError(ContainSubstring("remote control needs a control token (WithControlToken)")))

		remote := func(sim *simulator.Simulator, host string, header ...string) int {
			GinkgoHelper()
			req := httptest.NewRequest(http.MethodGet, "http://"+host+"/sim/v1/clock", nil)
			req = req.WithContext(contextFromRemote(req))
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			rec := httptest.NewRecorder()
			sim.ServeHTTP(rec, req)
			return rec.Code
		}
		bearer := []string{"Authorization", "Bearer " + token}
		local := simulator.MustNew(simulator.WithControlToken(token), simulator.WithIssuer("http://sim.test:8090"))
		Expect(remote(local, "sim.test:8090", bearer...)).To(Equal(http.StatusForbidden), "not opened to remote callers")
		open := simulator.MustNew(simulator.WithRemoteControl(true), simulator.WithControlToken(token), simulator.WithIssuer("http://sim.test:8090"))
		Expect(remote(open, "sim.test:8090", bearer...)).To(Equal(http.StatusOK))
		Expect(remote(open, "sim.test:8090")).To(Equal(http.StatusUnauthorized))
		Expect(remote(open, "192.0.2.7:8090", bearer...)).To(Equal(http.StatusForbidden), "a Host other than the issuer's")
		for _, spoof := range []string{"X-Forwarded-For", "X-Real-IP", "Forwarded"} {
			Expect(remote(local, "127.0.0.1:8090", spoof, "127.0.0.1")).To(Equal(http.StatusForbidden), spoof)
		}
	})
})
