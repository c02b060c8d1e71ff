//go:build !linux

package conformance

import "errors"

// subreaper is Linux's alone: elsewhere a client process's children that
// left its process group (setsid) are not found, and outlive it.
func subreaper() error {
	return errors.New("no subreaper on this system: a client's children that leave its process group outlive it")
}

// sweep finds nothing without Linux's /proc: stopping a client process
// kills its process group only.
func sweep(int, func(string) bool) {}
