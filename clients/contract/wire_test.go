package contract_test

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
)

// marshal is v as one protocol line.
func marshal(v any) string {
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

var _ = Describe("The lines of the protocol", func() {
	It("reads PROTOCOL.md's hello, and writes it back with the same fields", func() {
		line := `{"hello": {"protocol": 1, "name": "simple-oauth2", "version": "5.1.0",
           "capabilities": ["refresh", "restart", "concurrency", "logout", "clock:faketime"]}}`
		var got contract.HelloLine
		Expect(json.Unmarshal([]byte(line), &got)).To(Succeed())
		Expect(got.Hello).To(Equal(&contract.Hello{Protocol: contract.Version, Name: "simple-oauth2", Version: "5.1.0",
			Capabilities: []contract.Capability{contract.CapRefresh, contract.CapRestart, contract.CapConcurrency, contract.CapLogout, contract.CapClockFaketime}}))
		Expect(marshal(got)).To(MatchJSON(line))
	})

	It("has no hello in a line without one", func() {
		var got contract.HelloLine
		Expect(json.Unmarshal([]byte(`{"id":"1"}`), &got)).To(Succeed())
		Expect(got.Hello).To(BeNil())
	})

	DescribeTable("writes a request with the field names and time form of PROTOCOL.md",
		func(r contract.Request, want string) {
			Expect(marshal(r)).To(Equal(want))
			var back contract.Request
			Expect(json.Unmarshal([]byte(want), &back)).To(Succeed())
			Expect(back.Now.Equal(r.Now)).To(BeTrue(), "now reads back as %s", back.Now)
			back.Now = r.Now
			Expect(back).To(Equal(r))
		},
		Entry("a whole second, without a fraction",
			contract.Request{ID: "1", Op: contract.OpCall, Now: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)},
			`{"id":"1","op":"call","now":"2026-01-05T10:00:00Z"}`),
		Entry("a fraction of a second, as short as it goes",
			contract.Request{ID: "2", Op: contract.OpTime, Now: time.Date(2026, 1, 5, 10, 0, 0, 250e6, time.UTC)},
			`{"id":"2","op":"time","now":"2026-01-05T10:00:00.25Z"}`),
		Entry("a callback with its url",
			contract.Request{ID: "3", Op: contract.OpCallback, Now: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), URL: "http://127.0.0.1:8765/callback?code=c&state=s"},
			`{"id":"3","op":"callback","now":"2026-01-05T10:00:00Z","url":"http://127.0.0.1:8765/callback?code=c\u0026state=s"}`),
	)

	It("reads PROTOCOL.md's response with an outcome", func() {
		var got contract.Response
		Expect(json.Unmarshal([]byte(`{"id": "7", "outcome": "reauthorize", "reason": "revoked", "detail": "invalid_grant: Token has been expired or revoked."}`), &got)).To(Succeed())
		Expect(got).To(Equal(contract.Response{ID: "7", Outcome: contract.OutcomeReauthorize, Reason: contract.ReasonRevoked,
			Detail: "invalid_grant: Token has been expired or revoked."}))
	})

	DescribeTable("writes a response with only the fields it has",
		func(r contract.Response, want string) { Expect(marshal(r)).To(Equal(want)) },
		Entry("an op with no outcome", contract.Response{ID: "8"}, `{"id":"8"}`),
		Entry("an op it does not know", contract.Response{ID: "9", Error: "unknown op"}, `{"id":"9","error":"unknown op"}`),
		Entry("a line it cannot read, which has no id", contract.Response{Error: "not a request"}, `{"error":"not a request"}`),
		Entry("authorize", contract.Response{ID: "1", URL: "http://x/authorize"}, `{"id":"1","url":"http://x/authorize"}`),
		Entry("an outcome", contract.Response{ID: "7", Outcome: contract.OutcomeReauthorize, Reason: contract.ReasonNoGrant, Detail: "d"},
			`{"id":"7","outcome":"reauthorize","reason":"no_grant","detail":"d"}`),
	)
})

var _ = Describe("A hello's capabilities", func() {
	hello := func(caps ...contract.Capability) contract.Hello {
		return contract.Hello{Protocol: contract.Version, Name: "c", Capabilities: caps}
	}

	It("sorts what a scenario may require from the clock and from what the protocol does not have", func() {
		h := hello("refersh", contract.CapClockNow, contract.CapLogout, "telepathy", contract.CapRefresh)
		Expect(h.Features()).To(Equal([]contract.Capability{contract.CapLogout, contract.CapRefresh}), "in the hello's order")
		Expect(h.Unknown()).To(Equal([]contract.Capability{"refersh", "telepathy"}))
		Expect(h.Clock()).To(Equal(contract.CapClockNow))
	})

	DescribeTable("refuses a hello without exactly one clock capability",
		func(h contract.Hello, lists string) {
			_, err := h.Clock()
			Expect(err).To(MatchError(ContainSubstring("exactly one clock capability (clock:now or clock:faketime); it lists " + lists)))
		},
		Entry("none", hello(contract.CapRefresh), "0"),
		Entry("both", hello(contract.CapClockNow, contract.CapRefresh, contract.CapClockFaketime), "2"),
		Entry("one twice", hello(contract.CapClockNow, contract.CapClockNow), "2"),
	)

	It("knows the capabilities of this version, and no other", func() {
		for _, c := range append(contract.Capabilities(), contract.Clocks()...) {
			Expect(c.Known()).To(BeTrue(), "%s", c)
		}
		Expect(contract.Capabilities()).NotTo(ContainElements(contract.Clocks()), "a scenario requires no clock: the harness runs either")
		Expect(contract.Capability("clock:later").Known()).To(BeFalse())
		Expect(contract.Capability("Refresh").Known()).To(BeFalse(), "capabilities are case-sensitive")
	})
})

var _ = Describe("Outcomes and reasons", func() {
	It("knows the outcomes of this version, and no other", func() {
		for _, o := range contract.Outcomes() {
			Expect(o.Known()).To(BeTrue(), "%s", o)
		}
		Expect(contract.Outcome("any").Known()).To(BeFalse(), "any is a scenario's expectation, not an answer")
		Expect(contract.Outcome("").Known()).To(BeFalse())
		Expect(contract.Outcome("OK").Known()).To(BeFalse())
	})

	It("knows the reasons of this version, and no other", func() {
		for _, r := range contract.Reasons() {
			Expect(r.Known()).To(BeTrue(), "%s", r)
		}
		Expect(contract.Reason("").Known()).To(BeFalse())
		Expect(contract.Reason("revoke").Known()).To(BeFalse())
	})
})
