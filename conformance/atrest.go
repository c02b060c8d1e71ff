package conformance

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/ory/fosite"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/scenarios"
)

// StoredCredential is a credential found in the client's state directory
// in a form anyone can read: its value is never kept, only where and what.
type StoredCredential struct {
	// When says at which search it was first found: after which step, or
	// at the end of the run.
	When string
	// File is its path under the state directory.
	File string
	// Kind is what it is: an access token, a refresh token, an
	// authorization code, a client secret or a storage key.
	Kind string
	// Form is how it was written: "as issued", or its encoding.
	Form string
	// Seq is the last event of the provider's log when it was found.
	Seq uint64
}

// stateFileLimit bounds what is read of one file of the state directory:
// a token store is kilobytes, and a client that keeps a log there must not
// hold the run.
const stateFileLimit = 16 << 20

// searchState reads every regular file under the client's state directory
// and records each credential found there the first time it is found in
// that file, as at when. A directory that cannot be read is not the
// client's fault here: other checks see what it lost.
func (r *run) searchState(when string) {
	var files []string
	_ = filepath.WalkDir(r.env.StateDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	if len(files) == 0 {
		return
	}
	r.rec.StateFiles += len(files)
	f := newFinder(slices.Concat(r.credentials(), storageKeyNeedles(r.storageKeys)))
	for _, path := range files {
		data, err := readHead(path, stateFileLimit)
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(r.env.StateDir, path)
		for _, h := range f.find(data, func(n needle) bool { return r.stored[[2]string{rel, n.of}] }) {
			// One credential may show in two forms at one place (a key's
			// base64url is a prefix of its padded base64): the first will do.
			if r.stored[[2]string{rel, h.of}] {
				continue
			}
			r.stored[[2]string{rel, h.of}] = true
			form := h.form
			if form == "" {
				form = "as issued"
			}
			r.rec.AtRest = append(r.rec.AtRest, StoredCredential{When: when, File: rel, Kind: r.kindOf(h.needle), Form: form, Seq: r.srv.Events().Last()})
		}
	}
}

// readHead reads up to limit bytes of the file at path.
func readHead(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// kindOf names the credential a needle is a form of.
func (r *run) kindOf(n needle) string {
	if n.kind != "token" {
		return n.kind
	}
	r.mu.Lock()
	kind := r.kinds[n.of]
	r.mu.Unlock()
	switch kind {
	case fosite.AccessToken:
		return "access token"
	case fosite.RefreshToken:
		return "refresh token"
	case fosite.AuthorizeCode:
		return "authorization code"
	}
	return "token"
}

// storageKeyNeedles are the forms of the client's storage keys to look for
// in its state directory: a key kept beside what it encrypts protects
// nothing. The raw bytes, and the key as the key file writes it, in
// base64url and in hex.
func storageKeyNeedles(keys []contract.StorageKey) []needle {
	var out []needle
	for _, k := range keys {
		of := string(k.Key)
		out = append(out,
			needle{text: of, of: of, kind: "storage key"},
			needle{text: base64.StdEncoding.EncodeToString(k.Key), of: of, kind: "storage key", form: "base64"},
			needle{text: base64.RawURLEncoding.EncodeToString(k.Key), of: of, kind: "storage key", form: "base64url"},
			needle{text: hex.EncodeToString(k.Key), of: of, kind: "storage key", form: "hex"})
	}
	return out
}

// Glued is implemented by a client whose hello lists glue (PROTOCOL.md,
// The hello): what an adapter's own code does, not its library's.
type Glued interface {
	Glue() []string
}

// judgeNoPlainTextAtRest fails a run in whose state directory a token, a
// secret or a storage key was found in plain text or a plain encoding.
func judgeNoPlainTextAtRest(r *Record) Judgement {
	j := Judgement{Applies: r.StateFiles > 0}
	if len(r.AtRest) == 0 {
		return j
	}
	declared := slices.Contains(r.Client.Capabilities(), contract.CapEncryptsAtRest)
	glue := false
	if g, ok := r.Client.(Glued); ok {
		glue = slices.Contains(g.Glue(), contract.GlueStorage)
	}
	who := "the client stores"
	if glue {
		who = "the adapter's glue (not the library: its hello lists glue: storage) stores"
	}
	for _, c := range r.AtRest {
		msg := fmt.Sprintf("%s: %s %s in plain text in %s", c.When, who, scenarios.WithArticle(c.Kind), c.File)
		if c.Form != "as issued" {
			msg += " (" + c.Form + ")"
		}
		if declared {
			msg += ", though its hello declares " + string(contract.CapEncryptsAtRest)
		}
		j.Failures = append(j.Failures, msg)
		j.Events = append(j.Events, c.Seq)
	}
	return j
}
