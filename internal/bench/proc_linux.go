package bench

import (
	"os/exec"
	"syscall"
)

// DieWithParent has the kernel kill cmd when the process that started it
// dies, so that an interrupted benchmark leaves no node server or memory
// child (gigabytes, at a million families) behind.
func DieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
