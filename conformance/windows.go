package conformance

import "slices"

// window is the events of one client operation, or of the operations a
// step ran at once (a round of concurrent calls, or of processes), which
// the log cannot tell apart.
type window struct {
	step        *StepRecord
	first, last uint64
	// callers is how many operations ran in it.
	callers int
	calls   []CallRecord
}

// windows lists the run's operations as windows, in order.
func windows(r *Record) []window {
	var out []window
	for i := range r.Steps {
		s := &r.Steps[i]
		for _, c := range s.Calls {
			if n := len(out); n > 0 && out[n-1].step == s && out[n-1].first == c.FirstSeq && c.Callers > 1 {
				w := &out[n-1]
				w.last = max(w.last, c.LastSeq)
				w.calls = append(w.calls, c)
				continue
			}
			out = append(out, window{step: s, first: c.FirstSeq, last: c.LastSeq, callers: max(1, c.Callers), calls: []CallRecord{c}})
		}
	}
	return out
}

// windowOf is the window whose events include seq, or nil.
func windowOf(ws []window, seq uint64) *window {
	i, found := slices.BinarySearchFunc(ws, seq, func(w window, seq uint64) int {
		switch {
		case w.last < seq:
			return -1
		case w.first > seq:
			return 1
		}
		return 0
	})
	if !found {
		return nil
	}
	return &ws[i]
}

// isCall reports whether w is of a call step (an API call through the
// token manager), as opposed to an authorization or a logout.
func (w window) isCall() bool { return w.step.Step.Call != nil }
