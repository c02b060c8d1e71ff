package simulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

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
	Clients     []Client      `yaml:"clients"`
	Users       []User        `yaml:"users"`
	AutoApprove *bool         `yaml:"auto_approve"`
	// Faults are active from the start (see package fault for their fields).
	Faults []fault.Fault `yaml:"faults"`
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
			// A TypeError lets the decoder go on and report the rest of the file.
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d:%d: profile.base: %v", b.Line, b.Column, err)}}
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
// reported as path:line: message.
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
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, yamldoc.Locate(path, err)
	}
	cfg := DefaultConfig()
	if base != "" {
		p, err := profile.Builtin(base)
		if err != nil {
			return Config{}, err
		}
		cfg.Profile = ProfileConfig{Base: p.Name, Profile: p, baseFixed: true}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file is all defaults: the decoder answers io.EOF for it.
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, yamldoc.Locate(path, err)
	}
	return cfg, cfg.Check(path, &doc)
}

// Check finds what decoding alone does not: an inconsistent profile, and
// clients and users the simulator would refuse. n is the configuration's
// node in the file at path (a document, or a mapping inside a larger file
// such as a scenario's provider section); every problem is reported as
// path:line: message.
func (c Config) Check(path string, n *yaml.Node) error {
	var errs []error
	if err := c.Profile.Validate(); err != nil {
		// One line per problem, each with the place, as the other messages.
		for _, line := range strings.Split(err.Error(), "\n") {
			errs = append(errs, fmt.Errorf("%s:%d: %s", path, lineOf(n, "profile"), line))
		}
	}
	for i, cl := range c.Clients {
		if _, err := cl.normalize(); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: clients[%d]: %w", path, itemLine(n, "clients", i), i, err))
		}
	}
	for i, u := range c.Users {
		if err := u.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: users[%d]: %w", path, itemLine(n, "users", i), i, err))
		}
	}
	for _, d := range repeatedIDs(c.Clients, c.Users) {
		errs = append(errs, fmt.Errorf("%s:%d: %w", path, itemLine(n, d.list, d.at), d))
	}
	return errors.Join(errs...)
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

// lineOf finds the line of the value at a key path in doc, or of the
// deepest key found; 1 when the file is empty.
func lineOf(doc *yaml.Node, keys ...string) int {
	n := yamldoc.Root(doc)
	line := n.Line
	for _, k := range keys {
		next := yamldoc.Child(n, k)
		if next == nil {
			break
		}
		n, line = next, next.Line
	}
	if line == 0 {
		return 1
	}
	return line
}

// itemLine finds the line of item i of the sequence under key.
func itemLine(doc *yaml.Node, key string, i int) int {
	n := yamldoc.Root(doc)
	if seq := yamldoc.Child(n, key); seq != nil && seq.Kind == yaml.SequenceNode && i < len(seq.Content) {
		return seq.Content[i].Line
	}
	return lineOf(doc, key)
}
