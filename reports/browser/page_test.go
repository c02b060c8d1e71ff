//go:build browser

package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/reports"
)

// sizeBudget is the most index.html may weigh for the default matrix.
const sizeBudget = 2_000_000

// artifacts is where screenshots go for a person to look at: $ARTIFACTS,
// or reports/browser-artifacts.
func artifacts() string {
	if dir := os.Getenv("ARTIFACTS"); dir != "" {
		return dir
	}
	return filepath.Join("..", "browser-artifacts")
}

// chromium is the browser to drive: $CHROMIUM, or chromium on PATH.
func chromium() string {
	if path := os.Getenv("CHROMIUM"); path != "" {
		return path
	}
	path, err := exec.LookPath("chromium")
	Expect(err).NotTo(HaveOccurred(), "the browser specs need Chromium: install Debian's chromium package (apt-get install chromium) or set CHROMIUM to its path")
	return path
}

// metrics are what the page costs a reader's browser.
type metrics struct {
	DOMContentLoaded float64 `json:"dcl"`
	FirstPaint       float64 `json:"fcp"`
	Elements         int     `json:"elements"`
	Nodes            int     `json:"nodes"`
	Height           int     `json:"height"`
	Width            int     `json:"width"`
	ViewportWidth    int     `json:"viewport"`
}

const measure = `(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  let nodes = 0;
  const walk = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
  while (walk.nextNode()) nodes++;
  return {dcl: nav.domContentLoadedEventEnd, fcp: paint ? paint.startTime : 0,
    elements: document.getElementsByTagName("*").length, nodes,
    height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth,
    viewport: window.innerWidth};
})()`

// rect is an element's box in the viewport.
type rect struct{ Top, Left, Bottom, Right float64 }

var _ = Describe("index.html for the default matrix", Ordered, ContinueOnFailure, func() {
	var (
		ctx  context.Context
		page string
		size int64
		// dataSize is the runs' file beside the page, read when a run opens.
		dataSize int64
		runs     int
		mu       sync.Mutex
		problems []string
	)

	run := func(actions ...chromedp.Action[chromedp.Void]) {
		GinkgoHelper()
		Expect(chromedp.Do(ctx, actions...)).To(Succeed())
	}
	screenshot := func(name string) {
		GinkgoHelper()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		Expect(err).NotTo(HaveOccurred())
		Expect(os.MkdirAll(artifacts(), 0o755)).To(Succeed())
		path := filepath.Join(artifacts(), name+".png")
		Expect(os.WriteFile(path, png, 0o644)).To(Succeed())
		AddReportEntry("screenshot "+name, path)
	}
	// eval runs js in the page, waiting for it when it is a promise, and
	// decodes its JSON value into out.
	eval := func(js string, out any) {
		GinkgoHelper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](js, chromedp.EvalAwaitPromise))
		Expect(err).NotTo(HaveOccurred())
		if out != nil {
			Expect(json.Unmarshal(v, out)).To(Succeed())
		}
	}
	// box is the viewport box of the first element matching selector.
	box := func(selector string) rect {
		GinkgoHelper()
		var r rect
		eval(fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect();
			return {Top: r.top, Left: r.left, Bottom: r.bottom, Right: r.right}; })()`, selector), &r)
		return r
	}
	// inViewport matches a box wholly inside the 1280×800 window, give or
	// take the fraction of a pixel that scrolling to an element leaves.
	inViewport := func() OmegaMatcher {
		return SatisfyAll(
			HaveField("Top", BeNumerically(">=", -1)), HaveField("Bottom", BeNumerically("<=", 801)),
			HaveField("Left", BeNumerically(">=", -1)), HaveField("Right", BeNumerically("<=", 1281)))
	}
	// choose picks an option of a filter as a person would, firing change.
	choose := func(name, value string) {
		GinkgoHelper()
		eval(fmt.Sprintf(`(() => { const s = document.querySelector("select[name=%s]");
			s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); return s.value; })()`, name, value), new(string))
	}

	// madeUp skips a spec that looks for the made-up run's names when the
	// page is a real run's.
	madeUp := func() {
		if os.Getenv("OAUTHSIM_RESULTS") != "" {
			Skip("it looks for the names of the made-up 16 × 52 run, and OAUTHSIM_RESULTS gave a real one")
		}
	}

	BeforeAll(func() {
		browser := chromium()
		r := fixture()
		if path := os.Getenv("OAUTHSIM_RESULTS"); path != "" {
			// To see and measure a real run's report:
			// OAUTHSIM_RESULTS=$PWD/reports/out/results.json make browser
			var err error
			r, err = reports.ReadJSON(path)
			Expect(err).NotTo(HaveOccurred())
		}
		runs = len(r.Runs)
		// Written as conform writes it: the page and its runs' file.
		dir := GinkgoT().TempDir()
		Expect(reports.Write(dir, r)).To(Succeed())
		page = filepath.Join(dir, "index.html")
		info, err := os.Stat(page)
		Expect(err).NotTo(HaveOccurred())
		size = info.Size()
		data, err := os.Stat(filepath.Join(dir, reports.RunDataFile))
		Expect(err).NotTo(HaveOccurred())
		dataSize = data.Size()

		ctx = browserTab(browser)
		messages := chromedp.Console(ctx)
		go func() {
			defer GinkgoRecover()
			for m, err := range messages {
				if err != nil {
					return
				}
				if m.Type == chromedp.ConsoleError || m.IsException() {
					mu.Lock()
					problems = append(problems, m.String())
					mu.Unlock()
				}
			}
		}()
		run(chromedp.EmulateViewport(1280, 800), chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.CSS("#matrix-box")))
	})

	It("loads with no console error and no uncaught exception", func() {
		mu.Lock()
		defer mu.Unlock()
		Expect(problems).To(BeEmpty())
		title, err := chromedp.Run(ctx, chromedp.Title())
		Expect(err).NotTo(HaveOccurred())
		Expect(title).To(HavePrefix("oauthsim conformance: "))
	})

	It("weighs at most 2 MB, and says what it costs to open", func() {
		var m metrics
		eval(measure, &m)
		report := fmt.Sprintf("%d runs: %.2f MB (and %.2f MB of runs in %s, read when one opens), %d elements (%d DOM nodes), %d px tall, %d px wide in a %d px window, DOMContentLoaded at %.0f ms, first paint at %.0f ms",
			runs, float64(size)/1e6, float64(dataSize)/1e6, reports.RunDataFile, m.Elements, m.Nodes, m.Height, m.Width, m.ViewportWidth, m.DOMContentLoaded, m.FirstPaint)
		AddReportEntry("index.html in Chromium", report)
		fmt.Fprintln(GinkgoWriter, report)
		screenshot("1-opened")
		Expect(m.Width).To(BeNumerically("<=", m.ViewportWidth), "the page does not scroll sideways")
		madeUp() // the budget is for the default matrix's size
		Expect(size).To(BeNumerically("<=", sizeBudget))
	})

	It("shows the matrix in its own box, its headers whole and in view after the box scrolls", func() {
		Expect(box("#matrix-box")).To(inViewport(), "the matrix box is in view at once")
		var cut []string
		eval(`Array.from(document.querySelectorAll(".matrix thead th span, .matrix tbody th")).
			filter(e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1).map(e => e.textContent)`, &cut)
		Expect(cut).To(BeEmpty(), "no header is cut off")
		var scrolled struct{ Top, Left, BoxTop, BoxLeft, ScrollTop, ScrollLeft float64 }
		eval(`new Promise(done => {
			// At 1280 px the matrix fits the width; a narrower box
			// scrolls sideways too, as it does in a smaller window.
			const b = document.getElementById("matrix-box");
			b.style.maxWidth = "700px";
			b.scrollTop = 150; b.scrollLeft = 400;
			requestAnimationFrame(() => requestAnimationFrame(() => {
				const box = b.getBoundingClientRect();
				const col = document.querySelector(".matrix thead th:nth-child(30)").getBoundingClientRect();
				const row = document.querySelector(".matrix tbody tr:nth-child(12) th").getBoundingClientRect();
				done({Top: col.top, Left: row.left, BoxTop: box.top, BoxLeft: box.left, ScrollTop: b.scrollTop, ScrollLeft: b.scrollLeft});
			}));
		})`, &scrolled)
		screenshot("2-matrix-scrolled")
		Expect(scrolled.ScrollTop).To(BeNumerically(">", 0), "the box scrolls down")
		Expect(scrolled.ScrollLeft).To(BeNumerically(">", 0), "and sideways")
		Expect(scrolled.Top).To(BeNumerically("~", scrolled.BoxTop+1, 1.5), "the scenario headers stay at the top of the box")
		Expect(scrolled.Left).To(BeNumerically("~", scrolled.BoxLeft+1, 1.5), "the client column stays at its left")
		eval(`(() => { const b = document.getElementById("matrix-box"); b.style.maxWidth = ""; b.scrollTo(0, 0); })()`, nil)
	})

	It("shows a hostile scenario name as itself", func() {
		madeUp()
		var hostileHead string
		eval(`Array.from(document.querySelectorAll(".matrix thead th")).map(th => th.textContent).find(t => t.startsWith("<script"))`, &hostileHead)
		Expect(hostileHead).To(Equal(hostile))
	})

	It("takes a click on a failed cell to the run and its first failed check", func() {
		madeUp()
		run(chromedp.Click(chromedp.CSS(`td.fail a.cell`)), chromedp.WaitVisible(chromedp.CSS(`#run-view li.first`)))
		Expect(box("#run-view li.first")).To(inViewport(), "the first failed check is in view")
		heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#run-view h3`)))
		Expect(err).NotTo(HaveOccurred())
		Expect(heading).To(HavePrefix(plainFailure + " × "))

		cell := fmt.Sprintf(`tr[data-client=%q] a.cell[title^=%q]`, buggy, buggy+" × "+rotation+":")
		run(chromedp.Click(chromedp.CSS(cell)), chromedp.WaitVisible(chromedp.CSS(`#run-view li.first`)),
			chromedp.Sleep(100*time.Millisecond)) // let the scroll settle for the screenshot
		screenshot("3-run-opened")
		Expect(box("#run-view li.first")).To(inViewport(), "the first failed check is in view")
		var checks []string
		eval(`Array.from(document.querySelectorAll("#run-view li.verdict")).map(li => li.textContent)`, &checks)
		Expect(checks).To(HaveLen(2))
		Expect(checks[0]).To(ContainSubstring(buggyTarget), "the check written for the bug comes first")
		Expect(checks[1]).To(ContainSubstring("expectations"))
		Expect(checks[1]).To(ContainSubstring("×22 at +2h…+23h"), "22 lines that differ by their time are one")
		var links []string
		eval(`Array.from(document.querySelectorAll("#run-view li.verdict:nth-of-type(2) a")).map(a => a.textContent)`, &links)
		Expect(links).To(HaveLen(1), "22 links to one event are one")
		var expectations string
		eval(`document.querySelector("#run-view li.verdict:nth-of-type(2)").innerText`, &expectations)
		Expect(expectations).To(ContainSubstring("The refresh token was already used.)"), "the end of the provider's description is in view")
		Expect(expectations).NotTo(ContainSubstring("resource owner credentials"), "its middle is cut")
		run(chromedp.Click(chromedp.CSS(`#run-view li.verdict:nth-of-type(2) details.more summary`)))
		eval(`document.querySelector("#run-view li.verdict:nth-of-type(2)").innerText`, &expectations)
		Expect(expectations).To(ContainSubstring("resource owner credentials"), "and a click away")

		run(chromedp.Click(chromedp.CSS(`#run-view a.back`)), chromedp.Sleep(100*time.Millisecond))
		Expect(box("#matrix-box")).To(inViewport(), "the run links back to the matrix")
	})

	It("narrows the matrix and the run list with its filters", func() {
		madeUp()
		type shown struct {
			Rows, Columns, Cells int
			Statuses             []string
			Runs                 string
		}
		count := func() shown {
			var s shown
			eval(`(() => {
				const live = Array.from(document.querySelectorAll(".matrix tbody td:not(.hide):not(.dim)"));
				return {Rows: document.querySelectorAll(".matrix tbody tr:not(.hide)").length,
					Columns: document.querySelectorAll(".matrix thead th:not(.hide)").length - 1,
					Cells: live.length, Statuses: [...new Set(live.map(td => td.dataset.s))],
					Runs: document.getElementById("shown").textContent};
			})()`, &s)
			return s
		}
		all := count()
		Expect(all.Rows).To(Equal(fixtureClients))
		Expect(all.Columns).To(Equal(fixtureScenarios))

		choose("status", "xfail")
		xfail := count()
		Expect(xfail.Statuses).To(ConsistOf("xfail"))
		Expect(xfail.Rows).To(BeNumerically("<", all.Rows), "the clients with no expected failure are hidden")
		Expect(xfail.Runs).To(MatchRegexp(`^\d+ of 832 runs match$`))

		choose("status", "fail")
		choose("check", failingCheck)
		fail := count()
		Expect(fail.Rows).To(Equal(1), "only %s fails %s unexpectedly", plainFailure, failingCheck)
		Expect(fail.Statuses).To(ConsistOf("fail"))
		Expect(fail.Runs).To(Equal(fmt.Sprintf("%d of 832 runs match", fail.Cells)))
		screenshot("4-filtered")

		run(chromedp.Click(chromedp.CSS(`#filters button[type=reset]`)), chromedp.Sleep(50*time.Millisecond))
		Expect(count().Cells).To(Equal(all.Cells))
	})

	It("shows each client's refresh figures, following the client filter, and a run's under its timeline", func() {
		madeUp()
		var rows []string
		eval(`Array.from(document.querySelectorAll("#monitoring tbody tr")).map(tr => tr.dataset.client)`, &rows)
		Expect(rows).To(HaveLen(fixtureClients))
		run(chromedp.ScrollIntoView(chromedp.CSS("#monitoring")), chromedp.Sleep(50*time.Millisecond))
		Expect(box("#monitoring table").Right).To(BeNumerically("<=", 1280), "the table fits the page's width")
		screenshot("5-monitoring")
		choose("client", buggy)
		eval(`Array.from(document.querySelectorAll("#monitoring tbody tr:not(.hide)")).map(tr => tr.dataset.client)`, &rows)
		Expect(rows).To(Equal([]string{buggy}))
		run(chromedp.Click(chromedp.CSS(`#filters button[type=reset]`)), chromedp.Sleep(50*time.Millisecond))

		cell := fmt.Sprintf(`tr[data-client=%q] a.cell[title^=%q]`, buggy, buggy+" × "+rotation+":")
		run(chromedp.Click(chromedp.CSS(cell)), chromedp.WaitVisible(chromedp.CSS(`#run-view p.metrics`)),
			chromedp.ScrollIntoView(chromedp.CSS(`#run-view p.metrics`)), chromedp.Sleep(100*time.Millisecond))
		screenshot("6-run-figures")
		line, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#run-view p.metrics`)))
		Expect(err).NotTo(HaveOccurred())
		Expect(line).To(MatchRegexp(`^Refreshes: 6 requests, failed 0 · latency median .*, p95 .*, max .* \(6 answers\) · time to refresh min -.*, median -.* \(6 refreshes\)$`))
		Expect(box("#run-view p.metrics").Top).To(BeNumerically(">", box("#run-view svg.timeline").Bottom-1), "under the timeline")
	})

	It("flags a client expected to fail that did not", func() {
		madeUp()
		var flagged []string
		eval(`Array.from(document.querySelectorAll(".matrix tbody th.unmet")).map(th => th.textContent)`, &flagged)
		Expect(flagged).To(ConsistOf("⚠ mutant/broken_on_purpose_11"), "the last mutant fails nothing")
	})

	It("has logged no console error nor thrown an exception through all of the above", func() {
		mu.Lock()
		defer mu.Unlock()
		Expect(problems).To(BeEmpty())
	})
})

// browserTab starts headless Chromium at 1280×800 and returns a tab's
// context, ended when the spec or container is over.
func browserTab(browser string) context.Context {
	GinkgoHelper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.WindowSize(1280, 800),
		// CI runs as root in a container: no sandbox, no GPU, and
		// /dev/shm may be small.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	DeferCleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	DeferCleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	DeferCleanup(cancel)
	return ctx
}

var _ = Describe("index.html without its runs' file beside it", func() {
	It("says, when a run is opened, that the file is missing and must stay with the page", func() {
		dir := GinkgoT().TempDir()
		page := filepath.Join(dir, "index.html")
		f, err := os.Create(page)
		Expect(err).NotTo(HaveOccurred())
		Expect(reports.WriteHTML(f, fixture())).To(Succeed())
		Expect(f.Close()).To(Succeed())
		ctx := browserTab(chromium())
		Expect(chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate("file://"+page),
			chromedp.WaitVisible(chromedp.CSS("#matrix-box")),
			chromedp.Click(chromedp.CSS(`td.fail a.cell`)),
			chromedp.WaitVisible(chromedp.CSS(`#run-view .data-missing`)))).To(Succeed())
		message, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#run-view .data-missing`)))
		Expect(err).NotTo(HaveOccurred())
		Expect(message).To(ContainSubstring(reports.RunDataFile))
		Expect(message).To(ContainSubstring("keep the two together"))
	})
})
