package main

import (
	"bytes"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("oauthsim validate and serve --config on a file with mistakes", func() {
	// write puts content in a file named name in a new directory, and
	// returns its path.
	write := func(name, content string) string {
		path := filepath.Join(GinkgoT().TempDir(), name)
		Expect(os.WriteFile(path, []byte(content), 0o600)).To(Succeed())
		return path
	}

	DescribeTable("say, at the file's line and column, what was expected with an example, and exit 2",
		func(command, name, content string, want string) {
			path := write(name, content)
			var stdout, stderr bytes.Buffer
			args := []string{"validate", path}
			if command == "serve" {
				args = []string{"serve", "--addr", "127.0.0.1:0", "--config", path}
			}
			Expect(run(args, &stdout, &stderr)).To(Equal(exitUsage))
			Expect(stderr.String()).To(Equal("oauthsim: " + path + want + "\n"))
		},
		Entry("a revoke step given a user alone", "validate", "f.yaml",
			"name: f\ndescription: d\nsteps:\n  - authorize: alice\n  - call: {}\n  - advance: 1h\n  - revoke: alice\n",
			":7:13: revoke takes a mapping, e.g. `revoke: {user: alice}` (fields: all, client, reason, user)"),
		Entry("a misspelt step field", "validate", "f.yaml",
			"description: d\nsteps:\n  - call: {times: 2, evry: 1h}\n",
			`:3:22: unknown field "evry" in call: did you mean "every"? (fields: client_credentials, concurrent, every, processes, times)`),
		Entry("a config's unknown client field", "serve", "c.yaml",
			"clients:\n  - client_id: a\n    client_secret: s\n    redirect_uris: [http://127.0.0.1/cb]\n    colour: red\n",
			`:5:5: unknown field "colour" in clients[0] (fields: access_token_lifetime, allowed_origins, client_id, client_secret, client_secret_expires_at, grant_types, platform, previous_secrets, public, publishing_status, redirect_uris, refresh, scopes, token_endpoint_auth_methods)`),
		Entry("a config's user given as a word", "serve", "c.yaml",
			"users: carol\n",
			":1:8: users takes a list, e.g. `users: [{id: carol, name: Carol Example}]`"),
	)
})
