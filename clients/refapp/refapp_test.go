package refapp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/jonboulle/clockwork"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/refapp"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	simfault "github.com/oauthsim/oauthsim/simulator/fault"
)

// started is the application on a fresh simulator, with no grant yet, and
// the HTTP client it uses; tune changes its settings first.
func started(ctx context.Context, tune ...func(*refapp.Settings)) (*refapp.App, *simulator.Server, *http.Client) {
	GinkgoHelper()
	srv, client := simulated()
	app, err := refapp.New(ctx, settingsOf(srv, client, tune...), tokenmanager.New)
	Expect(err).NotTo(HaveOccurred())
	return app, srv, client
}

// simulated is a fresh simulator on a fake clock, with more clients when
// given, and an HTTP client for it that does not follow redirects.
func simulated(clients ...simulator.Client) (*simulator.Server, *http.Client) {
	GinkgoHelper()
	clk := clock.NewFake(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	srv, err := simulator.NewServer(simulator.WithClock(clk), simulator.WithClients(clients...))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	fakes[srv] = clk
	DeferCleanup(func() { delete(fakes, srv) })
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return srv, client
}

// fakes are the simulators' clocks; specs run one at a time in a process.
var fakes = map[*simulator.Server]*clockwork.FakeClock{}

// fake is srv's clock, which the application reads too.
func fake(srv *simulator.Server) *clockwork.FakeClock { return fakes[srv] }

// settingsOf are the settings of the application as demo on srv, through
// client, with a state directory of its own; tune changes them.
func settingsOf(srv *simulator.Server, client *http.Client, tune ...func(*refapp.Settings)) refapp.Settings {
	GinkgoHelper()
	s := refapp.Settings{
		Issuer: srv.URL, ClientID: "demo", RedirectURI: simulator.DemoRedirectURI, Scopes: []string{"openid", "api"},
		Resource: srv.URL + simulator.PathResourceMe,
		StateDir: GinkgoT().TempDir(),
		Secret:   func() (string, error) { return "demo-secret", nil },
		Provider: tokenmanager.Provider{Rotates: true},
		Clock:    fake(srv), HTTP: client, Logger: slog.New(slog.DiscardHandler),
	}
	for _, t := range tune {
		t(&s)
	}
	return s
}

// redirect starts an authorization and returns the provider's redirect back
// to the application, with alice signed in; tamper, when given, changes the
// authorization's parameters on the way, as the browser's user could.
func redirect(app *refapp.App, client *http.Client, tamper ...func(url.Values)) string {
	GinkgoHelper()
	raw, err := app.AuthorizationURL()
	Expect(err).NotTo(HaveOccurred())
	u, err := url.Parse(raw)
	Expect(err).NotTo(HaveOccurred())
	q := u.Query()
	// login_hint makes the simulator sign alice in without its login page.
	q.Set("login_hint", "alice")
	for _, t := range tamper {
		t(q)
	}
	u.RawQuery = q.Encode()
	resp, err := client.Get(u.String())
	Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusSeeOther))
	return resp.Header.Get("Location")
}

// withQuery is callback with key set to value, or removed when value is empty.
func withQuery(callback, key, value string) string {
	GinkgoHelper()
	u, err := url.Parse(callback)
	Expect(err).NotTo(HaveOccurred())
	q := u.Query()
	q.Del(key)
	if value != "" {
		q.Set(key, value)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// exchanges counts the code exchanges the provider saw.
func exchanges(srv *simulator.Server) int {
	n := 0
	for _, e := range srv.Events().Since(0) {
		if e.Kind == events.TokenRequest && e.GrantType == "authorization_code" {
			n++
		}
	}
	return n
}

// signedIn is the application on a fresh simulator, with alice's grant.
func signedIn(ctx context.Context, tune ...func(*refapp.Settings)) (*refapp.App, *simulator.Server) {
	GinkgoHelper()
	app, srv, client := started(ctx, tune...)
	Expect(app.CompleteAuthorization(ctx, redirect(app, client))).To(HaveField("Outcome", contract.OutcomeOK))
	return app, srv
}

// fault adds a fault, written in its JSON form, to the simulator.
func fault(srv *simulator.Server, f map[string]any) {
	GinkgoHelper()
	b, err := json.Marshal(f)
	Expect(err).NotTo(HaveOccurred())
	var decoded simfault.Fault
	Expect(json.Unmarshal(b, &decoded)).To(Succeed())
	_, err = srv.AddFault(decoded)
	Expect(err).NotTo(HaveOccurred())
}

// refusedURL is a URL on loopback where nothing listens: a connection to
// it is refused.
func refusedURL() string {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()
	Expect(l.Close()).To(Succeed())
	return "http://" + addr + simulator.PathResourceMe
}

// apiCases are the API cases of ../adapters/testdata/outcomes.json, the
// table every adapter's self-check reads too, each as an Entry. They are
// read while the spec tree is built.
func apiCases() []TableEntry {
	b, err := os.ReadFile("../adapters/testdata/outcomes.json")
	if err != nil {
		panic(err)
	}
	var cases struct {
		API []struct {
			Status  int              `json:"status"`
			Outcome contract.Outcome `json:"outcome"`
		} `json:"api"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		panic(fmt.Errorf("../adapters/testdata/outcomes.json: %w", err))
	}
	var entries []TableEntry
	for _, c := range cases.API {
		entries = append(entries, Entry(fmt.Sprintf("HTTP %d", c.Status), c.Status, c.Outcome))
	}
	return entries
}

var _ = Describe("The reference application's API call", func() {
	DescribeTable("ends with the outcome the shared cases give the API's status",
		func(ctx SpecContext, status int, want contract.Outcome) {
			app, srv := signedIn(ctx)
			// Every answer of the resource, the retry after a 401 included.
			fault(srv, map[string]any{"kind": "error", "status": status, "match": map[string]any{"endpoint": "resource"}})
			res, err := app.Call(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Outcome).To(Equal(want), "detail: %s", res.Detail)
		},
		apiCases(),
	)

	DescribeTable("ends with the outcome clients/adapters/README.md gives other answers",
		func(ctx SpecContext, answer map[string]any, want contract.Outcome) {
			app, srv := signedIn(ctx)
			if answer != nil {
				answer["match"] = map[string]any{"endpoint": "resource"}
				fault(srv, answer)
			}
			res, err := app.Call(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Outcome).To(Equal(want), "detail: %s", res.Detail)
		},
		Entry("the API's own 200", nil, contract.OutcomeOK),
		Entry("401 from the API itself, after a refresh and a retry", map[string]any{"kind": "error", "status": 401, "oauth_error": "invalid_token"}, contract.OutcomeUnauthorized),
		Entry("429 with Retry-After", map[string]any{"kind": "rate_limit", "retry_after": "30s"}, contract.OutcomeTemporaryError),
		Entry("no answer: the connection reset", map[string]any{"kind": "reset"}, contract.OutcomeTemporaryError),
	)

	It("ends with temporary_error when the API refuses the connection", func(ctx SpecContext) {
		app, _ := signedIn(ctx, func(s *refapp.Settings) { s.Resource = refusedURL() })
		res, err := app.Call(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Outcome).To(Equal(contract.OutcomeTemporaryError), "detail: %s", res.Detail)
	})

	It("ends with temporary_error when the API does not answer in time", func(ctx SpecContext) {
		app, srv := signedIn(ctx)
		fault(srv, map[string]any{"kind": "hang", "max": "1s", "match": map[string]any{"endpoint": "resource"}})
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		res, err := app.Call(short)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Outcome).To(Equal(contract.OutcomeTemporaryError), "detail: %s", res.Detail)
	})
})

var _ = Describe("The reference application's callback", func() {
	It("is taken once: the same callback again is refused without a token request", func(ctx SpecContext) {
		app, srv, client := started(ctx)
		back := redirect(app, client)
		Expect(app.CompleteAuthorization(ctx, back)).To(HaveField("Outcome", contract.OutcomeOK))
		By("the browser reloading the redirect")
		res := app.CompleteAuthorization(ctx, back)
		Expect(res.Outcome).To(Equal(contract.OutcomeError))
		Expect(res.Detail).To(ContainSubstring("no authorization is in progress"))
		Expect(exchanges(srv)).To(Equal(1), "the code went once")
		By("the grant the first callback gave")
		call, err := app.Call(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(call.Outcome).To(Equal(contract.OutcomeOK), "detail: %s", call.Detail)
	})

	DescribeTable("refuses a callback that does not bring the state back, without a token request, and spends the authorization",
		func(ctx SpecContext, state, want string) {
			app, srv, client := started(ctx)
			back := redirect(app, client)
			res := app.CompleteAuthorization(ctx, withQuery(back, "state", state))
			Expect(res.Outcome).To(Equal(contract.OutcomeError))
			Expect(res.Detail).To(ContainSubstring(want))
			Expect(exchanges(srv)).To(BeZero())
			By("the genuine callback after it")
			res = app.CompleteAuthorization(ctx, back)
			Expect(res.Outcome).To(Equal(contract.OutcomeError))
			Expect(exchanges(srv)).To(BeZero())
		},
		Entry("a state the application never sent", "attacker-state", "does not match"),
		Entry("no state", "", "has no state"),
	)

	It("refuses a callback when no authorization is in progress", func(ctx SpecContext) {
		app, srv, _ := started(ctx)
		res := app.CompleteAuthorization(ctx, simulator.DemoRedirectURI+"?code=abc&state=def")
		Expect(res.Outcome).To(Equal(contract.OutcomeError))
		Expect(res.Detail).To(ContainSubstring("no authorization is in progress"))
		Expect(exchanges(srv)).To(BeZero())
	})

	It("refuses an id_token whose nonce is not the one sent, and keeps the grant it had", func(ctx SpecContext) {
		app, srv, client := started(ctx)
		Expect(app.CompleteAuthorization(ctx, redirect(app, client))).To(HaveField("Outcome", contract.OutcomeOK))
		// A code from another authorization, as an attacker injects one:
		// its id_token carries that authorization's nonce.
		back := redirect(app, client, func(q url.Values) { q.Set("nonce", "another-authorization") })
		res := app.CompleteAuthorization(ctx, back)
		Expect(res.Outcome).To(Equal(contract.OutcomeError))
		Expect(res.Detail).To(ContainSubstring("the id_token's nonce does not match"))
		Expect(exchanges(srv)).To(Equal(2))
		call, err := app.Call(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(call.Outcome).To(Equal(contract.OutcomeOK), "detail: %s", call.Detail)
	})

	It("refuses the id_token of a provider that answers with another nonce", func(ctx SpecContext) {
		app, srv, client := started(ctx)
		back := redirect(app, client)
		fault(srv, map[string]any{"kind": "deviation", "deviation": "id_token_nonce_mismatch"})
		res := app.CompleteAuthorization(ctx, back)
		Expect(res.Outcome).To(Equal(contract.OutcomeError))
		Expect(res.Detail).To(ContainSubstring("the id_token's nonce does not match"))
		call, err := app.Call(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect([]any{call.Outcome, call.Reason}).To(Equal([]any{contract.OutcomeReauthorize, contract.ReasonNoGrant}), "nothing was kept")
	})

	It("asks for no id_token when the scopes have no openid", func(ctx SpecContext) {
		app, _, client := started(ctx, func(s *refapp.Settings) { s.Scopes = []string{"api"} })
		raw, err := app.AuthorizationURL()
		Expect(err).NotTo(HaveOccurred())
		u, err := url.Parse(raw)
		Expect(err).NotTo(HaveOccurred())
		Expect(u.Query().Has("nonce")).To(BeFalse())
		Expect(app.CompleteAuthorization(ctx, redirect(app, client))).To(HaveField("Outcome", contract.OutcomeOK))
	})

	DescribeTable("ends with temporary_error when the code exchange fails in passing",
		func(ctx SpecContext, failure map[string]any) {
			app, srv, client := started(ctx)
			back := redirect(app, client)
			failure["match"] = map[string]any{"endpoint": "token", "grant_type": "authorization_code"}
			fault(srv, failure)
			res := app.CompleteAuthorization(ctx, back)
			Expect(res.Outcome).To(Equal(contract.OutcomeTemporaryError), "detail: %s", res.Detail)
		},
		Entry("503", map[string]any{"kind": "error", "status": 503}),
		Entry("no answer: the connection reset", map[string]any{"kind": "reset"}),
		Entry("no answer: the code redeemed and the answer lost", map[string]any{"kind": "drop_after_commit"}),
	)
})

var _ = Describe("The reference application's logout", func() {
	DescribeTable("reads the revocation's answer by the outcome table, and forgets the grant whatever it was",
		func(ctx SpecContext, answer map[string]any, want contract.Outcome) {
			app, srv := signedIn(ctx)
			if answer != nil {
				answer["match"] = map[string]any{"endpoint": "revoke"}
				fault(srv, answer)
			}
			res := app.Logout(ctx)
			Expect(res.Outcome).To(Equal(want), "detail: %s", res.Detail)
			res, err := app.Call(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect([]any{res.Outcome, res.Reason}).To(Equal([]any{contract.OutcomeReauthorize, contract.ReasonNoGrant}), "detail: %s", res.Detail)
		},
		Entry("revoked", nil, contract.OutcomeOK),
		Entry("503", map[string]any{"kind": "error", "status": 503}, contract.OutcomeTemporaryError),
		Entry("429", map[string]any{"kind": "rate_limit", "retry_after": "30s"}, contract.OutcomeTemporaryError),
		Entry("invalid_client", map[string]any{"kind": "error", "status": 401, "oauth_error": "invalid_client"}, contract.OutcomeConfigurationError),
		Entry("no answer: the connection reset", map[string]any{"kind": "reset"}, contract.OutcomeTemporaryError),
	)
})
