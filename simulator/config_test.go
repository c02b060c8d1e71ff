package simulator_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

var _ = Describe("Config files", func() {
	const okta = `profile:
  base: okta
  refresh:
    idle_timeout: 2d
    absolute_lifetime: {value: 30d, source: "our tenant's policy"}
  responses:
    refresh_token_invalid:
      status: 400
      body: '{"error":"invalid_grant"}'
`
	write := func(content string) string {
		path := filepath.Join(GinkgoT().TempDir(), "oauthsim.yaml")
		Expect(os.WriteFile(path, []byte(content), 0o600)).To(Succeed())
		return path
	}

	It("override a built-in provider profile and mark what they override as from the config file", func() {
		cfg, err := simulator.ParseConfig("oauthsim.yaml", []byte(okta))
		Expect(err).NotTo(HaveOccurred())
		p, base := cfg.Profile.Profile, must(profile.Lookup("okta"))
		Expect(cfg.Profile.Base).To(Equal("okta"))
		Expect(p.Refresh.IdleTimeout.D()).To(Equal(48 * time.Hour))
		Expect(p.Refresh.Grace).To(Equal(base.Refresh.Grace))
		Expect(p.Sources["refresh.idle_timeout"]).To(Equal(profile.Source{Ref: "config file"}))
		Expect(p.Sources["refresh.absolute_lifetime"]).To(Equal(profile.Source{Ref: "our tenant's policy"}))
		Expect(p.Sources["refresh.grace"]).To(Equal(base.Sources["refresh.grace"]))

		By("replacing a whole response, whose old sources go with it")
		Expect(p.Responses[profile.SituationRefreshTokenInvalid]).To(Equal(profile.Response{Status: 400, Body: `{"error":"invalid_grant"}`}))
		Expect(p.Sources["responses.refresh_token_invalid.body"]).To(Equal(profile.Source{Ref: "config file"}))
		Expect(p.Sources).NotTo(HaveKey("responses.refresh_token_invalid.content_type"))
		Expect(p.Responses[profile.SituationRateLimited]).To(Equal(base.Responses[profile.SituationRateLimited]))
	})

	It("start from the base the caller chose over the file's, and still apply the file's overrides", func() {
		cfg, err := simulator.LoadConfigWithBase(write(okta), "google")
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.Profile.Base).To(Equal("google"))
		Expect(cfg.Profile.Name).To(Equal("google"))
		Expect(cfg.Profile.Refresh.IdleTimeout.D()).To(Equal(48 * time.Hour))
		Expect(cfg.Profile.TestingAppExpiry.D()).To(Equal(7 * 24 * time.Hour))

		cfg, err = simulator.LoadConfig(write(okta))
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.Profile.Name).To(Equal("okta"))

		_, err = simulator.LoadConfigWithBase(write(okta), "gogle")
		Expect(err).To(MatchError(ContainSubstring(`no built-in profile "gogle"`)))
	})

	It("may name any built-in profile as the base of a simulator", func() {
		for _, name := range profile.Names() {
			cfg, err := simulator.ParseConfig("c.yaml", []byte("profile:\n  base: "+name+"\n"))
			Expect(err).NotTo(HaveOccurred(), name)
			_, err = simulator.New(cfg.Options()...)
			Expect(err).NotTo(HaveOccurred(), name)
		}
	})

	It("start from generic without a base", func() {
		cfg, err := simulator.ParseConfig("c.yaml", []byte("profile:\n  access_token_lifetime: 5m\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.Profile.Name).To(Equal("generic"))
		Expect(cfg.Profile.AccessTokenLifetime.D()).To(Equal(5 * time.Minute))
		Expect(cfg.Profile.CodeLifetime).To(Equal(profile.Generic().CodeLifetime))
	})

	It("name the line and column of an unknown profile key among other mistakes", func() {
		_, err := simulator.ParseConfig("c.yaml", []byte("profile:\n  refresh:\n    gracee: 1s\nclinets: []\n"))
		Expect(err).To(MatchError(And(
			ContainSubstring(`c.yaml:3:5: unknown field "gracee" in refresh`),
			ContainSubstring("c.yaml:4:1: field clinets not found"))))
	})
})

func must(p profile.Profile, ok bool) profile.Profile {
	GinkgoHelper()
	Expect(ok).To(BeTrue())
	return p
}
