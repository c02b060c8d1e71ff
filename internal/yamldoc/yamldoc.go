// Package yamldoc holds what the readers of oauthsim's YAML files share:
// error messages that point into the file, and key lookup in yaml nodes.
package yamldoc

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// position matches the place yaml puts before its messages, "line 3: ",
// and the one oauthsim's own unmarshalers use, "line 3:7: ".
var position = regexp.MustCompile(`^(?:yaml: )?line (\d+(?::\d+)?): `)

// Locate rewrites yaml's "line N[:C]: msg" errors as "path:N[:C]: msg",
// one line per message, so that editors and terminals can jump to them.
func Locate(path string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = path + ":" + position.ReplaceAllString(m, "$1: ")
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	msg := err.Error()
	if position.MatchString(msg) {
		return errors.New(path + ":" + position.ReplaceAllString(msg, "$1: "))
	}
	return fmt.Errorf("%s: %w", path, err)
}

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

// UnknownKeys lists, as "line L:C: unknown field ..." messages, the keys of
// the mapping n that name no field of the struct type t (by yaml tag), and
// those of the mappings below it for struct fields. what names n in the
// messages ("a fault"); nested mappings are named by their key path. A
// misspelt key is an error rather than a setting dropped in silence, and
// yaml's own KnownFields check gives no column.
func UnknownKeys(n *yaml.Node, t reflect.Type, what string) []string {
	return UnknownKeysOf(n, Fields(t), what)
}

// UnknownKeysOf is UnknownKeys for a mapping whose keys are not one struct's
// fields: fields maps each key it takes to the type of its value (a fault's
// keys are its own and those of every kind's parameters).
func UnknownKeysOf(n *yaml.Node, fields map[string]reflect.Type, what string) []string {
	return unknownKeys(n, fields, what, "")
}

// Fields maps the yaml keys of struct type t to their types, inline structs
// included.
func Fields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	fieldsOf(t, fields)
	return fields
}

// unmarshaler is the interface of types that read, and check, their own keys.
var unmarshaler = reflect.TypeFor[yaml.Unmarshaler]()

// fieldsOf maps t's yaml keys to their types, inline structs included.
func fieldsOf(t reflect.Type, fields map[string]reflect.Type) {
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		switch {
		case opts == "inline" && sf.Type.Kind() == reflect.Struct:
			fieldsOf(sf.Type, fields)
		case name != "" && name != "-":
			fields[name] = sf.Type
		}
	}
}

func unknownKeys(n *yaml.Node, fields map[string]reflect.Type, what, prefix string) []string {
	where := what
	if prefix != "" {
		where = strings.TrimSuffix(prefix, ".")
	}
	var msgs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ft, ok := fields[k.Value]
		if !ok {
			names := slices.Sorted(maps.Keys(fields))
			msgs = append(msgs, fmt.Sprintf("line %d:%d: unknown field %q in %s (known: %s)", k.Line, k.Column, k.Value, where, strings.Join(names, ", ")))
			continue
		}
		msgs = append(msgs, below(v, ft, what, prefix+k.Value)...)
	}
	return msgs
}

// below checks the keys of v, the value of a field of type t at path:
// a struct's mapping, a pointed-to struct's, or each item of a list of
// structs. A type with its own UnmarshalYAML checks its own keys.
func below(v *yaml.Node, t reflect.Type, what, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return nil
	}
	switch {
	case t.Kind() == reflect.Struct && v.Kind == yaml.MappingNode:
		return unknownKeys(v, Fields(t), what, path+".")
	case t.Kind() == reflect.Slice && v.Kind == yaml.SequenceNode:
		var msgs []string
		for i, item := range v.Content {
			msgs = append(msgs, below(item, t.Elem(), what, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return msgs
	}
	return nil
}
