// mutant-manager-per-dashboard: the reference with one bug, the one the field
// report warns of ("if you have multiple embedded dashboards on the same page,
// they might all try to refresh tokens simultaneously") without its
// singleton: each mounted dashboard gets a token manager of its own in the
// application frame, with its own tokens in memory, its own refresh timer,
// and no lock. Every manager refreshes when its token is due: N dashboards,
// N refreshes per lifetime (and with rotation, all but the first send a
// refresh token already rotated).
//
// Caught by: browser-one-refresh-across-frames.

import { AppManager } from './reference.js';

export { dashboard } from './reference.js';

/** One dashboard's own manager: tokens in memory (read once), no lock. */
class OwnManager extends AppManager {
  read() {
    this.mem ??= super.read();
    return this.mem;
  }

  latest() {
    return this.read();
  }

  write(rec) {
    this.mem = rec;
    super.write(rec);
  }

  lock(fn) {
    return fn();
  }

  start() {
    this.arm();
    return this;
  }
}

class ManagerPerDashboard extends AppManager {
  constructor(env) {
    super(env);
    this.own = new Map();
  }

  // The bug: a manager per mounted dashboard.
  mount(iframe, url) {
    const m = new OwnManager(this.env).start();
    m.frames.add(iframe);
    this.own.set(iframe, m);
    super.mount(iframe, url);
  }

  tokenFor(frame, opts) {
    return this.own.get(frame).token(opts);
  }

  // The page's manager signs in and out; the dashboards' refresh.
  arm() {
    clearTimeout(this.timer);
  }

  changed(rec) {
    super.changed(rec);
    for (const m of this.own.values()) {
      m.mem = undefined;
      m.arm();
    }
  }
}

export async function app(env) {
  return new ManagerPerDashboard(env).start();
}
