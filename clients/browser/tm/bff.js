// The backend-for-frontend (BFF) variant of the reference browser token
// manager, as the field report's fetch('/oauth/refresh') implies: the application's
// own server holds the grant, and the browser never sees a refresh token.
// The page calls its server's /bff endpoints (same origin, a session
// cookie); BFF.md specifies them, and the browser runner serves them.
//
// Everything else is the reference's (reference.js): the access token the
// server hands out is cached in localStorage for every tab, refreshed under
// a Web Lock when it is about to expire (at use and by timer), and handed
// to dashboards by postMessage to their exact origin; failures are read in
// the same words and remembered, reported and backed off the same way.

import { AppManager, Problem, parseJSON, parseRetryAfter } from './reference.js';

export { dashboard } from './reference.js';

const SECOND = 1000;

class BFFManager extends AppManager {
  constructor(env) {
    super(env);
    this.key = `oauthsim.bff:${env.clientId}`;
    this.pendingKey = `${this.key}:authorization`;
    this.lockName = `${this.key}:refresh`;
    this.base = `${location.origin}/bff`;
  }

  /**
   * call POSTs body to the server's endpoint and returns its answer, or
   * throws the Problem it answered (BFF.md: an outcome with every answer).
   */
  async call(path, body = {}) {
    let res;
    let text;
    try {
      res = await this.request(this.base + path, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      });
      text = await res.text();
    } catch (err) {
      throw new Problem({ outcome: 'temporary_error', detail: `the application's server did not answer ${path} (${err?.message ?? err})` });
    }
    const answer = parseJSON(text);
    if (res.ok && answer?.outcome === 'ok') return answer;
    const passing = res.status === 429 || res.status >= 500;
    const outcome = typeof answer?.outcome === 'string' ? answer.outcome : passing ? 'temporary_error' : 'error';
    const detail = typeof answer?.detail === 'string' && answer.detail
      ? answer.detail : `the application's server answered ${path} with HTTP ${res.status}`;
    throw new Problem({ outcome, reason: answer?.reason, detail }, parseRetryAfter(res.headers.get('retry-after')));
  }

  // The grant is the server's: the page can refresh while it has a session.
  canRefresh(rec) {
    return Boolean(rec.session);
  }

  refreshRequest(rec, { rejected } = {}) {
    // Just above what the held token has left: the server refreshes when
    // its token is this one, and answers a newer one when it has it.
    const left = rec.expiresAt ? Math.ceil((rec.expiresAt - Date.now()) / SECOND) + 1 : 0;
    return this.call('/token', { min_ttl: Math.max(30, left), ...(rejected && { rejected }) });
  }

  tokensOf(answer, now) {
    const lifetime = Number(answer.lifetime) > 0 ? Number(answer.lifetime) * SECOND : 3600 * SECOND;
    const expiresAt = now + Math.max(0, Number(answer.expires_in) || 0) * SECOND;
    return { accessToken: answer.access_token, session: true, issuedAt: expiresAt - lifetime, lifetime, expiresAt };
  }

  async authorizationUrl({ loginHint } = {}) {
    const { url } = await this.call('/login-url', { redirect_uri: this.env.redirectUri, ...(loginHint && { login_hint: loginHint }) });
    // The server keeps the verifier; the tab keeps the state, to refuse a
    // callback it did not start before the server is asked.
    const state = new URL(url).searchParams.get('state');
    sessionStorage.setItem(this.pendingKey, JSON.stringify({ state, redirectUri: this.env.redirectUri, startedAt: Date.now() }));
    return url;
  }

  async redeem(url) {
    const { code, pending } = this.callback(url);
    const asked = Date.now();
    const answer = await this.call('/callback', { code, state: pending.state });
    await this.lock(async () => this.signedIn({ ...this.tokensOf(answer, asked), authorizedAt: asked }));
  }

  // The server revokes and forgets; the page forgets its copy whatever it answers.
  async revoke() {
    try {
      const { detail } = await this.call('/logout');
      return detail ? [detail] : [];
    } catch (err) {
      return [`the server could not sign out: ${err.detail ?? err}`];
    }
  }
}

/** app starts the BFF token manager of an application page. */
export async function app(env) {
  return new BFFManager(env).start();
}
