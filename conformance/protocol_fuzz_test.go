package conformance

import (
	"bytes"
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
)

// FuzzProtocolLines feeds fuzzed standard output to the harness's reader
// of a client's lines, as if from a client with requests 1 and 2 open: it
// must never panic or block, must hand each request only the response with
// its id, and must pass on only JSON lines for the leak check; what it
// hands on must be safe to read as a hello and as results.
func FuzzProtocolLines(f *testing.F) {
	hello := `{"hello":{"protocol":1,"name":"fuzz","version":"1.0","capabilities":["refresh","wall_clock"]}}` + "\n"
	for _, seed := range []string{
		hello + `{"id":"1","outcome":"ok"}` + "\n" + `{"id":"2","outcome":"reauthorize","reason":"revoked","detail":"x"}` + "\n",
		hello + `{"id":"1","url":"http://127.0.0.1/authorize?state=x"}` + "\n",
		hello + "\n   \n" + `{"id":"2","outcome":"temporary_error"}` + "\r\n",
		hello + `{"id":"1","outcome":"nonsense"}` + "\n" + `{"id":"1","outcome":"ok"}` + "\n",
		hello + `{"error":"cannot read the request"}` + "\n",
		hello + `{"outcome":"ok"}` + "\n",
		hello + `{"id":"9","outcome":"ok"}` + "\n",
		hello + `{"id":1,"outcome":"ok"}` + "\n",
		hello + "not json\n",
		hello + `{"id":"1","outcome":"ok"}{"id":"2"}` + "\n",
		`{"hello":null}` + "\n",
		`{"hello":{"protocol":"x","capabilities":[1,2]}}` + "\n",
		`{"hello":{"capabilities":["wall_clock","faketime","teleport"]}}` + "\n",
		`{"id":"1","outcome":"ok"}` + "\n",
		"\xff\xfe\x00\n",
		`[]` + "\n" + `"hello"` + "\n",
		hello + `{"id":"1","detail":"` + string(bytes.Repeat([]byte("\\u0000"), 1000)) + `"}` + "\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, stdout []byte) {
		g := NewWithT(t)
		open := map[string]chan contract.Response{"1": make(chan contract.Response, 1), "2": make(chan contract.Response, 1)}
		p := &subprocess{pending: map[string]chan contract.Response{}, done: make(chan struct{})}
		for id, ch := range open {
			p.pending[id] = ch
		}
		hellos := make(chan contract.Hello, 1)
		var answers bytes.Buffer
		p.read(bytes.NewReader(stdout), hellos, &answers)
		select {
		case h := <-hellos:
			h.Features()
			h.Unknown()
			_, _ = h.Clock()
		default:
		}
		for id, ch := range open {
			select {
			case r := <-ch:
				g.Expect(r.ID).To(Equal(id))
				_, _ = outcome(r, nil)
			default:
			}
		}
		for _, line := range bytes.Split(bytes.TrimSuffix(answers.Bytes(), []byte("\n")), []byte("\n")) {
			if len(line) > 0 {
				g.Expect(json.Valid(line)).To(BeTrue(), "passed on %q", line)
			}
		}
	})
}
