package simulator_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("The examples in the documentation", func() {
	// Each is the code of an Example, which go test compiles and runs: a
	// snippet that drifts from it fails here.
	DescribeTable("are lines of an Example, in order",
		func(snippet func() []string, example string) {
			lines := snippet()
			Expect(lines).NotTo(BeEmpty())
			body := exampleBody(example)
			next := 0
			for _, line := range body {
				if next < len(lines) && line == lines[next] {
					next++
				}
			}
			Expect(next).To(Equal(len(lines)), "%s lacks, in this order, the line %q", example, lines[min(next, len(lines)-1)])
		},
		Entry("the package documentation's", packageDocExample, "Example"),
		Entry("the README's, in Testing your own Go client", readmeTest, "Example_testingAGoClient"),
	)
})

// packageDocExample is the code block of the package documentation.
func packageDocExample() []string {
	GinkgoHelper()
	f, err := parser.ParseFile(token.NewFileSet(), "simulator.go", nil, parser.PackageClauseOnly|parser.ParseComments)
	Expect(err).NotTo(HaveOccurred())
	var block []string
	for _, line := range strings.Split(f.Doc.Text(), "\n") {
		if code, ok := strings.CutPrefix(line, "\t"); ok {
			block = append(block, strings.TrimSpace(code))
		} else if len(block) > 0 {
			break
		}
	}
	return block
}

// readmeTest is the body of the test in the README's section on testing a
// Go client, without the function around it.
func readmeTest() []string {
	GinkgoHelper()
	readme, err := os.ReadFile("../README.md")
	Expect(err).NotTo(HaveOccurred())
	_, section, found := strings.Cut(string(readme), "\n## Testing your own Go client\n")
	Expect(found).To(BeTrue())
	_, code, found := strings.Cut(section, "```go\n")
	Expect(found).To(BeTrue())
	code, _, _ = strings.Cut(code, "```")
	lines := strings.Split(strings.TrimSpace(code), "\n")
	Expect(lines[0]).To(HavePrefix("func Test"))
	Expect(lines[len(lines)-1]).To(Equal("}"))
	body := lines[1 : len(lines)-1]
	for i := range body {
		body[i] = strings.TrimSpace(body[i])
	}
	return body
}

// exampleBody is the source of the Example function name, line by line.
func exampleBody(name string) []string {
	GinkgoHelper()
	src, err := os.ReadFile("example_test.go")
	Expect(err).NotTo(HaveOccurred())
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "example_test.go", src, parser.ParseComments)
	Expect(err).NotTo(HaveOccurred())
	for _, decl := range f.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && fn.Name.Name == name {
			body := string(src[fset.Position(fn.Body.Lbrace).Offset:fset.Position(fn.Body.Rbrace).Offset])
			lines := strings.Split(body, "\n")
			for i := range lines {
				lines[i] = strings.TrimSpace(lines[i])
			}
			return lines
		}
	}
	Fail("example_test.go has no " + name)
	return nil
}
