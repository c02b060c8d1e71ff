package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
	_ "unsafe" // for go:linkname

	"golang.org/x/oauth2"

	"github.com/oauthsim/oauthsim/clients/protocol"
)

// oauth2TimeNow is x/oauth2's own clock: Token.Valid (through the
// unexported Token.expired) compares Expiry with it, so every "is it time
// to refresh" decision the library makes reads it. The library has no
// option to inject a clock, and the protocol's clock:now wants the sim
// time there; a pull linkname to a non-standard-library variable is still
// allowed by the Go 1.26 linker, without -checklinkname=0.
//
//go:linkname oauth2TimeNow golang.org/x/oauth2.timeNow
var oauth2TimeNow func() time.Time

// inSimTime returns a copy of t whose Expiry is in sim time. x/oauth2 turns
// expires_in into Expiry with a direct time.Now() call (in
// internal.doTokenRoundTrip and tokenJSON.expiry), which no linkname can
// redirect: left alone, Expiry would be wall time plus expires_in, months
// away from a sim clock that starts in January, and the library would never
// refresh. The sim clock runs at the wall clock's rate (protocol.Clock
// always, the harness's while a request is in flight), so the difference
// between the two is the same when the library read the wall clock and
// right after, when it is taken here: shifting by it makes Expiry the sim
// time the answer arrived plus expires_in, which is what the library
// computes on a real clock.
// Token.ExpiresIn's documentation leaves populating Expiry to the
// application in the same way.
func inSimTime(t *oauth2.Token, clock *protocol.Clock) *oauth2.Token {
	if t.Expiry.IsZero() {
		// No expires_in: the library treats the token as never expiring,
		// and that is its behaviour to judge.
		return t
	}
	c := *t
	c.Expiry = t.Expiry.Round(0).Add(time.Until(clock.Now()))
	return &c
}

// savingSource persists the tokens x/oauth2 hands out. x/oauth2 leaves
// storage to the application; the simplest thing its documentation shows
// (ReuseTokenSource, "typically used to reuse tokens from a cache (such as
// a file on disk) between runs of a program") is a TokenSource wrapped
// around Config.TokenSource that saves every token that differs from the
// last one saved, and a file read back at start.
//
// It also moves each new token's Expiry into sim time (see inSimTime) and
// seeds a fresh Config.TokenSource with the corrected token, exactly as a
// restart from the file would: the refresh decisions and requests stay the
// library's own.
type savingSource struct {
	ctx   context.Context
	path  string
	clock *protocol.Clock

	mu   sync.Mutex
	conf *oauth2.Config
	src  oauth2.TokenSource
	last *oauth2.Token
}

func newSavingSource(ctx context.Context, conf *oauth2.Config, tok *oauth2.Token, path string, clock *protocol.Clock) *savingSource {
	return &savingSource{ctx: ctx, path: path, clock: clock, conf: conf, src: conf.TokenSource(ctx, tok), last: tok}
}

// Token returns x/oauth2's token, saving it when it is a new one.
func (s *savingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.src.Token()
	if err != nil || t == s.last {
		return t, err
	}
	t = inSimTime(t, s.clock)
	s.src, s.last = s.conf.TokenSource(s.ctx, t), t
	if err := saveToken(s.path, t); err != nil {
		return nil, err
	}
	return t, nil
}

// setConfig makes refreshes use conf (a rotated client secret) from now on,
// starting from the token the library last handed out.
func (s *savingSource) setConfig(conf *oauth2.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conf, s.src = conf, conf.TokenSource(s.ctx, s.last)
}

// saveToken writes t to path as JSON.
func saveToken(path string, t *oauth2.Token) error {
	if err := saveJSON(path, t); err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	return nil
}

// loadToken reads the token saved at path; nil when there is none.
func loadToken(path string) (*oauth2.Token, error) {
	var t oauth2.Token
	found, err := loadJSON(path, &t)
	if err != nil || !found {
		return nil, err
	}
	return &t, nil
}

// grantRecord is when the user authorized, which x/oauth2's Token does not
// keep: the table of outcomes reads a testing app's death from it.
type grantRecord struct {
	GrantedAt time.Time `json:"granted_at"`
}

// saveGrantTime records at path that the user authorized at t.
func saveGrantTime(path string, t time.Time) error {
	if err := saveJSON(path, grantRecord{GrantedAt: t}); err != nil {
		return fmt.Errorf("save grant time: %w", err)
	}
	return nil
}

// loadGrantTime reads the time saveGrantTime recorded; zero when none.
func loadGrantTime(path string) (time.Time, error) {
	var g grantRecord
	_, err := loadJSON(path, &g)
	return g.GrantedAt, err
}

// saveJSON writes v to path as JSON, through a temporary file and a
// rename, so that a crash or a concurrent reader never sees half a file.
func saveJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// loadJSON reads path into v; found is false when there is no such file.
func loadJSON(path string, v any) (found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("load %s: %w", path, err)
	}
	return true, nil
}
