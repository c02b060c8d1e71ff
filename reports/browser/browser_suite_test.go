//go:build browser

// Package browser_test opens index.html in headless Chromium, as a person
// opening the CI artifact would, and checks what they would see. It needs
// Chromium, so it is built only with the browser tag (make browser), not by
// go test ./....
package browser_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestBrowser(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "index.html in Chromium")
}
