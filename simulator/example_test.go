package simulator_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/gomega"
	"golang.org/x/oauth2"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/simtest"
)

// The package documentation's example, as it is written there; a spec
// keeps the two alike.
func Example() {
	run := func(ctx context.Context, start time.Time) error {
		srv, err := simulator.NewServer(simulator.WithClock(clock.NewFake(start)))
		if err != nil {
			return err
		}
		defer srv.Close()
		grant, err := srv.MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice"})
		if err != nil {
			return err
		}
		// ... point the client under test at srv.URL with grant's tokens, then:
		srv.AdvanceClock(61 * time.Minute) // grant.AccessToken is now dead
		fam := srv.Families()[0]
		fmt.Println(fam.ID == grant.Family, "live access tokens:", fam.LiveAccess)
		evs := srv.EventsSince(0).Events
		fmt.Println(evs[len(evs)-1].Kind, evs[len(evs)-1].Detail)
		return nil
	}
	if err := run(context.Background(), time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)); err != nil {
		panic(err)
	}
	// Output:
	// true live access tokens: 0
	// clock_moved advanced by 1h1m0s
}

// A one-hour access token stops working when the sim clock passes the hour;
// nobody waits.
func ExampleNewServer() {
	fake := clock.NewFake(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	srv, err := simulator.NewServer(simulator.WithClock(fake))
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	// Mint a grant for alice without the browser step.
	grant, err := srv.MintGrant(context.Background(), simulator.GrantRequest{ClientID: "demo", User: "alice", Scope: new("api")})
	if err != nil {
		panic(err)
	}
	fmt.Println(grant.TokenType, grant.Scope, grant.ExpiresIn)

	me := func() int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+simulator.PathResourceMe, nil)
		req.Header.Set("Authorization", "Bearer "+grant.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println("now:", me())
	srv.AdvanceClock(61 * time.Minute)
	fmt.Println("61 minutes later:", me(), "at", srv.ClockState().Now.Format(time.Kitchen))
	// Output:
	// Bearer api 1h0m0s
	// now: 200
	// 61 minutes later: 401 at 10:01AM
}

// Testing a Go client, here golang.org/x/oauth2: it refreshes the access
// token that died, and the simulator's event log shows the one refresh.
// The lines after t's are a test of your own, t its *testing.T; the
// README's "Testing your own Go client" shows them so.
func Example_testingAGoClient() {
	t := &recordingT{} // stands in for a test's *testing.T
	defer t.end()

	g := NewWithT(t)
	start := time.Now().Add(-61 * time.Minute) // x/oauth2 reads the wall clock, so the grant is minted 61 minutes in its past
	srv := simulator.NewTestServer(t, simulator.WithClock(clock.NewFake(start)))
	grant, err := srv.MintGrant(context.Background(), simulator.GrantRequest{ClientID: "demo", User: "alice"})
	g.Expect(err).NotTo(HaveOccurred())
	conf := oauth2.Config{ClientID: "demo", ClientSecret: "demo-secret", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + simulator.PathToken}}
	client := conf.Client(context.Background(), &oauth2.Token{AccessToken: grant.AccessToken, RefreshToken: grant.RefreshToken, Expiry: start.Add(grant.ExpiresIn)})
	srv.AdvanceClock(61 * time.Minute) // the sim clock catches up: the access token is dead on both clocks
	resp, err := client.Get(srv.URL + simulator.PathResourceMe)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	g.Expect(srv).To(simtest.HaveRefreshed(1))

	resp.Body.Close()
	fmt.Println("the API answered", resp.Status)
	fmt.Println("failed checks:", t.fatal)
	// Output:
	// the API answered 200 OK
	// failed checks: []
}
