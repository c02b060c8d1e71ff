package simulator

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/internal/family"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Client authentication methods at the token, revocation and introspection endpoints.
const (
	AuthSecretBasic = "client_secret_basic"
	AuthSecretPost  = "client_secret_post"
	AuthNone        = "none"
)

// Client is an OAuth client registered with the simulator. Secrets here are
// test data: the control API shows them, previous ones included, and the
// simulator stores only a cheap hash for fosite to compare against.
type Client struct {
	ID     string `json:"client_id" yaml:"client_id" example:"my-app"`
	Secret string `json:"client_secret,omitempty" yaml:"client_secret,omitempty"`
	// SecretExpiresAt is the sim time from which Secret no longer
	// authenticates (an Entra secret's end date); zero for never. It is an
	// RFC 3339 time, where RFC 7591's field of the same name counts seconds.
	SecretExpiresAt time.Time `json:"client_secret_expires_at,omitzero" yaml:"client_secret_expires_at,omitempty"`
	// SecretState is read-only, filled in on every answer: SecretActive or
	// SecretExpired at the sim time of the answer. Input ignores it.
	SecretState string `json:"client_secret_state,omitempty" yaml:"-"`
	// PreviousSecrets are secrets that rotations replaced, newest first.
	// Each still authenticates during its grace window, which is how a
	// client rolls its credentials out without downtime (Okta's two active
	// secrets), and the simulator remembers it afterwards so that the event
	// log can tell an old secret from a wrong one.
	PreviousSecrets []PreviousSecret `json:"previous_secrets,omitempty" yaml:"previous_secrets,omitempty" example:"[{client_secret: old-secret, valid_until: 2026-01-31T00:00:00Z}]"`
	// Public clients have no secret and must use PKCE.
	Public       bool     `json:"public,omitempty" yaml:"public,omitempty"`
	RedirectURIs []string `json:"redirect_uris" yaml:"redirect_uris" example:"[http://127.0.0.1:3000/callback]"`
	GrantTypes   []string `json:"grant_types" yaml:"grant_types" example:"[authorization_code, refresh_token]"`
	Scopes       []string `json:"scopes" yaml:"scopes" example:"[openid, offline_access, api]"`
	// AuthMethods lists the token_endpoint_auth_method values the client may use.
	AuthMethods []string `json:"token_endpoint_auth_methods" yaml:"token_endpoint_auth_methods" example:"[client_secret_basic]"`
	// PublishingStatus is PublishingProduction (the default) or
	// PublishingTesting, Google's status of an app not yet published: with
	// the profile's testing_app_expiry set, grants consented while the
	// client is in testing lose their refresh tokens that long after consent.
	PublishingStatus string `json:"publishing_status" yaml:"publishing_status,omitempty" example:"testing"`
	// Platform is where the client runs, as Entra's redirect URI platforms
	// name it: PlatformWeb (a server, the default for a confidential
	// client), PlatformNative (a desktop, mobile or command-line app, the
	// default for a public one) or PlatformSPA (a single-page application:
	// a public client whose token requests come from a browser page, with
	// CORS, from AllowedOrigins).
	Platform string `json:"platform,omitempty" yaml:"platform,omitempty" example:"spa"`
	// AllowedOrigins are the origins (scheme://host[:port]) whose pages may
	// call the token, revocation and userinfo endpoints for a PlatformSPA
	// client: Auth0's Allowed Web Origins, Okta's Trusted Origins for CORS.
	// It defaults to the origins of the client's redirect URIs, as Entra
	// allows the origins of a single-page application's redirect URIs.
	AllowedOrigins []string `json:"allowed_origins,omitempty" yaml:"allowed_origins,omitempty" example:"[http://app.localhost:3000]"`
	// AccessTokenLifetime, when set, is the lifetime of every access token
	// minted for this client, in place of the profile's (and of its
	// range): an application with a token lifetime policy of its own, as
	// Entra assigns one per application and an Okta authorization server's
	// access policy per client. See ClientProfile.
	AccessTokenLifetime *profile.Duration `json:"access_token_lifetime,omitempty" yaml:"access_token_lifetime,omitempty" example:"5m"`
	// Refresh, when set, replaces the profile's refresh-token rotation,
	// grace, idle timeout and absolute lifetime for this client's grants,
	// each that it sets. See ClientProfile. The store reads it on every
	// refresh, so a registration replaced later governs the refresh tokens
	// issued before it too; an access token keeps the lifetime it was
	// minted with.
	Refresh *ClientRefresh `json:"refresh,omitempty" yaml:"refresh,omitempty" example:"{rotation: none, idle_timeout: 30d}"`
}

// Platforms of a client (Client.Platform).
const (
	PlatformWeb    = "web"
	PlatformSPA    = "spa"
	PlatformNative = "native"
)

// Publishing statuses of a client.
const (
	PublishingProduction = "production"
	PublishingTesting    = "testing"
)

// PreviousSecret is a client secret that a rotation replaced.
type PreviousSecret struct {
	Secret string `json:"client_secret" yaml:"client_secret"`
	// ReplacedAt is the sim time of the rotation that replaced it.
	ReplacedAt time.Time `json:"replaced_at,omitzero" yaml:"replaced_at,omitempty"`
	// ValidUntil ends its grace window: from then on it is refused as invalid.
	ValidUntil time.Time `json:"valid_until" yaml:"valid_until"`
	// ExpiresAt is the expiry it had while it was the current secret; zero
	// for never. From then on it is refused as expired, grace or not.
	ExpiresAt time.Time `json:"expires_at,omitzero" yaml:"expires_at,omitempty"`
	// State is read-only, filled in on every answer: SecretGrace,
	// SecretRetired or SecretExpired at the sim time of the answer.
	State string `json:"state,omitempty" yaml:"-"`
}

// States of a client secret, as answers show them.
const (
	SecretActive  = "active"  // the current secret, not expired
	SecretGrace   = "grace"   // a previous secret inside its grace window: still accepted
	SecretRetired = "retired" // a previous secret after its grace window: refused as invalid
	SecretExpired = "expired" // past its expiry: refused as expired
)

// expired reports whether an expiry (zero for never) has come at now.
func expired(at, now time.Time) bool { return !at.IsZero() && !now.Before(at) }

func (p PreviousSecret) state(now time.Time) string {
	switch {
	case expired(p.ExpiresAt, now):
		return SecretExpired
	case now.Before(p.ValidUntil):
		return SecretGrace
	default:
		return SecretRetired
	}
}

// secretState is the state of the current secret; empty for a public client.
func (c Client) secretState(now time.Time) string {
	switch {
	case c.Public:
		return ""
	case expired(c.SecretExpiresAt, now):
		return SecretExpired
	default:
		return SecretActive
	}
}

// DemoRedirectURI is where the built-in demo clients expect the code.
const DemoRedirectURI = "http://127.0.0.1:8765/callback"

// DemoClients are registered in every simulator: a confidential client and a
// public one, so that `oauthsim serve` works with no configuration.
func DemoClients() []Client {
	scopes := []string{"openid", "offline_access", "profile", "api"}
	return []Client{
		{
			ID: "demo", Secret: "demo-secret",
			RedirectURIs: []string{DemoRedirectURI},
			GrantTypes:   []string{"authorization_code", "refresh_token", "client_credentials"},
			Scopes:       scopes,
			AuthMethods:  []string{AuthSecretBasic, AuthSecretPost},
		},
		{
			ID: "demo-public", Public: true,
			RedirectURIs: []string{DemoRedirectURI},
			GrantTypes:   []string{"authorization_code", "refresh_token"},
			Scopes:       scopes,
			AuthMethods:  []string{AuthNone},
		},
	}
}

var knownGrantTypes = []string{"authorization_code", "refresh_token", "client_credentials"}

// scriptSchemes are URI schemes a browser runs or renders in place instead
// of sending a request: as a redirect URI, one turns the authorization
// response into a cross-site script that holds the code. RFC 6749 §3.1.2
// requires an absolute URI, and each of these is one.
var scriptSchemes = []string{"javascript", "data", "vbscript"}

// normalize fills defaults and checks the client, reporting every problem at once.
func (c Client) normalize() (Client, error) {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("client_id is required"))
	}
	if c.Public && c.Secret != "" {
		errs = append(errs, errors.New("a public client has no client_secret"))
	}
	if !c.Public && c.Secret == "" {
		errs = append(errs, errors.New("client_secret is required unless the client is public"))
	}
	if c.Public && (!c.SecretExpiresAt.IsZero() || len(c.PreviousSecrets) > 0) {
		errs = append(errs, errors.New("a public client has no client_secret_expires_at or previous_secrets"))
	}
	// The states are the simulator's to tell: an answer fills them in anew.
	c.SecretState = ""
	c.PreviousSecrets = slices.Clone(c.PreviousSecrets)
	for i := range c.PreviousSecrets {
		p := &c.PreviousSecrets[i]
		p.State = ""
		switch {
		case p.Secret == "":
			errs = append(errs, fmt.Errorf("previous_secrets[%d]: client_secret is required", i))
		case p.Secret == c.Secret:
			errs = append(errs, fmt.Errorf("previous_secrets[%d]: the current client_secret cannot also be a previous one", i))
		}
		if p.ValidUntil.IsZero() {
			errs = append(errs, fmt.Errorf("previous_secrets[%d]: valid_until is required (the end of its grace window)", i))
		}
	}
	switch c.PublishingStatus {
	case "":
		c.PublishingStatus = PublishingProduction
	case PublishingProduction, PublishingTesting:
	default:
		errs = append(errs, fmt.Errorf("publishing_status %q is not %q or %q", c.PublishingStatus, PublishingProduction, PublishingTesting))
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(knownGrantTypes, g) {
			errs = append(errs, fmt.Errorf("grant type %q is not supported (supported: %v)", g, knownGrantTypes))
		}
	}
	if c.Public && slices.Contains(c.GrantTypes, "client_credentials") {
		errs = append(errs, errors.New("a public client cannot use client_credentials"))
	}
	if slices.Contains(c.GrantTypes, "authorization_code") && len(c.RedirectURIs) == 0 {
		errs = append(errs, errors.New("redirect_uris are required for the authorization_code grant"))
	}
	for _, u := range c.RedirectURIs {
		p, err := url.Parse(u)
		switch {
		case err != nil || !p.IsAbs() || p.Fragment != "":
			errs = append(errs, fmt.Errorf("redirect URI %q must be an absolute URI without a fragment (RFC 6749 §3.1.2)", u))
		case slices.Contains(scriptSchemes, strings.ToLower(p.Scheme)):
			errs = append(errs, fmt.Errorf("redirect URI %q has a scheme the browser runs or renders itself: the code would go to a script, not to a client", u))
		}
	}
	errs = append(errs, c.normalizePlatform()...)
	c.cloneLifetimes()
	errs = append(errs, c.checkLifetimes()...)
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "offline_access", "profile", "api"}
	}
	if len(c.AuthMethods) == 0 {
		c.AuthMethods = []string{AuthSecretBasic, AuthSecretPost}
		if c.Public {
			c.AuthMethods = []string{AuthNone}
		}
	}
	for _, m := range c.AuthMethods {
		switch {
		case m == AuthNone && !c.Public, m != AuthNone && c.Public:
			errs = append(errs, fmt.Errorf("auth method %q does not fit a %s client", m, map[bool]string{true: "public", false: "confidential"}[c.Public]))
		case m != AuthNone && m != AuthSecretBasic && m != AuthSecretPost:
			errs = append(errs, fmt.Errorf("auth method %q is not supported (supported: %s, %s, %s)", m, AuthSecretBasic, AuthSecretPost, AuthNone))
		}
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("client %q: %w", c.ID, errors.Join(errs...))
	}
	return c, nil
}

// normalizePlatform fills in the client's platform and allowed origins
// and reports what does not fit: a single-page application runs in a
// browser, where no secret stays secret, so it is public (Entra: "the
// client must be a public client"; Auth0: SPAs use token_endpoint_auth_method
// none), and only one has origins allowed to call the provider.
func (c *Client) normalizePlatform() []error {
	var errs []error
	switch c.Platform {
	case "":
		c.Platform = PlatformWeb
		if c.Public {
			c.Platform = PlatformNative
		}
	case PlatformWeb, PlatformNative:
	case PlatformSPA:
		if !c.Public {
			errs = append(errs, errors.New("a client of platform spa is public: a page in a browser cannot keep a client_secret"))
		}
	default:
		return append(errs, fmt.Errorf("platform %q is not %q, %q or %q", c.Platform, PlatformWeb, PlatformSPA, PlatformNative))
	}
	if c.Platform != PlatformSPA {
		if len(c.AllowedOrigins) > 0 {
			errs = append(errs, fmt.Errorf("allowed_origins are for a client of platform spa, not %s: only a single-page application calls the provider from a page", c.Platform))
		}
		return errs
	}
	c.AllowedOrigins = slices.Clone(c.AllowedOrigins)
	if len(c.AllowedOrigins) == 0 {
		for _, u := range c.RedirectURIs {
			if o := originOf(u); o != "" && !slices.Contains(c.AllowedOrigins, o) {
				c.AllowedOrigins = append(c.AllowedOrigins, o)
			}
		}
	}
	for _, o := range c.AllowedOrigins {
		if originOf(o) != o {
			errs = append(errs, fmt.Errorf("allowed origin %q is not an origin: scheme://host[:port], lowercase, without a path or a trailing slash (as a browser sends it in the Origin header)", o))
		}
	}
	return errs
}

// originOf is the origin of an http or https URL as a browser writes it in
// an Origin header (RFC 6454 §6.1), or "" when u has none.
func originOf(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	host := strings.ToLower(p.Host)
	if port := p.Port(); (p.Scheme == "http" && port == "80") || (p.Scheme == "https" && port == "443") {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return strings.ToLower(p.Scheme) + "://" + host
}

// fositeClient is the immutable view of a Client that fosite sees. Changing
// a client replaces its fositeClient, so requests in flight keep a
// consistent one. Which of its secrets authenticate depends on the sim time
// fosite asks at, so it reads the simulator's clock rather than fixing the
// answer when it is built.
type fositeClient struct {
	Client
	hash     []byte
	previous [][]byte // hashes of PreviousSecrets, in their order
	now      func() time.Time
	// policy is the profile as it governs this client's tokens: the one in
	// force, amended by the client's own lifetimes.
	policy profile.Profile
}

// GetResponseModes implements fosite.ResponseModeClient: a client may name
// the response modes discovery lists, query and, where the profile's shape
// accepts it, web_message (fosite refuses web_message itself elsewhere), or
// none. Without it fosite refuses any response_mode parameter, even query,
// which some libraries always send (MSAL.js does).
func (c *fositeClient) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeDefault, fosite.ResponseModeQuery, responseModeWebMessage}
}

var (
	_ fosite.ClientWithSecretRotation = (*fositeClient)(nil)
	_ family.TestingAppClient         = (*fositeClient)(nil)
)

func (c *fositeClient) GetID() string { return c.ID }

// GetHashedSecret implements fosite.Client: nothing matches an expired secret.
func (c *fositeClient) GetHashedSecret() []byte {
	if c.secretState(c.now()) != SecretActive {
		return nil
	}
	return c.hash
}

// GetRotatedHashes implements fosite.ClientWithSecretRotation: fosite also
// accepts the previous secrets still inside their grace window.
func (c *fositeClient) GetRotatedHashes() [][]byte {
	now := c.now()
	var out [][]byte
	for i, p := range c.PreviousSecrets {
		if p.state(now) == SecretGrace {
			out = append(out, c.previous[i])
		}
	}
	return out
}

func (c *fositeClient) GetRedirectURIs() []string          { return c.RedirectURIs }
func (c *fositeClient) GetGrantTypes() fosite.Arguments    { return c.Client.GrantTypes }
func (c *fositeClient) GetResponseTypes() fosite.Arguments { return fosite.Arguments{"code"} }
func (c *fositeClient) GetScopes() fosite.Arguments        { return c.Client.Scopes }
func (c *fositeClient) IsPublic() bool                     { return c.Public }
func (c *fositeClient) GetAudience() fosite.Arguments      { return nil }

// IsTestingApp implements family.TestingAppClient.
func (c *fositeClient) IsTestingApp() bool { return c.PublishingStatus == PublishingTesting }

// view is the client as answers show it, with its secrets' states at now.
func (c *fositeClient) view() Client {
	now := c.now()
	v := c.Client
	v.cloneLifetimes()
	v.SecretState = v.secretState(now)
	v.PreviousSecrets = slices.Clone(v.PreviousSecrets)
	for i := range v.PreviousSecrets {
		v.PreviousSecrets[i].State = v.PreviousSecrets[i].state(now)
	}
	return v
}

// refusal tells why secret did not authenticate the client at now, as a
// events.ClientSecret* code and a reason for the event log; an empty code
// when the secret is one that authenticates, and the failure lay elsewhere.
func (c *fositeClient) refusal(secret string, now time.Time) (code, why string) {
	switch {
	case secret == "":
		return events.ClientSecretInvalid, "no client secret was presented"
	case secret == c.Secret:
		if c.secretState(now) == SecretExpired {
			return events.ClientSecretExpired, "the client secret expired at " + formatTime(c.SecretExpiresAt)
		}
		return "", ""
	}
	for _, p := range c.PreviousSecrets {
		if p.Secret != secret {
			continue
		}
		switch p.state(now) {
		case SecretExpired:
			return events.ClientSecretExpired, "a previous client secret, which expired at " + formatTime(p.ExpiresAt)
		case SecretRetired:
			return events.ClientSecretInvalid, fmt.Sprintf("a previous client secret, replaced at %s, whose grace window ended at %s",
				formatTime(p.ReplacedAt), formatTime(p.ValidUntil))
		}
		return "", ""
	}
	return events.ClientSecretInvalid, "the client secret matches none of the client's secrets"
}

// formatTime renders a sim time for event details and messages.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// secretHasher replaces fosite's BCrypt (about 235 ms of CPU per check): the
// secrets are test data, and a simulator that spends a quarter second per
// token request distorts every latency a client sees.
type secretHasher struct{}

func (secretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	return sum[:], nil
}

func (secretHasher) Compare(_ context.Context, hash, data []byte) error {
	sum := sha256.Sum256(data)
	if subtle.ConstantTimeCompare(hash, sum[:]) != 1 {
		return fosite.ErrInvalidClient.WithHint("The client secret does not match.")
	}
	return nil
}

// registry holds the registered clients.
type registry struct {
	now func() time.Time
	// base is the profile in force, which a client's own lifetimes
	// (Client.AccessTokenLifetime, Client.Refresh) amend.
	base    profile.Profile
	mu      sync.RWMutex
	clients map[string]*fositeClient
}

// newRegistry returns an empty registry whose clients judge secret expiry
// by now and amend the profile base with their own lifetimes.
func newRegistry(now func() time.Time, base profile.Profile) *registry {
	return &registry{now: now, base: base, clients: map[string]*fositeClient{}}
}

// put registers c, replacing a client with its id only when replace is
// set: otherwise a taken id is a conflict, found before any problem of c's
// own.
func (r *registry) put(c Client, replace bool) (Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, taken := r.clients[c.ID]; taken && !replace {
		return Client{}, conflict(fmt.Errorf("client %q exists", c.ID))
	}
	fc, err := r.compile(c)
	if err != nil {
		return Client{}, err
	}
	r.clients[c.ID] = fc
	return fc.view(), nil
}

// update replaces client id with what change makes of it, holding the lock
// throughout so that concurrent changes to one client never undo each other.
func (r *registry) update(id string, change func(Client) (Client, error)) (Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.clients[id]
	if !ok {
		return Client{}, noSuch("client", id)
	}
	c, err := change(old.Client)
	if err != nil {
		return Client{}, err
	}
	fc, err := r.compile(c)
	if err != nil {
		return Client{}, err
	}
	r.clients[id] = fc
	return fc.view(), nil
}

// compile checks c and hashes its secrets for fosite.
func (r *registry) compile(c Client) (*fositeClient, error) {
	c, err := c.normalize()
	if err != nil {
		return nil, err
	}
	// A public client gets no hash at all: the hash of "" would let anyone
	// authenticate as it with an empty secret where fosite checks secrets
	// without asking whether the client is public (introspection).
	policy, err := c.amend(r.base)
	if err != nil {
		return nil, err
	}
	fc := &fositeClient{Client: c, now: r.now, policy: policy}
	if !c.Public {
		fc.hash = hashSecret(c.Secret)
	}
	for _, p := range c.PreviousSecrets {
		fc.previous = append(fc.previous, hashSecret(p.Secret))
	}
	return fc, nil
}

func hashSecret(secret string) []byte {
	hash, _ := secretHasher{}.Hash(context.Background(), []byte(secret)) // it cannot fail
	return hash
}

func (r *registry) get(id string) (*fositeClient, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.clients[id]
	return c, ok
}

type pinnedClientKey struct{}

// withPinnedClient makes fosite see client c as it is now for every look-up
// of its id under ctx, whatever a concurrent update does to the registry.
func withPinnedClient(ctx context.Context, c *fositeClient) context.Context {
	return context.WithValue(ctx, pinnedClientKey{}, c)
}

func (r *registry) list() []Client {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Client, 0, len(r.clients))
	for _, c := range r.clients {
		out = append(out, c.view())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// GetClient implements fosite.ClientManager. A request pinned to a
// registration (withPinnedClient) sees that one.
func (r *registry) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	if c, ok := ctx.Value(pinnedClientKey{}).(*fositeClient); ok && c.ID == id {
		return c, nil
	}
	if c, ok := r.get(id); ok {
		return c, nil
	}
	return nil, fosite.ErrNotFound
}

// ClientAssertionJWTValid implements fosite.ClientManager. The simulator
// supports no JWT client assertions, so no assertion was ever seen.
func (r *registry) ClientAssertionJWTValid(context.Context, string) error { return nil }

// SetClientAssertionJWT implements fosite.ClientManager.
func (r *registry) SetClientAssertionJWT(context.Context, string, time.Time) error { return nil }

// authMethodOf tells which client authentication method a request used.
func authMethodOf(r *http.Request, form url.Values) string {
	if _, _, ok := r.BasicAuth(); ok {
		return AuthSecretBasic
	}
	if form.Get("client_secret") != "" {
		return AuthSecretPost
	}
	return AuthNone
}

// authenticateClient wraps fosite's client authentication, in world wd,
// with what fosite leaves out: one method per request (RFC 6749 §2.3),
// and a check that the client may use the method it used, which fosite
// makes only for OpenID Connect clients, which allow exactly one method,
// while a client here may allow both client_secret_basic and
// client_secret_post.
func (s *Simulator) authenticateClient(ctx context.Context, wd *world, r *http.Request, form url.Values) (fosite.Client, error) {
	method := authMethodOf(r, form)
	if r.Header.Get("Authorization") != "" && method != AuthSecretBasic {
		return nil, fosite.ErrInvalidClient.WithHint("The Authorization header is not valid HTTP Basic authentication.")
	}
	if err := oneClient(r, form); err != nil {
		return nil, err
	}
	client, err := wd.oauth.DefaultClientAuthenticationStrategy(ctx, r, form)
	if err != nil {
		if errors.Is(err, fosite.ErrInvalidClient) {
			s.noteSecretRefusal(ctx, wd, r, form)
		}
		return nil, err
	}
	if fc, ok := client.(*fositeClient); ok && !slices.Contains(fc.AuthMethods, method) {
		return nil, fosite.ErrInvalidClient.WithHintf("The client may not authenticate with %s; it allows %v.", method, fc.AuthMethods)
	}
	// The store holds a code or refresh token to the client it was issued
	// to, and refuses it to any other before it looks at anything else.
	family.Authenticated(ctx, client.GetID())
	return client, nil
}

// oneClient refuses a request that authenticates its client with HTTP
// Basic and with a client_secret in the body too: RFC 6749 §2.3 allows one
// method per request, and §5.2 names invalid_request for one that uses
// more. A client_id in the body beside Basic credentials is no second
// method (§2.3.1 only discourages it) as long as it names the same client.
func oneClient(r *http.Request, form url.Values) error {
	user, _, basic := r.BasicAuth()
	if !basic {
		return nil
	}
	if form.Get("client_secret") != "" {
		return fosite.ErrInvalidRequest.WithHint("The client authenticated with HTTP Basic and with client_secret in the body; RFC 6749 §2.3 allows one method per request.")
	}
	// fosite refuses Basic credentials that do not decode as invalid_request.
	if id, err := url.QueryUnescape(user); err == nil && form.Get("client_id") != "" && form.Get("client_id") != id {
		return fosite.ErrInvalidRequest.WithHintf("The client_id in the body (%q) is not the client of the Authorization header (%q).", form.Get("client_id"), id)
	}
	return nil
}

// noteSecretRefusal tells the request's Op why the secret presented did not
// authenticate a known confidential client, so that the event log, and a
// profile's own error body, can tell an expired or previous secret from a
// wrong one (Entra's AADSTS7000222 and AADSTS7000215).
func (s *Simulator) noteSecretRefusal(ctx context.Context, wd *world, r *http.Request, form url.Values) {
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if user, password, ok := r.BasicAuth(); ok {
		// fosite refused undecodable credentials as invalid_request before this.
		id, _ = url.QueryUnescape(user)
		secret, _ = url.QueryUnescape(password)
	}
	c, ok := wd.clients.get(id)
	if !ok || c.Public {
		return
	}
	if code, why := c.refusal(secret, s.provider.Now()); code != "" {
		family.RefuseClient(ctx, code, why)
	}
}

// SecretRotation says how RotateClientSecret replaces a confidential
// client's secret. It is also the body of POST /sim/v1/clients/{id}/secret.
type SecretRotation struct {
	// Secret is the new secret; empty makes a random one. Giving the current
	// secret keeps it and only sets its expiry anew.
	Secret string `json:"client_secret,omitempty"`
	// Grace keeps the replaced secret working this long in sim time; zero
	// refuses it at once.
	Grace profile.Duration `json:"grace,omitempty"`
	// ExpiresIn makes the new secret expire this long from now in sim time;
	// zero for never.
	ExpiresIn profile.Duration `json:"expires_in,omitempty"`
}

// RotateClientSecret gives the confidential client id a new secret and
// records a client_secret_rotated event. The replaced secret stays valid for
// rot.Grace and is remembered after that, so that the event log can say an
// old secret was refused. It returns the client as it is now.
func (s *Simulator) RotateClientSecret(id string, rot SecretRotation) (Client, error) {
	if rot.Grace < 0 || rot.ExpiresIn < 0 {
		return Client{}, fmt.Errorf("grace (%s) and expires_in (%s) must not be negative", rot.Grace, rot.ExpiresIn)
	}
	if rot.Secret == "" {
		b, err := randomSecret(24)
		if err != nil {
			return Client{}, err
		}
		rot.Secret = base64.RawURLEncoding.EncodeToString(b)
	}
	now := s.provider.Now()
	var detail string
	c, err := s.current().clients.update(id, func(c Client) (Client, error) {
		if c.Public {
			return c, fmt.Errorf("client %q is public and has no secret", id)
		}
		detail = "secret kept"
		if rot.Secret != c.Secret {
			detail = "previous secret refused from now on"
			if rot.Grace > 0 {
				detail = fmt.Sprintf("previous secret valid until %s (grace %s)", formatTime(now.Add(rot.Grace.D())), rot.Grace)
			}
			prev := []PreviousSecret{{Secret: c.Secret, ReplacedAt: now, ValidUntil: now.Add(rot.Grace.D()), ExpiresAt: c.SecretExpiresAt}}
			for _, p := range c.PreviousSecrets {
				if p.Secret != rot.Secret { // a secret brought back is current, not previous
					prev = append(prev, p)
				}
			}
			c.PreviousSecrets = prev
		}
		c.Secret, c.SecretExpiresAt = rot.Secret, time.Time{}
		if rot.ExpiresIn > 0 {
			c.SecretExpiresAt = now.Add(rot.ExpiresIn.D())
		}
		return c, nil
	})
	if err != nil {
		return Client{}, err
	}
	if c.SecretExpiresAt.IsZero() {
		detail += "; the new secret never expires"
	} else {
		detail += "; the new secret expires at " + formatTime(c.SecretExpiresAt)
	}
	s.events.Emit(events.Event{Kind: events.ClientSecretRotated, Client: id, Detail: detail})
	return c, nil
}

// SetPublishingStatus moves client id to PublishingProduction or
// PublishingTesting and records a client_changed event. The status decides
// the testing-app expiry of grants consented from now on; grants consented
// before keep the expiry, or lack of one, they were given.
func (s *Simulator) SetPublishingStatus(id, status string) (Client, error) {
	if status == "" { // normalize would take it for the default
		return Client{}, fmt.Errorf("status is required: %q or %q", PublishingProduction, PublishingTesting)
	}
	var was string
	c, err := s.current().clients.update(id, func(c Client) (Client, error) {
		was, c.PublishingStatus = c.PublishingStatus, status
		return c, nil
	})
	if err != nil {
		return Client{}, err
	}
	s.events.Emit(events.Event{Kind: events.ClientChanged, Client: id, Detail: fmt.Sprintf("publishing status %s (was %s)", status, was)})
	return c, nil
}

// Clients lists the registered clients by id, each secret's state at the
// current sim time.
func (s *Simulator) Clients() []Client { return s.current().clients.list() }

// RegisteredClient returns the client with id, its secrets' states at the
// current sim time; ErrNotFound when there is none.
func (s *Simulator) RegisteredClient(id string) (Client, error) {
	c, ok := s.current().clients.get(id)
	if !ok {
		return Client{}, missing("no client %q", id)
	}
	return c.view(), nil
}

// AddClient registers c and records a client_changed event. It fails with
// ErrConflict when c's id is taken, and lists every problem of an invalid
// client at once. It returns the client as registered, defaults filled in.
func (s *Simulator) AddClient(c Client) (Client, error) { return s.saveClient(c, false, "created") }

// ReplaceClient registers c in place of the client with its id, or anew,
// and records a client_changed event. Tokens already issued to the client
// stay valid.
func (s *Simulator) ReplaceClient(c Client) (Client, error) { return s.saveClient(c, true, "replaced") }

func (s *Simulator) saveClient(c Client, replace bool, what string) (Client, error) {
	saved, err := s.current().clients.put(c, replace)
	if err != nil {
		return Client{}, err
	}
	s.events.Emit(events.Event{Kind: events.ClientChanged, Client: saved.ID, Detail: what})
	return saved, nil
}
