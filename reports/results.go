// Package reports writes the results of a conformance run: results.json
// (the versioned data everything else is drawn from), junit.xml for CI
// test tabs, index.html (a client × scenario matrix with a timeline of each
// run on the sim-time axis) and summary.md for CI step summaries.
package reports

import (
	"fmt"
	"time"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// SchemaVersion is the version of the results.json format. It changes
// when a field is removed or changes meaning; added fields keep it (so
// expect_fail, unmet and expected_failure, added in version 1, are absent
// from files written before them, which read as no client expected to fail;
// so is a run's metrics, which reads as a run without figures).
const SchemaVersion = "1"

// Statuses of a run and of a check within it.
const (
	// StatusPass: every check held and every expectation was met.
	StatusPass = "pass"
	// StatusFail: a check or an expectation failed.
	StatusFail = "fail"
	// StatusSkip: the run did not happen (the client lacks a capability the
	// scenario needs), or the check had nothing to judge in this run.
	StatusSkip = "skip"
	// StatusError: the harness could not carry the run out (the client
	// crashed or hung, or the simulator refused a step).
	StatusError = "error"
)

// Results is everything one `oauthsim conform` produced.
type Results struct {
	SchemaVersion string `json:"schema_version"`
	// Tool is the oauthsim version that produced the results.
	Tool      string    `json:"tool"`
	StartedAt time.Time `json:"started_at"`
	// Duration is the wall time of the whole run.
	Duration Duration `json:"duration"`
	// LabelFilter is the Ginkgo label filter the run was given: when set,
	// runs may have been judged by some checks only.
	LabelFilter string     `json:"label_filter,omitempty"`
	Clients     []Client   `json:"clients"`
	Scenarios   []Scenario `json:"scenarios"`
	Checks      []Check    `json:"checks"`
	Runs        []Run      `json:"runs"`
}

// Client is one client under test.
type Client struct {
	Name        string `json:"name"`
	Version     string `json:"version,omitempty"`
	Description string `json:"description,omitempty"`
	// Capabilities are what the client declared it can do.
	Capabilities []string `json:"capabilities"`
	// ExpectFail is set when the run was told (--expect-fail) that the
	// client is broken on purpose: its failed runs are expected failures,
	// and it must fail at least one run.
	ExpectFail bool `json:"expect_fail,omitempty"`
	// Unmet says how a client expected to fail did not: it failed no run
	// ("was expected to fail, and passed"), or none on the check written
	// for its bug ("failed, but not on ID, the check written for its
	// bug"). Reports count it as a failure of the client; it is empty for a
	// client that failed as expected, and for one a label filter left
	// without runs.
	Unmet string `json:"unmet,omitempty"`
}

// Scenario is one scenario that was selected.
type Scenario struct {
	Name        string   `json:"name"`
	File        string   `json:"file"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	// Reproduces is the field failure the scenario is modelled on.
	Reproduces string `json:"reproduces,omitempty"`
	Profile    string `json:"profile"`
	// SimDuration is how much sim time the scenario's timeline covers.
	SimDuration Duration `json:"sim_duration"`
}

// Check is one named check: a property of the client's behaviour, judged
// from the simulator's events.
type Check struct {
	ID string `json:"id"`
	// Rationale says in one line which provider behaviour makes it matter.
	Rationale string `json:"rationale"`
}

// Run is one client against one scenario.
type Run struct {
	Client   string `json:"client"`
	Scenario string `json:"scenario"`
	Status   string `json:"status"`
	// Reason says why a run was skipped or could not be carried out.
	Reason string `json:"reason,omitempty"`
	// Duration is the run's wall time.
	Duration Duration `json:"duration"`
	// SimStart and SimEnd bound the run on the sim clock.
	SimStart time.Time `json:"sim_start"`
	SimEnd   time.Time `json:"sim_end"`
	// Checks holds a verdict per check, in the order of Results.Checks, and
	// the scenario's own expectations as the check "expectations".
	Checks []Verdict `json:"checks"`
	Steps  []Step    `json:"steps"`
	// Events is the simulator's event log for the run: the ground truth.
	Events []events.Event `json:"events"`
	// Output is the tail of what the client wrote (its logs), with any
	// token or secret in it masked.
	Output string `json:"output,omitempty"`
	// Unexercised names the scenario's faults that acted on no request of
	// this client ("ID (kind)"). A run whose checks all held is then not a
	// pass: its Status is skip, and Reason says the scenario did not
	// exercise the client.
	Unexercised []string `json:"unexercised,omitempty"`
	// ExpectedFailure marks a failed run of a client expected to fail
	// (Client.ExpectFail): reports show it as an expected failure, and it
	// does not count as a failure. Status stays StatusFail, so that a reader
	// of results.json that knows nothing of expected failures still sees
	// what happened; an errored run is never an expected failure.
	ExpectedFailure bool `json:"expected_failure,omitempty"`
	// Browser is what a browser client's browser did: its tabs and frames,
	// their requests, their postMessages and what the application told its
	// user, every token and secret in them masked.
	Browser *contract.BrowserLog `json:"browser,omitempty"`
	// Metrics are the run's monitoring figures: refresh latency, failure
	// rate and time to refresh. Absent from a run the harness did not carry
	// out, and from files written before they existed.
	Metrics *Metrics `json:"metrics,omitempty"`
}

// Verdict is one check's judgement of one run.
type Verdict struct {
	Check  string `json:"check"`
	Status string `json:"status"`
	// Message says, on failure, what was expected and what happened; on a
	// skip, why the check had nothing to judge.
	Message string `json:"message,omitempty"`
	// Events are the sequence numbers of the events the failure is about.
	Events []uint64 `json:"events,omitempty"`
}

// Step is one step of the scenario's timeline as it was carried out.
type Step struct {
	Index int `json:"index"`
	// Line is the step's line in the scenario file.
	Line int `json:"line"`
	// Action is the step's kind ("call", "advance", "restart"...), and
	// Summary the step in words.
	Action  string    `json:"action"`
	Summary string    `json:"summary"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	// Outcomes are the results of the client calls the step made (several
	// for a repeated or concurrent call), e.g. "ok", "reauthorize".
	Outcomes []Outcome `json:"outcomes,omitempty"`
	// Expected is the outcome the scenario expected, if it said.
	Expected string `json:"expected,omitempty"`
	// Error says why the step failed, when it did.
	Error string `json:"error,omitempty"`
	// Screenshots are a browser client's tabs after the step, as PNG data
	// URLs, when the step went wrong (a call did not end ok, the step
	// failed) or holds an event a failed check points at.
	Screenshots []string `json:"screenshots,omitempty"`
}

// Outcome is how one client call ended.
type Outcome struct {
	Time   time.Time `json:"time"`
	Result string    `json:"result"`
	// Reason qualifies a reauthorize ("revoked", "expired"...).
	Reason string `json:"reason,omitempty"`
	// Detail is the client's own message, masked.
	Detail string `json:"detail,omitempty"`
}

// Duration is a time.Duration that reads and writes as text ("1.5s",
// "720h0m0s"), so that results.json is readable.
type Duration time.Duration

// MarshalText writes d as Go duration text.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads Go duration text.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// Passed reports whether the results hold no failure: every run passed,
// was skipped or failed as expected, and every client expected to fail did.
func (r *Results) Passed() bool {
	return len(r.Problems()) == 0
}

// Problems lists, one line each, what makes the results fail: the clients
// expected to fail that did not, and the failed and errored runs of the
// others, by client.
func (r *Results) Problems() []string {
	var out []string
	failed, errored := map[string]int{}, map[string]int{}
	for _, run := range r.Runs {
		// A status the reports do not know is an error, as the tally
		// counts it: a harness bug must not pass.
		switch st := status(run); {
		case st == StatusError:
			errored[run.Client]++
		case st == StatusFail && !run.ExpectedFailure:
			failed[run.Client]++
		}
	}
	seen := map[string]bool{}
	for _, c := range r.Clients {
		seen[c.Name] = true
		if c.Unmet != "" {
			out = append(out, c.Name+" "+c.Unmet)
		}
		out = append(out, runProblems(c.Name, failed[c.Name], errored[c.Name])...)
	}
	// Runs of a client the results do not list (hand-made results).
	for _, run := range r.Runs {
		if !seen[run.Client] {
			seen[run.Client] = true
			out = append(out, runProblems(run.Client, failed[run.Client], errored[run.Client])...)
		}
	}
	return out
}

func runProblems(client string, failed, errored int) []string {
	var out []string
	if failed > 0 {
		out = append(out, fmt.Sprintf("%s failed %d run(s)", client, failed))
	}
	if errored > 0 {
		out = append(out, fmt.Sprintf("%s: %d run(s) could not be carried out", client, errored))
	}
	return out
}

// MarkExpectedFailures applies --expect-fail to r. expected tells whether a
// client is broken on purpose; target names the check written for its bug
// ("" for none). Each such client gets ExpectFail, its failed runs
// ExpectedFailure, and it gets Unmet when it failed no run, or failed runs
// without ever failing its target check where that check judged one.
func MarkExpectedFailures(r *Results, expected func(client string) bool, target func(client string) string) {
	ran, failed := map[string]int{}, map[string]int{}
	judged, caught := map[string]bool{}, map[string]bool{}
	for i := range r.Runs {
		run := &r.Runs[i]
		if !expected(run.Client) {
			continue
		}
		ran[run.Client]++
		if run.Status == StatusFail {
			run.ExpectedFailure = true
			failed[run.Client]++
		}
		check := target(run.Client)
		for _, v := range run.Checks {
			if check != "" && v.Check == check && v.Status != StatusSkip {
				judged[run.Client] = true
				caught[run.Client] = caught[run.Client] || v.Status == StatusFail
			}
		}
	}
	for i := range r.Clients {
		c := &r.Clients[i]
		if !expected(c.Name) {
			continue
		}
		c.ExpectFail = true
		switch {
		case ran[c.Name] == 0:
			// A label filter left it out: there is nothing to say.
		case failed[c.Name] == 0:
			c.Unmet = "was expected to fail, and passed"
		case judged[c.Name] && !caught[c.Name]:
			c.Unmet = "failed, but not on " + target(c.Name) + ", the check written for its bug"
		}
	}
}
