package profile_test

import (
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/internal/yamldoc"
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
		Expect(yamldoc.Locate("d.yaml", yaml.Unmarshal([]byte("d: later"), &v))).To(MatchError(ContainSubstring("d.yaml:1:4: invalid duration")))
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

	It("accept every new setting used as documented", func() {
		p := profile.Generic()
		p.AccessTokenLifetimeMax = profile.Duration(90 * time.Minute)
		p.Refresh.Rotation = profile.RotationRotateKeepOld
		p.Refresh.RotateAfter = profile.Duration(24 * time.Hour)
		p.Refresh.OnReconsent = profile.ReconsentRevoke
		p.TestingAppExpiry = profile.Duration(7 * 24 * time.Hour)
		p.Deviations = []profile.Deviation{profile.DeviationErrorsAs200}
		p.Responses = map[profile.Situation]profile.Response{
			profile.SituationRateLimited: {Status: 429, ContentType: "text/plain",
				Headers: map[string]string{"Retry-After": "{{.RetryAfterSeconds}}"}, Body: "Too Many Requests"},
			profile.SituationRefreshTokenInvalid: {Status: 400, ContentType: "application/problem+json",
				Body: `{"error":"invalid_grant","trace":"{{.TraceID}}"}`},
		}
		Expect(p.Validate()).To(Succeed())
	})

	DescribeTable("reject each kind of bad setting with a message that names it",
		func(edit func(p *profile.Profile), want string) {
			p := profile.Generic()
			edit(&p)
			Expect(p.Validate()).To(MatchError(ContainSubstring(want)))
		},
		Entry("a random access-token lifetime shorter than the fixed one", func(p *profile.Profile) {
			p.AccessTokenLifetimeMax = profile.Duration(time.Minute)
		}, "access_token_lifetime_max must be at least access_token_lifetime (1h0m0s), got 1m0s"),
		Entry("a grace period without rotate_with_grace", func(p *profile.Profile) {
			p.Refresh.Rotation, p.Refresh.Grace = profile.RotationRotateKeepOld, profile.Duration(time.Second)
		}, "refresh.grace is only meaningful"),
		Entry("a negative rotate_after", func(p *profile.Profile) {
			p.Refresh.RotateAfter = profile.Duration(-time.Hour)
		}, "refresh.rotate_after must not be negative"),
		Entry("rotate_after without rotation", func(p *profile.Profile) {
			p.Refresh.Rotation, p.Refresh.RotateAfter = profile.RotationNone, profile.Duration(time.Hour)
		}, "refresh.rotate_after is only meaningful with a rotating mode"),
		Entry("an unknown on_reconsent", func(p *profile.Profile) {
			p.Refresh.OnReconsent = "forget"
		}, `refresh.on_reconsent must be one of "", "keep", "revoke", got "forget"`),
		Entry("an unknown scope_without_offline_access", func(p *profile.Profile) {
			p.Refresh.ScopeWithoutOfflineAccess = "revoke"
		}, `refresh.scope_without_offline_access must be one of "", "keep", "no_refresh_token", got "revoke"`),
		Entry("an unknown token_format", func(p *profile.Profile) {
			p.Shape.TokenFormat = "jws"
		}, `shape.token_format must be one of "", "opaque", "jwt", got "jws"`),
		Entry("a negative testing_app_expiry", func(p *profile.Profile) {
			p.TestingAppExpiry = profile.Duration(-time.Hour)
		}, "testing_app_expiry must not be negative"),
		Entry("an unknown situation", func(p *profile.Profile) {
			p.Responses = map[profile.Situation]profile.Response{"token_lost": {Status: 400, Body: "{}"}}
		}, `responses.token_lost: unknown situation "token_lost"`),
		Entry("a status below 100", func(p *profile.Profile) {
			p.Responses = map[profile.Situation]profile.Response{profile.SituationRateLimited: {Status: 42, Body: "{}"}}
		}, "responses.rate_limited.status must be between 100 and 599, got 42"),
		Entry("a status above 599", func(p *profile.Profile) {
			p.Responses = map[profile.Situation]profile.Response{profile.SituationRateLimited: {Status: 600, Body: "{}"}}
		}, "responses.rate_limited.status must be between 100 and 599, got 600"),
		Entry("a header template that does not parse", func(p *profile.Profile) {
			p.Responses = map[profile.Situation]profile.Response{profile.SituationRateLimited: {Status: 429,
				Headers: map[string]string{"Retry-After": "{{.RetryAfterSeconds"}, Body: "{}"}}
		}, "responses.rate_limited: template: headers.Retry-After:1: unclosed action"),
		Entry("a body template naming a field ResponseData lacks", func(p *profile.Profile) {
			p.Responses = map[profile.Situation]profile.Response{profile.SituationRefreshTokenRevoked: {Status: 400,
				Body: `{"trace":"{{.TraceId}}"}`}}
		}, `responses.refresh_token_revoked: template: body:1:12: executing "body" at <.TraceId>: can't evaluate field TraceId`),
		Entry("a JSON body that renders to something else", func(p *profile.Profile) {
			p.Responses = map[profile.Situation]profile.Response{profile.SituationRefreshTokenInvalid: {Status: 400,
				Body: `{"error":"invalid_grant","retry":{{.RetryAfterDate}}}`}}
		}, "responses.refresh_token_invalid.body must render to JSON for content_type application/json"),
		Entry("an empty body with the default content type", func(p *profile.Profile) {
			p.Responses = map[profile.Situation]profile.Response{profile.SituationRefreshTokenInvalid: {Status: 400}}
		}, "responses.refresh_token_invalid.body must render to JSON"),
		Entry("an unknown deviation", func(p *profile.Profile) {
			p.Deviations = []profile.Deviation{profile.DeviationErrorsAs200, "errors_as_418"}
		}, `deviations[1] must be one of "expires_in_string"`),
		Entry("a missing name", func(p *profile.Profile) { p.Name = "" }, "name must not be empty"),
	)

	It("report every bad response and deviation at once", func() {
		p := profile.Generic()
		p.Responses = map[profile.Situation]profile.Response{
			profile.SituationRateLimited:         {Status: 0, ContentType: "text/plain"},
			profile.SituationRefreshTokenInvalid: {Status: 400, Body: "not json"},
		}
		p.Deviations = []profile.Deviation{"nope"}
		err := p.Validate()
		Expect(err).To(MatchError(ContainSubstring("responses.rate_limited.status")))
		Expect(err).To(MatchError(ContainSubstring("responses.refresh_token_invalid.body")))
		Expect(err).To(MatchError(ContainSubstring("deviations[0]")))
	})
})

var _ = Describe("Responses", func() {
	It("render their templates into headers and body, with JSON as the default content type", func() {
		r := profile.Response{
			Status:  429,
			Headers: map[string]string{"X-Rate-Limit-Reset": "{{.ResetUnix}}", "X-Rate-Limit-Remaining": "{{.Remaining}}"},
			Body:    `{"trace":"{{.TraceID}}","at":"{{.Now.Format "2006-01-02"}}"}`,
		}
		out, err := r.Render(profile.ResponseData{
			Now: time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC), TraceID: "t-1", ResetUnix: 1893456000, Remaining: 3,
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Status).To(Equal(429))
		Expect(out.Header.Get("Content-Type")).To(Equal("application/json"))
		Expect(out.Header.Get("X-Rate-Limit-Reset")).To(Equal("1893456000"))
		Expect(out.Header.Get("X-Rate-Limit-Remaining")).To(Equal("3"))
		Expect(string(out.Body)).To(Equal(`{"trace":"t-1","at":"2030-05-06"}`))
	})

	It("keep a content type they name", func() {
		out, err := profile.Response{Status: 403, ContentType: "text/html", Body: "<p>slow down</p>"}.Render(profile.ResponseData{})
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Header.Get("Content-Type")).To(Equal("text/html"))
		Expect(string(out.Body)).To(Equal("<p>slow down</p>"))
	})
})

var _ = Describe("Clone", func() {
	It("shares no map or slice with the original", func() {
		p := profile.Generic()
		p.Responses = map[profile.Situation]profile.Response{
			profile.SituationRateLimited: {Status: 429, Headers: map[string]string{"Retry-After": "60"}, Body: "{}"},
		}
		p.Deviations = []profile.Deviation{profile.DeviationErrorsAs200}
		p.Sources = map[string]profile.Source{"access_token_lifetime": {Ref: "RFC 6749"}}
		c := p.Clone()
		Expect(c).To(Equal(p))
		c.Responses[profile.SituationRateLimited].Headers["Retry-After"] = "1"
		c.Responses[profile.SituationRefreshTokenInvalid] = profile.Response{Status: 400}
		c.Deviations[0] = profile.DeviationNoRefreshToken
		c.Sources["access_token_lifetime"] = profile.Source{Ref: "changed"}
		Expect(p.Responses).To(HaveLen(1))
		Expect(p.Responses[profile.SituationRateLimited].Headers).To(HaveKeyWithValue("Retry-After", "60"))
		Expect(p.Deviations).To(ConsistOf(profile.DeviationErrorsAs200))
		Expect(p.Sources["access_token_lifetime"].Ref).To(Equal("RFC 6749"))
	})
})
