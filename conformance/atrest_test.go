package conformance_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/conformance"
)

// stasher is a client credentials client in the harness's process that
// keeps its access token in its state directory, in base64url, and says
// what its hello would.
type stasher struct {
	caps []contract.Capability
	glue []string
	// keys also copies the storage key file beside the token.
	keys bool
}

func (stasher) Name() string     { return "stasher" }
func (stasher) Describe() string { return "keeps its token in base64url" }
func (stasher) Version() string  { return "1" }
func (s stasher) Capabilities() []contract.Capability {
	return append([]contract.Capability{contract.CapClientCredentials}, s.caps...)
}
func (s stasher) Glue() []string { return s.glue }

func (s stasher) Start(_ context.Context, env conformance.Env) (conformance.Process, error) {
	return stashProcess{tellerProcess{env}, s.keys}, nil
}

type stashProcess struct {
	tellerProcess
	keys bool
}

func (p stashProcess) ServiceCall(ctx context.Context) (conformance.Result, error) {
	tok, err := p.serviceToken(ctx)
	if err != nil {
		return conformance.Result{}, err
	}
	stash := `{"cached": "` + base64.RawURLEncoding.EncodeToString([]byte(tok)) + `"}`
	if err := os.MkdirAll(filepath.Join(p.env.StateDir, "cache"), 0o700); err != nil {
		return conformance.Result{}, err
	}
	if p.keys {
		keys, err := os.ReadFile(p.env.StorageKeyFile)
		if err != nil {
			return conformance.Result{}, err
		}
		stash = `{"keys": ` + strconv.Quote(string(keys)) + `, "sealed": "…"}`
	}
	return conformance.Result{Outcome: contract.OutcomeOK}, os.WriteFile(filepath.Join(p.env.StateDir, "cache", "token.json"), []byte(stash), 0o600)
}

var _ = Describe("What a client keeps in its state directory", func() {
	sc := serviceTwice

	It("is searched after every step for every token in its encodings, reported by file, kind and form, never by value", func() {
		rec := conformance.Run(context.Background(), sc, stasher{})
		Expect(rec.Err).NotTo(HaveOccurred())
		check, _ := conformance.LookupCheck(conformance.CheckNoPlainTextAtRest)
		j := check.Judge(rec)
		Expect(j.Applies).To(BeTrue())
		Expect(j.Failures).To(HaveLen(2), "one access token a call, each found once")
		// base64 and base64url spell most texts alike: the form named is
		// the first that matches.
		Expect(j.Failures[0]).To(MatchRegexp(`^step 1 \(line 5, call the API as the client \(client credentials\)\): the client stores an access token in plain text in cache/token.json \(base64(url)?\)$`))
		Expect(j.Failures[1]).To(HavePrefix("step 2 (line 6,"))
		Expect(rec.Tokens).NotTo(BeEmpty())
		for _, tok := range rec.Tokens {
			Expect(strings.Join(j.Failures, "\n")).NotTo(ContainSubstring(tok))
		}
	})

	It("says when the client declared it encrypts, and when its glue stores, not its library", func() {
		check, _ := conformance.LookupCheck(conformance.CheckNoPlainTextAtRest)
		j := check.Judge(conformance.Run(context.Background(), sc, stasher{caps: []contract.Capability{contract.CapEncryptsAtRest}}))
		Expect(j.Failures[0]).To(HaveSuffix(", though its hello declares encrypts_at_rest"))
		j = check.Judge(conformance.Run(context.Background(), sc, stasher{glue: []string{contract.GlueStorage}}))
		Expect(j.Failures[0]).To(ContainSubstring("the adapter's glue (not the library: its hello lists glue: storage) stores an access token"))
	})

	It("finds the storage key kept beside what it encrypts", func() {
		check, _ := conformance.LookupCheck(conformance.CheckNoPlainTextAtRest)
		j := check.Judge(conformance.Run(context.Background(), sc, stasher{keys: true}))
		// The padded base64 holds the base64url of most keys: one finding,
		// in the form found first.
		Expect(j.Failures).To(ConsistOf(MatchRegexp(`the client stores a storage key in plain text in cache/token.json \(base64(url)?\)$`)))
	})

	It("does not apply to a client that keeps nothing there", func() {
		check, _ := conformance.LookupCheck(conformance.CheckNoPlainTextAtRest)
		j := check.Judge(conformance.Run(context.Background(), sc, tokenTeller{}))
		Expect(j.Applies).To(BeFalse())
		Expect(j.Passed()).To(BeTrue())
	})
})
