package simulator

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/oauthsim/oauthsim/internal/yamldoc"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// Config is the YAML file `oauthsim serve --config` reads:
//
//	profile:
//	  base: generic            # a built-in profile; the keys below override it
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
type Config struct {
	Profile     ProfileConfig `yaml:"profile"`
	Clients     []Client      `yaml:"clients"`
	Users       []User        `yaml:"users"`
	AutoApprove *bool         `yaml:"auto_approve"`
}

// ProfileConfig is a built-in profile with overrides.
type ProfileConfig struct {
	Base            string `yaml:"base"`
	profile.Profile `yaml:",inline"`
}

// DefaultConfig is the configuration with no file: the generic profile, the
// demo clients and users, and auto-approval.
func DefaultConfig() Config {
	return Config{Profile: ProfileConfig{Base: "generic", Profile: profile.Generic()}}
}

// Options turns the configuration into simulator options.
func (c Config) Options() []Option {
	opts := []Option{WithProfile(c.Profile.Profile), WithClients(c.Clients...), WithUsers(c.Users...)}
	if c.AutoApprove != nil {
		opts = append(opts, WithAutoApprove(*c.AutoApprove))
	}
	return opts
}

// LoadConfig reads and checks a configuration file. Every problem is
// reported as path:line: message.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig is LoadConfig for data already read; path is used in messages.
func ParseConfig(path string, data []byte) (Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, yamldoc.Locate(path, err)
	}
	var head struct {
		Profile struct {
			Base string `yaml:"base"`
		} `yaml:"profile"`
	}
	_ = doc.Decode(&head) // type errors surface in the strict decode below
	base, ok := profile.Lookup(cmp.Or(head.Profile.Base, "generic"))
	if !ok {
		return Config{}, fmt.Errorf("%s:%d: profile.base: no built-in profile %q (built in: %s)",
			path, lineOf(&doc, "profile", "base"), head.Profile.Base, strings.Join(profile.Names(), ", "))
	}
	cfg := Config{Profile: ProfileConfig{Base: base.Name, Profile: base}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file is all defaults: the decoder answers io.EOF for it.
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, yamldoc.Locate(path, err)
	}
	var errs []error
	if err := cfg.Profile.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%s:%d: %w", path, lineOf(&doc, "profile"), err))
	}
	for i, c := range cfg.Clients {
		if _, err := c.normalize(); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: clients[%d]: %w", path, itemLine(&doc, "clients", i), i, err))
		}
	}
	for i, u := range cfg.Users {
		if err := u.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: users[%d]: %w", path, itemLine(&doc, "users", i), i, err))
		}
	}
	return cfg, errors.Join(errs...)
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
