// Package family is the simulator's token store. Every authorization starts
// a family: its authorization code, the chain of refresh tokens and every
// access token minted from them. The store implements the storage interfaces
// fosite needs, and on top of them the lifecycle rules of a provider profile:
// rotation (none, rotate, rotate with grace), reuse detection, idle and
// absolute refresh lifetimes, a cap on live families per user and client, and
// revocation by token, family, user, client or all.
//
// All times are sim times read from the store's clock. fosite keeps its own
// wall-clock expiry in each session; the simulator's token strategy ignores
// that and asks CheckExpiry instead.
package family

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Store keeps token families in memory. It is safe for concurrent use.
type Store struct {
	clock clockwork.Clock
	log   *events.Log

	mu       sync.Mutex
	policy   profile.Profile
	counter  uint64 // orders families; sim times tie on a clock that stands still
	families map[string]*family
	codes    map[string]*token
	access   map[string]*token
	refresh  map[string]*token
	pkce     map[string]fosite.Requester
	oidc     map[string]fosite.Requester
	byUser   map[string]map[string]*family
	byClient map[string]map[string]*family
}

type family struct {
	id, client, user string
	created          time.Time
	firstRefresh     time.Time
	// seq and refreshSeq order families by creation and by their first
	// refresh token.
	seq, refreshSeq uint64
	refresh         []*token
	revokedAt       time.Time
	reason          string
	revoked         bool
	// testingApp marks a grant consented while its client was a testing
	// app, to more than identity scopes: the profile's TestingAppExpiry
	// after created kills its refresh tokens.
	testingApp bool
	// scopes are the scopes granted at consent.
	scopes []string
	// code is the authorization code that started the family; nil for a
	// grant without one (client credentials).
	code *token
	// withholdRefresh: the authorization granted offline access but its code
	// is redeemed for no refresh token (Op.WithholdRefresh).
	withholdRefresh bool
	// req is the stored copy of the request its first token was minted
	// for. Later tokens that grant the same share it: a family's tokens
	// differ in the expiry times fosite keeps in their sessions, which the
	// store does not go by, and one copy per token made a family refreshed
	// a hundred times hold two hundred of them.
	req fosite.Requester
	// lock serializes token requests that act on this family, so that
	// checking a refresh token and superseding it happen as one step.
	lock sync.Mutex
}

type token struct {
	kind    fosite.TokenType
	sig     string
	fam     *family
	req     fosite.Requester
	issued  time.Time
	expires time.Time // codes and access tokens; refresh deadlines are computed
	used    time.Time // first redemption of a code or refresh token
	// lastUsed is the latest use of a refresh token that is never rotated.
	lastUsed time.Time
	parent   *token
	// childUsed is set once the token this one was rotated into has itself
	// been used: from then on the grace window no longer applies to it.
	childUsed bool
	revoked   bool
	revokedAt time.Time
}

// New returns an empty store governed by p, reading time from clock and
// recording state changes in log.
func New(clock clockwork.Clock, log *events.Log, p profile.Profile) *Store {
	s := &Store{clock: clock, log: log, policy: p}
	s.clear()
	return s
}

func (s *Store) clear() {
	s.families = map[string]*family{}
	s.codes = map[string]*token{}
	s.access = map[string]*token{}
	s.refresh = map[string]*token{}
	s.pkce = map[string]fosite.Requester{}
	s.oidc = map[string]fosite.Requester{}
	s.byUser = map[string]map[string]*family{}
	s.byClient = map[string]map[string]*family{}
}

// Reset drops every family and token.
func (s *Store) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
}

// Policy returns the profile in force.
func (s *Store) Policy() profile.Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policy
}

// SetPolicy replaces the profile in force. Tokens already issued keep the
// expiry they were issued with; refresh-token rules apply from now on.
func (s *Store) SetPolicy(p profile.Profile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policy = p
}

func (t *token) fingerprint() string { return events.Fingerprint(string(t.kind), t.sig) }

// copyRequest returns a request that shares nothing mutable with r, so that
// what fosite does to a request it got from the store never changes the store.
func copyRequest(r fosite.Requester) fosite.Requester {
	keys := make([]string, 0, len(r.GetRequestForm()))
	for k := range r.GetRequestForm() {
		keys = append(keys, k)
	}
	c := r.Sanitize(keys)
	if sess := r.GetSession(); sess != nil {
		c.SetSession(sess.Clone())
	}
	return c
}

// requestFor is the copy of r a new token of f keeps: the family's own
// when r is for the same grant (request, client, subject, scopes and
// audience), else a copy of its own. Stored copies are never changed:
// readers get copies of them.
func (f *family) requestFor(r fosite.Requester) fosite.Requester {
	if f.req != nil && sameGrant(f.req, r) {
		return f.req
	}
	c := copyRequest(r)
	if f.req == nil {
		f.req = c
	}
	return c
}

// withGrantedScopes returns r, or a copy of it granting scopes instead
// when they differ.
func withGrantedScopes(r fosite.Requester, scopes fosite.Arguments) fosite.Requester {
	if slices.Equal(r.GetGrantedScopes(), scopes) {
		return r
	}
	c := copyRequest(r)
	if req, ok := c.(*fosite.Request); ok {
		req.GrantedScope = slices.Clone(scopes)
	}
	return c
}

func sameGrant(a, b fosite.Requester) bool {
	return a.GetID() == b.GetID() && a.GetClient().GetID() == b.GetClient().GetID() && subjectOf(a) == subjectOf(b) &&
		slices.Equal(a.GetGrantedScopes(), b.GetGrantedScopes()) && slices.Equal(a.GetGrantedAudience(), b.GetGrantedAudience())
}

func subjectOf(r fosite.Requester) string {
	if sess := r.GetSession(); sess != nil {
		return sess.GetSubject()
	}
	return ""
}

// familyFor returns the family of r, creating it on r's first token. s.mu must be held.
func (s *Store) familyFor(r fosite.Requester) *family {
	if f, ok := s.families[r.GetID()]; ok {
		return f
	}
	s.counter++
	f := &family{id: r.GetID(), client: r.GetClient().GetID(), user: subjectOf(r), created: s.clock.Now(), seq: s.counter,
		testingApp: consentedInTesting(r), scopes: slices.Clone(r.GetGrantedScopes())}
	s.families[f.id] = f
	index(s.byClient, f.client, f)
	if f.user != "" {
		index(s.byUser, f.user, f)
	}
	return f
}

func index(m map[string]map[string]*family, key string, f *family) {
	set := m[key]
	if set == nil {
		set = map[string]*family{}
		m[key] = set
	}
	set[f.id] = f
}

func (s *Store) emit(e events.Event, f *family) {
	if f != nil {
		e.Family, e.Client, e.User = f.id, f.client, f.user
	}
	s.log.Emit(e)
}

// issue stores a new token of kind, minted backdate before now. s.mu must be held.
func (s *Store) issue(ctx context.Context, kind fosite.TokenType, sig string, r fosite.Requester, lifetime, backdate time.Duration) *token {
	pnow := s.clock.Now()
	now := pnow.Add(-backdate)
	f := s.familyFor(r)
	t := &token{kind: kind, sig: sig, fam: f, req: f.requestFor(r), issued: now}
	if lifetime > 0 {
		t.expires = now.Add(lifetime)
	}
	if o := OpFrom(ctx); o != nil {
		o.observe(f)
		if kind == fosite.RefreshToken {
			t.parent = o.rotatedFrom
		}
	}
	e := events.Event{Kind: events.TokenIssued, TokenType: string(kind), Token: t.fingerprint()}
	if !t.expires.IsZero() {
		// The store runs on the provider's clock, which a skew fault moves
		// off the sim clock events are stamped with: the event gives the
		// expiry on the events' axis, as long after its time as the token
		// has to live.
		e.Time = s.log.Now()
		exp := e.Time.Add(t.expires.Sub(pnow))
		e.ExpiresAt = &exp
	}
	if t.parent != nil {
		e.Parent = t.parent.fingerprint()
	}
	s.emit(e, f)
	return t
}

// live returns the token under sig in table unless it or its family was revoked. s.mu must be held.
func (s *Store) live(ctx context.Context, table map[string]*token, sig string) (*token, error) {
	t, ok := table[sig]
	if !ok {
		deny(ctx, events.RefusedUnknown, "unknown token")
		return nil, fosite.ErrNotFound
	}
	OpFrom(ctx).observe(t.fam)
	switch {
	case t.fam.revoked:
		deny(ctx, events.RefusedRevoked, "family revoked: "+t.fam.reason)
		return nil, fosite.ErrNotFound
	case t.revoked:
		deny(ctx, events.RefusedRevoked, "token revoked")
		return nil, fosite.ErrNotFound
	}
	return t, nil
}

// CreateAuthorizeCodeSession stores an authorization code.
func (s *Store) CreateAuthorizeCodeSession(ctx context.Context, sig string, r fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.issue(ctx, fosite.AuthorizeCode, sig, r, s.policy.CodeLifetime.D(), 0)
	s.codes[sig] = t
	if t.fam.code == nil {
		o := OpFrom(ctx)
		t.fam.code, t.fam.withholdRefresh = t, o != nil && o.WithholdRefresh
	}
	return nil
}

// GetAuthorizeCodeSession returns the authorization request behind a code.
// A code redeemed before comes back with fosite.ErrInvalidatedAuthorizeCode,
// which makes fosite revoke everything issued for it (RFC 6749 §4.1.2).
func (s *Store) GetAuthorizeCodeSession(ctx context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.live(ctx, s.codes, sig)
	if err != nil {
		return nil, err
	}
	if !t.used.IsZero() {
		deny(ctx, events.RefusedRedeemed, "authorization code already redeemed")
		if o := OpFrom(ctx); o != nil && o.GrantType == "authorization_code" {
			s.emit(events.Event{Kind: events.CodeReuseDetected, TokenType: string(t.kind), Token: t.fingerprint()}, t.fam)
		}
		return copyRequest(t.req), fosite.ErrInvalidatedAuthorizeCode
	}
	return copyRequest(t.req), nil
}

// InvalidateAuthorizeCodeSession marks a code as redeemed.
func (s *Store) InvalidateAuthorizeCodeSession(ctx context.Context, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.codes[sig]
	if !ok {
		return fosite.ErrNotFound
	}
	t.used = s.clock.Now()
	return nil
}

// CreateAccessTokenSession stores an access token.
func (s *Store) CreateAccessTokenSession(ctx context.Context, sig string, r fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lifetime, backdate := s.policy.AccessTokenLifetime.D(), time.Duration(0)
	o := OpFrom(ctx)
	if o != nil {
		if o.Mint.AccessLifetime > 0 {
			lifetime = o.Mint.AccessLifetime
		}
		backdate = o.Mint.Backdate
	}
	t := s.issue(ctx, fosite.AccessToken, sig, r, lifetime, backdate)
	s.access[sig] = t
	if o != nil {
		o.AccessExpiresAt = t.expires
	}
	return nil
}

// GetAccessTokenSession returns the request behind a live access token.
func (s *Store) GetAccessTokenSession(ctx context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.live(ctx, s.access, sig)
	if err != nil {
		return nil, err
	}
	return copyRequest(t.req), nil
}

// DeleteAccessTokenSession revokes one access token.
func (s *Store) DeleteAccessTokenSession(_ context.Context, sig string) error {
	return s.revokeToken(s.access, sig)
}

// CreateRefreshTokenSession stores a refresh token. Under rotation "none" a
// refresh grant's new token is discarded: the client keeps the one it has.
func (s *Store) CreateRefreshTokenSession(ctx context.Context, sig, _ string, r fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := OpFrom(ctx)
	f, known := s.families[r.GetID()]
	if (known && f.withholdRefresh) || (o != nil && (o.keepRefresh || o.Mint.DropRefresh)) {
		if o != nil {
			o.RefreshDropped = true
		}
		return nil
	}
	if o != nil && o.rotatedFrom != nil {
		// A refresh may have narrowed the access token's scope; the refresh
		// token it is rotated into keeps the scope of the one presented, as
		// RFC 6749 §6 requires.
		r = withGrantedScopes(r, o.rotatedFrom.req.GetGrantedScopes())
	}
	t := s.issue(ctx, fosite.RefreshToken, sig, r, 0, 0)
	s.refresh[sig] = t
	f = t.fam
	f.refresh = append(f.refresh, t)
	if f.firstRefresh.IsZero() {
		s.counter++
		f.firstRefresh, f.refreshSeq = t.issued, s.counter
		s.evictBeyondLimit(f)
	}
	return nil
}

// evictBeyondLimit silently revokes the oldest other families of f's user
// and client while, with f, they exceed the profile's cap. Only families
// with a usable refresh token count, and f, whose token is already on its
// way to the client, is never the one evicted. s.mu must be held.
func (s *Store) evictBeyondLimit(f *family) {
	limit := s.policy.Refresh.MaxFamiliesPerUserClient
	if limit <= 0 || f.user == "" {
		return
	}
	var others []*family
	for _, g := range s.byUser[f.user] {
		if g != f && g.client == f.client && s.hasUsableRefresh(g) {
			others = append(others, g)
		}
	}
	excess := len(others) + 1 - limit
	if excess <= 0 {
		return
	}
	sort.Slice(others, func(i, j int) bool { return others[i].refreshSeq < others[j].refreshSeq })
	for _, g := range others[:excess] {
		s.revokeFamily(g, events.ReasonMaxFamilies)
	}
}

// usable reports whether a refresh token would be accepted now. s.mu must be held.
func (s *Store) usable(t *token) bool {
	if t.revoked || t.fam.revoked {
		return false
	}
	if s.superseded(t) {
		return false
	}
	deadline, _, _ := s.refreshDeadline(t)
	return deadline.IsZero() || s.clock.Now().Before(deadline)
}

// hasUsableRefresh reports whether any refresh token of f would be accepted now. s.mu must be held.
func (s *Store) hasUsableRefresh(f *family) bool {
	for _, t := range f.refresh {
		if s.usable(t) {
			return true
		}
	}
	return false
}

// GetRefreshTokenSession returns the request behind a usable refresh token.
// A superseded token outside its grace window is refused: with reuse
// detection it comes back with fosite.ErrInactiveToken, which makes fosite
// revoke the family; without, as unknown.
func (s *Store) GetRefreshTokenSession(ctx context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.live(ctx, s.refresh, sig)
	if err != nil {
		return nil, err
	}
	if !s.superseded(t) {
		return copyRequest(t.req), nil
	}
	o := OpFrom(ctx)
	exchanging := o != nil && o.GrantType == "refresh_token"
	if s.policy.Refresh.ReuseDetection == profile.ReuseRevokeFamily {
		deny(ctx, events.RefusedReused, "refresh token reuse detected")
		if exchanging {
			s.emit(events.Event{Kind: events.RefreshReuseDetected, TokenType: string(t.kind), Token: t.fingerprint(),
				Detail: fmt.Sprintf("superseded at %s", t.used.Format(time.RFC3339))}, t.fam)
		}
		return copyRequest(t.req), fosite.ErrInactiveToken
	}
	deny(ctx, events.RefusedReused, "refresh token already used")
	return nil, fosite.ErrNotFound
}

// superseded reports whether a refresh token was rotated away and is past
// any grace window: presenting it again is reuse. s.mu must be held.
func (s *Store) superseded(t *token) bool {
	switch s.policy.Refresh.Rotation {
	case profile.RotationNone, profile.RotationRotateKeepOld:
		return false
	}
	return !t.used.IsZero() && !s.inGrace(t)
}

// inGrace reports whether a used refresh token is still accepted. s.mu must be held.
func (s *Store) inGrace(t *token) bool {
	r := s.policy.Refresh
	return r.Rotation == profile.RotationRotateWithGrace && !t.childUsed &&
		s.clock.Now().Before(t.used.Add(r.Grace.D()))
}

// RotateRefreshToken supersedes the refresh token a refresh grant used. When
// the token is kept (rotation "none", a token younger than rotate_after, or
// an Op asking to keep it) it only records the use.
func (s *Store) RotateRefreshToken(ctx context.Context, _ string, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.live(ctx, s.refresh, sig)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	o := OpFrom(ctx)
	r := s.policy.Refresh
	notDue := r.RotateAfter > 0 && now.Sub(t.issued) < r.RotateAfter.D()
	if r.Rotation == profile.RotationNone || (o != nil && o.Mint.KeepRefresh) || notDue {
		t.lastUsed = now
		if o != nil {
			o.keepRefresh = true
			// A periodic rotation not yet due answers with the token it
			// was given (Intuit's "the latest refresh_token returned");
			// a provider that never rotates answers with none (Google).
			o.RefreshUnchanged = notDue && r.Rotation != profile.RotationNone && !o.Mint.KeepRefresh && !o.Mint.DropRefresh
		}
		return nil
	}
	var dropped string
	if o != nil && o.Mint.DropRefresh {
		dropped = "no refresh token minted in its place"
	}
	switch {
	case r.Rotation == profile.RotationRotateKeepOld:
		// The old token is not superseded: it stays usable until it expires,
		// and its use keeps its idle timer running like any other.
		if t.used.IsZero() {
			t.used = now
		}
		t.lastUsed = now
		s.emit(events.Event{Kind: events.RefreshRotated, TokenType: string(t.kind), Token: t.fingerprint(),
			Detail: joinDetail("the old refresh token stays valid (rotate_keep_old)", dropped)}, t.fam)
	case t.used.IsZero():
		t.used = now
		if t.parent != nil {
			t.parent.childUsed = true
		}
		s.emit(events.Event{Kind: events.RefreshRotated, TokenType: string(t.kind), Token: t.fingerprint(), Detail: dropped}, t.fam)
	case s.superseded(t):
		// Another request superseded the token since this one read it. The
		// simulator serializes token requests per family, so this is a guard:
		// refuse rather than let two requests rotate one token.
		return fosite.ErrSerializationFailure
	default:
		s.emit(events.Event{Kind: events.RefreshGraceReuse, TokenType: string(t.kind), Token: t.fingerprint(),
			Detail: joinDetail(fmt.Sprintf("first used at %s", t.used.Format(time.RFC3339)), dropped)}, t.fam)
	}
	if o != nil {
		o.rotatedFrom = t
	}
	return nil
}

// joinDetail joins the parts of an event's detail that are not empty.
func joinDetail(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), "; ")
}

// DeleteRefreshTokenSession revokes one refresh token.
func (s *Store) DeleteRefreshTokenSession(_ context.Context, sig string) error {
	return s.revokeToken(s.refresh, sig)
}

func (s *Store) revokeToken(table map[string]*token, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := table[sig]
	if !ok {
		return fosite.ErrNotFound
	}
	if !t.revoked {
		t.revoked, t.revokedAt = true, s.clock.Now()
	}
	return nil
}

// RevokeRefreshToken revokes the family with the given request ID. fosite
// calls it for RFC 7009 revocation and after detecting code or refresh-token
// reuse; the reason recorded follows from the operation in ctx.
func (s *Store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	return s.revokeByRequestID(ctx, requestID)
}

// RevokeAccessToken revokes the family with the given request ID, access
// tokens included.
func (s *Store) RevokeAccessToken(ctx context.Context, requestID string) error {
	return s.revokeByRequestID(ctx, requestID)
}

func (s *Store) revokeByRequestID(ctx context.Context, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.families[requestID]
	if !ok {
		return fosite.ErrNotFound
	}
	s.revokeFamily(f, OpFrom(ctx).revocationReason())
	return nil
}

// revokeFamily kills every token of f. Revoking twice keeps the first
// reason. s.mu must be held.
func (s *Store) revokeFamily(f *family, reason string) bool {
	if f.revoked {
		return false
	}
	f.revoked, f.revokedAt, f.reason = true, s.clock.Now(), reason
	kind := events.FamilyRevoked
	if reason == events.ReasonMaxFamilies {
		kind = events.FamilyEvicted
	}
	s.emit(events.Event{Kind: kind, Reason: reason}, f)
	return true
}

// CreatePKCERequestSession stores the PKCE challenge of an authorization code.
func (s *Store) CreatePKCERequestSession(_ context.Context, sig string, r fosite.Requester) error {
	return s.put(s.pkce, sig, r)
}

// GetPKCERequestSession returns the PKCE challenge of an authorization code.
func (s *Store) GetPKCERequestSession(_ context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	return s.get(s.pkce, sig)
}

// DeletePKCERequestSession forgets the PKCE challenge of an authorization code.
func (s *Store) DeletePKCERequestSession(_ context.Context, sig string) error {
	return s.del(s.pkce, sig)
}

// CreateOpenIDConnectSession stores the OpenID Connect request of an authorization code.
func (s *Store) CreateOpenIDConnectSession(_ context.Context, code string, r fosite.Requester) error {
	return s.put(s.oidc, code, r)
}

// GetOpenIDConnectSession returns the OpenID Connect request of an authorization code.
func (s *Store) GetOpenIDConnectSession(_ context.Context, code string, _ fosite.Requester) (fosite.Requester, error) {
	return s.get(s.oidc, code)
}

// DeleteOpenIDConnectSession forgets the OpenID Connect request of an authorization code.
func (s *Store) DeleteOpenIDConnectSession(_ context.Context, code string) error {
	return s.del(s.oidc, code)
}

func (s *Store) put(m map[string]fosite.Requester, key string, r fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m[key] = copyRequest(r)
	return nil
}

func (s *Store) get(m map[string]fosite.Requester, key string) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := m[key]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	return copyRequest(r), nil
}

func (s *Store) del(m map[string]fosite.Requester, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(m, key)
	return nil
}

// CheckExpiry tells the token strategy whether the token of kind under sig
// has outlived its sim-time lifetime. It answers fosite.ErrTokenExpired with
// the reason as hint, and nil for live or unknown tokens (the lookup that
// precedes validation refuses unknown ones).
func (s *Store) CheckExpiry(ctx context.Context, kind fosite.TokenType, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t *token
	switch kind {
	case fosite.AccessToken:
		t = s.access[sig]
	case fosite.RefreshToken:
		t = s.refresh[sig]
	case fosite.AuthorizeCode:
		t = s.codes[sig]
	}
	if t == nil {
		return nil
	}
	deadline, code, why := t.expires, events.RefusedExpired, string(kind)+" expired"
	if kind == fosite.RefreshToken {
		deadline, code, why = s.refreshDeadline(t)
	}
	if deadline.IsZero() || s.clock.Now().Before(deadline) {
		return nil
	}
	deny(ctx, code, why)
	return fosite.ErrTokenExpired.WithHintf("The %s at %s.", why, deadline.UTC().Format(time.RFC3339))
}

// refreshDeadline is the earliest of a refresh token's idle and absolute
// deadlines, with the refusal code and reason it dies then; zero when it
// never expires. s.mu must be held.
func (s *Store) refreshDeadline(t *token) (time.Time, string, string) {
	r := s.policy.Refresh
	var deadline time.Time
	var code, why string
	earliest := func(d time.Time, c, reason string) {
		if deadline.IsZero() || d.Before(deadline) {
			deadline, code, why = d, c, reason
		}
	}
	if r.IdleTimeout > 0 {
		active := t.issued
		if t.lastUsed.After(active) {
			active = t.lastUsed
		}
		earliest(active.Add(r.IdleTimeout.D()), events.RefusedInactive, "refresh token expired after its idle timeout")
	}
	if r.AbsoluteLifetime > 0 {
		start := t.issued
		if r.AbsoluteMode == profile.AbsoluteInherited && !t.fam.firstRefresh.IsZero() {
			start = t.fam.firstRefresh
		}
		earliest(start.Add(r.AbsoluteLifetime.D()), events.RefusedExpired, "refresh token reached its absolute lifetime")
	}
	if at := s.testingAppDeadline(t.fam); !at.IsZero() {
		earliest(at, events.RefusedTestingApp, fmt.Sprintf("refresh token of a testing app expired %s after consent", s.policy.TestingAppExpiry))
	}
	return deadline, code, why
}

// LockFamilyOf locks the family that owns the token of kind under sig and
// returns the unlock function. Token requests hold it from the moment they
// read a code or refresh token until they have stored what it became, so
// that of N concurrent requests with one refresh token exactly one rotates
// it and the others see it superseded. Unknown tokens lock nothing.
func (s *Store) LockFamilyOf(kind fosite.TokenType, sig string) (unlock func()) {
	s.mu.Lock()
	var t *token
	switch kind {
	case fosite.RefreshToken:
		t = s.refresh[sig]
	case fosite.AuthorizeCode:
		t = s.codes[sig]
	}
	s.mu.Unlock()
	if t == nil {
		return func() {}
	}
	t.fam.lock.Lock()
	return t.fam.lock.Unlock
}
