package simulator

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ory/fosite"
)

// Client authentication methods at the token, revocation and introspection endpoints.
const (
	AuthSecretBasic = "client_secret_basic"
	AuthSecretPost  = "client_secret_post"
	AuthNone        = "none"
)

// Client is an OAuth client registered with the simulator. Secrets here are
// test data: the control API shows them, and the simulator stores only a
// cheap hash for fosite to compare against.
type Client struct {
	ID     string `json:"client_id" yaml:"client_id"`
	Secret string `json:"client_secret,omitempty" yaml:"client_secret,omitempty"`
	// Public clients have no secret and must use PKCE.
	Public       bool     `json:"public,omitempty" yaml:"public,omitempty"`
	RedirectURIs []string `json:"redirect_uris" yaml:"redirect_uris"`
	GrantTypes   []string `json:"grant_types" yaml:"grant_types"`
	Scopes       []string `json:"scopes" yaml:"scopes"`
	// AuthMethods lists the token_endpoint_auth_method values the client may use.
	AuthMethods []string `json:"token_endpoint_auth_methods" yaml:"token_endpoint_auth_methods"`
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
		if p, err := url.Parse(u); err != nil || !p.IsAbs() || p.Fragment != "" {
			errs = append(errs, fmt.Errorf("redirect URI %q must be an absolute URI without a fragment", u))
		}
	}
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

// fositeClient is the immutable view of a Client that fosite sees. Changing
// a client replaces its fositeClient, so requests in flight keep a
// consistent one.
type fositeClient struct {
	Client
	hash []byte
}

func (c *fositeClient) GetID() string                      { return c.ID }
func (c *fositeClient) GetHashedSecret() []byte            { return c.hash }
func (c *fositeClient) GetRedirectURIs() []string          { return c.RedirectURIs }
func (c *fositeClient) GetGrantTypes() fosite.Arguments    { return c.Client.GrantTypes }
func (c *fositeClient) GetResponseTypes() fosite.Arguments { return fosite.Arguments{"code"} }
func (c *fositeClient) GetScopes() fosite.Arguments        { return c.Client.Scopes }
func (c *fositeClient) IsPublic() bool                     { return c.Public }
func (c *fositeClient) GetAudience() fosite.Arguments      { return nil }

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
	mu      sync.RWMutex
	clients map[string]*fositeClient
}

func newRegistry() *registry { return &registry{clients: map[string]*fositeClient{}} }

// put registers or replaces a client.
func (r *registry) put(c Client) (Client, error) {
	c, err := c.normalize()
	if err != nil {
		return c, err
	}
	// A public client gets no hash at all: the hash of "" would let anyone
	// authenticate as it with an empty secret where fosite checks secrets
	// without asking whether the client is public (introspection).
	var hash []byte
	if !c.Public {
		hash, _ = secretHasher{}.Hash(context.Background(), []byte(c.Secret))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients[c.ID] = &fositeClient{Client: c, hash: hash}
	return c, nil
}

func (r *registry) get(id string) (*fositeClient, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.clients[id]
	return c, ok
}

func (r *registry) list() []Client {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Client, 0, len(r.clients))
	for _, c := range r.clients {
		out = append(out, c.Client)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// GetClient implements fosite.ClientManager.
func (r *registry) GetClient(_ context.Context, id string) (fosite.Client, error) {
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

// authenticateClient wraps fosite's client authentication with a check that
// the client may use the method it used: fosite only checks that for OpenID
// Connect clients, which allow exactly one method, while a client here may
// allow both client_secret_basic and client_secret_post.
func (s *Simulator) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	method := authMethodOf(r, form)
	if r.Header.Get("Authorization") != "" && method != AuthSecretBasic {
		return nil, fosite.ErrInvalidClient.WithHint("The Authorization header is not valid HTTP Basic authentication.")
	}
	client, err := s.oauth.DefaultClientAuthenticationStrategy(ctx, r, form)
	if err != nil {
		return nil, err
	}
	if fc, ok := client.(*fositeClient); ok && !slices.Contains(fc.AuthMethods, method) {
		return nil, fosite.ErrInvalidClient.WithHintf("The client may not authenticate with %s; it allows %v.", method, fc.AuthMethods)
	}
	return client, nil
}

func (r *registry) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients = map[string]*fositeClient{}
}
