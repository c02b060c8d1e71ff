package profile_test

import (
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

func TestProfile(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Profile Suite")
}

var _ = Describe("Durations", func() {
	DescribeTable("parse Go durations and whole days",
		func(in string, want time.Duration) {
			d, err := profile.ParseDuration(in)
			Expect(err).NotTo(HaveOccurred())
			Expect(d.D()).To(Equal(want))
		},
		Entry("seconds", "90s", 90*time.Second),
		Entry("hours and minutes", "1h30m", 90*time.Minute),
		Entry("days", "7d", 7*24*time.Hour),
		Entry("days and hours", "1d12h", 36*time.Hour),
		Entry("negative", "-1h", -time.Hour),
		Entry("zero", "0", time.Duration(0)),
	)

	DescribeTable("refuse what is not a duration",
		func(in string) {
			_, err := profile.ParseDuration(in)
			Expect(err).To(MatchError(ContainSubstring("duration")))
		},
		Entry("empty", ""),
		Entry("a word", "soon"),
		Entry("fractional days", "1.5d"),
		Entry("days then negative", "1d-1h"),
		Entry("no unit", "90"),
	)

	It("render whole days as days and round-trip through JSON and YAML", func() {
		Expect(profile.Duration(90 * 24 * time.Hour).String()).To(Equal("90d"))
		Expect(profile.Duration(90 * time.Minute).String()).To(Equal("1h30m0s"))
		var v struct {
			D profile.Duration `json:"d" yaml:"d"`
		}
		Expect(json.Unmarshal([]byte(`{"d":"2d"}`), &v)).To(Succeed())
		Expect(v.D.D()).To(Equal(48 * time.Hour))
		Expect(yaml.Unmarshal([]byte("d: 30m"), &v)).To(Succeed())
		Expect(v.D.D()).To(Equal(30 * time.Minute))
		Expect(yaml.Unmarshal([]byte("d: later"), &v)).To(MatchError(ContainSubstring("line 1:4")))
	})
})

var _ = Describe("Profiles", func() {
	It("default to the RFC-strict generic profile", func() {
		p := profile.Generic()
		Expect(p.Validate()).To(Succeed())
		Expect(p.AccessTokenLifetime.D()).To(Equal(time.Hour))
		Expect(p.CodeLifetime.D()).To(Equal(10 * time.Minute))
		Expect(p.Refresh.Rotation).To(Equal(profile.RotationRotate))
		Expect(p.Refresh.ReuseDetection).To(Equal(profile.ReuseRevokeFamily))
		Expect(p.OfflineAccess).To(Equal(profile.OfflineScope))
		g, ok := profile.Lookup("generic")
		Expect(ok).To(BeTrue())
		Expect(g).To(Equal(p))
		_, ok = profile.Lookup("nope")
		Expect(ok).To(BeFalse())
	})

	It("report every inconsistency at once", func() {
		p := profile.Generic()
		p.AccessTokenLifetime = 0
		p.Refresh.Rotation = "sometimes"
		p.Refresh.IdleTimeout = profile.Duration(-time.Hour)
		p.Refresh.MaxFamiliesPerUserClient = -1
		err := p.Validate()
		Expect(err).To(MatchError(ContainSubstring("access_token_lifetime must be positive")))
		Expect(err).To(MatchError(ContainSubstring(`refresh.rotation must be`)))
		Expect(err).To(MatchError(ContainSubstring("refresh.idle_timeout must not be negative")))
		Expect(err).To(MatchError(ContainSubstring("max_families_per_user_client must not be negative")))
	})

	It("require a grace period exactly when rotating with grace", func() {
		p := profile.Generic()
		p.Refresh.Rotation = profile.RotationRotateWithGrace
		Expect(p.Validate()).To(MatchError(ContainSubstring("refresh.grace must be positive")))
		p.Refresh.Grace = profile.Duration(30 * time.Second)
		Expect(p.Validate()).To(Succeed())
		p.Refresh.Rotation = profile.RotationRotate
		Expect(p.Validate()).To(MatchError(ContainSubstring("only meaningful")))
	})
})
