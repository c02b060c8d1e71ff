package simulator

import (
	"context"
	"net/http"
	"net/url"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/hmac"

	"github.com/oauthsim/oauthsim/simulator/internal/family"
)

// storage is what fosite sees: a world's token families plus its client registry.
type storage struct {
	*family.Store
	*registry
}

// compose assembles fosite on a world's store and clients from the flows
// the simulator offers: the authorization code grant with PKCE and OpenID
// Connect, refresh tokens, client credentials, revocation and introspection.
func (s *Simulator) compose(wd *world) (*fosite.Fosite, tokenStrategy) {
	p := s.cfg.profile
	cfg := &fosite.Config{
		AccessTokenLifespan:   p.AccessTokenLifetime.D(),
		AuthorizeCodeLifespan: p.CodeLifetime.D(),
		IDTokenLifespan:       p.IDTokenLifetime.D(),
		// fosite's own refresh expiry runs on the wall clock; the store decides instead.
		RefreshTokenLifespan:        -1,
		GlobalSecret:                s.tokens.secret,
		EnforcePKCEForPublicClients: true,
		// RFC 6749 sets no minimum length for state or nonce; fosite takes
		// zero to mean its default of eight characters, so one is the least.
		MinParameterEntropy: 1,
		RefreshTokenScopes:  []string{"offline_access", "offline"},
		// fosite fills these lazily on first use, which races under concurrent
		// requests, so they are set here.
		ScopeStrategy:            fosite.ExactScopeStrategy,
		AudienceMatchingStrategy: fosite.DefaultAudienceMatchingStrategy,
		ClientSecretsHasher:      secretHasher{},
		JWKSFetcherStrategy:      s.jwks,
	}
	if p.Shape.WebMessage {
		cfg.ResponseModeHandlerExtension = webMessage{}
	}
	cfg.ClientAuthenticationStrategy = func(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
		return s.authenticateClient(ctx, wd, r, form)
	}
	strategy := tokenStrategy{
		HMACSHAStrategyUnPrefixed: oauth2.NewHMACSHAStrategyUnPrefixed(&hmac.HMACStrategy{Config: cfg}, cfg),
		tokenKeys:                 s.tokens,
		store:                     wd.store,
		tap:                       s.cfg.tokenTap,
		format:                    s.cfg.profile.Shape.TokenFormat,
	}
	provider := compose.Compose(cfg, storage{Store: wd.store, registry: wd.clients},
		&compose.CommonStrategy{CoreStrategy: strategy, OpenIDConnectTokenStrategy: idTokenStrategy{sim: s}, Signer: s.jwtSigner},
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2PKCEFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
	)
	for i, h := range cfg.TokenEndpointHandlers {
		if r, ok := h.(*openid.OpenIDConnectRefreshHandler); ok {
			h = openIDRefresh{r}
		}
		cfg.TokenEndpointHandlers[i] = applicable{h}
	}
	return provider.(*fosite.Fosite), strategy
}

// applicable asks a token endpoint handler to populate a response only for
// a grant it handles. fosite asks every handler, and each one that does not
// apply answers an error carrying a stack trace: a tenth of the CPU of a
// refresh went into collecting stacks nobody read.
type applicable struct{ fosite.TokenEndpointHandler }

// openIDRefresh passes over a refresh of a grant without the openid scope,
// as fosite's handler does first thing, but without the stack trace.
type openIDRefresh struct {
	*openid.OpenIDConnectRefreshHandler
}

func (o openIDRefresh) HandleTokenEndpointRequest(ctx context.Context, req fosite.AccessRequester) error {
	if !req.GetGrantedScopes().Has("openid") {
		return fosite.ErrUnknownRequest
	}
	return o.OpenIDConnectRefreshHandler.HandleTokenEndpointRequest(ctx, req)
}

func (o openIDRefresh) PopulateTokenEndpointResponse(ctx context.Context, req fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !req.GetGrantedScopes().Has("openid") {
		return fosite.ErrUnknownRequest
	}
	return o.OpenIDConnectRefreshHandler.PopulateTokenEndpointResponse(ctx, req, resp)
}

func (a applicable) PopulateTokenEndpointResponse(ctx context.Context, req fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !a.CanHandleTokenEndpointRequest(ctx, req) {
		return fosite.ErrUnknownRequest
	}
	return a.TokenEndpointHandler.PopulateTokenEndpointResponse(ctx, req, resp)
}
