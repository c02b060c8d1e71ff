package conformance

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oauthsim/oauthsim/clients/contract"
	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
	"github.com/oauthsim/oauthsim/simulator/profile"
)

// HelloTimeout bounds, in wall time, how long a client process may take to
// say hello.
var HelloTimeout = 10 * time.Second

// Command is a client under test run as a subprocess that speaks the
// protocol of clients/PROTOCOL.md: JSON lines on stdin and stdout.
type Command struct {
	line  string
	hello contract.Hello
	// name is the name runs and reports use: the hello's, made unique by
	// Rename when two clients say the same.
	name string
	// faketime is libfaketime's path, or empty when the machine has none.
	faketime string
	// probe is why the client could not be probed; every run of it is then
	// an error with this reason.
	probe error
}

// NewCommand starts cmdline (run by sh -c) once against a throwaway
// simulator to read its hello: its name, version and capabilities, which
// decide the runs before any starts. A client that cannot be probed is
// still returned, with the error: its runs fail with that reason (oauthsim
// conform does not start them: it reports the error once and stops).
func NewCommand(ctx context.Context, cmdline string) (*Command, error) {
	c := &Command{line: cmdline, faketime: findFaketime()}
	if c.probe = c.probeHello(ctx); c.probe != nil {
		c.name = cmp.Or(c.hello.Name, cmdline)
		return c, fmt.Errorf("client %q: %w", cmdline, c.probe)
	}
	c.name = c.hello.Name
	return c, nil
}

func (c *Command) probeHello(ctx context.Context) error {
	flow := clock.NewFlow(Epoch)
	srv, err := simulator.NewServer(simulator.WithClock(flow))
	if err != nil {
		return err
	}
	defer srv.Close()
	dir, err := os.MkdirTemp(stateRoot(), "oauthsim-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := Env{Issuer: srv.URL, Resource: srv.URL + simulator.PathResourceMe, ClientID: "demo", RedirectURI: simulator.DemoRedirectURI,
		Scopes: []string{"openid", "api"}, StateDir: filepath.Join(dir, "state"), Profile: profile.Generic(), Clock: flow, Output: io.Discard}
	if err := os.MkdirAll(env.StateDir, 0o700); err != nil {
		return err
	}
	// Not under libfaketime: the hello has not said yet whether the client
	// wants it, and a client that does not must never run under it.
	p, err := c.start(ctx, env, false)
	if err != nil {
		return err
	}
	c.hello = p.hello
	stop, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.Stop(stop); err != nil {
		return fmt.Errorf("probing it: %w", err)
	}
	if _, err := c.hello.Clock(); err != nil {
		if ignored := c.Ignored(); len(ignored) > 0 {
			err = fmt.Errorf("%w, and capabilities protocol %d does not have: %s", err, contract.Version, strings.Join(ignored, ", "))
		}
		return err
	}
	return nil
}

// ProbeError is why the client could not be probed, or nil.
func (c *Command) ProbeError() error { return c.probe }

// Name is the name the client gave in its hello, or its command line when
// it gave none.
func (c *Command) Name() string { return c.name }

// Rename gives the client another name, so that two clients that say the
// same name (the reference in-process and as a subprocess, say) stay apart
// in reports and label filters.
func (c *Command) Rename(name string) { c.name = name }

// Describe is the command line.
func (c *Command) Describe() string { return c.line }

// Version is the version the client gave in its hello.
func (c *Command) Version() string { return c.hello.Version }

// Capabilities are those of the hello that scenarios may require.
func (c *Command) Capabilities() []contract.Capability { return c.hello.Features() }

// Glue is what the hello says the adapter's own code does (Glued).
func (c *Command) Glue() []string { return c.hello.Glue }

// Ignored are the capabilities of the hello that this version of the
// protocol does not have (a misspelling, or one from a later version).
func (c *Command) Ignored() []string {
	var out []string
	for _, name := range c.hello.Unknown() {
		out = append(out, string(name))
	}
	return out
}

// Unavailable says why no run of the client can happen on this machine:
// it needs libfaketime, and the machine has none.
func (c *Command) Unavailable() string {
	if slices.Contains(c.hello.Capabilities, contract.CapClockFaketime) && c.faketime == "" {
		return "the client needs libfaketime (Debian's faketime package), and this machine has none"
	}
	return ""
}

// Start starts one process of the client, under libfaketime when its
// hello asked for it.
func (c *Command) Start(ctx context.Context, env Env) (Process, error) {
	if c.probe != nil {
		return nil, fmt.Errorf("the client could not be probed: %w", c.probe)
	}
	p, err := c.start(ctx, env, c.faketime != "" && slices.Contains(c.hello.Capabilities, contract.CapClockFaketime))
	if err != nil {
		return nil, err
	}
	return p, nil
}

// findFaketime is the path of libfaketime's thread-safe variant, or "".
// The plain libfaketime.so.1 now and then hands a thread the real time
// (seen from Python adapters serving requests on threads).
func findFaketime() string {
	matches, _ := filepath.Glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
	if len(matches) == 0 {
		matches, _ = filepath.Glob("/usr/lib/faketime/libfaketimeMT.so.1")
	}
	if len(matches) == 0 {
		return ""
	}
	return matches[0]
}

// faketimeFile is where a run's processes read the sim time from.
func faketimeFile(env Env) string { return filepath.Join(filepath.Dir(env.StateDir), "faketime") }

// envHarnessProcess marks a client process and, as children inherit it,
// what the process starts: the harness finds them by it when it stops the
// process, whatever became of their parents and process groups.
const envHarnessProcess = "OAUTHSIM_HARNESS_PROCESS"

// processMarks numbers the client processes this harness started, for
// their marks: the harness's pid, a dot, the number.
var processMarks atomic.Int64

// harnessMark is the start of every mark this harness gives.
var harnessMark = strconv.Itoa(os.Getpid()) + "."

// clientProcesses are the client processes started and not yet reaped,
// by pid: exec waits for them, and a sweep must leave them alone. It is
// locked while one starts, so that a sweep never sees one not yet listed.
var clientProcesses = struct {
	sync.Mutex
	pids map[int]bool
}{pids: map[int]bool{}}

// EndStrays kills every process a client of this harness started that is
// still running (a child that left its process group and outlived its
// parent, say), and reaps those the harness adopted. Each client process's
// stop already ends what it started; oauthsim conform calls this as it
// exits, for what escaped (a child that cleared its environment, and whose
// parent had exited). Call it only when no client process is running.
func EndStrays() {
	sweep(0, func(mark string) bool { return strings.HasPrefix(mark, harnessMark) })
}

func (c *Command) start(ctx context.Context, env Env, preload bool) (*subprocess, error) {
	// What the client leaves running when its parent exits comes to the
	// harness rather than to init, to be found and ended (reaper_linux.go).
	_ = subreaper()
	cmd := exec.Command("sh", "-c", c.line)
	// The working directory stays the user's, so that a command line with
	// relative paths (node ./adapter.js) means what it says where it was
	// typed; the state directory comes in OAUTHSIM_STATE_DIR.
	// Its own process group, so that stopping it stops what it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	mark := harnessMark + strconv.FormatInt(processMarks.Add(1), 10)
	cmd.Env = append(os.Environ(),
		envHarnessProcess+"="+mark,
		contract.EnvProtocol+"="+strconv.Itoa(contract.Version),
		contract.EnvIssuer+"="+env.Issuer,
		contract.EnvResource+"="+env.Resource,
		contract.EnvClientID+"="+env.ClientID,
		contract.EnvRedirectURI+"="+env.RedirectURI,
		contract.EnvScopes+"="+strings.Join(env.Scopes, " "),
		contract.EnvOfflineAccess+"="+string(offlineRule(env.Profile)),
		contract.EnvProfile+"="+env.Profile.Name,
		// The profile's rotation modes are the protocol's values
		// (scenarios/schema_test.go holds the two lists together).
		contract.EnvRefreshRotation+"="+string(env.Profile.Refresh.Rotation),
		contract.EnvRefreshGrace+"="+strconv.Itoa(int(env.Profile.Refresh.Grace.D().Seconds())),
		contract.EnvStateDir+"="+env.StateDir,
		contract.EnvTime+"="+env.Clock.Now().UTC().Format(time.RFC3339Nano),
	)
	if env.SecretFile != "" {
		cmd.Env = append(cmd.Env, contract.EnvClientSecretFile+"="+env.SecretFile)
	}
	if env.StorageKeyFile != "" {
		cmd.Env = append(cmd.Env, contract.EnvStorageKeyFile+"="+env.StorageKeyFile)
	}
	if len(env.Tenants) > 0 {
		tenants, err := json.Marshal(env.Tenants)
		if err != nil {
			return nil, err
		}
		cmd.Env = append(cmd.Env, contract.EnvTenants+"="+string(tenants))
	}
	p := &subprocess{cmd: cmd, env: env, mark: mark, pending: map[string]chan contract.Response{}, done: make(chan struct{}), exited: make(chan struct{}),
		tail: &tailBuffer{limit: outputLimit}}
	if preload {
		p.faketime = faketimeFile(env)
		// Every process of a run reads the one file, which follows the sim
		// clock from now on (a later process takes the watch over: same file).
		stamp := &stampFile{path: p.faketime}
		env.Clock.Watch(stamp.write)
		if err := stamp.error(); err != nil {
			return nil, err
		}
		p.stamp = stamp
		// The monotonic clock stays real: event loops (Node's) time their
		// timers with it, and a faked one jumping by days stalls them.
		cmd.Env = append(cmd.Env, "LD_PRELOAD="+c.faketime, "FAKETIME_TIMESTAMP_FILE="+p.faketime, "FAKETIME_NO_CACHE=1", "FAKETIME_DONT_FAKE_MONOTONIC=1",
			"TZ=UTC") // the stamp is read as local time
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	p.stdin = stdin
	// Pipes of our own rather than exec's copying: Wait then returns when
	// the client exits, however long a child it left keeps them open.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	clientProcesses.Lock()
	err = cmd.Start()
	if err == nil {
		clientProcesses.pids[cmd.Process.Pid] = true
	}
	clientProcesses.Unlock()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("start %q: %w", c.line, err)
	}
	hellos := make(chan contract.Hello, 1)
	readDone, errDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(readDone)
		p.read(outR, hellos, env.Answers)
	}()
	go func() {
		defer close(errDone)
		// A client may log without end; the run keeps what Output keeps.
		_, _ = io.Copy(io.MultiWriter(env.Output, p.tail), errR)
	}()
	go p.wait(outR, errR, readDone, errDone)
	timer := time.NewTimer(HelloTimeout)
	defer timer.Stop()
	select {
	case h := <-hellos:
		// Reports and labels carry the name and version of every run.
		h.Name, h.Version = clip(newFinder(nil), h.Name, helloKeep, "the name"), clip(newFinder(nil), h.Version, helloKeep, "the version")
		p.hello = h
	case <-p.done:
		p.end()
		return nil, p.failure()
	case <-timer.C:
		p.end()
		return nil, fmt.Errorf("no hello within %s%s", HelloTimeout, p.stderrTail())
	case <-ctx.Done():
		p.end()
		return nil, ctx.Err()
	}
	var refuse error
	switch {
	case p.hello.Protocol != contract.Version:
		refuse = fmt.Errorf("the client speaks protocol %d; the harness speaks %d", p.hello.Protocol, contract.Version)
	case p.hello.Name == "":
		refuse = errors.New("the hello names no client")
	}
	if refuse != nil {
		p.end()
		return nil, refuse
	}
	return p, nil
}

// wait reaps the client, ends what it left running (in its process group,
// or anywhere with its mark), and lets its last output arrive before
// saying how the process ended.
func (p *subprocess) wait(stdout, stderr *os.File, readDone, errDone <-chan struct{}) {
	defer close(p.exited)
	err := p.cmd.Wait()
	clientProcesses.Lock()
	delete(clientProcesses.pids, p.cmd.Process.Pid)
	clientProcesses.Unlock()
	// Whether shutdown had been sent when the client exited: read now, not
	// after its output is drained, by when a Stop may have sent it.
	p.mu.Lock()
	asked := p.shutdownID != ""
	p.mu.Unlock()
	p.kill()
	sweep(p.cmd.Process.Pid, func(mark string) bool { return mark == p.mark })
	p.removeFaketimeShm()
	// A process outside the group (one that called setsid) may still hold
	// the pipes: closing our ends then stops the readers.
	grace := time.NewTimer(2 * time.Second)
	defer grace.Stop()
	for _, done := range []<-chan struct{}{readDone, errDone} {
		select {
		case <-done:
		case <-grace.C:
			stdout.Close()
			stderr.Close()
			<-done
		}
	}
	stdout.Close()
	stderr.Close()
	// The reader is done, so a shutdown answer the client wrote before it
	// exited has been seen: only then is the exit the one asked for.
	p.mu.Lock()
	answered := p.shutdownAnswered
	p.mu.Unlock()
	switch {
	case answered && err != nil:
		p.breakDown(fmt.Errorf("the client exited with %v after shutdown, where the protocol asks for status 0", err))
	case answered:
		p.breakDown(errStopped)
	case asked:
		p.breakDown(fmt.Errorf("the client exited (%s) without answering shutdown", exitStatus(err)))
	default:
		p.breakDown(fmt.Errorf("the client exited (%s) before it was told to", exitStatus(err)))
	}
}

func exitStatus(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// removeFaketimeShm removes the shared memory and semaphore libfaketime
// makes in the first process it is loaded into (here the sh that runs the
// command line) and removes only when that process exits normally: one
// that is killed, or that execs the client, leaves them in /dev/shm.
func (p *subprocess) removeFaketimeShm() {
	if p.faketime == "" || p.cmd.Process == nil {
		return
	}
	pid := strconv.Itoa(p.cmd.Process.Pid)
	_ = os.Remove("/dev/shm/faketime_shm_" + pid)
	_ = os.Remove("/dev/shm/sem.faketime_sem_" + pid)
}

// offlineRule is how the profile wants offline access asked for, in the
// protocol's words.
func offlineRule(p profile.Profile) contract.OfflineAccess {
	if p.OfflineAccess == profile.OfflineAccessType {
		return contract.OfflineAccessType
	}
	return contract.OfflineAccessScope
}

// subprocess is one running client process.
type subprocess struct {
	cmd      *exec.Cmd
	env      Env
	stdin    io.WriteCloser
	hello    contract.Hello
	tail     *tailBuffer
	faketime string
	// mark is the process's OAUTHSIM_HARNESS_PROCESS.
	mark string
	// stamp writes the libfaketime file; nil when not under libfaketime.
	stamp *stampFile

	// writeMu keeps lines whole on stdin; mu is never held while writing.
	writeMu sync.Mutex
	mu      sync.Mutex
	nextID  int
	pending map[string]chan contract.Response
	// broken is why the process can no longer be used; done closes then.
	broken error
	done   chan struct{}
	// exited closes when the process has been reaped and its output read.
	exited chan struct{}
	// shutdownID is the id of the shutdown request once sent;
	// shutdownAnswered is set when its answer is read.
	shutdownID       string
	shutdownAnswered bool
}

// read parses the client's stdout: the hello, then responses, each handed
// to the request that waits for it, and written as they came to answers
// (when set) for the leak check. Anything else breaks the process.
func (p *subprocess) read(stdout io.Reader, hellos chan<- contract.Hello, answers io.Writer) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), contract.MaxLine+1) // the newline counts against the scanner's limit
	greeted := false
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			p.breakDown(fmt.Errorf("the client wrote a line that is not JSON: %s", p.quote(line)))
			return
		}
		if !greeted {
			var h contract.HelloLine
			if json.Unmarshal(line, &h) != nil || h.Hello == nil {
				p.breakDown(fmt.Errorf("the client's first line is not a hello: %s", p.quote(line)))
				return
			}
			greeted = true
			hellos <- *h.Hello
			continue
		}
		var r contract.Response
		if err := json.Unmarshal(line, &r); err != nil {
			p.breakDown(fmt.Errorf("the client wrote a line that is not a response: %s", p.quote(line)))
			return
		}
		if answers != nil {
			_, _ = answers.Write(slices.Concat(line, []byte{'\n'}))
		}
		switch {
		case r.ID == "" && r.Error != "":
			p.breakDown(fmt.Errorf("the client could not read a request: %s", r.Error))
			return
		case r.ID == "":
			p.breakDown(fmt.Errorf("the client wrote a line without an id (stdout is for responses; logs go to stderr): %s", p.quote(line)))
			return
		}
		p.mu.Lock()
		ch, ok := p.pending[r.ID]
		delete(p.pending, r.ID)
		if ok && r.ID == p.shutdownID {
			p.shutdownAnswered = true
		}
		p.mu.Unlock()
		if !ok {
			p.breakDown(fmt.Errorf("the client answered id %q, which no request has open", r.ID))
			return
		}
		ch <- r
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		p.breakDown(fmt.Errorf("the client wrote a line longer than %d MiB, the protocol's limit", contract.MaxLine>>20))
	}
}

var errStopped = errors.New("the client was stopped")

// breakDown marks the process unusable with err, once.
func (p *subprocess) breakDown(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken != nil {
		return
	}
	p.broken = err
	close(p.done)
}

// failure is why the process broke, with its stderr tail.
func (p *subprocess) failure() error {
	p.mu.Lock()
	err := p.broken
	p.mu.Unlock()
	return fmt.Errorf("%w%s", err, p.stderrTail())
}

// quote is a line the client wrote, quoted, its first quoteKeep bytes
// when it is longer.
func (p *subprocess) quote(line []byte) string {
	if len(line) <= quoteKeep {
		return strconv.Quote(string(line))
	}
	n := runeEnd(line, 0, p.env.finder().trimEnd(line[:quoteKeep]))
	return strconv.Quote(string(line[:n])) + " " + leftOut(int64(len(line)-n), "the line", "after this")
}

// helloKeep is how much of the name and version a hello gives a run keeps.
const helloKeep = 256

// quoteKeep is how much of a line that broke the protocol an error quotes.
const quoteKeep = 200

// stderrTail is the end of what the process wrote to its standard error,
// for an error: from the start of a line, or in a line longer than the
// tail, from where no credential is cut, as outputTail does.
func (p *subprocess) stderrTail() string {
	t, total := p.tail.bytes()
	if int64(len(t)) < total {
		if i := bytes.IndexByte(t, '\n'); i >= 0 {
			t = t[i+1:]
		} else {
			t = t[runeStart(t, p.env.finder().trimStart(t), len(t)):]
		}
	}
	left := total - int64(len(t))
	if t = bytes.TrimSpace(t); len(t) == 0 {
		return ""
	}
	msg := "\nthe tail of its standard error:\n"
	if left > 0 {
		msg += leftOut(left, "it", "before this") + "\n"
	}
	return msg + string(t)
}

// send writes a request and waits for its response.
func (p *subprocess) send(ctx context.Context, op contract.Op, url string) (contract.Response, error) {
	return p.sendFor(ctx, "", op, url)
}

// sendFor is send of a request for tenant ("" for the first).
func (p *subprocess) sendFor(ctx context.Context, tenant string, op contract.Op, url string) (contract.Response, error) {
	now := p.env.Clock.Now()
	if p.stamp != nil {
		if err := p.stamp.error(); err != nil {
			return contract.Response{}, fmt.Errorf("the sim time for libfaketime: %w", err)
		}
	}
	p.mu.Lock()
	if p.broken != nil {
		p.mu.Unlock()
		return contract.Response{}, p.failure()
	}
	p.nextID++
	id := strconv.Itoa(p.nextID)
	ch := make(chan contract.Response, 1)
	p.pending[id] = ch
	if op == contract.OpShutdown {
		p.shutdownID = id
	}
	p.mu.Unlock()
	line, err := json.Marshal(contract.Request{ID: id, Op: op, Now: now.UTC(), URL: url, Tenant: tenant})
	if err == nil {
		err = p.write(ctx, append(line, '\n'))
	}
	if err != nil {
		// A client that went away breaks the pipe before its exit is
		// reaped: say why it went, when that is known soon.
		select {
		case <-p.exited:
		case <-time.After(2 * time.Second):
		}
		p.breakDown(fmt.Errorf("write to the client: %w", err))
		return contract.Response{}, p.failure()
	}
	select {
	case r := <-ch:
		if r.Error != "" {
			err := fmt.Errorf("the client refused %s: %s", op, r.Error)
			p.breakDown(err)
			return r, err
		}
		return r, nil
	case <-p.done:
		return contract.Response{}, p.failure()
	case <-ctx.Done():
		return contract.Response{}, ctx.Err()
	}
}

// write sends line to the client's stdin without holding p.mu, so that a
// client that stops reading blocks only this request: it gives up with
// ctx (the operation timeout), and Stop can still kill the process.
func (p *subprocess) write(ctx context.Context, line []byte) error {
	done := make(chan error, 1)
	go func() {
		p.writeMu.Lock()
		defer p.writeMu.Unlock()
		_, err := p.stdin.Write(line)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-p.done:
		return p.failure()
	case <-ctx.Done():
		return fmt.Errorf("the client does not read its input: %w", ctx.Err())
	}
}

// stampFile is a run's libfaketime file, rewritten at every change of the
// sim clock's state: a stamp standing still while the clock stands, an
// offset from the wall clock while it runs, both to the microsecond.
type stampFile struct {
	path string

	mu  sync.Mutex
	err error
}

// stampFormat is libfaketime's absolute form; it reads fractions.
const stampFormat = "2006-01-02 15:04:05.000000"

// write is a clock.Flow watcher. libfaketime's "@" (start at) form would
// start the client's clock at its first read after the rewrite, which may
// come long after (a client sitting out a hung request reads no time), so
// a running clock is written as its offset from the wall clock instead,
// which holds from the instant it is written.
func (f *stampFile) write(s clock.State) {
	stamp := s.At.UTC().Format(stampFormat)
	if s.Running {
		stamp = fmt.Sprintf("%+.6f", s.Offset().Seconds())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := writeAtomically(f.path, stamp+"\n"); err != nil && f.err == nil {
		f.err = err
	}
}

// error is the first failure to write the file.
func (f *stampFile) error() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// writeAtomically replaces path with content through a temporary file of
// its own: the processes of a run read the file while it is rewritten.
func writeAtomically(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+"-*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(content)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// outcome turns a response into a Result, refusing outcomes the protocol
// does not have.
func outcome(r contract.Response, err error) (Result, error) {
	if err != nil {
		return Result{}, err
	}
	if !r.Outcome.Known() {
		return Result{}, fmt.Errorf("the client answered an unknown outcome %q", r.Outcome)
	}
	return Result{Outcome: r.Outcome, Reason: r.Reason, Detail: r.Detail}, nil
}

// The user's operations are the first tenant's: requests without a tenant.

func (p *subprocess) AuthorizationURL(ctx context.Context) (string, error) {
	return tenantView{p: p}.AuthorizationURL(ctx)
}

func (p *subprocess) CompleteAuthorization(ctx context.Context, callback string) (Result, error) {
	return tenantView{p: p}.CompleteAuthorization(ctx, callback)
}

func (p *subprocess) Call(ctx context.Context) (Result, error) { return tenantView{p: p}.Call(ctx) }

func (p *subprocess) ServiceCall(ctx context.Context) (Result, error) {
	return tenantView{p: p}.ServiceCall(ctx)
}

func (p *subprocess) Logout(ctx context.Context) (Result, error) { return tenantView{p: p}.Logout(ctx) }

// Reload tells the client its configuration changed.
func (p *subprocess) Reload(ctx context.Context) error { return tenantView{p: p}.Reload(ctx) }

// StorageKey tells the client its storage key file changed.
func (p *subprocess) StorageKey(ctx context.Context) error {
	_, err := p.send(ctx, contract.OpStorageKey, "")
	return err
}

// Tenant is the process as the tenant named name sees it: its operations
// carry the tenant's name.
func (p *subprocess) Tenant(name string) Process { return tenantView{p: p, name: name} }

// tenantView is a subprocess whose requests are for one tenant.
type tenantView struct {
	p    *subprocess
	name string
}

func (t tenantView) AuthorizationURL(ctx context.Context) (string, error) {
	r, err := t.p.sendFor(ctx, t.name, contract.OpAuthorize, "")
	if err == nil && r.URL == "" {
		err = errors.New("the client answered authorize without a url")
	}
	return r.URL, err
}

func (t tenantView) CompleteAuthorization(ctx context.Context, callback string) (Result, error) {
	return outcome(t.p.sendFor(ctx, t.name, contract.OpCallback, callback))
}

func (t tenantView) Call(ctx context.Context) (Result, error) {
	return outcome(t.p.sendFor(ctx, t.name, contract.OpCall, ""))
}

func (t tenantView) ServiceCall(ctx context.Context) (Result, error) {
	return outcome(t.p.sendFor(ctx, t.name, contract.OpServiceCall, ""))
}

func (t tenantView) Logout(ctx context.Context) (Result, error) {
	return outcome(t.p.sendFor(ctx, t.name, contract.OpLogout, ""))
}

func (t tenantView) Reload(ctx context.Context) error {
	_, err := t.p.sendFor(ctx, t.name, contract.OpReload, "")
	return err
}

// Tick and Stop are the process's: the clock and the process are every
// tenant's.
func (t tenantView) Tick(ctx context.Context) error { return t.p.Tick(ctx) }
func (t tenantView) Stop(ctx context.Context) error { return t.p.Stop(ctx) }

// Tick tells the client the sim clock moved.
func (p *subprocess) Tick(ctx context.Context) error {
	_, err := p.send(ctx, contract.OpTime, "")
	return err
}

// Stop asks the client to shut down, and kills its process group when it
// does not exit by ctx's deadline. It returns once the process is reaped
// and all it wrote has been read.
func (p *subprocess) Stop(ctx context.Context) error {
	_, err := p.send(ctx, contract.OpShutdown, "")
	if err != nil && !errors.Is(p.brokenErr(), errStopped) {
		p.end()
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no answer to shutdown%s", p.stderrTail())
		}
		return fmt.Errorf("shutdown: %w", err)
	}
	select {
	case <-p.exited:
		if err := p.brokenErr(); !errors.Is(err, errStopped) {
			return p.failure()
		}
		return nil
	case <-ctx.Done():
		p.end()
		return fmt.Errorf("the client did not exit after shutdown%s", p.stderrTail())
	}
}

func (p *subprocess) brokenErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.broken
}

// end kills the process group and waits until the process is reaped and
// its output read.
func (p *subprocess) end() {
	p.kill()
	<-p.exited
}

// kill ends the process group.
func (p *subprocess) kill() {
	if p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	b     []byte
	total int64
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	t.total += int64(n)
	p = p[max(0, n-t.limit):]
	if over := len(t.b) + len(p) - t.limit; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	t.b = append(t.b, p...)
	return n, nil
}

// bytes is a copy of what the buffer keeps, and how many bytes it was
// written in all.
func (t *tailBuffer) bytes() ([]byte, int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.b), t.total
}

// finder finds the credentials given out so far in the run the
// environment is of: its Output, when a run's, knows them.
func (e Env) finder() *finder {
	if o, ok := e.Output.(*output); ok {
		return newFinder(o.credentials())
	}
	return newFinder(nil)
}
