package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/inprocess"
	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

var bundled = func() []*scenarios.Scenario {
	scs, err := scenarios.Bundled()
	if err != nil {
		panic(err)
	}
	return scs
}()

// failedChecks runs sc against c and lists the checks that failed, with
// their messages.
func failedChecks(sc *scenarios.Scenario, c conformance.Client) (map[string]string, *conformance.Record) {
	rec := conformance.Run(context.Background(), sc, c)
	return conformance.Failures(rec), rec
}

var _ = Describe("The bundled scenarios", func() {
	It("number at least 30 and cover at least 30 simulated days", func() {
		Expect(len(bundled)).To(BeNumerically(">=", 30))
		var total time.Duration
		for _, sc := range bundled {
			total += sc.SimDuration()
		}
		Expect(total).To(BeNumerically(">=", 30*24*time.Hour))
	})

	It("use every fault kind, every kind of step and every built-in profile", func() {
		kinds, actions, profiles := map[fault.Kind]bool{}, map[string]bool{}, map[string]bool{}
		for _, sc := range bundled {
			for _, k := range sc.FaultKinds() {
				kinds[k] = true
			}
			for _, st := range sc.Steps {
				actions[st.Action()] = true
			}
			profiles[sc.Profile()] = true
		}
		for _, k := range fault.Kinds() {
			Expect(kinds).To(HaveKey(k))
		}
		for _, a := range scenarios.Actions() {
			Expect(actions).To(HaveKey(a))
		}
		for _, p := range profile.Names() {
			Expect(profiles).To(HaveKey(p))
		}
	})

	entries := []TableEntry{}
	for _, sc := range bundled {
		entries = append(entries, Entry(sc.Name, sc))
	}
	DescribeTable("the reference passes every check of",
		func(sc *scenarios.Scenario) {
			failed, rec := failedChecks(sc, inprocess.Reference("test"))
			if slices.Contains(sc.Requires, contract.CapClientCredentials) {
				Expect(rec.Skipped).To(Equal("the client lacks client_credentials"))
				return
			}
			if sc.NeedsBrowser() {
				// The reference browser token manager is judged in Chromium
				// by clients/browser's specs (make browser-clients).
				Expect(rec.Skipped).To(HavePrefix("the client lacks browser"))
				return
			}
			Expect(rec.Skipped).To(BeEmpty())
			Expect(rec.Err).NotTo(HaveOccurred())
			Expect(failed).To(BeEmpty())
		},
		entries)
})

var _ = Describe("The broken variants", func() {
	entries := []TableEntry{}
	for _, m := range mutants.All() {
		entries = append(entries, Entry(m.Name, m))
	}
	DescribeTable("each fail, in some bundled scenario, the check that targets its bug",
		func(m mutants.Mutant) {
			target := m.Target
			Expect(target).NotTo(BeEmpty(), "no check targets %s", m.Name)
			_, ok := conformance.LookupCheck(target)
			Expect(ok).To(BeTrue(), "the target %q is no check", target)
			for _, sc := range bundled {
				failed, _ := failedChecks(sc, inprocess.Mutant(m, "test"))
				if _, caught := failed[target]; caught {
					GinkgoWriter.Printf("%s fails %s in %s:\n%s", m.Name, target, sc.Name, failed[target])
					return
				}
			}
			Fail(fmt.Sprintf("no bundled scenario makes %s fail %s", m.Name, target))
		},
		entries)
})

// broken is a client under test that cannot be started, hangs, or panics.
type broken struct {
	startErr error
	panics   bool
	caps     []contract.Capability
}

func (b broken) Name() string                        { return "broken" }
func (b broken) Describe() string                    { return "a client that fails" }
func (b broken) Version() string                     { return "0" }
func (b broken) Capabilities() []contract.Capability { return b.caps }
func (b broken) Start(context.Context, conformance.Env) (conformance.Process, error) {
	if b.startErr != nil {
		return nil, b.startErr
	}
	return hung{panics: b.panics}, nil
}

// hung never answers, or panics when asked.
type hung struct{ panics bool }

func (h hung) AuthorizationURL(ctx context.Context) (string, error) {
	if h.panics {
		panic("the client under test fell over")
	}
	<-ctx.Done()
	return "", ctx.Err()
}
func (hung) CompleteAuthorization(ctx context.Context, _ string) (conformance.Result, error) {
	<-ctx.Done()
	return conformance.Result{}, ctx.Err()
}
func (hung) Call(ctx context.Context) (conformance.Result, error)        { select {} }
func (hung) Logout(ctx context.Context) (conformance.Result, error)      { select {} }
func (hung) ServiceCall(ctx context.Context) (conformance.Result, error) { select {} }
func (hung) Reload(context.Context) error                                { return nil }
func (hung) Tick(context.Context) error                                  { return nil }
func (hung) Stop(context.Context) error                                  { return nil }

var _ = Describe("A run", func() {
	var sc *scenarios.Scenario
	BeforeEach(func() {
		var err error
		sc, err = scenarios.Parse("inline.yaml", []byte(`
description: authorize and call
requires: [refresh]
steps:
  - authorize: alice
  - call: {times: 2}
`))
		Expect(err).NotTo(HaveOccurred())
	})

	It("is skipped, with the reason, for a client that lacks a required capability", func() {
		rec := conformance.Run(context.Background(), sc, broken{})
		Expect(rec.Skipped).To(Equal("the client lacks refresh"))
		Expect(rec.Steps).To(BeEmpty())
	})

	It("is an error of the run, not a crash, when the client does not start", func() {
		rec := conformance.Run(context.Background(), sc, broken{startErr: errors.New("exec: no such file"), caps: []contract.Capability{contract.CapRefresh}})
		Expect(rec.Err).To(MatchError(ContainSubstring("exec: no such file")))
	})

	It("is an error of the run when the client hangs, after the operation timeout", func() {
		DeferCleanup(func(d time.Duration) { conformance.OperationTimeout = d }, conformance.OperationTimeout)
		conformance.OperationTimeout = 200 * time.Millisecond
		rec := conformance.Run(context.Background(), sc, broken{caps: []contract.Capability{contract.CapRefresh}})
		Expect(rec.Err).To(MatchError(ContainSubstring("did not answer within 200ms")))
		Expect(rec.Err).To(MatchError(ContainSubstring("step 1 (line 5, authorize as alice)")))
	})

	It("is an error of the run, not a crash of the harness, when the client panics", func() {
		rec := conformance.Run(context.Background(), sc, broken{panics: true, caps: []contract.Capability{contract.CapRefresh}})
		Expect(rec.Err).To(MatchError(ContainSubstring("the client panicked in the authorization: the client under test fell over")))
	})

	It("drives a public client with PKCE and no secret", func() {
		pub, err := scenarios.Parse("public.yaml", []byte(`
description: a public client
client: demo-public
requires: [refresh]
steps:
  - authorize: alice
  - advance: 61m
  - call: {}
`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), pub, inprocess.Reference("test"))
		Expect(rec.Err).NotTo(HaveOccurred())
		Expect(conformance.Failures(rec)).To(BeEmpty())
		Expect(rec.Secrets).To(BeEmpty())
	})

	It("does not count two processes' first attempts during an outage as a storm or as no backoff", func() {
		outage, err := scenarios.Parse("outage.yaml", []byte(`
description: two processes sharing state hit a token endpoint outage at the same instant
requires: [refresh, shared_state]
steps:
  - authorize: alice
  - call: {}
  - advance: 61m
  - fault: {id: down, kind: error, status: 503, match: {endpoint: token, grant_type: refresh_token}}
  - call: {processes: 2}
    expect: temporary_error
  - remove_fault: down
  - advance: 5m
  - call: {}
`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), outage, inprocess.Reference("test"))
		Expect(rec.Err).NotTo(HaveOccurred())
		Expect(conformance.Failures(rec)).To(BeEmpty())
	})

	It("catches a superseded refresh token where the provider detects no reuse", func() {
		lax, err := scenarios.Parse("lax.yaml", []byte(`
description: rotation without reuse detection
provider:
  profile: {base: generic, refresh: {rotation: rotate, reuse_detection: "off"}}
requires: [refresh]
steps:
  - authorize: alice
  - call: {times: 4, every: 61m}
    expect: any
`))
		Expect(err).NotTo(HaveOccurred())
		m, _ := mutants.Lookup("keep_old_refresh_token")
		rec := conformance.Run(context.Background(), lax, inprocess.Mutant(m, "test"))
		Expect(rec.Err).NotTo(HaveOccurred())
		Expect(conformance.Failures(rec)).To(HaveKey(conformance.CheckNoSupersededRefresh))
		Expect(conformance.Failures(conformance.Run(context.Background(), lax, inprocess.Reference("test")))).To(BeEmpty())
	})

	It("runs the sim clock with the wall clock while the client works, so that a slow answer takes its time", func() {
		slow, err := scenarios.Parse("slow.yaml", []byte(`
description: a refresh answered 150 ms late
requires: [refresh]
steps:
  - authorize: alice
  - advance: 61m
  - fault: {kind: latency, delay: 150ms, match: {endpoint: token}}
  - call: {}
`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), slow, inprocess.Reference("test"))
		Expect(rec.Err).NotTo(HaveOccurred())
		call := rec.Steps[3]
		Expect(call.End.Sub(call.Start)).To(BeNumerically(">=", 150*time.Millisecond))
		Expect(call.End.Sub(call.Start)).To(BeNumerically("<", 10*time.Second))
		Expect(rec.Steps[1].End.Sub(rec.Steps[1].Start)).To(BeNumerically("~", 61*time.Minute, time.Second), "an advance still jumps")
		Expect(conformance.Unexercised(rec)).To(BeEmpty())
	})

	It("names the faults that never fired on the client's requests: the scenario did not exercise it", func() {
		idle, err := scenarios.Parse("idle.yaml", []byte(`
description: faults that a client which never logs out cannot meet
requires: [refresh]
steps:
  - authorize: alice
  - fault: {id: revoke-down, kind: error, status: 503, match: {endpoint: revoke}}
  - fault: {kind: skew, offset: 1m}
  - call: {}
`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), idle, inprocess.Reference("test"))
		Expect(rec.Err).NotTo(HaveOccurred())
		Expect(conformance.Failures(rec)).To(BeEmpty())
		Expect(conformance.Unexercised(rec)).To(Equal([]string{"revoke-down (error)"}), "a skew acts on no request, and is never counted")
		Expect(conformance.NotExercised(conformance.Unexercised(rec))).To(ContainSubstring("did not exercise this client"))
	})

	It("does not fault a client for asking the user to sign in after they logged out, though revocation failed", func() {
		out, err := scenarios.Parse("logout.yaml", []byte(`
description: a logout whose revocation the provider refuses
requires: [refresh, logout]
steps:
  - authorize: alice
  - fault: {kind: error, status: 400, oauth_error: invalid_request, match: {endpoint: revoke}}
  - logout: true
    expect: any
  - call: {}
    expect: {outcome: reauthorize, reason: no_grant}
`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), out, inprocess.Reference("test"))
		Expect(rec.Err).NotTo(HaveOccurred())
		Expect(rec.Steps[3].Calls).To(HaveLen(1))
		Expect(rec.Steps[3].Calls[0].Live).To(BeFalse(), "the provider still honours the grant, but the user gave it up")
		Expect(conformance.Failures(rec)).NotTo(HaveKey(conformance.CheckReauthorizeWhenDead))
	})

	It("records each step with its sim time, its calls' outcomes and the events it caused", func() {
		rec := conformance.Run(context.Background(), sc, inprocess.Reference("test"))
		Expect(rec.Err).NotTo(HaveOccurred())
		Expect(rec.Steps).To(HaveLen(2))
		Expect(rec.Steps[0].Calls).To(HaveLen(1))
		Expect(rec.Steps[1].Calls).To(HaveLen(2))
		for _, c := range rec.Steps[1].Calls {
			Expect(c.Outcome).To(Equal(contract.OutcomeOK))
			Expect(c.Live).To(BeTrue())
		}
		Expect(rec.Steps[1].FirstSeq).To(Equal(rec.Steps[0].LastSeq + 1))
		Expect(rec.Tokens).To(HaveLen(3), "a code, an access token and a refresh token")
		Expect(rec.Secrets).To(Equal([]string{"demo-secret"}))
	})
})
