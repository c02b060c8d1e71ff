package main_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
)

var epoch = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// adapterRun is one process of the adapter, driven line by line.
type adapterRun struct {
	in    io.WriteCloser
	out   *bufio.Scanner
	next  int
	hello contract.Hello
}

// send writes r (its id and now filled in) and reads its answer; the
// adapter serves one request at a time here, so the next line is it.
func (a *adapterRun) send(r contract.Request) contract.Response {
	GinkgoHelper()
	a.next++
	r.ID, r.Now = strconv.Itoa(a.next), epoch
	b, err := json.Marshal(r)
	Expect(err).NotTo(HaveOccurred())
	_, err = a.in.Write(append(b, '\n'))
	Expect(err).NotTo(HaveOccurred())
	Expect(a.out.Scan()).To(BeTrue(), "the adapter answered nothing")
	var resp contract.Response
	Expect(json.Unmarshal(a.out.Bytes(), &resp)).To(Succeed())
	Expect(resp.ID).To(Equal(r.ID))
	return resp
}

var _ = Describe("The reference adapter", Ordered, func() {
	var binary string
	BeforeAll(func() {
		var err error
		binary, err = gexec.Build("github.com/oauthsim/oauthsim/clients/adapters/reference")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
	})

	var (
		run     *adapterRun
		browser *http.Client
		keyFile string
	)
	BeforeEach(func() {
		srv, err := simulator.NewServer(simulator.WithClock(clock.NewFake(epoch)))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(srv.Close)
		browser = srv.Client()
		browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

		dir := GinkgoT().TempDir()
		secret := filepath.Join(dir, "secret")
		Expect(os.WriteFile(secret, []byte("demo-secret\n"), 0o600)).To(Succeed())
		keyFile = filepath.Join(dir, "storage-keys")
		sum := sha256.Sum256([]byte("adapter spec key"))
		Expect(os.WriteFile(keyFile, []byte(contract.FormatStorageKeys([]contract.StorageKey{{ID: "k1", Key: sum[:]}})), 0o600)).To(Succeed())
		tenants, err := json.Marshal([]contract.Tenant{
			{Name: "acme", ClientID: "demo", RedirectURI: simulator.DemoRedirectURI, ClientSecretFile: secret, RefreshRotation: contract.RotationRotate},
			{Name: "globex", ClientID: "demo-public", RedirectURI: simulator.DemoRedirectURI, RefreshRotation: contract.RotationRotate},
		})
		Expect(err).NotTo(HaveOccurred())

		cmd := exec.Command(binary)
		cmd.Env = append(os.Environ(),
			contract.EnvProtocol+"=1", contract.EnvIssuer+"="+srv.URL, contract.EnvResource+"="+srv.URL+simulator.PathResourceMe,
			contract.EnvClientID+"=demo", contract.EnvClientSecretFile+"="+secret, contract.EnvRedirectURI+"="+simulator.DemoRedirectURI,
			contract.EnvScopes+"=openid api", contract.EnvOfflineAccess+"=scope", contract.EnvProfile+"=generic",
			contract.EnvRefreshRotation+"=rotate", contract.EnvRefreshGrace+"=0", contract.EnvStateDir+"="+filepath.Join(dir, "state"),
			contract.EnvTime+"="+epoch.Format(time.RFC3339Nano), contract.EnvStorageKeyFile+"="+keyFile,
			contract.EnvTenants+"="+string(tenants))
		in, err := cmd.StdinPipe()
		Expect(err).NotTo(HaveOccurred())
		out, err := cmd.StdoutPipe()
		Expect(err).NotTo(HaveOccurred())
		cmd.Stderr = GinkgoWriter
		Expect(cmd.Start()).To(Succeed())
		run = &adapterRun{in: in, out: bufio.NewScanner(out)}
		DeferCleanup(func() {
			run.send(contract.Request{Op: contract.OpShutdown})
			Expect(cmd.Wait()).To(Succeed())
		})
		Expect(run.out.Scan()).To(BeTrue(), "no hello")
		var hello contract.HelloLine
		Expect(json.Unmarshal(run.out.Bytes(), &hello)).To(Succeed())
		Expect(hello.Hello).NotTo(BeNil())
		run.hello = *hello.Hello
	})

	// signIn authorizes tenant as alice and returns the callback's answer.
	signIn := func(tenant string) contract.Response {
		GinkgoHelper()
		auth := run.send(contract.Request{Op: contract.OpAuthorize, Tenant: tenant})
		Expect(auth.Error).To(BeEmpty())
		resp, err := browser.Get(auth.URL + "&login_hint=alice")
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusSeeOther))
		return run.send(contract.Request{Op: contract.OpCallback, URL: resp.Header.Get("Location"), Tenant: tenant})
	}

	It("declares the stored-state and tenant capabilities in its hello", func() {
		Expect(run.hello.Capabilities).To(ContainElements(contract.CapEncryptsAtRest, contract.CapKeyRotation, contract.CapMultiTenant, contract.CapClockNow))
	})

	It("routes each request to the tenant it names, the first by default", func() {
		auth := run.send(contract.Request{Op: contract.OpAuthorize, Tenant: "globex"})
		u, err := url.Parse(auth.URL)
		Expect(err).NotTo(HaveOccurred())
		Expect(u.Query().Get("client_id")).To(Equal("demo-public"))

		Expect(signIn("globex")).To(HaveField("Outcome", contract.OutcomeOK))
		Expect(run.send(contract.Request{Op: contract.OpCall, Tenant: "globex"})).To(HaveField("Outcome", contract.OutcomeOK))
		def := run.send(contract.Request{Op: contract.OpCall})
		Expect([]any{def.Outcome, def.Reason}).To(Equal([]any{contract.OutcomeReauthorize, contract.ReasonNoGrant}), "acme, the default, has no grant")
		Expect(run.send(contract.Request{Op: contract.OpReload, Tenant: "globex"}).Error).To(BeEmpty())
	})

	It("refuses a tenant it does not serve", func() {
		Expect(run.send(contract.Request{Op: contract.OpCall, Tenant: "initech"}).Error).To(ContainSubstring(`no tenant "initech"`))
	})

	It("reads the storage key file again on storage_key, and refuses a malformed one", func() {
		Expect(signIn("")).To(HaveField("Outcome", contract.OutcomeOK))
		Expect(run.send(contract.Request{Op: contract.OpStorageKey})).To(Equal(contract.Response{ID: strconv.Itoa(run.next)}))
		Expect(os.WriteFile(keyFile, []byte("k2\n"), 0o600)).To(Succeed())
		Expect(run.send(contract.Request{Op: contract.OpStorageKey}).Error).To(ContainSubstring("storage key file"))
		Expect(run.send(contract.Request{Op: contract.OpCall})).To(HaveField("Outcome", contract.OutcomeOK))
	})
})
