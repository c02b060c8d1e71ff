package browser

import (
	"embed"
	"io/fs"
	"slices"

	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/conformance/checkid"
)

//go:embed tm/*.js
var builtin embed.FS

// Mutant is a broken variant of the reference browser token manager: one
// bug taken from the field reports' own advice, and the check written to
// catch it.
type Mutant struct {
	// Name is the client's name after "browser/mutant/".
	Name, File, Bug, Target string
}

// Mutants lists the browser mutants, in the order reports show them.
func Mutants() []Mutant {
	return []Mutant{
		{"timer-only", "mutant-timer-only.js", "refreshes only by a setTimeout at 80% of the lifetime; never checks expiry when a token is asked for", checkid.BrowserNoBlankDashboard},
		{"token-in-src", "mutant-token-in-src.js", "hands dashboards the access token in their iframe src, and sets src again after each refresh", checkid.BrowserNoTokenInURL},
		{"postmessage-star", "mutant-postmessage-star.js", "posts tokens with targetOrigin \"*\", and its dashboards take messages from any origin", checkid.BrowserExactOrigin},
		{"manager-per-dashboard", "mutant-manager-per-dashboard.js", "one token manager per dashboard, each with its own timer and tokens: a refresh per dashboard", checkid.BrowserOneRefresh},
		{"session-storage", "mutant-session-storage.js", "keeps tokens in sessionStorage only, with no lock across tabs: every tab refreshes", checkid.BrowserOneRefresh},
		{"swallow", "mutant-swallow.js", "swallows a failed refresh and hands the dashboards the stale token: they go blank and nobody is told", checkid.BrowserReportsConfig},
		{"memory-only", "mutant-memory-only.js", "keeps the access token in memory only: every page navigation refreshes though the cached one was valid", checkid.BrowserNavigationReuses},
		{"refresh-token-to-dashboards", "mutant-refresh-token-to-dashboards.js", "posts the whole token answer, refresh token included, to the dashboards (to their exact origin)", checkid.BrowserRefreshStaysInApp},
	}
}

// LookupMutant finds a browser mutant by name.
func LookupMutant(name string) (Mutant, bool) {
	i := slices.IndexFunc(Mutants(), func(m Mutant) bool { return m.Name == name })
	if i < 0 {
		return Mutant{}, false
	}
	return Mutants()[i], true
}

// Builtin lists the built-in browser clients: the reference browser token
// manager, its backend-for-frontend variant and the mutants.
func Builtin(version string) []conformance.Client {
	dir, err := fs.Sub(builtin, "tm")
	if err != nil {
		panic(err) // the embedded directory is there, or this does not build
	}
	out := []conformance.Client{
		NewFS("browser/reference", dir, "reference.js", WithVersion(version),
			WithDescription("the reference browser token manager (clients/browser/tm/reference.js)")),
		NewFS("browser/bff", dir, "bff.js", WithVersion(version), WithBFF(),
			WithDescription("the reference's backend-for-frontend variant: the application's server holds the grant (clients/browser/tm/bff.js, BFF.md)")),
	}
	for _, m := range Mutants() {
		out = append(out, NewFS("browser/mutant/"+m.Name, dir, m.File, WithVersion(version), WithDescription("the reference browser token manager, but "+m.Bug)))
	}
	return out
}
