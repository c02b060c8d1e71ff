package simulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
)

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
	resp, err := http.Post(srv.URL+"/sim/v1/grants", "application/json",
		strings.NewReader(`{"client_id":"demo","user":"alice","scope":"api"}`))
	if err != nil {
		panic(err)
	}
	var grant struct {
		AccessToken string `json:"access_token"`
	}
	decode(resp, &grant)

	me := func() int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+grant.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println("now:", me())
	fake.Advance(61 * time.Minute)
	fmt.Println("61 minutes later:", me())
	// Output:
	// now: 200
	// 61 minutes later: 401
}

func decode(resp *http.Response, v any) {
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		panic(err)
	}
}
