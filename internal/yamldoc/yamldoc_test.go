package yamldoc_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/internal/yamldoc"
)

var _ = Describe("Parsing a YAML file", func() {
	DescribeTable("places what yaml refuses at its line and column",
		func(doc, want string) {
			_, _, err := yamldoc.Parse("f.yaml", []byte(doc))
			Expect(err).To(MatchError(want))
		},
		Entry("a byte that is not UTF-8, which yaml places nowhere", "name: a\nsteps:\n  - authorize: \xff\xfe\n",
			"f.yaml:3:16: invalid leading UTF-8 octet (value: 255)"),
		Entry("a broken UTF-8 sequence, at its bad byte", "a: 1\n\xc3\x28: 2\n",
			"f.yaml:2:2: invalid trailing UTF-8 octet (value: 40)"),
		Entry("a NUL, counting characters rather than bytes before it", "a: 1\nname: é€😀\x00\n",
			"f.yaml:2:10: control characters are not allowed (value: 0)"),
		Entry("a control character on a CR LF line after a byte order mark", "\ufeffa: 1\r\nb: x\x01\r\n",
			"f.yaml:2:5: control characters are not allowed (value: 1)"),
		Entry("an alias with no anchor, which yaml places nowhere", "name: ua\nsteps: *nothere\n",
			"f.yaml:2:8: unknown anchor 'nothere' referenced"),
		Entry("flow nesting too deep, at the [ too many", "steps: "+strings.Repeat("[", 50000)+strings.Repeat("]", 50000)+"\n",
			"f.yaml:1:10008: exceeded max depth of 10000"),
		Entry("block nesting too deep, at the item too many", "a:\n"+strings.Repeat("- ", 10005)+"x\n",
			"f.yaml:2:20001: exceeded max depth of 10000 (while increasing indent level at 1:1)"),
		Entry("a [ the file ends inside of, where it opens", "name: x\nrefresh:\n  rotation: [none\n",
			"f.yaml:3:13: did not find expected ',' or ']' (while parsing a flow sequence that starts here and runs to the end of the file)"),
		Entry("a [ left open before the next key, there and where it opens", "steps: [a, b\nclient: demo\n",
			"f.yaml:2:7: did not find expected ',' or ']' (while parsing a flow sequence at 1:8)"),
		Entry("a { the file ends inside of", "a: 1\nprovider: {a: 1\n",
			"f.yaml:2:11: did not find expected ',' or '}' (while parsing a flow mapping that starts here and runs to the end of the file)"),
		Entry("a quote the file ends inside of", "name: \"abc\nsteps: []\n",
			"f.yaml:1:7: found unexpected end of stream (while scanning a quoted scalar that starts here and runs to the end of the file)"),
		Entry("an item indented out of its list", "steps:\n  - advance: 1s\n   - advance: 2s\n",
			"f.yaml:3:4: did not find expected '-' indicator (while parsing a block collection at 2:3)"),
		Entry("a key indented under a scalar", "name: x\n  description: d\n",
			"f.yaml:2:14: mapping values are not allowed in this context"),
		Entry("a tab for indentation", "name: t\nsteps:\n\t- authorize: alice\n",
			"f.yaml:3:1: found character that cannot start any token"),
		Entry("a file that ends where a value must come", "\ufeffsteps: [\r\n",
			"f.yaml:2:1: did not find expected node content at the end of the file"),
		Entry("a problem after a very long line", "name: "+strings.Repeat("a", 1<<20)+"\nsteps: {a: 1\n",
			"f.yaml:2:8: did not find expected ',' or '}' (while parsing a flow mapping that starts here and runs to the end of the file)"),
		Entry("a scalar its explicit tag does not fit, which yaml places nowhere", "steps:\n  - advance: !!int 1h\n",
			"f.yaml:2:14: cannot construct !!str `1h` as a !!int"),
		Entry("invalid base64 in a !!binary", "a: !!binary '%%%'\n",
			"f.yaml:1:4: !!binary value contains invalid base64 data"),
		Entry("a key given twice, at the second, with where the first is", "a: 1\nb:\n  c: 1\n  c: 2\n",
			"f.yaml:4:3: mapping key \"c\" already defined at 3:3"),
	)

	It("finds a key given twice in a mapping of 200,000", func() {
		var b strings.Builder
		for i := range 200000 {
			fmt.Fprintf(&b, "k%d: v\n", i)
		}
		b.WriteString("k7: again\n")
		_, _, err := yamldoc.Parse("f.yaml", []byte(b.String()))
		Expect(err).To(MatchError(`f.yaml:200001:1: mapping key "k7" already defined at 8:1`))
	})

	It("reads a file without documents as an empty one at its first line and column", func() {
		for _, doc := range []string{"", "# nothing here\n"} {
			n, more, err := yamldoc.Parse("f.yaml", []byte(doc))
			Expect(err).NotTo(HaveOccurred())
			Expect(n.Kind).To(Equal(yaml.DocumentNode))
			Expect(n.Content).To(BeEmpty())
			Expect([]int{n.Line, n.Column}).To(Equal([]int{1, 1}))
			Expect(more).To(BeEmpty())
		}
	})

	It("gives the documents after the first apart", func() {
		n, more, err := yamldoc.Parse("f.yaml", []byte("a: 1\n---\nb: 2\n---\nc: 3\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(yamldoc.Child(yamldoc.Root(n), "a").Value).To(Equal("1"))
		Expect(more).To(HaveLen(2))
		Expect(yamldoc.Root(more[0]).Line).To(Equal(3))
	})

	It("writes the problems decoding finds, each at its place, one a line, in file order when sorted", func() {
		n, _, err := yamldoc.Parse("f.yaml", []byte("b: x\na: [1, y]\n"))
		Expect(err).NotTo(HaveOccurred())
		var v struct {
			A []int `yaml:"a"`
			B int   `yaml:"b"`
		}
		ps, ok := yamldoc.Split(n.Load(&v))
		Expect(ok).To(BeTrue())
		late := yamldoc.At(yamldoc.Child(yamldoc.Root(n), "a"), "a message\nof two lines")
		Expect(yamldoc.Locate("f.yaml", yamldoc.Problems(yamldoc.Sorted(append([]*yaml.LoadError{late}, ps...))...))).To(MatchError(
			"f.yaml:1:4: cannot construct !!str `x` into int\n" +
				"f.yaml:2:4: a message\n" +
				"f.yaml:2:4: of two lines\n" +
				"f.yaml:2:8: cannot construct !!str `y` into int"))
	})

	It("writes out the first MaxProblems problems, and how many more there are from where it stops", func() {
		var ps []*yaml.LoadError
		for i := range yamldoc.MaxProblems + 50 {
			ps = append(ps, yamldoc.At(&yaml.Node{Line: i + 1, Column: 3}, "misspelt"))
		}
		lines := strings.Split(yamldoc.Locate("f.yaml", yamldoc.Problems(ps...)).Error(), "\n")
		Expect(lines).To(HaveLen(yamldoc.MaxProblems + 1))
		Expect(lines[0]).To(Equal("f.yaml:1:3: misspelt"))
		Expect(lines[yamldoc.MaxProblems]).To(Equal(fmt.Sprintf("f.yaml:%d:3: and 50 more problems from here on", yamldoc.MaxProblems+1)))
	})

	It("prefixes an error that is not yaml's with the path alone", func() {
		Expect(yamldoc.Locate("f.yaml", fmt.Errorf("read: gone"))).To(MatchError("f.yaml: read: gone"))
		Expect(yamldoc.Problems()).To(Succeed())
	})
})
