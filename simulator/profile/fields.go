package profile

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
)

// Field is one setting of a profile.
type Field struct {
	// Path names the setting as Sources does: "refresh.grace",
	// "responses.rate_limited.headers.Retry-After".
	Path string
	// Value is the setting: a Duration, an int, one of the string types or
	// []Deviation.
	Value any
	// Set says Value is not the zero value (for deviations: not empty).
	Set bool
}

// Fields lists the settings of p in the order a profile document has them:
// every field of Profile and Refresh, set or not, then the fields of each
// response (in the order of Situations) with its headers (by name). Name and
// title say which profile this is rather than how it behaves, so they are
// not listed.
func (p Profile) Fields() []Field {
	var out []Field
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				if name := yamlName(v.Type().Field(i)); name != "" {
					walk(v.Field(i), join(path, name))
				}
			}
		case reflect.Map:
			keys := v.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return compareKeys(a.String(), b.String()) })
			for _, k := range keys {
				walk(v.MapIndex(k), join(path, k.String()))
			}
		case reflect.Slice:
			out = append(out, Field{Path: path, Value: v.Interface(), Set: v.Len() > 0})
		default:
			out = append(out, Field{Path: path, Value: v.Interface(), Set: !v.IsZero()})
		}
	}
	walk(reflect.ValueOf(p), "")
	return slices.DeleteFunc(out, func(f Field) bool { return f.Path == "name" || f.Path == "title" })
}

// compareKeys orders situations as Situations lists them, then any other
// key (a header, an unknown situation) by name.
func compareKeys(a, b string) int {
	rank := func(k string) int {
		if i := slices.Index(Situations(), Situation(k)); i >= 0 {
			return i
		}
		return len(Situations())
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
}

// yamlName is the key of a struct field in a profile document, or "" for
// a field documents do not hold (Sources).
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return cmp.Or(name, strings.ToLower(f.Name))
}

// fieldByKey finds the field of struct type t that key names.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); yamlName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// join makes a dotted path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
