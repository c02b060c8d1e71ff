// Package clients holds the token managers oauthsim judges, and what
// connects other ones to it:
//
//   - tokenmanager is the reference token manager, and refapp the
//     application around it that the harness and its adapter share;
//   - mutants are the reference's deliberately broken variants, one bug
//     each, which the harness must catch on the check each targets;
//   - inprocess runs the reference and the variants in the harness's own
//     process: the built-in clients of oauthsim conform;
//   - contract is the client protocol (PROTOCOL.md) as Go types and
//     constants: the wire lines, the environment, the capabilities, the
//     outcomes and the reasons, which the harness and the Go clients share;
//   - protocol is the client library of that protocol for Go adapters, which
//     lets a client in another process, in any language, be judged;
//   - adapters wire real client libraries (Go, Node, Python) to that
//     protocol, each the way its documentation shows;
//   - independent (Node) is a second correct client, written apart from the
//     reference, that must pass every bundled scenario too.
package clients
