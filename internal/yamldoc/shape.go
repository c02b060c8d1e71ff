package yamldoc

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Shape is what a value of a type that reads itself (a yaml.Unmarshaler)
// is written as, for Mismatches to say when a file writes it otherwise.
type Shape struct {
	// Kinds are the node kinds the type reads: ScalarNode for a duration,
	// ScalarNode and MappingNode for a count or a {min, max} range.
	Kinds []yaml.Kind
	// Want says what it takes, after "KEY takes": "a duration (90s, 10m,
	// 1h, 7d)".
	Want string
	// Example is a value to write after "KEY: ": "90s".
	Example string
}

// Shaped is a type that says what shape its values take in a file.
type Shaped interface{ YAMLShape() Shape }

var (
	shaped   = reflect.TypeFor[Shaped]()
	timeType = reflect.TypeFor[time.Time]()
)

// Mismatches lists, as problems at the value, the entries of the mapping n
// whose values have another shape than their field of the struct type t
// takes: a word where a mapping or a list goes, a list where a word goes, a
// word that is not a number, true or false where one goes. Each says what
// the field takes, with an example: a struct field's `example` tag (the
// value after "KEY: "), else one made from its type. It goes down into
// mappings of struct fields and into lists, as UnknownKeys does, and leaves
// the types that read themselves to themselves unless they are Shaped.
// yaml's own message for these ("cannot construct !!str `alice` into
// scenarios.Revoke") names Go types, which a writer of YAML need not know.
func Mismatches(n *yaml.Node, t reflect.Type) []*yaml.LoadError {
	return fieldMismatches(n, t, "")
}

// ValueMismatches is Mismatches for one value, v, written with the key
// key, of type t, with example as its example ("" for one made from t): for
// mappings whose keys are not one struct's fields.
func ValueMismatches(v *yaml.Node, t reflect.Type, key, example string) []*yaml.LoadError {
	return mismatches(v, t, key, key, example)
}

func fieldMismatches(n *yaml.Node, t reflect.Type, prefix string) []*yaml.LoadError {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	var ps []*yaml.LoadError
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := structFields(t)[k.Value]
		if !ok {
			continue // UnknownKeys reports it
		}
		ps = append(ps, mismatches(v, f.Type, prefix+k.Value, k.Value, f.Tag.Get("example"))...)
	}
	return ps
}

// mismatches checks v, the value of a field of type t at path (written
// with the key key), against what t takes; example is the field's own.
func mismatches(v *yaml.Node, t reflect.Type, path, key, example string) []*yaml.LoadError {
	for v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.ShortTag() == "!!null" {
		return nil // left as the zero value; what needs one says so
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	want := func(what, made string) []*yaml.LoadError {
		return []*yaml.LoadError{At(v, "%s takes %s, e.g. `%s: %s`", path, what, key, cmp.Or(example, made))}
	}
	if t.Implements(shaped) || reflect.PointerTo(t).Implements(shaped) {
		s := reflect.New(t).Interface().(Shaped).YAMLShape()
		if !slices.Contains(s.Kinds, v.Kind) {
			return want(s.Want, s.Example)
		}
		return nil
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return nil // it says itself what is wrong
	}
	switch {
	case t == timeType:
		if v.Kind != yaml.ScalarNode {
			return want("a time in RFC 3339", "2026-06-30T00:00:00Z")
		}
	case t.Kind() == reflect.Struct:
		if v.Kind != yaml.MappingNode {
			return []*yaml.LoadError{At(v, "%s takes a mapping, e.g. `%s: %s` (fields: %s)", path, key, cmp.Or(example, exampleOf(t)), strings.Join(Keys(t), ", "))}
		}
		return fieldMismatches(v, t, path+".")
	case t.Kind() == reflect.Slice:
		if v.Kind != yaml.SequenceNode {
			return want("a list", "["+exampleOf(t.Elem())+"]")
		}
		var ps []*yaml.LoadError
		for i, item := range v.Content {
			// An item's example is the list's, with the item in it.
			ps = append(ps, mismatches(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), key, cmp.Or(example, "["+exampleOf(t.Elem())+"]"))...)
		}
		return ps
	case t.Kind() == reflect.Map:
		if v.Kind != yaml.MappingNode {
			return want("a mapping", "{"+exampleOf(t.Key())+": "+exampleOf(t.Elem())+"}")
		}
		var ps []*yaml.LoadError
		for i := 0; i+1 < len(v.Content); i += 2 {
			k := v.Content[i].Value
			ps = append(ps, mismatches(v.Content[i+1], t.Elem(), path+"."+k, k, "")...)
		}
		return ps
	case t.Kind() == reflect.Bool:
		if v.ShortTag() != "!!bool" {
			return want("true or false", "true")
		}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		if v.ShortTag() != "!!int" {
			return want("a whole number", "3")
		}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		if v.ShortTag() != "!!int" && v.ShortTag() != "!!float" {
			return want("a number", "0.5")
		}
	case t.Kind() == reflect.String:
		if v.Kind != yaml.ScalarNode {
			return want("a single value, not a "+kindName(v.Kind), "text")
		}
	}
	return nil
}

// exampleOf is a value of type t to show in an example.
func exampleOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(shaped) || reflect.PointerTo(t).Implements(shaped) {
		return reflect.New(t).Interface().(Shaped).YAMLShape().Example
	}
	switch t.Kind() {
	case reflect.Struct:
		if keys := Keys(t); len(keys) > 0 {
			return "{" + keys[0] + ": ...}"
		}
		return "{...}"
	case reflect.Bool:
		return "true"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "3"
	}
	return "..."
}

// kindName is a node kind in words.
func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// DecodeChecked decodes the mapping n into v, a pointer to a struct, and
// lists every problem in it: unknown keys (UnknownKeys, naming n as what)
// and values of the wrong shape (Mismatches) in our words, in place of
// yaml's at the same places, and yaml's others. complete is false when
// yaml stopped decoding at a problem, so that problems further on went
// unseen.
func DecodeChecked(n *yaml.Node, v any, what string) (ps []*yaml.LoadError, complete bool) {
	t := reflect.TypeOf(v).Elem()
	ps = append(UnknownKeys(n, t, what), Mismatches(n, t)...)
	ours := make(map[[2]int]bool, len(ps))
	for _, p := range ps {
		ours[[2]int{p.Mark.Line, p.Mark.Column}] = true
	}
	err := Decode(n, v, yaml.WithKnownFields())
	if err == nil {
		return ps, true
	}
	found, ok := Split(err)
	if !ok {
		found = []*yaml.LoadError{At(n, "%v", err)}
	}
	var collected *yaml.LoadErrors
	for _, p := range found {
		// yaml's unknown-field messages name Go types, not the fields there are.
		if !ours[[2]int{p.Mark.Line, p.Mark.Column}] && !strings.Contains(p.Message, "not found in type") {
			ps = append(ps, p)
		}
	}
	return ps, errors.As(err, &collected)
}
