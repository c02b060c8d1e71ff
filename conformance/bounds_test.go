package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/conformance"
	"github.com/oauthsim/oauthsim/scenarios"
)

var _ = Describe("What a client says", func() {
	calls, err := scenarios.Parse("calls.yaml", []byte(`
description: three calls as the client itself
requires: [client_credentials]
steps:
  - call: {client_credentials: true, times: 3}
`))
	if err != nil {
		panic(err)
	}
	// A client for the client credentials grant; body answers a request
	// with id $id that is not shutdown.
	serviceClient := func(body string) string {
		return script(`
echo '{"hello":{"protocol":1,"name":"talker","version":"1","capabilities":["clock:now","client_credentials"]}}'
while read line; do id=$(echo "$line" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  case "$line" in *'"op":"shutdown"'*) echo "{\"id\":\"$id\"}"; exit 0;; esac
  ` + body + `
done
`)
	}

	It("is kept to its first 4 KiB in a detail of 4 MiB, with how much was left out", func() {
		c, err := conformance.NewCommand(context.Background(), serviceClient(
			`printf '{"id":"%s","outcome":"ok","detail":"' "$id"; head -c 4000000 /dev/zero | tr '\0' d; echo '"}'`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), calls, c)
		Expect(rec.Err).NotTo(HaveOccurred())
		Expect(rec.Steps[0].Calls).To(HaveLen(3))
		for _, call := range rec.Steps[0].Calls {
			Expect(call.Detail).To(Equal(strings.Repeat("d", 4096) + " [oauthsim: 3995904 bytes of the detail left out here]"))
		}
	})

	It("is kept to the last 16 KiB of a standard error of 4 MiB in one line, with how much was left out", func() {
		c, err := conformance.NewCommand(context.Background(), serviceClient(`head -c 4194304 /dev/zero | tr '\0' e >&2; exit 3`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), calls, c)
		Expect(rec.Err).To(MatchError(HaveSuffix("the tail of its standard error:\n[oauthsim: 4177920 bytes of it left out before this]\n" + strings.Repeat("e", 16384))))
		Expect(len(rec.Err.Error())).To(BeNumerically("<", 17<<10))
		Expect(len(rec.Steps[0].Calls[0].Detail)).To(BeNumerically("<", 4096+100), "the call's detail, which is the error, is kept to 4 KiB")
	})

	It("is shown in reports by the last 16 KiB of a long log, from the start of a line, with how much came before", func() {
		DeferCleanup(conformance.SetOutputKeep, conformance.SetOutputKeep(256<<10))
		// 100 lines of 10,000 bytes a call, and the call's number last.
		c, err := conformance.NewCommand(context.Background(), serviceClient(
			`i=$((i+1)); for n in $(seq 100); do head -c 9999 /dev/zero | tr '\0' l >&2; echo >&2; done; echo "call $i" >&2; echo "{\"id\":\"$id\",\"outcome\":\"ok\"}"`))
		Expect(err).NotTo(HaveOccurred())
		rec := conformance.Run(context.Background(), calls, c)
		Expect(rec.Err).NotTo(HaveOccurred())
		Expect(rec.OutputDropped).To(BeNumerically(">", 2_000_000))
		tail := conformance.OutputTail(rec)
		// The last 16 KiB hold the end of a line, one whole line and "call 3".
		Expect(tail).To(Equal(fmt.Sprintf("[oauthsim: %d bytes of the client's output left out before this]\n", 3*(100*10_000+7)-10_007) +
			strings.Repeat("l", 9999) + "\ncall 3\n"))
	})

	DescribeTable("is searched whole for credentials: a token at the end of a detail of 4 MiB is a leak, quoted in a short excerpt, masked",
		func(c func() conformance.Client) {
			rec := conformance.Run(context.Background(), calls, c())
			Expect(rec.Err).NotTo(HaveOccurred())
			Expect(rec.Tokens).NotTo(BeEmpty())
			msg := conformance.Failures(rec)[conformance.CheckNoSecretsInOutput]
			Expect(msg).To(ContainSubstring("the client's protocol answers contain 3 token value(s) the provider issued (as issued), first here: \"…" +
				strings.Repeat("x", 113) + " token [MASKED]"))
			Expect(len(msg)).To(BeNumerically("<", 400))
			for _, t := range rec.Tokens {
				Expect(msg).NotTo(ContainSubstring(t))
			}
		},
		Entry("in the harness's own process", func() conformance.Client { return tokenTeller{} }),
		Entry("as a subprocess", func() conformance.Client {
			path := filepath.Join(GinkgoT().TempDir(), "teller.py")
			Expect(os.WriteFile(path, []byte(tokenTellerPy), 0o600)).To(Succeed())
			c, err := conformance.NewCommand(context.Background(), "python3 "+path)
			Expect(err).NotTo(HaveOccurred())
			return c
		}),
	)

	DescribeTable("leaves no process behind that the client started outside its process group, however it ended",
		func(start string, hang bool) {
			answer := `echo "{\"id\":\"$id\",\"outcome\":\"ok\"}"`
			if hang {
				// Its calls hang, and so does it at shutdown: it is killed.
				DeferCleanup(func(d time.Duration) { conformance.OperationTimeout = d }, conformance.OperationTimeout)
				conformance.OperationTimeout = 300 * time.Millisecond
				answer = "sleep 300"
			}
			pids := filepath.Join(GinkgoT().TempDir(), "pids")
			c, err := conformance.NewCommand(context.Background(), serviceClient(strings.ReplaceAll(start, "PIDS", pids)+"\n  "+answer))
			Expect(err).NotTo(HaveOccurred())
			rec := conformance.Run(context.Background(), calls, c)
			Expect(rec.Err != nil).To(Equal(hang))
			b, err := os.ReadFile(pids)
			Expect(err).NotTo(HaveOccurred())
			started := strings.Fields(string(b))
			Expect(started).NotTo(BeEmpty())
			for _, pid := range started {
				_, err := strconv.Atoi(pid)
				Expect(err).NotTo(HaveOccurred())
				Expect("/proc/"+pid).NotTo(BeAnExistingFile(), "process %s was killed and reaped", pid)
			}
		},
		Entry("in a session of its own, the client exiting when told",
			`setsid sleep 300 < /dev/null > /dev/null 2>&1 & echo $! >> PIDS`, false),
		Entry("in a session of its own, holding the client's output, the client killed for hanging",
			`setsid sleep 300 & echo $! >> PIDS`, true),
		Entry("in a session of its own, with none of the environment the harness gave the client",
			`env -i setsid sleep 300 < /dev/null > /dev/null 2>&1 & echo $! >> PIDS`, false),
		Entry("a grandchild whose parent exited at once",
			`sh -c 'setsid sleep 300 < /dev/null > /dev/null 2>&1 & echo $! >> PIDS' &`, false),
	)

	It("ends, as the harness exits, what a client started that is still running", func() {
		if runtime.GOOS != "linux" {
			Skip("only Linux's /proc tells the harness who carries its mark")
		}
		stray := exec.Command("sleep", "300")
		stray.Env = append(os.Environ(), "OAUTHSIM_HARNESS_PROCESS="+conformance.HarnessMark+"0")
		stray.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		Expect(stray.Start()).To(Succeed())
		pid := strconv.Itoa(stray.Process.Pid)
		Expect("/proc/" + pid).To(BeADirectory())
		conformance.EndStrays()
		Expect("/proc/"+pid).NotTo(BeAnExistingFile(), "killed and reaped")
	})
})

// tokenTeller is a client in the harness's process for the client
// credentials grant that answers every call with 4 MiB of detail and, at
// its end, the access token it was given.
type tokenTeller struct{}

func (tokenTeller) Name() string     { return "token-teller" }
func (tokenTeller) Describe() string { return "tells its token at the end of a long detail" }
func (tokenTeller) Version() string  { return "1" }
func (tokenTeller) Capabilities() []contract.Capability {
	return []contract.Capability{contract.CapClientCredentials}
}

func (tokenTeller) Start(_ context.Context, env conformance.Env) (conformance.Process, error) {
	return tellerProcess{env}, nil
}

type tellerProcess struct{ env conformance.Env }

var errNotOffered = errors.New("not offered")

func (p tellerProcess) ServiceCall(ctx context.Context) (conformance.Result, error) {
	tok, err := p.serviceToken(ctx)
	if err != nil {
		return conformance.Result{}, err
	}
	return conformance.Result{Outcome: contract.OutcomeOK, Detail: strings.Repeat("x", 4<<20) + " token " + tok}, nil
}

// serviceToken is an access token of the client credentials grant, with
// the secret in the client's file.
func (p tellerProcess) serviceToken(ctx context.Context) (string, error) {
	secret, err := os.ReadFile(p.env.SecretFile)
	if err != nil {
		return "", err
	}
	cc := clientcredentials.Config{ClientID: p.env.ClientID, ClientSecret: strings.TrimSpace(string(secret)), TokenURL: p.env.Issuer + "/oauth2/token"}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, p.env.HTTP))
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

func (tellerProcess) AuthorizationURL(context.Context) (string, error) { return "", errNotOffered }
func (tellerProcess) CompleteAuthorization(context.Context, string) (conformance.Result, error) {
	return conformance.Result{}, errNotOffered
}
func (tellerProcess) Call(context.Context) (conformance.Result, error) {
	return conformance.Result{}, errNotOffered
}
func (tellerProcess) Logout(context.Context) (conformance.Result, error) {
	return conformance.Result{}, errNotOffered
}
func (tellerProcess) Reload(context.Context) error { return nil }
func (tellerProcess) Tick(context.Context) error   { return nil }
func (tellerProcess) Stop(context.Context) error   { return nil }

// tokenTellerPy is tokenTeller as a subprocess.
const tokenTellerPy = `import base64, json, os, sys, urllib.parse, urllib.request
E = os.environ
print(json.dumps({"hello": {"protocol": 1, "name": "token-teller", "version": "1", "capabilities": ["clock:now", "client_credentials"]}}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "shutdown":
        print(json.dumps({"id": req["id"]}), flush=True)
        break
    secret = open(E["OAUTHSIM_CLIENT_SECRET_FILE"]).read().strip()
    basic = base64.b64encode((E["OAUTHSIM_CLIENT_ID"] + ":" + secret).encode()).decode()
    r = urllib.request.Request(E["OAUTHSIM_ISSUER"] + "/oauth2/token", data=b"grant_type=client_credentials", headers={"Authorization": "Basic " + basic})
    token = json.load(urllib.request.urlopen(r))["access_token"]
    print(json.dumps({"id": req["id"], "outcome": "ok", "detail": "x" * ((4 << 20) - 1000) + " token " + token}), flush=True)
`
