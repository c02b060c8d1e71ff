package family_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/internal/family"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// rig is a store on a fake clock, driven the way fosite's handlers drive
// it: these specs are the store's contract with them.
type rig struct {
	clock *clockwork.FakeClock
	log   *events.Log
	store *family.Store
	n     int
}

func newRig(refresh profile.Refresh) *rig {
	p := profile.Generic()
	p.Refresh = refresh
	fake := clockwork.NewFakeClockAt(epoch)
	log := events.NewLog(fake.Now)
	return &rig{clock: fake, log: log, store: family.New(fake, log, p)}
}

// grant is what one authorization left: its family and current refresh token.
type grant struct {
	req     *fosite.Request
	refresh string
}

func (r *rig) sig(prefix string) string {
	r.n++
	return fmt.Sprintf("%s-%d", prefix, r.n)
}

// key mints the key of a new token of kind for req, as the simulator's
// token strategy does around the claims the store decides.
func (r *rig) key(ctx context.Context, kind fosite.TokenType, req fosite.Requester) string {
	return family.Key(r.store.Claim(ctx, kind, req), r.sig(string(kind)))
}

// authorize stores a code and redeems it for an access and a refresh
// token, as the authorization-code flow does.
func (r *rig) authorize(client, user string) grant {
	GinkgoHelper()
	req := fosite.NewRequest()
	req.Client = &fosite.DefaultClient{ID: client}
	req.Session = &openid.DefaultSession{Subject: user}
	req.GrantedScope = fosite.Arguments{"openid", "offline_access", "api"}
	ctx := family.WithOp(context.Background(), &family.Op{GrantType: "authorization_code"})
	code := r.sig("code")
	Expect(r.store.CreateAuthorizeCodeSession(ctx, code, req)).To(Succeed())
	_, err := r.store.GetAuthorizeCodeSession(ctx, code, nil)
	Expect(err).NotTo(HaveOccurred())
	Expect(r.store.InvalidateAuthorizeCodeSession(ctx, code)).To(Succeed())
	Expect(r.store.CreateAccessTokenSession(ctx, r.key(ctx, fosite.AccessToken, req), req)).To(Succeed())
	rt := r.key(ctx, fosite.RefreshToken, req)
	Expect(r.store.CreateRefreshTokenSession(ctx, rt, "", req)).To(Succeed())
	return grant{req: req, refresh: rt}
}

// refresh exchanges a refresh token as fosite's refresh handler does and
// answers the new refresh token ("" when none was stored), the Op the
// store filled in and the error of the first step that failed.
func (r *rig) refresh(g grant, presented string) (string, *family.Op, error) {
	op := &family.Op{GrantType: "refresh_token"}
	ctx := family.WithOp(context.Background(), op)
	if err := r.store.CheckExpiry(ctx, fosite.RefreshToken, presented); err != nil {
		return "", op, err
	}
	req, err := r.store.GetRefreshTokenSession(ctx, presented, nil)
	if err != nil {
		if err == fosite.ErrInactiveToken {
			// fosite revokes the whole grant when it sees a reused token.
			Expect(r.store.RevokeRefreshToken(ctx, req.GetID())).To(Succeed())
		}
		return "", op, err
	}
	if err := r.store.RotateRefreshToken(ctx, req.GetID(), presented); err != nil {
		return "", op, err
	}
	Expect(r.store.CreateAccessTokenSession(ctx, r.key(ctx, fosite.AccessToken, req), req)).To(Succeed())
	next := r.key(ctx, fosite.RefreshToken, req)
	Expect(r.store.CreateRefreshTokenSession(ctx, next, "", req)).To(Succeed())
	if op.RefreshDropped {
		return "", op, nil
	}
	return next, op, nil
}

func (r *rig) kinds() []events.Kind {
	var out []events.Kind
	for _, e := range r.log.Since(0) {
		out = append(out, e.Kind)
	}
	return out
}

func (r *rig) family(id string) family.Info {
	GinkgoHelper()
	for _, f := range r.store.Families() {
		if f.ID == id {
			return f
		}
	}
	Fail("no family " + id)
	return family.Info{}
}

var _ = Describe("Store", func() {
	rotate := profile.Refresh{Rotation: profile.RotationRotate, ReuseDetection: profile.ReuseRevokeFamily}

	Describe("rotation with reuse detection", func() {
		It("supersedes the presented refresh token and revokes the family when it comes back", func() {
			r := newRig(rotate)
			g := r.authorize("app", "alice")
			next, op, err := r.refresh(g, g.refresh)
			Expect(err).NotTo(HaveOccurred())
			Expect(next).NotTo(BeEmpty())
			Expect(op.Family).To(Equal(g.req.GetID()))
			Expect(op.User).To(Equal("alice"))

			_, op, err = r.refresh(g, g.refresh)
			Expect(err).To(MatchError(fosite.ErrInactiveToken))
			Expect(op.Refusal).To(Equal(events.RefusedReused))
			Expect(r.kinds()).To(ContainElements(events.RefreshRotated, events.RefreshReuseDetected, events.FamilyRevoked))
			Expect(r.family(g.req.GetID()).RevokeReason).To(Equal(events.ReasonReuseDetected))

			// The successor dies with the family.
			_, op, err = r.refresh(g, next)
			Expect(err).To(HaveOccurred())
			Expect(op.Refusal).To(Equal(events.RefusedRevoked))
		})

		It("refuses a reused token as unknown, and leaves the family alive, without reuse detection", func() {
			r := newRig(profile.Refresh{Rotation: profile.RotationRotate, ReuseDetection: profile.ReuseOff})
			g := r.authorize("app", "alice")
			next, _, err := r.refresh(g, g.refresh)
			Expect(err).NotTo(HaveOccurred())
			_, op, err := r.refresh(g, g.refresh)
			Expect(err).To(MatchError(fosite.ErrNotFound))
			Expect(op.Refusal).To(Equal(events.RefusedReused))
			_, _, err = r.refresh(g, next)
			Expect(err).NotTo(HaveOccurred())
		})
	})

	Describe("a grace window", func() {
		grace := profile.Refresh{Rotation: profile.RotationRotateWithGrace, Grace: profile.Duration(30 * time.Second), ReuseDetection: profile.ReuseRevokeFamily}

		It("accepts the previous token inside it, and not after it", func() {
			r := newRig(grace)
			g := r.authorize("app", "alice")
			_, _, err := r.refresh(g, g.refresh)
			Expect(err).NotTo(HaveOccurred())
			r.clock.Advance(29 * time.Second)
			_, _, err = r.refresh(g, g.refresh)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.kinds()).To(ContainElement(events.RefreshGraceReuse))
			r.clock.Advance(2 * time.Second)
			_, op, err := r.refresh(g, g.refresh)
			Expect(err).To(HaveOccurred())
			Expect(op.Refusal).To(Equal(events.RefusedReused))
		})

		It("closes once the successor has been used", func() {
			r := newRig(grace)
			g := r.authorize("app", "alice")
			next, _, err := r.refresh(g, g.refresh)
			Expect(err).NotTo(HaveOccurred())
			_, _, err = r.refresh(g, next)
			Expect(err).NotTo(HaveOccurred())
			_, op, err := r.refresh(g, g.refresh)
			Expect(err).To(HaveOccurred())
			Expect(op.Refusal).To(Equal(events.RefusedReused))
		})
	})

	It("keeps the refresh token under rotation none, and stores no new one", func() {
		r := newRig(profile.Refresh{Rotation: profile.RotationNone, ReuseDetection: profile.ReuseOff})
		g := r.authorize("app", "alice")
		for range 3 {
			next, op, err := r.refresh(g, g.refresh)
			Expect(err).NotTo(HaveOccurred())
			Expect(next).To(BeEmpty())
			Expect(op.RefreshDropped).To(BeTrue())
		}
		Expect(r.family(g.req.GetID()).RefreshTokens).To(Equal(1))
	})

	Describe("lifetimes, on the store's clock", func() {
		It("kills a refresh token left unused for its idle timeout, and a use restarts it", func() {
			r := newRig(profile.Refresh{Rotation: profile.RotationNone, ReuseDetection: profile.ReuseOff, IdleTimeout: profile.Duration(7 * 24 * time.Hour)})
			g := r.authorize("app", "alice")
			r.clock.Advance(6 * 24 * time.Hour)
			_, _, err := r.refresh(g, g.refresh)
			Expect(err).NotTo(HaveOccurred())
			r.clock.Advance(6 * 24 * time.Hour)
			_, _, err = r.refresh(g, g.refresh)
			Expect(err).NotTo(HaveOccurred(), "the use six days ago restarted the idle timer")
			r.clock.Advance(7*24*time.Hour + time.Second)
			_, op, err := r.refresh(g, g.refresh)
			Expect(err).To(MatchError(fosite.ErrTokenExpired))
			Expect(op.Refusal).To(Equal(events.RefusedInactive))
		})

		It("measures an inherited absolute lifetime from the family's first refresh token, through rotations", func() {
			r := newRig(profile.Refresh{Rotation: profile.RotationRotate, ReuseDetection: profile.ReuseRevokeFamily,
				AbsoluteLifetime: profile.Duration(10 * 24 * time.Hour), AbsoluteMode: profile.AbsoluteInherited})
			g := r.authorize("app", "alice")
			rt := g.refresh
			for range 9 {
				r.clock.Advance(24 * time.Hour)
				next, _, err := r.refresh(g, rt)
				Expect(err).NotTo(HaveOccurred())
				rt = next
			}
			r.clock.Advance(24 * time.Hour)
			_, op, err := r.refresh(g, rt)
			Expect(err).To(HaveOccurred())
			Expect(op.Refusal).To(Equal(events.RefusedExpired))
		})

		It("expires access tokens after the profile's lifetime, and not before", func() {
			r := newRig(rotate)
			req := fosite.NewRequest()
			req.Client = &fosite.DefaultClient{ID: "app"}
			req.Session = &openid.DefaultSession{Subject: "alice"}
			at := r.key(context.Background(), fosite.AccessToken, req)
			Expect(r.store.CreateAccessTokenSession(context.Background(), at, req)).To(Succeed())
			r.clock.Advance(time.Hour - time.Second)
			Expect(r.store.CheckExpiry(context.Background(), fosite.AccessToken, at)).To(Succeed())
			r.clock.Advance(time.Second)
			Expect(r.store.CheckExpiry(context.Background(), fosite.AccessToken, at)).To(MatchError(fosite.ErrTokenExpired))
		})
	})

	Describe("revocation", func() {
		It("revokes by user, by client and all, counting only families that were live", func() {
			r := newRig(rotate)
			a1 := r.authorize("app", "alice")
			r.authorize("other", "alice")
			r.authorize("app", "bob")
			Expect(r.store.RevokeUser("alice", events.ReasonPasswordChange)).To(Equal(2))
			Expect(r.store.RevokeClient("app", events.ReasonAdmin)).To(Equal(1), "alice's grant to app was revoked already")
			Expect(r.store.RevokeAll(events.ReasonSecurity)).To(Equal(0))
			Expect(r.family(a1.req.GetID()).RevokeReason).To(Equal(events.ReasonPasswordChange), "the first reason stays")
			_, op, err := r.refresh(a1, a1.refresh)
			Expect(err).To(HaveOccurred())
			Expect(op.Refusal).To(Equal(events.RefusedRevoked))
		})

		It("finds a family by any of its tokens, and says when there is none", func() {
			r := newRig(rotate)
			g := r.authorize("app", "alice")
			found, revoked := r.store.RevokeToken(g.refresh, events.ReasonUser)
			Expect(found).To(BeTrue())
			Expect(revoked).To(BeTrue())
			found, revoked = r.store.RevokeToken(g.refresh, events.ReasonUser)
			Expect(found).To(BeTrue())
			Expect(revoked).To(BeFalse())
			found, _ = r.store.RevokeToken("no-such-signature", events.ReasonUser)
			Expect(found).To(BeFalse())
		})
	})

	It("evicts the oldest family of a user and client beyond the profile's cap", func() {
		r := newRig(profile.Refresh{Rotation: profile.RotationRotate, ReuseDetection: profile.ReuseRevokeFamily, MaxFamiliesPerUserClient: 2})
		first := r.authorize("app", "alice")
		r.authorize("app", "alice")
		r.authorize("other", "alice") // another client's grants do not count
		Expect(r.family(first.req.GetID()).Revoked).To(BeFalse())
		r.authorize("app", "alice")
		Expect(r.family(first.req.GetID()).RevokeReason).To(Equal(events.ReasonMaxFamilies))
		Expect(r.kinds()).To(ContainElement(events.FamilyEvicted))
	})

	Describe("what it keeps", func() {
		It("keeps one refresh token of a family rotated a thousand times, and still detects reuse of the first", func() {
			r := newRig(rotate)
			g := r.authorize("app", "alice")
			rt := g.refresh
			for range 1000 {
				next, _, err := r.refresh(g, rt)
				Expect(err).NotTo(HaveOccurred())
				rt = next
			}
			refresh, buckets := r.store.Kept(g.req.GetID())
			Expect(refresh).To(Equal(1), "the newest refresh token; the ones it superseded travel in their claims")
			Expect(buckets).To(Equal(1), "1001 access tokens that expire in the same second")
			Expect(r.family(g.req.GetID())).To(And(
				HaveField("RefreshTokens", 1001), HaveField("AccessTokens", 1001), HaveField("LiveAccess", 1001), HaveField("LiveRefresh", 1)))

			_, op, err := r.refresh(g, g.refresh)
			Expect(err).To(MatchError(fosite.ErrInactiveToken))
			Expect(op.Refusal).To(Equal(events.RefusedReused))
			Expect(op.Family).To(Equal(g.req.GetID()))
			var reuse events.Event
			for _, e := range r.log.Since(0) {
				if e.Kind == events.RefreshReuseDetected {
					reuse = e
				}
			}
			Expect(reuse.Token).To(Equal(events.Fingerprint(string(fosite.RefreshToken), g.refresh)))
			Expect(reuse.Detail).To(Equal("superseded: refresh token 1 of its family, which has minted 1001"))
			Expect(r.family(g.req.GetID()).RevokeReason).To(Equal(events.ReasonReuseDetected))
			refresh, buckets = r.store.Kept(g.req.GetID())
			Expect([]int{refresh, buckets}).To(Equal([]int{0, 0}), "a revoked family refuses every token as revoked")
			_, op, err = r.refresh(g, rt)
			Expect(err).To(HaveOccurred())
			Expect(op.Refusal).To(Equal(events.RefusedRevoked))
		})

		It("keeps a superseded refresh token while its grace window is open, and forgets it after", func() {
			r := newRig(profile.Refresh{Rotation: profile.RotationRotateWithGrace, Grace: profile.Duration(30 * time.Second), ReuseDetection: profile.ReuseRevokeFamily})
			g := r.authorize("app", "alice")
			next, _, err := r.refresh(g, g.refresh)
			Expect(err).NotTo(HaveOccurred())
			refresh, _ := r.store.Kept(g.req.GetID())
			Expect(refresh).To(Equal(2))
			r.clock.Advance(31 * time.Second)
			_, _, err = r.refresh(g, next)
			Expect(err).NotTo(HaveOccurred())
			refresh, _ = r.store.Kept(g.req.GetID())
			Expect(refresh).To(Equal(2), "next, inside its window, and the newest; the first is forgotten")
			_, op, err := r.refresh(g, g.refresh)
			Expect(err).To(MatchError(fosite.ErrInactiveToken))
			Expect(op.Refusal).To(Equal(events.RefusedReused))
		})

		It("answers for an access token a year past its expiry as it did the moment it expired", func() {
			r := newRig(rotate)
			g := r.authorize("app", "alice")
			ctx := context.Background()
			at := r.key(ctx, fosite.AccessToken, g.req)
			Expect(r.store.CreateAccessTokenSession(ctx, at, g.req)).To(Succeed())
			check := func() {
				GinkgoHelper()
				op := &family.Op{}
				opCtx := family.WithOp(ctx, op)
				req, err := r.store.GetAccessTokenSession(opCtx, at, nil)
				Expect(err).NotTo(HaveOccurred())
				Expect(req.GetGrantedScopes()).To(ConsistOf("openid", "offline_access", "api"))
				Expect(r.store.CheckExpiry(opCtx, fosite.AccessToken, at)).To(MatchError(fosite.ErrTokenExpired))
				Expect(op).To(And(HaveField("Family", g.req.GetID()), HaveField("Client", "app"), HaveField("User", "alice"),
					HaveField("Refusal", events.RefusedExpired), HaveField("Denial", "access_token expired")))
				info, ok := r.store.Token(at)
				Expect(ok).To(BeTrue())
				Expect(info.ExpiresAt).To(BeTemporally("==", epoch.Add(time.Hour)))
			}
			r.clock.Advance(time.Hour)
			check()
			r.clock.Advance(365 * 24 * time.Hour)
			_, _, err := r.refresh(g, g.refresh)
			Expect(err).NotTo(HaveOccurred())
			_, buckets := r.store.Kept(g.req.GetID())
			Expect(buckets).To(Equal(1), "only the new access token's second; the expired ones are counted out")
			check()
		})

		It("counts a family's live access tokens as they expire", func() {
			r := newRig(rotate)
			g := r.authorize("app", "alice")
			r.clock.Advance(30 * time.Minute)
			_, _, err := r.refresh(g, g.refresh)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.family(g.req.GetID()).LiveAccess).To(Equal(2))
			r.clock.Advance(30 * time.Minute)
			Expect(r.family(g.req.GetID()).LiveAccess).To(Equal(1), "the first expired on the hour")
			r.clock.Advance(30 * time.Minute)
			Expect(r.family(g.req.GetID())).To(And(HaveField("LiveAccess", 0), HaveField("AccessTokens", 2)))
		})

		It("reads claims only whole: cut short, padded or of no token, a key holds none", func() {
			r := newRig(rotate)
			g := r.authorize("app", "alice")
			claims, sig, _ := strings.Cut(g.refresh, ".")
			raw, err := base64.RawURLEncoding.DecodeString(claims)
			Expect(err).NotTo(HaveOccurred())
			Expect(family.KeyHoldsClaims(g.refresh)).To(BeTrue())
			for n := range len(raw) {
				Expect(family.KeyHoldsClaims(family.Key(raw[:n], sig))).To(BeFalse(), "cut to %d bytes", n)
			}
			Expect(family.KeyHoldsClaims(family.Key(append(raw, 0), sig))).To(BeFalse())
			Expect(family.KeyHoldsClaims(sig)).To(BeFalse(), "a signature alone, as a code's key is")
			Expect(family.KeyHoldsClaims("%%%." + sig)).To(BeFalse())
		})

		It("knows no token of a family it does not hold, whatever its claims say", func() {
			other := newRig(rotate)
			g := other.authorize("app", "alice")
			at := other.key(context.Background(), fosite.AccessToken, g.req)
			r := newRig(rotate)
			op := &family.Op{}
			ctx := family.WithOp(context.Background(), op)
			_, err := r.store.GetAccessTokenSession(ctx, at, nil)
			Expect(err).To(MatchError(fosite.ErrNotFound))
			_, err = r.store.GetRefreshTokenSession(ctx, g.refresh, nil)
			Expect(err).To(MatchError(fosite.ErrNotFound))
			Expect(op).To(And(HaveField("Refusal", events.RefusedUnknown), HaveField("Family", "")))
			_, found := r.store.Token(g.refresh)
			Expect(found).To(BeFalse())
		})
	})

	It("serializes the requests of one family: a second locker waits for the first", func() {
		r := newRig(rotate)
		g := r.authorize("app", "alice")
		unlock := r.store.LockFamilyOf(fosite.RefreshToken, g.refresh)
		got := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			r.store.LockFamilyOf(fosite.RefreshToken, g.refresh)()
			close(got)
		}()
		Consistently(got, 50*time.Millisecond).ShouldNot(BeClosed())
		unlock()
		Eventually(got).Should(BeClosed())
	})
})
