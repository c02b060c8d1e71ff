package yamldoc_test

import (
	"reflect"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/internal/yamldoc"
)

// wheel is a struct as the files' readers decode them into.
type wheel struct {
	Size   int      `yaml:"size"`
	Spokes []string `yaml:"spokes" example:"[front, back]"`
	Hub    struct {
		Bolted bool `yaml:"bolted"`
	} `yaml:"hub"`
	Ratio float64 `yaml:"ratio"`
	Label string  `yaml:"label"`
}

var _ = Describe("Checking a mapping against the struct it decodes into", func() {
	root := func(doc string) *yaml.Node {
		GinkgoHelper()
		n, _, err := yamldoc.Parse("f.yaml", []byte(doc))
		Expect(err).NotTo(HaveOccurred())
		return yamldoc.Root(n)
	}
	messages := func(ps []*yaml.LoadError) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Message)
		}
		return out
	}

	DescribeTable("names an unknown key, the fields there are, and the one meant when it is a slip away",
		func(doc string, want string) {
			Expect(messages(yamldoc.UnknownKeys(root(doc), reflect.TypeFor[wheel](), "a wheel"))).To(Equal([]string{want}))
		},
		Entry("one letter missing", "sise: 3\n", `unknown field "sise" in a wheel: did you mean "size"? (fields: hub, label, ratio, size, spokes)`),
		Entry("two letters swapped", "lable: x\n", `unknown field "lable" in a wheel: did you mean "label"? (fields: hub, label, ratio, size, spokes)`),
		Entry("in capitals", "SIZE: 3\n", `unknown field "SIZE" in a wheel: did you mean "size"? (fields: hub, label, ratio, size, spokes)`),
		Entry("nothing close", "colour: red\n", `unknown field "colour" in a wheel (fields: hub, label, ratio, size, spokes)`),
		Entry("too short to guess", "hu: {}\n", `unknown field "hu" in a wheel (fields: hub, label, ratio, size, spokes)`),
		Entry("below, by its path", "hub: {boltd: true}\n", `unknown field "boltd" in hub: did you mean "bolted"? (fields: bolted)`),
	)

	DescribeTable("says what a value of the wrong shape takes, with an example",
		func(doc string, want string) {
			Expect(messages(yamldoc.Mismatches(root(doc), reflect.TypeFor[wheel]()))).To(Equal([]string{want}))
		},
		Entry("a word for a number", "size: big\n", "size takes a whole number, e.g. `size: 3`"),
		Entry("a word for a list, with the field's example", "spokes: front\n", "spokes takes a list, e.g. `spokes: [front, back]`"),
		Entry("a list for a mapping", "hub: [1]\n", "hub takes a mapping, e.g. `hub: {bolted: ...}` (fields: bolted)"),
		Entry("a word for true or false, below", "hub: {bolted: yes}\n", "hub.bolted takes true or false, e.g. `bolted: true`"),
		Entry("a word for a number with a fraction", "ratio: half\n", "ratio takes a number, e.g. `ratio: 0.5`"),
		Entry("a mapping for a word", "label: {text: x}\n", "label takes a single value, not a mapping, e.g. `label: text`"),
	)

	It("finds nothing wrong with values of the right shape, or none", func() {
		Expect(yamldoc.Mismatches(root("size: 3\nspokes: [a]\nhub: {bolted: true}\nratio: 2\nlabel: 7\n"), reflect.TypeFor[wheel]())).To(BeEmpty())
		Expect(yamldoc.Mismatches(root("size: ~\nspokes:\nhub:\n"), reflect.TypeFor[wheel]())).To(BeEmpty())
	})
})
