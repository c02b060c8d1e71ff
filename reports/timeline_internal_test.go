package reports

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/simulator/events"
)

var _ = Describe("A run's timeline", func() {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	var seq uint64
	ev := func(d time.Duration, kind events.Kind, status int) events.Event {
		seq++
		e := events.Event{Seq: seq, Time: start.Add(d), Kind: kind, Status: status, Outcome: events.OutcomeOK}
		if kind == events.TokenRequest {
			e.GrantType, e.Endpoint = "refresh_token", "/oauth2/token"
		}
		return e
	}
	refresh := func(d time.Duration) events.Event { return ev(d, events.TokenRequest, 200) }
	issued := func(d, life time.Duration) events.Event {
		e := ev(d, events.TokenIssued, 0)
		e.TokenType, e.Family, e.Token = "access_token", "fam", fmt.Sprint("at-", seq)
		exp := e.Time.Add(life)
		e.ExpiresAt = &exp
		return e
	}
	// rateLimited is a refresh answered 429 with Retry-After: ra.
	rateLimited := func(d, ra time.Duration) events.Event {
		e := ev(d, events.TokenRequest, 429)
		e.Outcome, e.Fault, e.Detail = events.OutcomeFault, "f1", "answered 429 with Retry-After: "+fmt.Sprint(ra.Seconds())
		at := e.Time.Add(ra)
		e.RetryAt = &at
		return e
	}
	newRun := func(evs ...events.Event) Run {
		return Run{Client: "c", Scenario: "s", SimStart: start, SimEnd: evs[len(evs)-1].Time, Events: evs}
	}
	markOf := func(t *timeline, seq uint64, class string) markView {
		GinkgoHelper()
		for _, m := range t.Marks {
			if m.Seq == seq && strings.Contains(m.Class, class) {
				return m
			}
		}
		Fail(fmt.Sprintf("no %q mark for event #%d", class, seq))
		return markView{}
	}

	Context("of a refresh, 56 quiet minutes, a 429 and a retry half a millisecond after it, then a refresh a minute", func() {
		var t *timeline
		var limited, retry, onTime events.Event
		BeforeEach(func() {
			seq = 0
			first := refresh(0)
			limited = rateLimited(56*time.Minute, 2*time.Minute)
			retry = refresh(56*time.Minute + 500*time.Microsecond)
			onTime = refresh(58 * time.Minute)
			// After the quiet stretch, a refresh a minute for five minutes:
			// each minute is wide enough drawn to scale, which left the
			// stretch at full length and the 429 and the retry one blot.
			t = newTimeline(newRun(
				first, issued(0, time.Hour), limited, retry, issued(56*time.Minute+500*time.Microsecond, time.Hour),
				refresh(57*time.Minute), onTime, refresh(59*time.Minute), refresh(time.Hour), refresh(61*time.Minute),
				ev(62*time.Minute, events.ResourceRequest, 200),
			), start, nil)
		})

		It("shortens the quiet stretch and draws the 429 and the early retry apart", func() {
			var quiet breakView
			for _, b := range t.Breaks {
				if strings.HasPrefix(b.Tip, "56m without an event") {
					quiet = b
				}
			}
			Expect(quiet.Tip).NotTo(BeEmpty(), "a break for the 56 minutes", t.Breaks)
			Expect(float64(quiet.W)).To(BeNumerically("<", 0.25*(tlPlotX1-tlPlotX0)))
			at429 := markOf(t, limited.Seq, "s429").x
			Expect(markOf(t, retry.Seq, "refresh").x-at429).To(BeNumerically(">=", markSep-1e-6), "the retry's mark clears the 429's")
			Expect(markOf(t, limited.Seq, "refresh").x).To(Equal(at429), "a refresh and its 429 one above the other")
			Expect(markOf(t, retry.Seq, "refresh").y).To(Equal(markOf(t, limited.Seq, "refresh").y), "side by side, in one row")
			Expect(at429-tlPlotX0).To(BeNumerically("<", 0.8*(tlPlotX1-tlPlotX0)), "the 429 is not squeezed to the end of the plot")
		})

		It("draws the Retry-After window from the answer to when the client may come back, the early retry inside it", func() {
			Expect(t.Windows).To(HaveLen(1))
			w := t.Windows[0]
			Expect(w.Tip).To(Equal(fmt.Sprintf("#%d 429 answer to token_request /oauth2/token at +56m0s: come back at +58m0s, 2m later\n"+
				"answered 429 with Retry-After: 120", limited.Seq)))
			Expect(float64(w.X)).To(BeNumerically("~", markOf(t, limited.Seq, "s429").x, 0.1))
			Expect(float64(w.X+w.W)).To(BeNumerically("~", markOf(t, onTime.Seq, "refresh").x, 0.1), "it ends where the retry on time is")
			early := markOf(t, retry.Seq, "refresh").x
			Expect(early).To(BeNumerically(">", float64(w.X)))
			Expect(early).To(BeNumerically("<", float64(w.X+w.W)))
			Expect(t.Lanes).To(ContainElement(HaveField("Label", "Retry-After")))
		})
	})

	It("shortens days of quiet among hours of activity, as it does minutes among milliseconds", func() {
		seq = 0
		t := newTimeline(newRun(refresh(0), refresh(time.Hour), refresh(3*time.Hour), refresh(5*time.Hour),
			refresh(12*24*time.Hour), refresh(12*24*time.Hour+2*time.Hour)), start, nil)
		Expect(t.Breaks).To(HaveLen(1))
		Expect(t.Breaks[0].Tip).To(HavePrefix("11d19h without an event"))
	})

	It("draws marks at one instant side by side, in the order they happened", func() {
		seq = 0
		evs := []events.Event{refresh(0)}
		for range 8 {
			e := ev(time.Hour, events.FaultFired, 0)
			e.Fault = "outage"
			evs = append(evs, e)
		}
		t := newTimeline(newRun(append(evs, refresh(2*time.Hour))...), start, nil)
		var faults []markView
		for _, m := range t.Marks {
			if strings.Contains(m.Class, "fault") {
				faults = append(faults, m)
			}
		}
		Expect(faults).To(HaveLen(8))
		for i := 1; i < len(faults); i++ {
			Expect(faults[i].Seq).To(BeNumerically(">", faults[i-1].Seq))
			Expect(faults[i].x-faults[i-1].x).To(BeNumerically(">=", markSep-1e-6), "fault #%d right of #%d, clear of it", faults[i].Seq, faults[i-1].Seq)
			Expect(faults[i].y).To(Equal(faults[0].y), "in one row")
		}
	})

	It("never lets two step labels overlap, and names every step in a label or its tooltip", func() {
		seq = 0
		var steps []Step
		offsets := []time.Duration{0, time.Millisecond, 2 * time.Millisecond, time.Hour, time.Hour, time.Hour,
			time.Hour + time.Millisecond, time.Hour + time.Millisecond, time.Hour + 2*time.Millisecond,
			2 * time.Hour, 2*time.Hour + time.Second, 2*time.Hour + 2*time.Second, 3 * time.Hour}
		for i, d := range offsets {
			steps = append(steps, Step{Index: i, Line: 10 + i, Action: "call", Summary: "step", Start: start.Add(d)})
		}
		run := newRun(refresh(0), refresh(time.Hour), refresh(2*time.Hour), refresh(3*time.Hour))
		run.Steps = steps
		t := newTimeline(run, start, nil)
		Expect(t.Steps).To(HaveLen(len(steps)))
		var tips string
		prevEnd := -1e9
		for _, s := range t.Steps {
			if s.Label == "" {
				continue
			}
			x0, x1 := box(float64(s.X), s.Label, false)
			Expect(x0-prevEnd).To(BeNumerically(">=", labelPadPx), "label %q overlaps the one before", s.Label)
			prevEnd = x1
			tips += s.Tip + "\n" + s.LabelTip + "\n"
		}
		for i := range steps {
			Expect(tips).To(ContainSubstring(fmt.Sprintf("step %d (line %d", i, 10+i)))
		}
		var labels []string
		for _, s := range t.Steps {
			labels = append(labels, s.Label)
		}
		Expect(labels).To(Equal([]string{"0", "1", "2", "3–5", "", "", "6,7", "", "8", "9", "10", "11", "12"}),
			"steps at one instant, and those too close for a label of their own, share one")
	})

	It("of a browser client has a lane per tab, with what each tab did", func() {
		seq = 0
		run := newRun(refresh(0), issued(0, time.Hour), refresh(time.Hour))
		at := func(d time.Duration) time.Time { return start.Add(d) }
		run.Browser = &contract.BrowserLog{
			Frames: []contract.BrowserFrame{
				{ID: "A", Tab: 1, Role: contract.FrameApp, Origin: "http://app.localhost:1", URL: "http://app.localhost:1/", Opened: at(0)},
				{ID: "D", Tab: 1, Role: contract.FrameDashboard, Origin: "http://dash.localhost:2", Opened: at(time.Second)},
				{ID: "B", Tab: 2, Role: contract.FrameApp, Origin: "http://app.localhost:1", URL: "http://app.localhost:1/reports", Opened: at(time.Minute)},
			},
			Requests: []contract.BrowserRequest{
				{At: at(30 * time.Minute), Tab: 2, Frame: "B", Method: "POST", URL: "http://127.0.0.1:3/oauth2/token", Status: 200},
				{At: at(61 * time.Minute), Tab: 1, Frame: "D", Method: "GET", URL: "http://127.0.0.1:3/api/me", Status: 401},
				{At: at(62 * time.Minute), Tab: 1, Frame: "A", Method: "POST", URL: "http://127.0.0.1:3/oauth2/token", Failed: "net::ERR_FAILED", Blocked: "cors: AllowOriginMismatch"},
			},
			Messages: []contract.BrowserMessage{{At: at(2 * time.Minute), Tab: 1, FromOrigin: "http://app.localhost:1", ToOrigin: "http://dash.localhost:2", TargetOrigin: "*"}},
			Reports:  []contract.BrowserReport{{At: at(62 * time.Minute), Tab: 1, Outcome: contract.OutcomeConfigurationError, Detail: "origin not allowed"}},
		}
		t := newTimeline(run, start, nil)
		var lanes []string
		for _, l := range t.Lanes {
			lanes = append(lanes, l.Label)
		}
		Expect(lanes).To(ContainElements("tab 1", "tab 2"))
		var tips []string
		for _, m := range t.Marks {
			tips = append(tips, m.Class+": "+m.Tip)
		}
		Expect(tips).To(ContainElements(
			"m page: tab 1 loaded / at +0s",
			"m page: tab 2 loaded /reports at +1m0s",
			"m frame: tab 1 embedded a dashboard from http://dash.localhost:2 at +1s",
			"m refresh ok: POST /oauth2/token from the app frame at +30m0s: 200",
			"m s401: GET /api/me from the dashboard frame at +1h1m0s: 401",
			"m blocked: the browser blocked POST /oauth2/token from the app frame at +1h2m0s: cors: AllowOriginMismatch",
			`m star: http://app.localhost:1 posted a message to http://dash.localhost:2 with targetOrigin "*" at +2m0s`,
			"m told: the application told the user configuration_error at +1h2m0s: origin not allowed"))
	})
})

var _ = DescribeTable("Step numbers in a label",
	func(indexes []int, want string) { Expect(stepRanges(indexes)).To(Equal(want)) },
	Entry("one", []int{4}, "4"),
	Entry("two in a row stay apart", []int{3, 4}, "3,4"),
	Entry("three or more in a row are a range", []int{3, 4, 5, 7, 8}, "3–5,7,8"),
)
