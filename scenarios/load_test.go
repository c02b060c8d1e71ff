package scenarios_test

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/scenarios"
	"github.com/oauthsim/oauthsim/simulator/fault"
)

// broken is a scenario with one problem of each sort; the comments after
// each line are the messages the loader must give for it.
const broken = `name: Bad Name
tags: [ok, "no way"]
requires: [refresh, teleport]
provider:
  profile: {base: nosuch}
steps:
  - authorize: carol
  - call: {concurrent: 3, processes: 4}
    expect: maybe
  - advance: -1h
  - {advance: 1h, restart: true}
  - restart: true
    expect: ok
  - remove_fault: nope
  - jump: 3
  - fault: {kind: rate_limit, retry_aftr: 3s}
  - revoke: {user: alice, all: true, reason: boredom}
  - sing
  - ~
  - call: {tims: 2}
expect:
  counts: {refreshs: 2, refreshes: {min: 3, max: 1}, reuse_detected: -1}
`

var _ = Describe("Loading a scenario", func() {
	It("reports every problem in the file at its line and column, in file order", func() {
		_, err := scenarios.Parse("bad.yaml", []byte(broken))
		Expect(err).To(HaveOccurred())
		Expect(strings.Split(err.Error(), "\n")).To(Equal([]string{
			`bad.yaml:1:1: description: say what the scenario shows, for the reports`,
			`bad.yaml:1:7: name "Bad Name": use lower-case letters, digits, '-', '_' and '.'`,
			`bad.yaml:2:12: tag "no way": use lower-case letters, digits, '-', '_' and '.'`,
			`bad.yaml:3:21: unknown capability "teleport" (known: refresh, restart, concurrency, logout, secret_rotation, shared_state, client_credentials, encrypts_at_rest, key_rotation, multi_tenant, browser, spa)`,
			`bad.yaml:5:19: profile.base: no built-in profile "nosuch" (built in: auth0, dropbox, entra, entra-spa, generic, github, google, intuit, keycloak, okta, okta-custom, oracle-idcs, salesforce, slack, xero)`,
			`bad.yaml:7:5: no user "carol": the provider has alice, bob`,
			`bad.yaml:8:11: call: give one of concurrent and processes (times, the rounds, goes with either)`,
			`bad.yaml:9:13: expect: unknown outcome "maybe" (known: ok, reauthorize, interaction_required, configuration_error, temporary_error, unauthorized, error, any)`,
			`bad.yaml:10:14: advance: the clock only moves forward; give a positive duration`,
			`bad.yaml:11:5: a step has one action, this one has 2 (advance, restart): split it into steps`,
			`bad.yaml:13:5: expect: a restart step makes no client call to expect anything of`,
			`bad.yaml:14:5: remove_fault: no fault "nope" is active at this step (give faults an id to remove them)`,
			`bad.yaml:15:5: unknown field "jump" in a step (fields: advance, authorize, call, callback, change_password, close_tab, counts, expect, fault, fired, hide_tab, logout, move_origin, navigate, open_tab, publishing_status, reload, remove_fault, require_consent, restart, revoke, rotate_secret, rotate_storage_key, show_tab, suspend, tenant, third_party_cookies)`,
			`bad.yaml:16:31: unknown field "retry_aftr" in a fault: did you mean "retry_after"? (fields: body, by, content_type, delay, deviation, error_description, headers, id, jitter, key, kind, limit, match, max, max_lifetime, min_lifetime, mode, oauth_error, offset, on, per, retry_after, retry_after_format, signal, situation, status)`,
			`bad.yaml:17:13: revoke: give exactly one of user, client: true and all: true`,
			`bad.yaml:17:38: revoke.reason "boredom" is not one of user, admin, password_change, security`,
			`bad.yaml:18:5: step "sing": a step is a mapping with one action (authorize, callback, call, advance, restart, fault, remove_fault, revoke, rotate_secret, rotate_storage_key, reload, change_password, logout, publishing_status, require_consent, suspend, open_tab, close_tab, navigate, hide_tab, show_tab, move_origin, third_party_cookies); only restart, logout, reload, move_origin and rotate_storage_key stand alone`,
			`bad.yaml:19:5: an empty step: give it an action`,
			`bad.yaml:20:12: unknown field "tims" in call: did you mean "times"? (fields: client_credentials, concurrent, every, processes, times)`,
			`bad.yaml:22:12: unknown count "refreshs" (known: api_calls, authorizations, families_revoked, refreshes, reuse_detected, revocations, token_requests, unauthorized)`,
			`bad.yaml:22:25: count "refreshes": min 3 is above max 1`,
			`bad.yaml:22:54: count "reuse_detected": counts are not negative`,
		}))
	})

	DescribeTable("refuses, at the place, what a run could not carry out or would lose",
		func(doc, want string) {
			_, err := scenarios.Parse("f.yaml", []byte("description: d\n"+doc))
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("a second document", "steps: [{advance: 1h}]\n---\nsteps: [{advance: 2h}]\n", "f.yaml:4:1: a second document: one scenario per file"),
		Entry("an unknown client", "client: nosuch\nsteps: [{advance: 1h}]\n", `f.yaml:2:9: no client "nosuch": the provider has demo, demo-public`),
		Entry("a hang without a max", "steps:\n  - fault: {kind: hang}\n", "f.yaml:3:5: a hang in a scenario needs a max of at most 10s"),
		Entry("a long latency from the start", "provider:\n  faults: [{kind: latency, delay: 9s, jitter: 2s}]\nsteps: [{advance: 1h}]\n", "f.yaml:3:12: a latency in a scenario is at most 10s"),
		Entry("an unknown reason", "steps:\n  - call: {}\n    expect: {outcome: reauthorize, reason: bored}\n", `f.yaml:4:13: expect.reason: unknown reason "bored"`),
		Entry("an unknown outcome in a list, at that item", "steps:\n  - call: {}\n    expect: [ok, fine]\n", `f.yaml:4:18: expect: unknown outcome "fine"`),
		Entry("an unknown outcome in a block list, at that item", "steps:\n  - call: {}\n    expect:\n      - temporary_error\n      - outcome: maybe\n", `f.yaml:6:9: expect: unknown outcome "maybe"`),
		Entry("an unknown reason in a list, at that item", "steps:\n  - call: {}\n    expect: [ok, {outcome: reauthorize, reason: bored}]\n", `f.yaml:4:18: expect.reason: unknown reason "bored"`),
		Entry("a reason in a list on an outcome other than reauthorize", "steps:\n  - call: {}\n    expect: [{outcome: ok, reason: revoked}, reauthorize]\n", `f.yaml:4:14: expect.reason: only a reauthorize outcome has a reason`),
		Entry("an unknown key in a list's item, at that key", "steps:\n  - call: {}\n    expect: [ok, {outcome: reauthorize, reasn: x}]\n", `f.yaml:4:41: unknown field "reasn" in expect`),
		Entry("an empty list", "steps:\n  - call: {}\n    expect: []\n", `f.yaml:4:13: expect: an empty list allows no outcome; name one or more`),
		Entry("a waiver of a check that does not exist, with no harness linked in", "steps: [{advance: 1h}]\nwaive:\n  no-such-check: because\n", `f.yaml:4:3: waive: unknown check "no-such-check" (known: expectations, `),
		Entry("a list in a list", "steps:\n  - call: {}\n    expect: [ok, [temporary_error]]\n", `f.yaml:4:18: expect: a list of outcomes holds no list`),
		Entry("a list on a step that makes no call", "steps:\n  - advance: 1h\n    expect: [ok, temporary_error]\n", `f.yaml:4:5: expect: an advance step makes no client call`),
		Entry("a timeline beyond a century", "steps: [{advance: 36600d}]\n", "the timeline covers more than 36500d of sim time"),
		Entry("a bad duration, with the rest still reported", "steps:\n  - advance: 5 minutes\n  - authorize: mallory\n",
			"f.yaml:3:14: invalid duration \"5 minutes\": use forms like 90s, 10m, 1h, 7d\nf.yaml:4:5: no user \"mallory\""),
		Entry("calls both concurrent and from processes", "steps:\n  - call: {concurrent: 2, processes: 2, times: 3}\n",
			"f.yaml:3:11: call: give one of concurrent and processes (times, the rounds, goes with either)"),
		Entry("rounds that make too many calls", "steps:\n  - call: {concurrent: 20, times: 60}\n",
			"f.yaml:3:11: call: 60 rounds of 20 calls are 1200 calls; a step makes at most 1000"),
		Entry("reload: false", "steps:\n  - advance: 1h\n  - reload: false\n",
			"f.yaml:4:5: reload: give it a value (for restart, logout and reload: true)"),
		Entry("an expectation on a reload", "steps:\n  - reload: true\n    expect: ok\n",
			"f.yaml:4:5: expect: a reload step makes no client call to expect anything of"),
		Entry("a rotate_secret's reload that is not true or false", "steps:\n  - rotate_secret: {reload: later}\n",
			"f.yaml:3:29: rotate_secret.reload takes true or false, e.g. `reload: true`"),
		Entry("an unknown callback", "steps:\n  - authorize: alice\n  - callback: stolen\n",
			`f.yaml:4:15: callback "stolen" is not one of forged, replayed`),
		Entry("a callback before any authorize", "steps:\n  - callback: replayed\n  - authorize: alice\n",
			"f.yaml:3:5: callback: needs an authorize step before it"),
		Entry("an unknown counter on a step, at its key", "steps:\n  - advance: 1h\n    counts: {refreshes: 0, naps: 1}\n",
			`f.yaml:4:28: unknown count "naps" (known: api_calls, authorizations, families_revoked, refreshes, reuse_detected, revocations, token_requests, unauthorized)`),
		Entry("a step's count no number meets", "steps:\n  - advance: 1h\n    counts: {refreshes: {min: 2, max: 1}}\n",
			`f.yaml:4:14: count "refreshes": min 2 is above max 1`),
		Entry("an unknown key in a step's count", "steps:\n  - advance: 1h\n    counts: {refreshes: {mn: 2}}\n",
			`f.yaml:4:26: unknown field "mn" in a count (fields: max, min)`),
		Entry("a step's firings of a fault the file does not name", "provider:\n  faults: [{id: slow, kind: latency, delay: 1ms}]\nsteps:\n  - call: {}\n    fired: {slow: 1, slo: 1}\n",
			`f.yaml:6:22: fired: no fault has id "slo" (ids given here: slow); count a fault by an id: of its own, not by the f1, f2... the engine gives faults without one`),
		Entry("the run's firings of a fault without an id", "steps:\n  - fault: {kind: reset}\n  - call: {}\nexpect:\n  fired: {f1: 1}\n",
			`f.yaml:6:11: fired: no fault has id "f1" (no fault here has an id); count a fault by an id: of its own`),
		Entry("firings in a step that failed to decode, its own fault counting as named", "steps:\n  - fault: {id: gone, kind: reset, bogus: 1}\n    fired: {gone: 1, went: 1}\n",
			"f.yaml:3:36: unknown field \"bogus\" in a fault (fields: body, by, content_type, delay, deviation, error_description, headers, id, jitter, key, kind, limit, match, max, max_lifetime, min_lifetime, mode, oauth_error, offset, on, per, retry_after, retry_after_format, signal, situation, status)\n"+
				`f.yaml:4:22: fired: no fault has id "went" (ids given here: gone)`),
		Entry("a browser step without browser in requires", "requires: [refresh]\nsteps:\n  - navigate: 1\n",
			`f.yaml:2:11: a browser setup or browser step (open_tab, close_tab, navigate, hide_tab, show_tab, move_origin, third_party_cookies) needs "browser" in requires`),
		Entry("a browser setup without requires", "browser: {dashboards: 2}\nsteps: [{advance: 1h}]\n",
			`f.yaml:2:10: a browser setup or browser step (open_tab, close_tab, navigate, hide_tab, show_tab, move_origin, third_party_cookies) needs "browser" in requires`),
		Entry("a tab that is not open", "requires: [browser]\nbrowser: {tabs: 2}\nsteps:\n  - close_tab: 2\n  - navigate: 2\n",
			"f.yaml:6:5: navigate: tab 2 is not open here (open: 1)"),
		Entry("too many dashboards", "requires: [browser]\nbrowser: {dashboards: 40}\nsteps: [{advance: 1h}]\n",
			"f.yaml:3:11: browser.dashboards: 40 is not between 0 and 12"),
		Entry("an unknown cookie setting", "requires: [browser]\nsteps:\n  - third_party_cookies: partitioned\n",
			`f.yaml:4:26: third_party_cookies "partitioned" is not one of allowed, blocked`),
		Entry("a zero suspend", "steps:\n  - suspend: 0s\n",
			"f.yaml:3:14: suspend: the clock only moves forward; give a positive duration"),
		Entry("a negative count of firings", "provider:\n  faults: [{id: slow, kind: latency, delay: 1ms}]\nsteps: [{advance: 1h}]\nexpect:\n  fired: {slow: -1}\n",
			`f.yaml:6:11: fired "slow": counts are not negative`),
		Entry("a storage-key rotation without key_rotation in requires", "requires: [refresh]\nsteps:\n  - rotate_storage_key\n",
			`f.yaml:4:5: rotate_storage_key needs "key_rotation" in requires`),
		Entry("a step for a tenant in a scenario without tenants", "steps:\n  - call: {}\n    tenant: acme\n",
			`f.yaml:3:5: tenant "acme": the scenario names no tenants`),
		Entry("tenants without multi_tenant in requires", tenants("requires: [refresh]"),
			`f.yaml:4:3: tenants need "multi_tenant" in requires`),
		Entry("one tenant", "requires: [multi_tenant]\ntenants: [{name: acme, client: demo}]\nsteps: [{advance: 1h}]\n",
			`f.yaml:3:10: tenants: name two or more, or none`),
		Entry("a tenant's client the provider does not have", "requires: [multi_tenant]\ntenants: [{name: acme, client: demo}, {name: globex, client: nosuch}]\nsteps: [{advance: 1h}]\n",
			`tenant "globex": no client "nosuch": the provider has demo, demo-public`),
		Entry("two tenants on one client", "requires: [multi_tenant]\ntenants: [{name: acme, client: demo}, {name: globex, client: demo}]\nsteps: [{advance: 1h}]\n",
			`tenant "globex": client "demo" is tenant "acme"'s already`),
		Entry("a tenant named twice", "requires: [multi_tenant]\ntenants: [{name: acme, client: demo}, {name: acme, client: demo-public}]\nsteps: [{advance: 1h}]\n",
			`tenant "acme" is named twice`),
		Entry("a bad tenant name", "requires: [multi_tenant]\ntenants: [{name: Acme Corp, client: demo}, {name: globex, client: demo-public}]\nsteps: [{advance: 1h}]\n",
			`tenant "Acme Corp": a name is 1 to 32 lower-case letters`),
		Entry("a step for an unknown tenant", tenants("requires: [multi_tenant]")+"  - call: {}\n    tenant: initech\n",
			`no tenant "initech": the scenario names acme, globex`),
		Entry("a tenant on a step that concerns no client registration", tenants("requires: [multi_tenant]")+"  - advance: 1h\n    tenant: acme\n",
			`an advance step is for no tenant`),
		Entry("a tenant on a revoke of a user", tenants("requires: [multi_tenant]")+"  - revoke: {user: alice}\n    tenant: acme\n",
			"revoke: a tenant goes with `client: true`"),
		Entry("a client beside tenants", "client: demo-public\n"+tenants("requires: [multi_tenant]"),
			`f.yaml:2:9: client "demo-public": with tenants the client under test is the first tenant's ("demo"); leave client out`),
	)

	It("reads tenants, steps for a tenant and storage-key rotations", func() {
		sc, err := scenarios.Parse("t.yaml", []byte("description: two apps\n"+tenants("requires: [multi_tenant, key_rotation]")+
			"  - call: {}\n    tenant: globex\n  - rotate_storage_key\n  - rotate_storage_key: {reload: false}\n  - rotate_secret: {}\n    tenant: globex\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Client).To(Equal("demo"), "the first tenant's client is the scenario's")
		Expect(sc.Tenants).To(Equal([]scenarios.Tenant{{Name: "acme", Client: "demo"}, {Name: "globex", Client: "demo-public"}}))
		Expect(sc.Steps[1].Tenant).To(Equal("globex"))
		Expect(sc.Steps[1].Summary()).To(Equal("call the API (tenant globex)"))
		Expect(sc.Steps[2].Action()).To(Equal("rotate_storage_key"))
		Expect(sc.Steps[2].RotateStorageKey.Reloads()).To(BeTrue())
		Expect(sc.Steps[3].RotateStorageKey.Reloads()).To(BeFalse())
		Expect(sc.Steps[3].Summary()).To(Equal("rotate the client's storage key, without telling the client"))
		client, found := sc.ClientOf("globex")
		Expect(found).To(BeTrue())
		Expect(client).To(Equal("demo-public"))
		id, ok := sc.ClientOf("initech")
		Expect(ok).To(BeFalse(), id)
	})

	It("reads rounds of calls, reloads, callbacks, and counts and firings by step and by run", func() {
		sc, err := scenarios.Parse("new-words.yaml", []byte(`
description: Every step word that came with rounds of calls and callbacks.
requires: [client_credentials]
provider:
  faults: [{id: busy, kind: rate_limit, match: {count: 2}}]
steps:
  - authorize: alice
    counts: {authorizations: 1}
  - call: {concurrent: 20, times: 6, every: 12h}
    counts: {refreshes: {max: 6}}
    fired: {busy: {min: 1}, late: 0}
  - call: {processes: 3, times: 2}
  - call: {client_credentials: true, concurrent: 4}
  - rotate_secret: {grace: 1h, reload: false}
  - reload
  - rotate_secret: {}
  - callback: forged
  - callback: replayed
    expect: [ok, error]
  - fault: {id: late, kind: reset}
  - reload: true
expect:
  counts: {reuse_detected: 0}
  fired: {busy: 2, late: {max: 0}}
`))
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.SimDuration()).To(Equal(60*time.Hour), "five intervals between six rounds")

		By("rounds of callers at once")
		c := sc.Steps[1].Call
		Expect([]int{c.Rounds(), c.Callers(), sc.Steps[1].Calls()}).To(Equal([]int{6, 20, 120}))
		Expect(sc.Steps[1].Summary()).To(Equal("call the API 20 times at once, 6 rounds every 12h0m0s"))
		c = sc.Steps[2].Call
		Expect([]int{c.Rounds(), c.Callers(), sc.Steps[2].Calls()}).To(Equal([]int{2, 3, 6}))
		Expect(sc.Steps[3].Call.Rounds()).To(Equal(1))
		var none *scenarios.Call
		Expect([]int{none.Rounds(), none.Callers()}).To(Equal([]int{1, 1}), "a step without a call asks the same way")

		By("a rotation without a reload, and the reload")
		Expect(sc.Steps[4].RotateSecret.Reload).To(HaveValue(BeFalse()))
		Expect(sc.Steps[4].RotateSecret.Reloads()).To(BeFalse())
		Expect(sc.Steps[4].Summary()).To(Equal("rotate the client secret, the old one valid for 1h0m0s, without telling the client to reload"))
		Expect(sc.Steps[5].Reload).To(BeTrue(), "reload stands alone")
		Expect(sc.Steps[5].Action()).To(Equal("reload"))
		Expect(sc.Steps[5].Summary()).To(Equal("tell the client to reload its configuration"))
		Expect(sc.Steps[5].Calls()).To(Equal(0))
		Expect(sc.Steps[10].Reload).To(BeTrue())
		Expect(sc.Steps[6].RotateSecret.Reload).To(BeNil())
		Expect(sc.Steps[6].RotateSecret.Reloads()).To(BeTrue(), "a rotation reloads unless told not to")

		By("callbacks, judged by the checks unless the step expects something")
		Expect(sc.Steps[7].Callback).To(Equal(scenarios.CallbackForged))
		Expect(sc.Steps[7].Action()).To(Equal("callback"))
		Expect(sc.Steps[7].Calls()).To(Equal(1))
		_, set := sc.Steps[7].Expected()
		Expect(set).To(BeFalse())
		Expect(sc.Steps[7].Summary()).To(Equal("hand the client a forged callback (a code it did not ask for, a state it did not issue)"))
		Expect(sc.Steps[8].Callback).To(Equal(scenarios.CallbackReplayed))
		Expect(sc.Steps[8].Summary()).To(Equal("hand the client again the callback it already completed"))
		want, set := sc.Steps[8].Expected()
		Expect(set).To(BeTrue())
		Expect(want.String()).To(Equal("ok or error"))

		By("counts and firings, of a step and of the run")
		Expect(sc.Steps[0].Counts["authorizations"].String()).To(Equal("exactly 1"))
		Expect(sc.Steps[1].Counts["refreshes"].String()).To(Equal("at most 6"))
		Expect(sc.Steps[1].Fired).To(HaveLen(2), "a fault added later in the file may be counted")
		Expect(sc.Steps[1].Fired["busy"].String()).To(Equal("at least 1"))
		Expect(sc.Expect.Fired["busy"].String()).To(Equal("exactly 2"))
		Expect(sc.Expect.Fired["late"].Holds(0)).To(BeTrue())
		Expect(sc.Steps[2].Counts).To(BeNil())
	})

	DescribeTable("says what a call step does",
		func(call, want string) {
			sc, err := scenarios.Parse("f.yaml", []byte("description: d\nrequires: [client_credentials]\nsteps:\n  - call: "+call+"\n"))
			Expect(err).NotTo(HaveOccurred())
			Expect(sc.Steps[0].Summary()).To(Equal(want))
		},
		Entry(nil, "{}", "call the API"),
		Entry(nil, "{times: 3}", "call the API 3 times"),
		Entry(nil, "{times: 3, every: 1h}", "call the API 3 times, every 1h0m0s"),
		Entry(nil, "{concurrent: 8}", "call the API 8 times at once"),
		Entry(nil, "{concurrent: 8, times: 3}", "call the API 8 times at once, 3 rounds"),
		Entry(nil, "{processes: 2, times: 4, every: 1d}", "call the API from 2 processes at once, 4 rounds every 1d"),
		Entry(nil, "{client_credentials: true}", "call the API as the client (client credentials)"),
		Entry(nil, "{client_credentials: true, times: 4, every: 40m}", "call the API as the client (client credentials) 4 times, every 40m0s"),
	)

	DescribeTable("places a file yaml itself refuses at its line and column",
		func(doc, want string) {
			_, err := scenarios.Parse("f.yaml", []byte(doc))
			Expect(err).To(MatchError(want))
		},
		Entry("a { the file ends inside of, where it opens", "description: x\nsteps:\n  - call: {times: 3\n",
			"f.yaml:3:11: did not find expected ',' or '}' (while parsing a flow mapping that starts here and runs to the end of the file)"),
		Entry("a byte that is not UTF-8", "description: x\nsteps:\n  - authorize: \xff\n",
			"f.yaml:3:16: invalid leading UTF-8 octet (value: 255)"),
		Entry("a duplicate key, at the second", "description: x\nname: a\nsteps: [{advance: 1h}]\nname: b\n",
			`f.yaml:4:1: mapping key "name" already defined at 2:1`),
		Entry("a list for a document", "- a\n- b\n", "f.yaml:1:1: a scenario must be a mapping with name, steps and so on"),
		Entry("an empty file", "", "f.yaml:1:1: a scenario must be a mapping with name, steps and so on"),
		Entry("a bad value after a byte order mark and CR LF line ends", "\ufeffdescription: x\r\nsteps:\r\n  - advance: soon\r\n",
			`f.yaml:3:14: invalid duration "soon": use forms like 90s, 10m, 1h, 7d`),
		Entry("a fraction where a whole number belongs", "description: x\nsteps:\n  - call: {times: 1.5}\n",
			"f.yaml:3:19: call.times takes a whole number, e.g. `times: 3`"),
	)

	It("reads a valid scenario with defaults filled in", func() {
		sc, err := scenarios.Parse("dir/short-one.yaml", []byte(`
description: A short one.
provider:
  profile: {base: okta}
  faults:
    - {id: slow, kind: latency, delay: 10ms}
steps:
  - authorize: bob
  - call: {times: 3, every: 1h}
  - remove_fault: slow
  - advance: 2d
  - restart
  - call: {}
    expect: {outcome: reauthorize, reason: expired}
expect:
  counts: {refreshes: {max: 4}, reuse_detected: 0}
`))
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Name).To(Equal("short-one"), "the file's base name")
		Expect(sc.Client).To(Equal("demo"))
		Expect(sc.Profile()).To(Equal("okta"))
		Expect(sc.SimDuration()).To(Equal(50 * time.Hour))
		Expect(sc.FaultKinds()).To(Equal([]fault.Kind{fault.Latency}))
		Expect(sc.Steps).To(HaveLen(6))
		Expect(sc.Steps[4].Restart).To(BeTrue())
		Expect(sc.Steps[4].Line).To(Equal(12))
		want, set := sc.Steps[5].Expected()
		Expect(set).To(BeTrue())
		Expect(want).To(Equal(scenarios.Expect{Outcome: "reauthorize", Reason: "expired"}))
		want, set = sc.Steps[1].Expected()
		Expect(set).To(BeTrue())
		Expect(want.Outcome).To(Equal(contract.OutcomeOK), "calls expect ok unless told")
		_, set = sc.Steps[3].Expected()
		Expect(set).To(BeFalse(), "an advance expects nothing")
		Expect(sc.Expect.Counts["refreshes"].Holds(4)).To(BeTrue())
		Expect(sc.Expect.Counts["refreshes"].Holds(5)).To(BeFalse())
		Expect(sc.Expect.Counts["reuse_detected"].String()).To(Equal("exactly 0"))
	})

	It("reads a list of outcomes as alternatives, any of which will do", func() {
		sc, err := scenarios.Parse("alternatives.yaml", []byte(`
description: Correct clients may end these calls differently.
steps:
  - authorize: alice
  - call: {}
    expect: [ok, temporary_error]
  - call: {times: 2}
    expect:
      - {outcome: reauthorize, reason: revoked}
      - interaction_required
  - call: {}
    expect: [temporary_error]
  - call: {}
    expect: [configuration_error, any]
`))
		Expect(err).NotTo(HaveOccurred())

		want, set := sc.Steps[1].Expected()
		Expect(set).To(BeTrue())
		Expect(want.Alternatives()).To(Equal([]scenarios.Expect{{Outcome: "ok"}, {Outcome: "temporary_error"}}))
		Expect(want.Matches("ok", "")).To(BeTrue())
		Expect(want.Matches("temporary_error", "")).To(BeTrue())
		Expect(want.Matches("reauthorize", "revoked")).To(BeFalse())
		Expect(want.String()).To(Equal("ok or temporary_error"))

		want, _ = sc.Steps[2].Expected()
		Expect(want.Alternatives()).To(Equal([]scenarios.Expect{{Outcome: "reauthorize", Reason: "revoked"}, {Outcome: "interaction_required"}}))
		Expect(want.Matches("reauthorize", "revoked")).To(BeTrue())
		Expect(want.Matches("reauthorize", "expired")).To(BeFalse(), "an alternative's reason is part of it")
		Expect(want.Matches("interaction_required", "")).To(BeTrue())
		Expect(want.Matches("ok", "")).To(BeFalse())
		Expect(want.String()).To(Equal("reauthorize (revoked) or interaction_required"))

		want, _ = sc.Steps[3].Expected()
		Expect(want.Matches("temporary_error", "")).To(BeTrue(), "a list of one is that outcome")
		Expect(want.Matches("ok", "")).To(BeFalse())

		want, _ = sc.Steps[4].Expected()
		Expect(want.Matches("unauthorized", "")).To(BeTrue(), "any among the alternatives takes every outcome")

		want, _ = sc.Steps[0].Expected()
		Expect(want.Alternatives()).To(Equal([]scenarios.Expect{{Outcome: "ok"}}), "a step without expect has the one default")
	})

	It("loads directories, and refuses two scenarios of one name", func() {
		dir := GinkgoT().TempDir()
		write := func(name, body string) {
			Expect(os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600)).To(Succeed())
		}
		write("a.yaml", "name: same\ndescription: a\nsteps: [{advance: 1h}]\n")
		write("b.yml", "name: same\ndescription: b\nsteps: [{advance: 1h}]\n")
		write("notes.txt", "not a scenario")
		_, err := scenarios.Load(dir)
		Expect(err).To(MatchError(ContainSubstring(`b.yml: scenario name "same" is already used by ` + filepath.Join(dir, "a.yaml"))))
		Expect(os.Remove(filepath.Join(dir, "b.yml"))).To(Succeed())
		scs, err := scenarios.Load(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(scs).To(HaveLen(1))
	})

	It("loads every bundled scenario", func() {
		scs, err := scenarios.Bundled()
		Expect(err).NotTo(HaveOccurred())
		Expect(scs).NotTo(BeEmpty())
		for _, sc := range scs {
			Expect(sc.File).To(HavePrefix("scenarios/"))
		}
	})
})

// tenants is a scenario head with two tenants on the demo clients, the
// requires line given, and a steps list with one step to add to.
func tenants(requires string) string {
	return requires + "\ntenants:\n  - {name: acme, client: demo}\n  - {name: globex, client: demo-public}\nsteps:\n  - authorize: alice\n    tenant: acme\n"
}
