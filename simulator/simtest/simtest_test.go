package simtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/simtest"
)

func TestSimtest(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "simtest")
}

// refresh sends one refresh grant for demo with rt and returns the new
// refresh token.
func refresh(srv *simulator.Server, rt string) string {
	GinkgoHelper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo", "demo-secret")
	resp, err := srv.Client().Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	_ = decodeJSON(resp, &body)
	return body.RefreshToken
}

var _ = Describe("The event matchers", func() {
	var srv *simulator.Server
	var first string

	BeforeEach(func() {
		fake := clock.NewFake(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
		srv = simulator.NewTestServer(GinkgoT(), simulator.WithClock(fake))
		first = mint(srv)
	})

	It("count the refreshes the provider carried out, and fail with the count", func() {
		Expect(srv).To(simtest.HaveRefreshed(0))
		second := refresh(srv, first)
		Expect(second).NotTo(BeEmpty())
		Expect(srv).To(simtest.HaveRefreshed(1))
		Expect(srv.Events().Since(0)).NotTo(simtest.HaveRefreshed(2))
		ok, err := simtest.HaveRefreshed(3).Match(srv)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		m := simtest.HaveRefreshed(3)
		Expect(m.Match(srv)).To(BeFalse())
		Expect(m.FailureMessage(srv)).To(Equal("Expected the provider's event log to show 3 refreshes carried out; it shows 1"))
	})

	It("find superseded refresh tokens presented, naming the events", func() {
		second := refresh(srv, first)
		Expect(srv).To(simtest.PresentNoSupersededRefreshToken())
		refresh(srv, first) // superseded by second, and the generic profile has no grace
		Expect(second).NotTo(BeEmpty())
		m := simtest.PresentNoSupersededRefreshToken()
		ok, err := m.Match(srv)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(m.FailureMessage(srv)).To(MatchRegexp(`superseded refresh token presented; it shows event \d+, rt_`))
		Expect(srv).To(simtest.HaveEvent(events.FamilyRevoked, ""))
		Expect(srv).NotTo(simtest.HaveEvent(events.FamilyRevoked, "no-such-family"))
	})

	It("refuse what holds no events", func() {
		_, err := simtest.HaveRefreshed(1).Match("a string")
		Expect(err).To(MatchError(ContainSubstring("want a *simulator.Server")))
	})
})

// mint completes an authorization for alice without the browser and
// returns its refresh token.
func mint(srv *simulator.Server) string {
	GinkgoHelper()
	g, err := srv.MintGrant(context.Background(), simulator.GrantRequest{ClientID: "demo", User: "alice", Scope: new("offline_access api")})
	Expect(err).NotTo(HaveOccurred())
	Expect(g.RefreshToken).NotTo(BeEmpty())
	return g.RefreshToken
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
