// Package checkid names the conformance checks: the ids that reports,
// label filters, scenario waivers and the mutants' targets refer to. It
// imports nothing, so that the scenario loader can tell a waiver of a
// misspelt check from a real one without the harness registering its
// checks first; package conformance holds what each check judges.
package checkid

// The check ids, stable across versions.
const (
	Expectations         = "expectations"
	NoExpiredAccessToken = "no-expired-access-token"
	NoSupersededRefresh  = "no-superseded-refresh-token"
	SingleRefresh        = "one-refresh-for-concurrent-callers"
	RetryAfter           = "honours-retry-after"
	Backoff              = "backs-off-after-failure"
	NoRefreshAfterDead   = "no-refresh-after-invalid-grant"
	ReauthorizeWhenDead  = "reauthorize-exactly-when-dead"
	NoSecretsInOutput    = "no-token-or-secret-in-output"
	NoRetiredSecret      = "no-retired-client-secret-reuse"
	AsksForOfflineAccess = "asks-for-offline-access"
	NoNeedlessRefresh    = "no-refresh-of-a-fresh-token"
	NoRefreshLoop        = "no-refresh-loop-on-401"
	APIRetryAfter        = "honours-api-retry-after"
	KeepsOfflineAccess   = "refresh-keeps-offline-access"
	CallbackState        = "verifies-callback-state"
	PKCE                 = "uses-pkce-s256"
	Nonce                = "checks-id-token-nonce"
	NoPlainTextAtRest    = "no-plain-text-token-at-rest"
	OwningClient         = "refresh-with-the-owning-client"

	BrowserNoBlankDashboard  = "browser-no-dashboard-401"
	BrowserOneRefresh        = "browser-one-refresh-across-frames"
	BrowserNoTokenInURL      = "browser-no-token-in-url"
	BrowserExactOrigin       = "browser-postmessage-exact-origin"
	BrowserRefreshStaysInApp = "browser-refresh-token-stays-in-app"
	BrowserReportsConfig     = "browser-reports-configuration-problem"
	BrowserNavigationReuses  = "browser-navigation-reuses-token"
)

// All lists every check id, in the order reports show the checks.
func All() []string {
	return []string{Expectations, NoExpiredAccessToken, NoSupersededRefresh, SingleRefresh, RetryAfter, Backoff,
		NoRefreshAfterDead, ReauthorizeWhenDead, NoSecretsInOutput, NoRetiredSecret, AsksForOfflineAccess,
		NoNeedlessRefresh, NoRefreshLoop, APIRetryAfter, KeepsOfflineAccess, CallbackState, PKCE, Nonce, NoPlainTextAtRest, OwningClient,
		BrowserNoBlankDashboard, BrowserOneRefresh, BrowserNoTokenInURL, BrowserExactOrigin, BrowserRefreshStaysInApp,
		BrowserReportsConfig, BrowserNavigationReuses}
}
