package contract_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
)

// section is the text of PROTOCOL.md under the heading "## title", up to
// the next one.
func section(doc, title string) string {
	_, after, ok := strings.Cut(doc, "\n## "+title+"\n")
	ExpectWithOffset(1, ok).To(BeTrue(), "PROTOCOL.md has no section %q", title)
	text, _, _ := strings.Cut(after, "\n## ")
	return text
}

// column is the first cell of each row of the table in text whose header
// begins with "| header |", without its backquotes.
func column[T ~string](text, header string) []T {
	_, table, ok := strings.Cut(text, "\n| "+header+" |")
	ExpectWithOffset(1, ok).To(BeTrue(), "no table headed %q", header)
	var out []T
	for _, row := range strings.Split(table, "\n")[2:] {
		if !strings.HasPrefix(row, "|") {
			break
		}
		out = append(out, T(strings.Trim(strings.TrimSpace(strings.Split(row, "|")[1]), "`")))
	}
	return out
}

// quoted lists the `words` in text, in order.
func quoted[T ~string](text string) []T {
	var out []T
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(text, -1) {
		out = append(out, T(m[1]))
	}
	return out
}

// The package is the Go side of PROTOCOL.md: each list it has must be the
// document's, so that neither changes without the other.
var _ = Describe("PROTOCOL.md", func() {
	var doc string
	BeforeEach(func() {
		b, err := os.ReadFile("../PROTOCOL.md")
		Expect(err).NotTo(HaveOccurred())
		doc = string(b)
	})

	It("is the version of the package", func() {
		Expect(doc).To(HavePrefix("# The oauthsim client protocol, version " + strconv.Itoa(contract.Version) + "\n"))
		Expect(section(doc, "Versioning")).To(ContainSubstring("This is version " + strconv.Itoa(contract.Version) + "."))
	})

	It("bounds a line as MaxLine does", func() {
		picture := strings.Join(strings.Fields(section(doc, "The picture")), " ")
		Expect(picture).To(ContainSubstring("at most %d MiB a line, the newline not counted", contract.MaxLine>>20))
		Expect(contract.MaxLine % (1 << 20)).To(BeZero())
	})

	It("names the environment variables", func() {
		env := section(doc, "Environment")
		var names []string
		for _, v := range column[string](env, "variable") {
			if strings.HasPrefix(v, "OAUTHSIM_") {
				names = append(names, v)
			}
		}
		Expect(names).To(Equal(contract.Variables()))
		Expect(regexp.MustCompile(`OAUTHSIM_[A-Z_]+`).FindAllString(doc, -1)).To(HaveEach(BeElementOf(contract.Variables())),
			"every variable the document names anywhere")
	})

	It("gives the values of the offline access and rotation variables", func() {
		rows := map[string]string{}
		for _, row := range strings.Split(section(doc, "Environment"), "\n") {
			if cells := strings.Split(row, "|"); len(cells) > 2 {
				rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = cells[2]
			}
		}
		Expect(quoted[contract.Rotation](rows[contract.EnvRefreshRotation])).To(Equal(contract.Rotations()))
		offline := rows[contract.EnvOfflineAccess]
		for _, v := range contract.OfflineAccesses() {
			Expect(offline).To(MatchRegexp("`%s` \\(add ", v))
		}
		Expect(regexp.MustCompile("`(\\w+)` \\(add ").FindAllStringSubmatch(offline, -1)).To(HaveLen(len(contract.OfflineAccesses())))
	})

	It("lists the capabilities", func() {
		hello := section(doc, "The hello")
		var caps []contract.Capability
		for _, m := range regexp.MustCompile("(?m)^  - `([a-z_]+)`: ").FindAllStringSubmatch(hello, -1) {
			caps = append(caps, contract.Capability(m[1]))
		}
		Expect(caps).To(Equal(contract.Capabilities()))
		Expect(hello).To(ContainSubstring("exactly one clock capability, `%s` or `%s`", contract.CapClockNow, contract.CapClockFaketime))
		Expect(contract.Clocks()).To(HaveLen(2))
	})

	It("lists the ops", func() {
		Expect(column[contract.Op](section(doc, "Requests and responses"), "op")).To(Equal(contract.Ops()))
	})

	It("lists the outcomes and the reasons of a reauthorize", func() {
		text := section(doc, "Requests and responses")
		Expect(column[contract.Outcome](text, "outcome")).To(Equal(contract.Outcomes()))
		_, reasons, ok := strings.Cut(text, "`reason` SHOULD be one of ")
		Expect(ok).To(BeTrue())
		reasons, _, _ = strings.Cut(reasons, "|")
		Expect(quoted[contract.Reason](reasons)).To(Equal(contract.Reasons()))
	})
})
