package fault_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/internal/yamldoc"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var token = fault.Request{Endpoint: fault.EndpointToken, GrantType: "refresh_token", Client: "demo", User: "alice", Family: "fam1"}

// fires runs n requests through e and reports which were answered.
func fires(e *fault.Engine, n int, req fault.Request) []bool {
	out := make([]bool, n)
	for i := range out {
		d := e.Decide(req, t0)
		out[i] = d.Answer != nil
	}
	return out
}

var _ = Describe("Engine", func() {
	var e *fault.Engine
	BeforeEach(func() { e = fault.NewEngine() })

	DescribeTable("nth and count pick the requests a fault fires on",
		func(nth, count int, want []bool) {
			_, err := e.Add(fault.Fault{Effect: fault.ResetEffect{}, Match: fault.Match{Nth: nth, Count: count}}, t0)
			Expect(err).NotTo(HaveOccurred())
			Expect(fires(e, len(want), token)).To(Equal(want))
		},
		Entry("neither: every request", 0, 0, []bool{true, true, true}),
		Entry("nth alone: only that one", 2, 0, []bool{false, true, false, false}),
		Entry("nth and count: from the nth, count of them", 2, 2, []bool{false, true, true, false}),
		Entry("count alone: the first ones", 0, 2, []bool{true, true, false}),
	)

	It("lets the first answering fault win; later ones do not see the request", func() {
		first, _ := e.Add(fault.Fault{Effect: fault.ErrorEffect{Status: 500}, Match: fault.Match{Count: 1}}, t0)
		second, _ := e.Add(fault.Fault{Effect: fault.ResetEffect{}}, t0)
		d := e.Decide(token, t0)
		Expect(d.Answer.Fault.ID).To(Equal(first.ID))
		st, _ := e.Get(second.ID)
		Expect(st.Matched).To(BeZero())
		Expect(e.Decide(token, t0).Answer.Fault.ID).To(Equal(second.ID))
	})

	It("collects latency and shaping faults alongside an answer", func() {
		_, _ = e.Add(fault.Fault{Effect: fault.LatencyEffect{Delay: profile.Duration(time.Millisecond)}}, t0)
		_, _ = e.Add(fault.Fault{Effect: fault.DeviationEffect{Deviation: profile.DeviationTokenTypeLowercase}}, t0)
		d := e.Decide(token, t0)
		Expect(d.Latency).To(HaveLen(1))
		Expect(d.Shape).To(HaveLen(1))
		Expect(d.Answer).To(BeNil())
		Expect(e.Decide(fault.Request{Endpoint: fault.EndpointResource}, t0).Shape).To(BeEmpty(), "a deviation shapes token responses only")
	})

	It("filters by every match field", func() {
		_, _ = e.Add(fault.Fault{Effect: fault.ResetEffect{}, Match: fault.Match{
			Endpoint: fault.OneOrMany[fault.Endpoint]{fault.EndpointToken}, GrantType: fault.OneOrMany[string]{"refresh_token"},
			Client: fault.OneOrMany[string]{"demo"}, User: fault.OneOrMany[string]{"alice"}, Family: fault.OneOrMany[string]{"fam1"},
		}}, t0)
		Expect(e.Decide(token, t0).Answer).NotTo(BeNil())
		for _, other := range []func(r *fault.Request){
			func(r *fault.Request) { r.Endpoint = fault.EndpointRevoke },
			func(r *fault.Request) { r.GrantType = "client_credentials" },
			func(r *fault.Request) { r.Client = "other" },
			func(r *fault.Request) { r.User = "bob" },
			func(r *fault.Request) { r.Family = "fam2" },
		} {
			req := token
			other(&req)
			Expect(e.Decide(req, t0).Answer).To(BeNil(), "%+v", req)
		}
	})

	It("limits in a sliding sim-time window and survives the clock going back", func() {
		_, err := e.Add(fault.Fault{Effect: fault.RateLimitEffect{Limit: 2, Per: profile.Duration(time.Minute)}}, t0)
		Expect(err).NotTo(HaveOccurred())
		Expect(e.Decide(token, t0).Answer).To(BeNil())
		Expect(e.Decide(token, t0.Add(30*time.Second)).Answer).To(BeNil())
		d := e.Decide(token, t0.Add(40*time.Second))
		Expect(d.Answer).NotTo(BeNil())
		Expect(d.Answer.RetryAfter).To(Equal(20 * time.Second))
		Expect(d.Answer.Limit).To(Equal(2))
		Expect(e.Decide(token, t0.Add(61*time.Second)).Answer).To(BeNil())
		Expect(e.Decide(token, t0.Add(-time.Hour)).Answer).To(BeNil(), "requests from the future do not count")
	})

	It("sums the skews whose window holds", func() {
		_, _ = e.Add(fault.Fault{Effect: fault.SkewEffect{Offset: profile.Duration(5 * time.Minute)}}, t0)
		_, _ = e.Add(fault.Fault{Effect: fault.SkewEffect{Offset: profile.Duration(-2 * time.Minute)}, Match: fault.Match{From: "1h"}}, t0)
		Expect(e.Skew(t0)).To(Equal(5 * time.Minute))
		Expect(e.Skew(t0.Add(time.Hour))).To(Equal(3 * time.Minute))
		Expect(e.Decide(token, t0).Empty()).To(BeTrue(), "a skew never fires on a request")
	})

	It("numbers faults and refuses a duplicate id", func() {
		a, _ := e.Add(fault.Fault{Effect: fault.ResetEffect{}}, t0)
		_, err := e.Add(fault.Fault{ID: a.ID, Effect: fault.ResetEffect{}}, t0)
		Expect(err).To(MatchError(fault.ErrDuplicateID))
		b, _ := e.Add(fault.Fault{Effect: fault.ResetEffect{}}, t0)
		Expect([]string{a.ID, b.ID}).To(Equal([]string{"f1", "f2"}))
		_, err = e.Remove("nope")
		Expect(err).To(MatchError(fault.ErrNotFound))
	})
})

var _ = Describe("Fault in YAML", func() {
	It("takes a single value or a list where a list is expected", func() {
		var f fault.Fault
		Expect(yaml.Unmarshal([]byte("kind: reset\nmatch: {endpoint: token, client: [a, b]}\n"), &f)).To(Succeed())
		Expect(f.Match.Endpoint).To(ConsistOf(fault.EndpointToken))
		Expect(f.Match.Client).To(ConsistOf("a", "b"))
	})

	It("reports every problem at its line and column", func() {
		var f fault.Fault
		err := yaml.Unmarshal([]byte("kind: rate_limit\nlimit: 3\nmatch:\n  probability: 2\n"), &f)
		Expect(err).To(HaveOccurred())
		located := yamldoc.Locate("f.yaml", err).Error()
		Expect(located).To(ContainSubstring("f.yaml:2:1: limit: a limit needs its window"))
		Expect(located).To(ContainSubstring("f.yaml:4:3: match.probability: must be between 0 and 1"))
	})
})
