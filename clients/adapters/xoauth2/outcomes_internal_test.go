package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/oauth2"
)

// outcomeCases is ../testdata/outcomes.json, the table of
// clients/adapters/README.md that the Node and Python adapters check too.
type outcomeCases struct {
	Token []struct {
		Status   int             `json:"status"`
		Body     json.RawMessage `json:"body"`
		AgeHours float64         `json:"age_hours"`
		Outcome  string          `json:"outcome"`
		Reason   string          `json:"reason"`
	} `json:"token"`
	API []struct {
		Status  int    `json:"status"`
		Outcome string `json:"outcome"`
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
		func(status int, body []byte, age time.Duration, wantOutcome, wantReason string) {
			re := &oauth2.RetrieveError{Response: &http.Response{StatusCode: status}, Body: body}
			var fields struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(body, &fields)
			re.ErrorCode = fields.Error
			got := outcome(fmt.Errorf("refresh: %w", re), age)
			Expect([]string{got.Outcome, got.Reason}).To(Equal([]string{wantOutcome, wantReason}))
		}, tokenEntries)

	var apiEntries []TableEntry
	for _, c := range cases.API {
		apiEntries = append(apiEntries, Entry(fmt.Sprintf("HTTP %d", c.Status), c.Status, c.Outcome))
	}
	DescribeTable("reads the API's status as the shared cases say", func(status int, want string) {
		Expect(apiOutcome(status, http.StatusText(status)).Outcome).To(Equal(want))
	}, apiEntries)

	It("takes x/oauth2's own words for an expired token without a refresh token as a grant without one", func() {
		got := outcome(fmt.Errorf("Get \"http://api\": %w", fmt.Errorf("oauth2: token expired and refresh token is not set")), 0)
		Expect([]string{got.Outcome, got.Reason}).To(Equal([]string{"reauthorize", "no_refresh_token"}))
	})
})
