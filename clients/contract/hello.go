package contract

import (
	"fmt"
	"slices"
)

// HelloLine is the client's first line, within 10 seconds of its start:
// {"hello": {...}} (PROTOCOL.md, The hello).
type HelloLine struct {
	Hello *Hello `json:"hello"`
}

// Hello is what a client says of itself.
type Hello struct {
	// Protocol is the version the client speaks: Version.
	Protocol int `json:"protocol"`
	// Name and Version name what is under test: for an adapter, the
	// library and its exact version.
	Name    string `json:"name"`
	Version string `json:"version"`
	// Capabilities lists what the client can do, exactly one clock
	// capability among them.
	Capabilities []Capability `json:"capabilities"`
	// Glue lists what an adapter's own code does where the library leaves
	// it to the application (GlueStorage), so that what the checks find
	// there is reported as the glue's, not the library's.
	Glue []string `json:"glue,omitempty"`
}

// GlueStorage: the adapter's code, not the library, writes what is kept in
// EnvStateDir.
const GlueStorage = "storage"

// Features are the capabilities the hello lists that a scenario may
// require (Capabilities), in the hello's order.
func (h Hello) Features() []Capability {
	var out []Capability
	for _, c := range h.Capabilities {
		if slices.Contains(Capabilities(), c) {
			out = append(out, c)
		}
	}
	return out
}

// Unknown are the capabilities the hello lists that this version of the
// protocol does not have, in the hello's order.
func (h Hello) Unknown() []Capability {
	var out []Capability
	for _, c := range h.Capabilities {
		if !c.Known() {
			out = append(out, c)
		}
	}
	return out
}

// Clock is the one clock capability the hello lists; a hello with none or
// more than one is refused.
func (h Hello) Clock() (Capability, error) {
	var clocks []Capability
	for _, c := range h.Capabilities {
		if slices.Contains(Clocks(), c) {
			clocks = append(clocks, c)
		}
	}
	if len(clocks) != 1 {
		return "", fmt.Errorf("the hello must list exactly one clock capability (%s or %s); it lists %d", CapClockNow, CapClockFaketime, len(clocks))
	}
	return clocks[0], nil
}
