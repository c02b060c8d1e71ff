package conformance

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/reports"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// Plan is what one conformance run covers.
type Plan struct {
	Clients   []Client
	Scenarios []*scenarios.Scenario
	// Tool is oauthsim's version, for the results.
	Tool string
	// LabelFilter is the Ginkgo label filter in force: it selects the runs
	// and checks, and the results record it.
	LabelFilter string
	// Progress, when set, is told of each run as it ends.
	Progress *Progress
}

// Suite collects the results of the specs Define declared.
type Suite struct {
	plan    Plan
	started time.Time

	// selected are the runs the label filter selects, by key.
	selected map[string]bool

	mu   sync.Mutex
	runs map[string]*reports.Run
	// reported counts the specs of each run Ginkgo has reported on,
	// selected or not: the run is over when all its checks' are in.
	reported map[string]int
	// problems are failures of the suite itself, not of a client.
	problems []string
}

// CheckLabel is the Ginkgo label of a check's specs: filter with
// --label-filter 'check:no-expired-access-token', or several with
// 'check: containsAny {no-expired-access-token, honours-retry-after}'.
func CheckLabel(id string) string { return "check:" + id }

// ClientLabel is the Ginkgo label of a client's specs: "client:" and the
// name, with each character a label or a label filter cannot hold
// (anything but letters, digits and ._:#@+-) made a ".". "mutant/x" is
// client:mutant.x.
func ClientLabel(name string) string {
	return "client:" + strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._:#@+-", r) {
			return r
		}
		return '.'
	}, name)
}

// Define declares the Ginkgo specs of plan: per client and scenario an
// Ordered container whose BeforeAll carries the run out, and in it one spec
// per check that judges the run. Call it before RunSpecs. Labels are the
// scenario's tags, the client's ClientLabel and each check's CheckLabel, so
// that a label filter selects clients, tags and checks. An error is a label
// filter that does not parse.
func Define(plan Plan) (*Suite, error) {
	filter, err := types.ParseLabelFilter(plan.LabelFilter)
	if err != nil {
		return nil, err
	}
	s := &Suite{plan: plan, started: time.Now(), selected: map[string]bool{}, runs: map[string]*reports.Run{}, reported: map[string]int{}}
	// Ginkgo selects specs by the labels of the spec and its containers;
	// the same test here tells the runs that will happen before any does.
	for _, c := range plan.Clients {
		for _, sc := range plan.Scenarios {
			labels := append([]string{ClientLabel(c.Name())}, sc.Tags...)
			if slices.ContainsFunc(Checks(), func(check Check) bool { return filter(append(labels, CheckLabel(check.ID))) }) {
				s.selected[key(c.Name(), sc.Name)] = true
			}
		}
	}
	if plan.Progress != nil {
		plan.Progress.total = len(s.selected)
	}
	// The checks' assertions are Gomega's; outside go test nobody else
	// wires them to Ginkgo.
	RegisterFailHandler(Fail)
	ReportAfterEach(s.reported1)
	ReportAfterSuite("oauthsim conformance", func(r Report) {
		s.mu.Lock()
		defer s.mu.Unlock()
		// An interrupt, a timeout of the whole suite.
		s.problems = append(s.problems, r.SpecialSuiteFailureReasons...)
	})
	for _, c := range plan.Clients {
		Describe(c.Name(), Label(ClientLabel(c.Name())), func() {
			for _, sc := range plan.Scenarios {
				s.defineRun(c, sc)
			}
		})
	}
	return s, nil
}

// Problems are the failures of the suite itself, apart from any client's:
// an interrupt, a check that panicked. Read them after RunSpecs.
func (s *Suite) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.problems)
}

// Selected is how many runs (client × scenario) the label filter selects.
func (s *Suite) Selected() int { return len(s.selected) }

// reported1 counts a spec Ginkgo reports on, and tells Progress of its run
// when that was the run's last. Ginkgo reports on every spec, those its
// label filter left out too, and runs an Ordered container's specs
// together, so the count reaches the number of checks as the run ends.
func (s *Suite) reported1(spec SpecReport) {
	if len(spec.ContainerHierarchyTexts) != 2 {
		return
	}
	k := key(spec.ContainerHierarchyTexts[0], spec.ContainerHierarchyTexts[1])
	s.mu.Lock()
	if spec.State.Is(types.SpecStatePanicked | types.SpecStateAborted | types.SpecStateTimedout) {
		// A check's verdict fails by Fail; this is the harness breaking.
		s.problems = append(s.problems, fmt.Sprintf("%s × %s, check %s: %s: %s",
			spec.ContainerHierarchyTexts[0], spec.ContainerHierarchyTexts[1], spec.LeafNodeText, spec.State, firstLineOf(spec.Failure.Message)))
	}
	s.reported[k]++
	over := s.reported[k] == len(Checks())
	run, ran := s.runs[k]
	var final reports.Run
	if ran {
		final = settle(*run)
	}
	s.mu.Unlock()
	if over && ran && s.plan.Progress != nil {
		s.plan.Progress.Done(final)
	}
}

func (s *Suite) defineRun(c Client, sc *scenarios.Scenario) {
	// Ordered: the checks judge the one run BeforeAll made; and each check
	// is judged even when another failed.
	Describe(sc.Name, Ordered, ContinueOnFailure, Label(sc.Tags...), func() {
		var rec *Record
		BeforeAll(func(ctx SpecContext) {
			By(fmt.Sprintf("running %s (%s) against %s", sc.Name, sc.File, c.Name()))
			rec = Run(ctx, sc, c)
			if un := s.begin(rec); len(un) > 0 {
				AddReportEntry("not exercised", NotExercised(un))
			}
			if rec.Skipped != "" {
				Skip(rec.Skipped)
			}
		})
		for _, check := range Checks() {
			It(check.ID, Label(CheckLabel(check.ID)), func() {
				if rec.Err != nil {
					msg := rec.Mask(rec.Err.Error())
					s.verdict(rec, reports.Verdict{Check: check.ID, Status: reports.StatusError, Message: msg})
					Fail(fmt.Sprintf("the run could not be carried out: %s\n%s", msg, rec.outputTail()))
				}
				if why, waived := sc.Waive[check.ID]; waived {
					s.verdict(rec, reports.Verdict{Check: check.ID, Status: reports.StatusSkip, Message: "waived: " + why})
					Skip("waived: " + why)
				}
				j := check.Judge(rec)
				if !j.Applies {
					s.verdict(rec, reports.Verdict{Check: check.ID, Status: reports.StatusSkip, Message: "nothing to judge in this run"})
					Skip("nothing to judge in this run")
				}
				v := reports.Verdict{Check: check.ID, Status: reports.StatusPass, Events: j.Events}
				if !j.Passed() {
					v.Status, v.Message = reports.StatusFail, strings.Join(j.Failures, "\n")
				}
				s.verdict(rec, v)
				Expect(j.Failures).To(BeEmpty(), func() string { return failure(check, rec, j) })
			})
		}
	})
}

// failure is a failed check's message: the check and why it matters, what
// happened, and the events around it.
func failure(c Check, r *Record, j Judgement) string {
	msg := fmt.Sprintf("%s: %s\n%s (%s) against %s broke it:\n  %s",
		c.ID, c.Rationale, r.Scenario.Name, r.Scenario.File, r.Client.Name(), strings.Join(j.Failures, "\n  "))
	if around := Around(r, j.Events, 3); around != "" {
		msg += "\nEvents around it (=> marks the violations):\n" + around
	}
	return msg
}

func key(client, scenario string) string { return client + "\x00" + scenario }

// begin records a run's data when its BeforeAll has carried it out, and
// returns the faults of a run carried out that never met the client.
func (s *Suite) begin(r *Record) []string {
	run := &reports.Run{
		Client:   r.Client.Name(),
		Scenario: r.Scenario.Name,
		Status:   reports.StatusPass,
		Duration: reports.Duration(r.Wall),
		SimStart: r.SimStart,
		SimEnd:   r.SimEnd,
		Events:   append([]events.Event{}, r.Events...), // [] rather than null for a skipped run
		Output:   r.outputTail(),
		Checks:   []reports.Verdict{},
		Steps:    []reports.Step{},
		Metrics:  Metrics(r),
	}
	switch {
	case r.Skipped != "":
		run.Status, run.Reason = reports.StatusSkip, r.Skipped
	case r.Err != nil:
		run.Status, run.Reason = reports.StatusError, r.Mask(r.Err.Error())
	default:
		run.Unexercised = Unexercised(r)
	}
	for _, st := range r.Steps {
		step := reports.Step{Index: st.Index, Line: st.Step.Line, Action: st.Step.Action(), Summary: st.Step.Summary(), Start: st.Start, End: st.End}
		if want, ok := st.Step.Expected(); ok {
			step.Expected = want.String()
		}
		if st.Err != nil {
			step.Error = r.Mask(st.Err.Error())
		}
		for _, c := range st.Calls {
			step.Outcomes = append(step.Outcomes, reports.Outcome{Time: c.Time, Result: string(c.Outcome), Reason: string(c.Reason), Detail: r.Mask(c.Detail)})
		}
		run.Steps = append(run.Steps, step)
	}
	showShots(run, r, nil)
	run.Browser = r.maskedBrowser()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs[key(run.Client, run.Scenario)] = run
	return run.Unexercised
}

// verdict adds a check's verdict to its run, and fails the run with it.
func (s *Suite) verdict(r *Record, v reports.Verdict) {
	s.mu.Lock()
	defer s.mu.Unlock()
	run := s.runs[key(r.Client.Name(), r.Scenario.Name)]
	run.Checks = append(run.Checks, v)
	if v.Status == reports.StatusFail && run.Status == reports.StatusPass {
		run.Status = reports.StatusFail
	}
	if v.Status == reports.StatusFail {
		showShots(run, r, v.Events)
	}
}

// Results are the results of the specs that ran, with the plan's clients,
// scenarios and checks. Runs come in one order whatever order Ginkgo ran
// them in: by client in the plan's order, then by scenario name; so do the
// scenarios.
func (s *Suite) Results() *reports.Results {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := &reports.Results{
		SchemaVersion: reports.SchemaVersion,
		Tool:          s.plan.Tool,
		StartedAt:     s.started.UTC(),
		Duration:      reports.Duration(time.Since(s.started)),
		LabelFilter:   s.plan.LabelFilter,
		Clients:       []reports.Client{},
		Scenarios:     []reports.Scenario{},
		Checks:        []reports.Check{},
		Runs:          []reports.Run{},
	}
	for _, c := range s.plan.Clients {
		caps := []string{}
		for _, cap := range c.Capabilities() {
			caps = append(caps, string(cap))
		}
		res.Clients = append(res.Clients, reports.Client{Name: c.Name(), Version: c.Version(), Description: c.Describe(), Capabilities: caps})
	}
	for _, sc := range s.plan.Scenarios {
		res.Scenarios = append(res.Scenarios, ScenarioInfo(sc))
	}
	slices.SortStableFunc(res.Scenarios, func(a, b reports.Scenario) int { return strings.Compare(a.Name, b.Name) })
	for _, c := range Checks() {
		res.Checks = append(res.Checks, reports.Check{ID: c.ID, Rationale: c.Rationale})
	}
	for _, run := range s.runs {
		res.Runs = append(res.Runs, settle(*run))
	}
	client := func(name string) int {
		return slices.IndexFunc(s.plan.Clients, func(c Client) bool { return c.Name() == name })
	}
	slices.SortFunc(res.Runs, func(a, b reports.Run) int {
		return cmp.Or(cmp.Compare(client(a.Client), client(b.Client)), strings.Compare(a.Scenario, b.Scenario))
	})
	return res
}

// settle is run as the results give it once its checks are judged: a run
// whose checks held is no pass when a fault of its scenario never met it.
func settle(run reports.Run) reports.Run {
	if run.Status == reports.StatusPass && len(run.Unexercised) > 0 {
		run.Status, run.Reason = reports.StatusSkip, NotExercised(run.Unexercised)
	}
	return run
}

// NotExercised is why a run whose checks held is no pass: faults of the
// scenario never acted on this client's requests.
func NotExercised(faults []string) string {
	return fmt.Sprintf("this scenario did not exercise this client: fault %s never fired on its requests", strings.Join(faults, ", "))
}

// ScenarioInfo is a scenario as the reports describe it.
func ScenarioInfo(sc *scenarios.Scenario) reports.Scenario {
	tags := sc.Tags
	if tags == nil {
		tags = []string{}
	}
	return reports.Scenario{Name: sc.Name, File: sc.File, Description: strings.TrimSpace(sc.Description), Tags: tags,
		Reproduces: sc.Reproduces, Profile: sc.Profile(), SimDuration: reports.Duration(sc.SimDuration())}
}
