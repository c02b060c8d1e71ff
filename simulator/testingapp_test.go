package simulator_test

import (
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// withTestingAppExpiry is the generic profile with Google's testing-app expiry.
func withTestingAppExpiry(d time.Duration) simulator.Option {
	p := profile.Generic()
	p.TestingAppExpiry = profile.Duration(d)
	return simulator.WithProfile(p)
}

const week = 7 * 24 * time.Hour

// familyInfo is one family of the control API's listing.
func (h *harness) familyInfo(id string) map[string]any {
	GinkgoHelper()
	for _, f := range h.control(http.MethodGet, "/families", nil).json()["families"].([]any) {
		if f.(map[string]any)["id"] == id {
			return f.(map[string]any)
		}
	}
	Fail("no family " + id)
	return nil
}

var _ = Describe("A client in testing publishing status", func() {
	var h *harness
	BeforeEach(func() { h = newHarness(withTestingAppExpiry(week)) })

	setStatus := func(status string) {
		GinkgoHelper()
		r := h.control(http.MethodPost, "/clients/demo/publishing-status", map[string]string{"status": status})
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		Expect(r.json()).To(HaveKeyWithValue("publishing_status", status))
	}

	It("loses its refresh tokens seven days after consent, rotation or not", func() {
		setStatus("testing")
		Expect(h.lastEvent(events.ClientChanged)).To(And(
			HaveField("Client", "demo"), HaveField("Detail", "publishing status testing (was production)")))
		t := h.mint("demo", "alice", "openid offline_access api")
		deadline := epoch.Add(week)
		Expect(h.familyInfo(t.Family)).To(HaveKeyWithValue("testing_app_expires_at", deadline.Format(time.RFC3339)))

		By("refreshing on day 6: the rotated token inherits the deadline")
		h.advance("6d")
		r := h.refresh(t.Refresh)
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		next := decodeTokens(r)
		Expect(h.introspect(next.Refresh)).To(HaveKeyWithValue("exp", BeNumerically("==", deadline.Unix())))

		By("refreshing after day 7")
		h.advance("1d")
		r = h.refresh(next.Refresh)
		expectInvalidGrant(r)
		e := h.lastEvent(events.TokenRequest)
		Expect(e.Family).To(Equal(t.Family))
		Expect(e.Detail).To(Equal("refresh token of a testing app expired 7d after consent"))
		Expect(h.familyInfo(t.Family)).To(HaveKeyWithValue("live_refresh_tokens", BeNumerically("==", 0)))
	})

	It("keeps grants of identity scopes alone", func() {
		setStatus("testing")
		t := h.mint("demo", "alice", "openid profile offline_access")
		Expect(h.familyInfo(t.Family)).NotTo(HaveKey("testing_app_expires_at"))
		h.advance("30d")
		Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK))
	})

	It("goes by the status at consent: a later move to production does not save a grant, nor does testing doom one", func() {
		t := h.mint("demo", "alice", "offline_access api")
		setStatus("testing")
		doomed := h.mint("demo", "bob", "offline_access api")
		setStatus("production")
		saved := h.mint("demo", "alice", "offline_access api")
		h.advance("8d")
		Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK))
		Expect(h.refresh(saved.Refresh).status).To(Equal(http.StatusOK))
		expectInvalidGrant(h.refresh(doomed.Refresh))
	})

	It("changes nothing when the profile has no testing-app expiry", func() {
		h := newHarness()
		r := h.control(http.MethodPost, "/clients/demo/publishing-status", map[string]string{"status": "testing"})
		Expect(r.status).To(Equal(http.StatusOK))
		t := h.mint("demo", "alice", "offline_access api")
		h.advance("30d")
		Expect(h.refresh(t.Refresh).status).To(Equal(http.StatusOK))
	})

	It("reads the status and the expiry from the config file, and from a replaced client", func() {
		cfg, err := simulator.ParseConfig("oauthsim.yaml", []byte(`
profile:
  testing_app_expiry: 7d
clients:
  - client_id: unpublished
    client_secret: s
    redirect_uris: [`+simulator.DemoRedirectURI+`]
    publishing_status: testing
`))
		Expect(err).NotTo(HaveOccurred())
		h := newHarness(cfg.Options()...)
		t := h.mint("unpublished", "alice", "offline_access api")
		Expect(h.familyInfo(t.Family)).To(HaveKey("testing_app_expires_at"))

		r := h.control(http.MethodPut, "/clients/qa", map[string]any{"client_secret": "s", "redirect_uris": []string{simulator.DemoRedirectURI}, "publishing_status": "testing"})
		Expect(r.status).To(Equal(http.StatusOK), "%s", r.body)
		q := h.mint("qa", "alice", "offline_access api")
		Expect(h.familyInfo(q.Family)).To(HaveKey("testing_app_expires_at"))
	})

	DescribeTable("refuses bad status changes with a clear 4xx",
		func(path string, body any, status int, message string) {
			r := h.control(http.MethodPost, path, body)
			Expect(r.status).To(Equal(status), "%s", r.body)
			Expect(r.str("error_description")).To(ContainSubstring(message))
		},
		Entry("an unknown status", "/clients/demo/publishing-status", map[string]string{"status": "beta"}, 400, `publishing_status "beta" is not`),
		Entry("no status", "/clients/demo/publishing-status", map[string]string{}, 400, "status is required"),
		Entry("a misspelt field", "/clients/demo/publishing-status", map[string]string{"staus": "testing"}, 400, "unknown field"),
		Entry("no body", "/clients/demo/publishing-status", "", 400, "must be a JSON object"),
		Entry("an unknown client", "/clients/nope/publishing-status", map[string]string{"status": "testing"}, 404, `no client "nope"`),
	)
})
