package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The JUnit shapes below follow what CI test tabs (GitHub, GitLab, Jenkins)
// read: a suite per client, a case per scenario, and the failure's type
// naming the check, so that a failure is grouped by what went wrong.
//
// An expected failure (Run.ExpectedFailure) is a <skipped> of type
// "expected-failure", as pytest writes an xfail: every JUnit reader knows
// <skipped> and shows it neutrally, while a reader that knew no other way
// would count a <failure> and turn a green job red. Its message says it was
// expected and which checks failed, and its text holds what a <failure>
// would (GitLab shows that text as the test's details), so nothing is lost;
// <system-out> stays the client's log. A client expected to fail gets one
// more testcase, named expectedCase, which fails when it did not
// (Client.Unmet): junit.xml is then red exactly when conform exits non-zero.

type junitSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	Name    string   `xml:"name,attr"`
	junitTally
	Suites []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name string `xml:"name,attr"`
	junitTally
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

// junitTally is what the whole and each suite say of their runs.
type junitTally struct {
	Tests     int    `xml:"tests,attr"`
	Failures  int    `xml:"failures,attr"`
	Errors    int    `xml:"errors,attr"`
	Skipped   int    `xml:"skipped,attr"`
	Time      string `xml:"time,attr"`
	Timestamp string `xml:"timestamp,attr,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitProblem   `xml:"failure"`
	Error      *junitProblem   `xml:"error"`
	Skipped    *junitSkipped   `xml:"skipped"`
	SystemOut  *junitText      `xml:"system-out"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

// junitText is element text kept as CDATA, so that logs and failure
// bodies read as they are in the file rather than as &#xA; escapes.
type junitText struct {
	Text string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",cdata"`
}

// xfailType is the type of the <skipped> of an expected failure.
const xfailType = "expected-failure"

// expectedCase names the testcase of a client expected to fail that says
// whether it did; expectFailProperty marks that client's suite and each of
// its runs.
const (
	expectedCase       = "expected to fail"
	expectFailProperty = "oauthsim.expect-fail"
)

// WriteJUnit writes r as JUnit XML: a testsuite per client and a testcase
// per run. A failed run's <failure> has the first failed check's id as its
// type and message, and lists every failed check with why it matters; an
// expected failure is a <skipped> that says so (see above), and a client
// expected to fail has a testcase of its own, failed when it did not.
func WriteJUnit(w io.Writer, r *Results) error {
	clients, _ := axes(r)
	why := rationales(r)
	doc := junitSuites{Name: "oauthsim conform", junitTally: junitTally{
		// The runs of different clients overlap, so only the whole run's wall
		// time is true of the whole; each suite sums its own runs.
		Time:      seconds(time.Duration(r.Duration)),
		Timestamp: timestamp(r.StartedAt),
	}}
	suites := make(map[string]*junitSuite, len(clients))
	for _, name := range clients {
		doc.Suites = append(doc.Suites, junitSuite{Name: name, junitTally: junitTally{Timestamp: timestamp(r.StartedAt)}})
	}
	for i, name := range clients {
		suites[name] = &doc.Suites[i]
	}
	expectFail := map[string]bool{}
	for _, c := range r.Clients {
		s := suites[c.Name]
		s.Properties = appendProperty(s.Properties, "client.version", c.Version)
		s.Properties = appendProperty(s.Properties, "client.description", c.Description)
		s.Properties = appendProperty(s.Properties, "client.capabilities", strings.Join(c.Capabilities, ", "))
		s.Properties = appendProperty(s.Properties, "oauthsim.version", r.Tool)
		if c.ExpectFail {
			expectFail[c.Name] = true
			s.Properties = appendProperty(s.Properties, expectFailProperty, "broken on purpose (--expect-fail): its failed runs are expected failures, skipped here")
		}
	}
	wallBySuite := make(map[string]time.Duration, len(clients))
	for _, run := range r.Runs {
		c := junitCase{Name: run.Scenario, Classname: run.Client, Time: seconds(time.Duration(run.Duration))}
		if expectFail[run.Client] {
			c.Properties = appendProperty(nil, expectFailProperty, "true")
		}
		if run.Output != "" {
			c.SystemOut = &junitText{Text: xmlText(run.Output)}
		}
		switch status(run) {
		case StatusFail:
			if run.ExpectedFailure {
				c.Skipped = expectedFailure(run, why)
			} else {
				c.Failure = failure(run, why)
			}
		case StatusSkip:
			c.Skipped = &junitSkipped{Message: run.Reason}
		case StatusError:
			c.Error = &junitProblem{Type: StatusError, Message: firstLine(run.Reason), Body: xmlText(problemBody(run.Reason, run))}
		}
		wallBySuite[run.Client] += time.Duration(run.Duration)
		suites[run.Client].add(c)
	}
	for _, c := range r.Clients {
		// A client a label filter left without runs has nothing to say.
		if c.ExpectFail && len(suites[c.Name].Cases) > 0 {
			suites[c.Name].add(expectation(c))
		}
	}
	for i := range doc.Suites {
		s := &doc.Suites[i]
		s.Time = seconds(wallBySuite[s.Name])
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// add appends c to the suite and counts it, so that the counts are those
// of the testcases a reader sees.
func (s *junitSuite) add(c junitCase) {
	s.Tests++
	switch {
	case c.Failure != nil:
		s.Failures++
	case c.Error != nil:
		s.Errors++
	case c.Skipped != nil:
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

// expectation is the testcase of a client expected to fail (that ran):
// it passes when the client failed as expected, and fails with how it did
// not when it did not.
func expectation(c Client) junitCase {
	k := junitCase{Name: expectedCase, Classname: c.Name, Time: seconds(0),
		Properties: appendProperty(nil, expectFailProperty, "true")}
	if c.Unmet != "" {
		msg := c.Name + " " + c.Unmet
		k.Failure = &junitProblem{Type: "expected-to-fail-and-did-not", Message: msg, Body: xmlText(msg + "\n" +
			"It is broken on purpose (--expect-fail), so its checks should have caught it: either it is not broken the way it was meant to be, " +
			"or a check no longer catches what it was written for.\n")}
	}
	return k
}

// expectedFailure describes a failed run of a client expected to fail: a
// skip that says so, which keeps all that failure would say in its text.
func expectedFailure(run Run, why map[string]string) *junitSkipped {
	var checks []string
	for _, v := range failed(run) {
		checks = append(checks, v.Check)
	}
	msg := fmt.Sprintf("expected failure: %s is broken on purpose (--expect-fail)", run.Client)
	if len(checks) > 0 {
		msg += "; failed checks: " + strings.Join(checks, ", ")
	} else if reason := firstLine(run.Reason); reason != "" {
		msg += "; " + reason
	}
	return &junitSkipped{Type: xfailType, Message: msg, Body: failure(run, why).Body}
}

// failure describes a failed run: typed and titled by its first failed
// check, with every failed check in the body.
func failure(run Run, why map[string]string) *junitProblem {
	bad := failed(run)
	if len(bad) == 0 {
		// The run failed on something no check names; say what we know.
		return &junitProblem{Type: StatusFail, Message: firstLine(run.Reason), Body: xmlText(problemBody(run.Reason, run))}
	}
	var b strings.Builder
	for _, v := range bad {
		fmt.Fprintf(&b, "%s: %s\n", v.Check, v.Message)
	}
	b.WriteString(problemBody("", run))
	var explained bool
	for _, v := range bad {
		if why[v.Check] == "" {
			continue
		}
		if !explained {
			b.WriteString("\nWhy it matters:\n")
			explained = true
		}
		fmt.Fprintf(&b, "  %s: %s\n", v.Check, why[v.Check])
	}
	return &junitProblem{Type: bad[0].Check, Message: bad[0].Message, Body: xmlText(b.String())}
}

// problemBody is head followed by the errors of the steps that failed,
// which often say more than the verdicts about where a run went wrong.
func problemBody(head string, run Run) string {
	var b strings.Builder
	if head != "" {
		b.WriteString(head + "\n")
	}
	for _, s := range run.Steps {
		if s.Error != "" {
			fmt.Fprintf(&b, "step %d (line %d, %s): %s\n", s.Index, s.Line, s.Summary, s.Error)
		}
	}
	return b.String()
}

// xmlText replaces what XML 1.0 cannot hold, such as the escape codes of a
// coloured client log, which encoding/xml writes into CDATA as it is and
// which would make the whole file unreadable to a CI server.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}

func appendProperty(props []junitProperty, name, value string) []junitProperty {
	if value == "" {
		return props
	}
	return append(props, junitProperty{Name: name, Value: value})
}

// seconds is a JUnit time attribute: seconds with millisecond precision.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// timestamp is a JUnit timestamp, which readers expect without a zone.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}
