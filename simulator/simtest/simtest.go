// Package simtest holds Gomega matchers over a simulator's event log, for
// Go tests that point a client at oauthsim and then assert what the
// provider saw:
//
//	srv := simulator.NewTestServer(t)
//	// ... run the client under test against srv.URL
//	g := gomega.NewWithT(t)
//	g.Expect(srv).To(simtest.HaveRefreshed(1))
//	g.Expect(srv).To(simtest.PresentNoSupersededRefreshToken())
//
// Each matcher takes a *simulator.Server, a *simulator.Simulator, an
// *events.Log or the []events.Event of one.
package simtest

import (
	"fmt"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// eventsOf reads the events the matchers judge from what they were given.
func eventsOf(actual any) ([]events.Event, error) {
	switch a := actual.(type) {
	case []events.Event:
		return a, nil
	case *events.Log:
		return a.Since(0), nil
	case *simulator.Server:
		return a.Events().Since(0), nil
	case *simulator.Simulator:
		return a.Events().Since(0), nil
	}
	return nil, fmt.Errorf("simtest: want a *simulator.Server, *simulator.Simulator, *events.Log or []events.Event, got %T", actual)
}

// matcher is a Gomega matcher over an event log. It never formats what it
// was given: a live server's struct, walked while its goroutines run, would
// be a data race, and says nothing a reader wants; it says what it saw.
type matcher struct {
	judge func([]events.Event) (bool, string)
	want  string
	saw   string
}

func (m *matcher) Match(actual any) (bool, error) {
	evs, err := eventsOf(actual)
	if err != nil {
		return false, err
	}
	ok, saw := m.judge(evs)
	m.saw = saw
	return ok, nil
}

func (m *matcher) FailureMessage(any) string {
	return fmt.Sprintf("Expected the provider's event log to %s; %s", m.want, m.saw)
}

func (m *matcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected the provider's event log not to %s; %s", m.want, m.saw)
}

// HaveRefreshed succeeds when the provider carried out exactly n refreshes:
// refresh-grant token requests it answered with tokens.
func HaveRefreshed(n int) types.GomegaMatcher {
	return &matcher{want: fmt.Sprintf("show %d refreshes carried out", n), judge: func(evs []events.Event) (bool, string) {
		got := 0
		for _, e := range evs {
			if e.Kind == events.TokenRequest && e.GrantType == "refresh_token" && e.Outcome == events.OutcomeOK {
				got++
			}
		}
		return got == n, fmt.Sprintf("it shows %d", got)
	}}
}

// HaveEvent succeeds when the log has an event of kind, about family when
// family is not empty.
func HaveEvent(kind events.Kind, family string) types.GomegaMatcher {
	want := "have an event " + string(kind)
	if family != "" {
		want += " for family " + family
	}
	return &matcher{want: want, judge: func(evs []events.Event) (bool, string) {
		for _, e := range evs {
			if e.Kind == kind && (family == "" || e.Family == family) {
				return true, fmt.Sprintf("event %d is one", e.Seq)
			}
		}
		return false, fmt.Sprintf("none of its %d events is", len(evs))
	}}
}

// PresentNoSupersededRefreshToken succeeds when no refresh token that a
// rotation had superseded came back outside a grace window: the provider
// detected no reuse.
func PresentNoSupersededRefreshToken() types.GomegaMatcher {
	return &matcher{want: "show no superseded refresh token presented", judge: func(evs []events.Event) (bool, string) {
		var seen []string
		for _, e := range evs {
			if e.Kind == events.RefreshReuseDetected {
				seen = append(seen, fmt.Sprintf("event %d, %s", e.Seq, e.Token))
			}
		}
		if len(seen) == 0 {
			return true, "it shows none"
		}
		return false, "it shows " + strings.Join(seen, "; ")
	}}
}
