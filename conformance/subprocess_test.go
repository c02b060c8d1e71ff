package conformance_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/inprocess"
	"github.com/oauthsim/oauthsim/clients/mutants"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/scenarios"
)

// serviceTwice is a scenario of two calls as the client itself, its calls
// on lines 5 and 6.
var serviceTwice = func() *scenarios.Scenario {
	sc, err := scenarios.Parse("service-twice.yaml", []byte(`
description: two calls as the client itself
requires: [client_credentials]
steps:
  - call: {client_credentials: true}
  - call: {client_credentials: true}
`))
	if err != nil {
		panic(err)
	}
	return sc
}()

var _ = Describe("A client run as a subprocess", Ordered, func() {
	var adapter string
	BeforeAll(func() {
		var err error
		adapter, err = gexec.Build("github.com/oauthsim/oauthsim/clients/adapters/reference")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
	})

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
		Expect(c.Capabilities()).To(ConsistOf(inprocess.Reference("test").Capabilities()))
		Expect(c.Unavailable()).To(BeEmpty(), "it honours the sim time it is sent")
	})

	It("gives the reference's verdicts on every bundled scenario, as the in-process reference does", func() {
		sub, err := conformance.NewCommand(context.Background(), adapter)
		Expect(err).NotTo(HaveOccurred())
		for _, sc := range bundled {
			in := conformance.Run(context.Background(), sc, inprocess.Reference("test"))
			out := conformance.Run(context.Background(), sc, sub)
			Expect(out.Err).NotTo(HaveOccurred(), sc.Name)
			Expect(conformance.Failures(out)).To(Equal(conformance.Failures(in)), sc.Name)
			Expect(len(out.Steps)).To(Equal(len(in.Steps)))
			for i := range in.Steps {
				for k := range in.Steps[i].Calls {
					// The details may differ (a provider's trace ids); how the call ended may not.
					got, want := out.Steps[i].Calls[k], in.Steps[i].Calls[k]
					Expect([]any{got.Outcome, got.Reason}).To(Equal([]any{want.Outcome, want.Reason}), "%s step %d", sc.Name, i+1)
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
			in := conformance.Run(context.Background(), sc, inprocess.Mutant(m, "test"))
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
while read line; do case "$line" in *'"op":"shutdown"'*) echo "$line" | sed 's/.*"id":"\([^"]*\)".*/{"id":"\1"}/'; exit 0;; esac; done
`))
		Expect(err).NotTo(HaveOccurred())
		started := time.Now()
		rec := conformance.Run(context.Background(), simple, c)
		Expect(rec.Err).To(MatchError(ContainSubstring("did not answer within 300ms")))
		Expect(time.Since(started)).To(BeNumerically("<", 10*time.Second))
	})

	It("fails only its own runs when it cannot be probed, and says why", func() {
		c, err := conformance.NewCommand(context.Background(), script(`
echo '{"hello":{"protocol":1,"name":"two-clocks","version":"1","capabilities":["refresh","clock:now","clock:faketime"]}}'
while read line; do case "$line" in *'"op":"shutdown"'*) echo '{"id":"1"}'; exit 0;; esac; done
`))
		Expect(err).To(MatchError(ContainSubstring("exactly one clock capability")))
		Expect(c).NotTo(BeNil(), "the client is still returned, for its runs to fail")
		Expect(c.Name()).To(Equal("two-clocks"), "named by its hello, which it did give")
		rec := conformance.Run(context.Background(), simple, c)
		Expect(rec.Err).To(MatchError(ContainSubstring("could not be probed")))
	})

	It("runs its command line in the working directory conform was started in", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "here.sh"), []byte(`echo '{"hello":{"protocol":1,"name":"here","version":"1","capabilities":["clock:now"]}}'
while read line; do case "$line" in *'"op":"shutdown"'*) echo '{"id":"1"}'; exit 0;; esac; done
`), 0o700)).To(Succeed())
		wd, err := os.Getwd()
		Expect(err).NotTo(HaveOccurred())
		Expect(os.Chdir(dir)).To(Succeed())
		DeferCleanup(os.Chdir, wd)
		c, err := conformance.NewCommand(context.Background(), "sh ./here.sh")
		Expect(err).NotTo(HaveOccurred(), "a relative path means what it says where conform runs")
		Expect(c.Name()).To(Equal("here"))
	})

	It("names the capabilities it lists that the protocol does not have", func() {
		c, err := conformance.NewCommand(context.Background(), script(`
echo '{"hello":{"protocol":1,"name":"hopeful","version":"1","capabilities":["refresh","clock:now","refersh","telepathy"]}}'
while read line; do case "$line" in *'"op":"shutdown"'*) echo '{"id":"1"}'; exit 0;; esac; done
`))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Ignored()).To(Equal([]string{"refersh", "telepathy"}))
		Expect(c.Capabilities()).To(Equal([]contract.Capability{contract.CapRefresh}))
	})

	It("stops at once when a child it left behind holds its output open", func() {
		pidFile := filepath.Join(GinkgoT().TempDir(), "child.pid")
		_, err := conformance.NewCommand(context.Background(), script(`
echo '{"hello":{"protocol":1,"name":"forker","version":"1","capabilities":["refresh","clock:now"]}}'
sleep 300 &
echo $! > `+pidFile+`
while read line; do case "$line" in *'"op":"shutdown"'*) echo '{"id":"1"}'; exit 0;; esac; done
`))
		Expect(err).NotTo(HaveOccurred(), "the probe stops it within its 5 s")
		pid, err := os.ReadFile(pidFile)
		Expect(err).NotTo(HaveOccurred())
		n, err := strconv.Atoi(strings.TrimSpace(string(pid)))
		Expect(err).NotTo(HaveOccurred())
		// Killed, it is a zombie until whoever inherited it reaps it.
		Eventually(func() bool {
			stat, err := os.ReadFile("/proc/" + strconv.Itoa(n) + "/stat")
			return err != nil || strings.Contains(string(stat), ") Z ")
		}).Should(BeTrue(), "the child went with its process group")
	})

	DescribeTable("fails its run when it exits when it should not",
		func(onCall, onShutdown, want string) {
			c, err := conformance.NewCommand(context.Background(), script(`
echo '{"hello":{"protocol":1,"name":"quitter","version":"1","capabilities":["clock:now","client_credentials"]}}'
while read line; do id=$(echo "$line" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  case "$line" in
    *'"op":"shutdown"'*) `+onShutdown+`;;
    *) echo "{\"id\":\"$id\",\"outcome\":\"ok\"}"; `+onCall+`;;
  esac
done
`))
			if onCall == "true" {
				// The probe itself meets the misbehaviour at shutdown.
				Expect(err).To(MatchError(ContainSubstring(want)))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			rec := conformance.Run(context.Background(), serviceTwice, c)
			Expect(rec.Err).To(MatchError(ContainSubstring(want)))
		},
		Entry("on its own, with status 0, after answering a call", "exit 0", `echo "{\"id\":\"$id\"}"; exit 0`, "the client exited (status 0) before it was told to"),
		Entry("on its own, crashing, after answering a call", "exit 3", `echo "{\"id\":\"$id\"}"; exit 0`, "the client exited (exit status 3) before it was told to"),
		Entry("at shutdown without answering it", "true", "exit 0", "without answering shutdown"),
		Entry("at shutdown with a status other than 0", "true", `echo "{\"id\":\"$id\"}"; exit 4`, "exited with exit status 4 after shutdown"),
	)

	It("fails its run when it writes a log line on stdout", func() {
		_, err := conformance.NewCommand(context.Background(), script(`
echo '{"hello":{"protocol":1,"name":"logger","version":"1","capabilities":["clock:now"]}}'
echo '{"level":"info","msg":"ready"}'
while read line; do case "$line" in *'"op":"shutdown"'*) echo '{"id":"1"}'; exit 0;; esac; done
`))
		Expect(err).To(MatchError(ContainSubstring(`a line without an id (stdout is for responses; logs go to stderr): "{\"level\":\"info\"`)))
	})

	It("fails its run when it writes a line over the protocol's limit", func() {
		c, err := conformance.NewCommand(context.Background(), script(`
echo '{"hello":{"protocol":1,"name":"verbose","version":"1","capabilities":["refresh","clock:now"]}}'
while read line; do case "$line" in *'"op":"shutdown"'*) echo '{"id":"1"}'; exit 0;; esac
  printf '{"id":"1","url":"'; head -c 5000000 /dev/zero | tr '\0' x; echo '"}'
done
`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), simple, c)
		Expect(rec.Err).To(MatchError(ContainSubstring("a line longer than 4 MiB")))
	})

	It("fails its run when it cannot read a request, with what it said", func() {
		c, err := conformance.NewCommand(context.Background(), script(`
echo '{"hello":{"protocol":1,"name":"confused","version":"1","capabilities":["refresh","clock:now"]}}'
while read line; do case "$line" in *'"op":"shutdown"'*) echo '{"id":"1"}'; exit 0;; esac
  echo '{"error":"cannot parse that line"}'
done
`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), simple, c)
		Expect(rec.Err).To(MatchError(ContainSubstring("could not read a request: cannot parse that line")))
	})

	Context("its standard error", func() {
		// A client for the client credentials grant that answers every call
		// ok, and logs the secret as it shuts down.
		leaker := func(before, after string) string {
			return script(`
echo '{"hello":{"protocol":1,"name":"leaker","version":"1","capabilities":["clock:now","client_credentials"]}}'
while read line; do id=$(echo "$line" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  case "$line" in *'"op":"shutdown"'*) ` + before + `; echo "bye; secret=$(cat ${OAUTHSIM_CLIENT_SECRET_FILE:-/dev/null})" >&2; ` + after + `; echo "{\"id\":\"$id\"}"; exit 0;; esac
  echo "{\"id\":\"$id\",\"outcome\":\"ok\"}"
done
`)
		}
		service, err := scenarios.Parse("service.yaml", []byte(`
description: two calls as the client itself
requires: [client_credentials]
steps:
  - call: {client_credentials: true}
  - advance: 1h
  - call: {client_credentials: true}
`))
		if err != nil {
			panic(err)
		}

		It("is read to its end, what it writes as it shuts down included", func() {
			c, err := conformance.NewCommand(context.Background(), leaker("true", "true"))
			Expect(err).NotTo(HaveOccurred())
			rec := conformance.Run(context.Background(), service, c)
			Expect(rec.Err).NotTo(HaveOccurred())
			Expect(conformance.Failures(rec)).To(HaveKeyWithValue(conformance.CheckNoSecretsInOutput, ContainSubstring(`bye; secret=[MASKED]`)))
		})

		It("is kept at its beginning and end when it is long, and what is left out is still searched for leaks", func() {
			DeferCleanup(conformance.SetOutputKeep, conformance.SetOutputKeep(64<<10))
			pad := `head -c 300000 /dev/zero | tr '\0' a >&2; echo >&2`
			// The secret is logged between two long runs of padding, in
			// the stretch the run does not keep.
			c, err := conformance.NewCommand(context.Background(), leaker(pad, pad))
			Expect(err).NotTo(HaveOccurred())
			rec := conformance.Run(context.Background(), service, c)
			Expect(rec.Err).NotTo(HaveOccurred())
			Expect(len(rec.Output)).To(BeNumerically("<", 70<<10))
			Expect(rec.OutputDropped).To(BeNumerically(">", 200_000))
			Expect(rec.Output).To(ContainSubstring("bytes of the client's output left out here"))
			Expect(rec.Output).NotTo(ContainSubstring("bye;"))
			Expect(conformance.Failures(rec)).To(HaveKeyWithValue(conformance.CheckNoSecretsInOutput, ContainSubstring(`bye; secret=[MASKED]`)))
		})
	})

	It("is told the time after each interval of a repeated call, and hears about a thousand silent calls once", func() {
		ops := filepath.Join(GinkgoT().TempDir(), "ops")
		c, err := conformance.NewCommand(context.Background(), script(`
echo '{"hello":{"protocol":1,"name":"recorder","version":"1","capabilities":["clock:now","client_credentials","concurrency"]}}'
while read line; do id=$(echo "$line" | sed 's/.*"id":"\([^"]*\)".*/\1/'); op=$(echo "$line" | sed 's/.*"op":"\([^"]*\)".*/\1/')
  echo "$op" >> `+ops+`
  case "$op" in shutdown) echo "{\"id\":\"$id\"}"; exit 0;; time) echo "{\"id\":\"$id\"}";; service_call) [ -e `+ops+`.mute ] || echo "{\"id\":\"$id\",\"outcome\":\"ok\"}";; esac
done
`))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.Remove(ops)).To(Succeed(), "the probe's shutdown")
		repeated, err := scenarios.Parse("repeated.yaml", []byte(`
description: three calls an hour apart
requires: [client_credentials]
steps:
  - call: {client_credentials: true, times: 3, every: 1h}
`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), repeated, c)
		Expect(rec.Err).NotTo(HaveOccurred())
		b, err := os.ReadFile(ops)
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Fields(string(b))).To(Equal([]string{"service_call", "time", "service_call", "time", "service_call", "shutdown"}))

		DeferCleanup(func(d time.Duration) { conformance.OperationTimeout = d }, conformance.OperationTimeout)
		conformance.OperationTimeout = 300 * time.Millisecond
		Expect(os.WriteFile(ops+".mute", nil, 0o600)).To(Succeed())
		many, err := scenarios.Parse("many.yaml", []byte(`
description: many calls at once to a client that answers none
requires: [client_credentials, concurrency]
steps:
  - call: {client_credentials: true, concurrent: 50}
`))
		Expect(err).NotTo(HaveOccurred())
		rec = conformance.Run(context.Background(), many, c)
		Expect(rec.Err).To(MatchError(HaveSuffix("50 calls: the client did not answer within 300ms")))
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
		if conformance.FindFaketime() != "" {
			Expect(c.Unavailable()).To(BeEmpty())
		} else {
			Expect(c.Unavailable()).To(ContainSubstring("needs libfaketime"))
			Expect(conformance.Run(context.Background(), simple, c).Skipped).To(ContainSubstring("needs libfaketime"))
		}
	})

	// A client that notes, in seen, the sim time it reads through libc, its
	// LD_PRELOAD, and which of its process ids (its sh's and its own; not
	// the harness's) has libfaketime's shared memory in /dev/shm.
	clockClient := func(clockCap, seen string) string {
		return script(`
echo '{"hello":{"protocol":1,"name":"clocked","version":"1","capabilities":["clock:` + clockCap + `","client_credentials"]}}'
while read line; do id=$(echo "$line" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  case "$line" in *'"op":"shutdown"'*) echo "{\"id\":\"$id\"}"; exit 0;; esac
  { echo "date=$(date -u +%F) preload=$LD_PRELOAD"; for p in $$ $PPID; do [ $p != ` + strconv.Itoa(os.Getpid()) + ` ] && [ -e /dev/shm/faketime_shm_$p ] && echo "shm=$p"; done; } >> ` + seen + `
  echo "{\"id\":\"$id\",\"outcome\":\"ok\"}"
done
`)
	}
	service, err := scenarios.Parse("service.yaml", []byte(`
description: a call as the client itself
requires: [client_credentials]
steps:
  - advance: 400d
  - call: {client_credentials: true}
`))
	if err != nil {
		panic(err)
	}

	It("runs under libfaketime at the sim time, and leaves none of its shared memory behind", func() {
		if conformance.FindFaketime() == "" {
			Skip("this machine has no libfaketime (Debian's faketime package)")
		}
		seen := filepath.Join(GinkgoT().TempDir(), "seen")
		c, err := conformance.NewCommand(context.Background(), clockClient("faketime", seen))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), service, c)
		Expect(rec.Err).NotTo(HaveOccurred())
		b, err := os.ReadFile(seen)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(ContainSubstring("date=" + conformance.Epoch.AddDate(0, 0, 400).Format("2006-01-02")))
		Expect(string(b)).To(MatchRegexp(`shm=\d+`), "libfaketime made its shared memory while the client ran")
		for _, m := range regexp.MustCompile(`shm=(\d+)`).FindAllStringSubmatch(string(b), -1) {
			Expect("/dev/shm/faketime_shm_" + m[1]).NotTo(BeAnExistingFile())
			Expect("/dev/shm/sem.faketime_sem_" + m[1]).NotTo(BeAnExistingFile())
		}
	})

	It("runs its libfaketime clock with the sim clock while it works, and stops it between operations", func() {
		if conformance.FindFaketime() == "" {
			Skip("this machine has no libfaketime (Debian's faketime package)")
		}
		seen := filepath.Join(GinkgoT().TempDir(), "seen")
		// Each call reads the clock, waits 300 ms of wall time, reads it again.
		client := script(`
echo '{"hello":{"protocol":1,"name":"waiter","version":"1","capabilities":["clock:faketime","client_credentials"]}}'
while read line; do id=$(echo "$line" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  case "$line" in *'"op":"shutdown"'*) echo "{\"id\":\"$id\"}"; exit 0;; esac
  case "$line" in *'"op":"service_call"'*) a=$(date -u +%s.%N); sleep 0.3; b=$(date -u +%s.%N); echo "$a $b" >> ` + seen + `;; esac
  echo "{\"id\":\"$id\",\"outcome\":\"ok\"}"
done
`)
		twice, err := scenarios.Parse("twice.yaml", []byte(`
description: two calls as the client itself, a second of wall time apart
requires: [client_credentials]
steps:
  - call: {client_credentials: true}
  - call: {client_credentials: true}
`))
		Expect(err).NotTo(HaveOccurred())
		c, err := conformance.NewCommand(context.Background(), client)
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), twice, c)
		Expect(rec.Err).NotTo(HaveOccurred())
		b, err := os.ReadFile(seen)
		Expect(err).NotTo(HaveOccurred())
		var reads []float64
		for _, f := range strings.Fields(string(b)) {
			v, err := strconv.ParseFloat(f, 64)
			Expect(err).NotTo(HaveOccurred())
			reads = append(reads, v-float64(conformance.Epoch.Unix()))
		}
		Expect(reads).To(HaveLen(4))
		Expect(reads[1]-reads[0]).To(BeNumerically("~", 0.3, 0.15), "the clock ran while the client waited")
		Expect(reads[2]-reads[1]).To(BeNumerically("<", 0.15), "and stood still between the calls")
		Expect(reads[0]).To(BeNumerically("<", 0.5), "it read the sim time, to a fraction of a second")
		for i, st := range rec.Steps {
			Expect(st.End.Sub(st.Start)).To(BeNumerically(">=", 300*time.Millisecond), "step %d: the sim clock kept the wait", i+1)
		}
	})

	It("does not run under libfaketime when it takes the sim time from requests", func() {
		seen := filepath.Join(GinkgoT().TempDir(), "seen")
		c, err := conformance.NewCommand(context.Background(), clockClient("now", seen))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), service, c)
		Expect(rec.Err).NotTo(HaveOccurred())
		b, err := os.ReadFile(seen)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(ContainSubstring("preload=\n"))
		Expect(string(b)).NotTo(ContainSubstring("shm="))
	})
})

// script is a client's shell script, in a file of its own for the spec.
func script(body string) string {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), "client.sh")
	Expect(os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o700)).To(Succeed())
	return path
}

func keys(m map[string]string) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
