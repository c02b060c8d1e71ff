package fault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// A fault's wire form, the same in files and JSON: id, kind and match, and
// its effect's parameters beside them. Each kind's parameters are the
// fields of its effect's type, by their tags; a parameter of another kind
// is decoded all the same and, when it is set, refused by Validate with
// every other problem.

// kindParams is what decoding knows of one kind's effect type.
type kindParams struct {
	typ  reflect.Type
	keys []string // in field order
	// fields maps each key to its field's index.
	fields map[string]int
}

// wireForm is what decoding knows of every kind.
type wireForm struct {
	kinds map[Kind]kindParams
	// params maps every parameter of any kind to its type (two kinds that
	// share a parameter give it one type).
	params map[string]reflect.Type
	// keys maps every key a fault may have to its type.
	keys map[string]reflect.Type
}

var wire = wireOf(effects)

func wireOf(effects []Effect) wireForm {
	w := wireForm{
		kinds:  map[Kind]kindParams{},
		params: map[string]reflect.Type{},
		keys:   map[string]reflect.Type{"id": reflect.TypeFor[string](), "kind": reflect.TypeFor[Kind](), "match": reflect.TypeFor[Match]()},
	}
	for _, e := range effects {
		t := reflect.TypeOf(e)
		kp := kindParams{typ: t, fields: map[string]int{}}
		for i := range t.NumField() {
			key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			kp.keys = append(kp.keys, key)
			kp.fields[key] = i
			w.params[key] = t.Field(i).Type
			w.keys[key] = t.Field(i).Type
		}
		w.kinds[e.Kind()] = kp
	}
	return w
}

// Params lists the parameters a fault of kind k takes, as files and JSON
// name them; nil for a kind that does not exist.
func Params(k Kind) []string { return wire.kinds[k].keys }

// member is one key of a fault, in the order its file or JSON body gives
// them, with a way to decode its value.
type member struct {
	key    string
	decode func(into any) error
}

// assemble builds a fault from its members: id, kind and match into their
// fields, its kind's parameters into its effect, and the set parameters of
// other kinds aside for Validate to refuse. unknown makes the error for a
// key no kind takes (nil where the caller refused those already). It
// returns every decoding error, in document order.
func assemble(members []member, unknown func(key string) error) (Fault, []error) {
	var f Fault
	var kind Kind
	var kindErr error
	for _, m := range members {
		if m.key == "kind" {
			kindErr = m.decode(&kind)
		}
	}
	kp, known := wire.kinds[kind]
	var effect reflect.Value
	if known {
		effect = reflect.New(kp.typ).Elem()
	}
	var stray []string
	var errs []error
	for _, m := range members {
		var err error
		i, own := kp.fields[m.key]
		other := wire.params[m.key]
		switch {
		case m.key == "kind":
			err = kindErr
		case m.key == "id":
			err = m.decode(&f.ID)
		case m.key == "match":
			err = m.decode(&f.Match)
		case own:
			err = m.decode(effect.Field(i).Addr().Interface())
		case other != nil:
			v := reflect.New(other)
			if err = m.decode(v.Interface()); err == nil && isSet(v.Elem()) {
				stray = append(stray, m.key)
			}
		case unknown != nil:
			err = unknown(m.key)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if known {
		f.Effect = effect.Interface().(Effect)
	}
	if !known || len(stray) > 0 {
		f.refused = &refusal{kind: kind, stray: stray}
	}
	return f, errs
}

// isSet reports whether a parameter counts as given: not zero, and not an
// empty list or map.
func isSet(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Map, reflect.Slice:
		return v.Len() > 0
	}
	return !v.IsZero()
}

// MarshalJSON writes the fault as files and the control API give it: its
// effect's parameters beside its kind.
func (f Fault) MarshalJSON() ([]byte, error) {
	head, err := json.Marshal(struct {
		ID    string `json:"id,omitempty"`
		Kind  Kind   `json:"kind"`
		Match Match  `json:"match,omitzero"`
	}{f.ID, f.Kind(), f.Match})
	if err != nil || f.Effect == nil {
		return head, err
	}
	params, err := json.Marshal(f.Effect)
	if err != nil {
		return nil, err
	}
	return joinObjects(head, params), nil
}

// UnmarshalJSON reads a fault as the control API takes it. A key that no
// kind takes and a value of the wrong type are errors, the first of them
// as encoding/json's DisallowUnknownFields reports it; a kind that does not
// exist and parameters of another kind are left for Validate, which
// reports them with the fault's other problems.
func (f *Fault) UnmarshalJSON(b []byte) error {
	members, err := jsonMembers(b, reflect.TypeFor[Fault]())
	if err != nil || members == nil {
		return err
	}
	decoded, errs := assemble(faultMembers(members), func(key string) error { return fmt.Errorf("json: unknown field %q", key) })
	if len(errs) > 0 {
		return errs[0]
	}
	*f = decoded
	return nil
}

// MarshalJSON writes the fault with its progress beside its keys.
func (s Status) MarshalJSON() ([]byte, error) {
	fault, err := s.Fault.MarshalJSON()
	if err != nil {
		return nil, err
	}
	progress, err := json.Marshal(s.Progress)
	if err != nil {
		return nil, err
	}
	return joinObjects(fault, progress), nil
}

// progressKeys are the keys of Progress in JSON.
var progressKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[Progress]()
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		keys[key] = true
	}
	return keys
}()

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Status) UnmarshalJSON(b []byte) error {
	members, err := jsonMembers(b, reflect.TypeFor[Status]())
	if err != nil || members == nil {
		return err
	}
	var rest []jsonMember
	progress := map[string]json.RawMessage{}
	for _, m := range members {
		if progressKeys[m.key] {
			progress[m.key] = m.raw
		} else {
			rest = append(rest, m)
		}
	}
	p, err := json.Marshal(progress)
	if err == nil {
		err = json.Unmarshal(p, &s.Progress)
	}
	if err != nil {
		return err
	}
	decoded, errs := assemble(faultMembers(rest), func(key string) error { return fmt.Errorf("json: unknown field %q", key) })
	if len(errs) > 0 {
		return errs[0]
	}
	s.Fault = decoded
	return nil
}

// jsonMember is one member of a JSON object.
type jsonMember struct {
	key string
	raw json.RawMessage
}

// jsonMembers splits the JSON object b into its members, in order; nil for
// null. Anything else is an error as encoding/json words it for a value of
// type t.
func jsonMembers(b []byte, t reflect.Type) ([]jsonMember, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case nil:
		return nil, nil
	case json.Delim:
		if tok != '{' {
			return nil, &json.UnmarshalTypeError{Value: "array", Type: t}
		}
	case string:
		return nil, &json.UnmarshalTypeError{Value: "string", Type: t}
	case bool:
		return nil, &json.UnmarshalTypeError{Value: "bool", Type: t}
	default:
		return nil, &json.UnmarshalTypeError{Value: "number", Type: t}
	}
	members := []jsonMember{}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		members = append(members, jsonMember{key: key.(string), raw: raw})
	}
	return members, nil
}

// faultMembers decodes each JSON member as a member of a fault: unknown keys
// inside match are errors too, and a value of the wrong type is reported as
// a field of a Fault, as decoding the fault as a whole would.
func faultMembers(members []jsonMember) []member {
	out := make([]member, len(members))
	for i, m := range members {
		out[i] = member{key: m.key, decode: func(into any) error {
			dec := json.NewDecoder(bytes.NewReader(m.raw))
			dec.DisallowUnknownFields()
			err := dec.Decode(into)
			if te, ok := err.(*json.UnmarshalTypeError); ok {
				if te.Struct == "" {
					te.Struct, te.Field = "Fault", m.key
					if te.Type == reflect.TypeOf(into) {
						te.Type = te.Type.Elem() // the field's type, not the pointer to it decoding was given
					}
				} else {
					te.Field = m.key + "." + te.Field
				}
			}
			return err
		}}
	}
	return out
}

// joinObjects joins the members of the JSON objects a and b into one object.
func joinObjects(a, b []byte) []byte {
	if len(b) <= len("{}") {
		return a
	}
	return append(append(a[:len(a)-1:len(a)-1], ','), b[1:]...)
}
