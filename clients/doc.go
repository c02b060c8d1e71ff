// Package clients holds the token managers oauthsim judges: the reference
// (package tokenmanager) and its deliberately broken variants (package
// mutants). The subprocess client contract and the adapters for real client
// libraries come with issue 6.
package clients
