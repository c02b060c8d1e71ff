package reports_test

import (
	"bytes"
	"encoding/xml"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/reports"
)

// The shapes a JUnit reader sees, declared here rather than borrowed from
// the package so that the specs read the file as a CI server would.
type xSuites struct {
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []xSuite `xml:"testsuite"`
}

type xSuite struct {
	Name       string      `xml:"name,attr"`
	Tests      int         `xml:"tests,attr"`
	Failures   int         `xml:"failures,attr"`
	Errors     int         `xml:"errors,attr"`
	Skipped    int         `xml:"skipped,attr"`
	Time       string      `xml:"time,attr"`
	Properties []xProperty `xml:"properties>property"`
	Cases      []xCase     `xml:"testcase"`
}

type xProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xCase struct {
	Name       string      `xml:"name,attr"`
	Classname  string      `xml:"classname,attr"`
	Time       string      `xml:"time,attr"`
	Properties []xProperty `xml:"properties>property"`
	Failures   []xResult   `xml:"failure"`
	Errors     []xResult   `xml:"error"`
	Skipped    []xResult   `xml:"skipped"`
	SystemOut  string      `xml:"system-out"`
}

type xResult struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

var _ = Describe("junit.xml", func() {
	var (
		doc xSuites
		raw string
	)
	BeforeEach(func() {
		var buf bytes.Buffer
		Expect(reports.WriteJUnit(&buf, fixture())).To(Succeed())
		raw = buf.String()
		Expect(raw).To(HavePrefix(`<?xml version="1.0" encoding="UTF-8"?>`))
		doc = xSuites{}
		Expect(xml.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
	})

	It("counts the runs of each client in its suite", func() {
		Expect([]int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped}).To(Equal([]int{6, 1, 1, 1}))
		Expect(doc.Time).To(Equal("95.000"), "the whole run's wall time")
		Expect(doc.Suites).To(HaveLen(2))
		goRef, pyLib := doc.Suites[0], doc.Suites[1]
		Expect(goRef.Name).To(Equal("go-ref"))
		Expect([]int{goRef.Tests, goRef.Failures, goRef.Errors, goRef.Skipped}).To(Equal([]int{3, 1, 0, 0}))
		Expect(goRef.Time).To(Equal("15.500"), "the sum of the suite's runs")
		Expect(pyLib.Name).To(Equal("py-lib"))
		Expect([]int{pyLib.Tests, pyLib.Failures, pyLib.Errors, pyLib.Skipped}).To(Equal([]int{3, 0, 1, 1}))
		Expect(goRef.Properties).To(ContainElement(xProperty{Name: "client.version", Value: "1.2.0"}))
		Expect(pyLib.Properties).To(ContainElement(xProperty{Name: "client.version", Value: "0.9.1"}))
	})

	It("has one testcase per run, named after the scenario and classed by the client", func() {
		var names []string
		for _, s := range doc.Suites {
			for _, c := range s.Cases {
				Expect(c.Classname).To(Equal(s.Name))
				names = append(names, c.Classname+"/"+c.Name)
			}
		}
		Expect(names).To(Equal([]string{
			"go-ref/rotation-basic", "go-ref/refresh-storm", "go-ref/" + hostile,
			"py-lib/rotation-basic", "py-lib/refresh-storm", "py-lib/" + hostile,
		}))
		Expect(doc.Suites[0].Cases[1].Time).To(Equal("12.500"))
	})

	It("types a failure by its first failed check and lists every failed check with why it matters", func() {
		storm := doc.Suites[0].Cases[1]
		Expect(storm.Errors).To(BeEmpty())
		Expect(storm.Skipped).To(BeEmpty())
		Expect(storm.Failures).To(HaveLen(1))
		f := storm.Failures[0]
		Expect(f.Type).To(Equal("single-flight-refresh"))
		Expect(f.Message).To(Equal("3 refreshes at +1h0m1s, at most 1 expected\nthe second one raced the first"))
		Expect(f.Body).To(ContainSubstring("single-flight-refresh: 3 refreshes at +1h0m1s"))
		Expect(f.Body).To(ContainSubstring("backs-off-on-429: retried 0s after a 429 that asked for 30s"))
		Expect(f.Body).To(ContainSubstring("step 4 (line 20, call after a week): expected ok, got reauthorize"))
		Expect(f.Body).To(ContainSubstring("backs-off-on-429: Google & Entra throttle clients that retry at once."))
		Expect(f.Body).NotTo(ContainSubstring("expectations:"), "a check that passed is not listed")
		Expect(storm.SystemOut).To(ContainSubstring("<script>x</script>"), "client output is kept as text")
		Expect(raw).To(ContainSubstring("<![CDATA[single-flight-refresh: 3 refreshes at +1h0m1s, at most 1 expected\nthe second one raced the first\n"), "bodies read as they are")
	})

	It("stays well-formed when a client's log holds what XML cannot", func() {
		r := fixture()
		r.Runs[1].Output = "\x1b[31mERROR\x1b[0m refresh failed ]]> \x00"
		var buf bytes.Buffer
		Expect(reports.WriteJUnit(&buf, r)).To(Succeed())
		var back xSuites
		Expect(xml.Unmarshal(buf.Bytes(), &back)).To(Succeed())
		Expect(back.Suites[0].Cases[1].SystemOut).To(Equal("\uFFFD[31mERROR\uFFFD[0m refresh failed ]]> \uFFFD"))
	})

	It("marks a skipped run skipped and an errored run as an error, with their reasons", func() {
		crashed, skipped, passed := doc.Suites[1].Cases[0], doc.Suites[1].Cases[1], doc.Suites[1].Cases[2]
		Expect(crashed.Errors).To(HaveLen(1))
		Expect(crashed.Errors[0].Message).To(Equal("client crashed: exit status 2"))
		Expect(crashed.Errors[0].Body).To(ContainSubstring("traceback follows"))
		Expect(crashed.Errors[0].Body).To(ContainSubstring("step 0 (line 12, get a token): client exited"))
		Expect(crashed.Failures).To(BeEmpty())
		Expect(skipped.Skipped).To(HaveLen(1))
		Expect(skipped.Skipped[0].Message).To(Equal("client lacks capability concurrency"))
		Expect(skipped.Failures).To(BeEmpty())
		Expect(passed.Failures).To(BeEmpty())
		Expect(passed.Errors).To(BeEmpty())
		Expect(passed.Skipped).To(BeEmpty())
	})
})
