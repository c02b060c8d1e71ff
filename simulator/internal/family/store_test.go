package family_test

import (
	"context"
	"fmt"
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
	Expect(r.store.CreateAccessTokenSession(ctx, r.sig("at"), req)).To(Succeed())
	rt := r.sig("rt")
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
	Expect(r.store.CreateAccessTokenSession(ctx, r.sig("at"), req)).To(Succeed())
	next := r.sig("rt")
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
			Expect(r.store.CreateAccessTokenSession(context.Background(), "at-x", req)).To(Succeed())
			r.clock.Advance(time.Hour - time.Second)
			Expect(r.store.CheckExpiry(context.Background(), fosite.AccessToken, "at-x")).To(Succeed())
			r.clock.Advance(time.Second)
			Expect(r.store.CheckExpiry(context.Background(), fosite.AccessToken, "at-x")).To(MatchError(fosite.ErrTokenExpired))
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
