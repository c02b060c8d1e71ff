// The browser runner's specs. Those that drive Chromium are built only with
// the browser tag (make browser-clients-test); go test ./... runs the rest,
// which need no browser.
package browser

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestBrowser(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "The browser runner")
}
