package simulator

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	fositehmac "github.com/ory/fosite/token/hmac"
	"github.com/ory/fosite/token/jwt"

	"github.com/oauthsim/oauthsim/simulator/internal/family"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// tokenStrategy mints opaque HMAC tokens as fosite does, but decides expiry
// on the sim clock: fosite's own strategy compares against time.Now, so an
// advanced fake clock would change nothing. Access and refresh tokens carry
// their claims (family.Claim) in the part fosite fills with random bytes,
// and their store key holds those claims once the HMAC shows the simulator
// minted them: the store keeps no record of access tokens, nor of the
// refresh tokens a rotation superseded. Codes are fosite's. Under a profile
// with shape.token_format jwt, access and refresh tokens are JWTs that carry the
// same claims in their jti (jwttokens.go).
type tokenStrategy struct {
	*oauth2.HMACSHAStrategyUnPrefixed
	tokenKeys
	store *family.Store
	// tap, when set, sees every token minted (WithTokenTap).
	tap func(kind fosite.TokenType, token string)
	// format is the profile's token format: JWT-shaped access and refresh
	// tokens when profile.TokenJWT (jwttokens.go).
	format profile.TokenFormat
}

// tokenKeys mints the simulator's access and refresh tokens and finds the
// store key of any token. It holds only fosite's global secret, the same in
// every world.
type tokenKeys struct {
	secret []byte
	// signer is the key JWT-shaped access tokens are signed with (jwttokens.go).
	signer func() (*signingKey, error)
}

var _ oauth2.CoreStrategy = tokenStrategy{}

// tokenEntropy is how many random bytes follow a token's claims, as many
// as fosite puts in its tokens.
const tokenEntropy = 32

// tokenEncoding is fosite's encoding of both halves of a token.
var tokenEncoding = base64.RawURLEncoding

func (s tokenStrategy) validate(ctx context.Context, kind fosite.TokenType, token string) error {
	if err := s.store.CheckExpiry(ctx, kind, s.signature(token)); err != nil {
		return err
	}
	if kind != fosite.AuthorizeCode && isJWT(token) {
		if _, ok := s.jwtKey(token); !ok {
			return fosite.ErrTokenSignatureMismatch
		}
		return nil
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

// GenerateAccessToken mints an access token that carries its claims, and shows it to the tap.
func (s tokenStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	claims := s.store.Claim(ctx, fosite.AccessToken, r)
	if s.format == profile.TokenJWT {
		return s.tapped(fosite.AccessToken)(s.mintJWT(ctx, fosite.AccessToken, r, claims))
	}
	return s.tapped(fosite.AccessToken)(s.mint(claims))
}

// GenerateRefreshToken mints a refresh token that carries its claims, and shows it to the tap.
func (s tokenStrategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	claims := s.store.Claim(ctx, fosite.RefreshToken, r)
	if s.format == profile.TokenJWT {
		return s.tapped(fosite.RefreshToken)(s.mintJWT(ctx, fosite.RefreshToken, r, claims))
	}
	return s.tapped(fosite.RefreshToken)(s.mint(claims))
}

// GenerateAuthorizeCode mints an authorization code and shows it to the tap.
func (s tokenStrategy) GenerateAuthorizeCode(ctx context.Context, r fosite.Requester) (string, string, error) {
	return s.tapped(fosite.AuthorizeCode)(s.HMACSHAStrategyUnPrefixed.GenerateAuthorizeCode(ctx, r))
}

// AccessTokenSignature implements oauth2.AccessTokenStrategy: the store key.
func (s tokenStrategy) AccessTokenSignature(_ context.Context, token string) string {
	return s.signature(token)
}

// RefreshTokenSignature implements oauth2.RefreshTokenStrategy: the store key.
func (s tokenStrategy) RefreshTokenSignature(_ context.Context, token string) string {
	return s.signature(token)
}

// mint makes a token of claims as fosite makes one of random bytes: the
// claims and the random bytes, then the HMAC of both, each half base64url,
// so that fosite's Validate checks it. It returns the token and its store key.
func (k tokenKeys) mint(claims []byte) (string, string, error) {
	random, err := randomSecret(tokenEntropy)
	if err != nil {
		return "", "", err
	}
	key := append(claims, random...)
	sig := tokenEncoding.EncodeToString(k.mac(key))
	return tokenEncoding.EncodeToString(key) + "." + sig, family.Key(claims, sig), nil
}

// mac is the HMAC fosite's strategy signs a token's key half with.
func (k tokenKeys) mac(key []byte) []byte {
	h := hmac.New(sha512.New512_256, k.secret[:32])
	h.Write(key)
	return h.Sum(nil)
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

// signature is the store key of any token: for a token this strategy
// minted with claims, the claims and the signature (family.Key); for any
// other, its signature, the part after the dot, as fosite has it. A token
// whose HMAC does not match keeps its claims out of the key, so that the
// store never takes a forged token's word.
func (k tokenKeys) signature(token string) string {
	if isJWT(token) {
		if key, ok := k.jwtKey(token); ok {
			return key
		}
	}
	half, sig, ok := strings.Cut(token, ".")
	if ok && !strings.Contains(sig, ".") {
		key, err := tokenEncoding.DecodeString(half)
		mac, macErr := tokenEncoding.DecodeString(sig)
		if err == nil && macErr == nil && len(key) > tokenEntropy && hmac.Equal(mac, k.mac(key)) {
			return family.Key(key[:len(key)-tokenEntropy], sig)
		}
	}
	return (&fositehmac.HMACStrategy{}).Signature(token)
}

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
		lifespan = s.sim.cfg.profile.IDTokenLifetime.D()
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
