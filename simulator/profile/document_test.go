package profile_test

import (
	"os"
	"slices"
	"testing/fstest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v4"

	"github.com/oauthsim/oauthsim/simulator/profile"
)

// minimal is a complete profile document with a source for each value.
const minimal = `name: tiny
access_token_lifetime: {value: 30m, source: "doc A"}
code_lifetime: {value: 5m, source: "doc B", unconfirmed: true}
id_token_lifetime: {value: 1h, source: "doc C"}
offline_access: {value: scope, source: "doc D"}
refresh:
  source: "doc E"
  rotation: rotate_with_grace
  grace: {value: 30s, source: "doc F"}
  reuse_detection: revoke_family
  absolute_mode: {value: inherited, source: "doc G", unconfirmed: true}
responses:
  rate_limited:
    source: "doc H"
    unconfirmed: true
    status: 429
    content_type: text/plain
    headers:
      Retry-After: {value: "{{.RetryAfterSeconds}}", source: "doc I"}
    body: Too Many Requests
deviations: {value: [errors_as_200], source: "doc J"}
`

func parseOK(file, doc string) profile.Profile {
	GinkgoHelper()
	p, err := profile.Parse(file, []byte(doc))
	Expect(err).NotTo(HaveOccurred())
	return p
}

var _ = Describe("Profile documents", func() {
	It("give the generic profile its RFC-strict values, the same from data/generic.yaml and from Generic", func() {
		data, err := os.ReadFile("data/generic.yaml")
		Expect(err).NotTo(HaveOccurred())
		fromFile := parseOK("data/generic.yaml", string(data))
		Expect(fromFile).To(Equal(profile.Generic()))

		// The values Generic had as Go code before profiles became data.
		want := profile.Profile{
			Name:                "generic",
			Title:               fromFile.Title,
			AccessTokenLifetime: profile.Duration(time.Hour),
			CodeLifetime:        profile.Duration(10 * time.Minute),
			IDTokenLifetime:     profile.Duration(time.Hour),
			OfflineAccess:       profile.OfflineScope,
			Refresh: profile.Refresh{
				Rotation:       profile.RotationRotate,
				ReuseDetection: profile.ReuseRevokeFamily,
				AbsoluteMode:   profile.AbsoluteSliding,
				// Written out, with RFC 6749 §6 as its source, though empty means the same.
				ScopeWithoutOfflineAccess: profile.WithoutOfflineKeep,
			},
			Sources: fromFile.Sources,
		}
		Expect(fromFile).To(Equal(want))
		Expect(fromFile.Title).To(ContainSubstring("RFC"))
		Expect(fromFile.Sources["code_lifetime"].Ref).To(ContainSubstring("RFC 6749 §4.1.2"))
	})

	It("take each value's source from beside it, or from the mapping that holds it", func() {
		p := parseOK("tiny.yaml", minimal)
		Expect(p.AccessTokenLifetime.D()).To(Equal(30 * time.Minute))
		Expect(p.Refresh.Grace.D()).To(Equal(30 * time.Second))
		Expect(p.Deviations).To(ConsistOf(profile.DeviationErrorsAs200))
		Expect(p.Responses[profile.SituationRateLimited].Headers).To(HaveKeyWithValue("Retry-After", "{{.RetryAfterSeconds}}"))
		Expect(p.Sources).To(Equal(map[string]profile.Source{
			"access_token_lifetime":                      {Ref: "doc A"},
			"code_lifetime":                              {Ref: "doc B", Unconfirmed: true},
			"id_token_lifetime":                          {Ref: "doc C"},
			"offline_access":                             {Ref: "doc D"},
			"refresh.rotation":                           {Ref: "doc E"},
			"refresh.grace":                              {Ref: "doc F"},
			"refresh.reuse_detection":                    {Ref: "doc E"},
			"refresh.absolute_mode":                      {Ref: "doc G", Unconfirmed: true},
			"responses.rate_limited.status":              {Ref: "doc H", Unconfirmed: true},
			"responses.rate_limited.content_type":        {Ref: "doc H", Unconfirmed: true},
			"responses.rate_limited.headers.Retry-After": {Ref: "doc I"},
			"responses.rate_limited.body":                {Ref: "doc H", Unconfirmed: true},
			"deviations":                                 {Ref: "doc J"},
		}))
	})

	It("read {value: V} without a source as V, covered by the source of the mapping that holds it", func() {
		p := parseOK("bare.yaml", "base: generic\nname: bare\nrefresh:\n  source: ours\n  idle_timeout: {value: 3d}\n")
		Expect(p.Refresh.IdleTimeout.D()).To(Equal(3 * 24 * time.Hour))
		Expect(p.Sources).To(HaveKeyWithValue("refresh.idle_timeout", profile.Source{Ref: "ours"}))
	})

	It("list every setting by the path its source has", func() {
		p := parseOK("tiny.yaml", minimal)
		paths := map[string]bool{}
		for _, f := range p.Fields() {
			paths[f.Path] = f.Set
		}
		Expect(paths).To(HaveKeyWithValue("refresh.grace", true))
		Expect(paths).To(HaveKeyWithValue("refresh.idle_timeout", false))
		Expect(paths).To(HaveKeyWithValue("responses.rate_limited.headers.Retry-After", true))
		Expect(paths).To(HaveKeyWithValue("deviations", true))
		Expect(paths).NotTo(HaveKey("name"))
		Expect(paths).NotTo(HaveKey("title"))
		for path := range p.Sources {
			Expect(paths).To(HaveKey(path))
		}
	})

	It("inherit the profile that base names, with its sources, and replace only what they write", func() {
		p := parseOK("strict.yaml", `base: generic
name: strict
refresh:
  idle_timeout: {value: 7d, source: "our policy"}
  rotation: rotate_with_grace
  grace: {value: 10s, source: "our policy, too"}
`)
		g := profile.Generic()
		Expect(p.AccessTokenLifetime).To(Equal(g.AccessTokenLifetime))
		Expect(p.Refresh.ReuseDetection).To(Equal(g.Refresh.ReuseDetection))
		Expect(p.Sources["access_token_lifetime"]).To(Equal(g.Sources["access_token_lifetime"]))
		Expect(p.Sources["refresh.idle_timeout"]).To(Equal(profile.Source{Ref: "our policy"}))
		By("dropping the base's source of a value written without one")
		Expect(p.Refresh.Rotation).To(Equal(profile.RotationRotateWithGrace))
		Expect(p.Sources).NotTo(HaveKey("refresh.rotation"))
	})

	It("replace a whole response and drop the sources of what it had", func() {
		base := parseOK("tiny.yaml", minimal)
		var n yaml.Node
		Expect(yaml.Unmarshal([]byte("responses:\n  rate_limited: {status: 503, body: '{}'}\n"), &n)).To(Succeed())
		p, err := profile.Override(base, &n, &profile.Source{Ref: "config file"})
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Responses[profile.SituationRateLimited]).To(Equal(profile.Response{Status: 503, Body: "{}"}))
		Expect(p.Sources).To(HaveKeyWithValue("responses.rate_limited.status", profile.Source{Ref: "config file"}))
		Expect(p.Sources).NotTo(HaveKey("responses.rate_limited.headers.Retry-After"))
		Expect(p.Sources).NotTo(HaveKey("responses.rate_limited.content_type"))
		Expect(p.Sources).To(HaveKeyWithValue("refresh.grace", profile.Source{Ref: "doc F"}))
		By("leaving the profile it was given alone")
		Expect(base.Responses[profile.SituationRateLimited].Status).To(Equal(429))
		Expect(base.Sources).To(HaveKey("responses.rate_limited.headers.Retry-After"))
	})

	DescribeTable("report a broken document as file:line:column: message, YAML syntax and an inconsistent profile included",
		func(doc, want string) {
			_, err := profile.Parse("data/broken.yaml", []byte(doc))
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("an unknown field", minimal+"refresh_token_lifetime: 1h\n",
			`data/broken.yaml:22:1: unknown field "refresh_token_lifetime" in profile`),
		Entry("an unknown field in a mapping", "name: x\nrefresh:\n  rotation: none\n  gracee: 1s\n",
			`data/broken.yaml:4:3: unknown field "gracee" in refresh`),
		Entry("a bad duration beside its source", "name: x\naccess_token_lifetime: {value: soon, source: a}\n",
			`data/broken.yaml:2:32: invalid duration "soon"`),
		Entry("a number that is not one", "name: x\nresponses:\n  rate_limited: {status: many, body: '{}'}\n",
			"data/broken.yaml:3:26: cannot construct !!str `many` into int"),
		Entry("unconfirmed without a source", "name: x\ncode_lifetime: {value: 1m, unconfirmed: true}\n",
			"data/broken.yaml:2:16: code_lifetime: unconfirmed needs a source"),
		Entry("an empty source", "name: x\ncode_lifetime: {value: 1m, source: ''}\n",
			"data/broken.yaml:2:36: code_lifetime: source must be a text"),
		Entry("unconfirmed that is not a boolean", "name: x\ncode_lifetime: {value: 1m, source: a, unconfirmed: maybe}\n",
			"data/broken.yaml:2:52: code_lifetime: unconfirmed must be true or false"),
		Entry("a value with other keys beside it", "name: x\nrefresh: {value: {rotation: none}, source: a, grace: 1s}\n",
			"data/broken.yaml:2:47: refresh: a value written with its source takes only the keys value, source and unconfirmed"),
		Entry("a mapping where a single value belongs", "name: x\nrefresh:\n  grace: {seconds: 30}\n",
			"data/broken.yaml:3:10: refresh.grace takes a single value"),
		Entry("a base that is not built in", "base: gogle\nname: x\n",
			`data/broken.yaml:1:7: base: no built-in profile "gogle" (built in: `),
		Entry("broken YAML, at the [ left open", "name: x\nrefresh:\n  rotation: [none\n",
			"data/broken.yaml:3:13: did not find expected ',' or ']' (while parsing a flow sequence that starts here and runs to the end of the file)"),
		Entry("a document that is not a mapping", "- generic\n",
			"data/broken.yaml:1:1: a profile document is a mapping of settings"),
		Entry("a complete document with an inconsistent profile", "base: generic\nname: x\nrefresh: {grace: 5s}\n",
			`data/broken.yaml:3:11: profile "x": refresh.grace is only meaningful`),
		Entry("paths no provider has", "base: generic\nname: x\nshape: {paths: okta}\n",
			`data/broken.yaml:3:9: profile "x": shape.paths must be one of "", "oauthsim", "auth0", got "okta"`),
		Entry("a CORS request header that is no header name", "base: generic\nname: x\nshape:\n  cors_request_headers: [Auth0-Client, 'Bad Header']\n",
			`data/broken.yaml:4:3: profile "x": shape.cors_request_headers[1] must be an HTTP header name, got "Bad Header"`),
		Entry("a CORS request header that is always allowed", "base: generic\nname: x\nshape: {cors_request_headers: [content-type]}\n",
			`shape.cors_request_headers[0]: Content-Type is always allowed`),
	)

	It("report every mistake of a document at once", func() {
		_, err := profile.Parse("two.yaml", []byte("name: x\nfoo: 1\nrefresh: {bar: 2}\n"))
		Expect(err).To(MatchError(And(
			ContainSubstring(`two.yaml:2:1: unknown field "foo"`),
			ContainSubstring(`two.yaml:3:11: unknown field "bar" in refresh`))))
	})
})

var _ = Describe("Built-in profiles", func() {
	It("are the caller's own copies", func() {
		p, ok := profile.Lookup("generic")
		Expect(ok).To(BeTrue())
		p.Sources["access_token_lifetime"] = profile.Source{Ref: "mine"}
		p.Deviations = append(p.Deviations, profile.DeviationErrorsAs200)
		Expect(profile.Generic().Sources["access_token_lifetime"].Ref).NotTo(Equal("mine"))
		Expect(profile.Generic().Deviations).To(BeEmpty())
	})

	It("are named sorted, and only by their exact names", func() {
		names := profile.Names()
		Expect(names).To(ContainElement("generic"))
		Expect(slices.IsSorted(names)).To(BeTrue(), "%v", names)
		for _, bad := range []string{"", "Generic", "generic.yaml"} {
			_, ok := profile.Lookup(bad)
			Expect(ok).To(BeFalse(), bad)
		}
	})

	It("load each after the profile its base names, and refuse a loop or a misnamed file", func() {
		doc := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
		ps, err := profile.LoadBuiltins(fstest.MapFS{
			"data/a.yaml": doc("base: b\nname: a\ncode_lifetime: {value: 1m, source: x}\n"),
			"data/b.yaml": doc(minimal[len("name: tiny\n"):] + "name: b\n"),
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(ps["a"].CodeLifetime.D()).To(Equal(time.Minute))
		Expect(ps["a"].Refresh.Grace).To(Equal(ps["b"].Refresh.Grace))

		_, err = profile.LoadBuiltins(fstest.MapFS{
			"data/a.yaml": doc("base: b\nname: a\n"),
			"data/b.yaml": doc("base: a\nname: b\n"),
		})
		Expect(err).To(MatchError(ContainSubstring(`inherits from itself`)))

		_, err = profile.LoadBuiltins(fstest.MapFS{"data/a.yaml": doc(minimal)})
		Expect(err).To(MatchError(`data/a.yaml: name "tiny" differs from the file's name`))
	})
})
