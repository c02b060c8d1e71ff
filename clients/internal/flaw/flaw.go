// Package flaw names the single bugs the conformance harness's broken
// variants of the reference token manager carry. It is internal: only the
// reference and the variants in clients/ can set one, so no user of the
// reference can switch a bug on by accident.
package flaw

// Flaw is one deliberate bug; the zero value is none.
type Flaw string

// The flaws, each a failure mode seen in the field (clients/mutants gives
// each its failure and the public source of the rule it breaks).
const (
	None Flaw = ""
	// RefreshOnlyOn401 never refreshes ahead of expiry: the first call after
	// expiry fails and only the retry works.
	RefreshOnlyOn401 Flaw = "refresh_only_on_401"
	// KeepOldRefreshToken ignores a rotated refresh token and keeps using the old one.
	KeepOldRefreshToken Flaw = "keep_old_refresh_token"
	// MemoryOnly never writes to the store: a restart loses the grant.
	MemoryOnly Flaw = "memory_only"
	// NoSingleFlight lets every concurrent caller refresh on its own: no
	// single flight, and no store lock to serialize them instead.
	NoSingleFlight Flaw = "no_single_flight"
	// RetryAfterInvalidGrant treats invalid_grant as transient and retries it.
	RetryAfterInvalidGrant Flaw = "retry_after_invalid_grant"
	// IgnoreRetryAfter retries 429 and 5xx at once, without backoff.
	IgnoreRetryAfter Flaw = "ignore_retry_after"
	// DiscardRefreshOnError drops the refresh token after a transient failure.
	DiscardRefreshOnError Flaw = "discard_refresh_token_on_error"
	// NoExpiryMargin refreshes only once the access token has expired by the
	// client's own clock: a provider clock ahead of it sees expired tokens.
	NoExpiryMargin Flaw = "no_expiry_margin"
	// RefreshEveryCall refreshes before every API call.
	RefreshEveryCall Flaw = "refresh_every_call"
	// ForgetOfflineAccess does not ask for offline access, so no refresh token comes.
	ForgetOfflineAccess Flaw = "forget_offline_access"
	// LogsTokens writes tokens to its log.
	LogsTokens Flaw = "logs_tokens"
	// NoSecretReload never reloads a rotated client secret.
	NoSecretReload Flaw = "no_secret_reload"
	// ErrorIn200IsSuccess takes any HTTP 200 for a token response.
	ErrorIn200IsSuccess Flaw = "error_in_200_is_success"
	// NoStoreLock refreshes without the store's lock: two processes race.
	NoStoreLock Flaw = "no_store_lock"
	// RetryLostAfterGrace retries a lost refresh with the old token even after
	// the provider's grace window.
	RetryLostAfterGrace Flaw = "retry_lost_refresh_after_grace"
	// RefreshLoopOn401 refreshes and retries again while the API answers
	// 401, up to ten times in one call, instead of once.
	RefreshLoopOn401 Flaw = "refresh_loop_on_401"
	// APIRetryAtOnce sends an API call again at once, up to five times,
	// while the API answers 429 or 5xx, whatever its Retry-After.
	APIRetryAtOnce Flaw = "api_retry_at_once"
	// TokenInErrorDetail puts the refresh token in the error a failed
	// refresh returns to the application (but not in its log).
	TokenInErrorDetail Flaw = "token_in_error_detail"
	// DeadGrantAsTemporary stops refreshing a grant the provider declared
	// dead, as the reference does, but tells the application it is a
	// passing failure instead of asking for a new authorization.
	DeadGrantAsTemporary Flaw = "dead_grant_as_temporary"
	// NarrowRefreshScope sends the configured scopes, without
	// offline_access, with every refresh.
	NarrowRefreshScope Flaw = "narrow_refresh_scope"
	// NoStateCheck, a flaw of the application (clients/refapp), redeems
	// the code of any callback whatever its state, and keeps the
	// authorization in progress for the next one.
	NoStateCheck Flaw = "no_state_check"
	// NoPKCE sends no code challenge, and so no code verifier.
	NoPKCE Flaw = "no_pkce"
	// NoNonceCheck sends a nonce but accepts an id_token whatever its nonce.
	NoNonceCheck Flaw = "no_nonce_check"
	// ExpiryFromDateHeader counts expires_in from the token response's Date
	// header, the provider's clock, instead of from its own sending time.
	ExpiryFromDateHeader Flaw = "expiry_from_date_header"
	// LoseRefreshTokenOnReauthorization stores the tokens of a later
	// authorization of the same user as they come: where the provider
	// issues a refresh token on first consent only (Google), the one it
	// had is overwritten with none.
	LoseRefreshTokenOnReauthorization Flaw = "lose_refresh_token_on_reauthorization"
	// PlainTextAtRest, a flaw of the application (clients/refapp), writes
	// the token files as plain JSON, though it declares it encrypts them.
	PlainTextAtRest Flaw = "plain_text_at_rest"
	// ForgetOldStorageKeys, a flaw of the application, builds its keyring
	// from the storage key file's current key alone: after a rotation what
	// it saved before does not decrypt, and it takes that for no grant.
	ForgetOldStorageKeys Flaw = "forget_old_storage_keys"
	// TenantMixUp, a flaw of the application, keeps every tenant's grant
	// under the one store key of a single registration: a tenant's call
	// loads another tenant's tokens and refreshes them with its own
	// credentials.
	TenantMixUp Flaw = "tenant_mix_up"
)

// Apply sets f on a reference token manager's configuration (a
// *tokenmanager.Config). The reference installs it; being internal, it is
// out of reach of the reference's users.
var Apply func(config any, f Flaw)

// Of returns the flaw of a reference token manager (a
// *tokenmanager.Manager). The application around it (clients/refapp) asks,
// for the flaws that live there rather than in the manager: a variant is
// built as a manager, and the application is the same for every variant.
var Of func(manager any) Flaw
