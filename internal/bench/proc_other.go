//go:build !linux

package bench

import "os/exec"

// DieWithParent does nothing where the kernel cannot kill a child with its
// parent: an interrupted benchmark may leave its children running there.
func DieWithParent(*exec.Cmd) {}
