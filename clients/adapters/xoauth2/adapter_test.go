package main_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator/events"
)

var _ = Describe("The x/oauth2 adapter", Ordered, func() {
	var client *conformance.Command
	BeforeAll(func() {
		bin, err := gexec.Build("github.com/oauthsim/oauthsim/clients/adapters/xoauth2")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
		client, err = conformance.NewCommand(context.Background(), bin)
		Expect(err).NotTo(HaveOccurred())
	})

	// bundled finds a bundled scenario by name.
	bundled := func(name string) *scenarios.Scenario {
		scs, err := scenarios.Bundled()
		Expect(err).NotTo(HaveOccurred())
		for _, sc := range scs {
			if sc.Name == name {
				return sc
			}
		}
		Fail("no bundled scenario " + name)
		return nil
	}

	It("names the library and the version linked into it", func() {
		Expect(client.Name()).To(Equal("golang.org/x/oauth2"))
		Expect(client.Version()).To(MatchRegexp(`^v0\.\d+\.\d+`), "the module version from the build info")
		Expect(client.Capabilities()).To(ConsistOf(contract.CapRefresh, contract.CapRestart, contract.CapConcurrency, contract.CapSecretRotation, contract.CapClientCredentials),
			"no logout (x/oauth2 cannot revoke) and no shared_state (it locks nothing across processes)")
		Expect(client.Unavailable()).To(BeEmpty(), "clock:now needs no libfaketime")
	})

	It("refreshes on the sim clock: an hour of sim time expires the token though no wall time passed", func() {
		sc := bundled("offline-access-scope")
		rec := conformance.Run(context.Background(), sc, client)
		Expect(rec.Err).NotTo(HaveOccurred())

		By("answering ok to the call after 61 minutes, which only a refresh makes possible")
		var outcomes []contract.Outcome
		var details []string
		for _, s := range rec.Steps {
			if s.Step.Call != nil && s.Start.Sub(rec.SimStart) >= 61*time.Minute {
				for _, c := range s.Calls {
					outcomes, details = append(outcomes, c.Outcome), append(details, c.Detail)
				}
			}
		}
		Expect(outcomes).To(Equal([]contract.Outcome{contract.OutcomeOK, contract.OutcomeOK}), "the calls at +1h1m and +4h1m: %q", details)

		By("refreshing once per expired token, never with a 401 first")
		var refreshes, unauthorized int
		for _, e := range rec.Events {
			switch {
			case e.Kind == events.TokenRequest && e.GrantType == "refresh_token" && e.Status == 200:
				refreshes++
			case e.Kind == events.ResourceRequest && e.Status == 401:
				unauthorized++
			}
		}
		Expect(refreshes).To(Equal(2))
		Expect(unauthorized).To(BeZero())
		Expect(libraryFailures(rec)).To(BeEmpty())
	})

	It("finds its tokens again after each restart, from the file it saves them to", func() {
		rec := conformance.Run(context.Background(), bundled("intuit-restart-daily-rotation"), client)
		Expect(rec.Err).NotTo(HaveOccurred())
		for _, s := range rec.Steps {
			for _, c := range s.Calls {
				Expect(c.Outcome).To(Equal(contract.OutcomeOK), "step %d (line %d): %s", s.Index+1, s.Step.Line, c.Detail)
			}
		}
		Expect(libraryFailures(rec)).To(BeEmpty())
	})

	It("leaves AuthStyle at auto-detect: a refused first refresh after a restart goes out twice, a finding about the library", func() {
		sc, err := scenarios.LoadFile("testdata/restart-dead-grant.yaml")
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), sc, client)
		Expect(rec.Err).NotTo(HaveOccurred())
		for _, s := range rec.Steps {
			for _, c := range s.Calls {
				if s.Start.Sub(rec.SimStart) >= time.Hour {
					Expect(c.Outcome).To(Equal(contract.OutcomeReauthorize), "step %d: %s", s.Index+1, c.Detail)
				}
			}
		}

		By("sending each refused refresh twice, header then body, with the same refresh token: a failure caches no auth style")
		refused := map[time.Duration][]string{}
		for _, e := range rec.Events {
			if e.Kind == events.TokenRequest && e.GrantType == "refresh_token" {
				Expect(e.Status).To(Equal(400), "event %d", e.Seq)
				at := e.Time.Sub(rec.SimStart).Truncate(time.Minute)
				refused[at] = append(refused[at], e.Token)
			}
		}
		Expect(refused).To(HaveLen(2), "one refused call at +1h1m and one at +2h1m: %v", refused)
		for at, tokens := range refused {
			Expect(tokens).To(HaveLen(2), "at +%s", at)
			Expect(tokens[1]).To(Equal(tokens[0]), "at +%s", at)
		}
		Expect(libraryFailures(rec)).To(HaveKey("no-refresh-after-invalid-grant"), "the second send follows the refusal of the first")
	})

	It("calls as the client with clientcredentials, reusing its token until it expires, on sim time", func() {
		sc := bundled("client-credentials-service")
		rec := conformance.Run(context.Background(), sc, client)
		Expect(rec.Err).NotTo(HaveOccurred())
		Expect(libraryFailures(rec)).To(BeEmpty())
		var grants []string
		for _, e := range rec.Events {
			if e.Kind == events.TokenRequest {
				// To the second: sim time flows while an operation is in flight.
				grants = append(grants, e.GrantType+" "+e.Time.Sub(rec.SimStart).Truncate(time.Second).String())
			}
		}
		Expect(grants).To(Equal([]string{"client_credentials 0s", "client_credentials 1h20m0s", "client_credentials 3h1m0s"}),
			"one token for the first hour, a new one after expiry, and one after the secret's rotation")
	})
})

// libraryFailures are the run's failed checks but the glue's: the adapter
// keeps the token as plain JSON, as x/oauth2's docs leave storage to the
// application, and says so in its hello; that finding must say it is the
// glue's, and is no verdict on the library.
func libraryFailures(rec *conformance.Record) map[string]string {
	failed := conformance.Failures(rec)
	if msg, ok := failed[conformance.CheckNoPlainTextAtRest]; ok {
		ExpectWithOffset(1, msg).To(ContainSubstring("the adapter's glue (not the library"))
		delete(failed, conformance.CheckNoPlainTextAtRest)
	}
	return failed
}
