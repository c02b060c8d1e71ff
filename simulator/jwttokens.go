package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/internal/family"
)

// JWT-shaped access and refresh tokens (profile.TokenJWT), as Keycloak
// issues them: the access token a JWS signed RS256 with the realm's key
// that its JWKS publishes, the refresh token a JWS signed with an HMAC key
// of the realm's own that it publishes nowhere (HS512 since
// github.com/keycloak/keycloak/pull/26957 of 2024, "the internal algorithm
// has changed from HS256 to HS512", the one refresh tokens use; HS256
// before; the first release with it is unconfirmed; issue 15390: "Refresh token is an token that only Keycloak should be able
// verify and understand, and it's signed with keys not advertised"), each
// payload with exp, iat, jti, iss, sub, typ ("Bearer", "Refresh"), azp, sid
// and scope. keycloak-js reads them: it decodes both tokens' payloads
// (decodeToken), takes exp and iat for its expiry timer and sid for the
// session (keycloak-js lib/keycloak.js, #setToken), and fails the sign-in
// on a token whose second part is not base64url JSON
// (github.com/keycloak/keycloak/issues/33568).
//
// The simulator keeps the same books on these as on its opaque tokens: the
// jti is the opaque token's key half, base64url(claims || 32 random bytes)
// (family.Claim), and the store key is family.Key(claims, signature), the
// signature taking the place of fosite's HMAC. So rotation, reuse
// detection, revocation, introspection, the resource's bearer check,
// events and faults see the token exactly as they see an opaque one, and
// a token whose signature does not verify keeps its claims out of the key,
// as a forged opaque token does. The token as issued is what the tap (and
// so the harness's leak checks) sees.

// jwtPayload is what a JWT-shaped token says of itself.
type jwtPayload struct {
	Exp int64  `json:"exp,omitempty"`
	Iat int64  `json:"iat"`
	Jti string `json:"jti"`
	Iss string `json:"iss,omitempty"`
	Sub string `json:"sub,omitempty"`
	// Typ is Keycloak's token type claim: "Bearer" for access tokens,
	// "Refresh" for refresh tokens.
	Typ string `json:"typ"`
	// Azp is the client the token was issued to.
	Azp string `json:"azp"`
	// Sid is the session the token belongs to: here its grant (family), of
	// which a sign-in makes one per client; Keycloak's is the user's SSO
	// session, shared by the clients the user signed in to.
	Sid   string `json:"sid"`
	Scope string `json:"scope,omitempty"`
}

// JOSE algorithms of the two kinds of token.
const (
	algAccess  = jose.RS256
	algRefresh = jose.HS512
)

// mintJWT makes the JWT-shaped token of kind whose claims (family.Claim)
// are claims, for request r. It returns the token and its store key.
func (s tokenStrategy) mintJWT(ctx context.Context, kind fosite.TokenType, r fosite.Requester, claims []byte) (string, string, error) {
	st, ok := family.StampOf(claims)
	if !ok {
		return "", "", errors.New("mint a JWT: the store's claims do not parse")
	}
	random, err := randomSecret(tokenEntropy)
	if err != nil {
		return "", "", err
	}
	p := jwtPayload{Iat: st.Issued.Unix(), Jti: tokenEncoding.EncodeToString(append(claims, random...)),
		Iss: issuerFrom(ctx), Azp: r.GetClient().GetID(), Sid: st.Family}
	if sess := r.GetSession(); sess != nil {
		p.Sub = sess.GetSubject()
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	var key jose.SigningKey
	switch kind {
	case fosite.AccessToken:
		p.Typ, p.Scope = "Bearer", strings.Join(st.Scopes, " ")
		if !st.Expires.IsZero() {
			p.Exp = st.Expires.Unix()
		}
		sk, err := s.signer()
		if err != nil {
			return "", "", err
		}
		key = jose.SigningKey{Algorithm: algAccess, Key: sk.private.Key}
		opts = opts.WithHeader(jose.HeaderKey("kid"), sk.public.KeyID)
	default:
		p.Typ, p.Scope = "Refresh", strings.Join(r.GetGrantedScopes(), " ")
		if at := s.store.RefreshExpiry(r, st.Issued); !at.IsZero() {
			p.Exp = at.Unix()
		}
		key = jose.SigningKey{Algorithm: algRefresh, Key: s.secret}
	}
	pb, err := json.Marshal(p)
	if err != nil {
		return "", "", err
	}
	signer, err := jose.NewSigner(key, opts)
	if err != nil {
		return "", "", err
	}
	obj, err := signer.Sign(pb)
	if err != nil {
		return "", "", err
	}
	token, err := obj.CompactSerialize()
	if err != nil {
		return "", "", err
	}
	sig := token[strings.LastIndex(token, ".")+1:]
	return token, family.Key(claims, sig), nil
}

// jwtKey is the store key of a JWT-shaped token the simulator minted:
// family.Key of the claims its jti holds and its signature; ok is false
// for any other token, a forged or altered one included.
func (k tokenKeys) jwtKey(token string) (key string, ok bool) {
	obj, err := jose.ParseSigned(token)
	if err != nil || len(obj.Signatures) != 1 {
		return "", false
	}
	// The key by the header's algorithm, and only the two the simulator
	// signs with: an HMAC key is never offered to an RS256 header, nor a
	// token with "none" verified at all.
	var verifier any
	switch jose.SignatureAlgorithm(obj.Signatures[0].Header.Algorithm) {
	case algRefresh:
		verifier = k.secret
	case algAccess:
		if k.signer == nil {
			return "", false
		}
		sk, err := k.signer()
		if err != nil {
			return "", false
		}
		verifier = sk.public
	default:
		return "", false
	}
	pb, err := obj.Verify(verifier)
	if err != nil {
		return "", false
	}
	var p jwtPayload
	if json.Unmarshal(pb, &p) != nil {
		return "", false
	}
	raw, err := tokenEncoding.DecodeString(p.Jti)
	if err != nil || len(raw) <= tokenEntropy {
		return "", false
	}
	return family.Key(raw[:len(raw)-tokenEntropy], token[strings.LastIndex(token, ".")+1:]), true
}

// isJWT says whether token has a JWS's three parts.
func isJWT(token string) bool { return strings.Count(token, ".") == 2 }
