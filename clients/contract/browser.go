package contract

import "time"

// CapBrowser: the client is a web application in a browser, run by
// oauthsim's browser runner (package clients/browser): it takes the
// browser steps (tabs, navigation, suspend, an origin move, third-party
// cookies) and its browser is observed (BrowserLog). A client speaking this
// protocol from a process of its own never lists it.
const CapBrowser Capability = "browser"

// CapSPA: a browser client whose pages redeem codes and refresh tokens
// themselves, cross-origin: a single-page application. One whose own
// server does (a backend-for-frontend) lacks it, and scenarios about the
// provider's rules for pages (CORS on the token endpoint, Entra's spa
// redemption) are skipped for it.
const CapSPA Capability = "spa"

// The host names of a browser client's application, before and after an
// origin move (Chromium resolves every *.localhost to loopback). A
// scenario registers them without a port; a run gives them the client's.
const (
	BrowserAppHost      = "app.localhost"
	BrowserMovedAppHost = "app2.localhost"
)

// BrowserLog is what the browser runner observed of a browser client from
// the start of its process: the tabs and frames it opened, every request
// they made (read from the DevTools protocol's network events), every
// postMessage a frame sent (read by instrumenting window.postMessage in
// every frame), and what the application told its user. Times are sim
// times. Nothing in it is masked: the harness masks credentials before a
// report shows any of it.
type BrowserLog struct {
	Frames   []BrowserFrame   `json:"frames,omitempty"`
	Requests []BrowserRequest `json:"requests,omitempty"`
	Messages []BrowserMessage `json:"messages,omitempty"`
	Reports  []BrowserReport  `json:"reports,omitempty"`
}

// The roles of a frame.
const (
	// FrameApp is a tab's top frame: the application, on the app origin.
	FrameApp = "app"
	// FrameDashboard is an embedded dashboard, on the dashboard origin.
	FrameDashboard = "dashboard"
	// FrameProbe is the harness's own frame, on a third origin, which
	// sends dashboards messages they must refuse.
	FrameProbe = "probe"
	// FrameOther is any other frame (a hidden iframe of a silent
	// renewal, say).
	FrameOther = "other"
)

// BrowserFrame is one frame of a tab, from the moment a document was
// committed in it to the moment it went away (zero while it lives). A
// navigation of a frame is a new BrowserFrame with the same ID.
type BrowserFrame struct {
	ID     string    `json:"id"`
	Tab    int       `json:"tab"`
	Role   string    `json:"role"`
	Origin string    `json:"origin"`
	URL    string    `json:"url"`
	Opened time.Time `json:"opened"`
	Closed time.Time `json:"closed,omitzero"`
}

// BrowserRequest is one request a frame made, as the browser sent it, and
// how it ended: a status, or the reason it failed (the browser's error
// text, and what blocked it: a CORS refusal, say).
type BrowserRequest struct {
	At          time.Time `json:"at"`
	Tab         int       `json:"tab"`
	Frame       string    `json:"frame,omitempty"`
	FrameOrigin string    `json:"frame_origin,omitempty"`
	// Type is the DevTools resource type: Document, Fetch, XHR, Script...
	Type    string `json:"type"`
	Method  string `json:"method"`
	URL     string `json:"url"`
	Referer string `json:"referer,omitempty"`
	// Authorization is the request's Authorization header, as sent.
	Authorization string `json:"authorization,omitempty"`
	// Body is the request body, as sent (a form's fields, say); cut at
	// 16 KiB.
	Body    string `json:"body,omitempty"`
	Status  int    `json:"status,omitempty"`
	Failed  string `json:"failed,omitempty"`
	Blocked string `json:"blocked,omitempty"`
}

// BrowserMessage is one window.postMessage call, as the sending frame made
// it: the target window's origin and the targetOrigin it named ("*", an
// origin, or "/"), with the message serialized as JSON (cut at 16 KiB).
type BrowserMessage struct {
	At           time.Time `json:"at"`
	Tab          int       `json:"tab"`
	From         string    `json:"from"`
	FromOrigin   string    `json:"from_origin"`
	To           string    `json:"to,omitempty"`
	ToOrigin     string    `json:"to_origin,omitempty"`
	TargetOrigin string    `json:"target_origin"`
	Data         string    `json:"data"`
	// Probe marks the messages the harness's probe frame sent.
	Probe bool `json:"probe,omitempty"`
}

// BrowserReport is something the application told its user: a problem
// shown in a banner, an error page. Outcome says which kind, in the
// protocol's words.
type BrowserReport struct {
	At      time.Time `json:"at"`
	Tab     int       `json:"tab"`
	Outcome Outcome   `json:"outcome"`
	Reason  Reason    `json:"reason,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// BrowserSetup is how a scenario sets the browser up: how many tabs of the
// application are open at the start, how many dashboards each embeds, and
// whether the browser blocks third-party cookies.
type BrowserSetup struct {
	Tabs       int `json:"tabs,omitempty" yaml:"tabs" example:"1"`
	Dashboards int `json:"dashboards,omitempty" yaml:"dashboards" example:"3"`
	// ThirdPartyCookies is ThirdPartyCookiesAllowed (the default) or
	// ThirdPartyCookiesBlocked.
	ThirdPartyCookies string `json:"third_party_cookies,omitempty" yaml:"third_party_cookies" example:"blocked"`
}

// The third-party cookie settings of a browser.
const (
	ThirdPartyCookiesAllowed = "allowed"
	ThirdPartyCookiesBlocked = "blocked"
)

// The kinds of a BrowserAction.
const (
	// BrowseOpenTab opens another tab of the application, with Dashboards
	// dashboards (the scenario's number when zero).
	BrowseOpenTab = "open_tab"
	// BrowseCloseTab closes tab Tab.
	BrowseCloseTab = "close_tab"
	// BrowseNavigate navigates tab Tab to another page of the application:
	// what the page kept in memory is gone, its sessionStorage and
	// localStorage stay.
	BrowseNavigate = "navigate"
	// BrowseHideTab and BrowseShowTab put tab Tab in the background and
	// back: Chromium throttles a hidden page's timers.
	BrowseHideTab = "hide_tab"
	BrowseShowTab = "show_tab"
	// BrowseMoveOrigin deploys the application on a new origin (the
	// harness moves its registration there): a tab already open stays on
	// the old origin, and what loads from then on comes from the new one.
	BrowseMoveOrigin = "move_origin"
	// BrowseThirdPartyCookies sets the browser's third-party cookie
	// setting to Value.
	BrowseThirdPartyCookies = "third_party_cookies"
)

// BrowserAction is a browser step of a scenario. Tab counts from 1, in the
// order tabs were opened, closed ones included.
type BrowserAction struct {
	Kind       string `json:"kind"`
	Tab        int    `json:"tab,omitempty"`
	Dashboards int    `json:"dashboards,omitempty"`
	Value      string `json:"value,omitempty"`
}
