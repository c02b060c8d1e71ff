package simulator_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
)

// liveRefreshToken in a fuzzed form stands for a refresh token the
// simulator has just issued, so that the fuzzer reaches the refresh grant
// past the token lookup.
const liveRefreshToken = "LIVE_REFRESH_TOKEN"

// tokenContentTypes are the content types a fuzzed token request comes
// with, the form's own first.
var tokenContentTypes = []string{"application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8", "", "application/json", "multipart/form-data; boundary=x", "text/plain"}

// FuzzTokenEndpoint posts fuzzed forms to the token endpoint, with a
// fuzzed Authorization header and one of tokenContentTypes: every answer
// must be a token (200, JSON with an access token and its type) or an RFC
// 6749 §5.2 error (4xx, JSON with an error code), never a 5xx or a panic.
func FuzzTokenEndpoint(f *testing.F) {
	sim := simulator.MustNew(simulator.WithClock(clock.NewFake(epoch)), simulator.WithEventLimit(1000))
	basic := "Basic ZGVtbzpkZW1vLXNlY3JldA==" // demo:demo-secret
	for _, seed := range []struct {
		form, authorization string
		contentType         uint8
	}{
		{"grant_type=client_credentials", basic, 0},
		{"grant_type=client_credentials&client_id=demo&client_secret=demo-secret&scope=api", "", 1},
		{"grant_type=refresh_token&refresh_token=" + liveRefreshToken, basic, 0},
		{"grant_type=refresh_token&refresh_token=" + liveRefreshToken + "&scope=openid+offline_access", basic, 0},
		{"grant_type=refresh_token&refresh_token=" + liveRefreshToken + "&client_id=demo-public", "", 0},
		{"grant_type=authorization_code&code=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&code_verifier=x", basic, 0},
		{"grant_type=%zz&refresh_token=%", basic, 0},
		{"grant_type=password&username=a&password=b", basic, 0},
		{"grant_type=urn:nonsense&client_id=demo&client_secret=demo-secret", "", 0},
		{"grant_type=client_credentials&client_id=demo&client_secret=wrong", "", 0},
		{"grant_type=client_credentials&scope=admin", basic, 0},
		{"grant_type=client_credentials", "Basic !!!", 0},
		{"grant_type=client_credentials", "Bearer x", 0},
		{"grant_type=client_credentials&grant_type=refresh_token", basic, 0},
		{"grant_type=client_credentials&client_id=\xff\xfe", "Basic Og==", 0},
		{`{"grant_type":"client_credentials"}`, basic, 3},
		{"--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--x--\r\n", basic, 4},
		{"", "", 2},
	} {
		f.Add(seed.form, seed.authorization, seed.contentType)
	}
	f.Fuzz(func(t *testing.T, form, authorization string, contentType uint8) {
		g := NewWithT(t)
		sim.Reset()
		if strings.Contains(form, liveRefreshToken) {
			grant, err := sim.MintGrant(t.Context(), simulator.GrantRequest{ClientID: "demo", User: "alice"})
			g.Expect(err).NotTo(HaveOccurred())
			form = strings.ReplaceAll(form, liveRefreshToken, url.QueryEscape(grant.RefreshToken))
		}
		req := httptest.NewRequest(http.MethodPost, simulator.PathToken, strings.NewReader(form))
		if ct := tokenContentTypes[int(contentType)%len(tokenContentTypes)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := serve(sim, req)
		g.Expect(rec.Code).To(BeNumerically("<", 500), "%q answered %d: %s", form, rec.Code, rec.Body)
		g.Expect(rec.Header().Get("Content-Type")).To(HavePrefix("application/json"), "%q answered %s", form, rec.Body)
		var answer map[string]any
		g.Expect(json.Unmarshal(rec.Body.Bytes(), &answer)).To(Succeed(), "%q answered %s", form, rec.Body)
		if rec.Code == http.StatusOK {
			g.Expect(answer).To(And(HaveKeyWithValue("access_token", Not(BeEmpty())), HaveKeyWithValue("token_type", "Bearer")), "%q", form)
			return
		}
		g.Expect(rec.Code).To(BeNumerically(">=", 400), "%q answered %d: %s", form, rec.Code, rec.Body)
		g.Expect(answer).To(HaveKeyWithValue("error", Not(BeEmpty())), "%q answered %s", form, rec.Body)
	})
}
