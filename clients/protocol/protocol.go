// Package protocol is the client side of clients/PROTOCOL.md for adapters
// written in Go: the environment the harness gives, and a loop that reads
// requests from stdin and writes responses to stdout, serving requests
// concurrently.
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
)

// Version is the protocol version this package speaks.
const Version = 1

// Env is the configuration the harness passes in OAUTHSIM_* variables.
type Env struct {
	Issuer, Resource, ClientID, SecretFile, RedirectURI string
	Scopes                                              []string
	// OfflineAccessType: ask offline access with access_type=offline
	// instead of the offline_access scope.
	OfflineAccessType bool
	Profile           string
	// Rotation and Grace are what the provider documents about refresh tokens.
	Rotation string
	Grace    time.Duration
	StateDir string
	Start    time.Time
}

// ReadEnv reads the OAUTHSIM_* variables, refusing a missing one.
func ReadEnv() (Env, error) {
	get := func(k string) string { return os.Getenv("OAUTHSIM_" + k) }
	if v := get("PROTOCOL"); v != strconv.Itoa(Version) {
		return Env{}, fmt.Errorf("OAUTHSIM_PROTOCOL is %q; this adapter speaks %d", v, Version)
	}
	e := Env{Issuer: get("ISSUER"), Resource: get("RESOURCE"), ClientID: get("CLIENT_ID"), SecretFile: get("CLIENT_SECRET_FILE"),
		RedirectURI: get("REDIRECT_URI"), Scopes: strings.Fields(get("SCOPES")), OfflineAccessType: get("OFFLINE_ACCESS") == "access_type",
		Profile: get("PROFILE"), Rotation: get("REFRESH_ROTATION"), StateDir: get("STATE_DIR")}
	for k, v := range map[string]string{"ISSUER": e.Issuer, "RESOURCE": e.Resource, "CLIENT_ID": e.ClientID, "REDIRECT_URI": e.RedirectURI, "STATE_DIR": e.StateDir} {
		if v == "" {
			return Env{}, fmt.Errorf("OAUTHSIM_%s is not set", k)
		}
	}
	grace, err := strconv.Atoi(get("REFRESH_GRACE"))
	if err != nil {
		return Env{}, fmt.Errorf("OAUTHSIM_REFRESH_GRACE: %w", err)
	}
	e.Grace = time.Duration(grace) * time.Second
	if e.Start, err = time.Parse(time.RFC3339Nano, get("TIME")); err != nil {
		return Env{}, fmt.Errorf("OAUTHSIM_TIME: %w", err)
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

// Hello is the client's first line.
type Hello struct {
	Protocol     int      `json:"protocol"`
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	Capabilities []string `json:"capabilities"`
}

// Request is one line from the harness.
type Request struct {
	ID  string    `json:"id"`
	Op  string    `json:"op"`
	Now time.Time `json:"now"`
	URL string    `json:"url,omitempty"`
}

// Response is one line to the harness.
type Response struct {
	ID      string `json:"id"`
	URL     string `json:"url,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Handler serves one request; the loop fills in the id. It is called
// concurrently.
type Handler func(ctx context.Context, r Request) Response

// Serve writes hello, then serves requests from in until shutdown or EOF,
// each in its own goroutine, writing responses to out one line each. When
// clock is not nil, each request's now is set on it as the request is read,
// before h sees the request: in the order the harness sent them, which the
// handlers' goroutines would not keep.
func Serve(in io.Reader, out io.Writer, hello Hello, clock *Clock, h Handler) error {
	hello.Protocol = Version
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	write := func(v any) error {
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(v)
	}
	if err := write(map[string]Hello{"hello": hello}); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var wg sync.WaitGroup
	defer wg.Wait()
	for sc.Scan() {
		var r Request
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			_ = write(Response{Error: "not a request: " + err.Error()})
			continue
		}
		if clock != nil {
			clock.Set(r.Now)
		}
		if r.Op == "shutdown" {
			wg.Wait()
			return write(Response{ID: r.ID})
		}
		wg.Go(func() {
			resp := h(context.Background(), r)
			resp.ID = r.ID
			_ = write(resp)
		})
	}
	return sc.Err()
}
