package main

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/oauth2"

	"github.com/oauthsim/oauthsim/clients/contract"
)

var _ = Describe("What the adapter keeps in OAUTHSIM_STATE_DIR", func() {
	It("is declared the glue's in the hello, and claims no encryption", func() {
		h := hello()
		Expect(h.Glue).To(Equal([]string{contract.GlueStorage}), "x/oauth2 writes no file: the adapter's saveJSON does")
		Expect(h.Capabilities).NotTo(ContainElement(contract.CapEncryptsAtRest))
	})

	It("is the token as plain JSON, as the library's Token marshals: what the harness will find", func() {
		path := filepath.Join(GinkgoT().TempDir(), "token.json")
		tok := &oauth2.Token{AccessToken: "at-plain-1", RefreshToken: "rt-plain-1", TokenType: "Bearer", Expiry: time.Unix(1767607200, 0).UTC()}
		Expect(saveToken(path, tok)).To(Succeed())
		b, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(ContainSubstring(`"access_token":"at-plain-1"`))
		Expect(string(b)).To(ContainSubstring(`"refresh_token":"rt-plain-1"`))
		back, err := loadToken(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(back.RefreshToken).To(Equal("rt-plain-1"), "read back at start")
	})
})
