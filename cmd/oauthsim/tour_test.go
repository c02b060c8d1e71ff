package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/oauthsim/oauthsim/simulator/control"
)

// tourMarker opens the README's tour: the sh blocks after it, up to the
// next heading, are what a reader pastes in order.
const tourMarker = "<!-- tour:"

var shBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

// tourCommands are the commands of the README's tour, in order: each
// line that is not blank or a comment, with the lines a trailing
// backslash continues.
func tourCommands(readme string) []string {
	GinkgoHelper()
	start := strings.Index(readme, tourMarker)
	Expect(start).To(BeNumerically(">=", 0), "README.md has no %q before its tour", tourMarker)
	section := readme[start:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var cmds []string
	var cont string
	for _, block := range shBlock.FindAllStringSubmatch(section, -1) {
		for _, line := range strings.Split(block[1], "\n") {
			line = cont + line
			cont = ""
			if strings.HasSuffix(line, "\\") {
				cont = strings.TrimSuffix(line, "\\") + "\n"
				continue
			}
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				cmds = append(cmds, line)
			}
		}
	}
	return cmds
}

// runTour runs cmds in order in one bash, with B set to issuer and unset
// variables an error (the tour once used $AT without setting it), and
// returns each command's output and exit status.
func runTour(issuer string, cmds []string) (outputs []string, statuses []int) {
	GinkgoHelper()
	var script strings.Builder
	for i, c := range cmds {
		fmt.Fprintf(&script, "printf '\\n@@ %d\\n'\n%s\nprintf '\\n@@ %d rc %%d\\n' $?\n", i, c, i)
	}
	cmd := exec.Command("bash", "-u", "-c", script.String())
	cmd.Env = append(os.Environ(), "B="+issuer)
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "the tour's shell stopped:\n%s", out)
	marks := regexp.MustCompile(`(?m)^@@ (\d+)(?: rc (\d+))?\n`)
	text := string(out)
	found := marks.FindAllStringSubmatchIndex(text, -1)
	outputs, statuses = make([]string, len(cmds)), make([]int, len(cmds))
	for j, m := range found {
		i, _ := strconv.Atoi(text[m[2]:m[3]])
		if m[4] >= 0 {
			statuses[i], _ = strconv.Atoi(text[m[4]:m[5]])
			continue
		}
		end := len(text)
		if j+1 < len(found) {
			end = found[j+1][0]
		}
		outputs[i] = strings.TrimSpace(text[m[1]:end])
	}
	Expect(found).To(HaveLen(2*len(cmds)), "every command of the tour ran:\n%s", out)
	return outputs, statuses
}

var _ = Describe("The README's tour", Label("tour"), func() {
	It("runs as written against a started serve, and each answer is the one the README says", func(ctx SpecContext) {
		if os.Getenv("OAUTHSIM_TOUR") == "" {
			Skip("make tour runs the tour (it needs curl and jq)")
		}
		for _, tool := range []string{"bash", "curl", "jq"} {
			_, err := exec.LookPath(tool)
			Expect(err).NotTo(HaveOccurred(), "the tour needs %s on PATH", tool)
		}
		readme, err := os.ReadFile("../../README.md")
		Expect(err).NotTo(HaveOccurred())
		cmds := tourCommands(string(readme))
		issuer, _ := startBinary()
		outputs, statuses := runTour(issuer, cmds)
		for i, c := range cmds {
			Expect(statuses[i]).To(Equal(0), "%s\nexited %d:\n%s", c, statuses[i], outputs[i])
		}

		By("answering each command as its comment says")
		// Each expectation is met by the first command after the previous
		// one's that contains its text.
		expectations := []struct {
			command string
			output  types.GomegaMatcher
		}{
			{`curl -s $B/api/me`, ContainSubstring(`"sub": "alice"`)},
			{`/sim/v1/clock`, ContainSubstring(`"now"`)},
			{`curl -s -i $B/api/me`, And(HavePrefix("HTTP/1.1 401 Unauthorized"), ContainSubstring(`error="invalid_token"`))},
			{`echo "$N" | jq`, And(ContainSubstring(`"token_type": "Bearer"`), ContainSubstring(`"expires_in": 3600`))},
			{`refresh_token=$RT`, HavePrefix(`{"error":"invalid_grant"`)},
			{`%{http_code}`, Equal("401")},
			{`curl -s -i -w`, And(HavePrefix("HTTP/1.1 429 Too Many Requests"), ContainSubstring("Retry-After: 30"), ContainSubstring(`"error":"temporarily_unavailable"`))},
			{`-X DELETE $B/sim/v1/faults/$F`, And(ContainSubstring(`"id": "f1"`), ContainSubstring(`"fired": 1`))},
			{`jq '{token_type, expires_in}'`, ContainSubstring(`"token_type": "Bearer"`)},
			{`/sim/v1/events`, ContainSubstring("token_request\t429\tfault\ttemporarily_unavailable\tf1")},
		}
		next := 0
		for _, e := range expectations {
			i := next
			for i < len(cmds) && !strings.Contains(cmds[i], e.command) {
				i++
			}
			Expect(i).To(BeNumerically("<", len(cmds)), "no command of the tour after %q contains %q", cmds[max(next-1, 0)], e.command)
			Expect(outputs[i]).To(e.output, "the answer to\n%s", cmds[i])
			next = i + 1
		}

		By("leaving the provider as the reader sees it: each request's status, outcome and error, and no fault active")
		page, err := control.New(issuer, nil).EventsSince(ctx, 0)
		Expect(err).NotTo(HaveOccurred())
		var requests []string
		for _, e := range page.Events {
			if strings.HasSuffix(string(e.Kind), "_request") {
				requests = append(requests, fmt.Sprintf("%s %d %s %s %s", e.Kind, e.Status, e.Outcome, e.Error, e.Fault))
			}
		}
		Expect(requests).To(Equal([]string{
			"resource_request 200 ok  ",
			"resource_request 401 denied invalid_token ",
			"token_request 200 ok  ",
			"token_request 400 denied invalid_grant ",
			"resource_request 401 denied invalid_token ",
			"token_request 429 fault temporarily_unavailable f1",
			"token_request 200 ok  ",
		}))
		faults, err := control.New(issuer, nil).Faults(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(faults).To(BeEmpty(), "the tour removes its fault")
	})
})
