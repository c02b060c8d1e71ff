//go:build linux

package conformance

import (
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// subreaper makes the harness the subreaper of the processes below it: a
// process whose parent exits is handed to the harness, not to init. A
// client's child that left its process group (setsid) and outlived the
// client is then the harness's child, found by its parent, killed and
// reaped. The setting is the whole harness process's and lasts as long as
// it does; adopted orphans are its children, which only it can reap, and
// sweep reaps those it ends.
var subreaper = sync.OnceValue(func() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
})

// process is a process as /proc shows it.
type process struct {
	pid, ppid, pgid int
	// start tells a process from a later one that got its pid.
	start  uint64
	zombie bool
	// mark is the process's OAUTHSIM_HARNESS_PROCESS.
	mark string
}

// processes lists the machine's processes; one that goes while it reads
// is left out.
func processes() ([]process, error) {
	all, err := procfs.AllProcs()
	if err != nil {
		return nil, err
	}
	out := make([]process, 0, len(all))
	for _, p := range all {
		st, err := p.Stat()
		if err != nil {
			continue
		}
		pr := process{pid: st.PID, ppid: st.PPID, pgid: st.PGRP, start: st.Starttime, zombie: st.State == "Z"}
		if !pr.zombie {
			// A zombie has no environment left to read.
			if env, err := p.Environ(); err == nil {
				for _, kv := range env {
					if v, ok := strings.CutPrefix(kv, envHarnessProcess+"="); ok {
						pr.mark = v
					}
				}
			}
		}
		out = append(out, pr)
	}
	return out, nil
}

// sweep kills what belongs to a client process (all the harness's client
// processes when leader is 0), and reaps those of them the harness
// adopted: every process that carries its mark (mine says whether a mark
// is the one), every one in its process group, every orphan the harness
// adopted that left the harness's process group and is not a client
// process it started, and every descendant of those. It returns when none
// of them is left, alive or unreaped, or after a few seconds of trying.
func sweep(leader int, mine func(mark string) bool) {
	self, group := os.Getpid(), syscall.Getpgrp()
	targets := map[int]uint64{}
	for range 200 {
		if !sweepRound(self, group, leader, mine, targets) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sweepRound kills and reaps what it finds of sweep's processes, adding
// to targets, and says whether any was left to wait for. No client
// process starts meanwhile: one that had started but was not registered
// yet would look like an orphan.
func sweepRound(self, group, leader int, mine func(string) bool, targets map[int]uint64) bool {
	clientProcesses.Lock()
	defer clientProcesses.Unlock()
	ps, err := processes()
	if err != nil {
		return false
	}
	children := map[int][]process{}
	var todo []process
	for _, p := range ps {
		children[p.ppid] = append(children[p.ppid], p)
		adopted := p.ppid == self && p.pgid != group
		known := targets[p.pid] == p.start && p.start != 0
		if known || (p.mark != "" && mine(p.mark)) || (leader != 0 && p.pgid == leader) || adopted {
			todo = append(todo, p)
		}
	}
	// Their descendants, however far from them, are theirs.
	var found []process
	seen := map[int]bool{self: true}
	for len(todo) > 0 {
		p := todo[0]
		todo = todo[1:]
		if seen[p.pid] || clientProcesses.pids[p.pid] {
			continue
		}
		seen[p.pid] = true
		targets[p.pid] = p.start
		found = append(found, p)
		todo = append(todo, children[p.pid]...)
	}
	left := false
	for _, p := range found {
		switch {
		case !p.zombie:
			// One the harness may not kill (another user's) is not
			// waited for.
			if unix.Kill(p.pid, unix.SIGKILL) == nil {
				left = true
			}
		case p.ppid == self:
			_, _ = unix.Wait4(p.pid, nil, unix.WNOHANG, nil)
			left = true
		}
		// Another's zombie is its parent's to reap; when the parent dies
		// (it is found too) it comes to the harness.
	}
	return left
}
