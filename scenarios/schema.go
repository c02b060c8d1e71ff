package scenarios

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of a scenario file, for editors
// (the YAML language server) and for `oauthsim schema`. It describes what
// Parse accepts as far as a schema can: keys, types, closed sets of values,
// durations and one action per step. Cross-references such as a step's user
// existing in the provider are left to Parse.
//
//go:embed scenario.schema.json
var Schema []byte
