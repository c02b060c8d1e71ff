package conformance

import (
	"bytes"
	"encoding/binary"
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

// leak is a credential found in the part of the output a run did not keep.
type leak struct {
	kind  string // "token" or "client secret"
	value string
	line  string // the line it was on, as written
}

// output is a client's log as several processes write it at once. It keeps
// the beginning and the end; what it drops from between them is searched
// for the credentials given out so far before it goes, so that the leak
// check judges all of it.
type output struct {
	credentials func() (tokens, secrets []string)

	mu      sync.Mutex
	head    []byte
	tail    []byte
	dropped int64
	// before is the end of what precedes tail, read again with the next
	// stretch dropped.
	before []byte
	leaks  []leak
}

func newOutput(credentials func() (tokens, secrets []string)) *output {
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
// bytes on either side of it, and remembers each value found once. It reads
// the window once, looking each position's first 8 bytes up among the
// values', rather than once per value: a run can mint thousands of tokens,
// and the client waits on its stderr while this runs.
func (o *output) scan(stretch, after []byte) {
	window := make([]byte, 0, len(o.before)+len(stretch)+len(after))
	window = append(append(append(window, o.before...), stretch...), after...)
	o.before = bytes.Clone(window[max(0, len(o.before)+len(stretch)-leakOverlap) : len(o.before)+len(stretch)])
	tokens, secrets := o.credentials()
	byPrefix := map[uint64][]leak{}
	for _, kind := range []struct {
		name   string
		values []string
	}{{"token", tokens}, {"client secret", secrets}} {
		for _, v := range kind.values {
			if len(v) < 8 || o.found(v) {
				continue
			}
			key := binary.LittleEndian.Uint64([]byte(v[:8]))
			byPrefix[key] = append(byPrefix[key], leak{kind: kind.name, value: v})
		}
	}
	if len(byPrefix) == 0 {
		return
	}
	for i := 0; i+8 <= len(window); i++ {
		candidates, ok := byPrefix[binary.LittleEndian.Uint64(window[i:])]
		if !ok {
			continue
		}
		for _, c := range candidates {
			if !bytes.HasPrefix(window[i:], []byte(c.value)) || o.found(c.value) {
				continue
			}
			start := bytes.LastIndexByte(window[:i], '\n') + 1
			end := bytes.IndexByte(window[i:], '\n')
			if end < 0 {
				end = len(window) - i
			}
			c.line = string(window[start : i+end])
			o.leaks = append(o.leaks, c)
		}
	}
}

func (o *output) found(v string) bool {
	for _, l := range o.leaks {
		if l.value == v {
			return true
		}
	}
	return false
}

// result is the output kept, with a mark where bytes were dropped, how
// many were, and the leaks in them.
func (o *output) result() (string, int64, []leak) {
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
