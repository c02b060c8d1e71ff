package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/simulator/control"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

var issuerLine = regexp.MustCompile(`issuer\s+(http://\S+)`)

// startBinary runs the built oauthsim serve on a free loopback port and
// returns its issuer URL.
func startBinary(args ...string) (string, *gexec.Session) {
	GinkgoHelper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { session.Kill().Wait(5 * time.Second) })
	Eventually(session.Out).WithTimeout(10 * time.Second).Should(gbytes.Say(`issuer\s+http://`))
	return issuerLine.FindStringSubmatch(string(session.Out.Contents()))[1], session
}

func getJSON(url string) (int, map[string]any) {
	GinkgoHelper()
	resp, err := http.Get(url)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var m map[string]any
	body, _ := io.ReadAll(resp.Body)
	Expect(json.Unmarshal(body, &m)).To(Succeed(), "%s", body)
	return resp.StatusCode, m
}

var _ = Describe("oauthsim serve", func() {
	It("serves discovery, prints the demo client, and stops cleanly on SIGTERM", func(ctx SpecContext) {
		issuer, session := startBinary()
		Expect(session.Out).To(gbytes.Say("demo / demo-secret"))
		Expect(string(session.Out.Contents())).To(ContainSubstring("http://127.0.0.1:8765/callback"))

		status, meta := getJSON(issuer + "/.well-known/openid-configuration")
		Expect(status).To(Equal(http.StatusOK))
		Expect(meta).To(HaveKeyWithValue("issuer", issuer))

		By("moving the real-plus-offset clock with the control API")
		before := time.Now()
		ctl := control.New(issuer, nil)
		moved, err := ctl.AdvanceClock(ctx, 48*time.Hour)
		Expect(err).NotTo(HaveOccurred())
		Expect(moved.Now).To(BeTemporally("~", before.Add(48*time.Hour), 5*time.Second))
		st, err := ctl.ClockState(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Now).To(BeTemporally("~", before.Add(48*time.Hour), 5*time.Second))

		session.Terminate()
		Eventually(session).WithTimeout(10 * time.Second).Should(gexec.Exit(0))
	})

	It("stops cleanly on SIGINT", func() {
		_, session := startBinary()
		session.Interrupt()
		Eventually(session).WithTimeout(10 * time.Second).Should(gexec.Exit(0))
		Expect(session.Err).To(gbytes.Say("shutting down"))
	})

	It("loads clients, users and profile overrides from --config", func(ctx SpecContext) {
		path := filepath.Join(GinkgoT().TempDir(), "oauthsim.yaml")
		Expect(os.WriteFile(path, []byte(`
profile:
  access_token_lifetime: 5m
clients:
  - client_id: qa
    client_secret: qa-secret
    grant_types: [client_credentials]
users:
  - id: carol
`), 0o600)).To(Succeed())
		issuer, _ := startBinary("--config", path)
		req, err := http.NewRequest(http.MethodPost, issuer+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("qa", "qa-secret")
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		var tok map[string]any
		Expect(json.NewDecoder(resp.Body).Decode(&tok)).To(Succeed())
		resp.Body.Close()
		Expect(tok).To(HaveKeyWithValue("expires_in", BeNumerically("==", 300)))
		Expect(control.New(issuer, nil).Users(ctx)).To(ContainElement(HaveField("ID", "carol")))
	})

	It("applies the faults in --config, and a hanging request does not hold up shutdown", func(ctx SpecContext) {
		path := filepath.Join(GinkgoT().TempDir(), "oauthsim.yaml")
		Expect(os.WriteFile(path, []byte(`
faults:
  - kind: hang
    max: 10m
    match: {endpoint: jwks}
`), 0o600)).To(Succeed())
		issuer, session := startBinary("--config", path)
		ctl := control.New(issuer, nil)
		Expect(ctl.Faults(ctx)).To(ConsistOf(HaveField("Fault.Kind()", fault.Hang)))
		held := make(chan error, 1)
		go func() {
			resp, err := http.Get(issuer + "/oauth2/jwks")
			if err == nil {
				resp.Body.Close()
			}
			held <- err
		}()
		Eventually(ctl.Faults).WithContext(ctx).Should(ConsistOf(HaveField("Matched", 1)))
		Consistently(held, 200*time.Millisecond).ShouldNot(Receive(), "the fault holds the request")
		session.Terminate()
		Eventually(session).WithTimeout(10 * time.Second).Should(gexec.Exit(0))
		Eventually(held).Should(Receive(HaveOccurred()), "the held request ends without an answer")
	})

	It("refuses a bad fault in --config with file:line:column and exit 2", func() {
		path := filepath.Join(GinkgoT().TempDir(), "oauthsim.yaml")
		Expect(os.WriteFile(path, []byte("faults:\n  - kind: rate_limit\n    retry_after: soon\n"), 0o600)).To(Succeed())
		session, err := gexec.Start(exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--config", path), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(session).WithTimeout(10 * time.Second).Should(gexec.Exit(2))
		Expect(string(session.Err.Contents())).To(ContainSubstring(path + ":3:18: "))
	})

	It("serves the built-in profile --profile names, with its sources", func(ctx SpecContext) {
		issuer, session := startBinary("--profile", "google")
		Expect(string(session.Out.Contents())).To(ContainSubstring("(profile google: Google OAuth 2.0"))
		p, err := control.New(issuer, nil).Profile(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Name).To(Equal("google"))
		Expect(p.TestingAppExpiry).To(Equal(profile.Duration(7 * 24 * time.Hour)))
		Expect(p.Sources).To(HaveKeyWithValue("refresh.idle_timeout", HaveField("Ref", ContainSubstring("six months"))))
	})

	It("lets --profile win over the config file's profile.base and applies the file's overrides on top", func(ctx SpecContext) {
		path := filepath.Join(GinkgoT().TempDir(), "oauthsim.yaml")
		Expect(os.WriteFile(path, []byte("profile:\n  base: okta\n  access_token_lifetime: 5m\n"), 0o600)).To(Succeed())

		issuer, _ := startBinary("--profile", "auth0", "--config", path)
		p, err := control.New(issuer, nil).Profile(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Name).To(Equal("auth0"))
		Expect(p.AccessTokenLifetime).To(Equal(profile.Duration(5 * time.Minute)))
		Expect(p.Refresh.AbsoluteLifetime).To(Equal(profile.Duration(30 * 24 * time.Hour)))
		Expect(p.Sources).To(HaveKeyWithValue("access_token_lifetime", HaveField("Ref", "config file")))

		By("leaving the choice to the file without --profile")
		issuer, _ = startBinary("--config", path)
		p, err = control.New(issuer, nil).Profile(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Name).To(Equal("okta"))
		Expect(p.AccessTokenLifetime).To(Equal(profile.Duration(5 * time.Minute)))
	})

	It("exits 1 when the port is taken", func() {
		issuer, _ := startBinary()
		session, err := gexec.Start(exec.Command(binary, "serve", "--addr", strings.TrimPrefix(issuer, "http://")), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(session).WithTimeout(10 * time.Second).Should(gexec.Exit(exitFailure))
		Expect(session.Err).To(gbytes.Say("address already in use"))
	})
})

var _ = Describe("Command-line errors", func() {
	DescribeTable("exit 2 with a message that names the problem",
		func(args []string, files map[string]string, want string) {
			dir := GinkgoT().TempDir()
			for name, content := range files {
				Expect(os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)).To(Succeed())
			}
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "DIR", dir)
			}
			var stdout, stderr bytes.Buffer
			Expect(run(args, &stdout, &stderr)).To(Equal(exitUsage))
			Expect(stderr.String()).To(ContainSubstring(strings.ReplaceAll(want, "DIR", dir)))
		},
		Entry("an unknown flag, with usage", []string{"serve", "--adr", "x"}, nil, "unknown flag: --adr"),
		Entry("usage after a flag error", []string{"serve", "--adr", "x"}, nil, "Flags:"),
		Entry("an unknown command", []string{"srve"}, nil, `unknown command "srve"`),
		Entry("a stray argument", []string{"serve", "now"}, nil, `unknown command "now"`),
		Entry("a bad address", []string{"serve", "--addr", "nowhere"}, nil, `--addr "nowhere"`),
		Entry("a negative event limit", []string{"serve", "--events-keep", "-1"}, nil, `--events-keep -1: give 0 (keep all) or a positive count`),
		Entry("a missing config file", []string{"serve", "--config", "DIR/none.yaml"}, nil, "none.yaml"),
		Entry("an unknown config key, with its line and column", []string{"serve", "--config", "DIR/c.yaml"},
			map[string]string{"c.yaml": "users:\n  - id: a\nclinets: []\n"}, `DIR/c.yaml:3:1: unknown field "clinets" in the config: did you mean "clients"? (fields: auto_approve, clients, faults, profile, users)`),
		Entry("a bad duration, with its line and column", []string{"serve", "--config", "DIR/c.yaml"},
			map[string]string{"c.yaml": "profile:\n  access_token_lifetime: forever\n"}, `DIR/c.yaml:2:26: invalid duration "forever"`),
		Entry("an invalid client, with its line and column", []string{"serve", "--config", "DIR/c.yaml"},
			map[string]string{"c.yaml": "clients:\n  - client_id: a\n  - client_id: b\n    public: true\n    client_secret: s\n"}, `DIR/c.yaml:2:5: clients[0]: client "a": client_secret is required`),
		Entry("an unknown base profile", []string{"serve", "--config", "DIR/c.yaml"},
			map[string]string{"c.yaml": "profile:\n  base: googel\n"}, `DIR/c.yaml:2:9: profile.base: no built-in profile "googel"`),
		Entry("an inconsistent profile", []string{"serve", "--config", "DIR/c.yaml"},
			map[string]string{"c.yaml": "profile:\n  refresh:\n    rotation: rotate\n    grace: 30s\n"}, "refresh.grace is only meaningful"),
		Entry("an unknown profile key, with its line and column", []string{"serve", "--config", "DIR/c.yaml"},
			map[string]string{"c.yaml": "profile:\n  acess_token_lifetime: 5m\n"}, `DIR/c.yaml:2:3: unknown field "acess_token_lifetime" in profile`),
		Entry("an unknown --profile, with the known ones", []string{"serve", "--profile", "gogle"}, nil,
			`--profile: no built-in profile "gogle" (built in: auth0, dropbox, entra, entra-spa, generic, github, google,`),
		Entry("an unknown --profile beside a config file", []string{"serve", "--profile", "gogle", "--config", "DIR/c.yaml"},
			map[string]string{"c.yaml": "profile:\n  base: okta\n"}, `--profile: no built-in profile "gogle"`),
		Entry("an unknown profile to show", []string{"profiles", "gogle"}, nil,
			`no built-in profile "gogle" (built in: auth0, dropbox,`),
		Entry("two profiles to show", []string{"profiles", "okta", "auth0"}, nil, "accepts at most 1 arg(s), received 2"),
	)

	It("prints the version", func() {
		var stdout bytes.Buffer
		Expect(run([]string{"version"}, &stdout, io.Discard)).To(Equal(0))
		Expect(stdout.String()).To(HavePrefix("oauthsim "))
	})
})

var _ = Describe("oauthsim profiles", func() {
	output := func(args ...string) string {
		GinkgoHelper()
		var stdout, stderr bytes.Buffer
		Expect(run(append([]string{"profiles"}, args...), &stdout, &stderr)).To(Equal(0), stderr.String())
		return stdout.String()
	}

	It("lists every built-in profile with its title", func() {
		out := output()
		Expect(out).To(HavePrefix("NAME"))
		for _, name := range profile.Names() {
			p, _ := profile.Lookup(name)
			Expect(out).To(MatchRegexp(`(?m)^%s +%s$`, regexp.QuoteMeta(name), regexp.QuoteMeta(p.Title)))
		}
	})

	It("shows each value of a profile with its source, marking the unconfirmed ones", func() {
		out := output("auth0")
		Expect(out).To(HavePrefix("auth0: Auth0"))
		Expect(out).To(ContainSubstring("\nrefresh.idle_timeout = 15d (1296000s)\n    source (UNCONFIRMED): auth0.com/docs/"))
		Expect(out).To(ContainSubstring("\nrefresh.absolute_lifetime = 30d (2592000s)\n    source: auth0.com/docs/"))
		Expect(out).To(ContainSubstring("\ndeviations = [invalid_grant_403]\n    source (UNCONFIRMED): "))
		By("giving the source once for values that share it")
		Expect(out).To(ContainSubstring("\nresponses.refresh_token_invalid.status = 403\n" +
			"responses.refresh_token_invalid.content_type = application/json\n" +
			`responses.refresh_token_invalid.body = {"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}` + "\n" +
			"    source: support.auth0.com"))
	})

	It("shows a body of several lines as a block, and says when a profile has no responses of its own", func() {
		Expect(output("google")).To(ContainSubstring("\nresponses.rate_limited.body:\n    | <!DOCTYPE html>\n"))
		Expect(output("oracle-idcs")).To(ContainSubstring("\nresponses: none of its own"))
	})

	It("shows every value each profile sets", func() {
		for _, name := range profile.Names() {
			p, _ := profile.Lookup(name)
			out := output(name)
			for _, f := range p.Fields() {
				if f.Set {
					Expect(out).To(Or(ContainSubstring("\n"+f.Path+" = "), ContainSubstring("\n"+f.Path+":\n    | ")),
						"%s: %s", name, f.Path)
				}
			}
			Expect(out).NotTo(ContainSubstring("source: none given"), name)
		}
	})
})

var _ = Describe("oauthsim clients", func() {
	It("lists the reference and every mutant by name, with its bug, the failure it reproduces and its source", func() {
		var stdout, stderr bytes.Buffer
		Expect(run([]string{"clients"}, &stdout, &stderr)).To(Equal(0), stderr.String())
		out := stdout.String()
		Expect(out).To(MatchRegexp(`(?m)^reference\s`))
		all := mutants.All()
		Expect(len(all)).To(BeNumerically(">=", 12))
		for _, m := range all {
			Expect(out).To(MatchRegexp(`(?m)^mutant/%s\s+%s\n\s+field: %s\n\s+source: %s$`, regexp.QuoteMeta(m.Name), regexp.QuoteMeta(m.Bug),
				regexp.QuoteMeta(m.Origin.Failure), regexp.QuoteMeta(m.Origin.Source)))
		}
		Expect(run([]string{"clients", "extra"}, &stdout, &stderr)).To(Equal(2))
	})
})
