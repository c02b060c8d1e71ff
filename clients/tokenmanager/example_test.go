package tokenmanager_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
)

// The manager against the simulator, both on one fake clock: authorize,
// let the hour pass, and call the API; the refresh happens on its own.
// With openid among the scopes, the code exchange verifies the id_token
// against the keys that discovery found.
func Example() {
	fake := clock.NewFake(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	sim, err := simulator.NewServer(simulator.WithClock(fake))
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	httpClient := sim.Client()
	httpClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	ctx := context.Background()
	endpoints, err := tokenmanager.Discover(ctx, httpClient, sim.URL)
	if err != nil {
		panic(err)
	}
	m, err := tokenmanager.New(tokenmanager.Config{
		Endpoints:    endpoints,
		ClientID:     "demo",
		ClientSecret: func(context.Context) (string, error) { return "demo-secret", nil },
		RedirectURL:  simulator.DemoRedirectURI,
		Scopes:       []string{"openid", "api"},
		Clock:        fake,
		HTTPClient:   httpClient,
	})
	if err != nil {
		panic(err)
	}

	// The user signs in (login_hint makes the simulator skip its login
	// page). The application keeps auth until the callback, and takes only
	// a callback that brings its state back.
	auth, err := m.AuthCodeURL("state-12345678", url.Values{"login_hint": {"alice"}})
	if err != nil {
		panic(err)
	}
	resp, err := httpClient.Get(auth.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	callback, _ := url.Parse(resp.Header.Get("Location"))
	if callback.Query().Get("state") != auth.State {
		panic("a callback the application did not ask for")
	}
	if _, err := m.Exchange(ctx, callback.Query().Get("code"), auth); err != nil {
		panic(err)
	}

	fake.Advance(58 * time.Minute)
	req, _ := http.NewRequest(http.MethodGet, sim.URL+simulator.PathResourceMe, nil)
	resp, err = m.Do(ctx, req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}
