package simulator_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
)

// The benchmarks serve requests in-process (ServeHTTP on a recorder), so
// they measure the provider rather than the loopback network. Compare each
// against BenchmarkBareHandler from the same run: the ratio is what counts,
// not the absolute figure on one machine.

// BenchmarkBareHandler is the baseline: a net/http handler that parses a
// form and writes a fixed token response.
func BenchmarkBareHandler(b *testing.B) {
	fixed := []byte(`{"access_token":"x","token_type":"Bearer","expires_in":3600,"refresh_token":"y"}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") == "" {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixed)
	})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code := serve(h, tokenRequest("refresh_token", "y")).Code; code != http.StatusOK {
				b.Fatalf("status %d", code)
			}
		}
	})
}

// BenchmarkRefreshGrant refreshes with rotation and strict reuse detection:
// each request presents the token the previous one returned, one family per
// goroutine.
func BenchmarkRefreshGrant(b *testing.B) { benchRefresh(b, "offline_access api") }

// BenchmarkRefreshGrantOIDC is the same with the openid scope: every refresh
// also signs an RS256 id_token, which dominates its cost.
func BenchmarkRefreshGrantOIDC(b *testing.B) { benchRefresh(b, "openid offline_access api") }

func benchRefresh(b *testing.B, scope string) {
	sim := simulator.MustNew(simulator.WithClock(clock.NewFake(epoch)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rt := benchMint(b, sim, scope).RefreshToken
		for pb.Next() {
			rec := serve(sim, tokenRequest("refresh_token", rt))
			if rec.Code != http.StatusOK {
				b.Fatalf("refresh: %d %s", rec.Code, rec.Body)
			}
			var t tokens
			if err := json.Unmarshal(rec.Body.Bytes(), &t); err != nil {
				b.Fatal(err)
			}
			rt = t.Refresh
		}
	})
}

// BenchmarkResourceCheck calls GET /api/me with a live access token.
func BenchmarkResourceCheck(b *testing.B) {
	sim := simulator.MustNew(simulator.WithClock(clock.NewFake(epoch)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		at := benchMint(b, sim, "api").AccessToken
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, simulator.PathResourceMe, nil)
			req.Header.Set("Authorization", "Bearer "+at)
			if code := serve(sim, req).Code; code != http.StatusOK {
				b.Fatalf("status %d", code)
			}
		}
	})
}

// BenchmarkClientCredentials measures client authentication plus issuance.
func BenchmarkClientCredentials(b *testing.B) {
	sim := simulator.MustNew(simulator.WithClock(clock.NewFake(epoch)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := serve(sim, tokenRequest("client_credentials", "")); rec.Code != http.StatusOK {
				b.Fatalf("client_credentials: %d %s", rec.Code, rec.Body)
			}
		}
	})
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func tokenRequest(grant, refreshToken string) *http.Request {
	form := url.Values{"grant_type": {grant}}
	if refreshToken != "" {
		form.Set("refresh_token", refreshToken)
	}
	req := httptest.NewRequest(http.MethodPost, simulator.PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo", "demo-secret")
	return req
}

func benchMint(b *testing.B, sim *simulator.Simulator, scope string) simulator.Grant {
	g, err := sim.MintGrant(b.Context(), simulator.GrantRequest{ClientID: "demo", User: "alice", Scope: &scope})
	if err != nil {
		b.Fatalf("mint: %v", err)
	}
	return g
}
