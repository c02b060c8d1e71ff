package conformance

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
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
func needles(tokens, secrets []string, clientID string) []needle {
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
			if kind.name == "client secret" && clientID != "" {
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
// megabytes.
type finder struct {
	byPrefix map[uint64][]needle
}

func newFinder(ns []needle) *finder {
	f := &finder{byPrefix: make(map[uint64][]needle, len(ns))}
	for _, n := range ns {
		k := binary.LittleEndian.Uint64([]byte(n.text[:minNeedle]))
		f.byPrefix[k] = append(f.byPrefix[k], n)
	}
	return f
}

// hit is a needle found, with the line of text it was on.
type hit struct {
	needle
	line string
}

// find returns each needle found in text once, in the order first found;
// skip says which are known already.
func (f *finder) find(text []byte, skip func(needle) bool) []hit {
	var out []hit
	if len(f.byPrefix) == 0 {
		return nil
	}
	found := map[string]bool{}
	for i := 0; i+minNeedle <= len(text); i++ {
		candidates, ok := f.byPrefix[binary.LittleEndian.Uint64(text[i:])]
		if !ok {
			continue
		}
		for _, c := range candidates {
			if found[c.text] || !bytes.HasPrefix(text[i:], []byte(c.text)) || (skip != nil && skip(c)) {
				continue
			}
			found[c.text] = true
			start := bytes.LastIndexByte(text[:i], '\n') + 1
			end := bytes.IndexByte(text[i:], '\n')
			if end < 0 {
				end = len(text) - i
			}
			out = append(out, hit{needle: c, line: string(text[start : i+end])})
		}
	}
	return out
}

// masker replaces every form of the credentials with [MASKED].
func masker(ns []needle) *strings.Replacer {
	args := make([]string, 0, 2*len(ns))
	for _, n := range ns {
		args = append(args, n.text, "[MASKED]")
	}
	return strings.NewReplacer(args...)
}
