// Package conformance will hold the Ginkgo v2 suite that runs scenarios
// against client token managers and judges each run by checks over the
// simulator's event log. It is empty until that work lands; the simulator
// it will drive is in package simulator.
package conformance
