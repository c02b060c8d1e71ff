package simulator_test

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/internal/yamldoc/hostile"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
)

// FuzzParseConfig feeds config files to ParseConfig, starting from the
// documented example and hostile files: it must never panic, every line of
// an error must name the file, a line and a column, and a file it accepts
// must make a simulator, as oauthsim serve --config does with it.
func FuzzParseConfig(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`profile:
  base: okta
  access_token_lifetime: 30m
  refresh:
    rotation: rotate_with_grace
    grace: 30s
    idle_timeout: 7d
clients:
  - client_id: my-app
    client_secret: my-secret
    redirect_uris: [http://127.0.0.1:3000/callback]
users:
  - id: carol
    name: Carol Example
auto_approve: true
faults:
  - kind: rate_limit
    match: {endpoint: token, grant_type: refresh_token, nth: 3}
    retry_after: 30s
`))
	f.Add([]byte("profile:\n  access_token_lifetime: {value: 1h, source: a}\n  responses:\n    rate_limited: {status: 429, headers: {Retry-After: '30'}, body: '{}'}\n"))
	for _, data := range hostile.Files() {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := NewWithT(t)
		cfg, err := simulator.ParseConfig("c.yaml", data)
		if err != nil {
			g.Expect(hostile.Unlocated("c.yaml", err)).To(BeEmpty(), "every line of:\n%v", err)
			return
		}
		_, err = simulator.New(append(cfg.Options(), simulator.WithClock(clock.NewFake(epoch)), simulator.WithSigningKey(key))...)
		g.Expect(err).NotTo(HaveOccurred(), "the config was accepted:\n%s", data)
	})
}
