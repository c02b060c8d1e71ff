package refapp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/refapp"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/simulator"
)

// tokenRequest is one request to the token endpoint, as sent, and the
// refresh token its answer brought.
type tokenRequest struct {
	clientID, grantType, refreshToken string
	issuedRefreshToken                string
}

// tokenWire records the token requests sent through it.
type tokenWire struct {
	next http.RoundTripper

	mu   sync.Mutex
	sent []tokenRequest
}

func (w *tokenWire) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path != simulator.PathToken || req.Body == nil {
		return w.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, _ := url.ParseQuery(string(body))
	r := tokenRequest{clientID: form.Get("client_id"), grantType: form.Get("grant_type"), refreshToken: form.Get("refresh_token")}
	if user, _, ok := req.BasicAuth(); ok {
		r.clientID, _ = url.QueryUnescape(user)
	}
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := w.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	var tokens struct {
		RefreshToken string `json:"refresh_token"`
	}
	_ = json.Unmarshal(answer, &tokens)
	r.issuedRefreshToken = tokens.RefreshToken
	w.mu.Lock()
	w.sent = append(w.sent, r)
	w.mu.Unlock()
	return resp, nil
}

func (w *tokenWire) requests() []tokenRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]tokenRequest(nil), w.sent...)
}

// globexApp is a second registration at the provider: another customer's
// OAuth app.
var globexApp = simulator.Client{
	ID: "globex-app", Secret: "globex-secret",
	RedirectURIs: []string{simulator.DemoRedirectURI},
	GrantTypes:   []string{"authorization_code", "refresh_token"},
	Scopes:       []string{"openid", "offline_access", "api"},
	AuthMethods:  []string{simulator.AuthSecretBasic},
}

var _ = Describe("The reference application's tenants", func() {
	var (
		app, acme, globex *refapp.App
		srv               *simulator.Server
		client            *http.Client
		wire              *tokenWire
	)
	BeforeEach(func(ctx SpecContext) {
		srv, client = simulated(globexApp)
		// The application's requests go through the wire; the browser's
		// (client's) do not need to.
		appClient := *client
		wire = &tokenWire{next: client.Transport}
		appClient.Transport = wire
		dir := GinkgoT().TempDir()
		globexSecret := filepath.Join(dir, "globex-secret")
		Expect(os.WriteFile(globexSecret, []byte("globex-secret\n"), 0o600)).To(Succeed())
		var err error
		app, err = refapp.New(ctx, settingsOf(srv, &appClient, func(s *refapp.Settings) {
			s.Tenants = []refapp.Tenant{
				{Name: "acme", ClientID: "demo", RedirectURI: simulator.DemoRedirectURI, Secret: s.Secret, Provider: s.Provider},
				refapp.TenantOf(contract.Tenant{Name: "globex", ClientID: "globex-app", RedirectURI: simulator.DemoRedirectURI,
					ClientSecretFile: globexSecret, RefreshRotation: contract.RotationRotate}, false),
			}
		}), tokenmanager.New)
		Expect(err).NotTo(HaveOccurred())
		acme, err = app.Tenant("acme")
		Expect(err).NotTo(HaveOccurred())
		globex, err = app.Tenant("globex")
		Expect(err).NotTo(HaveOccurred())
	})

	signIn := func(ctx SpecContext, tenant *refapp.App) {
		GinkgoHelper()
		Expect(tenant.CompleteAuthorization(ctx, redirect(tenant, client))).To(HaveField("Outcome", contract.OutcomeOK))
	}

	It("makes the first tenant the default", func() {
		Expect(app).To(BeIdenticalTo(acme))
		Expect(app.Tenant("")).To(BeIdenticalTo(acme))
		Expect(globex.Tenant("")).To(BeIdenticalTo(acme))
	})

	It("keeps each tenant's grant apart, and makes each tenant's token requests with its own client id", func(ctx SpecContext) {
		signIn(ctx, acme)
		By("globex, which has no grant of its own yet")
		res, err := globex.Call(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect([]any{res.Outcome, res.Reason}).To(Equal([]any{contract.OutcomeReauthorize, contract.ReasonNoGrant}), "detail: %s", res.Detail)

		signIn(ctx, globex)
		fake(srv).Advance(58 * time.Minute)
		callOK(ctx, acme)
		callOK(ctx, globex)

		issuedTo := map[string]string{}
		refreshes := map[string]int{}
		for _, r := range wire.requests() {
			if r.grantType == "refresh_token" {
				Expect(issuedTo).To(HaveKeyWithValue(r.refreshToken, r.clientID), "%s presented a refresh token issued to another client", r.clientID)
				refreshes[r.clientID]++
			}
			if r.issuedRefreshToken != "" {
				issuedTo[r.issuedRefreshToken] = r.clientID
			}
		}
		Expect(refreshes).To(Equal(map[string]int{"demo": 1, "globex-app": 1}))
	})

	It("logs a tenant out alone", func(ctx SpecContext) {
		signIn(ctx, acme)
		signIn(ctx, globex)
		Expect(globex.Logout(ctx)).To(HaveField("Outcome", contract.OutcomeOK))
		callOK(ctx, acme)
		res, err := globex.Call(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Outcome).To(Equal(contract.OutcomeReauthorize))
	})

	It("refuses a tenant it does not serve", func() {
		_, err := app.Tenant("initech")
		Expect(err).To(MatchError(`no tenant "initech" (the tenants are acme, globex)`))
	})

	It("refuses tenants without a name, or with the same one", func(ctx SpecContext) {
		for _, names := range [][]string{{"acme", ""}, {"acme", "acme"}} {
			_, err := refapp.New(ctx, settingsOf(srv, client, func(s *refapp.Settings) {
				for _, n := range names {
					s.Tenants = append(s.Tenants, refapp.Tenant{Name: n, ClientID: "demo", RedirectURI: simulator.DemoRedirectURI})
				}
			}), tokenmanager.New)
			Expect(err).To(MatchError(ContainSubstring("every tenant needs a name of its own")))
		}
	})
})

var _ = Describe("An application of one registration", func() {
	It("serves its default under the empty name, and no tenant by name", func(ctx SpecContext) {
		app, _, _ := started(ctx)
		Expect(app.Tenant("")).To(BeIdenticalTo(app))
		_, err := app.Tenant("acme")
		Expect(err).To(MatchError(ContainSubstring("serves a single registration")))
	})
})
