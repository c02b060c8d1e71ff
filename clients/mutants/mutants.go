// Package mutants holds the deliberately broken variants of the reference
// token manager: each is the reference with exactly one bug seen in the
// field (its Origin says which failure, and the public source of the rule
// it breaks), and the conformance harness must fail each of them on at
// least one named check.
package mutants

import (
	"sort"

	"github.com/oauthsim/oauthsim/clients/internal/flaw"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
	"github.com/oauthsim/oauthsim/conformance/checkid"
)

// Mutant is one broken variant.
type Mutant struct {
	// Name is the flaw's name; the CLI calls the client "mutant/" + Name.
	Name string
	// Bug says, in a line, what the variant does wrong.
	Bug string
	// Origin is the field failure the bug reproduces, with its public source.
	Origin Origin
	// Target is the id of the conformance check written to catch the bug.
	Target string
	flaw   flaw.Flaw
}

// New builds the variant: the reference token manager configured by cfg,
// with the bug.
func (m Mutant) New(cfg tokenmanager.Config) (*tokenmanager.Manager, error) {
	flaw.Apply(&cfg, m.flaw)
	return tokenmanager.New(cfg)
}

// Origin is where a flaw comes from: the failure seen in the field, and
// the public source of the rule the flaw breaks.
type Origin struct {
	// Failure says, in plain words, what went wrong in the field.
	Failure string
	// Source is the public source of the rule the flaw breaks or of the
	// provider behaviour it meets: a provider's documentation (host and
	// path), an RFC section or an issue thread.
	Source string
}

// entry is everything said about one flaw: what the variant does wrong, in
// a line; the conformance check written to catch it (the harness proves
// itself by failing each variant on that check); and where the bug comes from.
type entry struct {
	bug, target string
	origin      Origin
}

// table describes each flaw, in one place.
var table = map[flaw.Flaw]entry{
	flaw.RefreshOnlyOn401: {
		bug:    "never refreshes ahead of expiry: it learns of expiry from a 401",
		target: checkid.NoExpiredAccessToken,
		origin: Origin{
			Failure: "integrations that refresh only after an API call failed with 401, so the first call after every expiry fails",
			Source:  "RFC 6749 §5.1: expires_in tells the client when the access token expires, so it can refresh before",
		},
	},
	flaw.KeepOldRefreshToken: {
		bug:    "keeps using the old refresh token after the provider rotated it",
		target: checkid.NoSupersededRefresh,
		origin: Origin{
			Failure: "an integration that kept sending its refresh token after the provider rotated it, got invalid_grant and broke for good",
			Source:  "RFC 6749 §6: when the server issues a new refresh token, the client must discard the old one",
		},
	},
	// Not a failure seen as such, but the requirement it breaks: tokens must
	// survive a restart.
	flaw.MemoryOnly: {
		bug:    "keeps tokens in memory only: a restart loses the grant",
		target: checkid.ReauthorizeWhenDead,
		origin: Origin{
			Failure: "tokens kept in memory only, so a server restart loses the grant and the user must authorize again",
			Source:  "blogs.intuit.com/2024/06/03/oauth-token-management-done-the-right-way: apps must always store the latest refresh token",
		},
	},
	flaw.NoSingleFlight: {
		bug:    "lets every concurrent caller refresh, with nothing to coordinate them: a refresh storm",
		target: checkid.SingleRefresh,
		origin: Origin{
			Failure: "several dashboards embedded in one page that each refresh the token at once, racing one another and running into the provider's rate limit",
			Source:  "auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation: reuse of a rotated-out refresh token revokes its family; developer.okta.com/docs/reference/rl-best-practices: 4 token requests per second per user",
		},
	},
	// Seen in the field as a grant that nothing but a new authorization
	// brings back, which a retrying client treats as a passing failure.
	flaw.RetryAfterInvalidGrant: {
		bug:    "treats invalid_grant as transient and keeps retrying a dead grant",
		target: checkid.NoRefreshAfterDead,
		origin: Origin{
			Failure: "a client that keeps retrying a refresh the provider refused with invalid_grant, though only a new authorization brings the grant back",
			Source:  "RFC 6749 §5.2: invalid_grant means the refresh token is invalid, expired or revoked",
		},
	},
	flaw.IgnoreRetryAfter: {
		bug:    "ignores Retry-After and retries at once, without backoff",
		target: checkid.RetryAfter,
		origin: Origin{
			Failure: "refreshes rate-limited by the provider after an app moved to cloud hosting, and retried at once instead of backing off",
			Source:  "RFC 6585 §4 (429 Too Many Requests) and RFC 9110 §10.2.3 (Retry-After)",
		},
	},
	// The refresh token vanishing from the store after a failed refresh,
	// whether or not that failure was passing.
	flaw.DiscardRefreshOnError: {
		bug:    "throws the refresh token away after a transient failure",
		target: checkid.ReauthorizeWhenDead,
		origin: Origin{
			Failure: "an integration whose stored refresh token turned up empty after a refresh failed",
			Source:  "RFC 6749 §6: only a new refresh token replaces the old one, and a 5xx or a timeout brings none",
		},
	},
	flaw.NoExpiryMargin: {
		bug:    "refreshes only at the expiry its own clock computes, with no margin",
		target: checkid.NoExpiredAccessToken,
		origin: Origin{
			Failure: "a provider whose clock is minutes ahead of the client's, so tokens expire earlier than the client computes",
			Source:  "RFC 6749 §5.1: expires_in is a lifetime, so only a margin before the computed expiry absorbs the difference",
		},
	},
	// Not a failure seen as such: the expiry check before each API call,
	// without the condition that it is about to expire.
	flaw.RefreshEveryCall: {
		bug:    "refreshes on every call",
		target: checkid.NoNeedlessRefresh,
		origin: Origin{
			Failure: "a client that refreshes before every API call instead of only when the token has little time left",
			Source:  "developer.okta.com/docs/reference/rl-best-practices: Okta allows 4 token requests per second per user",
		},
	},
	flaw.ForgetOfflineAccess: {
		bug:    "does not ask for offline access, so it never gets a refresh token",
		target: checkid.AsksForOfflineAccess,
		origin: Origin{
			Failure: "an integration that left out access_type=offline, got an access token only, and broke when it expired an hour later",
			Source:  "developers.google.com/identity/protocols/oauth2/web-server (access_type=offline); OpenID Connect Core 1.0 §11 (the offline_access scope)",
		},
	},
	// Not a failure seen as such, but the rule for storing tokens it breaks.
	flaw.LogsTokens: {
		bug:    "writes access and refresh tokens to its log",
		target: checkid.NoSecretsInOutput,
		origin: Origin{
			Failure: "refresh tokens written to the application's log",
			Source:  "RFC 6749 §10.4: refresh tokens must be kept confidential in transit and storage",
		},
	},
	flaw.NoSecretReload: {
		bug:    "never reads the client secret again after it was rotated",
		target: checkid.NoRetiredSecret,
		origin: Origin{
			Failure: "a client secret rotated after a leak, after which every refresh with the old secret fails until the deployment reads the new one",
			Source:  "RFC 6749 §5.2 (invalid_client); learn.microsoft.com/entra/identity-platform/reference-error-codes (AADSTS7000215, AADSTS7000222)",
		},
	},
	// The symptom (a refresh that seems to succeed, yet leaves the client
	// without a working access token) is what taking an error in an HTTP
	// 200 for a token answer produces.
	flaw.ErrorIn200IsSuccess: {
		bug:    "takes any HTTP 200 from the token endpoint for success",
		target: checkid.ReauthorizeWhenDead,
		origin: Origin{
			Failure: "refreshes that seem to succeed while the API goes on answering 401",
			Source:  "golang/oauth2#274: GitHub's token endpoint answers errors with HTTP 200; api.slack.com/web: Slack's Web API too",
		},
	},
	flaw.NoStoreLock: {
		bug:    "refreshes without the store's lock: processes sharing a store race",
		target: checkid.SingleRefresh,
		origin: Origin{
			Failure: "sync processes sharing a token store that each refresh with the same refresh token and overwrite each other's result",
			Source:  "RFC 9700 §4.14.2: a rotated-out refresh token presented again revokes the grant",
		},
	},
	// What a retry with the old token meets once the grace window is over:
	// the provider refuses the replayed, rotated-out refresh token.
	flaw.RetryLostAfterGrace: {
		bug:    "retries a lost refresh with the old token after the grace window",
		target: checkid.NoSupersededRefresh,
		origin: Origin{
			Failure: "a client that presents a rotated-out refresh token again after the grace window, which the provider refuses with invalid_grant",
			Source:  "developer.xero.com/faq/oauth2: the old refresh token may be retried for 30 minutes; developer.okta.com/docs/guides/refresh-tokens/main: for the leeway, 30 seconds by default",
		},
	},
	// The same empty store: Google answers a user's later sign-ins without a
	// refresh token, and a client that stores the answer as it comes is left
	// with none.
	flaw.LoseRefreshTokenOnReauthorization: {
		bug:    "overwrites its refresh token with none when a later sign-in of the same user brings none (Google, after the first consent)",
		target: checkid.ReauthorizeWhenDead,
		origin: Origin{
			Failure: "an integration whose stored refresh token turned up empty after a later sign-in of the same user brought none",
			Source:  "developers.google.com/identity/protocols/oauth2/web-server: Google returns a refresh token on the first consent only, unless prompt=consent",
		},
	},
	// A resource that answers 401 whatever the access token (it refuses the
	// grant, or does not know the new token yet). The reference refreshes
	// once and lets the 401 stand; the flaw refreshes again on every 401, a
	// refresh storm from one call.
	flaw.RefreshLoopOn401: {
		bug:    "refreshes and retries again and again while the API answers 401, up to ten times a call",
		target: checkid.NoRefreshLoop,
		origin: Origin{
			Failure: "refreshes that seem to succeed while the API goes on answering 401, turned into a refresh storm by a client that refreshes on every 401",
			Source:  "RFC 6750 §3.1: a resource server answers an invalid or expired token with 401 invalid_token",
		},
	},
	// The rate-limit rule, which the flaw ignores at the API as
	// ignore_retry_after does at the token endpoint: the API's 429 says
	// when to come back.
	flaw.APIRetryAtOnce: {
		bug:    "retries the API at once on a 429 or a 5xx, up to five times, ignoring Retry-After",
		target: checkid.APIRetryAfter,
		origin: Origin{
			Failure: "API calls that are rate-limited and sent again at once instead of after the wait the API named",
			Source:  "RFC 6585 §4 (429 Too Many Requests) and RFC 9110 §10.2.3 (Retry-After)",
		},
	},
	// Not a failure seen as such, but the rule for storing tokens it breaks:
	// an error's text travels to the application, its user and its error
	// tracker.
	flaw.TokenInErrorDetail: {
		bug:    "puts the refresh token in the error messages it hands the application",
		target: checkid.NoSecretsInOutput,
		origin: Origin{
			Failure: "a refresh token put into the error text an application shows its user and sends to its error tracker",
			Source:  "RFC 6749 §10.4: refresh tokens must be kept confidential in transit and storage",
		},
	},
	flaw.DeadGrantAsTemporary: {
		bug:    "calls a dead grant a temporary failure: the user is never asked to authorize again",
		target: checkid.ReauthorizeWhenDead,
		origin: Origin{
			Failure: "a provider that answers a dead grant with a bare invalid_grant, and a client that reports a passing failure, so the user never learns to authorize again",
			Source:  "RFC 6749 §5.2: invalid_grant means the refresh token is invalid, expired or revoked",
		},
	},
	// Not a failure seen as such, but the rule it breaks: a refresh that asks
	// for less than offline_access gets, at a provider that narrows, a grant
	// without it.
	flaw.NarrowRefreshScope: {
		bug:    "refreshes asking for the configured scopes without offline_access",
		target: checkid.KeepsOfflineAccess,
		origin: Origin{
			Failure: "a refresh that asks for less than the offline access the grant needs, after which no refresh token comes",
			Source:  "developer.okta.com/docs/guides/refresh-tokens/get-refresh-token: a refresh gets a refresh token only with the offline_access scope",
		},
	},
	// Not a failure seen as such, but the rule for the redirect back to the
	// application: take only the callback of an authorization it started,
	// once. The provider takes a code redeemed twice for an attack and
	// revokes what it gave.
	flaw.NoStateCheck: {
		bug:    "redeems the code of any callback, whatever its state, and of the same callback again",
		target: checkid.CallbackState,
		origin: Origin{
			Failure: "an application that takes any callback to its redirect URI, whether or not it started that authorization",
			Source:  "RFC 6749 §10.12 (cross-site request forgery) and §4.1.2 (a code used twice)",
		},
	},
	flaw.NoPKCE: {
		bug:    "authorizes without PKCE: no code challenge, no code verifier",
		target: checkid.PKCE,
		origin: Origin{
			Failure: "an authorization code intercepted on its way back to the application",
			Source:  "RFC 7636 (PKCE); RFC 9700 §2.1.1",
		},
	},
	// The nonce completes PKCE's defence for OpenID Connect: it ties the
	// id_token to the authorization the application started, and an injected
	// code brings an id_token with another nonce.
	flaw.NoNonceCheck: {
		bug:    "accepts an id_token whatever its nonce",
		target: checkid.Nonce,
		origin: Origin{
			Failure: "an injected authorization code that brings an id_token from another sign-in",
			Source:  "OpenID Connect Core 1.0 §3.1.3.7 (the nonce must match) and §15.5.2 (nonce implementation notes)",
		},
	},
	// A provider whose clock runs ahead: the flaw takes its Date for the
	// moment of issue, and sees the token's end as late as the provider's
	// clock is early.
	flaw.ExpiryFromDateHeader: {
		bug:    "counts the access token's expiry from the provider's Date header, not its own clock",
		target: checkid.NoExpiredAccessToken,
		origin: Origin{
			Failure: "a provider whose clock is minutes off the client's, so an expiry counted on the provider's clock is wrong on the client's",
			Source:  "RFC 6749 §5.1: expires_in is a lifetime counted from the response, not an instant",
		},
	},
	// Not a failure seen as such, but the rule for storing tokens it
	// breaks, and a declaration it does not keep: the reference's
	// capabilities, encrypts_at_rest among them, with the files in plain text.
	flaw.PlainTextAtRest: {
		bug:    "writes its token files as plain JSON, though it declares it encrypts them at rest",
		target: checkid.NoPlainTextAtRest,
		origin: Origin{
			Failure: "refresh tokens kept in a plain file or database column, readable by anyone who reads the disk, a backup or a copy of the state",
			Source:  "RFC 6749 §10.4: refresh tokens must be kept confidential in transit and storage; cheatsheetseries.owasp.org/cheatsheets/Cryptographic_Storage_Cheat_Sheet.html (protecting data at rest); cwe.mitre.org/data/definitions/312.html (cleartext storage of sensitive information)",
		},
	},
	// A key rotated without the old one kept: what was saved under it is
	// lost, and the users of a grant that lives are asked to sign in again.
	flaw.ForgetOldStorageKeys: {
		bug:    "keeps only the current storage key: after a key rotation its saved grant does not decrypt, and it asks the user to authorize again",
		target: checkid.ReauthorizeWhenDead,
		origin: Origin{
			Failure: "an encryption key rotated without keeping the old one for decryption, so everything stored under it became unreadable at once",
			Source:  "NIST SP 800-57 Part 1 Rev. 5 §7: a deactivated key no longer encrypts but still decrypts what it protected",
		},
	},
	// A multi-tenant integration that keys its token store by user alone,
	// so that one customer's OAuth app refreshes another's grant.
	flaw.TenantMixUp: {
		bug:    "keeps every tenant's grant under one store key: a tenant refreshes another tenant's token with its own credentials",
		target: checkid.OwningClient,
		origin: Origin{
			Failure: "a multi-tenant integration whose token store is keyed by user alone, so a customer's OAuth app presents another customer's refresh token, which the provider refuses",
			Source:  "RFC 6749 §6 and §10.4: a refresh token is bound to the client it was issued to, which the authorization server checks on every refresh",
		},
	},
}

// All returns every mutant, by name.
func All() []Mutant {
	out := make([]Mutant, 0, len(table))
	for f, t := range table {
		out = append(out, Mutant{Name: string(f), Bug: t.bug, Origin: t.origin, Target: t.target, flaw: f})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the mutant called name (without the "mutant/" prefix).
func Lookup(name string) (Mutant, bool) {
	for _, m := range All() {
		if m.Name == name {
			return m, true
		}
	}
	return Mutant{}, false
}
