package fault

import (
	"fmt"
	"net/http"
	"slices"
)

// Malformed serves the request and then spoils the answer (see Mode).
const Malformed Kind = "malformed"

// Malformed modes.
const (
	// ModeTruncate cuts the body in half: JSON that does not parse.
	ModeTruncate = "truncate"
	// ModeContentType keeps the body and labels it text/html.
	ModeContentType = "content_type"
	// ModeNotJSON replaces the body with an HTML page, keeping the status.
	ModeNotJSON = "not_json"
	// ModeEmpty keeps the status and headers and sends no body.
	ModeEmpty = "empty"
)

// MalformedEffect is a malformed fault.
type MalformedEffect struct {
	// Mode is how the answer is spoiled: truncate, content_type, not_json or empty.
	Mode string `json:"mode,omitempty" yaml:"mode,omitempty"`
}

// Kind implements Effect.
func (MalformedEffect) Kind() Kind { return Malformed }

func (e MalformedEffect) validate(_ *Match, bad badFunc) {
	modes := []string{ModeTruncate, ModeContentType, ModeNotJSON, ModeEmpty}
	if !slices.Contains(modes, e.Mode) {
		bad("mode", "must be one of %s, got %q", list(modes), e.Mode)
	}
}

// Spoil spoils the answer by the mode.
func (e MalformedEffect) Spoil(_ Exchange, a Held) string {
	var detail string
	switch e.Mode {
	case ModeTruncate:
		a.Body.Truncate(a.Body.Len() / 2)
		detail = fmt.Sprintf("cut the body to %d bytes", a.Body.Len())
	case ModeContentType:
		a.Header.Set("Content-Type", "text/html; charset=utf-8")
		detail = "labelled the body text/html"
	case ModeNotJSON:
		a.Header.Set("Content-Type", "text/html; charset=utf-8")
		a.Body.Reset()
		fmt.Fprintf(a.Body, "<html><head><title>%d %s</title></head><body><h1>%[2]s</h1></body></html>\n", a.Status, http.StatusText(a.Status))
		detail = "replaced the body with an HTML page"
	case ModeEmpty:
		a.Body.Reset()
		detail = "sent no body"
	}
	return fmt.Sprintf("%s of a %d answer", detail, a.Status)
}

// LosesAnswer implements Spoiler: a wrong Content-Type alone leaves the
// tokens readable.
func (e MalformedEffect) LosesAnswer() bool { return e.Mode != ModeContentType }
