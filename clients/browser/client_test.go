package browser

import (
	"encoding/json"
	"os"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/conformance/checkid"
)

var _ = Describe("The browser client", func() {
	It("is a browser that refreshes and logs out on the sim clock, a single-page app unless its server holds the grant", func() {
		c := New("mine", "testdata/smoke.js", WithVersion("1.2"))
		Expect(c.Name()).To(Equal("mine"))
		Expect(c.Version()).To(Equal("1.2"))
		Expect(c.Describe()).To(ContainSubstring("testdata/smoke.js"))
		Expect(c.Capabilities()).To(ConsistOf(contract.CapBrowser, contract.CapRefresh, contract.CapLogout, contract.CapClockNow, contract.CapSPA))
		Expect(New("bff", "tm/bff.js", WithBFF()).Capabilities()).NotTo(ContainElement(contract.CapSPA))
	})

	It("has built in the reference, its BFF variant and a mutant for each browser check, each in its file", func() {
		names := map[string]bool{}
		for _, c := range Builtin("v") {
			names[c.Name()] = true
		}
		Expect(names).To(HaveKey("browser/reference"))
		Expect(names).To(HaveKey("browser/bff"))
		targets := map[string]bool{}
		for _, m := range Mutants() {
			Expect(names).To(HaveKey("browser/mutant/" + m.Name))
			_, err := builtin.ReadFile("tm/" + m.File)
			Expect(err).NotTo(HaveOccurred(), m.File)
			targets[m.Target] = true
		}
		for _, id := range []string{checkid.BrowserNoBlankDashboard, checkid.BrowserOneRefresh, checkid.BrowserNoTokenInURL, checkid.BrowserExactOrigin,
			checkid.BrowserRefreshStaysInApp, checkid.BrowserReportsConfig, checkid.BrowserNavigationReuses} {
			Expect(targets).To(HaveKey(id), "no mutant for %s", id)
		}
	})

	It("says why every run is skipped when there is no Chromium", func() {
		GinkgoT().Setenv(EnvChromium, "/nonexistent/chromium")
		Expect(New("mine", "testdata/smoke.js").Unavailable()).To(ContainSubstring("/nonexistent/chromium"))
	})

	It("serves the application at the redirect URI the provider knows, and refuses one it cannot serve", func() {
		uri, err := RedirectURI()
		Expect(err).NotTo(HaveOccurred())
		port, err := appPort(uri)
		Expect(err).NotTo(HaveOccurred())
		Expect(uri).To(Equal("http://app.localhost:" + port + "/callback"))
		// Below the ephemeral range, which outgoing connections and port-0
		// listeners draw from between the client's runs.
		n, err := strconv.Atoi(port)
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(BeNumerically(">=", staticPortMin))
		Expect(n).To(BeNumerically("<", ephemeralLow()))
		for _, bad := range []string{"http://127.0.0.1:8765/callback", "http://app.localhost/callback", "http://app.localhost:80/cb", "::"} {
			_, err := appPort(bad)
			Expect(err).To(HaveOccurred(), bad)
		}
	})

	It("embeds a fake-timers bundle built from the version package.json pins", func() {
		bundle, err := assets.ReadFile("assets/fake-timers.js")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(bundle)).To(ContainSubstring("OauthsimFakeTimers"))
		pkg, err := os.ReadFile("package.json")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(pkg)).To(ContainSubstring(`"@sinonjs/fake-timers": "15.5.0"`))
		b, err := os.ReadFile("package-lock.json")
		Expect(err).NotTo(HaveOccurred())
		var lock struct {
			Packages map[string]struct {
				Version string `json:"version"`
			} `json:"packages"`
		}
		Expect(json.Unmarshal(b, &lock)).To(Succeed())
		Expect(lock.Packages["node_modules/@sinonjs/fake-timers"].Version).To(Equal("15.5.0"))
	})

	It("reads the third-party cookie setting, and refuses one it does not know", func() {
		for setting, want := range map[string]bool{"": false, contract.ThirdPartyCookiesAllowed: false, contract.ThirdPartyCookiesBlocked: true} {
			got, err := blocked(setting)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want), setting)
		}
		_, err := blocked("sometimes")
		Expect(err).To(MatchError(ContainSubstring(`got "sometimes"`)))
	})
})
