package main

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

func TestOauthsim(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "oauthsim command Suite")
}

// binary is the built oauthsim, for the specs that need a real process:
// signals, exit codes.
var binary string

var _ = BeforeSuite(func() {
	var err error
	binary, err = gexec.Build("github.com/oauthsim/oauthsim/cmd/oauthsim")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(gexec.CleanupBuildArtifacts)
})
