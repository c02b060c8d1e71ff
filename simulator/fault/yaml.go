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
		return yamldoc.Problems(yamldoc.At(n, "a fault is a mapping with a kind and its parameters, e.g. `{kind: latency, delay: 200ms, match: {endpoint: token}}`"))
	}
	if ps := yamldoc.UnknownKeysOf(n, wire.keys, "a fault"); len(ps) > 0 {
		return yamldoc.Problems(ps...)
	}
	var ps []*yaml.LoadError
	members := make([]member, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		// A value of the wrong shape is told in words, with an example,
		// rather than in yaml's Go type names.
		if wrong := yamldoc.ValueMismatches(v, wire.keys[k], k, examples[k]); len(wrong) > 0 {
			ps = append(ps, wrong...)
			continue
		}
		members = append(members, member{key: k, decode: func(into any) error { return yamldoc.Decode(v, into) }})
	}
	decoded, errs := assemble(members, nil)
	for _, err := range errs {
		found, ok := yamldoc.Split(err)
		if !ok {
			return err
		}
		ps = append(ps, found...)
	}
	if len(ps) > 0 {
		return yamldoc.Problems(yamldoc.Sorted(ps)...)
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

// examples are values to show in the messages about a fault parameter of
// the wrong shape, where one made from its type would say little
// (`status: 3`).
var examples = map[string]string{
	"status":  "503",
	"match":   "{endpoint: token, grant_type: refresh_token, count: 2}",
	"headers": `{Retry-After: "30"}`,
	"on":      "[issue, revocation]",
}

// unjoin splits an errors.Join into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
