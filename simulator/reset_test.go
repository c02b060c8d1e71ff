package simulator_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/ory/fosite"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
)

var _ = Describe("Reset", func() {
	// tally counts the answers of token requests by status and error code.
	type tally struct {
		mu     sync.Mutex
		counts map[string]int
	}
	count := func(t *tally, r reply) {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.counts[fmt.Sprintf("%d %s", r.status, errorCode(r.body))]++
	}
	// racing runs workers that each run work rounds times, while Reset runs
	// over and over, until the workers are done.
	racing := func(h *harness, workers, rounds int, work func()) {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				defer GinkgoRecover()
				for range rounds {
					work()
				}
			})
		}
		done := make(chan struct{})
		resets := make(chan int)
		go func() {
			n := 0
			for {
				select {
				case <-done:
					resets <- n
					return
				default:
					h.srv.Reset()
					n++
				}
			}
		}()
		wg.Wait()
		close(done)
		Expect(<-resets).To(BeNumerically(">", 0), "no reset ran while the requests did")
	}

	It("never fails a grant or a refresh with server_error or invalid_client while it runs", func() {
		h := newHarness()
		t := &tally{counts: map[string]int{}}
		racing(h, 4, 60, func() {
			// A grant authorizes and redeems its code in one state.
			g, err := h.srv.MintGrant(context.Background(), simulator.GrantRequest{ClientID: "demo", User: "alice", Scope: new("openid offline_access api")})
			Expect(err).NotTo(HaveOccurred())
			for range 3 {
				r := h.refresh(g.RefreshToken)
				count(t, r)
				if r.status != http.StatusOK {
					return
				}
				g.RefreshToken = decodeTokens(r).Refresh
			}
		})
		Expect(t.counts).To(HaveKey("200 "))
		for answer := range t.counts {
			Expect(answer).To(Or(Equal("200 "), Equal("400 invalid_grant")), "%v", t.counts)
		}
	})

	It("never fails an authorization code flow with PKCE with server_error while it runs", func() {
		h := newHarness()
		t := &tally{counts: map[string]int{}}
		racing(h, 4, 60, func() {
			verifier, challenge := pkce()
			r := h.get(authorizeURL("demo-public", "openid offline_access", challenge, "login_hint", "alice"))
			Expect(r.status).To(Equal(http.StatusSeeOther), "%s", r.body)
			loc, err := url.Parse(r.header.Get("Location"))
			Expect(err).NotTo(HaveOccurred())
			count(t, h.postForm(simulator.PathToken, url.Values{
				"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {simulator.DemoRedirectURI},
				"client_id": {"demo-public"}, "code_verifier": {verifier},
			}, "", ""))
		})
		for answer := range t.counts {
			Expect(answer).To(Or(Equal("200 "), Equal("400 invalid_grant")), "%v", t.counts)
		}
	})

	It("lets a request under way finish in the state it began in, and the next one find the new state", func() {
		arrived, release := make(chan struct{}), make(chan struct{})
		var hold sync.Once
		var holding bool
		var mu sync.Mutex
		h := newHarness(simulator.WithTokenTap(func(kind fosite.TokenType, _ string) {
			mu.Lock()
			waiting := holding && kind == fosite.AccessToken
			mu.Unlock()
			if waiting {
				hold.Do(func() {
					close(arrived)
					<-release
				})
			}
		}))
		g := h.mint("demo", "alice", "offline_access api")
		mu.Lock()
		holding = true
		mu.Unlock()

		answered := make(chan reply)
		go func() {
			defer GinkgoRecover()
			answered <- h.refresh(g.Refresh)
		}()
		<-arrived
		By("resetting while the refresh is minting its tokens")
		h.srv.Reset()
		close(release)
		r := <-answered
		Expect(r.status).To(Equal(http.StatusOK), "it began before the reset: %s", r.body)

		By("finding neither the tokens it got nor the one it used after the reset")
		Expect(h.srv.Families()).To(BeEmpty())
		Expect(h.refresh(decodeTokens(r).Refresh).status).To(Equal(http.StatusBadRequest))
		Expect(h.me(decodeTokens(r).Access).status).To(Equal(http.StatusUnauthorized))
		Expect(h.refresh(g.Refresh).status).To(Equal(http.StatusBadRequest))
		Expect(h.events()[0].Kind).To(Equal(events.Reset))
	})
})

var _ = Describe("A multipart request", Serial, func() {
	// big is a file part large enough that net/http keeps it on disk.
	big := bytes.Repeat([]byte("x"), 3<<20)
	multipartPost := func(h *harness, path string, fields map[string]string, header ...string) reply {
		GinkgoHelper()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, v := range fields {
			Expect(mw.WriteField(k, v)).To(Succeed())
		}
		part, err := mw.CreateFormFile("f", "big.bin")
		Expect(err).NotTo(HaveOccurred())
		_, err = part.Write(big)
		Expect(err).NotTo(HaveOccurred())
		Expect(mw.Close()).To(Succeed())
		req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, &body)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Content-Type", mw.FormDataContentType())
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return h.do(req)
	}

	DescribeTable("leaves no file in TMPDIR once it is answered",
		func(path string, fields map[string]string, status int, header ...string) {
			tmp := GinkgoT().TempDir()
			GinkgoT().Setenv("TMPDIR", tmp)
			h := newHarness()
			Expect(multipartPost(h, path, fields, header...).status).To(Equal(status))
			left, err := os.ReadDir(tmp)
			Expect(err).NotTo(HaveOccurred())
			Expect(left).To(BeEmpty(), "the server still serves: nothing may wait for it to stop")
		},
		Entry("a token request", simulator.PathToken, map[string]string{"grant_type": "client_credentials"}, http.StatusOK,
			"Authorization", basicAuth("demo", "demo-secret")),
		Entry("an introspection", simulator.PathIntrospect, map[string]string{"token": "x.y"}, http.StatusOK,
			"Authorization", basicAuth("demo", "demo-secret")),
		Entry("a revocation", simulator.PathRevoke, map[string]string{"token": "x.y"}, http.StatusOK,
			"Authorization", basicAuth("demo", "demo-secret")),
		Entry("an authorization", simulator.PathAuthorize, map[string]string{"client_id": "demo"}, http.StatusSeeOther),
		Entry("a resource request without credentials", simulator.PathResourceMe, nil, http.StatusUnauthorized),
		Entry("a resource request with its token in the body", simulator.PathResourceMe, map[string]string{"access_token": "x.y"}, http.StatusUnauthorized),
	)
})

// basicAuth is an HTTP Basic Authorization header value.
func basicAuth(user, password string) string {
	r := &http.Request{Header: http.Header{}}
	r.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(password))
	return strings.TrimSpace(r.Header.Get("Authorization"))
}
