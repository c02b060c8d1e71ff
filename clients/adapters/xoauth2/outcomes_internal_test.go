package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/oauth2"

	"github.com/oauthsim/oauthsim/clients/contract"
)

// outcomeCases is ../testdata/outcomes.json, the table of
// clients/adapters/README.md that the Node and Python adapters check too.
type outcomeCases struct {
	Token []struct {
		Status   int              `json:"status"`
		Body     json.RawMessage  `json:"body"`
		AgeHours float64          `json:"age_hours"`
		Outcome  contract.Outcome `json:"outcome"`
		Reason   contract.Reason  `json:"reason"`
	} `json:"token"`
	API []struct {
		Status  int              `json:"status"`
		Outcome contract.Outcome `json:"outcome"`
	} `json:"api"`
}

// raw is a case's body as the provider sent it: a JSON object as such, a
// string as its text.
func raw(body json.RawMessage) []byte {
	var text string
	if json.Unmarshal(body, &text) == nil {
		return []byte(text)
	}
	return body
}

// loadOutcomeCases reads the shared cases while the spec tree is built, so
// that each is an Entry of its own.
func loadOutcomeCases() outcomeCases {
	b, err := os.ReadFile("../testdata/outcomes.json")
	if err != nil {
		panic(err)
	}
	var cases outcomeCases
	if err := json.Unmarshal(b, &cases); err != nil {
		panic(fmt.Errorf("../testdata/outcomes.json: %w", err))
	}
	return cases
}

var _ = Describe("The outcome table (clients/adapters/README.md)", func() {
	cases := loadOutcomeCases()

	var tokenEntries []TableEntry
	for _, c := range cases.Token {
		tokenEntries = append(tokenEntries, Entry(fmt.Sprintf("HTTP %d %s, a %v h old grant", c.Status, c.Body, c.AgeHours),
			c.Status, raw(c.Body), time.Duration(c.AgeHours*float64(time.Hour)), c.Outcome, c.Reason))
	}
	DescribeTable("reads a token endpoint's error answer, as x/oauth2 reports it, as the shared cases say",
		func(status int, body []byte, age time.Duration, wantOutcome contract.Outcome, wantReason contract.Reason) {
			re := &oauth2.RetrieveError{Response: &http.Response{StatusCode: status}, Body: body}
			var fields struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(body, &fields)
			re.ErrorCode = fields.Error
			got := outcome(fmt.Errorf("refresh: %w", re), age)
			Expect([]any{got.Outcome, got.Reason}).To(Equal([]any{wantOutcome, wantReason}))
		}, tokenEntries)

	var apiEntries []TableEntry
	for _, c := range cases.API {
		apiEntries = append(apiEntries, Entry(fmt.Sprintf("HTTP %d", c.Status), c.Status, c.Outcome))
	}
	DescribeTable("reads the API's status as the shared cases say", func(status int, want contract.Outcome) {
		Expect(apiOutcome(status, http.StatusText(status)).Outcome).To(Equal(want))
	}, apiEntries)

	// x/oauth2 reports a 2xx answer it cannot read in words of its own, not
	// as a RetrieveError (internal/token.go, doTokenRoundTrip): the real
	// library, against a token endpoint that answers so.
	DescribeTable("reads x/oauth2's own words for an unreadable 2xx token answer as the table's last row, an answer with no error",
		func(contentType, body string, cut bool) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api" {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				w.Header().Set("Content-Type", contentType)
				if cut {
					// Declares more than it sends: the connection closes
					// with the body half read.
					w.Header().Set("Content-Length", fmt.Sprint(2*len(body)))
				}
				_, _ = w.Write([]byte(body))
			}))
			DeferCleanup(srv.Close)
			conf := &oauth2.Config{ClientID: "demo", ClientSecret: "secret",
				Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInParams}}
			ctx := context.Background()

			By("the code exchange")
			_, err := conf.Exchange(ctx, "code")
			Expect(err).To(HaveOccurred())
			var re *oauth2.RetrieveError
			Expect(errors.As(err, &re)).To(BeFalse(), "x/oauth2's own words, not the answer: %v", err)
			got := outcome(err, 0)
			Expect(got.Outcome).To(Equal(contract.OutcomeTemporaryError), "%v", err)

			By("a refresh under an API call, where http.Client wraps it in a url.Error")
			client := conf.Client(ctx, &oauth2.Token{AccessToken: "old", RefreshToken: "refresh", Expiry: time.Now().Add(-time.Hour)})
			_, err = client.Get(srv.URL + "/api")
			Expect(err).To(HaveOccurred())
			got = outcome(err, 2*time.Hour)
			Expect([]any{got.Outcome, got.Reason}).To(Equal([]any{contract.OutcomeTemporaryError, contract.Reason("")}), "%v", err)
		},
		Entry("an HTML page", "text/html; charset=utf-8", "<html><head><title>200 OK</title></head><body><h1>OK</h1></body></html>\n", false),
		Entry("an empty body labelled JSON", "application/json", "", false),
		Entry("JSON cut in half", "application/json", `{"access_token":"abc","token_ty`, false),
		Entry("JSON without access_token or error", "application/json", `{"token_type":"Bearer"}`, false),
		Entry("a form answer that does not parse", "application/x-www-form-urlencoded", "access_token=%zz", false),
		Entry("a body whose connection closes half way", "application/json", `{"access_token":"abc","token_type":"Bearer"}`, true),
	)

	It("takes x/oauth2's own words for an expired token without a refresh token as a grant without one", func() {
		got := outcome(fmt.Errorf("Get \"http://api\": %w", fmt.Errorf("oauth2: token expired and refresh token is not set")), 0)
		Expect([]any{got.Outcome, got.Reason}).To(Equal([]any{contract.OutcomeReauthorize, contract.ReasonNoRefreshToken}))
	})
})
