package tokenmanager_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestTokenmanager(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Tokenmanager Suite")
}
