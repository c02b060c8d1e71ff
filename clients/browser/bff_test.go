package browser

import (
	"net/http"
	"net/http/httptest"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/conformance"
)

var _ = Describe("The backend-for-frontend's server", func() {
	var mux *http.ServeMux
	BeforeEach(func() {
		mux = http.NewServeMux()
		newBFF(conformance.Env{}).routes(mux)
	})
	post := func(path, contentType, origin, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "http://app.localhost:4000"+path, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		return w
	}

	DescribeTable("refuses what a cross-site page could send, before anything else",
		func(contentType, origin string, status int, detail string) {
			w := post("/bff/token", contentType, origin, "{}")
			Expect(w.Code).To(Equal(status))
			Expect(w.Header().Get("Content-Type")).To(Equal("application/json"))
			Expect(w.Body.String()).To(ContainSubstring(`"outcome":"error"`))
			Expect(w.Body.String()).To(ContainSubstring(detail))
		},
		Entry("a form", "application/x-www-form-urlencoded", "", http.StatusUnsupportedMediaType, "JSON only"),
		Entry("text/plain, which needs no preflight", "text/plain", "", http.StatusUnsupportedMediaType, "JSON only"),
		Entry("JSON from another origin", "application/json", "http://evil.localhost:1", http.StatusForbidden, "another origin"),
	)

	It("answers a page with no session that the user must sign in, and a body that is no JSON object as an error", func() {
		w := post("/bff/token", "application/json", "http://app.localhost:4000", "{}")
		Expect(w.Code).To(Equal(http.StatusUnauthorized))
		Expect(w.Body.String()).To(ContainSubstring(`"outcome":"reauthorize","reason":"no_grant"`))
		Expect(w.Header().Get("Cache-Control")).To(Equal("no-store"))
		w = post("/bff/token", "application/json", "", "[1]")
		Expect(w.Code).To(Equal(http.StatusBadRequest))
	})

	It("takes only a redirect URI on its own origin", func() {
		w := post("/bff/login-url", "application/json", "", `{"redirect_uri": "http://evil.localhost:1/callback"}`)
		Expect(w.Code).To(Equal(http.StatusBadRequest))
		Expect(w.Body.String()).To(ContainSubstring("own origin"))
	})
})
