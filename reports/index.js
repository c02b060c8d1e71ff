// index.html's script: filters over the matrix and the run list, and the
// run view, which unpacks a run's section when it is opened. The page is
// often a file opened from disk, where a fetch is refused: the runs'
// sections come from index-runs.js beside it, loaded with a script element
// the first time a run opens.
"use strict";
(function () {
  const index = JSON.parse(document.getElementById("run-index").textContent);
  const dataFile = "index-runs.js";
  let chunks;
  const unpacked = new Map();

  // runData loads dataFile once and resolves with its chunks, refusing
  // those of another run (a page copied without its file, or beside an
  // older one).
  function runData() {
    chunks ??= new Promise((resolve, reject) => {
      window.oauthsimRunData = (data) => {
        if (data.id === index.data) resolve(data.chunks);
        else reject(new Error(dataFile + " beside this page is another run's: keep the page and its " + dataFile + " together, as oauthsim wrote them."));
      };
      const script = document.createElement("script");
      script.src = dataFile;
      script.onerror = () => reject(new Error("The runs' details are in " + dataFile + ", which oauthsim wrote beside this page, and it could not be loaded: keep the two together."));
      document.head.appendChild(script);
    });
    return chunks;
  }

  // section unpacks chunk c (base64url of a gzip stream of a JSON array
  // with an array for each part of a section, written by reports.pack) and
  // returns the section at position p.
  async function section(c, p) {
    const all = await runData();
    if (!unpacked.has(c)) {
      unpacked.set(c, (async () => {
        const b64 = all[c].replace(/-/g, "+").replace(/_/g, "/");
        const bin = atob(b64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
        return JSON.parse(await new Response(stream).text());
      })());
    }
    return (await unpacked.get(c)).map((part) => part[p]).join("");
  }

  // The matrix box ends where the window does when the page is at its
  // top, so that the whole box, and its scroll bars, are in view.
  const matrixBox = document.getElementById("matrix-box");
  function fit() {
    const top = matrixBox.getBoundingClientRect().top + window.scrollY;
    matrixBox.style.maxHeight = Math.max(240, window.innerHeight - top - 8) + "px";
  }
  window.addEventListener("resize", fit);

  const view = document.getElementById("run-view");
  let shown = "";

  // show opens the run a fragment identifier names ("run-12", or an event
  // of it, "run-12-e38") and scrolls to the event, or to the run's first
  // failed check, or to the run.
  async function show(hash) {
    const m = /^#(run-\d+)(-e\d+)?$/.exec(hash);
    if (!m) return;
    const run = index.runs[+m[1].slice(4)];
    if (!run) return;
    if (shown !== m[1]) {
      let html;
      try {
        html = await section(run[4], run[5]);
      } catch (err) {
        const p = document.createElement("p");
        p.className = "data-missing";
        p.textContent = err.message;
        view.replaceChildren(p);
        shown = "";
        return;
      }
      view.innerHTML = html;
      shown = m[1];
    }
    const event = m[2] && document.getElementById(m[1] + m[2]);
    if (event) {
      event.scrollIntoView({ block: "center" });
      return;
    }
    // The run's heading at the top, and its first failed check in view
    // however long what comes before it.
    view.firstElementChild.scrollIntoView({ block: "start" });
    const first = view.querySelector("li.first");
    if (first) first.scrollIntoView({ block: "nearest" });
  }
  window.addEventListener("hashchange", () => show(location.hash).catch(report));
  // A link to the run already open (the same hash) fires no hashchange.
  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[href^='#run-']");
    if (a && a.getAttribute("href") === location.hash) {
      e.preventDefault();
      show(location.hash).catch(report);
    }
  });

  function report(err) {
    view.textContent = "This run could not be shown: " + err;
    throw err;
  }

  // Filters: a cell matches when its client, scenario, status and failed
  // checks do; rows and columns with no match are hidden, cells that do
  // not match in the rest are dimmed, and the run list keeps the matches.
  // The monitoring table keeps the client filtered for.
  const form = document.getElementById("filters");
  const table = document.querySelector("table.matrix");
  const heads = Array.from(table.tHead.rows[0].cells).slice(1);
  const rows = Array.from(table.tBodies[0].rows);
  const figures = document.querySelectorAll("#monitoring tbody tr");
  // The run list, drawn from the index rather than sent as markup, once
  // the matrix is on the screen.
  const list = document.getElementById("runlist");
  let runs = [];
  const listRuns = () => index.runs.map((run, i) => {
    const [client, scenario, cls, bad] = run;
    const tr = document.createElement("tr");
    Object.assign(tr.dataset, {
      client: index.clients[client], scenario: index.scenarios[scenario], s: cls,
      k: bad.map((k) => index.checks[k]).join(" "),
    });
    const a = tr.insertCell().appendChild(document.createElement("a"));
    a.href = "#run-" + i;
    a.textContent = index.clients[client] + " × " + index.scenarios[scenario];
    const badge = tr.insertCell().appendChild(document.createElement("span"));
    badge.className = "badge " + cls;
    badge.textContent = index.labels[cls];
    const checks = tr.insertCell();
    bad.forEach((k, j) => {
      if (j) checks.append(", ");
      checks.appendChild(document.createElement("code")).textContent = index.checks[k];
    });
    return tr;
  });
  const out = document.getElementById("shown");

  function has(list, word) {
    return !word || list.split(" ").includes(word);
  }

  function apply() {
    const f = Object.fromEntries(new FormData(form));
    const cols = heads.map(() => false);
    for (const tr of rows) {
      const clientOK = !f.client || tr.dataset.client === f.client;
      let any = false;
      Array.from(tr.cells).slice(1).forEach((td, j) => {
        const ok = clientOK && (!f.scenario || heads[j].textContent === f.scenario) &&
          has(td.dataset.s, f.status) && has(td.dataset.k, f.check) && td.dataset.s !== "";
        td.classList.toggle("dim", !ok);
        if (ok) { any = true; cols[j] = true; }
      });
      tr.classList.toggle("hide", !any);
    }
    heads.forEach((th, j) => th.classList.toggle("hide", !cols[j]));
    for (const tr of rows) {
      Array.from(tr.cells).slice(1).forEach((td, j) => td.classList.toggle("hide", !cols[j]));
    }
    let n = 0;
    for (const tr of runs) {
      const d = tr.dataset;
      const ok = (!f.client || d.client === f.client) && (!f.scenario || d.scenario === f.scenario) &&
        has(d.s, f.status) && has(d.k, f.check);
      tr.classList.toggle("hide", !ok);
      if (ok) n++;
    }
    out.textContent = n === runs.length ? `${n} runs` : `${n} of ${runs.length} runs match`;
    for (const tr of figures) tr.classList.toggle("hide", !!f.client && tr.dataset.client !== f.client);
  }
  form.addEventListener("change", apply);
  form.addEventListener("reset", () => setTimeout(apply));
  apply();
  fit();
  setTimeout(() => {
    runs = listRuns();
    list.append(...runs);
    apply();
    fit();
  });
  if (location.hash) show(location.hash).catch(report);
})();
