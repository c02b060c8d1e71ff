// The browser runner's harness, the first script of every frame the runner
// serves: it replaces the frame's clock with @sinonjs/fake-timers (bundled
// before this file as OauthsimFakeTimers), counts the requests in flight and
// records every postMessage and every report, through the binding
// __oauthsimRecord the runner adds to every frame (Runtime.addBinding). The
// runner drives it through window.__oauthsim; __oauthsimInit, written before
// the bundle by the runner, holds the sim time and the page's settings.
(() => {
  "use strict";
  const init = self.__oauthsimInit;
  const record = (kind, fields) => {
    const rec = self.__oauthsimRecord;
    if (typeof rec === "function") rec(JSON.stringify({ kind, ...fields }));
  };
  // The real ones, before the fake clock hides them: the runner's own
  // waiting follows the wall clock.
  const realSetTimeout = self.setTimeout.bind(self);
  const realClearTimeout = self.clearTimeout.bind(self);
  const realNow = performance.now.bind(performance);
  const realParent = self.parent;
  const realTop = self.top;
  const realFrames = self.frames;
  const realPost = self.postMessage;

  // queueMicrotask stays real: promises are never faked, and a fake
  // queueMicrotask would wait for a tick that promise code never makes.
  const clock = OauthsimFakeTimers.withGlobal(self).install({
    now: init.now,
    toFake: ["Date", "performance", "setTimeout", "clearTimeout", "setInterval", "clearInterval"],
    loopLimit: 100000,
  });

  // Hidden tabs: Chromium wakes a hidden page's timers up on whole
  // seconds only, and after five minutes hidden on whole minutes
  // (intensive throttling). While hidden, every timer's time is moved to
  // the wake-up it will fire at (fake-timers 15.x keeps its timers in
  // clock.timers and, ordered, in clock.timerHeap); shown again, a timer
  // not run meanwhile gets its own time back.
  let hiddenSince = null;
  const wakeUp = (at) => {
    const step = at - hiddenSince >= 5 * 60 * 1000 ? 60 * 1000 : 1000;
    return Math.ceil(at / step) * step;
  };
  const retime = (t, at) => {
    clock.timerHeap.remove(t);
    t.callAt = at;
    clock.timerHeap.push(t);
  };
  const align = () => {
    if (hiddenSince === null || !clock.timers) return;
    for (const t of clock.timers.values()) {
      if (t.oauthsimAligned === t.callAt) continue;
      t.oauthsimDue = t.callAt;
      t.oauthsimAligned = wakeUp(t.callAt);
      if (t.oauthsimAligned !== t.callAt) retime(t, t.oauthsimAligned);
    }
  };
  const unalign = () => {
    for (const t of clock.timers ? clock.timers.values() : []) {
      if (t.oauthsimAligned === t.callAt && t.oauthsimDue !== t.callAt) retime(t, Math.max(t.oauthsimDue, clock.now));
      delete t.oauthsimAligned;
      delete t.oauthsimDue;
    }
  };
  // nextAt is the sim time of the earliest timer, or -1.
  const nextAt = () => {
    align();
    let next = -1;
    for (const t of clock.timers ? clock.timers.values() : []) if (next < 0 || t.callAt < next) next = t.callAt;
    return next;
  };

  // Errors a timer throws are the page's, not the runner's: log them as
  // the page would, and go on.
  const guarded = (move) => {
    try {
      move();
    } catch (e) {
      console.error("oauthsim: a timer threw:", e && e.stack ? e.stack : String(e));
    }
  };
  const moveTo = (ms, jump) => {
    // A hidden frame's timers fire one wake-up at a time, each aligned
    // anew (an interval, a timer a timer sets).
    for (let n = nextAt(), i = 0; !jump && hiddenSince !== null && n >= 0 && n <= ms && i < 100000; n = nextAt(), i++) {
      guarded(() => clock.tick(n - clock.now));
    }
    const d = ms - clock.now;
    if (d > 0) guarded(() => (jump ? clock.jump(d) : clock.tick(d)));
  };

  // Flowing, the fake clock follows the wall clock (an operation is in
  // flight); held, it stands still.
  let flowTimer = null;
  let flowWall = 0;
  const pump = () => {
    const now = realNow();
    const d = now - flowWall;
    flowWall = now;
    if (d > 0) moveTo(clock.now + d, false);
    flowTimer = realSetTimeout(pump, 5);
  };
  const stopFlow = () => {
    if (flowTimer !== null) realClearTimeout(flowTimer);
    flowTimer = null;
  };
  const flow = () => {
    stopFlow();
    flowWall = realNow();
    flowTimer = realSetTimeout(pump, 5);
  };

  // Requests in flight: the runner waits for none before it moves on.
  let pending = 0;
  const realFetch = self.fetch;
  self.fetch = function (...args) {
    pending++;
    let p;
    try {
      p = realFetch.apply(this, args);
    } catch (e) {
      pending--;
      throw e;
    }
    return p.then(
      (res) => {
        // Reading the body is part of the request: the page goes on
        // (stores the tokens, sets its next timer) only once it is read,
        // and a microtask after the answer came it has started reading.
        for (const m of ["json", "text", "arrayBuffer", "blob", "formData", "bytes"]) {
          const read = res[m];
          if (typeof read !== "function") continue;
          res[m] = function () {
            pending++;
            return read.apply(this, arguments).finally(() => pending--);
          };
        }
        pending--;
        return res;
      },
      (e) => {
        pending--;
        throw e;
      },
    );
  };
  // A token manager's refresh waits for work that is no request on the
  // wire: a Web Lock another tab holds, IndexedDB reading what that tab
  // stored. The page is not settled while it waits: a lock counts until it
  // is granted (not while held, which a tab electing itself leader does
  // for good), a database until it is open, a request on a store until it is answered.
  // A lock wait counts for lockWaitLimit of wall time at most: a holder
  // that waits on a timer (a backoff under the lock) waits on time, which
  // must then pass.
  // holding counts one piece of work as pending, and returns what ends
  // it: once, however often it is called.
  const holding = () => {
    pending++;
    let done = false;
    return () => {
      if (!done) {
        done = true;
        pending--;
      }
    };
  };
  const lockWaitLimit = 250;
  if (self.navigator.locks) {
    const locks = self.navigator.locks;
    const realRequest = locks.request.bind(locks);
    locks.request = function (name, ...rest) {
      const callback = rest.pop();
      const granted = holding();
      realSetTimeout(granted, lockWaitLimit);
      const p = realRequest(name, ...rest, (lock) => {
        granted();
        return callback(lock);
      });
      p.then(granted, granted);
      return p;
    };
  }
  // counted counts target as pending until the first of its events.
  const counted = (target, events) => {
    const end = holding();
    for (const ev of events) target.addEventListener(ev, end);
    return target;
  };
  if (self.indexedDB) {
    const realOpen = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (...args) {
      return counted(realOpen.apply(this, args), ["success", "error"]);
    };
    // Each request on a store, until its answer: a transaction ends on its
    // own once its requests are answered.
    for (const m of ["get", "getAll", "getKey", "put", "add", "delete", "clear", "count"]) {
      const real = IDBObjectStore.prototype[m];
      if (typeof real !== "function") continue;
      IDBObjectStore.prototype[m] = function (...args) {
        return counted(real.apply(this, args), ["success", "error"]);
      };
    }
  }
  const realSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    pending++;
    this.addEventListener("loadend", () => pending--, { once: true });
    return realSend.apply(this, args);
  };

  // postMessage: a frame's own postMessage is replaced; another window's
  // (a cross-origin one above all, whose methods cannot be replaced from
  // here) is reached through a Proxy that every way of getting it returns:
  // an iframe's contentWindow, parent, opener and a MessageEvent's source.
  // One Proxy per window, so that comparing two of them still works.
  const serialize = (data) => {
    try {
      const s = JSON.stringify(data);
      return s === undefined ? String(data) : s;
    } catch {
      return String(data);
    }
  };
  const targetOriginOf = (arg) => {
    if (arg && typeof arg === "object") return arg.targetOrigin === undefined ? "/" : String(arg.targetOrigin);
    return arg === undefined ? "/" : String(arg);
  };
  // where says which window a message went to, for the runner to find its
  // frame: the runner knows the frame tree, the page does not know frame ids.
  const where = (w) => {
    if (w === self) return { how: "self" };
    if (w === realParent) return { how: "parent" };
    for (let i = 0; i < realFrames.length; i++) if (realFrames[i] === w) return { how: "child", index: i };
    if (w === realTop) return { how: "top" };
    return { how: "other" };
  };
  // The message is posted by this window's own postMessage, so that its
  // MessageEvent.source is this window: a same-origin target's postMessage
  // is that window's replacement, and posting through it would make the
  // target its own source. Where this window's method cannot be called on
  // the target, the target's (a cross-origin window's is the real one).
  const posting = (target) =>
    function (message, targetOrigin, transfer) {
      record("message", { to: where(target), targetOrigin: targetOriginOf(targetOrigin), data: serialize(message) });
      try {
        return realPost.apply(target, arguments);
      } catch (e) {
        if (!(e instanceof TypeError)) throw e;
        return target.postMessage(...arguments);
      }
    };
  self.postMessage = function (message, targetOrigin) {
    record("message", { to: { how: "self" }, targetOrigin: targetOriginOf(targetOrigin), data: serialize(message) });
    return realPost.apply(self, arguments);
  };
  const proxies = new WeakMap();
  const wrap = (w) => {
    if (!w || w === self || typeof w !== "object") return w;
    let p = proxies.get(w);
    if (!p) {
      const post = posting(w);
      p = new Proxy(w, {
        get(t, k) {
          if (k === "postMessage") return post;
          const v = t[k];
          // Methods of a window need it as this: close, focus, blur.
          return typeof v === "function" && typeof k === "string" && /^[a-z]/.test(k) ? v.bind(t) : v;
        },
        set(t, k, v) {
          t[k] = v;
          return true;
        },
      });
      proxies.set(w, p);
    }
    return p;
  };
  const rewrap = (obj, name, isWindow) => {
    const d = Object.getOwnPropertyDescriptor(obj, name);
    if (!d || !d.get || !d.configurable) return;
    Object.defineProperty(obj, name, {
      configurable: true,
      enumerable: d.enumerable,
      get() {
        const v = d.get.call(this);
        return isWindow(v) ? wrap(v) : v;
      },
      set: d.set,
    });
  };
  const always = () => true;
  rewrap(HTMLIFrameElement.prototype, "contentWindow", always);
  rewrap(self, "parent", always);
  rewrap(self, "opener", always);
  // A MessageEvent's source may be a MessagePort or a service worker too;
  // every window, cross-origin ones included, has window === itself.
  rewrap(MessageEvent.prototype, "source", (v) => {
    try {
      return v && v.window === v;
    } catch {
      return false;
    }
  });

  // The probe frame's forging: every string that looks like a token
  // becomes a recognizable forged one.
  let forged = 0;
  const forge = (v, key) => {
    if (typeof v === "string") {
      if (/token/i.test(key || "") || (v.length >= 16 && !/\s/.test(v))) return "oauthsim-forged-" + ++forged;
      return v;
    }
    if (Array.isArray(v)) return v.map((x) => forge(x, key));
    if (v && typeof v === "object") {
      const out = {};
      for (const k of Object.keys(v)) out[k] = forge(v[k], k);
      return out;
    }
    return v;
  };

  // settle resolves after two macrotasks of the real event loop, for what
  // a timer started (a promise chain, a message to another frame) to run.
  const macrotask = () =>
    new Promise((resolve) => {
      const c = new MessageChannel();
      c.port1.onmessage = () => resolve();
      c.port2.postMessage(0);
    });

  self.__oauthsim = {
    init,
    manager: null,
    ready: false,
    report(problem) {
      const p = problem || {};
      record("report", { outcome: String(p.outcome || ""), reason: String(p.reason || ""), detail: String(p.detail || "") });
    },
    // state is what the runner waits on: the requests in flight, and the
    // sim time of the earliest timer (-1 for none).
    state() {
      return { pending, next: nextAt() };
    },
    hold(ms) {
      stopFlow();
      moveTo(ms, false);
      return this.state();
    },
    flow(ms) {
      moveTo(ms, false);
      flow();
      return this.state();
    },
    // tickTo and jumpTo move the clock, then let what fired run its
    // course as settle does.
    tickTo(ms) {
      moveTo(ms, false);
      return this.settle();
    },
    jumpTo(ms) {
      moveTo(ms, true);
      return this.settle();
    },
    // hide puts the frame in a background tab (hidden since the sim time
    // since) and back: headless Chromium has no window to hide, so the
    // page is told as a hidden tab's is (document.hidden, visibilityState,
    // a visibilitychange event), and its timers are throttled until shown.
    hide(hidden, since) {
      if ((hiddenSince !== null) === hidden) return this.state();
      hiddenSince = hidden ? since : null;
      if (!hidden) unalign();
      Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
      document.dispatchEvent(new Event("visibilitychange"));
      return this.state();
    },
    async settle() {
      await macrotask();
      await macrotask();
      return this.state();
    },
    // probe posts a recorded message, forged, to every other frame of the
    // page: a dashboard must refuse it, for it comes from the wrong origin.
    probe(data) {
      let msg;
      try {
        msg = forge(JSON.parse(data), "");
      } catch {
        return 0;
      }
      let sent = 0;
      for (let i = 0; i < realParent.frames.length; i++) {
        const w = realParent.frames[i];
        if (w === self) continue;
        record("message", { to: { how: "sibling", index: i }, targetOrigin: "*", data: serialize(msg), probe: true });
        w.postMessage(msg, "*");
        sent++;
      }
      return sent;
    },
    markReady(error) {
      this.ready = true;
      record("ready", { error: error ? String(error && error.stack ? error.stack : error) : "" });
    },
  };
  if (init.flowing) flow();
})();
