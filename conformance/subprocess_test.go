package conformance_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/scenarios"
)

var _ = Describe("A client run as a subprocess", Ordered, func() {
	var adapter string
	BeforeAll(func() {
		var err error
		adapter, err = gexec.Build("github.com/oauthsim/oauthsim/clients/adapters/reference")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
	})

	script := func(body string) string {
		path := filepath.Join(GinkgoT().TempDir(), "client.sh")
		Expect(os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o700)).To(Succeed())
		return path
	}

	simple, err := scenarios.Parse("simple.yaml", []byte(`
description: authorize and call
requires: [refresh]
steps:
  - authorize: alice
  - call: {}
`))
	if err != nil {
		panic(err)
	}

	It("says who it is in its hello", func() {
		c, err := conformance.NewCommand(context.Background(), adapter)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Name()).To(Equal("reference"))
		Expect(c.Capabilities()).To(ConsistOf(conformance.Reference("test").Capabilities()))
		Expect(c.Unavailable()).To(BeEmpty(), "it honours the sim time it is sent")
	})

	It("gives the reference's verdicts on every bundled scenario, as the in-process reference does", func() {
		sub, err := conformance.NewCommand(context.Background(), adapter)
		Expect(err).NotTo(HaveOccurred())
		for _, sc := range bundled {
			in := conformance.Run(context.Background(), sc, conformance.Reference("test"))
			out := conformance.Run(context.Background(), sc, sub)
			Expect(out.Err).NotTo(HaveOccurred(), sc.Name)
			Expect(conformance.Failures(out)).To(Equal(conformance.Failures(in)), sc.Name)
			Expect(len(out.Steps)).To(Equal(len(in.Steps)))
			for i := range in.Steps {
				for k := range in.Steps[i].Calls {
					// The details may differ (a provider's trace ids); how the call ended may not.
					got, want := out.Steps[i].Calls[k], in.Steps[i].Calls[k]
					Expect([]string{got.Outcome, got.Reason}).To(Equal([]string{want.Outcome, want.Reason}), "%s step %d", sc.Name, i+1)
				}
			}
		}
	})

	It("gives a mutant's verdicts as the in-process mutant does", func() {
		sub, err := conformance.NewCommand(context.Background(), adapter+" -mutant keep_old_refresh_token")
		Expect(err).NotTo(HaveOccurred())
		Expect(sub.Name()).To(Equal("mutant/keep_old_refresh_token"))
		for _, sc := range bundled[:10] {
			m, _ := mutants.Lookup("keep_old_refresh_token")
			in := conformance.Run(context.Background(), sc, conformance.Mutant(m, "test"))
			out := conformance.Run(context.Background(), sc, sub)
			Expect(out.Err).NotTo(HaveOccurred(), sc.Name)
			Expect(keys(conformance.Failures(out))).To(Equal(keys(conformance.Failures(in))), sc.Name)
		}
	})

	It("fails its run, with its stderr tail, when it crashes mid-run", func() {
		c, err := conformance.NewCommand(context.Background(), script(`
echo '{"hello":{"protocol":1,"name":"crasher","version":"1","capabilities":["refresh","clock:now"]}}'
read line
case "$line" in *'"op":"shutdown"'*) echo '{"id":"1"}'; exit 0;; esac
echo "about to fall over" >&2
exit 3
`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), simple, c)
		Expect(rec.Err).To(MatchError(And(ContainSubstring("the client exited (exit status 3)"), ContainSubstring("about to fall over"))))
	})

	It("fails its run when it breaks the protocol", func() {
		c, err := conformance.NewCommand(context.Background(), script(`
echo '{"hello":{"protocol":1,"name":"chatty","version":"1","capabilities":["refresh","clock:now"]}}'
read line
case "$line" in *'"op":"shutdown"'*) echo '{"id":"1"}'; exit 0;; esac
echo 'hello there'
sleep 5
`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), simple, c)
		Expect(rec.Err).To(MatchError(ContainSubstring("the client wrote a line that is not JSON")))
	})

	It("fails its run when it does not answer, and is killed", func() {
		DeferCleanup(func(d time.Duration) { conformance.OperationTimeout = d }, conformance.OperationTimeout)
		conformance.OperationTimeout = 300 * time.Millisecond
		c, err := conformance.NewCommand(context.Background(), script(`
echo '{"hello":{"protocol":1,"name":"mute","version":"1","capabilities":["refresh","clock:now"]}}'
while read line; do case "$line" in *'"op":"shutdown"'*) exit 0;; esac; done
`))
		Expect(err).NotTo(HaveOccurred())
		started := time.Now()
		rec := conformance.Run(context.Background(), simple, c)
		Expect(rec.Err).To(MatchError(ContainSubstring("did not answer within 300ms")))
		Expect(time.Since(started)).To(BeNumerically("<", 10*time.Second))
	})

	It("refuses a client without a hello, or of another protocol version", func() {
		_, err := conformance.NewCommand(context.Background(), script("echo 'nonsense'\n"))
		Expect(err).To(MatchError(ContainSubstring("not JSON")))
		_, err = conformance.NewCommand(context.Background(), script(`echo '{"hello":{"protocol":2,"name":"future"}}'; sleep 5`))
		Expect(err).To(MatchError(ContainSubstring("the client speaks protocol 2; the harness speaks 1")))
	})

	It("is skipped on every run when it needs libfaketime and the machine has none, or runs when it has", func() {
		c, err := conformance.NewCommand(context.Background(), script(`
echo '{"hello":{"protocol":1,"name":"faked","version":"1","capabilities":["refresh","clock:faketime"]}}'
while read line; do case "$line" in *'"op":"shutdown"'*) echo '{"id":"1"}'; exit 0;; esac; done
`))
		Expect(err).NotTo(HaveOccurred())
		if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"); err == nil {
			Expect(c.Unavailable()).To(BeEmpty())
		} else {
			Expect(c.Unavailable()).To(ContainSubstring("needs libfaketime"))
			Expect(conformance.Run(context.Background(), simple, c).Skipped).To(ContainSubstring("needs libfaketime"))
		}
	})
})

func keys(m map[string]string) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
