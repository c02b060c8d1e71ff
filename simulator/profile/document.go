package profile

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/internal/yamldoc"
)

// Annotation keys: the words of a profile document that are about a value
// rather than a value.
const (
	keyValue       = "value"
	keySource      = "source"
	keyUnconfirmed = "unconfirmed"
	keyBase        = "base"
)

// Parse reads a profile document and checks the profile it describes. file
// names the document in error messages, which read file:line:column: message.
//
// A profile document is YAML with the keys of Profile. So that a reader can
// check each value against what the provider documents, any value may be
// written together with where it comes from:
//
//	access_token_lifetime: {value: 3599s, source: "developers.google.com/... (expires_in 3599)"}
//	refresh:
//	  idle_timeout: {value: 15d, source: "commonly configured", unconfirmed: true}
//
// and any mapping may carry source and unconfirmed keys, which cover every
// value written beneath it that does not carry its own:
//
//	responses:
//	  refresh_token_invalid:
//	    source: "support.auth0.com: Troubleshoot Refresh Token Unknown or Invalid"
//	    status: 403
//	    body: '{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}'
//
// The sources end up in Profile.Sources, one for each value, by dotted path
// ("refresh.idle_timeout", "responses.refresh_token_invalid.status").
// Being annotation words, value, source and unconfirmed cannot name
// response headers. A document may start with base: NAME to inherit a
// built-in profile and write only what differs.
func Parse(file string, data []byte) (Profile, error) {
	return parse(file, data, Builtin)
}

// parse is Parse with the profiles a base key may name given by lookup,
// so that the built-in profiles can inherit from each other while loading.
func parse(file string, data []byte, lookup func(name string) (Profile, error)) (Profile, error) {
	doc, _, err := yamldoc.Parse(file, data)
	if err != nil {
		return Profile{}, err
	}
	root := yamldoc.Root(doc)
	if root.Kind != yaml.MappingNode {
		return Profile{}, fmt.Errorf("%s:%d:%d: a profile document is a mapping of settings", file, max(root.Line, 1), max(root.Column, 1))
	}
	var start Profile
	if b := yamldoc.Child(root, keyBase); b != nil {
		if start, err = lookup(b.Value); err != nil {
			return Profile{}, fmt.Errorf("%s:%d:%d: base: %w", file, b.Line, b.Column, err)
		}
	}
	p, err := Override(start, root, nil)
	if err != nil {
		return Profile{}, yamldoc.Locate(file, err)
	}
	if ps := p.ValidateAt(root); len(ps) > 0 {
		return Profile{}, yamldoc.Locate(file, yamldoc.Problems(ps...))
	}
	return p, nil
}

// ValidateAt checks p as Validate does, and places each problem it finds at
// the key of the profile mapping n that the problem names (refresh.grace),
// or at n when the mapping does not set it: the profile it came from does.
func (p Profile) ValidateAt(n *yaml.Node) []*yaml.LoadError {
	err := p.Validate()
	if err == nil {
		return nil
	}
	var ps []*yaml.LoadError
	for _, line := range strings.Split(err.Error(), "\n") {
		ps = append(ps, yamldoc.At(yamldoc.Key(n, setting(line)), "%s", line))
	}
	return ps
}

// setting is the dotted path of the setting a line of Validate's message
// is about: "refresh.grace" for `profile "x": refresh.grace must be
// positive, got 0s`.
func setting(line string) string {
	if rest, ok := strings.CutPrefix(line, "profile "); ok {
		_, line, _ = strings.Cut(rest, ": ")
	}
	if end := strings.IndexAny(line, " :["); end >= 0 {
		return line[:end]
	}
	return line
}

// Override returns p with the values of the profile mapping n written over
// it, and their sources in place of p's: a value written with no source of
// its own gets fallback's (nil: none). A response written in n replaces p's
// whole response for that situation, and deviations replace p's list; every
// other value replaces just itself. A base key in n is not read: it names
// p, which the caller has already looked up.
//
// Errors are yamldoc.Problems, each at its line and column, so that a yaml
// Unmarshaler can return them and the decoder reports them with its own.
func Override(p Profile, n *yaml.Node, fallback *Source) (Profile, error) {
	r := reader{sources: map[string]Source{}}
	clean := r.node(yamldoc.Root(n), reflect.TypeFor[Profile](), "", fallback)
	out := p.Clone()
	if clean != nil {
		if err := yamldoc.Decode(clean, &out); err != nil {
			ps, ok := yamldoc.Split(err)
			if !ok {
				return p, err
			}
			r.errs = append(r.errs, ps...)
		}
	}
	if len(r.errs) > 0 {
		return p, yamldoc.Problems(r.errs...)
	}
	for _, path := range r.written {
		maps.DeleteFunc(out.Sources, func(k string, _ Source) bool { return k == path || strings.HasPrefix(k, path+".") })
	}
	if len(r.sources) > 0 && out.Sources == nil {
		out.Sources = map[string]Source{}
	}
	maps.Copy(out.Sources, r.sources)
	return out, nil
}

// reader turns a profile document into one the yaml decoder can take,
// without the annotations, and keeps the sources they give. It follows the
// Profile type as it goes, so that it knows a setting from a map key and
// can tell an unknown key from a header name.
type reader struct {
	sources map[string]Source
	// written holds the paths the document sets: values, and map entries,
	// which the decoder replaces whole. Their old sources no longer apply.
	written []string
	errs    []*yaml.LoadError
}

func (r *reader) fail(n *yaml.Node, format string, args ...any) {
	r.errs = append(r.errs, yamldoc.At(n, format, args...))
}

// node returns n without annotations, for the decoder to read into a value
// of type t at path; nil when there is nothing left to read.
func (r *reader) node(n *yaml.Node, t reflect.Type, path string, src *Source) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	n, src = r.annotation(n, path, src)
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		return r.entries(n, path, src, func(key *yaml.Node) (reflect.Type, bool) {
			if path == "" && key.Value == keyBase {
				return nil, false
			}
			f, ok := fieldByKey(t, key.Value)
			if !ok {
				known := yamldoc.Keys(t)
				if path == "" {
					known = slices.Sorted(slices.Values(append([]string{keyBase}, known...)))
				}
				r.errs = append(r.errs, yamldoc.UnknownField(key, cmp.Or(path, "profile"), known))
			}
			return f.Type, ok
		})
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		return r.entries(n, path, src, func(key *yaml.Node) (reflect.Type, bool) {
			r.written = append(r.written, join(path, key.Value))
			return t.Elem(), true
		})
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		return n // not a mapping: the decoder says what it expected
	case n.Kind == yaml.MappingNode:
		r.fail(n, "%s takes a single value, written alone or as {value: ..., source: ...}", path)
		return nil
	}
	r.written = append(r.written, path)
	if src != nil {
		r.sources[path] = *src
	}
	return n
}

// entries cleans each entry of the mapping n whose key elem accepts,
// reading it as the type elem returns; src covers the entries.
func (r *reader) entries(n *yaml.Node, path string, src *Source, elem func(key *yaml.Node) (reflect.Type, bool)) *yaml.Node {
	out := *n
	out.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		t, ok := elem(k)
		if !ok {
			continue
		}
		if clean := r.node(v, t, join(path, k.Value), src); clean != nil {
			out.Content = append(out.Content, k, clean)
		}
	}
	return &out
}

// annotation takes the annotation keys off n. {value: V, source: S,
// unconfirmed: U} stands for V with its source; the source and
// unconfirmed keys of any other mapping cover what it holds. Without an
// annotation, n keeps the source it inherits.
func (r *reader) annotation(n *yaml.Node, path string, inherited *Source) (*yaml.Node, *Source) {
	if n.Kind != yaml.MappingNode {
		return n, inherited
	}
	var value, ref, unconfirmed *yaml.Node
	rest := make([]*yaml.Node, 0, len(n.Content))
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k, v := n.Content[i], n.Content[i+1]; k.Value {
		case keyValue:
			value = v
		case keySource:
			ref = v
		case keyUnconfirmed:
			unconfirmed = v
		default:
			rest = append(rest, k, v)
		}
	}
	if value == nil && ref == nil && unconfirmed == nil {
		return n, inherited
	}
	src := inherited
	switch {
	case ref == nil && unconfirmed != nil:
		r.fail(n, "%s: unconfirmed needs a source that says what is known", cmp.Or(path, "profile"))
	case ref == nil: // {value: V} alone is V
	case ref.Kind != yaml.ScalarNode || strings.TrimSpace(ref.Value) == "":
		r.fail(ref, "%s: source must be a text naming where the value comes from", cmp.Or(path, "profile"))
	default:
		src = &Source{Ref: ref.Value}
		if unconfirmed != nil {
			if err := unconfirmed.Decode(&src.Unconfirmed); err != nil {
				r.fail(unconfirmed, "%s: unconfirmed must be true or false", cmp.Or(path, "profile"))
			}
		}
	}
	if value == nil {
		out := *n
		out.Content = rest
		return &out, src
	}
	if len(rest) > 0 {
		r.fail(rest[0], "%s: a value written with its source takes only the keys value, source and unconfirmed", path)
	}
	return value, src
}
