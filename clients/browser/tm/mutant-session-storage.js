// mutant-session-storage: the reference with one bug, the field report's advice to
// "cache the refreshed token in sessionStorage so that if the user
// navigates between pages [...] you don't have to refresh again": the
// access token is cached in sessionStorage, which each tab has its own of,
// and refreshed per tab, without the lock that makes tabs take turns. The
// grant (refresh token) is still shared in localStorage, so a new tab
// works, but it starts without an access token and refreshes at once, and
// every tab's timer refreshes at every lifetime: one refresh per tab.
//
// Caught by: browser-one-refresh-across-frames (two tabs or more).

import { AppManager } from './reference.js';

export { dashboard } from './reference.js';

const CACHED = ['accessToken', 'issuedAt', 'lifetime', 'expiresAt'];

class SessionCached extends AppManager {
  // Under the lock too: this tab's own copy is all it has.
  latest() {
    return this.read();
  }

  read() {
    const grant = super.read();
    if (!grant) return null;
    let cache;
    try {
      cache = JSON.parse(sessionStorage.getItem(this.key) ?? 'null');
    } catch {
      cache = null;
    }
    const rec = { ...grant };
    for (const k of CACHED) rec[k] = cache?.[k];
    return rec;
  }

  write(rec) {
    if (!rec) {
      sessionStorage.removeItem(this.key);
      super.write(null);
      return;
    }
    const grant = { ...rec };
    const cache = {};
    for (const k of CACHED) {
      cache[k] = rec[k];
      delete grant[k];
    }
    sessionStorage.setItem(this.key, JSON.stringify(cache));
    super.write(grant);
  }

  // The bug: no lock across tabs, each tab refreshes its own cache.
  lock(fn) {
    return fn();
  }
}

export async function app(env) {
  return new SessionCached(env).start();
}
