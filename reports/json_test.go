package reports_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/reports"
)

var _ = Describe("results.json", func() {
	var dir string
	BeforeEach(func() { dir = GinkgoT().TempDir() })

	write := func(doc string) string {
		path := filepath.Join(dir, "results.json")
		Expect(os.WriteFile(path, []byte(doc), 0o644)).To(Succeed())
		return path
	}

	It("reads back what it wrote", func() {
		in := fixture()
		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, in)).To(Succeed())
		out, err := reports.ReadJSON(write(buf.String()))
		Expect(err).NotTo(HaveOccurred())
		// JSON cannot tell an empty list from an absent one.
		Expect(out).To(BeComparableTo(in, cmpopts.EquateEmpty()))
		Expect(out.Runs[1].Events[1].ExpiresAt).NotTo(BeNil(), "expiry times survive")
	})

	It("keeps what --expect-fail marked, under the names the README gives", func() {
		in := withBroken("mutant/missed")
		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, in)).To(Succeed())
		Expect(buf.String()).To(ContainSubstring(`"expect_fail": true`))
		Expect(buf.String()).To(ContainSubstring(`"unmet": "was expected to fail, and passed"`))
		Expect(buf.String()).To(ContainSubstring(`"expected_failure": true`))
		out, err := reports.ReadJSON(write(buf.String()))
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(BeComparableTo(in, cmpopts.EquateEmpty()))
		Expect(out.Passed()).To(BeFalse())
	})

	It("is indented and stamps the schema version even when the caller left it out", func() {
		in := fixture()
		in.SchemaVersion = ""
		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, in)).To(Succeed())
		Expect(buf.String()).To(HavePrefix("{\n  \"schema_version\": \"1\",\n"))
		Expect(buf.String()).To(ContainSubstring(`"name": "<script>alert(1)</script>"`), "written for people, not HTML-escaped")
		Expect(in.SchemaVersion).To(BeEmpty(), "the caller's Results are not modified")
	})

	DescribeTable("refuses a file of another schema version",
		func(doc, want string) {
			_, err := reports.ReadJSON(write(doc))
			Expect(err).To(MatchError(reports.ErrSchemaVersion))
			Expect(err).To(MatchError(ContainSubstring(want)))
			Expect(err).To(MatchError(ContainSubstring("results.json")))
		},
		Entry("a newer version", `{"schema_version": "2", "runs": "changed meaning"}`, `"2"`),
		Entry("no version", `{"runs": []}`, "no schema_version"),
	)

	It("ignores fields a later version added", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, fixture())).To(Succeed())
		var doc map[string]any
		Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		doc["added_later"] = true
		b, err := json.Marshal(doc)
		Expect(err).NotTo(HaveOccurred())
		out, err := reports.ReadJSON(write(string(b)))
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Runs).To(HaveLen(6))
	})

	It("says which file it could not read", func() {
		_, err := reports.ReadJSON(filepath.Join(dir, "missing.json"))
		Expect(err).To(MatchError(ContainSubstring("missing.json")))
		Expect(err).To(MatchError(os.ErrNotExist))

		_, err = reports.ReadJSON(write(`{"schema_version": "1", "runs": 3}`))
		Expect(err).To(MatchError(ContainSubstring("read results " + filepath.Join(dir, "results.json"))))
	})
})
