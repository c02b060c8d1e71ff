// Package yamldoc holds what the readers of oauthsim's YAML files share:
// parsing that places every problem at a line and column, error messages
// that point into the file, and key lookup in yaml nodes.
package yamldoc

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/agnivade/levenshtein"
	"go.yaml.in/yaml/v4"
)

// Parse reads data, the YAML file at path, as node trees: doc is the first
// document's (an empty document at line 1, column 1 when the file holds
// none), more those after it. Every problem comes back as
// path:line:column: message, one line each, even those yaml gives no place:
// a byte that is not UTF-8 text, and a scalar its explicit tag does not fit
// (`!!int x`). Decode the nodes with Decode.
func Parse(path string, data []byte) (doc *yaml.Node, more []*yaml.Node, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var d yaml.Node
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, Locate(path, placed(data, err))
		}
		docs = append(docs, &d)
	}
	if len(docs) == 0 {
		docs = append(docs, &yaml.Node{Kind: yaml.DocumentNode, Line: 1, Column: 1})
	}
	var ps []*yaml.LoadError
	for _, d := range docs {
		ps = append(ps, check(d)...)
	}
	if len(ps) > 0 {
		return nil, nil, Locate(path, Problems(ps...))
	}
	return docs[0], docs[1:], nil
}

// placed gives a parse error from yaml the place to show: the byte
// offset of a reader error (bad UTF-8, a control character), which yaml
// leaves without a line, as line and column; and for a construct the file
// ends inside of (an unclosed [, { or quote), where it opens rather than
// the end of the file. The construct yaml was reading goes in the message.
func placed(data []byte, err error) error {
	ps, ok := Split(err)
	if !ok || len(ps) != 1 {
		return err
	}
	p := *ps[0]
	if p.Mark.Line == 0 {
		p.Mark.Line, p.Mark.Column = position(data, p.Mark.Index)
	}
	endLine, endColumn := position(data, len(data))
	atEnd := p.Mark.Line > endLine || (p.Mark.Line == endLine && p.Mark.Column >= endColumn)
	context := p.ContextMsg != "" && p.ContextMark.Line > 0 && p.ContextMark != p.Mark
	switch {
	case context && atEnd:
		p.Message = fmt.Sprintf("%s (%s that starts here and runs to the end of the file)", p.Message, p.ContextMsg)
		p.Mark = p.ContextMark
	case context:
		p.Message = fmt.Sprintf("%s (%s at %d:%d)", p.Message, p.ContextMsg, p.ContextMark.Line, p.ContextMark.Column)
	case atEnd:
		p.Message += " at the end of the file"
	}
	p.ContextMsg, p.ContextMark = "", yaml.Mark{}
	return &p
}

// position is the line and column, from 1, of the byte at offset in data,
// counted as yaml counts them: a column a character, and a line break at
// LF, CR, CR LF, NEL, LS or PS.
func position(data []byte, offset int) (line, column int) {
	line, column = 1, 1
	text := string(data[:min(max(offset, 0), len(data))])
	for i, r := range text {
		switch r {
		case '\r':
			if i+1 < len(text) && text[i+1] == '\n' {
				continue // the LF after it ends the line
			}
			line, column = line+1, 1
		case '\n', '\u0085', '\u2028', '\u2029':
			line, column = line+1, 1
		case '\ufeff':
			if i > 0 {
				column++
			} // a byte order mark at the start takes no column
		default:
			column++
		}
	}
	return line, column
}

// check finds, under n, what yaml would find only when it decodes: a key
// given twice in one mapping, which yaml finds by comparing each key with
// every other (minutes for a mapping of 100,000 keys), and a scalar its
// explicit tag does not fit (`!!int x`), which yaml gives no place and
// stops decoding at.
func check(n *yaml.Node) []*yaml.LoadError {
	var ps []*yaml.LoadError
	if n.Kind == yaml.ScalarNode && n.Style&yaml.TaggedStyle != 0 {
		var v any
		if err := n.Decode(&v); err != nil {
			msg := err.Error()
			if found, ok := Split(err); ok {
				msg = found[0].Message
			}
			ps = append(ps, At(n, "%s", msg))
		}
	}
	if n.Kind == yaml.MappingNode {
		type key struct {
			kind  yaml.Kind
			value string
		}
		seen := make(map[key]*yaml.Node, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if first, dup := seen[key{k.Kind, k.Value}]; dup {
				ps = append(ps, At(k, "mapping key %q already defined at %d:%d", k.Value, first.Line, first.Column))
				continue
			}
			seen[key{k.Kind, k.Value}] = k
		}
	}
	for _, c := range n.Content {
		ps = append(ps, check(c)...)
	}
	return ps
}

// Decode decodes n into v as n.Decode does, with opts, and without yaml's
// own duplicate-key check: Parse has done it in one pass.
func Decode(n *yaml.Node, v any, opts ...yaml.Option) error {
	return n.Load(v, append([]yaml.Option{yaml.WithV3Defaults(), yaml.WithUniqueKeys(false)}, opts...)...)
}

// At is a problem at node n, to collect and hand to Problems.
func At(n *yaml.Node, format string, args ...any) *yaml.LoadError {
	return &yaml.LoadError{
		Stage:   yaml.ConstructorStage,
		Mark:    yaml.Mark{Line: n.Line, Column: n.Column},
		Message: fmt.Sprintf(format, args...),
	}
}

// Problems is the error an UnmarshalYAML returns for problems it found
// (nil for none): as a *yaml.LoadErrors, it lets the decoder go on and
// report the rest of the file too, each problem at its own place.
func Problems(ps ...*yaml.LoadError) error {
	if len(ps) == 0 {
		return nil
	}
	return &yaml.LoadErrors{Errors: ps}
}

// Split lists the problems in err, an error from yaml or from Problems,
// each with its place; ok is false when err is neither.
func Split(err error) ([]*yaml.LoadError, bool) {
	var les *yaml.LoadErrors
	if errors.As(err, &les) {
		return les.Errors, true
	}
	var le *yaml.LoadError
	if errors.As(err, &le) {
		return []*yaml.LoadError{le}, true
	}
	return nil, false
}

// Sorted orders problems by where in the file they point, so that a reader
// goes through the file once.
func Sorted(ps []*yaml.LoadError) []*yaml.LoadError {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b *yaml.LoadError) int {
		return cmp.Or(cmp.Compare(a.Mark.Line, b.Mark.Line), cmp.Compare(a.Mark.Column, b.Mark.Column))
	})
	return out
}

// Locate writes the problems in err, an error from yaml or from Problems,
// as "path:line:column: message", one line each (a message of several
// lines gives each the place), so that editors and terminals can jump to
// them. Any other error is prefixed with the path.
func Locate(path string, err error) error {
	ps, ok := Split(err)
	if !ok {
		return fmt.Errorf("%s: %w", path, err)
	}
	var lines []string
	for i, p := range ps {
		line, column := max(p.Mark.Line, 1), max(p.Mark.Column, 1)
		if i == MaxProblems {
			lines = append(lines, fmt.Sprintf("%s:%d:%d: and %d more problems from here on", path, line, column, len(ps)-i))
			break
		}
		for _, msg := range strings.Split(p.Message, "\n") {
			lines = append(lines, fmt.Sprintf("%s:%d:%d: %s", path, line, column, msg))
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}

// MaxProblems is how many problems of one file Locate writes out: a file
// of a million misspelt keys needs fixing as much as one of a hundred, and
// its messages must not take a gigabyte.
const MaxProblems = 100

// Root is the top node of a document: its content, or n itself when n is
// not a document node or the document is empty.
func Root(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// Child is the value of key in the mapping n, or nil.
func Child(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// Key finds the key node of a dotted key path ("match.nth") in the mapping
// n, or the deepest mapping on the way when a key is absent: where a
// message about that setting belongs.
func Key(n *yaml.Node, path string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return n
	}
	head, rest, nested := strings.Cut(path, ".")
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == head {
			if nested && n.Content[i+1].Kind == yaml.MappingNode {
				return Key(n.Content[i+1], rest)
			}
			return n.Content[i]
		}
	}
	return n
}

// UnknownKeys lists, as "unknown field ..." problems at the key, the keys
// of the mapping n that name no field of the struct type t (by yaml tag),
// and those of the mappings below it for struct fields. what names n in
// the messages ("a fault"); nested mappings are named by their key path. A
// misspelt key is an error rather than a setting dropped in silence, and
// yaml's own KnownFields check does not say which keys it knows.
func UnknownKeys(n *yaml.Node, t reflect.Type, what string) []*yaml.LoadError {
	return UnknownKeysOf(n, fieldKeys(t), what)
}

// UnknownKeysOf is UnknownKeys for a mapping whose keys are not one struct's
// fields: fields maps each key it takes to the type of its value (a fault's
// keys are its own and those of every kind's parameters).
func UnknownKeysOf(n *yaml.Node, fields map[string]reflect.Type, what string) []*yaml.LoadError {
	return unknownKeys(n, fields, what, "")
}

// UnknownField is the problem of the key k, which is none of known (the
// fields of what it is in, named by where): it names the field, the fields
// there are, and the one meant where k is a slip of the keyboard away.
func UnknownField(k *yaml.Node, where string, known []string) *yaml.LoadError {
	if m := closest(k.Value, known); m != "" {
		return At(k, "unknown field %q in %s: did you mean %q? (fields: %s)", k.Value, where, m, strings.Join(known, ", "))
	}
	return At(k, "unknown field %q in %s (fields: %s)", k.Value, where, strings.Join(known, ", "))
}

// closest is the name in names nearest to s, where it is near enough to
// be what s meant: at most 2 edits, and fewer than half the letters of s;
// failing that, the one name that ends in s as a word ("secret" for
// client_secret, "id" for client_id), or else the one that has it as a word.
func closest(s string, names []string) string {
	lower := strings.ToLower(s)
	best, bestDist := "", 3
	var word, last []string
	for _, n := range names {
		if d := levenshtein.ComputeDistance(lower, n); d < bestDist && 2*d < len([]rune(s)) {
			best, bestDist = n, d
		}
		if slices.Contains(strings.Split(n, "_"), lower) {
			word = append(word, n)
		}
		if strings.HasSuffix(n, "_"+lower) {
			last = append(last, n)
		}
	}
	switch {
	case best != "":
		return best
	case len(last) == 1:
		return last[0]
	case len(word) == 1:
		return word[0]
	}
	return ""
}

// Keys lists the yaml keys of struct type t, inline structs included,
// sorted.
func Keys(t reflect.Type) []string { return slices.Sorted(maps.Keys(fieldKeys(t))) }

// fieldKeysByType and structFieldsByType hold what fieldKeys and
// structFields found for each type: a file of thousands of steps asks for
// the same few types' keys thousands of times.
var fieldKeysByType, structFieldsByType sync.Map

// fieldKeys maps the yaml keys of struct type t to their types, inline
// structs included. The map is shared: it must not be changed.
func fieldKeys(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldKeysByType.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	f := map[string]reflect.Type{}
	for key, sf := range structFields(t) {
		f[key] = sf.Type
	}
	fieldKeysByType.Store(t, f)
	return f
}

// structFields maps the yaml keys of struct type t to its fields, inline
// structs included. The map is shared: it must not be changed.
func structFields(t reflect.Type) map[string]reflect.StructField {
	if f, ok := structFieldsByType.Load(t); ok {
		return f.(map[string]reflect.StructField)
	}
	f := map[string]reflect.StructField{}
	fieldsOf(t, f)
	structFieldsByType.Store(t, f)
	return f
}

// unmarshaler is the interface of types that read, and check, their own keys.
var unmarshaler = reflect.TypeFor[yaml.Unmarshaler]()

// fieldsOf maps t's yaml keys to its fields, inline structs included.
func fieldsOf(t reflect.Type, fields map[string]reflect.StructField) {
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		switch {
		case opts == "inline" && sf.Type.Kind() == reflect.Struct:
			fieldsOf(sf.Type, fields)
		case name != "" && name != "-":
			fields[name] = sf
		}
	}
}

func unknownKeys(n *yaml.Node, fields map[string]reflect.Type, what, prefix string) []*yaml.LoadError {
	where := what
	if prefix != "" {
		where = strings.TrimSuffix(prefix, ".")
	}
	var ps []*yaml.LoadError
	var known []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ft, ok := fields[k.Value]
		if !ok {
			if known == nil {
				known = slices.Sorted(maps.Keys(fields))
			}
			ps = append(ps, UnknownField(k, where, known))
			continue
		}
		ps = append(ps, below(v, ft, what, prefix+k.Value)...)
	}
	return ps
}

// below checks the keys of v, the value of a field of type t at path:
// a struct's mapping, a pointed-to struct's, or each item of a list of
// structs. A type with its own UnmarshalYAML checks its own keys.
func below(v *yaml.Node, t reflect.Type, what, path string) []*yaml.LoadError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return nil
	}
	switch {
	case t.Kind() == reflect.Struct && v.Kind == yaml.MappingNode:
		return unknownKeys(v, fieldKeys(t), what, path+".")
	case t.Kind() == reflect.Slice && v.Kind == yaml.SequenceNode:
		var ps []*yaml.LoadError
		for i, item := range v.Content {
			ps = append(ps, below(item, t.Elem(), what, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return ps
	}
	return nil
}
