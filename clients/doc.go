// Package clients will hold the reference token manager, its deliberately
// broken variants, the subprocess client contract and the adapters for real
// client libraries. It is empty until that work lands.
package clients
