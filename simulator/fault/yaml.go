package fault

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/oauthsim/oauthsim/internal/yamldoc"
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
	if msgs := yamldoc.UnknownKeysOf(n, wire.keys, "a fault"); len(msgs) > 0 {
		return &yaml.TypeError{Errors: msgs}
	}
	members := make([]member, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		members = append(members, member{key: n.Content[i].Value, decode: n.Content[i+1].Decode})
	}
	decoded, errs := assemble(members, nil)
	var msgs []string
	for _, err := range errs {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return err
		}
		msgs = append(msgs, te.Errors...)
	}
	if len(msgs) > 0 {
		return &yaml.TypeError{Errors: msgs}
	}
	*f = decoded
	err := f.Validate()
	if err == nil {
		return nil
	}
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
