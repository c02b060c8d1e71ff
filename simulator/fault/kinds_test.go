package fault_test

import (
	"bytes"
	"errors"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator/fault"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// exchange is a fault.Exchange that records what a hook did to the request.
type exchange struct {
	fired     []string
	waited    []time.Duration
	gaveUp    bool
	closed    bool
	responses map[profile.Situation]profile.Response
	sent      *profile.Rendered
}

func (x *exchange) Fired(detail string) { x.fired = append(x.fired, detail) }

func (x *exchange) Wait(d time.Duration) bool {
	x.waited = append(x.waited, d)
	return !x.gaveUp
}

func (x *exchange) Situation(s profile.Situation) (profile.Response, bool) {
	r, ok := x.responses[s]
	return r, ok
}

// Respond renders resp as the simulator would for a firing that announces
// 30 seconds.
func (x *exchange) Respond(resp profile.Response) string {
	out, err := resp.Render(profile.ResponseData{RetryAfterSeconds: 30, RetryAfterDate: "Sun, 01 Mar 2026 12:00:30 GMT"})
	Expect(err).NotTo(HaveOccurred())
	x.sent = &out
	return "answered"
}

func (x *exchange) Close() { x.closed = true }

// minting is a fault.Minting that records what a hook asked for.
type minting struct {
	backdate time.Duration
	drawn    [][2]time.Duration
}

func (m *minting) Backdate(by time.Duration) { m.backdate += by }
func (m *minting) DrawAccessLifetime(lo, hi time.Duration) {
	m.drawn = append(m.drawn, [2]time.Duration{lo, hi})
}

// tokenAnswer is a fault.TokenAnswer.
type tokenAnswer struct {
	code           string
	status         int
	minted         bool
	lifetime       time.Duration
	nonceReplaced  bool
	statusUnderAny int
}

func (t tokenAnswer) ErrorCode() string                 { return t.code }
func (t tokenAnswer) Status() int                       { return t.status }
func (t tokenAnswer) StatusUnder(profile.Deviation) int { return t.statusUnderAny }
func (t tokenAnswer) AccessMinted() bool                { return t.minted }
func (t tokenAnswer) AccessLifetime() time.Duration     { return t.lifetime }
func (t tokenAnswer) NonceReplaced() bool               { return t.nonceReplaced }

// tokenCheck is a fault.TokenCheck that records a verdict overturned.
type tokenCheck struct {
	valid             bool
	age, revokedFor   time.Duration
	revoked           bool
	refused, accepted string
}

func (c *tokenCheck) Valid() bool                       { return c.valid }
func (c *tokenCheck) Age() time.Duration                { return c.age }
func (c *tokenCheck) RevokedFor() (time.Duration, bool) { return c.revokedFor, c.revoked }
func (c *tokenCheck) Refuse(why string)                 { c.refused = why }
func (c *tokenCheck) Accept(detail string)              { c.accepted = detail }

// problems lists Validate's problems with f as "field: message".
func problems(f fault.Fault) []string {
	var out []string
	err := f.Validate()
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			var fe *fault.FieldError
			Expect(errors.As(e, &fe)).To(BeTrue(), "%v is not a FieldError", e)
			out = append(out, fe.Error())
		}
	}
	return out
}

func d(s string) profile.Duration {
	v, err := profile.ParseDuration(s)
	Expect(err).NotTo(HaveOccurred())
	return v
}

var _ = Describe("Each kind's checks", func() {
	DescribeTable("refuses bad parameters, naming the field",
		func(f fault.Fault, want ...string) {
			Expect(problems(f)).To(Equal(want))
		},
		Entry("rate_limit: an unknown signal", fault.Fault{Effect: fault.RateLimitEffect{Signal: "nope"}},
			`signal: must be profile, standard, json_without_error or a built-in profile (`+profileNames()+`), got "nope"`),
		Entry("rate_limit: a status without the standard signal", fault.Fault{Effect: fault.RateLimitEffect{Status: 503}},
			"status: only changes the standard signal's status (set signal: standard)"),
		Entry("rate_limit: a status that is no error", fault.Fault{Effect: fault.RateLimitEffect{Signal: fault.SignalStandard, Status: 200}},
			"status: must be a 4xx or 5xx status, got 200"),
		Entry("rate_limit: a limit without its window, with a retry_after and a count",
			fault.Fault{Effect: fault.RateLimitEffect{Limit: 2, RetryAfter: d("5s"), Key: "tenant"}, Match: fault.Match{Count: 1}},
			"limit: a limit needs its window, per (such as per: 1m)",
			"retry_after: a limiter announces when its window frees; retry_after is for a fixed rate_limit",
			"match: a limiter decides by its own count: leave out nth, count and probability",
			`key: must be client, user, family or global, got "tenant"`),
		Entry("rate_limit: a window without a limit", fault.Fault{Effect: fault.RateLimitEffect{Per: d("1m")}}, "limit: per and key need a limit"),
		Entry("rate_limit: a bad Retry-After", fault.Fault{Effect: fault.RateLimitEffect{RetryAfter: -1, RetryAfterFormat: "minutes"}},
			"retry_after: must not be negative", `retry_after_format: must be seconds, http_date or none, got "minutes"`),
		Entry("error: nothing to answer with", fault.Fault{Effect: fault.ErrorEffect{}},
			"status: an error needs a status, an oauth_error, a situation or a body"),
		Entry("error: two bodies, an unknown situation with a status",
			fault.Fault{Effect: fault.ErrorEffect{OAuthError: "invalid_grant", Situation: "gone", Status: 99}},
			"body: give at most one of oauth_error, situation and body",
			`situation: must be one of `+situations()+`, got "gone"`,
			"status: a situation answers with the profile's own status",
			"status: must be between 200 and 599, got 99"),
		Entry("error: a description without an error", fault.Fault{Effect: fault.ErrorEffect{Status: 400, ErrorDescription: "why"}},
			"error_description: needs an oauth_error"),
		Entry("latency: no wait", fault.Fault{Effect: fault.LatencyEffect{}}, "delay: a latency needs a positive delay or jitter"),
		Entry("latency: a negative jitter", fault.Fault{Effect: fault.LatencyEffect{Delay: d("1s"), Jitter: -1}},
			"delay: delay and jitter must not be negative"),
		Entry("latency: longer than 10m", fault.Fault{Effect: fault.LatencyEffect{Delay: d("9m"), Jitter: d("2m")}},
			"delay: delay plus jitter must be at most 10m0s"),
		Entry("hang: beyond the bound", fault.Fault{Effect: fault.HangEffect{Max: d("1h")}}, "max: must be between 0 (the default, 30s) and 10m0s"),
		Entry("malformed: an unknown mode", fault.Fault{Effect: fault.MalformedEffect{Mode: "garble"}},
			`mode: must be one of truncate, content_type, not_json, empty, got "garble"`),
		Entry("skew: a filter and no offset", fault.Fault{Effect: fault.SkewEffect{}, Match: fault.Match{Client: fault.OneOrMany[string]{"demo"}}},
			"match: a skew moves the provider's one clock: it takes only match.from and match.until",
			"offset: a skew needs a non-zero offset such as 5m or -90s"),
		Entry("backdate: no duration", fault.Fault{Effect: fault.BackdateEffect{}}, "by: a backdate needs a positive duration such as 120s"),
		Entry("propagation_delay: no delay, and an unknown target",
			fault.Fault{Effect: fault.PropagationDelayEffect{On: fault.OneOrMany[string]{"refresh"}}},
			"delay: a propagation_delay needs a positive delay such as 30s",
			`on: must list "issue" and/or "revocation", got "refresh"`),
		Entry("deviation: a random lifetime without its bounds", fault.Fault{Effect: fault.DeviationEffect{Deviation: fault.DeviationRandomLifetime, MinLifetime: d("2h"), MaxLifetime: d("1h")}},
			"min_lifetime: random_access_token_lifetime needs 0 < min_lifetime <= max_lifetime"),
		Entry("deviation: bounds for another deviation", fault.Fault{Effect: fault.DeviationEffect{Deviation: profile.DeviationExpiresInString, MaxLifetime: d("1h")}},
			"min_lifetime: only random_access_token_lifetime takes min_lifetime and max_lifetime"),
		Entry("deviation: an unknown one", fault.Fault{Effect: fault.DeviationEffect{Deviation: "expires_in_hex"}},
			`deviation: must be one of `+deviations()+`, got "expires_in_hex"`),
		Entry("no kind at all", fault.Fault{},
			`kind: must be one of rate_limit, error, latency, hang, reset, malformed, drop_after_commit, skew, backdate, propagation_delay, deviation, got ""`),
		Entry("a seed with nothing to draw", fault.Fault{Effect: fault.ResetEffect{}, Match: fault.Match{Seed: new(uint64)}},
			"match.seed: only means something with a probability (or a latency's jitter)"),
	)

	DescribeTable("accepts good parameters",
		func(f fault.Fault) { Expect(f.Validate()).To(Succeed()) },
		Entry("a limiter", fault.Fault{Effect: fault.RateLimitEffect{Limit: 5, Per: d("1m"), Key: fault.KeyUser}}),
		Entry("a standard signal's status", fault.Fault{Effect: fault.RateLimitEffect{Signal: fault.SignalStandard, Status: 503}}),
		Entry("a profile's signal", fault.Fault{Effect: fault.RateLimitEffect{Signal: "okta", RetryAfterFormat: fault.RetryAfterNone}}),
		Entry("an error page", fault.Fault{Effect: fault.ErrorEffect{Status: 502, Body: "<html></html>", Headers: map[string]string{"X": "y"}}}),
		Entry("a profile's situation", fault.Fault{Effect: fault.ErrorEffect{Situation: profile.SituationInteractionRequired}}),
		Entry("a jitter with a seed", fault.Fault{Effect: fault.LatencyEffect{Jitter: d("1s")}, Match: fault.Match{Seed: new(uint64)}}),
		Entry("a hang with the default max", fault.Fault{Effect: fault.HangEffect{}}),
		Entry("a reset", fault.Fault{Effect: fault.ResetEffect{}}),
		Entry("a drop", fault.Fault{Effect: fault.DropAfterCommitEffect{}}),
		Entry("a skew in a window", fault.Fault{Effect: fault.SkewEffect{Offset: d("-90s")}, Match: fault.Match{From: "1h"}}),
		Entry("a propagation delay on both", fault.Fault{Effect: fault.PropagationDelayEffect{Delay: d("30s"), On: fault.OneOrMany[string]{fault.OnIssue, fault.OnRevocation}}}),
		Entry("a random lifetime", fault.Fault{Effect: fault.DeviationEffect{Deviation: fault.DeviationRandomLifetime, MinLifetime: d("1h"), MaxLifetime: d("90m")}}),
	)
})

var _ = Describe("Each kind's hooks", func() {
	var x *exchange
	BeforeEach(func() { x = &exchange{} })

	Describe("rate_limit", func() {
		It("answers with the active profile's signal by default", func() {
			x.responses = map[profile.Situation]profile.Response{profile.SituationRateLimited: {Status: 403, ContentType: "text/html", Body: "<p>slow down</p>"}}
			Expect(fault.RateLimitEffect{}.Answer(x)).To(Equal("answered"))
			Expect(x.sent.Status).To(Equal(403))
			Expect(string(x.sent.Body)).To(Equal("<p>slow down</p>"))
			Expect(x.sent.Header.Get("Retry-After")).To(BeEmpty(), "the profile's signal keeps its own headers")
		})

		It("answers as RFC 6585 where the profile has no signal", func() {
			fault.RateLimitEffect{}.Answer(x)
			Expect(x.sent.Status).To(Equal(http.StatusTooManyRequests))
			Expect(x.sent.Header.Get("Retry-After")).To(Equal("30"))
			Expect(string(x.sent.Body)).To(ContainSubstring(`"error":"temporarily_unavailable"`))
		})

		It("answers JSON without an error member for json_without_error", func() {
			fault.RateLimitEffect{Signal: fault.SignalJSONWithoutError}.Answer(x)
			Expect(string(x.sent.Body)).To(Equal(`{"message":"Too many requests; slow down.","retry_after":30}`))
		})

		It("gives the standard signal its status", func() {
			fault.RateLimitEffect{Signal: fault.SignalStandard, Status: 503}.Answer(x)
			Expect(x.sent.Status).To(Equal(503))
		})

		It("announces an explicit retry_after whatever the signal, and drops it for format none", func() {
			x.responses = map[profile.Situation]profile.Response{profile.SituationRateLimited: {Status: 403, Body: "{}"}}
			fault.RateLimitEffect{RetryAfter: d("45s")}.Answer(x)
			Expect(x.sent.Header.Get("Retry-After")).To(Equal("30"), "the firing's delay, rendered")
			fault.RateLimitEffect{Signal: fault.SignalStandard, RetryAfterFormat: fault.RetryAfterNone}.Answer(x)
			Expect(x.sent.Header.Values("Retry-After")).To(BeEmpty())
		})

		It("announces a limiter's delay as a date when asked", func() {
			fault.RateLimitEffect{Limit: 1, Per: d("1m"), RetryAfterFormat: fault.RetryAfterHTTPDate}.Answer(x)
			Expect(x.sent.Header.Get("Retry-After")).To(Equal("Sun, 01 Mar 2026 12:00:30 GMT"))
		})
	})

	Describe("error", func() {
		It("answers as the profile does in a situation, else as RFC 6749 would", func() {
			x.responses = map[profile.Situation]profile.Response{profile.SituationInteractionRequired: {Status: 400, Body: `{"error":"AADSTS50076"}`}}
			fault.ErrorEffect{Situation: profile.SituationInteractionRequired}.Answer(x)
			Expect(string(x.sent.Body)).To(Equal(`{"error":"AADSTS50076"}`))
			x.responses = nil
			fault.ErrorEffect{Situation: profile.SituationClientSecretExpired}.Answer(x)
			Expect(x.sent.Status).To(Equal(http.StatusUnauthorized))
			Expect(string(x.sent.Body)).To(ContainSubstring(`"error":"invalid_client"`))
		})

		It("sends an OAuth error, a body and headers as written, braces included", func() {
			fault.ErrorEffect{OAuthError: "invalid_grant", ErrorDescription: "{{.Now}}"}.Answer(x)
			Expect(x.sent.Status).To(Equal(http.StatusBadRequest))
			Expect(string(x.sent.Body)).To(Equal(`{"error":"invalid_grant","error_description":"{{.Now}}"}`))
			fault.ErrorEffect{Status: 502, Body: "<html>{{oops</html>", Headers: map[string]string{"X-Note": "{{.Now}}"}}.Answer(x)
			Expect(x.sent.Status).To(Equal(502))
			Expect(x.sent.Header.Get("Content-Type")).To(Equal("text/html; charset=utf-8"), "guessed from the body")
			Expect(x.sent.Header.Get("X-Note")).To(Equal("{{.Now}}"))
			Expect(string(x.sent.Body)).To(Equal("<html>{{oops</html>"))
		})

		DescribeTable("gives a bare status the RFC 6749 code that fits it",
			func(status int, code string) {
				fault.ErrorEffect{Status: status}.Answer(x)
				Expect(x.sent.Status).To(Equal(status))
				Expect(string(x.sent.Body)).To(ContainSubstring(`"error":"` + code + `"`))
			},
			Entry("503", 503, "temporarily_unavailable"),
			Entry("500", 500, "server_error"),
			Entry("404", 404, "invalid_request"),
		)

		It("announces its retry_after in seconds", func() {
			fault.ErrorEffect{Status: 503, RetryAfter: d("20s")}.Answer(x)
			Expect(x.sent.Header.Get("Retry-After")).To(Equal("30"), "the firing's delay, rendered")
		})
	})

	Describe("latency", func() {
		It("fires before it waits its delay and the firing's jitter", func() {
			Expect(fault.LatencyEffect{Delay: d("1s")}.Hold(x, fault.Firing{Jitter: 500 * time.Millisecond})).To(BeEmpty())
			Expect(x.fired).To(Equal([]string{"delayed the request by 1.5s"}))
			Expect(x.waited).To(Equal([]time.Duration{1500 * time.Millisecond}))
		})

		It("ends the request when the client gives up", func() {
			x.gaveUp = true
			Expect(fault.LatencyEffect{Delay: d("1s")}.Hold(x, fault.Firing{})).To(Equal("the client gave up (or the server stopped) during the delay"))
		})
	})

	Describe("hang", func() {
		It("holds for 30s by default, then closes the connection", func() {
			Expect(fault.HangEffect{}.Answer(x)).To(Equal("held the request for 30s, then closed the connection without an answer"))
			Expect(x.waited).To(Equal([]time.Duration{30 * time.Second}))
			Expect(x.closed).To(BeTrue())
		})

		It("says when the client gave up first", func() {
			x.gaveUp = true
			Expect(fault.HangEffect{Max: d("50ms")}.Answer(x)).To(Equal("held the request until the client gave up (or the server stopped)"))
			Expect(x.waited).To(Equal([]time.Duration{50 * time.Millisecond}))
			Expect(x.closed).To(BeTrue())
		})
	})

	It("reset closes the connection without an answer", func() {
		Expect(fault.ResetEffect{}.Answer(x)).To(Equal("closed the connection without an answer"))
		Expect(x.closed).To(BeTrue())
		Expect(x.sent).To(BeNil())
	})

	Describe("malformed", func() {
		held := func() fault.Held {
			return fault.Held{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: bytes.NewBufferString(`{"access_token":"abc"}`)}
		}

		DescribeTable("spoils the answer by its mode",
			func(mode, detail, body, contentType string, loses bool) {
				a := held()
				e := fault.MalformedEffect{Mode: mode}
				Expect(e.Spoil(x, a)).To(Equal(detail))
				Expect(a.Body.String()).To(Equal(body))
				Expect(a.Header.Get("Content-Type")).To(Equal(contentType))
				Expect(e.LosesAnswer()).To(Equal(loses))
				Expect(x.closed).To(BeFalse())
			},
			Entry("truncate", fault.ModeTruncate, "cut the body to 11 bytes of a 200 answer", `{"access_to`, "application/json", true),
			Entry("content_type", fault.ModeContentType, "labelled the body text/html of a 200 answer", `{"access_token":"abc"}`, "text/html; charset=utf-8", false),
			Entry("not_json", fault.ModeNotJSON, "replaced the body with an HTML page of a 200 answer",
				"<html><head><title>200 OK</title></head><body><h1>OK</h1></body></html>\n", "text/html; charset=utf-8", true),
			Entry("empty", fault.ModeEmpty, "sent no body of a 200 answer", "", "application/json", true),
		)
	})

	It("drop_after_commit drops the answer the provider gave", func() {
		e := fault.DropAfterCommitEffect{}
		Expect(e.Spoil(x, fault.Held{Status: 200, Header: http.Header{}, Body: &bytes.Buffer{}})).To(Equal("the provider answered 200; the answer was dropped and the connection closed"))
		Expect(x.closed).To(BeTrue())
		Expect(e.LosesAnswer()).To(BeTrue())
	})

	Describe("backdate", func() {
		It("mints the access token early", func() {
			m := &minting{}
			fault.BackdateEffect{By: d("120s")}.Mint(m)
			Expect(m.backdate).To(Equal(2 * time.Minute))
		})

		It("fires only where an access token was minted", func() {
			e := fault.BackdateEffect{By: d("120s")}
			Expect(e.Shaped(tokenAnswer{minted: true})).To(Equal("access token minted 2m0s before the answer"))
			Expect(e.Shaped(tokenAnswer{})).To(BeEmpty())
			Expect(e.Shaped(tokenAnswer{code: "invalid_grant", status: 400, minted: true})).To(BeEmpty())
		})
	})

	Describe("deviation", func() {
		It("draws a random lifetime, and leaves the other deviations' minting to the profile's rules", func() {
			m := &minting{}
			fault.DeviationEffect{Deviation: fault.DeviationRandomLifetime, MinLifetime: d("60m"), MaxLifetime: d("90m")}.Mint(m)
			fault.DeviationEffect{Deviation: profile.DeviationNoRefreshToken}.Mint(m)
			Expect(m.drawn).To(Equal([][2]time.Duration{{time.Hour, 90 * time.Minute}}))
			Expect(fault.DeviationEffect{Deviation: profile.DeviationNoRefreshToken}.Deviates()).To(Equal(profile.DeviationNoRefreshToken))
		})

		DescribeTable("fires where it changed the answer",
			func(dev profile.Deviation, t tokenAnswer, detail string) {
				Expect(fault.DeviationEffect{Deviation: dev}.Shaped(t)).To(Equal(detail))
			},
			Entry("a body deviation on tokens", profile.DeviationExpiresInString, tokenAnswer{}, "expires_in_string"),
			Entry("an error deviation on tokens", profile.DeviationInvalidGrant401, tokenAnswer{}, ""),
			Entry("an error deviation on a refusal it changed", profile.DeviationInvalidGrant401,
				tokenAnswer{code: "invalid_grant", status: 400, statusUnderAny: 401}, "answered invalid_grant with 401 instead of 400"),
			Entry("a deviation on a refusal it left as it was", profile.DeviationExpiresInString,
				tokenAnswer{code: "invalid_grant", status: 400, statusUnderAny: 400}, ""),
			Entry("a random lifetime drawn", fault.DeviationRandomLifetime, tokenAnswer{lifetime: 75 * time.Minute}, "access token lifetime 1h15m0s"),
			Entry("a nonce replaced", profile.DeviationIDTokenNonceMismatch, tokenAnswer{nonceReplaced: true},
				"id_token_nonce_mismatch: the id_token's nonce replaced with a random one the authorization did not send"),
			Entry("no nonce to replace", profile.DeviationIDTokenNonceMismatch, tokenAnswer{}, ""),
		)
	})

	Describe("propagation_delay", func() {
		DescribeTable("overturns the resource's check within its delay",
			func(on fault.OneOrMany[string], c tokenCheck, detail, refused, accepted string) {
				Expect(fault.PropagationDelayEffect{Delay: d("30s"), On: on}.Propagate(&c)).To(Equal(detail))
				Expect(c.refused).To(Equal(refused))
				Expect(c.accepted).To(Equal(accepted))
			},
			Entry("a token issued 10s ago", nil, tokenCheck{valid: true, age: 10 * time.Second},
				"refused an access token issued 10s ago", "the access token has not reached the resource yet", ""),
			Entry("a token issued 40s ago", nil, tokenCheck{valid: true, age: 40 * time.Second}, "", "", ""),
			Entry("a fresh token, revocations only", fault.OneOrMany[string]{fault.OnRevocation}, tokenCheck{valid: true, age: time.Second}, "", "", ""),
			Entry("a token revoked 5s ago", nil, tokenCheck{revoked: true, revokedFor: 5 * time.Second},
				"accepted an access token revoked 5s ago", "", "revoked, but the revocation has not reached the resource yet"),
			Entry("a token refused for more than its revocation", nil, tokenCheck{revokedFor: 5 * time.Second}, "", "", ""),
			Entry("a revoked token, issues only", fault.OneOrMany[string]{fault.OnIssue}, tokenCheck{revoked: true, revokedFor: time.Second}, "", "", ""),
		)
	})

	DescribeTable("the kinds that hold requests say when they hold them too long",
		func(e fault.WallTimed, why string) { Expect(e.Exceeds(10 * time.Second)).To(Equal(why)) },
		Entry("a hang without a max", fault.HangEffect{}, "needs a max of at most 10s: it holds a request for real time"),
		Entry("a short hang", fault.HangEffect{Max: d("10s")}, ""),
		Entry("a latency with its jitter", fault.LatencyEffect{Delay: d("9s"), Jitter: d("2s")}, "is at most 10s with its jitter: it delays in real time"),
		Entry("a short latency", fault.LatencyEffect{Delay: d("9s"), Jitter: d("1s")}, ""),
	)
})

func profileNames() string { return join(profile.Names()) }

func situations() string { return join(profile.Situations()) }

func deviations() string {
	return join(append(profile.Deviations(), fault.DeviationRandomLifetime))
}

func join[T ~string](items []T) string {
	var b bytes.Buffer
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(it))
	}
	return b.String()
}
