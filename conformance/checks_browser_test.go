package conformance_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/conformance/checkid"
	"github.com/oauthsim/oauthsim/reports"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// The origins of a browser story, as the runner names them.
const (
	appOrigin  = "http://app.localhost:4000"
	dashOrigin = "http://dash.localhost:4001"
	issuer     = "http://127.0.0.1:4002"
	apiURL     = issuer + "/api/me"
	tokenURL   = issuer + "/oauth2/token"
)

// browserStory is a story of a browser client: an app frame and a
// dashboard frame in tab 1, an access token AT1 and a refresh token RT1
// the provider minted.
func browserStory(yaml string) *story {
	s := newStory(yaml)
	s.rec.Browser = &contract.BrowserLog{Frames: []contract.BrowserFrame{
		{ID: "A", Tab: 1, Role: contract.FrameApp, Origin: appOrigin, URL: appOrigin + "/"},
		{ID: "D", Tab: 1, Role: contract.FrameDashboard, Origin: dashOrigin, URL: dashOrigin + "/dashboard?n=1"},
	}}
	s.rec.Tokens = []string{"AT1-access-token-value", "RT1-refresh-token-value"}
	s.rec.TokenKinds = map[string]fosite.TokenType{"AT1-access-token-value": fosite.AccessToken, "RT1-refresh-token-value": fosite.RefreshToken}
	return s
}

func (s *story) request(at time.Duration, q contract.BrowserRequest) {
	q.At = conformance.Epoch.Add(at)
	if q.Tab == 0 {
		q.Tab = 1
	}
	s.rec.Browser.Requests = append(s.rec.Browser.Requests, q)
}

func (s *story) message(at time.Duration, m contract.BrowserMessage) {
	m.At = conformance.Epoch.Add(at)
	s.rec.Browser.Messages = append(s.rec.Browser.Messages, m)
}

// issue appends the events of a token answer at offset at: an access
// token living an hour, then the request of grant.
func (s *story) issue(at time.Duration, grant string) {
	exp := conformance.Epoch.Add(at + time.Hour)
	s.event(at, events.Event{Kind: events.TokenIssued, TokenType: "access_token", Family: "F", ExpiresAt: &exp})
	s.event(at, events.Event{Kind: events.TokenRequest, GrantType: grant, Family: "F", Status: 200})
}

const browserYAML = `
description: d
requires: [browser, refresh]
browser: {dashboards: 1}
steps:
  - authorize: alice
  - call: {}
  - navigate: 1
  - call: {}
`

var _ = Describe("The browser checks", func() {
	It("are none of them judged on a run without a browser", func() {
		s := newStory(browserYAML)
		for _, id := range []string{checkid.BrowserNoBlankDashboard, checkid.BrowserOneRefresh, checkid.BrowserNoTokenInURL,
			checkid.BrowserExactOrigin, checkid.BrowserRefreshStaysInApp, checkid.BrowserReportsConfig, checkid.BrowserNavigationReuses} {
			Expect(s.judge(id).Applies).To(BeFalse(), id)
		}
	})

	Describe(checkid.BrowserNoBlankDashboard, func() {
		It("fails a dashboard's 401 for an expired token while the grant lives", func() {
			s := browserStory(browserYAML)
			s.event(61*time.Minute, events.Event{Kind: events.ResourceRequest, Family: "F", Status: 401, Reason: events.RefusedExpired})
			s.request(61*time.Minute, contract.BrowserRequest{Frame: "D", Type: "Fetch", Method: "GET", URL: apiURL, Status: 401})
			j := s.judge(checkid.BrowserNoBlankDashboard)
			Expect(j.Failures).To(ConsistOf(ContainSubstring("dashboard frame D of tab 1 called the API with a token it refused (expired) while the user's grant was alive")))
		})

		It("passes a 401 for a revoked grant, one a fault made, and one the app frame got", func() {
			s := browserStory(browserYAML)
			s.event(10*time.Minute, events.Event{Kind: events.FamilyRevoked, Family: "F"})
			s.event(11*time.Minute, events.Event{Kind: events.ResourceRequest, Family: "F", Status: 401, Reason: events.RefusedRevoked})
			s.request(11*time.Minute, contract.BrowserRequest{Frame: "D", Method: "GET", URL: apiURL, Status: 401})
			s.event(30*time.Minute, events.Event{Kind: events.ResourceRequest, Family: "G", Status: 401, Fault: "api401"})
			s.request(30*time.Minute, contract.BrowserRequest{Frame: "D", Method: "GET", URL: apiURL, Status: 401})
			s.event(50*time.Minute, events.Event{Kind: events.ResourceRequest, Family: "G", Status: 401, Reason: events.RefusedExpired})
			s.request(50*time.Minute, contract.BrowserRequest{Frame: "A", Method: "GET", URL: apiURL, Status: 401})
			j := s.judge(checkid.BrowserNoBlankDashboard)
			Expect(j.Applies).To(BeTrue())
			Expect(j.Failures).To(BeEmpty())
		})
	})

	Describe(checkid.BrowserOneRefresh, func() {
		It("fails a second refresh while the first one's token is fresh", func() {
			s := browserStory(browserYAML)
			s.issue(0, "authorization_code")
			s.issue(50*time.Minute, "refresh_token")
			s.issue(50*time.Minute+time.Second, "refresh_token")
			s.request(50*time.Minute+time.Second, contract.BrowserRequest{Tab: 2, Frame: "B", FrameOrigin: appOrigin, Method: "POST", URL: tokenURL, Status: 200})
			j := s.judge(checkid.BrowserOneRefresh)
			Expect(j.Failures).To(ConsistOf(ContainSubstring("a refresh came 1s after the previous one, whose access token had 59m59s of its 1h0m0s left: a frame, tab or page that did not share the tokens of the previous refresh refreshed again (sent by tab 2, frame B")))
		})

		It("fails a superseded token another tab presents, and passes refreshes an hour apart or after a 401", func() {
			s := browserStory(browserYAML)
			s.issue(0, "authorization_code")
			s.issue(50*time.Minute, "refresh_token")
			s.event(110*time.Minute, events.Event{Kind: events.ResourceRequest, Family: "F", Status: 401, Reason: events.RefusedUnknown})
			s.issue(110*time.Minute, "refresh_token")
			Expect(s.judge(checkid.BrowserOneRefresh).Failures).To(BeEmpty())
			s.event(111*time.Minute, events.Event{Kind: events.TokenRequest, GrantType: "refresh_token", Family: "F", Status: 400, Reason: events.RefusedReused})
			Expect(s.judge(checkid.BrowserOneRefresh).Failures).To(HaveLen(1))
		})
	})

	Describe(checkid.BrowserNoTokenInURL, func() {
		It("fails an access token in an iframe src and in a Referer, naming the place and not the token", func() {
			s := browserStory(browserYAML)
			s.request(time.Minute, contract.BrowserRequest{Type: "Document", Method: "GET", URL: dashOrigin + "/dashboard?access_token=AT1-access-token-value"})
			s.request(time.Minute, contract.BrowserRequest{Type: "Script", Method: "GET", URL: dashOrigin + "/x.js", Referer: dashOrigin + "/dashboard?access_token=AT1-access-token-value"})
			j := s.judge(checkid.BrowserNoTokenInURL)
			Expect(j.Failures).To(HaveExactElements(
				ContainSubstring("tab 1 sent an access token in the URL of a Document request (GET http://dash.localhost:4001/dashboard)"),
				ContainSubstring("in the Referer of a Script request")))
			Expect(j.Failures[0] + j.Failures[1]).NotTo(ContainSubstring("AT1"))
		})

		It("passes an authorization code in a callback URL", func() {
			s := browserStory(browserYAML)
			s.rec.Tokens = append(s.rec.Tokens, "CODE1")
			s.rec.TokenKinds["CODE1"] = fosite.AuthorizeCode
			s.request(time.Minute, contract.BrowserRequest{Type: "Document", Method: "GET", URL: appOrigin + "/callback?code=CODE1&state=s"})
			j := s.judge(checkid.BrowserNoTokenInURL)
			Expect(j.Applies).To(BeTrue())
			Expect(j.Failures).To(BeEmpty())
		})
	})

	Describe(checkid.BrowserExactOrigin, func() {
		It("fails a token posted to \"*\"", func() {
			s := browserStory(browserYAML)
			s.message(time.Minute, contract.BrowserMessage{From: "A", FromOrigin: appOrigin, To: "D", ToOrigin: dashOrigin, TargetOrigin: "*", Data: `{"token":"AT1-access-token-value"}`})
			Expect(s.judge(checkid.BrowserExactOrigin).Failures).To(ConsistOf(ContainSubstring(`posted an access token to http://dash.localhost:4001 with targetOrigin "*"`)))
		})

		It("fails an API call with the probe's forged token, and passes exact origins", func() {
			s := browserStory(browserYAML)
			s.message(time.Minute, contract.BrowserMessage{From: "A", FromOrigin: appOrigin, ToOrigin: dashOrigin, TargetOrigin: dashOrigin, Data: `{"token":"AT1-access-token-value"}`})
			s.message(2*time.Minute, contract.BrowserMessage{FromOrigin: "http://probe.localhost:4003", ToOrigin: dashOrigin, TargetOrigin: "*", Data: `{"token":"oauthsim-forged-1"}`, Probe: true})
			j := s.judge(checkid.BrowserExactOrigin)
			Expect(j.Applies).To(BeTrue())
			Expect(j.Failures).To(BeEmpty())
			s.request(3*time.Minute, contract.BrowserRequest{Frame: "D", FrameOrigin: dashOrigin, Method: "GET", URL: apiURL, Authorization: "Bearer oauthsim-forged-1", Status: 401})
			Expect(s.judge(checkid.BrowserExactOrigin).Failures).To(ConsistOf(ContainSubstring("with a token forged by the probe frame on another origin")))
		})
	})

	Describe(checkid.BrowserRefreshStaysInApp, func() {
		It("fails a refresh token posted to a dashboard, and one a dashboard sends", func() {
			s := browserStory(browserYAML)
			s.message(time.Minute, contract.BrowserMessage{FromOrigin: appOrigin, ToOrigin: dashOrigin, TargetOrigin: dashOrigin, Data: `{"rt":"RT1-refresh-token-value"}`})
			Expect(s.judge(checkid.BrowserRefreshStaysInApp).Failures).To(ConsistOf(ContainSubstring("the app posted a refresh token to a frame on http://dash.localhost:4001")))
			s.rec.Browser.Messages = nil
			s.request(time.Minute, contract.BrowserRequest{Frame: "D", Method: "POST", URL: tokenURL, Body: "grant_type=refresh_token&refresh_token=RT1-refresh-token-value"})
			Expect(s.judge(checkid.BrowserRefreshStaysInApp).Failures).To(ConsistOf(ContainSubstring("a frame on  sent a refresh token (POST " + tokenURL)))
		})

		It("passes the app frame's own refreshes", func() {
			s := browserStory(browserYAML)
			s.request(time.Minute, contract.BrowserRequest{Frame: "A", Method: "POST", URL: tokenURL, Body: "grant_type=refresh_token&refresh_token=RT1-refresh-token-value"})
			j := s.judge(checkid.BrowserRefreshStaysInApp)
			Expect(j.Applies).To(BeTrue())
			Expect(j.Failures).To(BeEmpty())
		})
	})

	Describe(checkid.BrowserReportsConfig, func() {
		blocked := func() *story {
			s := browserStory(browserYAML)
			s.call(0, 1, contract.OutcomeOK, true, func() { s.issue(0, "authorization_code") })
			s.rec.Steps[0].End = conformance.Epoch
			s.request(61*time.Minute, contract.BrowserRequest{Frame: "A", Method: "POST", URL: tokenURL, Failed: "net::ERR_FAILED", Blocked: "cors: AllowOriginMismatch"})
			return s
		}
		It("fails a blocked refresh that the calls after it do not report", func() {
			s := blocked()
			s.call(1, 1, contract.OutcomeUnauthorized, true, func() {})
			s.rec.Steps[1].End = conformance.Epoch.Add(62 * time.Minute)
			Expect(s.judge(checkid.BrowserReportsConfig).Failures).To(ConsistOf(ContainSubstring("the browser blocked tab 1's request to the token endpoint (cors: AllowOriginMismatch)")))
		})

		It("passes one the call reports as a configuration error, or the application does", func() {
			s := blocked()
			s.call(1, 1, contract.OutcomeConfigurationError, true, func() {})
			s.rec.Steps[1].End = conformance.Epoch.Add(62 * time.Minute)
			Expect(s.judge(checkid.BrowserReportsConfig).Failures).To(BeEmpty())
			s = blocked()
			s.call(1, 1, contract.OutcomeError, true, func() {})
			s.rec.Steps[1].End = conformance.Epoch.Add(62 * time.Minute)
			s.rec.Browser.Reports = []contract.BrowserReport{{At: conformance.Epoch.Add(61 * time.Minute), Outcome: contract.OutcomeConfigurationError}}
			Expect(s.judge(checkid.BrowserReportsConfig).Failures).To(BeEmpty())
		})
	})

	Describe(checkid.BrowserNavigationReuses, func() {
		navigated := func(refreshAt time.Duration) conformance.Judgement {
			s := browserStory(browserYAML)
			s.call(0, 1, contract.OutcomeOK, true, func() { s.issue(0, "authorization_code") })
			s.call(1, 1, contract.OutcomeOK, true, func() {})
			s.call(2, 0, contract.OutcomeOK, true, func() {})
			s.rec.Steps[2].End = conformance.Epoch.Add(10 * time.Minute)
			s.call(3, 1, contract.OutcomeOK, true, func() { s.issue(refreshAt, "refresh_token") })
			s.rec.Steps[3].End = conformance.Epoch.Add(refreshAt)
			return s.judge(checkid.BrowserNavigationReuses)
		}
		It("fails a refresh right after a navigation while the cached token is fresh", func() {
			Expect(navigated(10 * time.Minute).Failures).To(ConsistOf(ContainSubstring("after step 3 (line 8, navigate tab 1 to another page), the client refreshed though the access token it had before had 50m0s of its 1h0m0s left")))
		})
		It("passes one near the token's expiry", func() {
			j := navigated(50 * time.Minute)
			Expect(j.Applies).To(BeTrue())
			Expect(j.Failures).To(BeEmpty())
		})
	})
})

var _ = Describe("A browser run's registration", func() {
	It("gives the scenario's browser hosts the client's ports, and leaves other URIs alone", func() {
		in := []simulator.Client{{ID: "spa",
			RedirectURIs:   []string{"http://app.localhost/callback", "http://app.localhost:9/cb", "http://127.0.0.1:3000/callback"},
			AllowedOrigins: []string{"http://dash.localhost", "http://other.localhost"}}}
		out := conformance.AtOrigins(in, map[string]string{"app.localhost": "http://app.localhost:4000", "dash.localhost": "http://dash.localhost:4001"})
		Expect(out[0].RedirectURIs).To(Equal([]string{"http://app.localhost:4000/callback", "http://app.localhost:9/cb", "http://127.0.0.1:3000/callback"}))
		Expect(out[0].AllowedOrigins).To(Equal([]string{"http://dash.localhost:4001", "http://other.localhost"}))
		Expect(in[0].RedirectURIs[0]).To(Equal("http://app.localhost/callback"), "the scenario's own clients are untouched")
	})
})

var _ = Describe("A browser run's screenshots in the report", func() {
	It("are those of the steps that went wrong or hold an event of a failed check", func() {
		png := []byte("\x89PNG")
		rec := &conformance.Record{Steps: []conformance.StepRecord{
			{FirstSeq: 1, LastSeq: 3, Screenshots: [][]byte{png}, Calls: []conformance.CallRecord{{Result: conformance.Result{Outcome: contract.OutcomeOK}}}},
			{FirstSeq: 4, LastSeq: 6, Screenshots: [][]byte{png}, Calls: []conformance.CallRecord{{Result: conformance.Result{Outcome: contract.OutcomeUnauthorized}}}},
			{FirstSeq: 7, LastSeq: 9, Screenshots: [][]byte{png, png}},
			{FirstSeq: 10, LastSeq: 12, Screenshots: [][]byte{png}},
		}}
		run := &reports.Run{Steps: make([]reports.Step, 4)}
		conformance.ShowShots(run, rec, nil)
		Expect(run.Steps[1].Screenshots).To(HaveLen(1), "a call that did not end ok")
		Expect(run.Steps[2].Screenshots).To(BeEmpty())
		conformance.ShowShots(run, rec, []uint64{8})
		Expect(run.Steps[2].Screenshots).To(HaveLen(2), "a failed check's event, one picture a tab")
		Expect(run.Steps[2].Screenshots[0]).To(HavePrefix("data:image/png;base64,"))
		Expect(run.Steps[0].Screenshots).To(BeEmpty())
		Expect(run.Steps[3].Screenshots).To(BeEmpty())
	})
})
