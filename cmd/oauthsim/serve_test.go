package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/control"
)

// dial opens a raw connection to the serve at issuer, for the specs of
// clients that HTTP libraries would not be: slow, silent, idle.
func dial(issuer string) net.Conn {
	GinkgoHelper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(issuer, "http://"))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = conn.Close() })
	return conn
}

// send writes a request on conn and reads its answer's status.
func send(conn net.Conn, r *bufio.Reader, request string) int {
	GinkgoHelper()
	_, err := io.WriteString(conn, request)
	Expect(err).NotTo(HaveOccurred())
	resp, err := http.ReadResponse(r, nil)
	Expect(err).NotTo(HaveOccurred())
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// getClock is a whole keep-alive request of the control API.
func getClock(issuer string) string {
	return fmt.Sprintf("GET /sim/v1/clock HTTP/1.1\r\nHost: %s\r\n\r\n", strings.TrimPrefix(issuer, "http://"))
}

// slowBody starts a control API write whose body of 1000 bytes it sends
// only the first bytes of, once the server has begun to read it (its 100
// Continue): the request is then in the server's hands.
func slowBody(issuer string) net.Conn {
	GinkgoHelper()
	conn := dial(issuer)
	_, err := fmt.Fprintf(conn, "POST /sim/v1/clock HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
		"Content-Length: 1000\r\nExpect: 100-continue\r\n\r\n", strings.TrimPrefix(issuer, "http://"))
	Expect(err).NotTo(HaveOccurred())
	status, err := bufio.NewReader(conn).ReadString('\n')
	Expect(err).NotTo(HaveOccurred())
	Expect(status).To(HavePrefix("HTTP/1.1 100 Continue"))
	_, err = io.WriteString(conn, `{"advance":`)
	Expect(err).NotTo(HaveOccurred())
	return conn
}

// expectClosed waits for the server to end conn: it reads until the
// server closes it. The deadline only keeps a broken server from holding
// the suite; reaching it fails the spec.
func expectClosed(conn net.Conn) {
	GinkgoHelper()
	Expect(conn.SetReadDeadline(time.Now().Add(20 * time.Second))).To(Succeed())
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	Expect(errors.As(err, &ne) && ne.Timeout()).To(BeFalse(), "the server still holds the connection: %v", err)
}

var _ = Describe("oauthsim serve's limits", func() {
	It("stops with exit 0 on SIGTERM while a client is still sending its body, cutting it after the grace", func() {
		issuer, session := startBinary("--shutdown-grace", "1s")
		conn := slowBody(issuer)
		session.Terminate()
		Eventually(session).WithTimeout(6 * time.Second).Should(gexec.Exit(0))
		Expect(session.Err).To(gbytes.Say("closing the connections still open after the shutdown grace"))
		expectClosed(conn)
	})

	DescribeTable("closes a connection that holds the server without a request",
		func(flag string, start func(issuer string) net.Conn) {
			issuer, _ := startBinary(flag, "1s")
			expectClosed(start(issuer))
			By("answering a new connection")
			conn := dial(issuer)
			Expect(send(conn, bufio.NewReader(conn), getClock(issuer))).To(Equal(http.StatusOK))
		},
		Entry("a body sent too slowly (--read-timeout)", "--read-timeout", slowBody),
		Entry("headers sent too slowly (--read-header-timeout)", "--read-header-timeout", func(issuer string) net.Conn {
			conn := dial(issuer)
			_, err := io.WriteString(conn, "GET /sim/v1/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n")
			Expect(err).NotTo(HaveOccurred())
			return conn
		}),
		Entry("a keep-alive connection left idle (--idle-timeout)", "--idle-timeout", func(issuer string) net.Conn {
			conn := dial(issuer)
			Expect(send(conn, bufio.NewReader(conn), getClock(issuer))).To(Equal(http.StatusOK))
			return conn
		}),
	)

	It("serves at most --max-conns connections at once; the next waits for one to close", func() {
		issuer, _ := startBinary("--max-conns", "2")
		held := make([]net.Conn, 2)
		for i := range held {
			held[i] = dial(issuer)
			Expect(send(held[i], bufio.NewReader(held[i]), getClock(issuer))).To(Equal(http.StatusOK))
		}
		waiting := dial(issuer)
		answered := make(chan int, 1)
		go func() {
			defer GinkgoRecover()
			answered <- send(waiting, bufio.NewReader(waiting), getClock(issuer))
		}()
		r := bufio.NewReader(held[1])
		for range 3 {
			Expect(send(held[1], r, getClock(issuer))).To(Equal(http.StatusOK), "the connections served are answered")
		}
		Expect(answered).NotTo(Receive(), "the third connection waits")
		Expect(held[0].Close()).To(Succeed())
		Eventually(answered).WithTimeout(10 * time.Second).Should(Receive(Equal(http.StatusOK)))
	})
})

var _ = Describe("oauthsim serve's control token", func() {
	It("is required of every control API request once given, and not printed", func(ctx SpecContext) {
		path := filepath.Join(GinkgoT().TempDir(), "token")
		Expect(os.WriteFile(path, []byte("t0ken-from-a-file\n"), 0o600)).To(Succeed())
		issuer, session := startBinary("--control-token-file", path)
		Expect(string(session.Out.Contents())).To(And(ContainSubstring("Authorization: Bearer"), Not(ContainSubstring("t0ken-from-a-file"))))

		_, err := control.New(issuer, nil).ClockState(ctx)
		Expect(err).To(MatchError(ContainSubstring("401 unauthorized")))
		_, err = control.New(issuer, nil, control.WithToken("t0ken-from-a-file")).ClockState(ctx)
		Expect(err).NotTo(HaveOccurred())

		By("leaving the provider's endpoints open")
		status, _ := getJSON(issuer + "/.well-known/openid-configuration")
		Expect(status).To(Equal(http.StatusOK))
	})

	DescribeTable("refuses to start without what it needs, exit 2",
		func(args []string, file, want string) {
			dir := GinkgoT().TempDir()
			Expect(os.WriteFile(filepath.Join(dir, "token"), []byte(file), 0o600)).To(Succeed())
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "DIR", dir)
			}
			var stdout, stderr bytes.Buffer
			Expect(run(append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), &stdout, &stderr)).To(Equal(exitUsage))
			Expect(stderr.String()).To(ContainSubstring(strings.ReplaceAll(want, "DIR", dir)))
		},
		Entry("remote control without a token", []string{"--allow-remote-control"}, "",
			"--allow-remote-control needs --control-token or --control-token-file: without a token, anyone who reaches the port can revoke every grant and move time"),
		Entry("both token flags", []string{"--control-token", "a", "--control-token-file", "DIR/token"}, "b", "give --control-token or --control-token-file, not both"),
		Entry("an empty token file", []string{"--control-token-file", "DIR/token"}, " \n", "--control-token-file DIR/token: the file is empty"),
		Entry("a missing token file", []string{"--control-token-file", "DIR/none"}, "", "--control-token-file: open DIR/none"),
		Entry("a negative timeout", []string{"--read-timeout", "-1s"}, "", "--read-timeout -1s: give a duration of 0 or more"),
		Entry("a negative grace", []string{"--shutdown-grace", "-5s"}, "", "--shutdown-grace -5s: give a duration of 0 or more"),
		Entry("a negative connection limit", []string{"--max-conns", "-1"}, "", "--max-conns -1: give 0 (no limit) or a positive count"),
		Entry("a timeout that is no duration", []string{"--idle-timeout", "soon"}, "", `invalid argument "soon" for "--idle-timeout"`),
	)
})

var _ = Describe("The README's curl lines", func() {
	It("send JSON to the control API, as it requires of writes", func() {
		readme, err := os.ReadFile("../../README.md")
		Expect(err).NotTo(HaveOccurred())
		write := regexp.MustCompile(`-X (POST|PUT|DELETE)|\s-d\s|--data`)
		var writes int
		for _, line := range strings.Split(string(readme), "\n") {
			if strings.Contains(line, "curl ") && strings.Contains(line, "/sim/v1/") && write.MatchString(line) {
				writes++
				Expect(line).To(ContainSubstring(`-H 'Content-Type: application/json'`), "a control API write in the README without its content type")
			}
		}
		Expect(writes).To(BeNumerically(">=", 3))
	})
})

var _ = Describe("oauthsim serve -v", func() {
	// call sends a request to issuer+path with the bearer token and JSON
	// body given (either may be empty), and returns its status.
	call := func(method, url, bearer, body string) int {
		GinkgoHelper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	It("logs a line per request with its status, the simulator's outcome, the error code and the fault, and no token", func(ctx SpecContext) {
		issuer, session := startBinary("-v")
		grant, err := control.New(issuer, nil).MintGrant(ctx, simulator.GrantRequest{ClientID: "demo", User: "alice"})
		Expect(err).NotTo(HaveOccurred())

		Expect(call("GET", issuer+"/api/me", grant.AccessToken, "")).To(Equal(http.StatusOK))
		Eventually(session.Err).Should(gbytes.Say(`level=DEBUG msg=request method=GET path=/api/me status=200 outcome=ok took=`))

		Expect(call("GET", issuer+"/api/me", "not-a-token", "")).To(Equal(http.StatusUnauthorized))
		Eventually(session.Err).Should(gbytes.Say(`method=GET path=/api/me status=401 outcome=denied error=invalid_token took=`))

		Expect(call("POST", issuer+"/sim/v1/faults", "", `{"id":"busy","kind":"rate_limit","match":{"endpoint":"resource"}}`)).To(Equal(http.StatusCreated))
		Eventually(session.Err).Should(gbytes.Say(`method=POST path=/sim/v1/faults status=201 took=`))
		Expect(call("GET", issuer+"/api/me", grant.AccessToken, "")).To(Equal(http.StatusTooManyRequests))
		Eventually(session.Err).Should(gbytes.Say(`method=GET path=/api/me status=429 outcome=fault error=temporarily_unavailable fault=busy took=`))

		Expect(call("POST", issuer+"/sim/v1/faults", "", `{"id":"gone","kind":"hang","max":"100ms","match":{"endpoint":"token"}}`)).To(Equal(http.StatusCreated))
		_, err = http.PostForm(issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {grant.RefreshToken}})
		Expect(err).To(HaveOccurred(), "a hang ends with the connection closed, without an answer")
		Eventually(session.Err).Should(gbytes.Say(`method=POST path=/oauth2/token status=none outcome=fault fault=gone took=`))

		Expect(string(session.Err.Contents())).NotTo(Or(ContainSubstring(grant.AccessToken), ContainSubstring(grant.RefreshToken), ContainSubstring("not-a-token")))
	})
})
