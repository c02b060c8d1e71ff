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

// table describes each flaw: what the variant does wrong, in a line, and
// the conformance check written to catch it (the harness proves itself by
// failing each variant on that check).
var table = map[flaw.Flaw]struct{ bug, target string }{
	flaw.RefreshOnlyOn401:                  {"never refreshes ahead of expiry: it learns of expiry from a 401", checkid.NoExpiredAccessToken},
	flaw.KeepOldRefreshToken:               {"keeps using the old refresh token after the provider rotated it", checkid.NoSupersededRefresh},
	flaw.MemoryOnly:                        {"keeps tokens in memory only: a restart loses the grant", checkid.ReauthorizeWhenDead},
	flaw.NoSingleFlight:                    {"lets every concurrent caller refresh, with nothing to coordinate them: a refresh storm", checkid.SingleRefresh},
	flaw.RetryAfterInvalidGrant:            {"treats invalid_grant as transient and keeps retrying a dead grant", checkid.NoRefreshAfterDead},
	flaw.IgnoreRetryAfter:                  {"ignores Retry-After and retries at once, without backoff", checkid.RetryAfter},
	flaw.DiscardRefreshOnError:             {"throws the refresh token away after a transient failure", checkid.ReauthorizeWhenDead},
	flaw.NoExpiryMargin:                    {"refreshes only at the expiry its own clock computes, with no margin", checkid.NoExpiredAccessToken},
	flaw.RefreshEveryCall:                  {"refreshes on every call", checkid.NoNeedlessRefresh},
	flaw.ForgetOfflineAccess:               {"does not ask for offline access, so it never gets a refresh token", checkid.AsksForOfflineAccess},
	flaw.LogsTokens:                        {"writes access and refresh tokens to its log", checkid.NoSecretsInOutput},
	flaw.NoSecretReload:                    {"never reads the client secret again after it was rotated", checkid.NoRetiredSecret},
	flaw.ErrorIn200IsSuccess:               {"takes any HTTP 200 from the token endpoint for success", checkid.ReauthorizeWhenDead},
	flaw.NoStoreLock:                       {"refreshes without the store's lock: processes sharing a store race", checkid.SingleRefresh},
	flaw.RetryLostAfterGrace:               {"retries a lost refresh with the old token after the grace window", checkid.NoSupersededRefresh},
	flaw.LoseRefreshTokenOnReauthorization: {"overwrites its refresh token with none when a later sign-in of the same user brings none (Google, after the first consent)", checkid.ReauthorizeWhenDead},
	flaw.RefreshLoopOn401:                  {"refreshes and retries again and again while the API answers 401, up to ten times a call", checkid.NoRefreshLoop},
	flaw.APIRetryAtOnce:                    {"retries the API at once on a 429 or a 5xx, up to five times, ignoring Retry-After", checkid.APIRetryAfter},
	flaw.TokenInErrorDetail:                {"puts the refresh token in the error messages it hands the application", checkid.NoSecretsInOutput},
	flaw.DeadGrantAsTemporary:              {"calls a dead grant a temporary failure: the user is never asked to authorize again", checkid.ReauthorizeWhenDead},
	flaw.NarrowRefreshScope:                {"refreshes asking for the configured scopes without offline_access", checkid.KeepsOfflineAccess},
	flaw.NoStateCheck:                      {"redeems the code of any callback, whatever its state, and of the same callback again", checkid.CallbackState},
	flaw.NoPKCE:                            {"authorizes without PKCE: no code challenge, no code verifier", checkid.PKCE},
	flaw.NoNonceCheck:                      {"accepts an id_token whatever its nonce", checkid.Nonce},
	flaw.ExpiryFromDateHeader:              {"counts the access token's expiry from the provider's Date header, not its own clock", checkid.NoExpiredAccessToken},
}

// All returns every mutant, by name.
func All() []Mutant {
	out := make([]Mutant, 0, len(table))
	for f, t := range table {
		out = append(out, Mutant{Name: string(f), Bug: t.bug, Origin: origins[f], Target: t.target, flaw: f})
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
