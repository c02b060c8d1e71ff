// Package yamldoc holds what the readers of oauthsim's YAML files share:
// error messages that point into the file, and key lookup in yaml nodes.
package yamldoc

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// position matches the place yaml puts before its messages, "line 3: ",
// and the one oauthsim's own unmarshalers use, "line 3:7: ".
var position = regexp.MustCompile(`^(?:yaml: )?line (\d+(?::\d+)?): `)

// Locate rewrites yaml's "line N[:C]: msg" errors as "path:N[:C]: msg",
// one line per message, so that editors and terminals can jump to them.
func Locate(path string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = path + ":" + position.ReplaceAllString(m, "$1: ")
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	msg := err.Error()
	if position.MatchString(msg) {
		return errors.New(path + ":" + position.ReplaceAllString(msg, "$1: "))
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Root is the top node of a document: its content, or n itself when n is
// not a document node or the document is empty.
func Root(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// Child is the value of key in the mapping n, or nil.
func Child(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
