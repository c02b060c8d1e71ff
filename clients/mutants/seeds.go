package mutants

import "github.com/oauthsim/oauthsim/clients/internal/flaw"

// Seed is the passage of a field report a flaw reproduces.
type Seed struct {
	// File is the report's file name in shared/seeds.
	File string
	// Passage quotes the report, at most two sentences, verbatim.
	Passage string
}

// The report files in shared/seeds. 001 repeats the final answer of 000
// word for word, so passages found in both cite 000.
const (
	seedModeEmbed = "000_387969a1fe2d46f4.txt"
	seedOracleIoT = "002_50b4efa6f8e48c4f.txt"
	seedTwigOAuth = "003_ab6f4a4c33f62edb.txt"
)

// seeds maps each flaw to the passage it reproduces.
var seeds = map[flaw.Flaw]Seed{
	flaw.RefreshOnlyOn401: {
		File: seedTwigOAuth,
		Passage: `Lazy (current):
→ API call fails with 401
→ Detect expiry
→ Refresh token
→ Retry API call`,
	},
	flaw.KeepOldRefreshToken: {
		File: seedTwigOAuth,
		Passage: `If Twig doesn't update stored refresh token:
→ Next refresh attempts with "refresh1"
→ Error: "invalid_grant"
→ Integration breaks permanently`,
	},
	// No report shows a grant lost on restart; this is the availability
	// requirement ("survive server restarts") that a store-less manager breaks.
	flaw.MemoryOnly: {
		File: seedTwigOAuth,
		Passage: `Availability:
→ Must survive server restarts`,
	},
	flaw.NoSingleFlight: {
		File:    seedModeEmbed,
		Passage: "Another consideration: if you have multiple embedded dashboards on the same page, they might all try to refresh tokens simultaneously, causing race conditions or rate limiting. Implement a singleton token manager that coordinates refresh across all embedded components.",
	},
	// No report shows a client retrying invalid_grant; this passage states
	// that invalid_grant is permanent (no automatic recovery, the user must
	// reauthorize), which a retrying client treats as transient.
	flaw.RetryAfterInvalidGrant: {
		File: seedTwigOAuth,
		Passage: `→ Attempts refresh
→ Error: "invalid_grant"
→ No way to recover automatically
→ Must prompt user to reauthorize`,
	},
	// No report mentions Retry-After or an immediate retry; this is the
	// general advice to back off when rate-limited, which the flaw ignores.
	flaw.IgnoreRetryAfter: {
		File:    seedModeEmbed,
		Passage: "If you’re hitting rate limits, implement exponential backoff and consider requesting longer-lived tokens (2-4 hours instead of 1 hour) to reduce refresh frequency.",
	},
	// The refresh token vanishing from the store after a failed refresh; the
	// report does not say whether that failure was transient.
	flaw.DiscardRefreshOnError: {
		File:    seedTwigOAuth,
		Passage: "✗ Stored refresh token: null (disappeared?)",
	},
	// The same line: Google answers a user's later sign-ins without a
	// refresh token, and a client that stores the answer as it comes is left
	// with none.
	flaw.LoseRefreshTokenOnReauthorization: {
		File:    seedTwigOAuth,
		Passage: "✗ Stored refresh token: null (disappeared?)",
	},
	flaw.NoExpiryMargin: {
		File: seedTwigOAuth,
		Passage: `→ Provider's clock is off by 5 minutes
→ Token expires 5 minutes early from Twig's perspective`,
	},
	// No report shows a refresh before every call; this is the expiry check
	// before each API call whose "< 10 min remaining" condition the flaw drops.
	flaw.RefreshEveryCall: {
		File: seedTwigOAuth,
		Passage: `→ Check expiry before API call
→ If < 10 min remaining: refresh proactively`,
	},
	flaw.ForgetOfflineAccess: {
		File:    seedTwigOAuth,
		Passage: "Common mistake: Forgetting access_type=offline",
	},
	// No report shows tokens in a log; this is the storage-security rule the
	// flaw breaks.
	flaw.LogsTokens: {
		File:    seedTwigOAuth,
		Passage: "→ Never log refresh tokens",
	},
	flaw.NoSecretReload: {
		File: seedTwigOAuth,
		Passage: `→ Old secret "secret456" invalidated
→ All existing refresh attempts with old secret fail`,
	},
	// No report shows an error body under HTTP 200; this symptom (a refresh
	// that "succeeds" yet leaves the client without a working access token)
	// is what taking an error-in-200 for a token response produces.
	flaw.ErrorIn200IsSuccess: {
		File:    seedTwigOAuth,
		Passage: "Token refresh succeeds but still get 401 errors",
	},
	flaw.NoStoreLock: {
		File: seedTwigOAuth,
		Passage: `Process B (concurrent):
1. Access token expired (same time)
2. Refresh with refresh1 → get token3, refresh3
3. Make API call with token3
4. Store refresh3 (overwrites refresh2)`,
	},
	// No report mentions a lost refresh response or a grace window; this is
	// the provider rejecting a replayed, rotated-out refresh token, which is
	// what a retry with the old token meets once the grace window is over.
	flaw.RetryLostAfterGrace: {
		File: seedOracleIoT,
		Passage: `# Try using old refresh token again (should fail)
curl -X POST https://iot.oraclecloud.com/oauth2/token \
-d "grant_type=refresh_token" \
-d "refresh_token=<old-token>" \
-d "client_id=<your-client-id>"
# Expected: 400 invalid_grant`,
	},
	// The symptom the flaw meets: a resource that answers 401 whatever the
	// access token (it refuses the grant, or does not know the new token
	// yet). The reference refreshes once and lets the 401 stand; the flaw
	// refreshes again on every 401, a refresh storm from one call.
	flaw.RefreshLoopOn401: {
		File:    seedTwigOAuth,
		Passage: "Token refresh succeeds but still get 401 errors",
	},
	// No report shows an API call retried at once; this is the advice for
	// rate limits that the flaw ignores at the API, as ignore_retry_after
	// does at the token endpoint: the API's 429 says when to come back.
	flaw.APIRetryAtOnce: {
		File:    seedModeEmbed,
		Passage: "If you’re hitting rate limits, implement exponential backoff and consider requesting longer-lived tokens (2-4 hours instead of 1 hour) to reduce refresh frequency.",
	},
	// No report shows a token in an error message; this is the storage
	// rule the flaw breaks: an error's text travels to the application,
	// its user and its error tracker.
	flaw.TokenInErrorDetail: {
		File:    seedTwigOAuth,
		Passage: "Refresh tokens are sensitive credentials:",
	},
	flaw.DeadGrantAsTemporary: {
		File: seedTwigOAuth,
		Passage: `Provider may not notify Twig that reauth needed
→ Just returns: "invalid_grant"
→ User sees: "Integration broken"`,
	},
	// No report shows a refresh narrowing the scope; this is the rule it
	// breaks: a refresh that asks for less than offline_access gets, at a
	// provider that narrows, a grant without it.
	flaw.NarrowRefreshScope: {
		File:    seedModeEmbed,
		Passage: "Also verify that your OAuth client has the ‘offline_access’ scope enabled, which is required to receive refresh tokens. Without it, you can’t refresh expired tokens.",
	},
	// No report mentions the state parameter; this is the report's rule
	// for the redirect back to the application, whose other half the flaw
	// drops: taking only the callback of an authorization it started, once.
	// The provider takes a code redeemed twice for an attack and revokes
	// what it gave (RFC 6749 §4.1.2).
	flaw.NoStateCheck: {
		File:    seedOracleIoT,
		Passage: "- Set 'Allowed Redirect URIs' to exact URLs (no wildcards)",
	},
	flaw.NoPKCE: {
		File:    seedOracleIoT,
		Passage: "- Enable 'Require PKCE' for OAuth2 flows (prevents authorization code interception)",
	},
	// No report mentions the nonce; this is the report's defence against
	// an intercepted code, which the nonce completes for OpenID Connect: it
	// ties the id_token to the authorization the application started, and
	// an injected code brings an id_token with another nonce.
	flaw.NoNonceCheck: {
		File:    seedOracleIoT,
		Passage: "- Enable 'Require PKCE' for OAuth2 flows (prevents authorization code interception)",
	},
	// A provider whose clock runs ahead: the flaw takes its Date for the
	// moment of issue, and sees the token's end as late as the provider's
	// clock is early.
	flaw.ExpiryFromDateHeader: {
		File: seedTwigOAuth,
		Passage: `→ Provider's clock is off by 5 minutes
→ Token expires 5 minutes early from Twig's perspective`,
	},
}
