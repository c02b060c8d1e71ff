package conformance

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// outputKeep bounds what a run keeps of a client's output: its first and
// its last outputKeep/2 bytes. A client that logs without end must not
// take the harness's memory with it.
var outputKeep = 8 << 20

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
	// leaks are the credentials found in what was dropped, with the line
	// each was on, as written.
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
// goes. o.mu must be held.
func (o *output) trim() {
	cut := len(o.tail) - outputKeep/2
	if cut <= 0 {
		return
	}
	o.scan(o.tail[:cut], o.tail[cut:min(len(o.tail), cut+leakOverlap)])
	o.dropped += int64(cut)
	o.tail = append(o.tail[:0], o.tail[cut:]...)
}

// scan looks for credentials in a stretch about to be dropped, with the
// bytes on either side of it, and remembers each form found once.
func (o *output) scan(stretch, after []byte) {
	window := make([]byte, 0, len(o.before)+len(stretch)+len(after))
	window = append(append(append(window, o.before...), stretch...), after...)
	o.before = bytes.Clone(window[max(0, len(o.before)+len(stretch)-leakOverlap) : len(o.before)+len(stretch)])
	o.leaks = append(o.leaks, newFinder(o.credentials()).find(window, o.found)...)
}

func (o *output) found(n needle) bool {
	for _, l := range o.leaks {
		if l.text == n.text {
			return true
		}
	}
	return false
}

// result is the output kept, with a mark where bytes were dropped, how
// many were, and the leaks in them.
func (o *output) result() (string, int64, []hit) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.trim()
	if o.dropped == 0 {
		return string(o.head) + string(o.tail), 0, nil
	}
	var b strings.Builder
	b.Write(o.head)
	fmt.Fprintf(&b, "\n[oauthsim: %s bytes of the client's output left out here]\n", strconv.FormatInt(o.dropped, 10))
	b.Write(o.tail)
	return b.String(), o.dropped, o.leaks
}
