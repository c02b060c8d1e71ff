// Package conformance is the harness: it runs scenarios against client
// token managers on a simulator with a fake clock, and judges each run by
// named checks over the simulator's event log (the ground truth) plus the
// scenario's own expectations. Suite turns the runs into a Ginkgo v2 suite,
// one Ordered container per client × scenario and one spec per check, so
// that Ginkgo's labels and reporters work on them; `oauthsim conform` runs
// that suite from the built binary.
package conformance
