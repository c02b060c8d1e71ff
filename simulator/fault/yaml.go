package fault

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// UnmarshalYAML reads a fault and checks it, reporting each problem as
// "line L:C: field: message" at the key it concerns, so that a scenario or
// config file can name the line and column. Unknown keys are errors: a
// misspelt parameter must not be dropped silently. The problems come back as
// a *yaml.TypeError, so that the decoder goes on and reports the rest of the
// file too.
func (f *Fault) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d:%d: a fault must be a mapping with a kind", n.Line, n.Column)}}
	}
	if msgs := checkKeys(n, reflect.TypeFor[Fault](), ""); len(msgs) > 0 {
		return &yaml.TypeError{Errors: msgs}
	}
	type plain Fault // without this method, so Decode does not recurse
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*f = Fault(p)
	err := f.Validate()
	if err == nil {
		return nil
	}
	var msgs []string
	for _, e := range unjoin(err) {
		at := n
		var fe *FieldError
		if errors.As(e, &fe) {
			at = keyNode(n, fe.Field)
		}
		msgs = append(msgs, fmt.Sprintf("line %d:%d: %v", at.Line, at.Column, e))
	}
	return &yaml.TypeError{Errors: msgs}
}

// checkKeys lists the keys that name no field of t (by yaml tag), in the
// mapping n and, for struct fields, in the mappings below it.
func checkKeys(n *yaml.Node, t reflect.Type, prefix string) []string {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = sf.Type
		}
	}
	var msgs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ft, ok := fields[k.Value]
		if !ok {
			names := slices.Sorted(maps.Keys(fields))
			msgs = append(msgs, fmt.Sprintf("line %d:%d: unknown field %q in %s (known: %s)", k.Line, k.Column, k.Value, where(prefix), strings.Join(names, ", ")))
			continue
		}
		if ft.Kind() == reflect.Struct && v.Kind == yaml.MappingNode {
			msgs = append(msgs, checkKeys(v, ft, prefix+k.Value+".")...)
		}
	}
	return msgs
}

func where(prefix string) string {
	if prefix == "" {
		return "a fault"
	}
	return strings.TrimSuffix(prefix, ".")
}

// keyNode finds the key node of a dotted field path in the mapping n, or the
// deepest mapping on the way when the key is absent.
func keyNode(n *yaml.Node, path string) *yaml.Node {
	head, rest, nested := strings.Cut(path, ".")
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == head {
			if nested && n.Content[i+1].Kind == yaml.MappingNode {
				return keyNode(n.Content[i+1], rest)
			}
			return n.Content[i]
		}
	}
	return n
}

// unjoin splits an errors.Join into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
