// What every SDK adapter's application page does that no SDK does: the
// browser runner's embedded dashboards (../README.md, mount) and telling the
// user of a problem. An SDK has no notion of a dashboard in another origin's
// iframe asking for a token, so each adapter answers one the same way as the
// reference token manager does, and this module is that one way. It holds no
// token logic: where the token comes from is the SDK's.
//
// The outcome table (clients/adapters/README.md) is the reference's too:
// tokenErrorOutcome reads a provider's error the way every adapter must, so
// that their columns in the findings compare.

import { MESSAGE, Problem, asProblem, tokenErrorOutcome } from '../tm/reference.js';

export { MESSAGE, Problem, tokenErrorOutcome };

/**
 * oauthError is the outcome of a provider's OAuth error as an SDK passes it
 * on: its code, description, and the status and suberror when the SDK keeps
 * them (most keep neither).
 */
export function oauthError({ status = 0, code = '', description = '', suberror = '' }) {
  return tokenErrorOutcome({ status, body: { error: code, error_description: description, ...(suberror && { suberror }) } });
}

/**
 * Embedding is an application page's side of its dashboards: it keeps the
 * iframes it mounted, answers a token request only from one of them and only
 * on the dashboard origin, posts only to that origin, and tells the user of
 * each kind of problem once a page.
 */
export class Embedding {
  /**
   * token(rejected) answers a dashboard's request: {token, expiresAt,
   * useUntil} (ms), from the SDK; rejected is the token the API refused,
   * when it did. problemOf maps what it threw to a Problem.
   */
  constructor(env, { token, problemOf = asProblem }) {
    this.env = env;
    this.token = token;
    this.problemOf = problemOf;
    this.frames = new Set();
    this.reported = new Set();
    window.addEventListener('message', (e) => this.onMessage(e));
  }

  /** mount embeds a dashboard: its tokens come by postMessage, never in its URL. */
  mount(iframe, url) {
    this.frames.add(iframe);
    iframe.src = url;
  }

  /** frameOf is the mounted dashboard a message came from, when it came from one on the dashboard origin. */
  frameOf(e) {
    if (e.origin !== this.env.dashboardOrigin) return undefined;
    for (const frame of this.frames) {
      if (frame.contentWindow && frame.contentWindow === e.source) return frame;
    }
    return undefined;
  }

  async onMessage(e) {
    const m = e.data;
    if (!this.frameOf(e) || m?.type !== MESSAGE.request) return;
    let answer;
    try {
      answer = { type: MESSAGE.token, ...(await this.token(typeof m.rejected === 'string' ? m.rejected : undefined)) };
    } catch (err) {
      answer = { type: MESSAGE.error, ...this.problemOf(err).result };
    }
    e.source.postMessage({ ...answer, id: m.id }, this.env.dashboardOrigin);
  }

  /** tell sends every mounted dashboard news, to the dashboard origin only. */
  tell(msg) {
    for (const frame of this.frames) frame.contentWindow?.postMessage(msg, this.env.dashboardOrigin);
  }

  /** reportLasting reports p unless it is temporary: a passing failure is the dashboards' to show. */
  reportLasting(p) {
    if (p.outcome !== 'temporary_error') this.report(p);
  }

  /** report tells the user of a problem, once per kind of problem and page. */
  report(p) {
    const key = `${p.outcome}/${p.reason ?? ''}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    try {
      Promise.resolve(this.env.report?.(p.result)).catch(() => {});
    } catch {
      // the page's report failed: nothing more to tell
    }
  }

  /**
   * signIn settles an authorization the SDK completes at the callback:
   * complete resolves when it did (or to the outcome it ended with
   * instead). A new sign-in forgets what was reported; a refusal that is the
   * configuration's is the redirect's answer, which the user must hear of.
   */
  async signIn(complete) {
    try {
      const instead = await complete();
      if (instead?.outcome) return instead;
      this.signedIn();
      return { outcome: 'ok' };
    } catch (err) {
      const p = this.problemOf(err);
      if (p.outcome === 'configuration_error') this.report(p);
      return p.result;
    }
  }

  /** signedIn forgets what was reported: a new sign-in starts afresh. */
  signedIn() {
    this.reported.clear();
  }
}
