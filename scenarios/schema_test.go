package scenarios_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/events"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// schemaDoc is the schema as JSON values, for reading its lists.
func schemaDoc() map[string]any {
	var doc map[string]any
	Expect(json.Unmarshal(scenarios.Schema, &doc)).To(Succeed(), "scenario.schema.json is not JSON")
	return doc
}

// compileSchema compiles the schema and returns the subschema at fragment
// ("" for the whole schema, "#/$defs/provider" for one definition).
func compileSchema(fragment string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(scenarios.Schema))
	if err != nil {
		return nil, err
	}
	id, _ := doc.(map[string]any)["$id"].(string)
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		return nil, err
	}
	return c.Compile(id + fragment)
}

// compiledSchemas holds what compiledSchema compiled, by fragment: the duration
// table alone would otherwise compile the schema a hundred times.
var compiledSchemas = map[string]*jsonschema.Schema{}

func compiledSchema(fragment string) *jsonschema.Schema {
	if sch, ok := compiledSchemas[fragment]; ok {
		return sch
	}
	sch, err := compileSchema(fragment)
	Expect(err).NotTo(HaveOccurred())
	compiledSchemas[fragment] = sch
	return sch
}

// jsonInstance turns YAML into what the validator takes: yaml → any →
// encoding/json → the validator's own JSON reader, which keeps numbers exact.
func jsonInstance(data []byte) any {
	var v any
	Expect(yaml.Unmarshal(data, &v)).To(Succeed())
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred(), "the YAML has a value JSON cannot hold")
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	Expect(err).NotTo(HaveOccurred())
	return out
}

// refusals lists every error of a validation as "instance location:
// keyword", so that a spec can say where and why a document was refused.
func refusals(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if pn, ok := e.ErrorKind.(*kind.PropertyNames); ok {
			// v6.0.3 reports a propertyNames error at whatever location it
			// validated last (santhosh-tekuri/jsonschema#258), so the
			// refused key names it instead.
			out = append(out, "propertyNames: "+pn.Property)
		} else if kw := e.ErrorKind.KeywordPath(); len(kw) > 0 {
			out = append(out, "/"+strings.Join(e.InstanceLocation, "/")+": "+kw[0])
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

// pointerAt reads the JSON value at a JSON pointer in doc.
func pointerAt(doc any, pointer string) any {
	v := doc
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch node := v.(type) {
		case map[string]any:
			v = node[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			Expect(err).NotTo(HaveOccurred(), "%s: %q indexes a list", pointer, tok)
			v = node[i]
		default:
			Fail(fmt.Sprintf("%s: nothing at %q", pointer, tok))
		}
	}
	Expect(v).NotTo(BeNil(), "the schema has nothing at %s", pointer)
	return v
}

func stringList(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func keysAt(v any) []string { return slices.Sorted(maps.Keys(v.(map[string]any))) }

// without is list less the names given.
func without(list []string, names ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(names, s) })
}

// requiredNames lists the names of a list of {"required": [name]} schemas.
func requiredNames(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, stringList(s.(map[string]any)["required"])...)
	}
	return out
}

func stringsOf[T ~string](items []T) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = string(it)
	}
	return out
}

// yamlKeys lists the keys yaml reads into struct type t: its fields' tag
// names (a field without one by its lower-cased name, as yaml and
// profile's documents do), inline fields flattened, yaml:"-" and
// unexported fields left out.
func yamlKeys(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case !f.IsExported() || name == "-":
		case strings.Contains(opts, "inline"):
			out = append(out, yamlKeys(f.Type)...)
		case name == "":
			out = append(out, strings.ToLower(f.Name))
		default:
			out = append(out, name)
		}
	}
	return out
}

// fieldByKey is the field of the struct v whose yaml key is key.
func fieldByKey(v reflect.Value, key string) reflect.Value {
	for i := range v.NumField() {
		if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); name == key {
			return v.Field(i)
		}
	}
	Fail(fmt.Sprintf("%s has no field with yaml key %q", v.Type(), key))
	return reflect.Value{}
}

// setSomething gives v a value that is not its zero value.
func setSomething(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Slice:
		v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), reflect.ValueOf("x").Convert(v.Type().Elem())))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.ValueOf("X-Test").Convert(v.Type().Key()), reflect.ValueOf("x").Convert(v.Type().Elem()))
	default:
		Fail(fmt.Sprintf("no way to set a %s", v.Type()))
	}
}

// effectType is the type of kind k's effect: a fault of the kind alone
// decodes into it from JSON, where Validate, not decoding, refuses what is
// missing.
func effectType(k fault.Kind) reflect.Type {
	GinkgoHelper()
	var f fault.Fault
	Expect(json.Unmarshal([]byte(fmt.Sprintf(`{"kind":%q}`, k)), &f)).To(Succeed())
	return reflect.TypeOf(f.Effect)
}

// faultKeys lists the yaml keys of a fault: its own, and the parameters of
// every kind's effect.
func faultKeys() []string {
	keys := []string{"id", "kind", "match"}
	for _, k := range fault.Kinds() {
		for _, p := range yamlKeys(effectType(k)) {
			if !slices.Contains(keys, p) {
				keys = append(keys, p)
			}
		}
	}
	return keys
}

// acceptedParams lists the parameters a fault of kind k takes: each
// parameter of any kind, set, that decoding and fault.Validate do not
// refuse as not applying to k.
func acceptedParams(k fault.Kind) []string {
	var out []string
	for _, other := range fault.Kinds() {
		t := effectType(other)
		for _, p := range yamlKeys(t) {
			if slices.Contains(out, p) {
				continue
			}
			v := fieldByKey(reflect.New(t).Elem(), p)
			setSomething(v)
			body, err := json.Marshal(map[string]any{"kind": k, p: v.Interface()})
			Expect(err).NotTo(HaveOccurred())
			var f fault.Fault
			Expect(json.Unmarshal(body, &f)).To(Succeed(), "%s", body)
			refused := false
			for _, e := range unjoinErrors(f.Validate()) {
				var fe *fault.FieldError
				if errors.As(e, &fe) && fe.Field == p && strings.HasPrefix(fe.Msg, "does not apply") {
					refused = true
				}
			}
			if !refused {
				out = append(out, p)
			}
		}
	}
	return out
}

// unjoinErrors splits an errors.Join into its parts.
func unjoinErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// kindRule is the schema's if/then entry for fault kind k.
func kindRule(doc map[string]any, k fault.Kind) map[string]any {
	for _, r := range pointerAt(doc, "/$defs/fault/allOf").([]any) {
		rule := r.(map[string]any)
		if cond, ok := rule["if"].(map[string]any)["properties"].(map[string]any)["kind"].(map[string]any); ok && cond["const"] == string(k) {
			return rule
		}
	}
	Fail(fmt.Sprintf("the schema has no rule for fault kind %q", k))
	return nil
}

// unbroken is a valid scenario that each broken document changes in one place.
const unbroken = `
name: broken
description: a scenario each entry breaks in one place
requires: [refresh]
provider:
  faults:
    - {id: slow, kind: latency, delay: 1s}
steps:
  - authorize: alice
  - advance: 1h
  - call: {times: 2, every: 1m}
    expect: ok
  - remove_fault: slow
expect:
  counts:
    refreshes: {min: 1}
`

var _ = Describe("Schema", func() {
	It("compiles as a draft 2020-12 schema", func() {
		Expect(schemaDoc()).To(HaveKeyWithValue("$schema", "https://json-schema.org/draft/2020-12/schema"))
		_, err := compileSchema("")
		Expect(err).NotTo(HaveOccurred(), "the schema breaks its meta-schema or a reference")
	})

	It("accepts every bundled scenario file", func() {
		sch := compiledSchema("")
		files, err := filepath.Glob("*.yaml")
		Expect(err).NotTo(HaveOccurred())
		Expect(files).NotTo(BeEmpty())
		for _, f := range files {
			data, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			Expect(sch.Validate(jsonInstance(data))).To(Succeed(), "scenarios/%s does not validate against scenario.schema.json", f)
		}
	})

	DescribeTable("refuses a broken document where it is broken, as the loader does",
		func(change func(doc map[string]any), where string) {
			data := refuse(change, where)
			_, err := scenarios.Parse("broken.yaml", data)
			Expect(err).To(HaveOccurred(), "the loader accepts what the schema refuses:\n%s", data)
		},
		Entry("an unknown top-level key",
			func(doc map[string]any) { doc["setps"] = doc["steps"] }, "/: additionalProperties"),
		Entry("a step with two actions",
			func(doc map[string]any) { stepOf(doc, 1)["restart"] = true }, "/steps/1: oneOf"),
		Entry("a step without an action",
			func(doc map[string]any) { delete(stepOf(doc, 1), "advance") }, "/steps/1: oneOf"),
		Entry("an expectation on a step that makes no call",
			func(doc map[string]any) { stepOf(doc, 1)["expect"] = "ok" }, "/steps/1: anyOf"),
		Entry("an unknown outcome",
			func(doc map[string]any) { stepOf(doc, 2)["expect"] = "fine" }, "/steps/2/expect: enum"),
		Entry("a reason with an outcome other than reauthorize",
			func(doc map[string]any) {
				stepOf(doc, 2)["expect"] = map[string]any{"outcome": "ok", "reason": "revoked"}
			}, "/steps/2/expect/outcome: const"),
		Entry("an unknown outcome in a list of outcomes",
			func(doc map[string]any) { stepOf(doc, 2)["expect"] = []any{"ok", "fine"} }, "/steps/2/expect/1: enum"),
		Entry("an empty list of outcomes",
			func(doc map[string]any) { stepOf(doc, 2)["expect"] = []any{} }, "/steps/2/expect: minItems"),
		Entry("a reason in a list of outcomes on an outcome other than reauthorize",
			func(doc map[string]any) {
				stepOf(doc, 2)["expect"] = []any{map[string]any{"outcome": "ok", "reason": "revoked"}, "reauthorize"}
			}, "/steps/2/expect/0/outcome: const"),
		Entry("a list in a list of outcomes",
			func(doc map[string]any) { stepOf(doc, 2)["expect"] = []any{"ok", []any{"temporary_error"}} }, "/steps/2/expect/1: oneOf"),
		Entry("an unknown fault kind",
			func(doc map[string]any) { firstFault(doc)["kind"] = "slowness" }, "/provider/faults/0/kind: enum"),
		Entry("a parameter of another fault kind",
			func(doc map[string]any) { firstFault(doc)["mode"] = "truncate" }, "propertyNames: mode"),
		Entry("an unknown match endpoint",
			func(doc map[string]any) { firstFault(doc)["match"] = map[string]any{"endpoint": "tokens"} }, "/provider/faults/0/match/endpoint: enum"),
		Entry("a bad duration",
			func(doc map[string]any) { stepOf(doc, 1)["advance"] = "1 hour" }, "/steps/1/advance: pattern"),
		Entry("a duration in days with a negative part",
			func(doc map[string]any) { stepOf(doc, 1)["advance"] = "1d-1h" }, "/steps/1/advance: pattern"),
		Entry("a zero advance",
			func(doc map[string]any) { stepOf(doc, 1)["advance"] = "0s" }, "/steps/1/advance: pattern"),
		Entry("an unknown capability",
			func(doc map[string]any) { doc["requires"] = []any{"refresh", "telepathy"} }, "/requires/1: enum"),
		Entry("an unknown counter",
			func(doc map[string]any) { countsOf(doc)["naps"] = 0 }, "propertyNames: naps"),
		Entry("an unknown profile",
			func(doc map[string]any) {
				doc["provider"].(map[string]any)["profile"] = map[string]any{"base": "oktta"}
			}, "/provider/profile/base: enum"),
		Entry("a revoke with two selectors",
			func(doc map[string]any) {
				delete(stepOf(doc, 1), "advance")
				stepOf(doc, 1)["revoke"] = map[string]any{"user": "alice", "all": true}
			}, "/steps/1/revoke: oneOf"),
		Entry("an unknown revoke reason",
			func(doc map[string]any) {
				delete(stepOf(doc, 1), "advance")
				stepOf(doc, 1)["revoke"] = map[string]any{"all": true, "reason": "user_revocation"}
			}, "/steps/1/revoke/reason: enum"),
		Entry("restart: false",
			func(doc map[string]any) {
				delete(stepOf(doc, 1), "advance")
				stepOf(doc, 1)["restart"] = false
			}, "/steps/1/restart: const"),
		Entry("a bare step other than restart and logout",
			func(doc map[string]any) { doc["steps"].([]any)[1] = "advance" }, "/steps/1: enum"),
		Entry("a tag that cannot be a label",
			func(doc map[string]any) { doc["tags"] = []any{"Rotation"} }, "/tags/0: pattern"),
		Entry("calls both concurrent and from processes",
			func(doc map[string]any) {
				stepOf(doc, 2)["call"] = map[string]any{"times": 2, "every": "1m", "concurrent": 2, "processes": 2}
			}, "/steps/2/call/concurrent: maximum"),
		Entry("reload: false",
			func(doc map[string]any) {
				delete(stepOf(doc, 1), "advance")
				stepOf(doc, 1)["reload"] = false
			}, "/steps/1/reload: const"),
		Entry("an expectation on a reload",
			func(doc map[string]any) {
				delete(stepOf(doc, 1), "advance")
				stepOf(doc, 1)["reload"] = true
				stepOf(doc, 1)["expect"] = "ok"
			}, "/steps/1: anyOf"),
		Entry("an unknown callback",
			func(doc map[string]any) {
				delete(stepOf(doc, 1), "advance")
				stepOf(doc, 1)["callback"] = "stolen"
			}, "/steps/1/callback: enum"),
		Entry("counts as a step's action",
			func(doc map[string]any) {
				delete(stepOf(doc, 1), "advance")
				stepOf(doc, 1)["counts"] = map[string]any{"refreshes": 0}
			}, "/steps/1: oneOf"),
		Entry("an unknown counter on a step",
			func(doc map[string]any) { stepOf(doc, 1)["counts"] = map[string]any{"naps": 0} }, "propertyNames: naps"),
		Entry("a negative count of firings",
			func(doc map[string]any) {
				doc["expect"].(map[string]any)["fired"] = map[string]any{"slow": map[string]any{"min": -1}}
			}, "/expect/fired/slow/min: minimum"),
		Entry("a fault id no fault can have, in a step's fired",
			func(doc map[string]any) { stepOf(doc, 2)["fired"] = map[string]any{"a b": 1} }, "propertyNames: a b"),
	)

	DescribeTable("reads durations as profile.ParseDuration does",
		func(text string) {
			d, err := profile.ParseDuration(text)
			for def, want := range map[string]bool{
				"duration":            err == nil,
				"nonNegativeDuration": err == nil && d >= 0,
				"positiveDuration":    err == nil && d > 0,
			} {
				Expect(compiledSchema("#/$defs/"+def).Validate(text) == nil).To(Equal(want),
					"%s: the schema and profile.ParseDuration (%v, %v) disagree on %q", def, d, err, text)
			}
		},
		Entry(nil, "0"), Entry(nil, "0s"), Entry(nil, "0d"), Entry(nil, "0.0s"),
		Entry(nil, "90s"), Entry(nil, "10m"), Entry(nil, "1h30m15s"), Entry(nil, "1.5h"), Entry(nil, ".5s"),
		Entry(nil, "100ns"), Entry(nil, "1us"), Entry(nil, "1µs"), Entry(nil, "1μs"), Entry(nil, "+1h"),
		Entry(nil, "7d"), Entry(nil, "182d"), Entry(nil, "1d12h"), Entry(nil, "1d0"), Entry(nil, "1d+1h"),
		Entry(nil, "-90s"), Entry(nil, "-1h30m"),
		Entry(nil, ""), Entry(nil, "5"), Entry(nil, "1h5"), Entry(nil, "h"), Entry(nil, "1 h"), Entry(nil, "7D"),
		Entry(nil, "d"), Entry(nil, "1dd"), Entry(nil, "-1d"), Entry(nil, "1d-1h"), Entry(nil, "1x"),
	)

	// The loader decodes these mappings without checking their keys, so a
	// misspelt key is dropped in silence; the schema names it.
	DescribeTable("refuses the keys the loader drops",
		func(change func(doc map[string]any), where string) { refuse(change, where) },
		Entry("in a call",
			func(doc map[string]any) { stepOf(doc, 2)["call"] = map[string]any{"times": 2, "evry": "1m"} }, "/steps/2/call: additionalProperties"),
		Entry("in a revoke",
			func(doc map[string]any) {
				delete(stepOf(doc, 1), "advance")
				stepOf(doc, 1)["revoke"] = map[string]any{"all": true, "raeson": "admin"}
			}, "/steps/1/revoke: additionalProperties"),
		Entry("in a rotate_secret",
			func(doc map[string]any) {
				delete(stepOf(doc, 1), "advance")
				stepOf(doc, 1)["rotate_secret"] = map[string]any{"grase": "1m"}
			}, "/steps/1/rotate_secret: additionalProperties"),
		Entry("in an expectation",
			func(doc map[string]any) { stepOf(doc, 2)["expect"] = map[string]any{"outcome": "ok", "reasn": "x"} }, "/steps/2/expect: additionalProperties"),
		Entry("in an expectation in a list",
			func(doc map[string]any) {
				stepOf(doc, 2)["expect"] = []any{"ok", map[string]any{"outcome": "reauthorize", "reasn": "x"}}
			}, "/steps/2/expect/1: additionalProperties"),
		Entry("in a count's range",
			func(doc map[string]any) { countsOf(doc)["refreshes"] = map[string]any{"min": 1, "maximum": 2} }, "/expect/counts/refreshes: additionalProperties"),
		Entry("in a step's count of firings",
			func(doc map[string]any) { stepOf(doc, 2)["fired"] = map[string]any{"slow": map[string]any{"mn": 1}} }, "/steps/2/fired/slow: additionalProperties"),
		Entry("in a user",
			func(doc map[string]any) {
				doc["provider"].(map[string]any)["users"] = []any{map[string]any{"id": "carol", "mail": "c@example.test"}}
			}, "/provider/users/0: additionalProperties"),
	)

	Describe("keeps in step with the Go types", func() {
		var doc map[string]any
		BeforeEach(func() { doc = schemaDoc() })

		DescribeTable("lists the yaml keys of each type",
			func(pointer string, t reflect.Type, annotations []string) {
				Expect(keysAt(pointerAt(doc, pointer))).To(ConsistOf(append(yamlKeys(t), annotations...)),
					"%s differs from the yaml keys of %s", pointer, t)
			},
			Entry("Scenario", "/properties", reflect.TypeFor[scenarios.Scenario](), nil),
			Entry("Step", "/$defs/stepMapping/properties", reflect.TypeFor[scenarios.Step](), nil),
			Entry("Call", "/$defs/call/properties", reflect.TypeFor[scenarios.Call](), nil),
			Entry("Revoke", "/$defs/revoke/properties", reflect.TypeFor[scenarios.Revoke](), nil),
			Entry("RotateSecret", "/$defs/rotateSecret/properties", reflect.TypeFor[scenarios.RotateSecret](), nil),
			Entry("Expect", "/$defs/expect/oneOf/1/properties", reflect.TypeFor[scenarios.Expect](), nil),
			Entry("Range", "/$defs/range/oneOf/1/properties", reflect.TypeFor[scenarios.Range](), nil),
			Entry("Expectations", "/$defs/expectations/properties", reflect.TypeFor[scenarios.Expectations](), nil),
			Entry("simulator.Config", "/$defs/provider/properties", reflect.TypeFor[simulator.Config](), nil),
			Entry("simulator.Client", "/$defs/client/properties", reflect.TypeFor[simulator.Client](), nil),
			Entry("simulator.PreviousSecret", "/$defs/previousSecret/properties", reflect.TypeFor[simulator.PreviousSecret](), nil),
			Entry("simulator.User", "/$defs/user/properties", reflect.TypeFor[simulator.User](), nil),
			Entry("fault.Match", "/$defs/match/properties", reflect.TypeFor[fault.Match](), nil),
			// profile.Override reads a profile document: the keys of Profile
			// (base and the inline Profile of ProfileConfig), of Refresh and of
			// Response, and on any mapping the annotation words source and
			// unconfirmed.
			Entry("the profile section", "/$defs/profile/properties", reflect.TypeFor[simulator.ProfileConfig](), []string{"source", "unconfirmed"}),
			Entry("profile.Refresh", "/$defs/refresh/properties", reflect.TypeFor[profile.Refresh](), []string{"source", "unconfirmed"}),
			Entry("profile.Response", "/$defs/response/properties", reflect.TypeFor[profile.Response](), []string{"source", "unconfirmed"}),
			Entry("profile.Shape", "/$defs/shape/properties", reflect.TypeFor[profile.Shape](), []string{"source", "unconfirmed"}),
		)

		DescribeTable("enumerates the Go values",
			func(pointer string, want []string) {
				Expect(stringList(pointerAt(doc, pointer))).To(ConsistOf(want), "%s differs from the Go list", pointer)
			},
			Entry("outcomes", "/$defs/outcome/enum", stringsOf(scenarios.ExpectableOutcomes())),
			Entry("reauthorize reasons", "/$defs/expect/oneOf/1/properties/reason/enum", stringsOf(contract.Reasons())),
			Entry("capabilities", "/$defs/capability/enum", stringsOf(contract.Capabilities())),
			Entry("counters", "/$defs/counts/propertyNames/enum", slices.Collect(maps.Keys(scenarios.Counters))),
			Entry("callbacks", "/$defs/stepMapping/properties/callback/enum", scenarios.Callbacks()),
			Entry("fault kinds", "/$defs/faultKind/enum", stringsOf(fault.Kinds())),
			Entry("match endpoints", "/$defs/endpoint/enum", stringsOf(fault.Endpoints())),
			Entry("profile names", "/$defs/profileName/enum", profile.Names()),
			Entry("situations", "/$defs/situation/enum", stringsOf(profile.Situations())),
			Entry("deviations", "/$defs/deviation/enum", stringsOf(profile.Deviations())),
			Entry("rotation modes", "/$defs/rotation/enum", stringsOf([]profile.Rotation{
				profile.RotationNone, profile.RotationRotate, profile.RotationRotateWithGrace, profile.RotationRotateKeepOld})),
			// The harness hands a client the profile's rotation and offline
			// access rule as they are: the protocol must have every value.
			Entry("rotation modes, as the client protocol names them", "/$defs/rotation/enum", stringsOf(contract.Rotations())),
			Entry("reuse detection modes", "/$defs/reuseDetection/enum", stringsOf([]profile.ReuseDetection{
				profile.ReuseOff, profile.ReuseRevokeFamily})),
			Entry("absolute lifetime modes", "/$defs/absoluteMode/enum", stringsOf([]profile.AbsoluteMode{
				profile.AbsoluteSliding, profile.AbsoluteInherited})),
			Entry("offline access rules", "/$defs/offlineAccess/enum", stringsOf([]profile.OfflineAccess{
				profile.OfflineScope, profile.OfflineAccessType})),
			Entry("offline access rules, as the client protocol names them", "/$defs/offlineAccess/enum", stringsOf(contract.OfflineAccesses())),
			Entry("reconsent modes", "/$defs/reconsent/enum", stringsOf([]profile.Reconsent{
				profile.ReconsentKeep, profile.ReconsentRevoke})),
			Entry("revoke reasons", "/$defs/revoke/properties/reason/enum", []string{
				events.ReasonUser, events.ReasonAdmin, events.ReasonPasswordChange, events.ReasonSecurity}),
			Entry("publishing statuses of a step", "/$defs/stepMapping/properties/publishing_status/enum", []string{
				simulator.PublishingTesting, simulator.PublishingProduction}),
			Entry("publishing statuses of a client", "/$defs/client/properties/publishing_status/enum", []string{
				simulator.PublishingTesting, simulator.PublishingProduction}),
			Entry("client auth methods", "/$defs/client/properties/token_endpoint_auth_methods/items/enum", []string{
				simulator.AuthSecretBasic, simulator.AuthSecretPost, simulator.AuthNone}),
			Entry("malformed modes", "/$defs/fault/properties/mode/enum", []string{
				fault.ModeTruncate, fault.ModeContentType, fault.ModeNotJSON, fault.ModeEmpty}),
			Entry("Retry-After formats", "/$defs/fault/properties/retry_after_format/enum", []string{
				fault.RetryAfterSeconds, fault.RetryAfterHTTPDate, fault.RetryAfterNone}),
			Entry("limiter keys", "/$defs/fault/properties/key/enum", []string{
				fault.KeyClient, fault.KeyUser, fault.KeyFamily, fault.KeyGlobal}),
			Entry("what a propagation_delay holds back", "/$defs/propagation/enum", []string{fault.OnIssue, fault.OnRevocation}),
			Entry("rate-limit signals besides the profiles", "/$defs/fault/properties/signal/anyOf/0/enum", []string{fault.SignalProfile, fault.SignalStandard, fault.SignalJSONWithoutError}),
		)

		It("names the fault-only deviation", func() {
			Expect(pointerAt(doc, "/$defs/fault/properties/deviation/anyOf/1/const")).To(Equal(string(fault.DeviationRandomLifetime)))
		})

		It("takes exactly one of Step's actions, alone for the parameterless ones, with expect for those that call", func() {
			actions := without(yamlKeys(reflect.TypeFor[scenarios.Step]()), "expect", "counts", "fired", "tenant")
			Expect(actions).To(Equal(scenarios.Actions()), "Step's action fields, in the order of Actions")
			Expect(requiredNames(pointerAt(doc, "/$defs/stepMapping/oneOf"))).To(ConsistOf(actions))

			var bare, calling []string
			for _, a := range actions {
				var s scenarios.Step
				setSomething(fieldByKey(reflect.ValueOf(&s).Elem(), a))
				Expect(s.Action()).To(Equal(a))
				if s.Calls() > 0 {
					calling = append(calling, a)
				}
				// The loader lets the actions that are a bare true stand alone,
				// and a storage-key rotation, whose options all default.
				if fieldByKey(reflect.ValueOf(s), a).Kind() == reflect.Bool || a == "rotate_storage_key" {
					bare = append(bare, a)
				}
			}
			Expect(requiredNames(pointerAt(doc, "/$defs/stepMapping/dependentSchemas/expect/anyOf"))).To(ConsistOf(calling))
			Expect(stringList(pointerAt(doc, "/$defs/step/oneOf/0/enum"))).To(ConsistOf(bare))
		})

		It("lists the yaml keys of a fault: its own and every kind's parameters", func() {
			Expect(keysAt(pointerAt(doc, "/$defs/fault/properties"))).To(ConsistOf(faultKeys()))
		})

		It("lets each fault kind take the parameters fault.Validate allows it", func() {
			for _, k := range fault.Kinds() {
				keys := stringList(pointerAt(kindRule(doc, k), "/then/propertyNames/enum"))
				Expect(keys).To(ContainElements("id", "kind", "match"), "fault kind %s", k)
				Expect(without(keys, "id", "kind", "match")).To(ConsistOf(acceptedParams(k)), "fault kind %s", k)
			}
		})
	})

	DescribeTable("accepts what the loader accepts",
		func(scenario string) {
			doc := "description: d\n" + scenario
			_, err := scenarios.Parse("ok.yaml", []byte(doc))
			Expect(err).NotTo(HaveOccurred(), "the loader refuses the example itself")
			Expect(compiledSchema("").Validate(jsonInstance([]byte(doc)))).To(Succeed())
		},
		Entry("bare steps", "steps: [restart, logout, reload]\n"),
		Entry("every action", `
steps:
  - authorize: bob
    expect: {outcome: reauthorize, reason: revoked}
  - callback: forged
    expect: [ok, error]
  - callback: replayed
  - call: {concurrent: 5}
    expect: any
  - call: {processes: 3}
  - advance: 1d12h
  - restart: true
  - fault: {id: lag, kind: propagation_delay, delay: 30s, on: revocation}
  - remove_fault: lag
  - revoke: {user: alice, reason: security}
  - revoke: {client: true}
  - rotate_secret: {grace: 0, expires_in: 90d}
  - rotate_secret: {reload: false}
  - reload: true
  - change_password: alice
  - logout: true
    expect: ok
  - publishing_status: testing
  - require_consent: bob
`),
		Entry("every fault kind", `
steps:
  - fault: {kind: rate_limit, signal: standard, status: 503, retry_after: 30s, retry_after_format: http_date, match: {endpoint: token, grant_type: refresh_token, nth: 3}}
  - fault: {kind: rate_limit, signal: okta, limit: 10, per: 1m, key: user}
  - fault: {kind: error, oauth_error: invalid_grant, error_description: gone, match: {endpoint: [token, revoke], count: 2}}
  - fault: {kind: error, situation: interaction_required}
  - fault: {kind: error, status: 502, body: "<html></html>", content_type: text/html, headers: {X-Trace: abc}}
  - fault: {kind: latency, jitter: 200ms, match: {probability: 0.5, seed: 7}}
  - fault: {kind: hang, max: 5s}
  - fault: {kind: reset, match: {from: 2h, until: "2026-03-01T00:00:00Z"}}
  - fault: {kind: malformed, mode: not_json}
  - fault: {kind: drop_after_commit, match: {client: demo, user: [alice, bob]}}
  - fault: {kind: skew, offset: -90s, match: {until: 1h}}
  - fault: {kind: backdate, by: 120s}
  - fault: {kind: deviation, deviation: random_access_token_lifetime, min_lifetime: 60m, max_lifetime: 90m}
  - fault: {kind: deviation, deviation: errors_as_200}
`),
		Entry("lists of outcomes", `
steps:
  - call: {}
    expect: [ok, temporary_error]
  - call: {times: 2}
    expect:
      - {outcome: reauthorize, reason: revoked}
      - interaction_required
  - call: {}
    expect: [any]
`),
		Entry("rounds of calls at once", `
requires: [client_credentials]
steps:
  - call: {concurrent: 20, times: 6, every: 12h}
  - call: {processes: 2, times: 3}
  - call: {client_credentials: true, concurrent: 4, times: 2, every: 1h}
`),
		Entry("counts and firings of a step and of the run", `
provider:
  faults: [{id: busy, kind: rate_limit, match: {count: 2}}]
steps:
  - authorize: alice
    counts: {authorizations: 1, token_requests: {min: 1}}
  - call: {times: 3}
    counts: {refreshes: 0}
    fired: {busy: {min: 1, max: 2}, late: 0}
  - advance: 1h
    counts: {api_calls: 0}
  - fault: {id: late, kind: reset}
expect:
  fired: {busy: 2, late: {max: 0}}
`),
		Entry("the provider answers that break a client's parser", `
steps:
  - fault: {id: no-error-member, kind: error, status: 400, body: '{"message":"invalid refresh token"}', content_type: application/json}
  - fault: {id: html-200, kind: error, status: 200, body: "<html><body>Sign in</body></html>", content_type: text/html}
  - fault: {id: spoilt-200, kind: malformed, mode: not_json, match: {endpoint: token}}
`),
		Entry("counts as numbers and ranges", `
steps: [restart]
expect:
  counts: {token_requests: 0, api_calls: {max: 3}, authorizations: {min: 1, max: 1}}
`),
		Entry("a whole scenario header", `
name: every-header.v2
tags: [rotation, a_b]
reproduces: a client that kept a rotated-out refresh token (RFC 6749 §6)
client: demo-public
requires: [refresh, restart, concurrency, logout, secret_rotation, shared_state]
provider:
  auto_approve: false
  users: [{id: carol, name: Carol, email: carol@example.test}]
steps:
  - authorize: carol
`),
	)

	// A provider section is what `oauthsim serve --config` reads, so the
	// config loader, which reads the same simulator.Config, judges it.
	DescribeTable("accepts the provider sections the config loader accepts",
		func(section string) {
			_, err := simulator.ParseConfig("config.yaml", []byte(section))
			Expect(err).NotTo(HaveOccurred(), "the config loader refuses the example itself")
			Expect(compiledSchema("#/$defs/provider").Validate(jsonInstance([]byte(section)))).To(Succeed())
		},
		Entry("profile overrides", `
profile:
  base: okta
  access_token_lifetime: 30m
  access_token_lifetime_max: 45m
  offline_access: scope
  testing_app_expiry: 7d
  deviations: [expires_in_string, invalid_grant_403]
  refresh:
    rotation: rotate_with_grace
    grace: 30s
    reuse_detection: revoke_family
    idle_timeout: 7d
    absolute_lifetime: 90d
    absolute_mode: inherited
    max_families_per_user_client: 100
    rotate_after: 1h
    on_reconsent: revoke
`),
		Entry("settings with their sources", `
profile:
  source: "a vendor's page"
  name: {value: my-okta, source: "renamed for the report"}
  code_lifetime: {value: 5m, source: "docs", unconfirmed: true}
  refresh:
    unconfirmed: true
    source: "forum thread"
    reuse_detection: {value: "off"}
    absolute_lifetime: {value: 0, source: "never"}
  responses:
    rate_limited:
      source: "docs"
      status: 429
      headers: {Retry-After: "{{.RetryAfterSeconds}}", X-Limit: {value: "{{.Limit}}", source: "docs"}}
      body: '{"error":"slow_down"}'
    refresh_token_revoked: {status: 400, content_type: text/plain, body: revoked}
`),
		Entry("clients and users", `
clients:
  - client_id: app
    client_secret: s3cret
    client_secret_expires_at: 2026-06-01T00:00:00Z
    previous_secrets:
      - {client_secret: old, replaced_at: 2026-01-01T00:00:00Z, valid_until: 2026-01-02 00:00:00, expires_at: 2026-02-01}
    redirect_uris: [http://127.0.0.1:3000/callback]
    grant_types: [authorization_code, refresh_token, client_credentials]
    scopes: [openid, api]
    token_endpoint_auth_methods: [client_secret_post]
    publishing_status: testing
  - client_id: spa
    public: true
    redirect_uris: [http://localhost/cb]
    token_endpoint_auth_methods: [none]
  - client_id: machine
    client_secret: m
    grant_types: [client_credentials]
users:
  - id: dave
faults:
  - {kind: hang}
`),
	)
})

// refuse changes the unbroken scenario, checks that the schema refuses the
// result at where (an instance location and keyword, as refusals lists
// them) and returns it as YAML. The unbroken scenario must validate, so
// that the change alone is what the schema refuses.
func refuse(change func(doc map[string]any), where string) []byte {
	sch := compiledSchema("")
	Expect(sch.Validate(jsonInstance([]byte(unbroken)))).To(Succeed(), "the unbroken document must validate")
	var doc map[string]any
	Expect(yaml.Unmarshal([]byte(unbroken), &doc)).To(Succeed())
	change(doc)
	data, err := yaml.Marshal(doc)
	Expect(err).NotTo(HaveOccurred())
	err = sch.Validate(jsonInstance(data))
	Expect(err).To(HaveOccurred(), "the schema accepts:\n%s", data)
	Expect(refusals(err)).To(ContainElement(where), "the schema refuses it elsewhere: %v", err)
	return data
}

// stepOf is step i of doc's timeline, as a mapping.
func stepOf(doc map[string]any, i int) map[string]any {
	return doc["steps"].([]any)[i].(map[string]any)
}

// firstFault is the first fault of doc's provider section.
func firstFault(doc map[string]any) map[string]any {
	return doc["provider"].(map[string]any)["faults"].([]any)[0].(map[string]any)
}

// countsOf is doc's expect.counts.
func countsOf(doc map[string]any) map[string]any {
	return doc["expect"].(map[string]any)["counts"].(map[string]any)
}
