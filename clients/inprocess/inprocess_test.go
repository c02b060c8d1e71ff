package inprocess_test

import (
	"crypto/sha256"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/inprocess"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

var _ = Describe("The built-in clients", func() {
	It("declare what the reference does, the stored-state and tenant capabilities among them, mutants alike", func() {
		for _, c := range inprocess.Builtin("test") {
			Expect(c.Capabilities()).To(ContainElements(contract.CapEncryptsAtRest, contract.CapKeyRotation, contract.CapMultiTenant), c.Name())
			Expect(c.Capabilities()).NotTo(ContainElements(contract.CapClientCredentials), c.Name())
			Expect(c.Capabilities()).NotTo(ContainElements(contract.CapBrowser), c.Name())
		}
	})
})

var _ = Describe("A process of the reference", func() {
	var (
		env conformance.Env
		p   conformance.Process
	)
	BeforeEach(func(ctx SpecContext) {
		flow := clock.NewFlow(time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC))
		srv, err := simulator.NewServer(simulator.WithClock(flow))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(srv.Close)
		dir := GinkgoT().TempDir()
		sum := sha256.Sum256([]byte("inprocess spec key"))
		keyFile := filepath.Join(dir, "storage-keys")
		Expect(os.WriteFile(keyFile, []byte(contract.FormatStorageKeys([]contract.StorageKey{{ID: "k1", Key: sum[:]}})), 0o600)).To(Succeed())
		secret := filepath.Join(dir, "secret")
		Expect(os.WriteFile(secret, []byte("demo-secret\n"), 0o600)).To(Succeed())
		env = conformance.Env{
			Issuer: srv.URL, Resource: srv.URL + simulator.PathResourceMe, ClientID: "demo", SecretFile: secret,
			RedirectURI: simulator.DemoRedirectURI, Scopes: []string{"openid", "api"}, StateDir: filepath.Join(dir, "state"),
			Profile: profile.Generic(), Clock: flow, HTTP: &http.Client{}, Output: io.Discard, StorageKeyFile: keyFile,
			Tenants: []contract.Tenant{
				{Name: "acme", ClientID: "demo", RedirectURI: simulator.DemoRedirectURI, ClientSecretFile: secret, RefreshRotation: contract.RotationRotate},
				{Name: "globex", ClientID: "demo-public", RedirectURI: simulator.DemoRedirectURI, RefreshRotation: contract.RotationRotate},
			},
		}
		p, err = inprocess.Reference("test").Start(ctx, env)
		Expect(err).NotTo(HaveOccurred())
	})

	It("starts as every built-in client, with a storage key file and tenants or without", func(ctx SpecContext) {
		plain := env
		plain.StorageKeyFile, plain.Tenants = "", nil
		for _, c := range inprocess.Builtin("test") {
			for _, e := range []conformance.Env{env, plain} {
				_, err := c.Start(ctx, e)
				Expect(err).NotTo(HaveOccurred(), c.Name())
			}
		}
	})

	It("reads the storage key file again on StorageKey", func(ctx SpecContext) {
		rotator, ok := p.(conformance.KeyRotator)
		Expect(ok).To(BeTrue())
		Expect(rotator.StorageKey(ctx)).To(Succeed())
		Expect(os.WriteFile(env.StorageKeyFile, []byte("k2 short\n"), 0o600)).To(Succeed())
		Expect(rotator.StorageKey(ctx)).To(MatchError(ContainSubstring("storage key file")))
	})

	It("gives each tenant a view whose authorizations are that tenant's", func(ctx SpecContext) {
		tenanted, ok := p.(conformance.Tenanted)
		Expect(ok).To(BeTrue())
		clientOf := func(tenant string) string {
			GinkgoHelper()
			raw, err := tenanted.Tenant(tenant).AuthorizationURL(ctx)
			Expect(err).NotTo(HaveOccurred())
			u, err := url.Parse(raw)
			Expect(err).NotTo(HaveOccurred())
			return u.Query().Get("client_id")
		}
		Expect(clientOf("globex")).To(Equal("demo-public"))
		Expect(clientOf("acme")).To(Equal("demo"))
		Expect(tenanted.Tenant("acme").Reload(ctx)).To(Succeed())
	})

	It("answers every user operation of a tenant it does not serve with an error, not a panic", func(ctx SpecContext) {
		unknown := p.(conformance.Tenanted).Tenant("initech")
		_, err := unknown.AuthorizationURL(ctx)
		Expect(err).To(MatchError(ContainSubstring(`no tenant "initech"`)))
		_, err = unknown.CompleteAuthorization(ctx, simulator.DemoRedirectURI+"?code=c&state=s")
		Expect(err).To(HaveOccurred())
		_, err = unknown.Call(ctx)
		Expect(err).To(HaveOccurred())
		_, err = unknown.Logout(ctx)
		Expect(err).To(HaveOccurred())
		Expect(unknown.Reload(ctx)).NotTo(Succeed())
	})
})
