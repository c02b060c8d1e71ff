package protocol_test

import (
	"context"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/protocol"
)

var _ = Describe("ReadEnv", func() {
	// env is what the harness sets for a confidential client of Google's
	// profile.
	env := map[string]string{
		contract.EnvProtocol: "1", contract.EnvIssuer: "http://127.0.0.1:1", contract.EnvResource: "http://127.0.0.1:1/api/me",
		contract.EnvClientID: "demo", contract.EnvClientSecretFile: "/run/secret", contract.EnvRedirectURI: "http://127.0.0.1:8765/callback",
		contract.EnvScopes: "openid api", contract.EnvOfflineAccess: "access_type", contract.EnvProfile: "google",
		contract.EnvRefreshRotation: "rotate_with_grace", contract.EnvRefreshGrace: "30", contract.EnvStateDir: "/tmp/state",
		contract.EnvTime: "2026-01-05T10:00:00.25Z", contract.EnvStorageKeyFile: "/run/storage-keys",
		contract.EnvTenants: `[{"name":"acme","client_id":"demo","redirect_uri":"http://127.0.0.1:8765/callback","client_secret_file":"/run/secret",` +
			`"refresh_rotation":"rotate_with_grace","refresh_grace":30},` +
			`{"name":"globex","client_id":"globex-app","redirect_uri":"http://127.0.0.1:8765/callback","refresh_rotation":"none","refresh_grace":0}]`,
	}
	// set sets env, with the variables named in unset empty.
	set := func(unset ...string) {
		for k, v := range env {
			if slices.Contains(unset, k) {
				v = ""
			}
			GinkgoT().Setenv(k, v)
		}
	}

	It("reads every variable of the contract", func() {
		set()
		Expect(protocol.ReadEnv()).To(Equal(protocol.Env{
			Issuer: "http://127.0.0.1:1", Resource: "http://127.0.0.1:1/api/me", ClientID: "demo", SecretFile: "/run/secret",
			RedirectURI: "http://127.0.0.1:8765/callback", Scopes: []string{"openid", "api"}, OfflineAccessType: true, Profile: "google",
			Rotation: contract.RotationRotateWithGrace, Grace: 30 * time.Second, StateDir: "/tmp/state",
			Start: time.Date(2026, 1, 5, 10, 0, 0, 250e6, time.UTC), StorageKeyFile: "/run/storage-keys",
			Tenants: []contract.Tenant{
				{Name: "acme", ClientID: "demo", RedirectURI: "http://127.0.0.1:8765/callback", ClientSecretFile: "/run/secret",
					RefreshRotation: contract.RotationRotateWithGrace, RefreshGrace: 30},
				{Name: "globex", ClientID: "globex-app", RedirectURI: "http://127.0.0.1:8765/callback", RefreshRotation: contract.RotationNone},
			},
		}))
	})

	It("reads a scenario without tenants, nor a storage key file, as one registration", func() {
		set(contract.EnvTenants, contract.EnvStorageKeyFile)
		e, err := protocol.ReadEnv()
		Expect(err).NotTo(HaveOccurred())
		Expect(e.Tenants).To(BeNil())
		Expect(e.StorageKeyFile).To(BeEmpty())
	})

	It("reads a public client's environment, without a secret file", func() {
		set(contract.EnvClientSecretFile)
		e, err := protocol.ReadEnv()
		Expect(err).NotTo(HaveOccurred())
		Expect(e.SecretFile).To(BeEmpty())
		Expect(e.Secret()).To(BeEmpty())
	})

	DescribeTable("refuses an environment it cannot work with, naming the variable",
		func(name, value, want string) {
			set()
			GinkgoT().Setenv(name, value)
			_, err := protocol.ReadEnv()
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("another protocol version", contract.EnvProtocol, "2", `OAUTHSIM_PROTOCOL is "2"; this adapter speaks 1`),
		Entry("no issuer", contract.EnvIssuer, "", "OAUTHSIM_ISSUER is not set"),
		Entry("no state directory", contract.EnvStateDir, "", "OAUTHSIM_STATE_DIR is not set"),
		Entry("a grace that is not whole seconds", contract.EnvRefreshGrace, "1.5", "OAUTHSIM_REFRESH_GRACE"),
		Entry("a time that is not RFC 3339", contract.EnvTime, "yesterday", "OAUTHSIM_TIME"),
		Entry("tenants that are not a JSON array", contract.EnvTenants, `{"name":"acme"}`, "OAUTHSIM_TENANTS"),
		Entry("an empty list of tenants", contract.EnvTenants, `[]`, "OAUTHSIM_TENANTS names no tenant"),
	)
})

var _ = Describe("Serve's lines", func() {
	serve := func(input string) []string {
		var out strings.Builder
		err := protocol.Serve(strings.NewReader(input), &out, contract.Hello{Protocol: 7, Name: "t", Version: "v", Capabilities: []contract.Capability{contract.CapClockNow}}, nil,
			func(_ context.Context, r contract.Request) contract.Response {
				return contract.Response{Detail: string(r.Op)}
			})
		Expect(err).NotTo(HaveOccurred())
		return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	}

	It("says hello first, with the contract's version whatever the hello said", func() {
		Expect(serve("")).To(Equal([]string{`{"hello":{"protocol":1,"name":"t","version":"v","capabilities":["clock:now"]}}`}))
	})

	It("answers a line it cannot read without an id, and goes on", func() {
		lines := serve("not json\n" + `{"id":"2","op":"call","now":"2026-01-05T10:00:00Z"}` + "\n")
		Expect(lines).To(HaveLen(3))
		Expect(lines[1]).To(HavePrefix(`{"error":"not a request: `))
		Expect(lines[2]).To(Equal(`{"id":"2","detail":"call"}`))
	})

	It("answers shutdown itself, after the requests in flight, and stops reading", func() {
		lines := serve(`{"id":"1","op":"call","now":"2026-01-05T10:00:00Z"}` + "\n" +
			`{"id":"2","op":"shutdown","now":"2026-01-05T10:00:00Z"}` + "\n" +
			`{"id":"3","op":"call","now":"2026-01-05T10:00:00Z"}` + "\n")
		Expect(lines[1:]).To(Equal([]string{`{"id":"1","detail":"call"}`, `{"id":"2"}`}))
	})
})
