package reports

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = DescribeTable("A duration in the reports' compact form",
	func(d time.Duration, want string) { Expect(compact(d)).To(Equal(want)) },
	Entry("seconds and milliseconds, as decimals that float64 cannot hold", 1503*time.Millisecond, "1.503s"),
	Entry("trailing zeros dropped", 1500*time.Millisecond, "1.5s"),
	Entry("milliseconds alone", 502*time.Millisecond, "502ms"),
	Entry("whole seconds", 2*time.Second, "2s"),
	Entry("minutes and seconds", 90*time.Second, "1m30s"),
	Entry("under a millisecond", 30*time.Microsecond, "30µs"),
)
