// mutant-swallow: the reference with one bug, the field report's refresh code: its
// catch logs "Token refresh failed" and goes on. A failed refresh, whatever
// the reason (a dead grant, a refused client, an origin the provider does
// not allow), is logged (without tokens) and the token held is handed out,
// expired or not. Nothing is remembered and nothing reported: the user sees
// a blank dashboard and no word of why.
//
// Caught by: browser-reports-configuration-problem, when a refresh is
// blocked by CORS (after a move to an origin the provider does not allow:
// it needs the tokens on the new origin, which the runner's move does not
// carry yet), and browser-no-dashboard-401 (the stale token goes to the
// API: browser-token-outage).

import { AppManager } from './reference.js';

export { dashboard } from './reference.js';

class Swallow extends AppManager {
  failed(rec, err) {
    console.error('Token refresh failed:', err?.outcome ?? 'error', err?.detail ?? '');
    this.failedFor = rec.accessToken;
    return rec;
  }

  // As the field report's scheduleRefresh, the timer is set again only after a
  // refresh that worked (not at once, again and again, for a token whose
  // refresh failed).
  arm(rec = this.read()) {
    if (rec?.accessToken !== undefined && rec.accessToken === this.failedFor) {
      clearTimeout(this.timer);
      return;
    }
    super.arm(rec);
  }
}

export async function app(env) {
  return new Swallow(env).start();
}
