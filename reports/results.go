// Package reports writes the results of a conformance run: results.json
// (the versioned data everything else is drawn from), junit.xml for CI
// test tabs, index.html (a client × scenario matrix with a timeline of each
// run on the sim-time axis) and summary.md for CI step summaries.
package reports

import (
	"time"

	"github.com/oauthsim/oauthsim/simulator/events"
)

// SchemaVersion is the version of the results.json format. It changes
// when a field is removed or changes meaning; added fields keep it.
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

// Passed reports whether every run passed or was skipped.
func (r *Results) Passed() bool {
	for _, run := range r.Runs {
		if run.Status == StatusFail || run.Status == StatusError {
			return false
		}
	}
	return true
}
