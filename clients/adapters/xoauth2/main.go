// Command xoauth2 is golang.org/x/oauth2 behind the client protocol of
// clients/PROTOCOL.md, wired as the library's documentation shows: an
// oauth2.Config with the endpoints of the provider's discovery document
// and every other field at its documented default (Endpoint.AuthStyle
// included: auto-detect), AuthCodeURL with PKCE, Exchange for the
// callback, and API calls through oauth2.NewClient over a ReuseTokenSource
// of Config.TokenSource. What the library leaves to the application
// (storing tokens, telling a dead grant from a passing failure) is done in
// the simplest way, and said so where it is done; refreshing is left
// entirely to the library, so that the harness judges x/oauth2 and not
// this adapter. Each piece of glue is listed, with what calls for it, in
// clients/adapters/README.md.
//
//	go build -o bin/xoauth2-adapter ./clients/adapters/xoauth2
//	oauthsim conform --client-cmd "$PWD/bin/xoauth2-adapter"
//
// service_call goes through the clientcredentials package: a
// clientcredentials.Config's Client, which fetches a token of the client
// itself and reuses it while it lives.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/clients/protocol"
	"github.com/oauthsim/oauthsim/clients/tokenmanager"
)

// library is the module under test.
const library = "golang.org/x/oauth2"

// httpTimeout bounds each HTTP request: x/oauth2's default client
// (http.DefaultClient) waits for ever, the protocol gives a client 20
// seconds to answer, and the package's example ExampleConfig_customHTTP
// gives its token requests an http.Client with a Timeout, through the
// oauth2.HTTPClient context key.
const httpTimeout = 15 * time.Second

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "xoauth2 adapter:", err)
		os.Exit(1)
	}
}

func run() error {
	env, err := protocol.ReadEnv()
	if err != nil {
		return err
	}
	// clock:now: Serve sets the clock from each request's now.
	clock := protocol.NewClock(env.Start)
	// Set before any token exists, and never again: the library reads the
	// variable without synchronisation.
	oauth2TimeNow = clock.Now
	httpClient := &http.Client{Timeout: httpTimeout}
	meta, err := discover(httpClient, env.Issuer)
	if err != nil {
		return err
	}
	a := &adapter{
		env:   env,
		meta:  meta,
		clock: clock,
		// x/oauth2 takes its HTTP client from the context, for token
		// requests and as the base of NewClient's transport.
		ctx:  context.WithValue(context.Background(), oauth2.HTTPClient, httpClient),
		path: filepath.Join(env.StateDir, "token.json"),
		log:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if a.conf, err = a.config(); err != nil {
		return err
	}
	tok, err := loadToken(a.path)
	if err != nil {
		return err
	}
	if tok != nil {
		a.use(tok)
	}
	if a.grantedAt, err = loadGrantTime(a.grantPath()); err != nil {
		return err
	}
	return protocol.Serve(os.Stdin, os.Stdout, hello(), clock, a.serve)
}

// hello is what the adapter says of itself.
func hello() contract.Hello {
	return contract.Hello{
		Name:    library,
		Version: linkedVersion(),
		// No shared_state: x/oauth2 has no lock across processes, and two of
		// them refresh the same token each on its own. No logout: x/oauth2
		// has no RFC 7009 revocation.
		Capabilities: []contract.Capability{contract.CapRefresh, contract.CapRestart, contract.CapConcurrency, contract.CapSecretRotation,
			contract.CapClientCredentials, contract.CapClockNow},
		// x/oauth2 writes nothing to disk: token.json and grant.json are
		// this adapter's (saveJSON), plain JSON as the library's Token
		// marshals, so what the harness finds there is the glue's finding.
		// No encrypts_at_rest: the glue stores what the library's
		// documentation shows, and leaves it plain.
		Glue: []string{contract.GlueStorage},
	}
}

// linkedVersion is the version of x/oauth2 this binary was built with.
func linkedVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, m := range info.Deps {
		if m.Path != library {
			continue
		}
		if m.Replace != nil {
			m = m.Replace
		}
		return m.Version
	}
	return "unknown"
}

// metadata is what the adapter reads of the provider's discovery document:
// x/oauth2 does not discover, and Config.Endpoint must name the endpoints.
type metadata struct {
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
}

func discover(c *http.Client, issuer string) (metadata, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	var m metadata
	resp, err := c.Get(u)
	if err != nil {
		return m, fmt.Errorf("discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return m, fmt.Errorf("discovery: %s answered %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return m, fmt.Errorf("discovery %s: %w", u, err)
	}
	if m.AuthorizationEndpoint == "" || m.TokenEndpoint == "" {
		return m, fmt.Errorf("discovery: %s names no authorization or token endpoint", u)
	}
	return m, nil
}

// adapter serves the protocol's requests with x/oauth2.
type adapter struct {
	env   protocol.Env
	meta  metadata
	clock *protocol.Clock
	ctx   context.Context
	path  string
	log   *slog.Logger

	mu              sync.Mutex
	conf            *oauth2.Config
	tokens          *savingSource
	client          *http.Client
	state, verifier string
	// grantedAt is when the user authorized (sim time): a grant that dies
	// in its eighth day reads as a testing app's.
	grantedAt time.Time
	// service calls the API as the client itself (client credentials).
	service *http.Client
}

// config builds the oauth2.Config from the environment, reading the client
// secret from its file as it is now.
func (a *adapter) config() (*oauth2.Config, error) {
	secret, err := a.env.Secret()
	if err != nil {
		return nil, fmt.Errorf("client secret: %w", err)
	}
	scopes := slices.Clone(a.env.Scopes)
	if !a.env.OfflineAccessType {
		scopes = append(scopes, "offline_access")
	}
	// Endpoint.AuthStyle stays at its documented default, auto-detect ("The
	// zero value means to auto-detect"), as in the package's examples: the
	// Config sends a token request with HTTP Basic and, when that fails
	// before any request of this Config has succeeded, again with the
	// credentials in the body. What that does is the library's to be judged.
	return &oauth2.Config{
		ClientID:     a.env.ClientID,
		ClientSecret: secret,
		Endpoint:     oauth2.Endpoint{AuthURL: a.meta.AuthorizationEndpoint, TokenURL: a.meta.TokenEndpoint},
		RedirectURL:  a.env.RedirectURI,
		Scopes:       scopes,
	}, nil
}

// grantPath is the file that keeps when the user authorized.
func (a *adapter) grantPath() string { return filepath.Join(a.env.StateDir, "grant.json") }

// use makes tok the user's token, with a new HTTP client over it.
// Callers hold a.mu, or are alone.
func (a *adapter) use(tok *oauth2.Token) {
	a.tokens = newSavingSource(a.ctx, a.conf, tok, a.path, a.clock)
	a.client = oauth2.NewClient(a.ctx, oauth2.ReuseTokenSource(tok, a.tokens))
}

func (a *adapter) serve(ctx context.Context, r contract.Request) contract.Response {
	var resp contract.Response
	switch r.Op {
	case contract.OpAuthorize:
		resp = a.authorize()
	case contract.OpCallback:
		resp = a.callback(r.URL)
	case contract.OpCall:
		resp = a.call(ctx)
	case contract.OpServiceCall:
		resp = a.serviceCall(ctx)
	case contract.OpReload:
		resp = a.reload()
	case contract.OpTime:
		// Serve has set the clock from the request.
	default:
		// logout included: x/oauth2 cannot revoke, and the hello says so.
		resp = contract.Response{Error: "unsupported op " + string(r.Op)}
	}
	a.log.Info("served", "op", r.Op, "now", r.Now, "outcome", resp.Outcome, "reason", resp.Reason, "detail", resp.Detail, "error", resp.Error)
	return resp
}

func (a *adapter) authorize() contract.Response {
	state, verifier := rand.Text(), oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if a.env.OfflineAccessType {
		opts = append(opts, oauth2.AccessTypeOffline)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state, a.verifier = state, verifier
	return contract.Response{URL: a.conf.AuthCodeURL(state, opts...)}
}

func (a *adapter) callback(raw string) contract.Response {
	u, err := url.Parse(raw)
	if err != nil {
		return contract.Response{Outcome: contract.OutcomeError, Detail: "the callback URL: " + err.Error()}
	}
	q := u.Query()
	a.mu.Lock()
	state, verifier, conf := a.state, a.verifier, a.conf
	a.mu.Unlock()
	switch {
	case q.Get("error") != "":
		return contract.Response{Outcome: contract.OutcomeError, Detail: "authorization refused: " + q.Get("error")}
	case state == "" || q.Get("state") != state:
		return contract.Response{Outcome: contract.OutcomeError, Detail: "the callback's state does not match"}
	}
	// Exchange takes its HTTP client from the context, a.ctx's.
	tok, err := conf.Exchange(a.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return outcome(err, 0)
	}
	tok = inSimTime(tok, a.clock)
	grantedAt := a.clock.Now()
	if err := saveToken(a.path, tok); err != nil {
		return contract.Response{Outcome: contract.OutcomeError, Detail: err.Error()}
	}
	if err := saveGrantTime(a.grantPath(), grantedAt); err != nil {
		return contract.Response{Outcome: contract.OutcomeError, Detail: err.Error()}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state, a.verifier = "", ""
	a.grantedAt = grantedAt
	a.use(tok)
	return contract.Response{Outcome: contract.OutcomeOK}
}

func (a *adapter) call(ctx context.Context) contract.Response {
	a.mu.Lock()
	client, grantAge := a.client, a.clock.Now().Sub(a.grantedAt)
	a.mu.Unlock()
	if client == nil {
		return contract.Response{Outcome: contract.OutcomeReauthorize, Reason: contract.ReasonNoGrant, Detail: "no token stored: the user has not authorized"}
	}
	return a.get(ctx, client, grantAge)
}

// get makes one GET of the API through client and says how it ended;
// grantAge is the age of the grant behind client's tokens.
func (a *adapter) get(ctx context.Context, client *http.Client, grantAge time.Duration) contract.Response {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.env.Resource, nil)
	if err != nil {
		return contract.Response{Error: err.Error()}
	}
	resp, err := client.Do(req)
	if err != nil {
		return outcome(err, grantAge)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return apiOutcome(resp.StatusCode, resp.Status)
}

// reload rebuilds the Config with the client secret now in its file, as an
// operator's restart of the configuration would, keeping the user's token.
func (a *adapter) reload() contract.Response {
	conf, err := a.config()
	if err != nil {
		return contract.Response{Error: err.Error()}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conf = conf
	if a.tokens != nil {
		a.tokens.setConfig(conf)
	}
	a.service = nil // the next service call gets a client with the new secret
	return contract.Response{}
}

// serviceCall GETs the API as the client itself, through the client that
// clientcredentials.Config.Client documents: it fetches a token with the
// client credentials grant and reuses it until it expires. The one change
// is the clock: clientcredentials composes ReuseTokenSource over its own
// token source exactly so, and here the inner source also moves each new
// token's expiry into sim time (see inSimTime). AuthStyle is left at
// auto-detect here too; cc lives as long as a.service, and with it the
// auth style it has found.
func (a *adapter) serviceCall(ctx context.Context) contract.Response {
	a.mu.Lock()
	if a.service == nil {
		cc := &clientcredentials.Config{ClientID: a.conf.ClientID, ClientSecret: a.conf.ClientSecret,
			TokenURL: a.conf.Endpoint.TokenURL, Scopes: []string{"api"}}
		src := oauth2.ReuseTokenSource(nil, tokenSourceFunc(func() (*oauth2.Token, error) {
			t, err := cc.Token(a.ctx)
			if err != nil {
				return nil, err
			}
			return inSimTime(t, a.clock), nil
		}))
		a.service = oauth2.NewClient(a.ctx, src)
	}
	client := a.service
	a.mu.Unlock()
	// No user, no grant: a client credentials token has no age to read.
	return a.get(ctx, client, 0)
}

// tokenSourceFunc is a function as an oauth2.TokenSource.
type tokenSourceFunc func() (*oauth2.Token, error)

func (f tokenSourceFunc) Token() (*oauth2.Token, error) { return f() }

// outcome maps an error of x/oauth2 (or of the HTTP client under it) to
// the protocol's outcomes, by what the library reports: the token
// endpoint's error code and HTTP status in a RetrieveError, a transport
// failure, or its own words. grantAge is how long ago the user authorized.
func outcome(err error, grantAge time.Duration) contract.Response {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return retrieveOutcome(re, grantAge)
	}
	switch {
	case tokenmanager.NoAnswer(err):
		// A timeout, a failed connection or a dropped answer, on the way
		// to the token endpoint or to the API.
		return contract.Response{Outcome: contract.OutcomeTemporaryError, Detail: err.Error()}
	case strings.Contains(err.Error(), "oauth2: token expired and refresh token is not set"):
		// x/oauth2's own verdict (an errors.New, so matched by its text):
		// the access token expired and there is nothing to refresh with.
		return contract.Response{Outcome: contract.OutcomeReauthorize, Reason: contract.ReasonNoRefreshToken, Detail: err.Error()}
	case unreadableAnswer(err):
		// A 2xx answer of the token endpoint with neither a token nor an
		// error in it: the table's last row.
		out, reason := tokenmanager.TokenErrorOutcome(0, nil, grantAge)
		return contract.Response{Outcome: out, Reason: reason, Detail: err.Error()}
	}
	return contract.Response{Outcome: contract.OutcomeError, Detail: err.Error()}
}

// unreadableAnswers are x/oauth2's own words (internal/token.go,
// doTokenRoundTrip) for a token endpoint's answer that it could not take:
// with a 2xx status (an error status comes as a RetrieveError), a body not
// JSON, cut short or empty ("cannot parse json", or "cannot parse response"
// under a form content type) or one with no access_token and no error
// ("server response missing access_token"); with any status, a body whose
// reading failed ("cannot fetch token", which a RetrieveError's text also
// begins with: outcome reads those first). Each is an errors.New or an
// fmt.Errorf with %v, so only its text tells it; under an API call,
// http.Client puts it in a url.Error.
var unreadableAnswers = []string{
	"oauth2: cannot parse json: ",
	"oauth2: cannot parse response: ",
	"oauth2: server response missing access_token",
	"oauth2: cannot fetch token: ",
}

// unreadableAnswer reports whether err is x/oauth2's report of a token
// endpoint's answer it could not read (unreadableAnswers).
func unreadableAnswer(err error) bool {
	msg := err.Error()
	return slices.ContainsFunc(unreadableAnswers, func(s string) bool { return strings.Contains(msg, s) })
}

// retrieveOutcome reads a failed token request as x/oauth2 reports it (the
// status and the body as sent) through the table every adapter answers with
// (clients/adapters/README.md), which is the reference token manager's.
// x/oauth2 reports every error answer alike; what it means is the
// application's to say. grantAge is how long ago the user authorized.
func retrieveOutcome(re *oauth2.RetrieveError, grantAge time.Duration) contract.Response {
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	// RetrieveError.Error() appends the whole body when there is no error
	// code (an HTML page, say); the status line says enough.
	detail := re.Error()
	if re.ErrorCode == "" {
		detail = fmt.Sprintf("oauth2: cannot fetch token: HTTP %d", status)
	}
	out, reason := tokenmanager.TokenErrorOutcome(status, re.Body, grantAge)
	return contract.Response{Outcome: out, Reason: reason, Detail: detail}
}

// apiOutcome reads the API's answer to a call, as every adapter does.
// x/oauth2's transport only adds the header: a 401 reaches the application
// as it is, and is answered unauthorized.
func apiOutcome(status int, line string) contract.Response {
	out := tokenmanager.APIOutcome(status)
	if out == contract.OutcomeOK {
		return contract.Response{Outcome: out}
	}
	return contract.Response{Outcome: out, Detail: "the API answered " + line}
}
