package reports_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/reports"
)

var _ = Describe("Write", func() {
	var dir string
	BeforeEach(func() { dir = filepath.Join(GinkgoT().TempDir(), "out", "reports") })

	reportNames := []string{"results.json", "junit.xml", "index.html", reports.RunDataFile, "summary.md"}

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
	// contents are the reports in dir, by name.
	contents := func() map[string]string {
		GinkgoHelper()
		out := map[string]string{}
		for _, name := range reportNames {
			b, err := os.ReadFile(filepath.Join(dir, name))
			Expect(err).NotTo(HaveOccurred())
			out[name] = string(b)
		}
		return out
	}
	// run is the fixture as the run started at +n minutes: each run's
	// reports differ from another's.
	run := func(n int) *reports.Results {
		r := fixture()
		r.StartedAt = t0.Add(time.Duration(n) * time.Minute)
		return r
	}
	stagingDirs := func() []string {
		GinkgoHelper()
		var out []string
		for _, name := range names() {
			if strings.HasPrefix(name, reports.StagingPrefix) {
				out = append(out, name)
			}
		}
		return out
	}

	It("creates the directory and leaves exactly the reports in it", func() {
		Expect(reports.Write(dir, fixture())).To(Succeed())
		Expect(names()).To(ConsistOf(reportNames))
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

	It("replaces the reports of an earlier run, all of them", func() {
		Expect(reports.Write(dir, run(1))).To(Succeed())
		before := contents()
		Expect(reports.Write(dir, run(2))).To(Succeed())
		Expect(names()).To(ConsistOf(reportNames))
		after := contents()
		for _, name := range reportNames {
			if name == reports.RunDataFile {
				// The two runs' details are alike: the file is named by
				// what it holds, and the same.
				continue
			}
			Expect(after[name]).NotTo(Equal(before[name]), name)
		}
		Expect(after["summary.md"]).To(ContainSubstring("go-ref × refresh-storm: `single-flight-refresh`"))
	})

	It("leaves the earlier set whole when it is interrupted between two reports, and removes what it staged", func() {
		Expect(reports.Write(dir, run(1))).To(Succeed())
		earlier := contents()
		reached, resume := make(chan struct{}), make(chan struct{})
		restore := reports.SetWriter("index.html", func(io.Writer, *reports.Results) error {
			close(reached)
			<-resume
			return errors.New("interrupted")
		})
		done := make(chan error, 1)
		go func() { done <- reports.Write(dir, run(2)) }()
		// Should an assertion below fail, the Write held at index.html is
		// let go all the same, rather than left holding its staging
		// directory while the specs after this one run.
		var let sync.Once
		letGo := func() { let.Do(func() { close(resume) }) }
		DeferCleanup(func() { letGo(); <-done })
		select {
		case <-reached:
		case err := <-done:
			// A Write that ends before index.html would leave the spec
			// waiting for it for good.
			done <- err
			Fail(fmt.Sprintf("Write ended before it reached index.html: %v", err))
		}
		restore()

		By("holding, between index.html and the two before it, the earlier set and a hidden staging directory")
		Expect(contents()).To(Equal(earlier))
		Expect(stagingDirs()).To(HaveLen(1))
		Expect(names()).To(ConsistOf(append(reportNames, stagingDirs()[0])))
		staged, err := os.ReadDir(filepath.Join(dir, stagingDirs()[0]))
		Expect(err).NotTo(HaveOccurred())
		var stagedNames []string
		for _, e := range staged {
			stagedNames = append(stagedNames, e.Name())
		}
		Expect(stagedNames).To(ConsistOf("summary.md", "junit.xml", reports.RunDataFile, "index.html"), "index.html is being written")

		By("leaving a staging directory whose writer is alive to it, when another run writes meanwhile")
		Expect(reports.Write(dir, run(3))).To(Succeed())
		third := contents()
		Expect(third["results.json"]).NotTo(Equal(earlier["results.json"]))
		Expect(stagingDirs()).To(HaveLen(1))

		letGo()
		err = <-done
		done <- err // for the cleanup
		Expect(err).To(MatchError("write " + filepath.Join(dir, "index.html") + ": interrupted"))
		Expect(names()).To(ConsistOf(reportNames), "its staging directory is gone")
		Expect(contents()).To(Equal(third), "and nothing of it was moved into place")
	})

	It("removes what a killed run left, and nothing that is not oauthsim's", func() {
		Expect(reports.Write(dir, run(1))).To(Succeed())
		// What a kill -9 leaves: a staging directory nobody holds, with
		// the reports written so far; and an older version's temporary
		// file.
		killed := filepath.Join(dir, reports.StagingPrefix+"123"+reports.StagingSuffix)
		Expect(os.Mkdir(killed, 0o700)).To(Succeed())
		for _, name := range []string{"summary.md", "junit.xml"} {
			Expect(os.WriteFile(filepath.Join(killed, name), []byte("half"), 0o600)).To(Succeed())
		}
		Expect(os.WriteFile(filepath.Join(dir, ".results.json.4242.tmp"), []byte("{"), 0o600)).To(Succeed())
		// The user's: files beside the reports, and a directory that only
		// looks like a staging one, holding a file oauthsim never writes.
		mine := filepath.Join(dir, reports.StagingPrefix+"mine"+reports.StagingSuffix)
		Expect(os.Mkdir(mine, 0o700)).To(Succeed())
		for _, path := range []string{filepath.Join(dir, "notes.txt"), filepath.Join(dir, ".index.html.backup.tmp"), filepath.Join(mine, "keep.txt")} {
			Expect(os.WriteFile(path, []byte("the user's"), 0o600)).To(Succeed())
		}
		Expect(reports.Write(dir, run(2))).To(Succeed())
		Expect(names()).To(ConsistOf(append(reportNames, "notes.txt", ".index.html.backup.tmp", filepath.Base(mine))))
		Expect(filepath.Join(mine, "keep.txt")).To(BeARegularFile())
	})

	It("marks the set incomplete when it stops between two renames, and the next run makes it whole", func() {
		Expect(reports.Write(dir, run(1))).To(Succeed())
		earlier := contents()
		restore := reports.SetRename(func(from, to string) error {
			if filepath.Base(to) == "index.html" {
				return errors.New("disk on fire")
			}
			return os.Rename(from, to)
		})
		err := reports.Write(dir, run(2))
		restore()
		incomplete := filepath.Join(dir, reports.IncompleteFile)
		Expect(err).To(MatchError(ContainSubstring("disk on fire (" + incomplete + " says which reports are of this run)")))
		Expect(names()).To(ConsistOf(append(reportNames, reports.IncompleteFile)), "no staging directory left")
		mixed := contents()
		Expect(mixed["summary.md"]).NotTo(Equal(earlier["summary.md"]))
		Expect(mixed["junit.xml"]).NotTo(Equal(earlier["junit.xml"]))
		Expect(mixed["index.html"]).To(Equal(earlier["index.html"]))
		Expect(mixed["results.json"]).To(Equal(earlier["results.json"]), "results.json moves last: it is the earlier run's until the set is whole")
		note, err := os.ReadFile(incomplete)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(note)).To(ContainSubstring("they are from two runs. It moves summary.md, junit.xml, index-runs.js, index.html, results.json in that order"))

		Expect(reports.Write(dir, run(3))).To(Succeed())
		Expect(names()).To(ConsistOf(reportNames))
	})

	DescribeTable("refuses to replace what oauthsim did not write, and leaves it as it was",
		func(name, why string, put func(path string)) {
			Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
			path := filepath.Join(dir, name)
			put(path)
			info, err := os.Lstat(path)
			Expect(err).NotTo(HaveOccurred())
			Expect(reports.CheckDir(dir)).To(MatchError(path + " is in the way: " + why + ", and oauthsim does not replace it"))
			Expect(reports.Write(dir, fixture())).To(MatchError(ContainSubstring(path + " is in the way")))
			Expect(names()).To(ConsistOf(name), "nothing written, nothing staged")
			after, err := os.Lstat(path)
			Expect(err).NotTo(HaveOccurred())
			Expect(after.ModTime()).To(Equal(info.ModTime()))
			Expect(after.Mode()).To(Equal(info.Mode()))
		},
		Entry("a page of the user's", "index.html", "it is not a report oauthsim wrote", func(path string) {
			Expect(os.WriteFile(path, []byte("<!doctype html><title>My project</title>"), 0o644)).To(Succeed())
		}),
		Entry("an empty file", "results.json", "it is not a report oauthsim wrote", func(path string) { Expect(os.WriteFile(path, nil, 0o644)).To(Succeed()) }),
		Entry("a directory", "summary.md", "it is not a file oauthsim wrote", func(path string) { Expect(os.MkdirAll(filepath.Join(path, "keep"), 0o755)).To(Succeed()) }),
		Entry("a link", "junit.xml", "it is not a file oauthsim wrote", func(path string) { Expect(os.Symlink("/etc/hostname", path)).To(Succeed()) }),
	)

	It("writes reports of a run that had nothing to run, which a later run replaces", func() {
		Expect(reports.Write(dir, &reports.Results{})).To(Succeed())
		Expect(names()).To(ConsistOf(reportNames))
		md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(md)).To(HavePrefix("## oauthsim conformance: no runs\n"))
		Expect(reports.Write(dir, fixture())).To(Succeed())
	})

	It("fails with the directory's error when it cannot create it", func() {
		file := filepath.Join(GinkgoT().TempDir(), "file")
		Expect(os.WriteFile(file, nil, 0o644)).To(Succeed())
		err := reports.Write(filepath.Join(file, "reports"), fixture())
		Expect(err).To(MatchError(ContainSubstring("write reports:")))
		Expect(err).To(MatchError(ContainSubstring(file)))
	})
})
