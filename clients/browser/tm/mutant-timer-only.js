// mutant-timer-only: the reference with one bug, the field report's advice to
// "implement a timer that refreshes tokens at 80% of their lifetime" and
// "never wait for 401 errors", taken as the only refresh: a setTimeout at
// 80% of expires_in, counted from when the timer is armed (as the field report's
// scheduleRefresh does), and no expiry check when a dashboard asks, nor
// after the API refused the token. After a page load late in a token's
// life, or a suspend the timer sleeps through, dashboards get the expired
// token and the API answers 401: the "blank iframe".
//
// Caught by: browser-no-dashboard-401. In the bundled scenarios,
// browser-token-outage (the timer's refresh meets a 503, and the expired
// token goes to the dashboards); also a navigation 40 min into an hour's
// token, 30 min run, then a call (the timer is set 48 min after the load).
// Not browser-laptop-suspend: the runner lets the late timer's refresh
// finish before the call.

import { AppManager } from './reference.js';

export { dashboard } from './reference.js';

class TimerOnly extends AppManager {
  // The bug: the stored token whatever its expiry, even the one refused.
  async token() {
    return this.current();
  }

  arm(rec = this.read()) {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || !rec || rec.halt || !rec.refreshToken || !rec.accessToken) return;
    this.timer = setTimeout(() => this.onTimer(), 0.8 * rec.lifetime);
  }
}

export async function app(env) {
  return new TimerOnly(env).start();
}
