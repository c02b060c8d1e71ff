package refapp_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestRefapp(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Refapp Suite")
}
