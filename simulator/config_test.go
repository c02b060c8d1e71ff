package simulator_test

import (
	"os"
	"path/filepath"
	"strings"
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
			ContainSubstring(`c.yaml:4:1: unknown field "clinets" in the config: did you mean "clients"? (fields: auto_approve, clients, faults, profile, users)`))))
	})

	It("report every mistake of the file at once, in file order, each at its line and column", func() {
		const file = `profile:
  access_token_lifetim: 1h
  refresh: {grace: soon}
clients:
  - client_id: a
    client_secret: s
    colour: red
    redirect_uris: http://127.0.0.1:3000/callback
  - client_id: a
    secrett: x
    redirect_uris: [javascript:alert(1)]
  - 3
users:
  - {id: carol, nam: Carol}
auto_approve: maybe
faults:
  - {kind: latency, delai: 1s}
`
		_, err := simulator.ParseConfig("c.yaml", []byte(file))
		Expect(err).To(HaveOccurred())
		clientFields := "(fields: access_token_lifetime, allowed_origins, client_id, client_secret, client_secret_expires_at, grant_types, platform, previous_secrets, public, publishing_status, redirect_uris, refresh, scopes, token_endpoint_auth_methods)"
		Expect(strings.Split(err.Error(), "\n")).To(Equal([]string{
			`c.yaml:2:3: unknown field "access_token_lifetim" in profile: did you mean "access_token_lifetime"? (fields: access_token_lifetime, access_token_lifetime_max, base, code_lifetime, deviations, id_token_lifetime, name, offline_access, refresh, responses, shape, spa_redemption_by_origin, testing_app_expiry, title)`,
			`c.yaml:3:20: invalid duration "soon": use forms like 90s, 10m, 1h, 7d`,
			`c.yaml:7:5: unknown field "colour" in clients[0] ` + clientFields,
			"c.yaml:8:20: clients[0].redirect_uris takes a list, e.g. `redirect_uris: [http://127.0.0.1:3000/callback]`",
			`c.yaml:9:5: clients[1]: client "a": client_secret is required unless the client is public`,
			`c.yaml:9:5: clients[1]: redirect URI "javascript:alert(1)" has a scheme the browser runs or renders itself: the code would go to a script, not to a client`,
			`c.yaml:9:5: clients[1]: id "a" is clients[0]'s already; one would silently replace the other`,
			`c.yaml:10:5: unknown field "secrett" in clients[1] ` + clientFields,
			"c.yaml:12:5: clients[2] takes a mapping, e.g. `clients: [{client_id: my-app, client_secret: my-secret, redirect_uris: [http://127.0.0.1:3000/callback]}]` " + clientFields,
			`c.yaml:14:17: unknown field "nam" in users[0]: did you mean "name"? (fields: email, id, name)`,
			"c.yaml:15:15: auto_approve takes true or false, e.g. `auto_approve: true`",
			`c.yaml:17:21: unknown field "delai" in a fault: did you mean "delay"? (fields: body, by, content_type, delay, deviation, error_description, headers, id, jitter, key, kind, limit, match, max, max_lifetime, min_lifetime, mode, oauth_error, offset, on, per, retry_after, retry_after_format, signal, situation, status)`,
		}))
	})

	It("suggest the field a short name stands for, as other tools spell them", func() {
		_, err := simulator.ParseConfig("c.yaml", []byte("clients:\n  - {id: a, secret: s, redirect_uris: [http://127.0.0.1:3000/callback]}\n"))
		Expect(err).To(HaveOccurred())
		clientFields := "(fields: access_token_lifetime, allowed_origins, client_id, client_secret, client_secret_expires_at, grant_types, platform, previous_secrets, public, publishing_status, redirect_uris, refresh, scopes, token_endpoint_auth_methods)"
		Expect(strings.Split(err.Error(), "\n")).To(Equal([]string{
			`c.yaml:2:6: unknown field "id" in clients[0]: did you mean "client_id"? ` + clientFields,
			`c.yaml:2:13: unknown field "secret" in clients[0]: did you mean "client_secret"? ` + clientFields,
		}), "no 'client_id is required' for the id given under another name")
	})

	DescribeTable("say what a value of the wrong shape takes, with an example",
		func(file, want string) {
			_, err := simulator.ParseConfig("c.yaml", []byte(file))
			Expect(err).To(MatchError(want))
		},
		Entry("a list for the file", "- clients\n",
			"c.yaml:1:1: a config file is a mapping, e.g. `clients: [{client_id: my-app}]` (fields: auto_approve, clients, faults, profile, users)"),
		Entry("clients given a mapping", "clients: {client_id: a}\n",
			"c.yaml:1:10: clients takes a list, e.g. `clients: [{client_id: my-app, client_secret: my-secret, redirect_uris: [http://127.0.0.1:3000/callback]}]`"),
		Entry("users given a word", "users: carol\n",
			"c.yaml:1:8: users takes a list, e.g. `users: [{id: carol, name: Carol Example}]`"),
		Entry("a user's id given a list", "users: [{id: [carol]}]\n",
			"c.yaml:1:14: users[0].id takes a single value, not a list, e.g. `id: carol`"),
		Entry("faults given a mapping", "faults: {kind: reset}\n",
			"c.yaml:1:9: faults takes a list, e.g. `faults: [{kind: latency, delay: 200ms, match: {endpoint: token}}]`"),
		Entry("a client's scopes given a word", "clients: [{client_id: a, client_secret: s, redirect_uris: [http://127.0.0.1/cb], scopes: api}]\n",
			"c.yaml:1:90: clients[0].scopes takes a list, e.g. `scopes: [openid, offline_access, api]`"),
		Entry("a client's public given a word", "clients: [{client_id: a, public: yes, redirect_uris: [http://127.0.0.1/cb]}]\n",
			"c.yaml:1:34: clients[0].public takes true or false, e.g. `public: true`"),
		Entry("a client's secret expiry given a list", "clients: [{client_id: a, client_secret: s, redirect_uris: [http://127.0.0.1/cb], client_secret_expires_at: [2026]}]\n",
			"c.yaml:1:108: clients[0].client_secret_expires_at takes a time in RFC 3339, e.g. `client_secret_expires_at: 2026-06-30T00:00:00Z`"),
		Entry("a previous secret given a word", "clients: [{client_id: a, client_secret: s, redirect_uris: [http://127.0.0.1/cb], previous_secrets: old}]\n",
			"c.yaml:1:100: clients[0].previous_secrets takes a list, e.g. `previous_secrets: [{client_secret: old-secret, valid_until: 2026-01-31T00:00:00Z}]`"),
	)
})

func must(p profile.Profile, ok bool) profile.Profile {
	GinkgoHelper()
	Expect(ok).To(BeTrue())
	return p
}
