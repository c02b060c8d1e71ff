// Package protocol is the client side of clients/PROTOCOL.md for adapters
// written in Go: the environment the harness gives, read into an Env, a
// loop that reads requests from stdin and writes responses to stdout,
// serving requests concurrently, and the sim time of a clock:now client.
// The lines and names themselves are package contract's, which the harness
// uses too.
package protocol

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oauthsim/oauthsim/clients/contract"
)

// Env is the configuration the harness passes in the environment
// variables of package contract.
type Env struct {
	Issuer, Resource, ClientID, SecretFile, RedirectURI string
	Scopes                                              []string
	// OfflineAccessType: ask offline access with access_type=offline
	// instead of the offline_access scope.
	OfflineAccessType bool
	Profile           string
	// Rotation and Grace are what the provider documents about refresh tokens.
	Rotation contract.Rotation
	Grace    time.Duration
	StateDir string
	Start    time.Time
	// StorageKeyFile holds the keys a client may encrypt what it keeps
	// with (contract.ParseStorageKeys reads it); empty when the harness gave
	// none.
	StorageKeyFile string
	// Tenants are the client registrations of a scenario that names
	// tenants, the first the default; nil otherwise.
	Tenants []contract.Tenant
}

// ReadEnv reads the protocol's environment variables, refusing a missing
// one.
func ReadEnv() (Env, error) {
	if v := os.Getenv(contract.EnvProtocol); v != strconv.Itoa(contract.Version) {
		return Env{}, fmt.Errorf("%s is %q; this adapter speaks %d", contract.EnvProtocol, v, contract.Version)
	}
	e := Env{Issuer: os.Getenv(contract.EnvIssuer), Resource: os.Getenv(contract.EnvResource), ClientID: os.Getenv(contract.EnvClientID),
		SecretFile: os.Getenv(contract.EnvClientSecretFile), RedirectURI: os.Getenv(contract.EnvRedirectURI), Scopes: strings.Fields(os.Getenv(contract.EnvScopes)),
		OfflineAccessType: contract.OfflineAccess(os.Getenv(contract.EnvOfflineAccess)) == contract.OfflineAccessType,
		Profile:           os.Getenv(contract.EnvProfile), Rotation: contract.Rotation(os.Getenv(contract.EnvRefreshRotation)), StateDir: os.Getenv(contract.EnvStateDir)}
	for _, k := range []string{contract.EnvIssuer, contract.EnvResource, contract.EnvClientID, contract.EnvRedirectURI, contract.EnvStateDir} {
		if os.Getenv(k) == "" {
			return Env{}, fmt.Errorf("%s is not set", k)
		}
	}
	grace, err := strconv.Atoi(os.Getenv(contract.EnvRefreshGrace))
	if err != nil {
		return Env{}, fmt.Errorf("%s: %w", contract.EnvRefreshGrace, err)
	}
	e.Grace = time.Duration(grace) * time.Second
	if e.Start, err = time.Parse(time.RFC3339Nano, os.Getenv(contract.EnvTime)); err != nil {
		return Env{}, fmt.Errorf("%s: %w", contract.EnvTime, err)
	}
	e.StorageKeyFile = os.Getenv(contract.EnvStorageKeyFile)
	if v := os.Getenv(contract.EnvTenants); v != "" {
		if err := json.Unmarshal([]byte(v), &e.Tenants); err != nil {
			return Env{}, fmt.Errorf("%s: %w", contract.EnvTenants, err)
		}
		if len(e.Tenants) == 0 {
			return Env{}, fmt.Errorf("%s names no tenant", contract.EnvTenants)
		}
	}
	return e, nil
}

// Secret reads the current client secret; "" for a public client.
func (e Env) Secret() (string, error) {
	if e.SecretFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(e.SecretFile)
	return strings.TrimSpace(string(b)), err
}

// Handler serves one request; the loop fills in the id. It is called
// concurrently. The request carries what a handler may need beyond its op:
// its tenant (contract.Request.Tenant) for a multi-tenant client, and
// storage_key (contract.OpStorageKey) comes to it like any other op.
type Handler func(ctx context.Context, r contract.Request) contract.Response

// Serve writes hello, then serves requests from in until shutdown or EOF,
// each in its own goroutine, writing responses to out one line each. When
// clock is not nil, each request's now is set on it as the request is read,
// before h sees the request: in the order the harness sent them, which the
// handlers' goroutines would not keep.
func Serve(in io.Reader, out io.Writer, hello contract.Hello, clock *Clock, h Handler) error {
	hello.Protocol = contract.Version
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	write := func(v any) error {
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(v)
	}
	if err := write(contract.HelloLine{Hello: &hello}); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), contract.MaxLine+1) // the newline counts against the scanner's limit
	var wg sync.WaitGroup
	defer wg.Wait()
	for sc.Scan() {
		var r contract.Request
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			_ = write(contract.Response{Error: "not a request: " + err.Error()})
			continue
		}
		if clock != nil {
			clock.Set(r.Now)
		}
		if r.Op == contract.OpShutdown {
			wg.Wait()
			return write(contract.Response{ID: r.ID})
		}
		wg.Go(func() {
			resp := h(context.Background(), r)
			resp.ID = r.ID
			_ = write(resp)
		})
	}
	return sc.Err()
}
