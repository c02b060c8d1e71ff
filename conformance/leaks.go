package conformance

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"
)

// A needle is one form a credential may take in what a client writes: the
// value itself, or an encoding of it that hides it from a plain search.
type needle struct {
	text string
	of   string // the credential as issued
	kind string // "token" or "client secret"
	form string // "" for the value as issued, else how it is encoded
}

// minNeedle is the shortest text searched for: shorter ones would turn up
// by chance, and no token or secret the simulator issues is that short.
const minNeedle = 8

// needles lists every form of the credentials to look for: each token and
// secret as issued, JSON-escaped, URL-encoded, in base64 (standard and
// URL-safe, at each of the three alignments it can have inside a longer
// encoded text) and in hex; and each secret inside an HTTP Basic
// credential, the base64 of client id and secret (RFC 6749 §2.3.1 has both
// form-encoded first; clients also send them raw).
func needles(tokens, secrets []string, clientIDs ...string) []needle {
	var out []needle
	seen := map[string]bool{}
	var of string
	add := func(text, kind, form string) {
		if len(text) >= minNeedle && !seen[text] {
			seen[text] = true
			out = append(out, needle{text: text, of: of, kind: kind, form: form})
		}
	}
	for _, kind := range []struct {
		name   string
		values []string
	}{{"token", tokens}, {"client secret", secrets}} {
		for _, v := range kind.values {
			if len(v) < minNeedle {
				continue
			}
			of = v
			add(v, kind.name, "")
			if b, err := json.Marshal(v); err == nil {
				add(string(b[1:len(b)-1]), kind.name, "JSON-escaped")
			}
			add(url.QueryEscape(v), kind.name, "URL-encoded")
			for _, enc := range []struct {
				name string
				enc  *base64.Encoding
			}{{"base64", base64.RawStdEncoding}, {"base64url", base64.RawURLEncoding}} {
				for _, s := range aligned(enc.enc, v) {
					add(s, kind.name, enc.name)
				}
			}
			add(hex.EncodeToString([]byte(v)), kind.name, "hex")
			add(strings.ToUpper(hex.EncodeToString([]byte(v))), kind.name, "hex")
			for _, clientID := range clientIDs {
				if kind.name != "client secret" || clientID == "" {
					continue
				}
				for _, pair := range []string{clientID + ":" + v, url.QueryEscape(clientID) + ":" + url.QueryEscape(v)} {
					add(base64.StdEncoding.EncodeToString([]byte(pair)), kind.name, "an HTTP Basic credential")
				}
			}
		}
	}
	return out
}

// aligned is v encoded by enc as it shows inside the encoding of a longer
// text that holds it at each offset modulo 3: the characters that depend
// on v's bytes alone.
func aligned(enc *base64.Encoding, v string) []string {
	var out []string
	for pad := range 3 {
		full := enc.EncodeToString(append(make([]byte, pad), v...))
		// The first characters mix in the padding's bits, the last the
		// bits of whatever follows v.
		from := (pad*8 + 5) / 6
		to := (pad + len(v)) * 8 / 6
		if to > from {
			out = append(out, full[from:to])
		}
	}
	return out
}

// finder finds needles in text in one pass, looking each position's first
// minNeedle bytes up among the needles': a run can mint thousands of
// tokens, each with a dozen forms, and a client's output can run to
// megabytes. It also finds where a cut through text would leave part of a
// needle showing, by the needles' last minNeedle bytes.
type finder struct {
	// pairs has a bit set for each needle's first two bytes: most
	// positions of a long text are passed over on it, before the map.
	pairs    [1 << 16 / 64]uint64
	byPrefix map[uint64][]needle
	bySuffix map[uint64][]needle
	// longest is the length of the longest needle.
	longest int
}

func newFinder(ns []needle) *finder {
	f := &finder{byPrefix: make(map[uint64][]needle, len(ns)), bySuffix: make(map[uint64][]needle, len(ns))}
	for _, n := range ns {
		pair := binary.LittleEndian.Uint16([]byte(n.text[:2]))
		f.pairs[pair/64] |= 1 << (pair % 64)
		f.byPrefix[prefixKey(n.text)] = append(f.byPrefix[prefixKey(n.text)], n)
		end := n.text[len(n.text)-minNeedle:]
		f.bySuffix[prefixKey(end)] = append(f.bySuffix[prefixKey(end)], n)
		f.longest = max(f.longest, len(n.text))
	}
	return f
}

// prefixKey is the map key of the first minNeedle bytes of s.
func prefixKey[T string | []byte](s T) uint64 {
	return binary.LittleEndian.Uint64([]byte(s[:minNeedle]))
}

// hit is a needle found, with a bounded excerpt of the text around it.
type hit struct {
	needle
	excerpt string
}

// excerptRadius is how much of the text on either side of a credential
// found a report quotes: enough to say where it was, and a client's line
// may run to megabytes.
const excerptRadius = 120

// find returns each needle found in text once, in the order first found;
// skip says which are known already.
func (f *finder) find(text []byte, skip func(needle) bool) []hit {
	var out []hit
	if len(f.byPrefix) == 0 {
		return nil
	}
	found := map[string]bool{}
	for i := 0; i+minNeedle <= len(text); i++ {
		if pair := binary.LittleEndian.Uint16(text[i:]); f.pairs[pair/64]&(1<<(pair%64)) == 0 {
			continue
		}
		candidates, ok := f.byPrefix[prefixKey(text[i:])]
		if !ok {
			continue
		}
		for _, c := range candidates {
			if found[c.text] || !bytes.HasPrefix(text[i:], []byte(c.text)) || (skip != nil && skip(c)) {
				continue
			}
			found[c.text] = true
			out = append(out, hit{needle: c, excerpt: f.excerpt(text, i, i+len(c.text))})
		}
	}
	return out
}

// excerpt is text[from:to] with up to excerptRadius bytes of its line on
// either side, an ellipsis where it cuts the line. A cut falls where it
// leaves no part of a credential showing (Mask hides whole ones only).
func (f *finder) excerpt(text []byte, from, to int) string {
	start := bytes.LastIndexByte(text[:from], '\n') + 1
	end := len(text)
	if i := bytes.IndexByte(text[to:], '\n'); i >= 0 {
		end = to + i
	}
	var b strings.Builder
	if from-start > excerptRadius {
		start = from - excerptRadius
		start += f.trimStart(text[start:from])
		start = runeStart(text, start, from)
		b.WriteString("…")
	}
	cut := end-to > excerptRadius
	if cut {
		end = to + f.trimEnd(text[to:to+excerptRadius])
		end = runeEnd(text, to, end)
	}
	b.Write(text[start:end])
	if cut {
		b.WriteString("…")
	}
	return b.String()
}

// trimEnd is how much of b to keep so that it does not end in the first
// bytes of a needle: b is cut there, and what follows is not shown. A
// piece shorter than minNeedle may stay, as it says nothing.
func (f *finder) trimEnd(b []byte) int {
	for i := max(0, len(b)-f.longest+1); i+minNeedle <= len(b); i++ {
		for _, c := range f.byPrefix[prefixKey(b[i:])] {
			if len(c.text) > len(b)-i && c.text[:len(b)-i] == string(b[i:]) {
				return i
			}
		}
	}
	return len(b)
}

// trimStart is how much of b to drop so that it does not start with the
// last bytes of a needle, as trimEnd is for its end.
func (f *finder) trimStart(b []byte) int {
	for j := min(len(b), f.longest-1); j >= minNeedle; j-- {
		for _, c := range f.bySuffix[prefixKey(b[j-minNeedle:])] {
			if len(c.text) > j && c.text[len(c.text)-j:] == string(b[:j]) {
				return j
			}
		}
	}
	return 0
}

// runeStart moves i forward, up to limit, to the start of a UTF-8
// character, and runeEnd moves i back, down to limit, to the end of one:
// a cut text stays valid UTF-8.
func runeStart(b []byte, i, limit int) int {
	for i < limit && !utf8.RuneStart(b[i]) {
		i++
	}
	return i
}

func runeEnd(b []byte, limit, i int) int {
	for i > limit && i < len(b) && !utf8.RuneStart(b[i]) {
		i--
	}
	return i
}

// masker replaces every form of the credentials with [MASKED].
func masker(ns []needle) *strings.Replacer {
	args := make([]string, 0, 2*len(ns))
	for _, n := range ns {
		args = append(args, n.text, "[MASKED]")
	}
	return strings.NewReplacer(args...)
}
