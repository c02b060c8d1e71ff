// Package family is the simulator's token store. Every authorization starts
// a family: its authorization code, the chain of refresh tokens and every
// access token minted from them. The store implements the storage interfaces
// fosite needs, and on top of them the lifecycle rules of a provider profile:
// rotation (none, rotate, rotate with grace), reuse detection, idle and
// absolute refresh lifetimes, a cap on live families per user and client, and
// revocation by token, family, user, client or all. Access and refresh
// tokens carry their own claims (see claims.go): the store keeps records of
// codes and of the refresh tokens whose state still matters, so a family
// refreshed a million times holds no more than one refreshed once (but
// under rotate_keep_old, where every old token stays usable).
//
// All times are sim times read from the store's clock. fosite keeps its own
// wall-clock expiry in each session; the simulator's token strategy ignores
// that and asks CheckExpiry instead.
package family

import (
	"cmp"
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
	clock  clockwork.Clock
	log    *events.Log
	policy profile.Profile
	// clientPolicy, when set, is the profile as it governs one client's
	// tokens: policy amended by the client's own lifetimes.
	clientPolicy func(client string) profile.Profile

	mu       sync.Mutex
	counter  uint64 // orders families; sim times tie on a clock that stands still
	families map[string]*family
	codes    map[string]*token
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
	// req is the stored copy of the request of the family's first token.
	// Every token of the family answers with a copy of it (an access token
	// with its own scope): they differ only in the expiry times fosite
	// keeps in their sessions, which the store does not go by.
	req fosite.Requester
	// refresh holds, in serial order, the refresh tokens whose state still
	// matters: those not used yet, those inside a grace window, those a
	// refresh keeps. A token a rotation superseded is forgotten: its claims
	// name its family and serial, and a serial the family minted that has
	// no record here was superseded, which is all reuse detection needs.
	refresh []*token
	// minted is the last refresh-token serial handed out; issued counts
	// the refresh tokens stored (a minted token can be withheld).
	minted uint64
	issued int
	// accessIssued counts the access tokens minted for the family, and
	// access counts those that have not expired by when they expire.
	accessIssued int
	access       expiries
	// revokedAccess holds the access tokens revoked one by one, by key.
	revokedAccess map[string]time.Time
	// lock serializes token requests that act on this family, so that
	// checking a refresh token and superseding it happen as one step.
	lock sync.Mutex
}

// token is the record of an authorization code or of a refresh token whose
// state matters (see family.refresh). Access tokens have none.
type token struct {
	kind fosite.TokenType
	// fp is the token's fingerprint, all the events need of its key.
	fp      string
	fam     *family
	issued  time.Time
	expires time.Time // codes; refresh deadlines are computed
	used    time.Time // first redemption of a code or refresh token
	// lastUsed is the latest use of a refresh token that is never rotated.
	lastUsed time.Time
	// serial is a refresh token's place in its family, and parent the
	// serial of the token it was rotated from (0 for none).
	serial, parent uint64
	// childUsed is set once the token this one was rotated into has itself
	// been used: from then on the grace window no longer applies to it.
	childUsed bool
	revoked   bool
	revokedAt time.Time
	// forgotten marks a stand-in for a refresh token the store no longer
	// keeps because a rotation superseded it.
	forgotten bool
}

// New returns an empty store governed by p, reading time from clock and
// recording state changes in log.
func New(clock clockwork.Clock, log *events.Log, p profile.Profile) *Store {
	return &Store{
		clock: clock, log: log, policy: p,
		families: map[string]*family{},
		codes:    map[string]*token{},
		pkce:     map[string]fosite.Requester{},
		oidc:     map[string]fosite.Requester{},
		byUser:   map[string]map[string]*family{},
		byClient: map[string]map[string]*family{},
	}
}

// Policy returns the profile in force.
func (s *Store) Policy() profile.Profile { return s.policy }

// SetClientPolicies makes the store govern each client's tokens by what
// of returns for it (the access-token lifetime and the refresh policy),
// in place of the profile in force. It must be called before the store
// serves any request. of is called with the store's lock held, and must
// not call the store.
func (s *Store) SetClientPolicies(of func(client string) profile.Profile) { s.clientPolicy = of }

// policyFor is the profile as it governs the tokens of client.
func (s *Store) policyFor(client string) profile.Profile {
	if s.clientPolicy == nil {
		return s.policy
	}
	return s.clientPolicy(client)
}

// refreshPolicy is the refresh-token policy of family f's client.
func (s *Store) refreshPolicy(f *family) profile.Refresh { return s.policyFor(f.client).Refresh }

func (t *token) fingerprint() string { return t.fp }

// newToken is the record of the token of kind under key, of family f.
func newToken(kind fosite.TokenType, key string, f *family) *token {
	return &token{kind: kind, fp: events.Fingerprint(string(kind), key), fam: f}
}

// record is f's record of the refresh token with serial, nil when f keeps none.
func (f *family) record(serial uint64) *token {
	i, found := slices.BinarySearchFunc(f.refresh, serial, func(t *token, serial uint64) int { return cmp.Compare(t.serial, serial) })
	if !found {
		return nil
	}
	return f.refresh[i]
}

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

// request returns a copy of the family's request granting scopes.
func (f *family) request(scopes []string) fosite.Requester {
	c := copyRequest(f.req)
	if req, ok := c.(*fosite.Request); ok && !slices.Equal(req.GrantedScope, scopes) {
		req.GrantedScope = slices.Clone(scopes)
	}
	return c
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
		testingApp: consentedInTesting(r), scopes: slices.Clone(r.GetGrantedScopes()), req: copyRequest(r)}
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

// announce records the issue of the token of kind under key, of family f,
// expiring at expires (zero for no fixed expiry) and rotated from parent
// (nil for none). s.mu must be held.
func (s *Store) announce(ctx context.Context, kind fosite.TokenType, key string, f *family, expires time.Time, parent *token) {
	OpFrom(ctx).observe(f)
	e := events.Event{Kind: events.TokenIssued, TokenType: string(kind), Token: events.Fingerprint(string(kind), key)}
	if !expires.IsZero() {
		// The store runs on the provider's clock, which a skew fault moves
		// off the sim clock events are stamped with: the event gives the
		// expiry on the events' axis, as long after its time as the token
		// has to live.
		e.Time = s.log.Now()
		exp := e.Time.Add(expires.Sub(s.clock.Now()))
		e.ExpiresAt = &exp
	}
	if parent != nil {
		e.Parent = parent.fingerprint()
	}
	s.emit(e, f)
}

// Claim decides what the access or refresh token fosite is about to mint
// for r says of itself, and returns it encoded for the token strategy,
// which makes the token around it and its store key with Key: an access
// token's issue time, expiry (the profile's lifetime, or what the request's
// Op mints instead) and scope; a refresh token's family serial.
func (s *Store) Claim(ctx context.Context, kind fosite.TokenType, r fosite.Requester) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := claims{kind: kind, family: r.GetID(), issued: s.clock.Now()}
	switch kind {
	case fosite.AccessToken:
		policy := s.policy
		if client := r.GetClient(); client != nil {
			policy = s.policyFor(client.GetID())
		}
		lifetime := policy.AccessTokenLifetime.D()
		if o := OpFrom(ctx); o != nil {
			if o.Mint.AccessLifetime > 0 {
				lifetime = o.Mint.AccessLifetime
			}
			c.issued = c.issued.Add(-o.Mint.Backdate)
		}
		if lifetime > 0 {
			c.expires = c.issued.Add(lifetime)
		}
		c.scopes = r.GetGrantedScopes()
	case fosite.RefreshToken:
		f := s.familyFor(r)
		f.minted++
		c.serial = f.minted
	}
	return c.encode()
}

// claimed reads the claims of key, a token of kind, and finds its family;
// ok is false for a key of another kind or of a family this store does not
// have (an unknown token). s.mu must be held.
func (s *Store) claimed(kind fosite.TokenType, key string) (claims, *family, bool) {
	c, ok := parseKey(key)
	if !ok || c.kind != kind {
		return claims{}, nil, false
	}
	f, ok := s.families[c.family]
	return c, f, ok
}

// refreshToken returns the refresh token under key: its record, or a
// stand-in for one a rotation superseded and the store forgot. s.mu must
// be held.
func (s *Store) refreshToken(key string) *token {
	c, f, ok := s.claimed(fosite.RefreshToken, key)
	if !ok || c.serial == 0 || c.serial > f.minted {
		return nil
	}
	if t := f.record(c.serial); t != nil {
		return t
	}
	t := newToken(fosite.RefreshToken, key, f)
	t.serial, t.issued, t.forgotten = c.serial, c.issued, true
	return t
}

// live checks t, found under its key (nil when not), the way every use of
// a token starts: unknown, in a revoked family, revoked itself. s.mu must
// be held.
func (s *Store) live(ctx context.Context, t *token) error {
	if t == nil {
		deny(ctx, events.RefusedUnknown, "unknown token")
		return fosite.ErrNotFound
	}
	return s.alive(ctx, t.fam, t.revoked)
}

// alive checks a token of family f the store found, revoked itself or not.
// s.mu must be held.
func (s *Store) alive(ctx context.Context, f *family, revoked bool) error {
	OpFrom(ctx).observe(f)
	switch {
	case f.revoked:
		deny(ctx, events.RefusedRevoked, "family revoked: "+f.reason)
		return fosite.ErrNotFound
	case revoked:
		deny(ctx, events.RefusedRevoked, "token revoked")
		return fosite.ErrNotFound
	}
	return nil
}

// foreign refuses a code or refresh token of family f that a token request
// presents for a client other than f's: RFC 6749 binds both to the client
// they were issued to (§4.1.3, §6). It comes before every other check, so
// that whatever state the grant is in, another client's request neither
// learns it nor changes it: no reuse detection, no revocation, no use
// that keeps an idle timer running. s.mu must be held.
func (s *Store) foreign(ctx context.Context, t *token) error {
	o := OpFrom(ctx)
	if o == nil || o.Caller == "" || o.Caller == t.fam.client {
		return nil
	}
	if o.GrantType != "refresh_token" && o.GrantType != "authorization_code" {
		// Revocation and introspection answer another client's token
		// as fosite has them.
		return nil
	}
	o.observe(t.fam)
	o.Client, o.Owner = o.Caller, t.fam.client
	what := "refresh token"
	if t.kind == fosite.AuthorizeCode {
		what = "authorization code"
	}
	deny(ctx, events.RefusedWrongClient, fmt.Sprintf("the %s was issued to client %q, not to %q", what, t.fam.client, o.Caller))
	return fosite.ErrNotFound
}

// CreateAuthorizeCodeSession stores an authorization code.
func (s *Store) CreateAuthorizeCodeSession(ctx context.Context, sig string, r fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.familyFor(r)
	t := newToken(fosite.AuthorizeCode, sig, f)
	t.issued = s.clock.Now()
	if lifetime := s.policy.CodeLifetime.D(); lifetime > 0 {
		t.expires = t.issued.Add(lifetime)
	}
	s.codes[sig] = t
	if f.code == nil {
		o := OpFrom(ctx)
		f.code, f.withholdRefresh = t, o != nil && o.WithholdRefresh
	}
	s.announce(ctx, t.kind, sig, f, t.expires, nil)
	return nil
}

// GetAuthorizeCodeSession returns the authorization request behind a code.
// A code redeemed before comes back with fosite.ErrInvalidatedAuthorizeCode,
// which makes fosite revoke everything issued for it (RFC 6749 §4.1.2).
func (s *Store) GetAuthorizeCodeSession(ctx context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.codes[sig]
	if t != nil {
		if err := s.foreign(ctx, t); err != nil {
			return nil, err
		}
	}
	if err := s.live(ctx, t); err != nil {
		return nil, err
	}
	if !t.used.IsZero() {
		deny(ctx, events.RefusedRedeemed, "authorization code already redeemed")
		if o := OpFrom(ctx); o != nil && o.GrantType == "authorization_code" {
			s.emit(events.Event{Kind: events.CodeReuseDetected, TokenType: string(t.kind), Token: t.fingerprint()}, t.fam)
		}
		return copyRequest(t.fam.req), fosite.ErrInvalidatedAuthorizeCode
	}
	return copyRequest(t.fam.req), nil
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

// CreateAccessTokenSession records the issue of an access token; its key
// holds everything the store needs of it later.
func (s *Store) CreateAccessTokenSession(ctx context.Context, key string, r fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := parseKey(key)
	if !ok || c.kind != fosite.AccessToken {
		return fmt.Errorf("store access token: the key holds no access token's claims (%w)", errClaims)
	}
	f := s.familyFor(r)
	f.accessIssued++
	f.access.add(c.expires, s.clock.Now())
	s.announce(ctx, fosite.AccessToken, key, f, c.expires, nil)
	if o := OpFrom(ctx); o != nil {
		o.AccessExpiresAt = c.expires
	}
	return nil
}

// GetAccessTokenSession returns the request behind a live access token.
func (s *Store) GetAccessTokenSession(ctx context.Context, key string, _ fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, f, ok := s.claimed(fosite.AccessToken, key)
	if !ok {
		deny(ctx, events.RefusedUnknown, "unknown token")
		return nil, fosite.ErrNotFound
	}
	_, revoked := f.revokedAccess[key]
	if err := s.alive(ctx, f, revoked); err != nil {
		return nil, err
	}
	return f.request(c.scopes), nil
}

// DeleteAccessTokenSession revokes one access token.
func (s *Store) DeleteAccessTokenSession(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, f, ok := s.claimed(fosite.AccessToken, key)
	if !ok {
		return fosite.ErrNotFound
	}
	if _, done := f.revokedAccess[key]; !done {
		if f.revokedAccess == nil {
			f.revokedAccess = map[string]time.Time{}
		}
		f.revokedAccess[key] = s.clock.Now()
	}
	return nil
}

// CreateRefreshTokenSession stores a refresh token. Under rotation "none" a
// refresh grant's new token is discarded: the client keeps the one it has.
func (s *Store) CreateRefreshTokenSession(ctx context.Context, key, _ string, r fosite.Requester) error {
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
	c, ok := parseKey(key)
	if !ok || c.kind != fosite.RefreshToken {
		return fmt.Errorf("store refresh token: the key holds no refresh token's claims (%w)", errClaims)
	}
	f = s.familyFor(r)
	t := newToken(fosite.RefreshToken, key, f)
	t.serial, t.issued = c.serial, c.issued
	var parent *token
	if o != nil && o.rotatedFrom != nil {
		parent = o.rotatedFrom
		t.parent = parent.serial
	}
	// Serials grow with each token minted, so appending keeps the order.
	f.refresh = append(f.refresh, t)
	f.issued++
	s.announce(ctx, t.kind, key, f, time.Time{}, parent)
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
func (s *Store) GetRefreshTokenSession(ctx context.Context, key string, _ fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.refreshToken(key)
	if t != nil {
		if err := s.foreign(ctx, t); err != nil {
			return nil, err
		}
	}
	if err := s.live(ctx, t); err != nil {
		return nil, err
	}
	if !s.superseded(t) {
		return copyRequest(t.fam.req), nil
	}
	o := OpFrom(ctx)
	exchanging := o != nil && o.GrantType == "refresh_token"
	if s.policy.Refresh.ReuseDetection == profile.ReuseRevokeFamily {
		deny(ctx, events.RefusedReused, "refresh token reuse detected")
		if exchanging {
			s.emit(events.Event{Kind: events.RefreshReuseDetected, TokenType: string(t.kind), Token: t.fingerprint(),
				Detail: supersededWhen(t)}, t.fam)
		}
		return copyRequest(t.fam.req), fosite.ErrInactiveToken
	}
	deny(ctx, events.RefusedReused, "refresh token already used")
	return nil, fosite.ErrNotFound
}

// supersededWhen says when a superseded refresh token was used, where the
// store still knows.
func supersededWhen(t *token) string {
	if t.forgotten {
		return fmt.Sprintf("superseded: refresh token %d of its family, which has minted %d", t.serial, t.fam.minted)
	}
	return fmt.Sprintf("superseded at %s", t.used.Format(time.RFC3339))
}

// superseded reports whether a refresh token was rotated away and is past
// any grace window: presenting it again is reuse. s.mu must be held.
func (s *Store) superseded(t *token) bool {
	if t.forgotten {
		return true
	}
	switch s.refreshPolicy(t.fam).Rotation {
	case profile.RotationNone, profile.RotationRotateKeepOld:
		return false
	}
	return !t.used.IsZero() && !s.inGrace(t)
}

// inGrace reports whether a used refresh token is still accepted. s.mu must be held.
func (s *Store) inGrace(t *token) bool {
	r := s.refreshPolicy(t.fam)
	return r.Rotation == profile.RotationRotateWithGrace && !t.childUsed &&
		s.clock.Now().Before(t.used.Add(r.Grace.D()))
}

// forgetSuperseded drops the records of f's superseded refresh tokens: a
// stand-in answers for them (refreshToken). s.mu must be held.
func (s *Store) forgetSuperseded(f *family) {
	f.refresh = slices.DeleteFunc(f.refresh, s.superseded)
}

// RotateRefreshToken supersedes the refresh token a refresh grant used. When
// the token is kept (rotation "none", a token younger than rotate_after, or
// an Op asking to keep it) it only records the use.
func (s *Store) RotateRefreshToken(ctx context.Context, _ string, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.refreshToken(key)
	if err := s.live(ctx, t); err != nil {
		return err
	}
	now := s.clock.Now()
	o := OpFrom(ctx)
	r := s.refreshPolicy(t.fam)
	notDue := r.RotateAfter > 0 && now.Sub(t.issued) < r.RotateAfter.D()
	if !t.forgotten && (r.Rotation == profile.RotationNone || (o != nil && o.Mint.KeepRefresh) || notDue) {
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
	case t.forgotten || s.superseded(t):
		// Another request superseded the token since this one read it. The
		// simulator serializes token requests per family, so this is a guard:
		// refuse rather than let two requests rotate one token.
		return fosite.ErrSerializationFailure
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
		if p := t.fam.record(t.parent); p != nil {
			p.childUsed = true
		}
		s.emit(events.Event{Kind: events.RefreshRotated, TokenType: string(t.kind), Token: t.fingerprint(), Detail: dropped}, t.fam)
	default:
		s.emit(events.Event{Kind: events.RefreshGraceReuse, TokenType: string(t.kind), Token: t.fingerprint(),
			Detail: joinDetail(fmt.Sprintf("first used at %s", t.used.Format(time.RFC3339)), dropped)}, t.fam)
	}
	if o != nil {
		o.rotatedFrom = t
	}
	s.forgetSuperseded(t.fam)
	return nil
}

// joinDetail joins the parts of an event's detail that are not empty.
func joinDetail(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), "; ")
}

// DeleteRefreshTokenSession revokes one refresh token. fosite calls it on
// the token whose reuse it detected, and then revokes its family.
func (s *Store) DeleteRefreshTokenSession(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.refreshToken(key)
	if t == nil {
		return fosite.ErrNotFound
	}
	if !t.revoked && !t.forgotten {
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
	o := OpFrom(ctx)
	s.mu.Lock()
	f, ok := s.families[requestID]
	if !ok {
		s.mu.Unlock()
		return fosite.ErrNotFound
	}
	if o == nil || !o.Revocation {
		// A token request that detected reuse holds its family's lock.
		defer s.mu.Unlock()
		s.revokeFamily(f, o.revocationReason())
		return nil
	}
	// An RFC 7009 revocation holds none: it takes the lock, so that a
	// refresh racing it is refused with invalid_grant rather than told by
	// fosite to retry (invalid_request).
	s.mu.Unlock()
	s.revokeLocked([]*family{f}, o.revocationReason())
	return nil
}

// revokeFamily kills every token of f. Revoking twice keeps the first
// reason. The family no longer needs what it kept of its tokens: it refuses
// every one as revoked. s.mu must be held.
func (s *Store) revokeFamily(f *family, reason string) bool {
	if f.revoked {
		return false
	}
	f.revoked, f.revokedAt, f.reason = true, s.clock.Now(), reason
	f.refresh = nil
	f.access, f.revokedAccess = expiries{}, nil
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

// CheckExpiry tells the token strategy whether the token of kind under key
// has outlived its sim-time lifetime. It answers fosite.ErrTokenExpired with
// the reason as hint, and nil for live or unknown tokens (the lookup that
// precedes validation refuses unknown ones).
func (s *Store) CheckExpiry(ctx context.Context, kind fosite.TokenType, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var deadline time.Time
	code, why := events.RefusedExpired, string(kind)+" expired"
	switch kind {
	case fosite.AccessToken:
		c, _, ok := s.claimed(kind, key)
		if !ok {
			return nil
		}
		deadline = c.expires
	case fosite.RefreshToken:
		t := s.refreshToken(key)
		if t == nil {
			return nil
		}
		deadline, code, why = s.refreshDeadline(t)
	case fosite.AuthorizeCode:
		t := s.codes[key]
		if t == nil {
			return nil
		}
		deadline = t.expires
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
	r := s.refreshPolicy(t.fam)
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

// LockFamilyOf locks the family that owns the token of kind under key and
// returns the unlock function. Token requests hold it from the moment they
// read a code or refresh token until they have stored what it became, so
// that of N concurrent requests with one refresh token exactly one rotates
// it and the others see it superseded. Unknown tokens lock nothing.
func (s *Store) LockFamilyOf(kind fosite.TokenType, key string) (unlock func()) {
	s.mu.Lock()
	var f *family
	switch kind {
	case fosite.RefreshToken:
		if t := s.refreshToken(key); t != nil {
			f = t.fam
		}
	case fosite.AuthorizeCode:
		if t := s.codes[key]; t != nil {
			f = t.fam
		}
	}
	s.mu.Unlock()
	if f == nil {
		return func() {}
	}
	f.lock.Lock()
	return f.lock.Unlock
}
