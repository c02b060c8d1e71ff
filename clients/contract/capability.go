package contract

import "slices"

// Capability is something a client can do, as its hello lists it
// (PROTOCOL.md, The hello). A scenario that requires a capability the
// client lacks is skipped for it.
type Capability string

// The capabilities of this version of the protocol.
const (
	// CapRefresh: the client keeps a refresh token and refreshes with it.
	CapRefresh Capability = "refresh"
	// CapRestart: the client keeps its tokens in EnvStateDir and finds them
	// again after a restart.
	CapRestart Capability = "restart"
	// CapConcurrency: the client serves several call requests at once.
	CapConcurrency Capability = "concurrency"
	// CapLogout: the client revokes its tokens (RFC 7009) on OpLogout.
	CapLogout Capability = "logout"
	// CapSecretRotation: the client uses a rotated client secret, after
	// OpReload or by reading its file again.
	CapSecretRotation Capability = "secret_rotation"
	// CapSharedState: several processes of the client may share EnvStateDir.
	CapSharedState Capability = "shared_state"
	// CapClientCredentials: the client calls the API as itself, with the
	// client credentials grant (OpServiceCall).
	CapClientCredentials Capability = "client_credentials"
	// CapEncryptsAtRest: nothing the client keeps in EnvStateDir holds a
	// token or a secret in plain text or a plain encoding of it.
	CapEncryptsAtRest Capability = "encrypts_at_rest"
	// CapKeyRotation: the client encrypts what it keeps with the keys of
	// EnvStorageKeyFile and reads the file again on OpStorageKey.
	CapKeyRotation Capability = "key_rotation"
	// CapMultiTenant: the client serves several client registrations at
	// once (EnvTenants), each op for the tenant it names.
	CapMultiTenant Capability = "multi_tenant"
	// CapClockNow: the client takes the sim time from each request's now
	// (PROTOCOL.md, Time).
	CapClockNow Capability = "clock:now"
	// CapClockFaketime: the client runs under libfaketime, whose file the
	// harness keeps at the sim time (PROTOCOL.md, Time).
	CapClockFaketime Capability = "clock:faketime"
)

// Capabilities lists the capabilities a scenario may require, in a stable
// order: every capability but the clock ones.
func Capabilities() []Capability {
	return []Capability{CapRefresh, CapRestart, CapConcurrency, CapLogout, CapSecretRotation, CapSharedState, CapClientCredentials, CapEncryptsAtRest, CapKeyRotation, CapMultiTenant, CapBrowser, CapSPA}
}

// Clocks lists the clock capabilities, of which a hello lists exactly one.
func Clocks() []Capability { return []Capability{CapClockNow, CapClockFaketime} }

// Known reports whether this version of the protocol has c: a hello may
// list others (a misspelling, one of a later version), which are ignored.
func (c Capability) Known() bool {
	return slices.Contains(Capabilities(), c) || slices.Contains(Clocks(), c)
}
