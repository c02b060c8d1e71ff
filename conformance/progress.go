package conformance

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/oauthsim/oauthsim/reports"
)

// PlainEvery is how often Progress writes a line of its count where it
// cannot rewrite one in place: often enough to show a long run is alive,
// rarely enough that a CI log stays short.
const PlainEvery = 30 * time.Second

// Progress is what oauthsim conform prints while it runs, in place of
// Ginkgo's reporter: a line for each run that failed or could not be
// carried out, and how many runs are done out of how many. On a terminal
// the count is one line rewritten in place, with the time so far; anywhere
// else (a pipe, a CI log) it is a plain line every PlainEvery, with no
// carriage return and no colour.
//
// Failed runs of clients broken on purpose (--expect-fail) are counted,
// not shown one by one: they are what was expected.
type Progress struct {
	w        io.Writer
	terminal bool
	total    int
	expected func(client string) bool
	// Now is the clock the times come from.
	Now func() time.Time
	// redraw is how often a terminal's count is drawn again while no run
	// ends; 0 for never.
	redraw time.Duration

	mu                                 sync.Mutex
	start, lastLine                    time.Time
	done, failed, expectedFail, errors int
	// shown is whether the count is on the terminal's last line, to be
	// cleared before another line is written.
	shown bool
	stop  chan struct{}
}

// NewProgress reports to w; terminal says w is one that can rewrite a
// line; expected tells the clients expected to fail. Define tells it how
// many runs there are.
func NewProgress(w io.Writer, terminal bool, expected func(client string) bool) *Progress {
	return &Progress{w: w, terminal: terminal, expected: expected, Now: time.Now, redraw: time.Second}
}

// Start starts the count. On a terminal it is drawn again every second,
// so that the time moves while a long run goes on; Stop ends that.
func (p *Progress) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start, p.lastLine = p.Now(), p.Now()
	if !p.terminal {
		return
	}
	p.draw()
	if p.redraw == 0 {
		return
	}
	p.stop = make(chan struct{})
	go func(stop <-chan struct{}, every time.Duration) {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				p.mu.Lock()
				p.draw()
				p.mu.Unlock()
			}
		}
	}(p.stop, p.redraw)
}

// Done counts a run that is over, and shows it when it failed (its failed
// checks) or could not be carried out (why).
func (p *Progress) Done(run reports.Run) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	switch {
	case run.Status == reports.StatusFail && p.expected(run.Client):
		p.expectedFail++
	case run.Status == reports.StatusFail:
		p.failed++
		var ids []string
		for _, v := range run.Checks {
			if v.Status == reports.StatusFail {
				ids = append(ids, v.Check)
			}
		}
		p.line(fmt.Sprintf("failed:  %s × %s: %s", run.Client, run.Scenario, strings.Join(ids, ", ")))
	case run.Status == reports.StatusError:
		p.errors++
		p.line(fmt.Sprintf("errored: %s × %s: %s", run.Client, run.Scenario, firstLineOf(run.Reason)))
	}
	switch {
	case p.terminal:
		p.draw()
	case p.Now().Sub(p.lastLine) >= PlainEvery:
		p.line(p.count())
	}
}

// Stop ends the count, leaving no half-line behind it.
func (p *Progress) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
	p.clear()
}

// count is the runs done out of the total, with those that went wrong.
func (p *Progress) count() string {
	line := fmt.Sprintf("%d of %d runs done", p.done, p.total)
	if p.failed > 0 {
		line += fmt.Sprintf(", %d failed", p.failed)
	}
	if p.expectedFail > 0 {
		line += fmt.Sprintf(", %d expected to fail and did", p.expectedFail)
	}
	if p.errors > 0 {
		line += fmt.Sprintf(", %d errored", p.errors)
	}
	return line + ", " + p.Now().Sub(p.start).Round(time.Second).String()
}

// line writes a line of its own, below where the count was.
func (p *Progress) line(s string) {
	p.clear()
	fmt.Fprintln(p.w, s)
	p.lastLine = p.Now()
}

// draw rewrites the count in place. p.mu must be held.
func (p *Progress) draw() {
	fmt.Fprint(p.w, "\r\x1b[K"+p.count())
	p.shown = true
}

// clear blanks the count's line. p.mu must be held.
func (p *Progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// firstLineOf is s up to its first line break: a terminal line has room
// for no more, and the reports keep the rest.
func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
