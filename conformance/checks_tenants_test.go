package conformance_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/inprocess"
	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator/events"
)

var _ = Describe("Tenants", func() {
	var twoApps *scenarios.Scenario
	BeforeEach(func() {
		loaded, err := scenarios.Load("../scenarios/tenants-two-apps.yaml")
		Expect(err).NotTo(HaveOccurred())
		twoApps = loaded[0]
	})

	It("catch a client that serves one tenant's call with another's token, at the API and at the token endpoint, in event order", func() {
		m, ok := mutants.Lookup("tenant_mix_up")
		Expect(ok).To(BeTrue())
		rec := conformance.Run(context.Background(), twoApps, inprocess.Mutant(m, "test"))
		Expect(rec.Err).NotTo(HaveOccurred())
		check, _ := conformance.LookupCheck(conformance.CheckOwningClient)
		j := check.Judge(rec)
		Expect(j.Failures).To(HaveLen(2))
		Expect(j.Failures[0]).To(MatchRegexp(`step \d+ \(line \d+, call the API \(tenant acme\)\) called the API with an access token of tenant globex's app \(globex-app\), for user bob`))
		Expect(j.Failures[1]).To(ContainSubstring("a refresh_token request presented a token of a grant issued to tenant globex's app (globex-app), for user bob, with the credentials of tenant acme's app (acme-app); the provider answered 400 invalid_grant"))
		refused := rec.Events[j.Events[1]-1]
		Expect(refused.Kind).To(Equal(events.TokenRequest))
		Expect(refused.Reason).To(Equal(events.RefusedWrongClient))
		Expect(refused.Owner).To(Equal("globex-app"))
	})

	It("keep each tenant's grant apart for the reference, whose every call is its tenant's", func() {
		rec := conformance.Run(context.Background(), twoApps, inprocess.Reference("test"))
		Expect(rec.Err).NotTo(HaveOccurred())
		Expect(rec.TenantClients).To(Equal(map[string]string{"acme": "acme-app", "globex": "globex-app"}))
		check, _ := conformance.LookupCheck(conformance.CheckOwningClient)
		j := check.Judge(rec)
		Expect(j.Applies).To(BeTrue())
		Expect(j.Failures).To(BeEmpty())
		tenants := map[string]int{}
		for _, s := range rec.Steps {
			for _, c := range s.Calls {
				tenants[c.Tenant]++
				Expect(c.Live).To(BeTrue(), "step %d: the tenant's grant lives", s.Index+1)
			}
		}
		Expect(tenants).To(HaveKey(""), "the first tenant's calls")
		Expect(tenants).To(HaveKey("globex"))
	})
})
