package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/scenarios"
)

var _ = Describe("A scenario value of the wrong shape", func() {
	// Each entry is a file's lines after its description, and the one
	// message the loader must give for it: the place, the key, what it
	// takes, and an example to copy.
	DescribeTable("is reported at its place with what the key takes and an example",
		func(doc, want string) {
			_, err := scenarios.Parse("f.yaml", []byte("description: d\n"+doc))
			Expect(err).To(MatchError(want))
		},
		Entry("revoke given a user alone", "steps:\n  - authorize: alice\n  - revoke: alice\n",
			"f.yaml:4:13: revoke takes a mapping, e.g. `revoke: {user: alice}` (fields: all, client, reason, user)"),
		Entry("revoke.user given a list", "steps:\n  - revoke: {user: [alice]}\n",
			"f.yaml:3:20: revoke.user takes a single value, not a list, e.g. `user: alice`"),
		Entry("revoke.all given a number", "steps:\n  - revoke: {all: 1}\n",
			"f.yaml:3:19: revoke.all takes true or false, e.g. `all: true`"),
		Entry("revoke.client given a word", "steps:\n  - revoke: {client: yes}\n",
			"f.yaml:3:22: revoke.client takes true or false, e.g. `client: true`"),
		Entry("revoke.reason given a mapping", "steps:\n  - revoke: {all: true, reason: {why: x}}\n",
			"f.yaml:3:33: revoke.reason takes a single value, not a mapping, e.g. `reason: security`"),
		Entry("call given a number", "steps:\n  - call: 3\n",
			"f.yaml:3:11: call takes a mapping, e.g. `call: {times: 3, every: 20m}` (fields: client_credentials, concurrent, every, processes, times)"),
		Entry("call.times given a word", "steps:\n  - call: {times: many}\n",
			"f.yaml:3:19: call.times takes a whole number, e.g. `times: 3`"),
		Entry("call.concurrent given a list", "steps:\n  - call: {concurrent: [2]}\n",
			"f.yaml:3:24: call.concurrent takes a whole number, e.g. `concurrent: 3`"),
		Entry("call.processes given a fraction", "steps:\n  - call: {processes: 1.5}\n",
			"f.yaml:3:23: call.processes takes a whole number, e.g. `processes: 3`"),
		Entry("call.every given a list", "steps:\n  - call: {times: 2, every: [1h]}\n",
			"f.yaml:3:29: call.every takes a duration (forms like 90s, 10m, 1h, 7d), e.g. `every: 20m`"),
		Entry("call.client_credentials given a word", "requires: [client_credentials]\nsteps:\n  - call: {client_credentials: yes}\n",
			"f.yaml:4:32: call.client_credentials takes true or false, e.g. `client_credentials: true`"),
		Entry("advance given a mapping", "steps:\n  - advance: {hours: 1}\n",
			"f.yaml:3:14: advance takes a duration (forms like 90s, 10m, 1h, 7d), e.g. `advance: 61m`"),
		Entry("authorize given a mapping", "steps:\n  - authorize: {user: alice}\n",
			"f.yaml:3:16: authorize takes a single value, not a mapping, e.g. `authorize: alice`"),
		Entry("callback given a list", "steps:\n  - authorize: alice\n  - callback: [forged]\n",
			"f.yaml:4:15: callback takes a single value, not a list, e.g. `callback: forged`"),
		Entry("restart given a number", "steps:\n  - restart: 3\n",
			"f.yaml:3:14: restart takes true or false, e.g. `restart: true`"),
		Entry("reload given a list", "steps:\n  - reload: [now]\n",
			"f.yaml:3:13: reload takes true or false, e.g. `reload: true`"),
		Entry("logout given a mapping", "steps:\n  - logout: {now: true}\n",
			"f.yaml:3:13: logout takes true or false, e.g. `logout: true`"),
		Entry("remove_fault given a mapping", "steps:\n  - remove_fault: {id: lose}\n",
			"f.yaml:3:19: remove_fault takes a single value, not a mapping, e.g. `remove_fault: lose`"),
		Entry("rotate_secret given a word", "steps:\n  - rotate_secret: yes\n",
			"f.yaml:3:20: rotate_secret takes a mapping, e.g. `rotate_secret: {grace: 1h}` (fields: expires_in, grace, reload)"),
		Entry("rotate_secret.grace given a list", "steps:\n  - rotate_secret: {grace: [1h]}\n",
			"f.yaml:3:28: rotate_secret.grace takes a duration (forms like 90s, 10m, 1h, 7d), e.g. `grace: 90s`"),
		Entry("change_password given a list", "steps:\n  - change_password: [alice]\n",
			"f.yaml:3:22: change_password takes a single value, not a list, e.g. `change_password: alice`"),
		Entry("publishing_status given a mapping", "steps:\n  - publishing_status: {to: testing}\n",
			"f.yaml:3:24: publishing_status takes a single value, not a mapping, e.g. `publishing_status: testing`"),
		Entry("require_consent given a list", "steps:\n  - require_consent: [alice]\n",
			"f.yaml:3:22: require_consent takes a single value, not a list, e.g. `require_consent: alice`"),
		Entry("a fault given a number", "steps:\n  - fault: 3\n",
			"f.yaml:3:12: a fault is a mapping with a kind and its parameters, e.g. `{kind: latency, delay: 200ms, match: {endpoint: token}}`"),
		Entry("a fault's duration given a list", "steps:\n  - fault: {kind: latency, delay: [1s]}\n",
			"f.yaml:3:35: delay takes a duration (forms like 90s, 10m, 1h, 7d), e.g. `delay: 90s`"),
		Entry("a step's counts given a number", "steps:\n  - advance: 1h\n    counts: 3\n",
			"f.yaml:4:13: counts takes a mapping, e.g. `counts: {refreshes: {max: 3}}`"),
		Entry("a count given a list", "steps:\n  - advance: 1h\n    counts: {refreshes: [1]}\n",
			"f.yaml:4:25: counts.refreshes takes a count: a whole number, or {min, max} with either or both, e.g. `refreshes: {min: 1, max: 3}`"),
		Entry("a count given a word", "steps:\n  - advance: 1h\n    counts: {refreshes: some}\n",
			"f.yaml:4:25: a count is a whole number, or {min, max} with either or both: e.g. `3` or `{min: 1, max: 3}`"),
		Entry("a count's max given a word", "steps:\n  - advance: 1h\n    counts: {refreshes: {max: few}}\n",
			"f.yaml:4:31: max takes a whole number, e.g. `max: 3`"),
		Entry("a step's fired given a list", "steps:\n  - advance: 1h\n    fired: [1]\n",
			"f.yaml:4:12: fired takes a mapping, e.g. `fired: {lose: 1}`"),
		Entry("tags given a word", "tags: okta\nsteps: [{advance: 1h}]\n",
			"f.yaml:2:7: tags takes a list, e.g. `tags: [okta, rotation]`"),
		Entry("requires given a word", "requires: refresh\nsteps: [{advance: 1h}]\n",
			"f.yaml:2:11: requires takes a list, e.g. `requires: [refresh, restart]`"),
		Entry("steps given a mapping", "steps: {advance: 1h}\n",
			"f.yaml:2:8: steps takes a list, e.g. `steps: [{authorize: alice}, {call: {}}]`"),
		Entry("the run's expect given a word", "steps: [{advance: 1h}]\nexpect: ok\n",
			"f.yaml:3:9: expect takes a mapping, e.g. `expect: {counts: {refreshes: {max: 3}}}` (fields: counts, fired)"),
		Entry("waive given a list", "steps: [{advance: 1h}]\nwaive: [no-expired-access-token]\n",
			"f.yaml:3:8: waive takes a mapping, e.g. `waive: {no-expired-access-token: why it cannot judge this scenario}`"),
		Entry("client given a mapping", "client: {id: demo}\nsteps: [{advance: 1h}]\n",
			"f.yaml:2:9: client takes a single value, not a mapping, e.g. `client: demo`"),
		Entry("provider given a word", "provider: okta\nsteps: [{advance: 1h}]\n",
			"f.yaml:2:11: provider takes a mapping, e.g. `provider: {profile: {base: okta}}` (fields: auto_approve, clients, faults, profile, users)"),
		Entry("the provider's clients given a word", "provider: {clients: my-app}\nsteps: [{advance: 1h}]\n",
			"f.yaml:2:21: provider.clients takes a list, e.g. `clients: [{client_id: my-app, client_secret: my-secret, redirect_uris: [http://127.0.0.1:3000/callback]}]`"),
	)

	DescribeTable("an unknown key is named with the fields there are, and the one meant where it is close",
		func(doc, want string) {
			_, err := scenarios.Parse("f.yaml", []byte("description: d\n"+doc))
			Expect(err).To(MatchError(want))
		},
		Entry("in revoke", "steps:\n  - revoke: {usr: alice}\n",
			`f.yaml:3:14: unknown field "usr" in revoke: did you mean "user"? (fields: all, client, reason, user)`),
		Entry("in a step", "steps:\n  - advanc: 1h\n",
			`f.yaml:3:5: unknown field "advanc" in a step: did you mean "advance"? (fields: advance, authorize, call, callback, change_password, close_tab, counts, expect, fault, fired, hide_tab, logout, move_origin, navigate, open_tab, publishing_status, reload, remove_fault, require_consent, restart, revoke, rotate_secret, rotate_storage_key, show_tab, suspend, tenant, third_party_cookies)`),
		Entry("at the top", "step: [{advance: 1h}]\n",
			"f.yaml:1:1: steps: a scenario needs at least one step\n"+
				`f.yaml:2:1: unknown field "step" in a scenario: did you mean "steps"? (fields: browser, client, description, expect, name, provider, reproduces, requires, steps, tags, tenants, waive)`),
		Entry("with nothing close", "steps: [{advance: 1h}]\ncolour: red\n",
			`f.yaml:3:1: unknown field "colour" in a scenario (fields: browser, client, description, expect, name, provider, reproduces, requires, steps, tags, tenants, waive)`),
		Entry("in a provider's client", "provider:\n  clients: [{client_id: a, client_secret: s, redirect_uris: [http://127.0.0.1/cb], scope: [api]}]\nsteps: [{advance: 1h}]\n",
			`f.yaml:3:84: unknown field "scope" in provider.clients[0]: did you mean "scopes"? (fields: access_token_lifetime, allowed_origins, client_id, client_secret, client_secret_expires_at, grant_types, platform, previous_secrets, public, publishing_status, redirect_uris, refresh, scopes, token_endpoint_auth_methods)`),
	)
})
