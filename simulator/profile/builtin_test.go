package profile_test

import (
	"cmp"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

func lookup(name string) profile.Profile {
	GinkgoHelper()
	p, ok := profile.Lookup(name)
	Expect(ok).To(BeTrue(), "no built-in profile %q", name)
	return p
}

const day = 24 * time.Hour

// rendering is the ResponseData the specs render responses with.
var rendering = profile.ResponseData{
	Now:           time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
	TraceID:       "trace-1",
	CorrelationID: "corr-1",
	TokenIssuedAt: time.Date(2025, 12, 1, 8, 9, 10, 0, time.UTC),
}

var _ = Describe("The built-in provider profiles", func() {
	It("are the fifteen built-in providers, one data file each", func() {
		Expect(profile.Names()).To(Equal([]string{
			"auth0", "dropbox", "entra", "entra-spa", "generic", "github", "google", "intuit",
			"keycloak", "okta", "okta-custom", "oracle-idcs", "salesforce", "slack", "xero",
		}))
		files, err := os.ReadDir("data")
		Expect(err).NotTo(HaveOccurred())
		var names []string
		for _, f := range files {
			names = append(names, strings.TrimSuffix(f.Name(), ".yaml"))
		}
		Expect(names).To(ConsistOf(profile.Names()))
	})

	It("each load from their file, validate, and have a title", func() {
		for _, name := range profile.Names() {
			data, err := os.ReadFile("data/" + name + ".yaml")
			Expect(err).NotTo(HaveOccurred())
			p, err := profile.Parse("data/"+name+".yaml", data)
			Expect(err).NotTo(HaveOccurred(), name)
			Expect(p).To(Equal(lookup(name)), name)
			Expect(p.Validate()).To(Succeed(), name)
			Expect(p.Title).NotTo(BeEmpty(), name)
		}
	})

	It("give a source for every value they set, and none for a setting that does not exist", func() {
		for _, name := range profile.Names() {
			p := lookup(name)
			paths := map[string]bool{}
			for _, f := range p.Fields() {
				paths[f.Path] = true
				if f.Set {
					Expect(p.Sources).To(HaveKey(f.Path), "%s: %s = %v has no source", name, f.Path, f.Value)
				}
			}
			for path, src := range p.Sources {
				Expect(paths).To(HaveKey(path), "%s: a source for %s, which is no setting", name, path)
				Expect(strings.TrimSpace(src.Ref)).NotTo(BeEmpty(), "%s: %s", name, path)
			}
		}
	})

	DescribeTable("mark the values no primary source confirms as unconfirmed, and only those",
		func(name, path string, unconfirmed bool) {
			Expect(lookup(name).Sources).To(HaveKeyWithValue(path, HaveField("Unconfirmed", unconfirmed)))
		},
		Entry("Google's token-endpoint rate limit", "google", "responses.rate_limited.status", true),
		Entry("Google's rate-limit page", "google", "responses.rate_limited.body", true),
		Entry("Slack's dead refresh token body", "slack", "responses.refresh_token_invalid.body", true),
		Entry("Auth0's 15-day idle timeout", "auth0", "refresh.idle_timeout", true),
		Entry("Auth0's issuer with a trailing slash", "auth0", "shape.issuer_trailing_slash", true),
		Entry("Auth0's Auth0-Client header allowed across origins", "auth0", "shape.cors_request_headers", true),
		Entry("Auth0's Authentication API paths", "auth0", "shape.paths", false),
		Entry("Auth0's web_message response mode", "auth0", "shape.web_message", false),
		Entry("Intuit's 24-hour rotation", "intuit", "refresh.rotate_after", true),
		Entry("Oracle's idle timeout", "oracle-idcs", "refresh.idle_timeout", true),
		Entry("GitHub's reuse detection", "github", "refresh.reuse_detection", true),
		Entry("Salesforce's access-token lifetime", "salesforce", "access_token_lifetime", true),
		Entry("Entra's limit of families", "entra", "refresh.max_families_per_user_client", true),
		Entry("Xero's rate limit", "xero", "responses.rate_limited.status", true),
		Entry("Intuit's rate limit", "intuit", "responses.rate_limited.status", true),
		Entry("Dropbox's token-endpoint rate limit", "dropbox", "responses.rate_limited.headers.Retry-After", true),
		Entry("Xero's offline_access scope", "xero", "offline_access", true),
		Entry("Google's code lifetime, oauthsim's choice", "google", "code_lifetime", true),
		Entry("Google's dead refresh token body", "google", "responses.refresh_token_invalid.body", false),
		Entry("Google's six months unused", "google", "refresh.idle_timeout", false),
		Entry("Auth0's 30-day absolute lifetime", "auth0", "refresh.absolute_lifetime", false),
		Entry("Okta's grace", "okta", "refresh.grace", false),
		Entry("Entra's random access-token lifetime", "entra", "access_token_lifetime_max", false),
		Entry("Intuit's rolling 100 days", "intuit", "refresh.idle_timeout", false),
		Entry("Auth0's ID token lifetime", "auth0", "id_token_lifetime", false),
		Entry("Auth0's offline_access scope", "auth0", "offline_access", false),
	)

	type want struct {
		at, atMax     time.Duration
		rotation      profile.Rotation
		grace         time.Duration
		reuse         profile.ReuseDetection
		idle          time.Duration
		absolute      time.Duration
		mode          profile.AbsoluteMode
		maxFamilies   int
		dead          profile.Situation
		status        int // 0: no response of its own, RFC 6749's invalid_grant
		body          string
		deviations    []profile.Deviation
		offlineAccess profile.OfflineAccess
	}
	entraBody := func(code int, desc string) string {
		c := strconv.Itoa(code)
		return `{"error":"invalid_grant","error_description":"AADSTS` + c + `: ` + desc +
			`\r\nTrace ID: trace-1\r\nCorrelation ID: corr-1\r\nTimestamp: 2026-03-04 05:06:07Z","error_codes":[` + c +
			`],"timestamp":"2026-03-04 05:06:07Z","trace_id":"trace-1","correlation_id":"corr-1","error_uri":"https://login.microsoftonline.com/error?code=` + c + `"}`
	}
	DescribeTable("hold each provider's key values, and its dead refresh token byte for byte",
		func(name string, w want) {
			p := lookup(name)
			Expect(p.AccessTokenLifetime.D()).To(Equal(w.at), "access_token_lifetime")
			Expect(p.AccessTokenLifetimeMax.D()).To(Equal(w.atMax), "access_token_lifetime_max")
			Expect(p.Refresh.Rotation).To(Equal(w.rotation), "rotation")
			Expect(p.Refresh.Grace.D()).To(Equal(w.grace), "grace")
			Expect(p.Refresh.ReuseDetection).To(Equal(w.reuse), "reuse_detection")
			Expect(p.Refresh.IdleTimeout.D()).To(Equal(w.idle), "idle_timeout")
			Expect(p.Refresh.AbsoluteLifetime.D()).To(Equal(w.absolute), "absolute_lifetime")
			Expect(p.Refresh.AbsoluteMode).To(Equal(w.mode), "absolute_mode")
			Expect(p.Refresh.MaxFamiliesPerUserClient).To(Equal(w.maxFamilies), "max_families_per_user_client")
			Expect(p.Deviations).To(Equal(w.deviations), "deviations")
			Expect(p.OfflineAccess).To(Equal(w.offlineAccess), "offline_access")
			r, ok := p.Responses[w.dead]
			if w.status == 0 {
				Expect(ok).To(BeFalse(), "%s has a response of its own", w.dead)
				return
			}
			Expect(ok).To(BeTrue(), "no response for %s", w.dead)
			out, err := r.Render(rendering)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Status).To(Equal(w.status))
			Expect(out.Header.Get("Content-Type")).To(Equal("application/json"))
			Expect(string(out.Body)).To(Equal(w.body))
		},
		Entry("generic", "generic", want{at: time.Hour, rotation: profile.RotationRotate, reuse: profile.ReuseRevokeFamily,
			mode: profile.AbsoluteSliding, dead: profile.SituationRefreshTokenInvalid, offlineAccess: profile.OfflineScope}),
		Entry("google", "google", want{at: 3599 * time.Second, rotation: profile.RotationNone, reuse: profile.ReuseOff,
			idle: 182 * day, mode: profile.AbsoluteSliding, maxFamilies: 100, offlineAccess: profile.OfflineAccessType,
			dead: profile.SituationRefreshTokenInvalid, status: 400,
			body: `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`}),
		Entry("entra", "entra", want{at: 60 * time.Minute, atMax: 90 * time.Minute, rotation: profile.RotationRotateKeepOld,
			reuse: profile.ReuseOff, idle: 90 * day, mode: profile.AbsoluteSliding, offlineAccess: profile.OfflineScope,
			dead: profile.SituationRefreshTokenInactive, status: 400,
			body: entraBody(700082, "The refresh token has expired due to inactivity. The token was issued on 2025-12-01T08:09:10.0000000Z and was inactive for 90.00:00:00.")}),
		Entry("entra-spa", "entra-spa", want{at: 60 * time.Minute, atMax: 90 * time.Minute, rotation: profile.RotationRotateKeepOld,
			reuse: profile.ReuseOff, idle: 90 * day, absolute: 24 * time.Hour, mode: profile.AbsoluteInherited,
			offlineAccess: profile.OfflineScope, dead: profile.SituationRefreshTokenExpired, status: 400,
			body: entraBody(700084, "The refresh token was issued to a single page app and has a fixed lifetime of 1.00:00:00, which cannot be extended. It has expired; the user must sign in again.")}),
		Entry("okta", "okta", want{at: time.Hour, rotation: profile.RotationRotateWithGrace, grace: 30 * time.Second,
			reuse: profile.ReuseRevokeFamily, absolute: 90 * day, mode: profile.AbsoluteInherited, offlineAccess: profile.OfflineScope,
			dead: profile.SituationRefreshTokenInvalid, status: 400,
			body: `{"error":"invalid_grant","error_description":"The refresh token is invalid or expired."}`}),
		Entry("okta-custom", "okta-custom", want{at: time.Hour, rotation: profile.RotationRotateWithGrace, grace: 30 * time.Second,
			reuse: profile.ReuseRevokeFamily, idle: 7 * day, mode: profile.AbsoluteInherited, offlineAccess: profile.OfflineScope,
			dead: profile.SituationRefreshTokenInvalid, status: 400,
			body: `{"error":"invalid_grant","error_description":"The refresh token is invalid or expired."}`}),
		Entry("auth0", "auth0", want{at: 24 * time.Hour, rotation: profile.RotationRotate, reuse: profile.ReuseRevokeFamily,
			idle: 15 * day, absolute: 30 * day, mode: profile.AbsoluteInherited, maxFamilies: 200, offlineAccess: profile.OfflineScope,
			deviations: []profile.Deviation{profile.DeviationInvalidGrant403},
			dead:       profile.SituationRefreshTokenInvalid, status: 403,
			body: `{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}`}),
		Entry("github", "github", want{at: 8 * time.Hour, rotation: profile.RotationRotate, reuse: profile.ReuseOff,
			absolute: 15897600 * time.Second, mode: profile.AbsoluteSliding, offlineAccess: profile.OfflineScope,
			deviations: []profile.Deviation{profile.DeviationErrorsAs200},
			dead:       profile.SituationRefreshTokenInvalid, status: 200,
			body: `{"error":"bad_refresh_token","error_description":"The refresh token passed is incorrect or expired.","error_uri":"https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-refresh-token"}`}),
		Entry("salesforce", "salesforce", want{at: 2 * time.Hour, rotation: profile.RotationRotate, reuse: profile.ReuseOff,
			idle: 30 * day, mode: profile.AbsoluteSliding, maxFamilies: 5, offlineAccess: profile.OfflineScope,
			dead: profile.SituationRefreshTokenInvalid, status: 400,
			body: `{"error":"invalid_grant","error_description":"expired access/refresh token"}`}),
		Entry("dropbox", "dropbox", want{at: 4 * time.Hour, rotation: profile.RotationNone, reuse: profile.ReuseOff,
			mode: profile.AbsoluteSliding, offlineAccess: profile.OfflineScope,
			dead: profile.SituationRefreshTokenInvalid, status: 400,
			body: `{"error":"invalid_grant","error_description":"refresh token is invalid or revoked"}`}),
		Entry("slack", "slack", want{at: 12 * time.Hour, rotation: profile.RotationRotate, reuse: profile.ReuseOff,
			mode: profile.AbsoluteSliding, offlineAccess: profile.OfflineScope,
			deviations: []profile.Deviation{profile.DeviationErrorsAs200},
			dead:       profile.SituationRefreshTokenInvalid, status: 200,
			body: `{"ok":false,"error":"invalid_refresh_token"}`}),
		Entry("xero", "xero", want{at: 30 * time.Minute, rotation: profile.RotationRotateWithGrace, grace: 30 * time.Minute,
			reuse: profile.ReuseOff, idle: 60 * day, mode: profile.AbsoluteSliding, offlineAccess: profile.OfflineScope,
			dead: profile.SituationRefreshTokenInvalid, status: 400, body: `{"error":"invalid_grant"}`}),
		Entry("intuit", "intuit", want{at: time.Hour, rotation: profile.RotationRotate, reuse: profile.ReuseOff,
			idle: 100 * day, absolute: 1825 * day, mode: profile.AbsoluteInherited, offlineAccess: profile.OfflineScope,
			dead: profile.SituationRefreshTokenInvalid, status: 400, body: `{"error":"invalid_grant"}`}),
		Entry("keycloak", "keycloak", want{at: 5 * time.Minute, rotation: profile.RotationRotateKeepOld, reuse: profile.ReuseOff,
			idle: 30 * time.Minute, absolute: 10 * time.Hour, mode: profile.AbsoluteInherited, offlineAccess: profile.OfflineScope,
			dead: profile.SituationRefreshTokenInactive, status: 400,
			body: `{"error":"invalid_grant","error_description":"Token is not active"}`}),
		Entry("oracle-idcs", "oracle-idcs", want{at: time.Hour, rotation: profile.RotationRotate, reuse: profile.ReuseOff,
			absolute: 7 * day, mode: profile.AbsoluteSliding, offlineAccess: profile.OfflineScope,
			dead: profile.SituationRefreshTokenInvalid}),
	)

	Describe("Google", func() {
		It("kills a testing app's grants after 7 days, keeps earlier grants on re-consent, and rotates after nothing", func() {
			p := lookup("google")
			Expect(p.TestingAppExpiry.D()).To(Equal(7 * day))
			Expect(p.Refresh.OnReconsent).To(Equal(profile.ReconsentKeep))
			Expect(p.Refresh.RotateAfter).To(BeZero())
		})

		It("asks for step-up with invalid_rapt and rate-limits with a 403 HTML page and no Retry-After", func() {
			p := lookup("google")
			out, err := p.Responses[profile.SituationInteractionRequired].Render(rendering)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Status).To(Equal(400))
			Expect(string(out.Body)).To(Equal(`{"error":"invalid_grant","error_description":"reauth related error (invalid_rapt)","error_uri":"https://support.google.com/a/answer/9368756","error_subtype":"invalid_rapt"}`))

			out, err = p.Responses[profile.SituationRateLimited].Render(rendering)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Status).To(Equal(403))
			Expect(out.Header.Get("Content-Type")).To(HavePrefix("text/html"))
			Expect(out.Header).NotTo(HaveKey("Retry-After"))
			Expect(string(out.Body)).To(ContainSubstring("<html>"))
		})
	})

	Describe("Entra", func() {
		DescribeTable("answers each situation with its AADSTS code",
			func(s profile.Situation, status int, errCode string, code int) {
				out, err := lookup("entra").Responses[s].Render(rendering)
				Expect(err).NotTo(HaveOccurred())
				Expect(out.Status).To(Equal(status))
				var body struct {
					Error            string `json:"error"`
					ErrorDescription string `json:"error_description"`
					ErrorCodes       []int  `json:"error_codes"`
					TraceID          string `json:"trace_id"`
					CorrelationID    string `json:"correlation_id"`
					Timestamp        string `json:"timestamp"`
					ErrorURI         string `json:"error_uri"`
				}
				Expect(json.Unmarshal(out.Body, &body)).To(Succeed())
				Expect(body.Error).To(Equal(errCode))
				Expect(body.ErrorCodes).To(Equal([]int{code}))
				Expect(body.ErrorDescription).To(HavePrefix("AADSTS" + strconv.Itoa(code) + ": "))
				Expect(body.ErrorDescription).To(HaveSuffix("\r\nTrace ID: trace-1\r\nCorrelation ID: corr-1\r\nTimestamp: 2026-03-04 05:06:07Z"))
				Expect(body.TraceID).To(Equal("trace-1"))
				Expect(body.CorrelationID).To(Equal("corr-1"))
				Expect(body.Timestamp).To(Equal("2026-03-04 05:06:07Z"))
				Expect(body.ErrorURI).To(Equal("https://login.microsoftonline.com/error?code=" + strconv.Itoa(code)))
			},
			Entry("inactive", profile.SituationRefreshTokenInactive, 400, "invalid_grant", 700082),
			Entry("expired", profile.SituationRefreshTokenExpired, 400, "invalid_grant", 70008),
			Entry("invalid", profile.SituationRefreshTokenInvalid, 400, "invalid_grant", 70008),
			Entry("revoked", profile.SituationRefreshTokenRevoked, 400, "invalid_grant", 50173),
			Entry("step-up", profile.SituationInteractionRequired, 400, "interaction_required", 50076),
			Entry("a wrong secret", profile.SituationClientSecretInvalid, 401, "invalid_client", 7000215),
			Entry("an expired secret", profile.SituationClientSecretExpired, 401, "invalid_client", 7000222),
		)

		It("throttles with 429, Retry-After: 60 and a plain-text body", func() {
			out, err := lookup("entra").Responses[profile.SituationRateLimited].Render(rendering)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Status).To(Equal(429))
			Expect(out.Header.Get("Retry-After")).To(Equal("60"))
			Expect(out.Header.Get("Content-Type")).To(Equal("text/plain"))
			Expect(string(out.Body)).To(Equal("Too Many Requests"))
		})
	})

	It("say for every provider what a refresh leaving offline_access out gets, citing the documentation or saying it has none", func() {
		want := map[string]profile.WithoutOfflineAccess{"okta": profile.WithoutOfflineNoRefreshToken, "okta-custom": profile.WithoutOfflineNoRefreshToken}
		documented := map[string]bool{"generic": true, "okta": true, "okta-custom": true, "entra": true, "entra-spa": true, "google": true}
		for _, name := range profile.Names() {
			p := lookup(name)
			Expect(p.Refresh.ScopeWithoutOfflineAccess).To(Equal(cmp.Or(want[name], profile.WithoutOfflineKeep)), name)
			src := p.Sources["refresh.scope_without_offline_access"]
			Expect(src.Unconfirmed).To(Equal(!documented[name]), name)
			if !documented[name] {
				Expect(src.Ref).To(HavePrefix("not documented"), name)
			}
		}
	})

	It("issue refresh tokens on first consent only at Google", func() {
		for _, name := range profile.Names() {
			Expect(lookup(name).Refresh.OnlyOnFirstConsent).To(Equal(name == "google"), name)
		}
		Expect(lookup("google").Sources["refresh.only_on_first_consent"].Ref).To(HavePrefix("developers.google.com/identity/protocols/oauth2/web-server"))
	})

	It("render rate-limit counters into Okta's and Auth0's headers", func() {
		d := rendering
		d.Limit, d.Remaining, d.ResetUnix = 4, 0, 1772600768
		for name, prefix := range map[string]string{"okta": "X-Rate-Limit-", "auth0": "X-Ratelimit-"} {
			out, err := lookup(name).Responses[profile.SituationRateLimited].Render(d)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Status).To(Equal(429))
			Expect(out.Header.Get(prefix+"Limit")).To(Equal("4"), name)
			Expect(out.Header.Get(prefix+"Remaining")).To(Equal("0"), name)
			Expect(out.Header.Get(prefix+"Reset")).To(Equal("1772600768"), name)
		}
	})

	Describe("inheritance", func() {
		It("gives okta-custom okta's grace and reuse detection with their sources, and its own idle and absolute lifetimes", func() {
			okta, custom := lookup("okta"), lookup("okta-custom")
			Expect(custom.Refresh.Grace).To(Equal(okta.Refresh.Grace))
			Expect(custom.Refresh.ReuseDetection).To(Equal(okta.Refresh.ReuseDetection))
			Expect(custom.Sources["refresh.grace"]).To(Equal(okta.Sources["refresh.grace"]))
			Expect(custom.Responses).To(Equal(okta.Responses))
			Expect(custom.Refresh.IdleTimeout).NotTo(Equal(okta.Refresh.IdleTimeout))
			Expect(custom.Sources["refresh.idle_timeout"]).NotTo(Equal(okta.Sources["refresh.idle_timeout"]))
			Expect(custom.Sources["refresh.absolute_lifetime"].Ref).To(ContainSubstring("Unlimited"))
		})

		It("gives entra-spa entra's responses, but its own for an expired refresh token", func() {
			entra, spa := lookup("entra"), lookup("entra-spa")
			for s, r := range entra.Responses {
				if s == profile.SituationRefreshTokenExpired {
					Expect(spa.Responses[s]).NotTo(Equal(r))
					Expect(spa.Responses[s].Body).To(ContainSubstring("700084"))
					continue
				}
				Expect(spa.Responses).To(HaveKeyWithValue(s, r))
				Expect(spa.Sources["responses."+string(s)+".body"]).To(Equal(entra.Sources["responses."+string(s)+".body"]))
			}
			Expect(spa.Refresh.Rotation).To(Equal(entra.Refresh.Rotation))
		})
	})

	It("are deep copies: changing one changes no other caller's", func() {
		p := lookup("entra")
		p.Responses[profile.SituationRateLimited].Headers["Retry-After"] = "1"
		delete(p.Responses, profile.SituationRefreshTokenInactive)
		p.Sources["refresh.idle_timeout"] = profile.Source{Ref: "mine"}
		q := lookup("entra")
		Expect(q.Responses[profile.SituationRateLimited].Headers).To(HaveKeyWithValue("Retry-After", "60"))
		Expect(q.Responses).To(HaveKey(profile.SituationRefreshTokenInactive))
		Expect(q.Sources["refresh.idle_timeout"].Ref).NotTo(Equal("mine"))
		spa := lookup("entra-spa")
		Expect(spa.Responses[profile.SituationRateLimited].Headers).To(HaveKeyWithValue("Retry-After", "60"))
	})
})
