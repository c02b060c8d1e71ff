// Package scenarios holds the bundled scenario files and the code that
// loads and validates them. A scenario is what QA writes without reading
// Go: a provider setup, a timeline of steps (authorize, call the API,
// advance the clock, restart the client, inject a fault, revoke...) and what
// the client is expected to do. The conformance package runs them.
package scenarios
