package simulator

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"

	"github.com/oauthsim/oauthsim/simulator/internal/family"
)

// tokenStrategy mints opaque HMAC tokens as fosite does, but decides expiry
// on the sim clock: fosite's own strategy compares against time.Now, so an
// advanced fake clock would change nothing.
type tokenStrategy struct {
	*oauth2.HMACSHAStrategyUnPrefixed
	store *family.Store
	// tap, when set, sees every token minted (WithTokenTap).
	tap func(kind fosite.TokenType, token string)
}

var _ oauth2.CoreStrategy = tokenStrategy{}

func (s tokenStrategy) validate(ctx context.Context, kind fosite.TokenType, token string) error {
	if err := s.store.CheckExpiry(ctx, kind, s.Enigma.Signature(token)); err != nil {
		return err
	}
	return s.Enigma.Validate(ctx, token)
}

// ValidateAccessToken checks the token's HMAC and its sim-time expiry.
func (s tokenStrategy) ValidateAccessToken(ctx context.Context, _ fosite.Requester, token string) error {
	return s.validate(ctx, fosite.AccessToken, token)
}

// ValidateRefreshToken checks the token's HMAC and its idle and absolute deadlines.
func (s tokenStrategy) ValidateRefreshToken(ctx context.Context, _ fosite.Requester, token string) error {
	return s.validate(ctx, fosite.RefreshToken, token)
}

// ValidateAuthorizeCode checks the code's HMAC and its sim-time expiry.
func (s tokenStrategy) ValidateAuthorizeCode(ctx context.Context, _ fosite.Requester, token string) error {
	return s.validate(ctx, fosite.AuthorizeCode, token)
}

// GenerateAccessToken mints an access token and shows it to the tap.
func (s tokenStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	return s.tapped(fosite.AccessToken)(s.HMACSHAStrategyUnPrefixed.GenerateAccessToken(ctx, r))
}

// GenerateRefreshToken mints a refresh token and shows it to the tap.
func (s tokenStrategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	return s.tapped(fosite.RefreshToken)(s.HMACSHAStrategyUnPrefixed.GenerateRefreshToken(ctx, r))
}

// GenerateAuthorizeCode mints an authorization code and shows it to the tap.
func (s tokenStrategy) GenerateAuthorizeCode(ctx context.Context, r fosite.Requester) (string, string, error) {
	return s.tapped(fosite.AuthorizeCode)(s.HMACSHAStrategyUnPrefixed.GenerateAuthorizeCode(ctx, r))
}

// tapped passes a freshly minted token of kind to the tap, if any.
func (s tokenStrategy) tapped(kind fosite.TokenType) func(token, sig string, err error) (string, string, error) {
	return func(token, sig string, err error) (string, string, error) {
		if err == nil && s.tap != nil {
			s.tap(kind, token)
		}
		return token, sig, err
	}
}

// signature is the store key of any token this strategy minted.
func (s tokenStrategy) signature(token string) string { return s.Enigma.Signature(token) }

// signingKey is the RSA key id_tokens are signed with, published at the JWKS endpoint.
type signingKey struct {
	private *jose.JSONWebKey
	public  jose.JSONWebKey
}

func newSigningKey(k *rsa.PrivateKey) *signingKey {
	sum := sha256.Sum256(k.PublicKey.N.Bytes())
	kid := base64.RawURLEncoding.EncodeToString(sum[:8])
	priv := &jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}
	return &signingKey{private: priv, public: priv.Public()}
}

// defaultKey is generated on first use and shared by the simulators of a
// process: a 2048-bit RSA key takes tens of milliseconds to make, which
// would dominate start-up and every test that builds a simulator.
var defaultKey = sync.OnceValues(func() (*signingKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate id_token signing key: %w", err)
	}
	return newSigningKey(k), nil
})

// idTokenStrategy renders id_tokens with sim-time iat, exp and auth_time.
// fosite's default strategy stamps them with time.Now and checks them
// against it.
type idTokenStrategy struct {
	sim *Simulator
}

// GenerateIDToken implements openid.OpenIDConnectTokenStrategy.
func (s idTokenStrategy) GenerateIDToken(ctx context.Context, lifespan time.Duration, r fosite.Requester) (string, error) {
	sess, ok := r.GetSession().(*Session)
	if !ok || sess.Claims == nil || sess.Claims.Subject == "" {
		return "", fosite.ErrServerError.WithDebug("id_token requested without a signed-in user")
	}
	if lifespan <= 0 {
		lifespan = s.sim.store.Policy().IDTokenLifetime.D()
	}
	now := s.sim.provider.Now()
	claims := *sess.Claims
	claims.Issuer = issuerFrom(ctx)
	claims.IssuedAt = now.Truncate(time.Second)
	claims.ExpiresAt = now.Add(lifespan).Truncate(time.Second)
	claims.AuthTime = sess.AuthTime.Truncate(time.Second)
	claims.RequestedAt = time.Time{}
	claims.Nonce = r.GetRequestForm().Get("nonce")
	// fosite gives the strategy only the context: the request's Op says
	// whether its answer replaces the nonce, and learns that it did.
	if op := family.OpFrom(ctx); claims.Nonce != "" && op != nil && op.Mint.ReplaceNonce {
		nonce, err := randomSecret(16)
		if err != nil {
			return "", fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		}
		claims.Nonce = base64.RawURLEncoding.EncodeToString(nonce)
		op.NonceReplaced = true
	}
	if !slices.Contains(claims.Audience, r.GetClient().GetID()) {
		claims.Audience = append(slices.Clone(claims.Audience), r.GetClient().GetID())
	}
	token, _, err := s.sim.jwtSigner.Generate(ctx, claims.ToMapClaims(), sess.IDTokenHeaders())
	return token, err
}

// simSigner signs with the simulator's key and judges the time claims of
// JWTs it is handed (an id_token_hint) by the sim clock: fosite's own
// signer checks them against time.Now, and would refuse an id_token the
// simulator issued at a sim time ahead of the wall clock.
type simSigner struct {
	*jwt.DefaultSigner
	sim *Simulator
}

// wallClockChecks are the claim checks fosite's decoder makes against time.Now.
const wallClockChecks = jwt.ValidationErrorExpired | jwt.ValidationErrorIssuedAt | jwt.ValidationErrorNotValidYet

// Decode verifies a JWT's signature and decides its expiry on the sim clock.
func (s simSigner) Decode(ctx context.Context, raw string) (*jwt.Token, error) {
	token, err := s.DefaultSigner.Decode(ctx, raw)
	var ve *jwt.ValidationError
	if !errors.As(err, &ve) || token == nil || ve.Errors&^wallClockChecks != 0 {
		return token, err
	}
	if exp, ok := token.Claims["exp"].(float64); ok && !s.sim.provider.Now().Before(time.Unix(int64(exp), 0)) {
		return token, &jwt.ValidationError{Errors: jwt.ValidationErrorExpired}
	}
	return token, nil
}

func (s *Simulator) newSigner() simSigner {
	return simSigner{sim: s, DefaultSigner: &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (interface{}, error) {
		key, err := s.key()
		if err != nil {
			return nil, err
		}
		return key.private, nil
	}}}
}
