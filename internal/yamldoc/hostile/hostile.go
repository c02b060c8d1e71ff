// Package hostile holds YAML files of the kinds that broke oauthsim's
// readers or their messages, for the fuzz targets of those readers to
// start from, and the check every such reader's error must pass.
package hostile

import (
	"fmt"
	"regexp"
	"strings"
)

// Files are hostile YAML files, each a few kilobytes at most, so that a
// fuzzer can mutate them quickly: bytes that are not UTF-8, control
// characters, nesting past yaml's limit, aliases that are missing, that
// contain themselves or that multiply, constructs left open, bad
// indentation, keys given twice, documents that are not mappings, byte
// order marks, long lines and values of the wrong type.
func Files() map[string][]byte {
	laughs := []string{"a0: &a0 [x, x, x, x, x, x, x, x, x, x]"}
	for i := 1; i < 9; i++ {
		laughs = append(laughs, fmt.Sprintf("a%d: &a%d [%s]", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", ")))
	}
	files := map[string]string{
		"empty":             "",
		"document marker":   "---\n",
		"two documents":     "name: a\n---\nname: b\n",
		"scalar document":   "just a string\n",
		"list document":     "- a\n- b\n",
		"bom and crlf":      "\ufeffname: bom\r\nsteps:\r\n  - authorize: alice\r\n",
		"tab indentation":   "name: t\nsteps:\n\t- authorize: alice\n",
		"bad indentation":   "steps:\n  - advance: 1s\n   - advance: 2s\n",
		"key under scalar":  "name: x\n  description: d\n",
		"unclosed sequence": "name: x\nsteps: [{advance: 1h}\nclient: demo\n",
		"unclosed mapping":  "provider: {profile: {base: okta}\n",
		"unclosed quote":    "name: \"abc\nsteps: []\n",
		"invalid utf-8":     "name: \xff\xfe\xc3\x28\nsteps:\n  - authorize: alice\n",
		"truncated utf-8":   "name: \xe2\x82",
		"nul":               "name: a\x00b\nsteps:\n  - authorize: alice\n",
		"control character": "users:\n  - id: a\x01\n",
		"utf-16":            "\xff\xfen\x00:\x00 \x00\xff\xdf\n\x00",
		"deep flow":         "steps: " + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + "\n",
		"deep flow mapping": "provider: " + strings.Repeat("{a: ", 10001) + "1" + strings.Repeat("}", 10001) + "\n",
		"deep block":        "steps:\n" + strings.Repeat("- ", 10001) + "x\n",
		"undefined alias":   "name: ua\nsteps: *nothere\n",
		"recursive anchor":  "name: rec\nsteps: &r\n  - call: *r\n",
		"merge of aliases":  "name: cyc\na: &a {b: 1}\nc:\n  <<: [*a, *a, *a]\nsteps:\n  - authorize: alice\n",
		"billion laughs":    strings.Join(laughs, "\n") + "\nname: lol\nsteps: *a8\n",
		"duplicate key":     "name: x\nsteps: []\nname: y\n",
		"bad tag":           "steps:\n  - advance: !!int 1h\n",
		"binary tag":        "name: !!binary '%%%'\n",
		"long line":         "name: " + strings.Repeat("a", 64<<10) + "\nsteps: [\n",
		"wrong types":       "steps:\n  - call: {times: 1.5, every: true}\n  - advance: 99999999999999999999d\nprovider:\n  profile: {refresh: {max_families_per_user_client: 99999999999999999999}}\n",
		"hostile fault":     "steps:\n  - fault: {kind: error, status: 500, headers: {\"X\": \"a\\r\\nSet-Cookie: evil=1\"}, match: {probability: .nan}}\n",
		"hostile config":    "profile:\n  base: \"../../../../etc/passwd\"\n  access_token_lifetime: -1h\nclients:\n  - client_id: x\n    redirect_uris: [\"javascript:alert(1)\"]\nusers:\n  - id: \"\"\n  - id: alice\n  - id: alice\nfaults:\n  - {kind: hang, max: 99999h}\n",
	}
	out := make(map[string][]byte, len(files))
	for name, f := range files {
		out[name] = []byte(f)
	}
	return out
}

// place is how each line of a reader's error goes on after the file's
// path: a line and a column, from 1.
var place = regexp.MustCompile(`^:[1-9][0-9]*:[1-9][0-9]*: `)

// Unlocated lists the lines of err's message that do not start with
// path:line:column, the place an editor or terminal can jump to.
func Unlocated(path string, err error) []string {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if rest, ok := strings.CutPrefix(line, path); !ok || !place.MatchString(rest) {
			out = append(out, line)
		}
	}
	return out
}
