package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"text/template"
	"time"
)

// Rendered is a Response with its templates executed, ready to write.
type Rendered struct {
	Status int
	// Header holds the response's headers and its Content-Type.
	Header http.Header
	Body   []byte
}

// Render executes the response's header and body templates over d. The
// Content-Type is ContentType, or application/json when that is empty, since
// RFC 6749 §5.2 error responses are JSON. Every template that fails is
// reported.
func (r Response) Render(d ResponseData) (Rendered, error) {
	out := Rendered{Status: r.Status, Header: http.Header{}}
	out.Header.Set("Content-Type", r.contentType())
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(r.Headers)) {
		v, err := execute("headers."+name, r.Headers[name], d)
		errs = append(errs, err)
		out.Header.Set(name, string(v))
	}
	body, err := execute("body", r.Body, d)
	out.Body = body
	return out, errors.Join(append(errs, err)...)
}

func (r Response) contentType() string {
	if r.ContentType == "" {
		return "application/json"
	}
	return r.ContentType
}

// execute runs one template. Unknown fields of ResponseData are errors
// rather than "<no value>", so that a typo in a data file fails validation.
func execute(name, text string, d ResponseData) ([]byte, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// sampleData is what Validate renders responses with: every field set, so
// that any template a response may use is exercised.
var sampleData = func() ResponseData {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return ResponseData{
		Now:               now,
		TraceID:           "3f1c2a9e-5b7d-4e21-9a0c-6d8e2f4b1a70",
		CorrelationID:     "8b2e4f6a-1c3d-4e5f-a7b9-0c2d4e6f8a1b",
		TokenIssuedAt:     now.Add(-91 * 24 * time.Hour),
		RetryAfterSeconds: 60,
		RetryAfterDate:    now.Add(time.Minute).Format(http.TimeFormat),
		ResetUnix:         now.Add(time.Minute).Unix(),
		Limit:             100,
		Remaining:         0,
	}
}()

// check reports what is wrong with a response, at names its place in the
// profile ("responses.rate_limited"): the status, templates that do not
// parse or run, and a JSON body that renders to something else.
func (r Response) check(at string) error {
	var errs []error
	if r.Status < 100 || r.Status > 599 {
		errs = append(errs, fmt.Errorf("%s.status must be between 100 and 599, got %d", at, r.Status))
	}
	out, err := r.Render(sampleData)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("%s: %w", at, err))...)
	}
	if isJSON(r.contentType()) {
		var v any
		if err := json.Unmarshal(out.Body, &v); err != nil {
			errs = append(errs, fmt.Errorf("%s.body must render to JSON for content_type %s: %w", at, r.contentType(), err))
		}
	}
	return errors.Join(errs...)
}

// isJSON says whether a media type is JSON: application/json or a +json type.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}
