package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Startup is how long one start of `oauthsim serve` took to be ready.
type Startup struct {
	// Banner is when it printed its banner: it is listening by then.
	Banner time.Duration
	// Ready is when its discovery document first answered 200.
	Ready time.Duration
}

// MeasureStartup starts `bin serve --addr 127.0.0.1:0` and times it until
// it answers its discovery document, then stops it.
func MeasureStartup(ctx context.Context, bin string) (Startup, error) {
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Startup{}, err
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return Startup{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}()
	var s Startup
	issuer := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if s.Banner == 0 && strings.HasPrefix(sc.Text(), "oauthsim is serving") {
				s.Banner = time.Since(began)
			}
			if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "issuer"); ok && !sent {
				issuer <- strings.TrimSpace(rest)
				sent = true
			}
		}
		close(issuer)
		_, _ = io.Copy(io.Discard, out)
	}()
	var base string
	select {
	case u, ok := <-issuer:
		if !ok {
			return Startup{}, fmt.Errorf("%s serve exited without its banner", bin)
		}
		base = u
	case <-time.After(10 * time.Second):
		return Startup{}, fmt.Errorf("%s serve printed no banner within 10 s", bin)
	}
	c := &http.Client{Timeout: time.Second}
	for time.Since(began) < 10*time.Second {
		resp, err := c.Get(base + "/.well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.Ready = time.Since(began)
				return s, nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return Startup{}, fmt.Errorf("%s serve did not answer its discovery document within 10 s", bin)
}
