package reports

import (
	"fmt"
	"net/url"
	"time"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/simulator/events"
)

// browserMarkers draw what a browser client's tabs did, a lane a tab: the
// pages its top frame loaded and the dashboards it embedded, its requests
// to the provider's token endpoint, the API's 401s, what the browser
// blocked, the tokens posted to "*", and what the application told its
// user.
func browserMarkers(l *contract.BrowserLog, origin time.Time) []marker {
	if l == nil {
		return nil
	}
	var out []marker
	add := func(tab int, at time.Time, class string, s shape, tip string) {
		if tab < 1 || tab > maxTabLanes {
			return
		}
		out = append(out, marker{lane: laneTab + tab - 1, class: class, shape: s, e: events.Event{Time: at}, tip: tip})
	}
	roles := map[string]string{}
	for _, f := range l.Frames {
		roles[f.ID] = f.Role
		switch f.Role {
		case contract.FrameApp:
			add(f.Tab, f.Opened, "page", nabla, fmt.Sprintf("tab %d loaded %s at %s", f.Tab, pathOf(f.URL), exact(f.Opened.Sub(origin))))
		case contract.FrameDashboard:
			add(f.Tab, f.Opened, "frame", square, fmt.Sprintf("tab %d embedded a dashboard from %s at %s", f.Tab, f.Origin, exact(f.Opened.Sub(origin))))
		}
	}
	for _, q := range l.Requests {
		u, err := url.Parse(q.URL)
		if err != nil {
			continue
		}
		what := fmt.Sprintf("%s %s from %s frame", q.Method, u.Path, roleOr(roles[q.Frame]))
		if q.FrameOrigin != "" {
			what += " on " + q.FrameOrigin
		}
		at := exact(q.At.Sub(origin))
		switch {
		case q.Blocked != "":
			add(q.Tab, q.At, "blocked", cross, fmt.Sprintf("the browser blocked %s at %s: %s", what, at, q.Blocked))
		case u.Path == "/oauth2/token" && q.Method == "POST":
			add(q.Tab, q.At, "refresh "+statusClass(q.Status, q.Failed), circle, fmt.Sprintf("%s at %s: %s", what, at, statusText(q.Status, q.Failed)))
		case q.Status == 401:
			add(q.Tab, q.At, "s401", square, fmt.Sprintf("%s at %s: 401", what, at))
		}
	}
	for _, m := range l.Messages {
		if m.TargetOrigin == "*" && !m.Probe {
			add(m.Tab, m.At, "star", triangle, fmt.Sprintf("%s posted a message to %s with targetOrigin \"*\" at %s", m.FromOrigin, m.ToOrigin, exact(m.At.Sub(origin))))
		}
	}
	for _, p := range l.Reports {
		add(p.Tab, p.At, "told", diamond, fmt.Sprintf("the application told the user %s at %s: %s", p.Outcome, exact(p.At.Sub(origin)), p.Detail))
	}
	return out
}

func pathOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Path
	}
	return raw
}

func roleOr(role string) string {
	if role == "" {
		return "a"
	}
	return "the " + role
}

// statusClass styles a token request the browser saw by how it ended, in
// the classes of the provider's own refresh markers.
func statusClass(status int, failed string) string {
	switch {
	case failed != "" || status == 0:
		return events.OutcomeFault
	case status < 400:
		return events.OutcomeOK
	case status < 500:
		return events.OutcomeDenied
	}
	return events.OutcomeError
}

func statusText(status int, failed string) string {
	if failed != "" {
		return failed
	}
	return fmt.Sprint(status)
}
