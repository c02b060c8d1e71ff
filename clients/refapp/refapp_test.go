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

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/refapp"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// started is the application on a fresh simulator, with no grant yet, and
// the HTTP client it uses; tune changes its settings first.
func started(ctx context.Context, tune ...func(*refapp.Settings)) (*refapp.App, *simulator.Server, *http.Client) {
	GinkgoHelper()
	fake := clock.NewFake(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	srv, err := simulator.NewServer(simulator.WithClock(fake))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s := refapp.Settings{
		Issuer: srv.URL, ClientID: "demo", RedirectURI: simulator.DemoRedirectURI, Scopes: []string{"openid", "api"},
		Resource: srv.URL + simulator.PathResourceMe,
		StateDir: GinkgoT().TempDir(),
		Secret:   func() (string, error) { return "demo-secret", nil },
		Provider: tokenmanager.Provider{Rotates: true},
		Clock:    fake, HTTP: client, Logger: slog.New(slog.DiscardHandler),
	}
	for _, t := range tune {
		t(&s)
	}
	app, err := refapp.New(ctx, s, tokenmanager.New)
	Expect(err).NotTo(HaveOccurred())
	return app, srv, client
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
	Expect(app.CompleteAuthorization(ctx, redirect(app, client))).To(HaveField("Outcome", "ok"))
	return app, srv
}

// addFault adds f, matching the requests to endpoint.
func addFault(srv *simulator.Server, f fault.Fault, endpoint fault.Endpoint) {
	GinkgoHelper()
	f.Match.Endpoint = fault.OneOrMany[fault.Endpoint]{endpoint}
	_, err := srv.AddFault(f)
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
			Status  int    `json:"status"`
			Outcome string `json:"outcome"`
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
		func(ctx SpecContext, status int, want string) {
			app, srv := signedIn(ctx)
			// Every answer of the resource, the retry after a 401 included.
			addFault(srv, fault.Fault{Kind: fault.Error, Status: status}, fault.EndpointResource)
			res, err := app.Call(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Outcome).To(Equal(want), "detail: %s", res.Detail)
		},
		apiCases(),
	)

	DescribeTable("ends with the outcome clients/adapters/README.md gives other answers",
		func(ctx SpecContext, answer *fault.Fault, want string) {
			app, srv := signedIn(ctx)
			if answer != nil {
				addFault(srv, *answer, fault.EndpointResource)
			}
			res, err := app.Call(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Outcome).To(Equal(want), "detail: %s", res.Detail)
		},
		Entry("the API's own 200", nil, "ok"),
		Entry("401 from the API itself, after a refresh and a retry", &fault.Fault{Kind: fault.Error, Status: 401, OAuthError: "invalid_token"}, "unauthorized"),
		Entry("429 with Retry-After", &fault.Fault{Kind: fault.RateLimit, RetryAfter: profile.Duration(30 * time.Second)}, "temporary_error"),
		Entry("no answer: the connection reset", &fault.Fault{Kind: fault.Reset}, "temporary_error"),
	)

	It("ends with temporary_error when the API refuses the connection", func(ctx SpecContext) {
		app, _ := signedIn(ctx, func(s *refapp.Settings) { s.Resource = refusedURL() })
		res, err := app.Call(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Outcome).To(Equal("temporary_error"), "detail: %s", res.Detail)
	})

	It("ends with temporary_error when the API does not answer in time", func(ctx SpecContext) {
		app, srv := signedIn(ctx)
		addFault(srv, fault.Fault{Kind: fault.Hang, Max: profile.Duration(time.Second)}, fault.EndpointResource)
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		res, err := app.Call(short)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Outcome).To(Equal("temporary_error"), "detail: %s", res.Detail)
	})
})

var _ = Describe("The reference application's callback", func() {
	It("is taken once: the same callback again is refused without a token request", func(ctx SpecContext) {
		app, srv, client := started(ctx)
		back := redirect(app, client)
		Expect(app.CompleteAuthorization(ctx, back)).To(HaveField("Outcome", "ok"))
		By("the browser reloading the redirect")
		res := app.CompleteAuthorization(ctx, back)
		Expect(res.Outcome).To(Equal("error"))
		Expect(res.Detail).To(ContainSubstring("no authorization is in progress"))
		Expect(exchanges(srv)).To(Equal(1), "the code went once")
		By("the grant the first callback gave")
		call, err := app.Call(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(call.Outcome).To(Equal("ok"), "detail: %s", call.Detail)
	})

	DescribeTable("refuses a callback that does not bring the state back, without a token request, and spends the authorization",
		func(ctx SpecContext, state, want string) {
			app, srv, client := started(ctx)
			back := redirect(app, client)
			res := app.CompleteAuthorization(ctx, withQuery(back, "state", state))
			Expect(res.Outcome).To(Equal("error"))
			Expect(res.Detail).To(ContainSubstring(want))
			Expect(exchanges(srv)).To(BeZero())
			By("the genuine callback after it")
			res = app.CompleteAuthorization(ctx, back)
			Expect(res.Outcome).To(Equal("error"))
			Expect(exchanges(srv)).To(BeZero())
		},
		Entry("a state the application never sent", "attacker-state", "does not match"),
		Entry("no state", "", "has no state"),
	)

	It("refuses a callback when no authorization is in progress", func(ctx SpecContext) {
		app, srv, _ := started(ctx)
		res := app.CompleteAuthorization(ctx, simulator.DemoRedirectURI+"?code=abc&state=def")
		Expect(res.Outcome).To(Equal("error"))
		Expect(res.Detail).To(ContainSubstring("no authorization is in progress"))
		Expect(exchanges(srv)).To(BeZero())
	})

	It("refuses an id_token whose nonce is not the one sent, and keeps the grant it had", func(ctx SpecContext) {
		app, srv, client := started(ctx)
		Expect(app.CompleteAuthorization(ctx, redirect(app, client))).To(HaveField("Outcome", "ok"))
		// A code from another authorization, as an attacker injects one:
		// its id_token carries that authorization's nonce.
		back := redirect(app, client, func(q url.Values) { q.Set("nonce", "another-authorization") })
		res := app.CompleteAuthorization(ctx, back)
		Expect(res.Outcome).To(Equal("error"))
		Expect(res.Detail).To(ContainSubstring("the id_token's nonce does not match"))
		Expect(exchanges(srv)).To(Equal(2))
		call, err := app.Call(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(call.Outcome).To(Equal("ok"), "detail: %s", call.Detail)
	})

	It("refuses the id_token of a provider that answers with another nonce", func(ctx SpecContext) {
		app, srv, client := started(ctx)
		back := redirect(app, client)
		_, err := srv.AddFault(fault.Fault{Kind: fault.Deviation, Deviation: profile.DeviationIDTokenNonceMismatch})
		Expect(err).NotTo(HaveOccurred())
		res := app.CompleteAuthorization(ctx, back)
		Expect(res.Outcome).To(Equal("error"))
		Expect(res.Detail).To(ContainSubstring("the id_token's nonce does not match"))
		call, err := app.Call(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect([]string{call.Outcome, call.Reason}).To(Equal([]string{"reauthorize", "no_grant"}), "nothing was kept")
	})

	It("asks for no id_token when the scopes have no openid", func(ctx SpecContext) {
		app, _, client := started(ctx, func(s *refapp.Settings) { s.Scopes = []string{"api"} })
		raw, err := app.AuthorizationURL()
		Expect(err).NotTo(HaveOccurred())
		u, err := url.Parse(raw)
		Expect(err).NotTo(HaveOccurred())
		Expect(u.Query().Has("nonce")).To(BeFalse())
		Expect(app.CompleteAuthorization(ctx, redirect(app, client))).To(HaveField("Outcome", "ok"))
	})

	DescribeTable("ends with temporary_error when the code exchange fails in passing",
		func(ctx SpecContext, failure fault.Fault) {
			app, srv, client := started(ctx)
			back := redirect(app, client)
			failure.Match.GrantType = fault.OneOrMany[string]{"authorization_code"}
			addFault(srv, failure, fault.EndpointToken)
			res := app.CompleteAuthorization(ctx, back)
			Expect(res.Outcome).To(Equal("temporary_error"), "detail: %s", res.Detail)
		},
		Entry("503", fault.Fault{Kind: fault.Error, Status: 503}),
		Entry("no answer: the connection reset", fault.Fault{Kind: fault.Reset}),
		Entry("no answer: the code redeemed and the answer lost", fault.Fault{Kind: fault.DropAfterCommit}),
	)
})

var _ = Describe("The reference application's logout", func() {
	DescribeTable("reads the revocation's answer by the outcome table, and forgets the grant whatever it was",
		func(ctx SpecContext, answer *fault.Fault, want string) {
			app, srv := signedIn(ctx)
			if answer != nil {
				addFault(srv, *answer, fault.EndpointRevoke)
			}
			res := app.Logout(ctx)
			Expect(res.Outcome).To(Equal(want), "detail: %s", res.Detail)
			res, err := app.Call(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect([]string{res.Outcome, res.Reason}).To(Equal([]string{"reauthorize", "no_grant"}), "detail: %s", res.Detail)
		},
		Entry("revoked", nil, "ok"),
		Entry("503", &fault.Fault{Kind: fault.Error, Status: 503}, "temporary_error"),
		Entry("429", &fault.Fault{Kind: fault.RateLimit, RetryAfter: profile.Duration(30 * time.Second)}, "temporary_error"),
		Entry("invalid_client", &fault.Fault{Kind: fault.Error, Status: 401, OAuthError: "invalid_client"}, "configuration_error"),
		Entry("no answer: the connection reset", &fault.Fault{Kind: fault.Reset}, "temporary_error"),
	)
})
