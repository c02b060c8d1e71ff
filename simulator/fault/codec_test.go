package fault_test

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/internal/yamldoc"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

var _ = Describe("A fault's wire form", func() {
	DescribeTable("puts the effect's parameters beside the kind, in JSON and back",
		func(f fault.Fault, want string) {
			b, err := json.Marshal(f)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(b)).To(Equal(want))
			var back fault.Fault
			Expect(json.Unmarshal(b, &back)).To(Succeed())
			Expect(back).To(Equal(f))
			var fromYAML fault.Fault
			Expect(yaml.Unmarshal(b, &fromYAML)).To(Succeed(), "JSON is YAML")
			Expect(fromYAML).To(Equal(f))
		},
		Entry("an error", fault.Fault{ID: "down", Effect: fault.ErrorEffect{Status: 502, Body: "<p>", Headers: map[string]string{"X": "y"}}},
			`{"id":"down","kind":"error","status":502,"body":"\u003cp\u003e","headers":{"X":"y"}}`),
		Entry("a limiter, matched", fault.Fault{Effect: fault.RateLimitEffect{Limit: 2, Per: d("1m"), Key: fault.KeyUser},
			Match: fault.Match{Endpoint: fault.OneOrMany[fault.Endpoint]{fault.EndpointResource}}},
			`{"kind":"rate_limit","match":{"endpoint":["resource"]},"limit":2,"per":"1m0s","key":"user"}`),
		Entry("a kind without parameters", fault.Fault{Effect: fault.ResetEffect{}}, `{"kind":"reset"}`),
		Entry("a propagation delay", fault.Fault{Effect: fault.PropagationDelayEffect{Delay: d("30s"), On: fault.OneOrMany[string]{fault.OnIssue}}},
			`{"kind":"propagation_delay","delay":"30s","on":["issue"]}`),
	)

	It("lists each kind's parameters in the order of its type's fields", func() {
		Expect(fault.Params(fault.RateLimit)).To(Equal([]string{"signal", "limit", "per", "key", "retry_after", "retry_after_format", "status"}))
		Expect(fault.Params(fault.Reset)).To(BeEmpty())
		Expect(fault.Params("explode")).To(BeNil())
	})

	Describe("in JSON", func() {
		decode := func(body string) (fault.Fault, error) {
			var f fault.Fault
			err := json.Unmarshal([]byte(body), &f)
			return f, err
		}

		It("leaves a parameter of another kind to Validate, with the fault's other problems", func() {
			f, err := decode(`{"kind":"latency","status":500,"on":[],"headers":{}}`)
			Expect(err).NotTo(HaveOccurred())
			Expect(problems(f)).To(Equal([]string{
				"status: does not apply to a latency fault (it takes: delay, jitter)",
				"delay: a latency needs a positive delay or jitter",
			}), "empty lists and maps are not given")
		})

		It("leaves a kind that does not exist to Validate", func() {
			f, err := decode(`{"kind":"explode","delay":"1s"}`)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Kind()).To(Equal(fault.Kind("explode")))
			Expect(problems(f)).To(ConsistOf(ContainSubstring(`kind: must be one of rate_limit, error,`)))
		})

		DescribeTable("refuses the first key no kind takes, or value of the wrong type, as encoding/json does",
			func(body, msg string) {
				_, err := decode(body)
				Expect(err).To(MatchError(msg))
			},
			Entry("an unknown key", `{"kind":"reset","mtach":{}}`, `json: unknown field "mtach"`),
			Entry("an unknown key in match", `{"kind":"reset","match":{"nht":2}}`, `json: unknown field "nht"`),
			Entry("a parameter's type", `{"kind":"error","status":"x","bogus":1}`, "json: cannot unmarshal string into Go struct field Fault.status of type int"),
			Entry("another kind's parameter's type", `{"kind":"reset","jitter":5}`, "json: cannot unmarshal number into Go struct field Fault.jitter of type profile.Duration"),
			Entry("a match field's type", `{"kind":"reset","match":{"nth":"x"}}`, "json: cannot unmarshal string into Go struct field Match.match.nth of type int"),
			Entry("not an object", `[]`, "json: cannot unmarshal array into Go value of type fault.Fault"),
		)

		It("reads and writes a status with its progress beside the fault", func() {
			at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			st := fault.Status{Fault: fault.Fault{ID: "f1", Effect: fault.SkewEffect{Offset: d("10m")}},
				Progress: fault.Progress{AddedAt: at, Until: &at, Matched: 3, Fired: 2}}
			b, err := json.Marshal(st)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(b)).To(Equal(`{"id":"f1","kind":"skew","offset":"10m0s","added_at":"2026-03-01T12:00:00Z","until":"2026-03-01T12:00:00Z","matched":3,"fired":2}`))
			var back fault.Status
			Expect(json.Unmarshal(b, &back)).To(Succeed())
			Expect(back).To(Equal(st))
		})
	})

	Describe("in YAML", func() {
		It("refuses a parameter of another kind at its line and column, and not one left at its zero value", func() {
			var f fault.Fault
			err := yamldoc.Locate("f.yaml", yaml.Unmarshal([]byte("kind: latency\ndelay: 1s\nmax: 0s\n  \nstatus: 500\n"), &f))
			Expect(err).To(MatchError(ContainSubstring("f.yaml:5:1: status: does not apply to a latency fault (it takes: delay, jitter)")))
			Expect(err.Error()).NotTo(ContainSubstring("max:"))
		})

		It("reads each kind's parameters into its effect", func() {
			var f fault.Fault
			Expect(yaml.Unmarshal([]byte("kind: deviation\ndeviation: random_access_token_lifetime\nmin_lifetime: 60m\nmax_lifetime: 90m\n"), &f)).To(Succeed())
			Expect(f.Effect).To(Equal(fault.DeviationEffect{Deviation: fault.DeviationRandomLifetime, MinLifetime: d("60m"), MaxLifetime: d("90m")}))
			Expect(f.Kind()).To(Equal(fault.Deviation))
			Expect(f.Effect.(fault.Deviator).Deviates()).To(Equal(fault.DeviationRandomLifetime))
		})

		It("reports every value of the wrong type, in the order of the file", func() {
			var f fault.Fault
			err := yamldoc.Locate("f.yaml", yaml.Unmarshal([]byte("kind: error\nstatus: x\nmax: y\n"), &f))
			Expect(err).To(MatchError("f.yaml:2:9: status takes a whole number, e.g. `status: 503`\nf.yaml:3:6: invalid duration \"y\": use forms like 90s, 10m, 1h, 7d"))
		})
	})

	It("keeps the engine's copy of an effect's lists and maps apart from the caller's", func() {
		e := fault.NewEngine()
		headers := map[string]string{"X": "y"}
		on := fault.OneOrMany[string]{fault.OnIssue}
		a, err := e.Add(fault.Fault{Effect: fault.ErrorEffect{Status: 500, Headers: headers}}, t0)
		Expect(err).NotTo(HaveOccurred())
		b, err := e.Add(fault.Fault{Effect: fault.PropagationDelayEffect{Delay: d("1s"), On: on}}, t0)
		Expect(err).NotTo(HaveOccurred())
		headers["X"], on[0] = "changed", fault.OnRevocation
		st, _ := e.Get(a.ID)
		Expect(st.Effect.(fault.ErrorEffect).Headers).To(HaveKeyWithValue("X", "y"))
		st, _ = e.Get(b.ID)
		Expect(st.Effect.(fault.PropagationDelayEffect).On).To(ConsistOf(fault.OnIssue))
	})
})

var _ = Describe("The engine's use of the kinds", func() {
	var e *fault.Engine
	BeforeEach(func() { e = fault.NewEngine() })

	It("keeps each kind to the endpoint it acts on", func() {
		_, _ = e.Add(fault.Fault{Effect: fault.BackdateEffect{By: d("1m")}}, t0)
		_, _ = e.Add(fault.Fault{Effect: fault.PropagationDelayEffect{Delay: d("1m")}}, t0)
		Expect(e.Decide(token, t0).Shape).To(ConsistOf(HaveField("Fault.Effect", fault.BackdateEffect{By: d("1m")})))
		Expect(e.Decide(fault.Request{Endpoint: fault.EndpointResource}, t0).Shape).To(ConsistOf(HaveField("Fault.Effect", fault.PropagationDelayEffect{Delay: d("1m")})))
	})

	It("draws a latency's jitter from its seeded generator, within the jitter", func() {
		seed := uint64(7)
		draws := func() []time.Duration {
			e := fault.NewEngine()
			_, err := e.Add(fault.Fault{Effect: fault.LatencyEffect{Jitter: d("1s")}, Match: fault.Match{Seed: &seed}}, t0)
			Expect(err).NotTo(HaveOccurred())
			var out []time.Duration
			for range 5 {
				out = append(out, e.Decide(token, t0).Latency[0].Jitter)
			}
			return out
		}
		first := draws()
		Expect(first).To(HaveEach(And(BeNumerically(">=", 0), BeNumerically("<", time.Second))))
		Expect(first).NotTo(HaveEach(first[0]))
		Expect(draws()).To(Equal(first), "the same seed draws the same jitter")
	})

	DescribeTable("has an answer announce when to try again",
		func(effect fault.Effect, after time.Duration) {
			_, err := e.Add(fault.Fault{Effect: effect}, t0)
			Expect(err).NotTo(HaveOccurred())
			Expect(e.Decide(token, t0).Answer.RetryAfter).To(Equal(after))
		},
		Entry("a rate_limit by default", fault.RateLimitEffect{}, 30*time.Second),
		Entry("a rate_limit's retry_after", fault.RateLimitEffect{RetryAfter: d("45s")}, 45*time.Second),
		Entry("an error's retry_after", fault.ErrorEffect{Status: 503, RetryAfter: d("20s")}, 20*time.Second),
		Entry("an error without", fault.ErrorEffect{Status: 503}, time.Duration(0)),
	)

	It("lets the first spoiler spoil an answer, and passes over the later", func() {
		_, _ = e.Add(fault.Fault{Effect: fault.MalformedEffect{Mode: fault.ModeEmpty}}, t0)
		second, _ := e.Add(fault.Fault{Effect: fault.DropAfterCommitEffect{}}, t0)
		Expect(e.Decide(token, t0).Shape).To(ConsistOf(HaveField("Fault.Effect", fault.MalformedEffect{Mode: fault.ModeEmpty})))
		st, _ := e.Get(second.ID)
		Expect(st.Matched).To(BeZero())
	})

	It("counts a shaping fault as fired only when it says it acted", func() {
		f, _ := e.Add(fault.Fault{Effect: fault.DeviationEffect{Deviation: profile.DeviationExpiresInString}}, t0)
		d := e.Decide(token, t0)
		st, _ := e.Get(f.ID)
		Expect(st.Fired).To(BeZero())
		e.Applied(d.Shape[0].Fault)
		st, _ = e.Get(f.ID)
		Expect(st.Fired).To(Equal(1))
	})
})
