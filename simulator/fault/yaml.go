package fault

import (
	"errors"

	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/internal/yamldoc"
)

// UnmarshalYAML reads a fault and checks it, reporting each problem at the
// key it concerns, so that a scenario or config file can name the line and
// column. Unknown keys are errors: a misspelt parameter must not be dropped
// silently. The problems come back as yamldoc.Problems, so that the
// decoder goes on and reports the rest of the file too.
func (f *Fault) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return yamldoc.Problems(yamldoc.At(n, "a fault must be a mapping with a kind"))
	}
	if ps := yamldoc.UnknownKeysOf(n, wire.keys, "a fault"); len(ps) > 0 {
		return yamldoc.Problems(ps...)
	}
	members := make([]member, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		members = append(members, member{key: n.Content[i].Value, decode: func(into any) error { return yamldoc.Decode(v, into) }})
	}
	decoded, errs := assemble(members, nil)
	var ps []*yaml.LoadError
	for _, err := range errs {
		found, ok := yamldoc.Split(err)
		if !ok {
			return err
		}
		ps = append(ps, found...)
	}
	if len(ps) > 0 {
		return yamldoc.Problems(ps...)
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
			at = yamldoc.Key(n, fe.Field)
		}
		ps = append(ps, yamldoc.At(at, "%v", e))
	}
	return yamldoc.Problems(ps...)
}

// unjoin splits an errors.Join into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
