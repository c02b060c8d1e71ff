package conformance

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
)

// outputKeep bounds what a run keeps of a client's output: its first and
// its last outputKeep/2 bytes. A client that logs without end must not
// take the harness's memory with it.
var outputKeep = 8 << 20

// outputLimit is how much of a client's output a report keeps: the end,
// where a failure's story usually is. A client process's error keeps as
// much of its standard error.
const outputLimit = 16 << 10

// answerKeep bounds each text of a client's answer the run keeps (a
// detail, a reason), and errorKeep the message of an error that ended a
// step or the run (the client's words and its stderr tail are in it): a
// client may answer every call with megabytes.
const (
	answerKeep = 4 << 10
	errorKeep  = 32 << 10
)

// leakOverlap is how far around a dropped stretch the leak scan reads, so
// that a credential cut by a boundary is still whole in one scan. Tokens
// and secrets are far shorter.
const leakOverlap = 8 << 10

// output is a client's log as several processes write it at once. It keeps
// the beginning and the end; what it drops from between them is searched
// for the credentials given out so far before it goes, so that the leak
// check judges all of it.
type output struct {
	credentials func() []needle

	mu      sync.Mutex
	head    []byte
	tail    []byte
	dropped int64
	// before is the end of what precedes tail, read again with the next
	// stretch dropped.
	before []byte
	// leaks are the credentials found in what was dropped, with the text
	// around each.
	leaks []hit
}

func newOutput(credentials func() []needle) *output {
	return &output{credentials: credentials}
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(p)
	if room := outputKeep/2 - len(o.head); room > 0 {
		k := min(room, len(p))
		o.head = append(o.head, p[:k]...)
		p = p[k:]
		if len(o.head) == outputKeep/2 {
			o.before = bytes.Clone(o.head[len(o.head)-min(leakOverlap, len(o.head)):])
		}
	}
	o.tail = append(o.tail, p...)
	// The tail may grow to twice what is kept before it is cut: dropping
	// in long stretches keeps the scans few.
	if len(o.tail) > outputKeep {
		o.trim()
	}
	return n, nil
}

// trim drops the tail down to its last outputKeep/2 bytes, scanning what
// goes. Where a credential straddles a cut, it goes whole: the kept text
// never shows part of one, which Mask, replacing whole ones, would miss.
// o.mu must be held.
func (o *output) trim() {
	cut := len(o.tail) - outputKeep/2
	if cut <= 0 {
		return
	}
	f := newFinder(o.credentials())
	if o.dropped == 0 {
		// The head's end meets the first stretch dropped; the scan of it
		// reads those bytes again in before.
		keep := f.trimEnd(o.head)
		o.dropped += int64(len(o.head) - keep)
		o.head = o.head[:keep]
	}
	cut += f.trimStart(o.tail[cut:])
	o.scan(f, o.tail[:cut], o.tail[cut:min(len(o.tail), cut+leakOverlap)])
	o.dropped += int64(cut)
	o.tail = append(o.tail[:0], o.tail[cut:]...)
}

// scan looks for credentials in a stretch about to be dropped, with the
// bytes on either side of it, and remembers each form found once.
func (o *output) scan(f *finder, stretch, after []byte) {
	window := make([]byte, 0, len(o.before)+len(stretch)+len(after))
	window = append(append(append(window, o.before...), stretch...), after...)
	o.before = bytes.Clone(window[max(0, len(o.before)+len(stretch)-leakOverlap) : len(o.before)+len(stretch)])
	o.leaks = append(o.leaks, f.find(window, o.found)...)
}

func (o *output) found(n needle) bool {
	for _, l := range o.leaks {
		if l.text == n.text {
			return true
		}
	}
	return false
}

// kept is what an output kept of what a client wrote.
type kept struct {
	// text is the output kept, with a mark where bytes were dropped.
	text string
	// dropped is how many bytes were, and total how many were written.
	dropped, total int64
	// leaks are the credentials found in what was dropped.
	leaks []hit
}

// result is what the output kept.
func (o *output) result() kept {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.trim()
	k := kept{dropped: o.dropped, total: o.dropped + int64(len(o.head)+len(o.tail)), leaks: o.leaks}
	if o.dropped == 0 {
		k.text = string(o.head) + string(o.tail)
		return k
	}
	var b strings.Builder
	b.Write(o.head)
	b.WriteString("\n" + leftOut(o.dropped, "the client's output", "here") + "\n")
	b.Write(o.tail)
	k.text = b.String()
	return k
}

// leftOut is the mark of a cut in a text oauthsim keeps.
func leftOut(n int64, of, where string) string {
	return fmt.Sprintf("[oauthsim: %d bytes of %s left out %s]", n, of, where)
}

// clip keeps the first keep bytes of s, cut where no credential of f is cut
// in two, and says how many bytes it left out.
func clip(f *finder, s string, keep int, of string) string {
	if len(s) <= keep {
		return s
	}
	n := runeEnd([]byte(s), 0, f.trimEnd([]byte(s[:keep])))
	return s[:n] + " " + leftOut(int64(len(s)-n), of, "here")
}

// clipped is an error whose message was clipped; it still wraps the error.
type clipped struct {
	msg string
	err error
}

func (e *clipped) Error() string { return e.msg }
func (e *clipped) Unwrap() error { return e.err }

// clipError bounds err's message to errorKeep bytes; f gives the finder
// of the credentials, needed only then.
func clipError(f func() *finder, err error) error {
	if err == nil || len(err.Error()) <= errorKeep {
		return err
	}
	return &clipped{msg: clip(f(), err.Error(), errorKeep, "this message"), err: err}
}

// outputTail is the end of the client's output that a report shows, at
// most outputLimit bytes from the start of a line (or, in a line longer
// than that, from where no credential is cut), masked, and with how much
// was left out before it.
func (r *Record) outputTail() string {
	out := r.Output
	if len(out) <= outputLimit && r.OutputDropped == 0 {
		return r.Mask(out)
	}
	tail := []byte(out[max(0, len(out)-outputLimit):])
	if i := bytes.IndexByte(tail, '\n'); i >= 0 {
		tail = tail[i+1:]
	} else {
		tail = tail[runeStart(tail, newFinder(r.needles()).trimStart(tail), len(tail)):]
	}
	return leftOut(r.outputTotal-int64(len(tail)), "the client's output", "before this") + "\n" + r.Mask(string(tail))
}
