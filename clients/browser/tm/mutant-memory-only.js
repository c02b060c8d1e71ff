// mutant-memory-only: the reference with one bug, the opposite of the field
// report's advice to "cache the refreshed token [...] so that if the user
// navigates between pages with embedded dashboards, you don't have to
// refresh again immediately": the access token is kept only in the page's
// memory (the refresh token in sessionStorage, so the grant survives a
// navigation of the tab). Every page load starts without an access token
// and refreshes as soon as a dashboard asks, though the one it had was
// still valid.
//
// Caught by: browser-navigation-reuses-token.

import { AppManager } from './reference.js';

export { dashboard } from './reference.js';

const IN_MEMORY = ['accessToken', 'issuedAt', 'lifetime', 'expiresAt'];

class MemoryOnly extends AppManager {
  // Under the lock too: this tab's own copy is all it has.
  latest() {
    return this.read();
  }

  read() {
    let kept;
    try {
      kept = JSON.parse(sessionStorage.getItem(this.key) ?? 'null');
    } catch {
      kept = null;
    }
    return kept && { ...kept, ...this.mem };
  }

  // The bug: the access token is not stored, only held.
  write(rec) {
    if (!rec) {
      this.mem = undefined;
      sessionStorage.removeItem(this.key);
      return;
    }
    const kept = { ...rec };
    this.mem = {};
    for (const k of IN_MEMORY) {
      this.mem[k] = rec[k];
      delete kept[k];
    }
    sessionStorage.setItem(this.key, JSON.stringify(kept));
  }
}

export async function app(env) {
  return new MemoryOnly(env).start();
}
