package main_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestXoauth2(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "x/oauth2 adapter")
}
