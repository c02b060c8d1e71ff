// mutant-timer-only: the reference with one bug, seed 000's advice to
// "implement a timer that refreshes tokens at 80% of their lifetime" and
// "never wait for 401 errors", taken as the only refresh: a setTimeout at
// 80% of expires_in, counted from when the timer is armed (as the seed's
// scheduleRefresh does), and no expiry check when a dashboard asks, nor
// after the API refused the token. After a page load late in a token's
// life, or a suspend the timer sleeps through, dashboards get the expired
// token and the API answers 401: the "blank iframe".
//
// Caught by: browser-no-dashboard-401 (navigate 40 min into an hour's token,
// run 30 min, load: the timer is set for 48 min after the navigation).

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
