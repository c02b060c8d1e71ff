package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrSchemaVersion is returned by ReadJSON for a results.json in a format
// this version of oauthsim does not know, so that a caller can tell it from
// a damaged file.
var ErrSchemaVersion = errors.New("unsupported results schema version")

// WriteJSON writes r as indented JSON stamped with SchemaVersion: the
// format ReadJSON reads back and every other report can be redrawn from.
func WriteJSON(w io.Writer, r *Results) error {
	stamped := *r
	stamped.SchemaVersion = SchemaVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// People and jq read this file; nothing embeds it in HTML.
	enc.SetEscapeHTML(false)
	return enc.Encode(&stamped)
}

// ReadJSON reads a results.json written by WriteJSON. It refuses a file of
// another schema version with ErrSchemaVersion before decoding the rest,
// since a changed field would otherwise surface as a confusing type error or,
// worse, be read with the wrong meaning. Unknown fields are ignored: adding
// one does not change the version.
func ReadJSON(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var probe struct {
		SchemaVersion *string `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("read results %s: %w", path, err)
	}
	switch {
	case probe.SchemaVersion == nil:
		return nil, fmt.Errorf("read results %s: no schema_version: %w (want %q)", path, ErrSchemaVersion, SchemaVersion)
	case *probe.SchemaVersion != SchemaVersion:
		return nil, fmt.Errorf("read results %s: %w %q: this oauthsim reads version %q", path, ErrSchemaVersion, *probe.SchemaVersion, SchemaVersion)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read results %s: %w", path, err)
	}
	return &r, nil
}
