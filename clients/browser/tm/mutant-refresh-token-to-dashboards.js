// A mutant of the reference browser token manager: it posts the whole
// token answer to its dashboards, the refresh token with the access token,
// as code that forwards "tokenData" to an iframe does. It posts to the
// dashboard's exact origin, and the dashboards use only the access token:
// nothing breaks, but a long-lived credential now sits in a third party's
// frame. Caught by browser-refresh-token-stays-in-app.

import { AppManager } from './reference.js';

export { dashboard } from './reference.js';

class ForwardsEverything extends AppManager {
  post(win, msg) {
    // The bug: the stored answer goes along whole.
    const rec = this.read();
    win.postMessage({ ...msg, refresh_token: rec?.refreshToken }, this.env.dashboardOrigin);
  }
}

export async function app(env) {
  return new ForwardsEverything(env).start();
}
