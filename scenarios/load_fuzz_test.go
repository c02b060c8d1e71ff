package scenarios_test

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/internal/yamldoc/hostile"
	"github.com/oauthsim/oauthsim/scenarios"
)

// FuzzParse feeds scenario files to Parse, starting from the bundled
// scenarios and hostile files: it must never panic, and every line of an
// error must name the file, a line and a column.
func FuzzParse(f *testing.F) {
	bundled, err := filepath.Glob("*.yaml")
	if err != nil || len(bundled) == 0 {
		f.Fatalf("no bundled scenarios to start from: %v", err)
	}
	for _, name := range bundled {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, data := range hostile.Files() {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := scenarios.Parse("f.yaml", data)
		if err != nil {
			NewWithT(t).Expect(hostile.Unlocated("f.yaml", err)).To(BeEmpty(), "every line of:\n%v", err)
		}
	})
}
