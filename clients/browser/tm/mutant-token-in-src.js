// mutant-token-in-src: the reference with one bug, the field report's first advice
// for dashboards in iframes: "updates the iframe's src with the new token"
// (currentSrc.searchParams.set('access_token', newToken)). The application
// puts the access token in each dashboard's src query string and sets src
// again after every refresh; the dashboard reads it from its own URL. The
// token is then in the address of a document load, in the browser's
// history, and in the Referer the dashboard's own requests may carry.
//
// Caught by: browser-no-token-in-url.

import { AppManager, DashboardManager } from './reference.js';

class TokenInSrc extends AppManager {
  constructor(env) {
    super(env);
    this.urls = new Map();
    this.inSrc = undefined;
  }

  src(url, token) {
    const u = new URL(url, location.href);
    if (token) u.searchParams.set('access_token', token);
    return u.href;
  }

  mount(iframe, url) {
    this.frames.add(iframe);
    this.urls.set(iframe, url);
    const rec = this.read();
    this.inSrc = rec?.halt ? undefined : rec?.accessToken;
    iframe.src = this.src(url, this.inSrc);
  }

  // The bug: every new access token reloads every dashboard with it in src.
  changed(rec) {
    super.changed(rec);
    const token = rec?.halt ? undefined : rec?.accessToken;
    if (!token || token === this.inSrc) return;
    this.inSrc = token;
    for (const [iframe, url] of this.urls) iframe.src = this.src(url, token);
  }
}

class TokenFromSrc extends DashboardManager {
  accessToken(options = {}) {
    const token = new URL(location.href).searchParams.get('access_token');
    if (token && token !== options.rejected) return Promise.resolve(token);
    return super.accessToken(options);
  }
}

export async function app(env) {
  return new TokenInSrc(env).start();
}

export async function dashboard(env) {
  return new TokenFromSrc(env).start();
}
