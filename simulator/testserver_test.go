package simulator_test

import (
	"fmt"
	"net/http"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/fault"
)

// recordingT is a test as NewTestServer sees it, recording what it is
// told instead of failing this spec.
type recordingT struct {
	fatal    []string
	cleanups []func()
}

func (t *recordingT) Helper() {}
func (t *recordingT) Fatalf(format string, args ...any) {
	t.fatal = append(t.fatal, fmt.Sprintf(format, args...))
}
func (t *recordingT) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }

// end runs the cleanups as a test's end does: the last registered first.
func (t *recordingT) end() {
	for _, f := range slices.Backward(t.cleanups) {
		f()
	}
}

var _ = Describe("NewTestServer", func() {
	It("serves on loopback, and closes when the test ends, cutting what a fault still holds", func() {
		t := &recordingT{}
		srv := simulator.NewTestServer(t, simulator.WithFaults(fault.Fault{ID: "stuck", Effect: fault.HangEffect{}, Match: fault.Match{Endpoint: fault.OneOrMany[fault.Endpoint]{fault.EndpointResource}}}))
		Expect(t.fatal).To(BeEmpty())
		Expect(srv.URL).To(HavePrefix("http://127.0.0.1:"))
		resp, err := srv.Client().Get(srv.URL + "/.well-known/openid-configuration")
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))

		// A request the hang holds would keep a plain Close waiting for
		// its 30 s; the cleanup cuts it.
		held := make(chan error, 1)
		go func() {
			_, err := srv.Client().Get(srv.URL + "/api/me")
			held <- err
		}()
		Eventually(func() int { st, _ := srv.Fault("stuck"); return st.Matched }).Should(Equal(1))
		Expect(t.cleanups).To(HaveLen(1))
		t.end()
		Eventually(held).Should(Receive(HaveOccurred()))
		_, err = http.Get(srv.URL + "/.well-known/openid-configuration")
		Expect(err).To(HaveOccurred(), "the server is closed")
	})

	It("fails the test, with why, when the simulator cannot start", func() {
		t := &recordingT{}
		srv := simulator.NewTestServer(t, simulator.WithFaults(fault.Fault{}))
		Expect(srv).To(BeNil())
		Expect(t.fatal).To(ConsistOf(ContainSubstring("start the simulator")))
		Expect(t.cleanups).To(BeEmpty())
	})
})
