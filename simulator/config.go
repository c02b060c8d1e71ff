package simulator

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/internal/yamldoc"
	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Config is the YAML file `oauthsim serve --config` reads:
//
//	profile:
//	  base: okta               # a built-in profile (oauthsim profiles lists them; default generic)
//	  access_token_lifetime: 30m
//	  refresh:
//	    rotation: rotate_with_grace
//	    grace: 30s
//	    idle_timeout: 7d
//	clients:
//	  - client_id: my-app
//	    client_secret: my-secret
//	    redirect_uris: [http://127.0.0.1:3000/callback]
//	users:
//	  - id: carol
//	    name: Carol Example
//	auto_approve: true         # login_hint signs the user in without the login page
//	faults:
//	  - kind: rate_limit
//	    match: {endpoint: token, grant_type: refresh_token, nth: 3}
//	    retry_after: 30s
//
// The keys under profile override the base profile's values, and their
// source becomes "config file". LoadConfigWithBase chooses the base in the
// file's place.
type Config struct {
	Profile     ProfileConfig `yaml:"profile"`
	Clients     []Client      `yaml:"clients" example:"[{client_id: my-app, client_secret: my-secret, redirect_uris: [http://127.0.0.1:3000/callback]}]"`
	Users       []User        `yaml:"users" example:"[{id: carol, name: Carol Example}]"`
	AutoApprove *bool         `yaml:"auto_approve"`
	// Faults are active from the start (see package fault for their fields).
	Faults []fault.Fault `yaml:"faults" example:"[{kind: latency, delay: 200ms, match: {endpoint: token}}]"`
}

// ProfileConfig is a built-in profile with overrides.
type ProfileConfig struct {
	Base            string `yaml:"base"`
	profile.Profile `yaml:",inline"`
	// baseFixed says the caller chose Base (oauthsim serve --profile),
	// so the file's base key is not read.
	baseFixed bool
}

// configSource is the source of every profile value a config file sets:
// the data files' citation no longer applies to it.
var configSource = profile.Source{Ref: "config file"}

// UnmarshalYAML reads the profile section of a config file: the built-in
// profile its base key names (or the one already there: generic, or the
// caller's choice), with the other keys written over it.
func (pc *ProfileConfig) UnmarshalYAML(n *yaml.Node) error {
	if b := yamldoc.Child(n, "base"); b != nil && b.Value != "" && !pc.baseFixed {
		base, err := profile.Builtin(b.Value)
		if err != nil {
			// Problems let the decoder go on and report the rest of the file.
			return yamldoc.Problems(yamldoc.At(b, "profile.base: %v", err))
		}
		pc.Base, pc.Profile = base.Name, base
	}
	p, err := profile.Override(pc.Profile, n, &configSource)
	if err != nil {
		return err
	}
	pc.Profile = p
	return nil
}

// DefaultConfig is the configuration with no file: the generic profile, the
// demo clients and users, and auto-approval.
func DefaultConfig() Config {
	return Config{Profile: ProfileConfig{Base: "generic", Profile: profile.Generic()}}
}

// Options turns the configuration into simulator options.
func (c Config) Options() []Option {
	opts := []Option{WithProfile(c.Profile.Profile), WithClients(c.Clients...), WithUsers(c.Users...), WithFaults(c.Faults...)}
	if c.AutoApprove != nil {
		opts = append(opts, WithAutoApprove(*c.AutoApprove))
	}
	return opts
}

// LoadConfig reads and checks a configuration file. Every problem is
// reported as path:line:column: message.
func LoadConfig(path string) (Config, error) { return LoadConfigWithBase(path, "") }

// LoadConfigWithBase is LoadConfig with the profile's base chosen by the
// caller, as `oauthsim serve --profile` does: base wins over the file's
// profile.base, and the file's other profile keys still override it. An
// empty base leaves the choice to the file.
func LoadConfigWithBase(path, base string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return parseConfig(path, data, base)
}

// ParseConfig is LoadConfig for data already read; path is used in messages.
func ParseConfig(path string, data []byte) (Config, error) {
	return parseConfig(path, data, "")
}

// parseConfig is ParseConfig with the profile's base fixed, unless base is
// empty.
func parseConfig(path string, data []byte, base string) (Config, error) {
	doc, _, err := yamldoc.Parse(path, data)
	if err != nil {
		return Config{}, err
	}
	cfg := DefaultConfig()
	if base != "" {
		p, err := profile.Builtin(base)
		if err != nil {
			return Config{}, err
		}
		cfg.Profile = ProfileConfig{Base: p.Name, Profile: p, baseFixed: true}
	}
	root := yamldoc.Root(doc)
	if root.Kind != yaml.MappingNode && root.Kind != yaml.DocumentNode && root.ShortTag() != "!!null" {
		return Config{}, yamldoc.Locate(path, yamldoc.Problems(yamldoc.At(root, "a config file is a mapping, e.g. `clients: [{client_id: my-app}]` (fields: %s)", strings.Join(yamldoc.Keys(reflect.TypeFor[Config]()), ", "))))
	}
	ps, complete := yamldoc.DecodeChecked(root, &cfg, "the config")
	if complete {
		// Every problem of the file at once, not those of decoding first
		// and the rest once they are fixed.
		ps = append(ps, unsettled(cfg.problems(doc), ps)...)
	}
	if len(ps) > 0 {
		return Config{}, yamldoc.Locate(path, yamldoc.Problems(yamldoc.Sorted(ps)...))
	}
	return cfg, nil
}

// Check finds what decoding alone does not: an inconsistent profile, and
// clients and users the simulator would refuse. n is the configuration's
// node in the file at path (a document, or a mapping inside a larger file
// such as a scenario's provider section); every problem is reported as
// path:line:column: message, at the setting, client or user it is about.
func (c Config) Check(path string, n *yaml.Node) error {
	if ps := c.problems(n); len(ps) > 0 {
		return yamldoc.Locate(path, yamldoc.Problems(ps...))
	}
	return nil
}

// problems lists what Check reports, each at its node.
func (c Config) problems(n *yaml.Node) []*yaml.LoadError {
	root := yamldoc.Root(n)
	at := func(key string) *yaml.Node {
		if v := yamldoc.Child(root, key); v != nil {
			return v
		}
		return root
	}
	ps := c.Profile.ValidateAt(at("profile"))
	// Each line of a joined error on its own, with the place and the item.
	each := func(key string, i int, err error) {
		for _, line := range strings.Split(err.Error(), "\n") {
			ps = append(ps, yamldoc.At(item(at(key), i), "%s[%d]: %s", key, i, line))
		}
	}
	for i, cl := range c.Clients {
		if _, err := cl.normalize(); err != nil {
			each("clients", i, err)
		} else if _, err := cl.amend(c.Profile.Profile); err != nil {
			// Its own lifetimes, over the profile of the same file.
			each("clients", i, err)
		}
	}
	for i, u := range c.Users {
		if err := u.validate(); err != nil {
			each("users", i, err)
		}
	}
	for _, d := range repeatedIDs(c.Clients, c.Users) {
		ps = append(ps, yamldoc.At(item(at(d.list), d.at), "%s", d.Error()))
	}
	return ps
}

// itemSetting finds the client or user a problem is about, and the
// setting, in decoding's messages: "clients[0].redirect_uris takes a list".
var itemSetting = regexp.MustCompile(`^((?:clients|users)\[\d+\])(?:\.([a-z_]+))?`)

// misnamed finds, in decoding's messages, an unknown field of a client or
// user taken for a setting: `unknown field "id" in clients[0]: did you mean
// "client_id"?`.
var misnamed = regexp.MustCompile(`^unknown field "[^"]*" in ((?:clients|users)\[\d+\]): did you mean "([a-z_]+)"`)

// unsettled leaves out of checked, the problems Check found, those about a
// client's or user's setting that decoding found a problem with, or that
// the client spelled another way: the setting was left out for it, and
// "redirect_uris are required" beside "redirect_uris takes a list", or
// "client_id is required" beside `unknown field "id" … did you mean
// "client_id"?`, would send the reader looking for a second mistake.
func unsettled(checked, decoded []*yaml.LoadError) []*yaml.LoadError {
	bad := map[string][]string{}
	for _, p := range decoded {
		if m := itemSetting.FindStringSubmatch(p.Message); m != nil && m[2] != "" {
			bad[m[1]] = append(bad[m[1]], m[2])
		}
		if m := misnamed.FindStringSubmatch(p.Message); m != nil {
			bad[m[1]] = append(bad[m[1]], m[2])
		}
	}
	var out []*yaml.LoadError
	for _, p := range checked {
		m := itemSetting.FindStringSubmatch(p.Message)
		if m == nil || !slices.ContainsFunc(bad[m[1]], func(setting string) bool { return strings.Contains(p.Message, setting) }) {
			out = append(out, p)
		}
	}
	return out
}

// repeatedID is a client or user id that a configuration lists twice.
type repeatedID struct {
	list      string // "clients" or "users"
	id        string
	first, at int
}

func (d repeatedID) Error() string {
	return fmt.Sprintf("%s[%d]: id %q is %s[%d]'s already; one would silently replace the other", d.list, d.at, d.id, d.list, d.first)
}

// repeatedIDs finds the ids that clients or users list twice, each time
// after the first.
func repeatedIDs(clients []Client, users []User) []repeatedID {
	var out []repeatedID
	find := func(list string, ids []string) {
		first := map[string]int{}
		for i, id := range ids {
			if j, seen := first[id]; seen && id != "" {
				out = append(out, repeatedID{list: list, id: id, first: j, at: i})
				continue
			}
			first[id] = i
		}
	}
	find("clients", idsOf(clients, func(c Client) string { return c.ID }))
	find("users", idsOf(users, func(u User) string { return u.ID }))
	return out
}

func idsOf[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, item := range items {
		out[i] = id(item)
	}
	return out
}

// item is item i of the sequence n, or n.
func item(n *yaml.Node, i int) *yaml.Node {
	if n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i]
	}
	return n
}
