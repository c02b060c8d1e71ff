package simulator

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/internal/family"
)

// GrantRequest is an authorization for MintGrant to complete without the
// browser. It is also the body of POST /sim/v1/grants.
type GrantRequest struct {
	// ClientID is the client the grant is for; it must be allowed the
	// authorization_code grant.
	ClientID string `json:"client_id"`
	// User is who signs in and consents.
	User string `json:"user"`
	// Scope is the scope asked for; nil asks for every scope the client may
	// have. It is a pointer because an empty scope asks for none.
	Scope *string `json:"scope,omitempty"`
	// AccessType is Google's access_type parameter: "offline" asks for
	// offline access where the profile grants it that way.
	AccessType string `json:"access_type,omitempty"`
	// RedirectURI defaults to the client's first.
	RedirectURI string `json:"redirect_uri,omitempty"`
	// IncludeGrantedScopes adds the scopes of the user's live grants to the
	// client, as Google's include_granted_scopes=true does.
	IncludeGrantedScopes bool `json:"include_granted_scopes,omitempty"`
	// Prompt is the authorization's prompt parameter: "consent" asks for
	// consent again, which a profile that issues refresh tokens on first
	// consent only needs to issue another.
	Prompt string `json:"prompt,omitempty"`
	// InvalidatePrevious, when given, overrides the profile's
	// refresh.on_reconsent: whether the user's earlier grants to the
	// client are revoked.
	InvalidatePrevious *bool `json:"invalidate_previous,omitempty"`
}

// Grant is a completed authorization: the token response its client would
// have received from the token endpoint, and the family the grant started.
// Its JSON is the control API's answer: Response with "family" added.
type Grant struct {
	// AccessToken is the access token the answer carries.
	AccessToken string
	// RefreshToken is empty when the grant got none: no offline access,
	// or a profile that withheld it.
	RefreshToken string
	// IDToken is empty without the openid scope.
	IDToken string
	// TokenType is "Bearer".
	TokenType string
	// ExpiresIn is the access token's lifetime as the answer announced it.
	ExpiresIn time.Duration
	// Scope is the scope granted, as the answer shows it.
	Scope string
	// Family is the token family the grant started, as events and
	// Revocation name it.
	Family string
	// Response is the token response exactly as the token endpoint would
	// have sent it, decoded from its JSON (numbers are float64s), so that
	// a test can check what a client reads from it.
	Response map[string]any
}

// MarshalJSON writes the grant as POST /sim/v1/grants answers it.
func (g Grant) MarshalJSON() ([]byte, error) {
	body := maps.Clone(g.Response)
	if body == nil {
		body = map[string]any{}
	}
	body["family"] = g.Family
	return json.Marshal(body)
}

// UnmarshalJSON reads a grant as POST /sim/v1/grants answers it.
func (g *Grant) UnmarshalJSON(b []byte) error {
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		return err
	}
	str := func(key string) string { v, _ := body[key].(string); return v }
	secs, _ := body["expires_in"].(float64)
	*g = Grant{
		AccessToken: str("access_token"), RefreshToken: str("refresh_token"), IDToken: str("id_token"),
		TokenType: str("token_type"), ExpiresIn: time.Duration(secs * float64(time.Second)), Scope: str("scope"),
		Family: str("family"),
	}
	delete(body, "family")
	g.Response = body
	return nil
}

// MintGrant completes an authorization for req.User without the browser
// step, as if they signed in and consented, redeems its code, and records
// a grant_minted event. It runs the same fosite flows as /oauth2/authorize
// and /oauth2/token, with PKCE, so the tokens are like any others and the
// profile and consent rules apply as they would there.
//
// It fails with ErrNotFound for an unknown client or user, and with
// fosite's RFC 6749 error where the token endpoint would have refused (a
// scope the client may not have, a redirect URI it did not register). An
// id_token names the issuer of the request in ctx, if ctx is a request's,
// else the one WithIssuer set (NewServer sets it). Its events are those of
// POST /sim/v1/grants, whose path they name as where consent was given.
func (s *Simulator) MintGrant(ctx context.Context, req GrantRequest) (Grant, error) {
	wd := s.current()
	client, ok := wd.clients.get(req.ClientID)
	if !ok {
		return Grant{}, missing("no client %q", req.ClientID)
	}
	user, ok := wd.users.get(req.User)
	if !ok {
		return Grant{}, missing("no user %q", req.User)
	}
	if !slices.Contains(client.GrantTypes, "authorization_code") {
		return Grant{}, fmt.Errorf("client %q may not use the authorization_code grant", client.ID)
	}
	if req.RedirectURI == "" {
		req.RedirectURI = client.RedirectURIs[0]
	}
	scope := strings.Join(client.Scopes, " ")
	if req.Scope != nil {
		scope = *req.Scope
	}
	if issuerFrom(ctx) == "" {
		ctx = context.WithValue(ctx, issuerKey{}, s.shapeIssuer(s.cfg.issuer))
	}
	// The clock stands still from the authorization to the token answer.
	s.still.RLock()
	defer s.still.RUnlock()
	// The grant authenticates with the secret read here: pinned, a secret
	// rotated meanwhile cannot make the provider refuse its own grant.
	g, err := s.mintGrant(withPinnedClient(withWorld(ctx, wd), client), client, user, scope, req)
	if err != nil {
		// Every failure is one the token endpoint would answer, a failure
		// of the provider's own (server_error) included.
		return Grant{}, fosite.ErrorToRFC6749Error(err)
	}
	return g, nil
}

// mintGrant authorizes user for client with scope, as /oauth2/authorize
// does, and redeems the code with PKCE at the token endpoint's exchange,
// in the world ctx was pinned to.
func (s *Simulator) mintGrant(ctx context.Context, client *fositeClient, user User, scope string, req GrantRequest) (Grant, error) {
	wd := s.within(ctx)
	verifierBytes, err := randomSecret(32)
	if err != nil {
		return Grant{}, err
	}
	verifier := base64.RawURLEncoding.EncodeToString(verifierBytes)
	challenge := sha256.Sum256([]byte(verifier))
	state := base64.RawURLEncoding.EncodeToString(verifierBytes[:12])
	q := url.Values{
		"response_type": {"code"}, "client_id": {client.ID}, "redirect_uri": {req.RedirectURI},
		"scope": {scope}, "state": {state}, "nonce": {state},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"},
	}
	if req.AccessType != "" {
		q.Set("access_type", req.AccessType)
	}
	if req.IncludeGrantedScopes {
		q.Set("include_granted_scopes", "true")
	}
	if req.Prompt != "" {
		q.Set("prompt", req.Prompt)
	}
	areq, err := http.NewRequestWithContext(ctx, http.MethodGet, PathAuthorize+"?"+q.Encode(), nil)
	if err != nil {
		return Grant{}, err
	}
	ar, err := wd.oauth.NewAuthorizeRequest(ctx, areq)
	if err != nil {
		return Grant{}, err
	}
	added, withheld := grantScopes(wd, s.cfg.profile, ar, user.ID)
	actx := family.WithOp(ctx, &family.Op{WithholdRefresh: withheld})
	aresp, err := wd.oauth.NewAuthorizeResponse(actx, ar, newUserSession(user, s.provider.Now(), ar.GetRequestedAt()))
	if err != nil {
		return Grant{}, err
	}
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {aresp.GetCode()},
		"redirect_uri": {req.RedirectURI}, "code_verifier": {verifier}, "client_id": {client.ID},
	}
	treq, err := http.NewRequestWithContext(ctx, http.MethodPost, PathToken, nil)
	if err != nil {
		return Grant{}, err
	}
	switch {
	case client.Public:
	case slices.Contains(client.AuthMethods, AuthSecretPost):
		form.Set("client_secret", client.Secret)
	default:
		treq.SetBasicAuth(url.QueryEscape(client.ID), url.QueryEscape(client.Secret))
	}
	treq.Body = io.NopCloser(strings.NewReader(form.Encode()))
	treq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, tresp, op, err := s.exchange(ctx, treq)
	if err != nil {
		return Grant{}, err
	}
	s.consented(wd, user.ID, client.ID, op.Family, ar.GetGrantedScopes(), PathControlPrefix+"/grants", req.InvalidatePrevious)
	// The grant reads its answer back from JSON, so that Response holds
	// what a client decodes, whether the grant was minted here or through
	// the control API.
	body, err := json.Marshal(s.shownScope(tresp.ToMap()))
	if err != nil {
		return Grant{}, err
	}
	var g Grant
	if err := json.Unmarshal(body, &g); err != nil {
		return Grant{}, err
	}
	g.Family = op.Family
	detail := "scope " + scope
	if note := grantNote(added, withheld, false); note != "" {
		detail += "; " + note
	}
	s.events.Emit(events.Event{Kind: events.GrantMinted, Client: client.ID, User: user.ID, Family: op.Family, Detail: detail})
	return g, nil
}
