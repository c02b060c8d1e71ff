package simulator

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/internal/family"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// The token endpoint's Op is where another part of the simulator reads why
// client authentication failed; these specs read it straight from exchange.
var _ = Describe("The Op of a token request whose client secret is refused", func() {
	var sim *Simulator
	BeforeEach(func() {
		sim = MustNew(WithClock(clock.NewFake(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))))
		_, err := sim.RotateClientSecret("demo", SecretRotation{Secret: "new-secret", Grace: profile.Duration(time.Hour), ExpiresIn: profile.Duration(48 * time.Hour)})
		Expect(err).NotTo(HaveOccurred())
	})

	exchange := func(secret string) *family.Op {
		GinkgoHelper()
		req, err := http.NewRequest(http.MethodPost, PathToken, strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo", secret)
		_, _, op, _ := sim.exchange(context.Background(), req)
		return op
	}

	DescribeTable("names the refusal",
		func(advance time.Duration, secret, refusal string) {
			sim.Clock().Advance(advance)
			Expect(exchange(secret).ClientRefusal).To(Equal(refusal))
		},
		Entry("none for the previous secret inside its grace window", 59*time.Minute, "demo-secret", ""),
		Entry("none for the current secret", 47*time.Hour, "new-secret", ""),
		Entry("invalid for the previous secret after its grace window", time.Hour, "demo-secret", events.ClientSecretInvalid),
		Entry("invalid for a wrong secret", time.Duration(0), "wrong", events.ClientSecretInvalid),
		Entry("invalid for no secret", time.Duration(0), "", events.ClientSecretInvalid),
		Entry("expired for the current secret past its expiry", 48*time.Hour, "new-secret", events.ClientSecretExpired),
	)
})
