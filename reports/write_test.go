package reports_test

import (
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/reports"
)

var _ = Describe("Write", func() {
	var dir string
	BeforeEach(func() { dir = filepath.Join(GinkgoT().TempDir(), "out", "reports") })

	names := func() []string {
		GinkgoHelper()
		entries, err := os.ReadDir(dir)
		Expect(err).NotTo(HaveOccurred())
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}

	It("creates the directory and leaves exactly the four reports in it", func() {
		Expect(reports.Write(dir, fixture())).To(Succeed())
		Expect(names()).To(ConsistOf("results.json", "junit.xml", "index.html", "summary.md"))
		for _, name := range names() {
			info, err := os.Stat(filepath.Join(dir, name))
			Expect(err).NotTo(HaveOccurred())
			Expect(info.Size()).To(BeNumerically(">", 100), name)
			Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o644)), "%s is readable by whoever collects the artifacts", name)
		}
		back, err := reports.ReadJSON(filepath.Join(dir, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Runs).To(HaveLen(6))
	})

	It("replaces the reports of an earlier run", func() {
		Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
		for _, name := range []string{"results.json", "junit.xml", "index.html", "summary.md"} {
			Expect(os.WriteFile(filepath.Join(dir, name), []byte("stale "+name), 0o600)).To(Succeed())
		}
		Expect(reports.Write(dir, fixture())).To(Succeed())
		Expect(names()).To(HaveLen(4))
		for _, name := range names() {
			b, err := os.ReadFile(filepath.Join(dir, name))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(b)).NotTo(HavePrefix("stale"), name)
		}
		md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(md)).To(ContainSubstring("go-ref × refresh-storm: `single-flight-refresh`"))
	})

	It("says which file it could not write and leaves no temporary file behind", func() {
		// A directory where index.html should go: the rename over it fails.
		blocker := filepath.Join(dir, "index.html")
		Expect(os.MkdirAll(filepath.Join(blocker, "keep"), 0o755)).To(Succeed())
		err := reports.Write(dir, fixture())
		Expect(err).To(MatchError(HavePrefix("write " + blocker + ": ")))
		Expect(names()).To(ConsistOf("results.json", "junit.xml", "index.html"), "no temporary file, and summary.md not attempted")
		Expect(filepath.Join(blocker, "keep")).To(BeADirectory(), "what was there is left alone")
		for _, name := range names() {
			Expect(strings.HasSuffix(name, ".tmp")).To(BeFalse())
		}
	})

	It("writes reports of a run that had nothing to run", func() {
		Expect(reports.Write(dir, &reports.Results{})).To(Succeed())
		Expect(names()).To(HaveLen(4))
		md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(md)).To(HavePrefix("## oauthsim conformance: no runs\n"))
	})

	It("fails with the directory's error when it cannot create it", func() {
		file := filepath.Join(GinkgoT().TempDir(), "file")
		Expect(os.WriteFile(file, nil, 0o644)).To(Succeed())
		err := reports.Write(filepath.Join(file, "reports"), fixture())
		Expect(err).To(MatchError(ContainSubstring("write reports:")))
		Expect(err).To(MatchError(ContainSubstring(file)))
	})
})
