// The reference browser token manager: what the browser runner judges every
// other browser token manager against, and what the mutants (mutant-*.js)
// each break in one place. Plain ES module, no dependencies, no build step;
// the contract it implements is ../README.md (exports app and dashboard).
//
// The application page (app) owns the grant: it signs the user in with the
// authorization code flow and PKCE S256, keeps the tokens in localStorage
// and IndexedDB (shared by every tab of the origin), refreshes them, and
// hands access tokens to the dashboards it mounts by postMessage to their
// exact origin. A dashboard (dashboard) asks its parent for a token and
// keeps the last one it was given until shortly before it expires. The
// refresh token never leaves the application's origin, and no token is
// ever put in a URL or written to the console.
//
// One refresh per user across tabs and frames: refreshes run under a Web
// Lock named after the client, and inside it the stored tokens are read
// again (from IndexedDB: see latest), so a tab that waited finds the
// tokens another tab just refreshed and uses them. Expiry is checked when a dashboard asks, and a timer
// refreshes ahead of expiry (at 80% of the lifetime, or a minute before
// expiry when that comes first), re-armed after every refresh, on page load
// and when another tab changed the tokens.
//
// Failures (the outcome table of clients/adapters/README.md): a dead grant
// (invalid_grant and its kin) is remembered, so no further token request
// is sent with it, and reported once; a rate limit or server error is
// retried no sooner than its Retry-After and an exponential backoff, both
// kept in storage for every tab; a refused client (invalid_client) stops
// this page's token requests and is reported; a token request the browser
// blocks (a CORS refusal) while the provider answers its discovery document
// is reported as a configuration problem: this origin is not allowed.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

// A token answer without expires_in is taken to last an hour, the commonest
// lifetime, so that the timer still refreshes it ahead of time.
const DEFAULT_LIFETIME = 60 * MINUTE;
// setTimeout's delay is a signed 32-bit count of milliseconds; a longer
// delay fires at once. A timer is armed for at most this long and re-armed.
const MAX_TIMER = 24 * DAY;
// A request to the provider gives up after this long, of wall time (the
// browser's own timer, which the runner's fake clock does not move): a
// provider that holds a refresh must not hold the lock, and every tab.
const REQUEST_TIMEOUT = 10 * SECOND;
const BACKOFF_FIRST = SECOND;
const BACKOFF_MAX = 5 * MINUTE;

/** The types of the messages between the application and its dashboards. */
export const MESSAGE = Object.freeze({
  // dashboard → app: {type, id, rejected?}: a token, please (not the one
  // rejected, which the API refused with 401).
  request: 'oauthsim:token-request',
  // app → dashboard: {type, id?, token, expiresAt, useUntil}: the access
  // token, its expiry and the time after which the dashboard asks again.
  // Without id it is news: the tokens changed.
  token: 'oauthsim:token',
  // app → dashboard: {type, id?, outcome, reason?, detail}: no token.
  error: 'oauthsim:token-error',
});

/**
 * Problem is why there is no token, in the client protocol's words
 * (clients/PROTOCOL.md): outcome, reason and detail. retryAfter (ms) is how
 * long the provider asked to wait, when it did.
 */
export class Problem extends Error {
  constructor({ outcome, reason, detail }, retryAfter = 0) {
    super(detail || reason || outcome);
    this.name = 'Problem';
    this.outcome = outcome;
    if (reason) this.reason = reason;
    this.detail = detail || '';
    this.retryAfter = retryAfter;
  }

  /** result is the problem as a result: {outcome, reason?, detail}. */
  get result() {
    return { outcome: this.outcome, ...(this.reason && { reason: this.reason }), detail: this.detail };
  }
}

/** asProblem makes any error a Problem: one that is not is a bug, outcome error. */
export function asProblem(err) {
  return err instanceof Problem ? err : new Problem({ outcome: 'error', detail: String(err?.message ?? err) });
}

// --- the outcome table (clients/adapters/README.md) ---------------------------

// Error codes that mean the grant is dead: RFC 6749's, GitHub's and Slack's.
const DEAD_GRANT = ['invalid_grant', 'bad_refresh_token', 'invalid_refresh_token', 'token_revoked'];
const STEP_UP = ['interaction_required', 'login_required', 'consent_required'];

/**
 * tokenErrorOutcome reads a token endpoint's error answer: status, body (the
 * parsed JSON object, or undefined) and the grant's age (ms, or undefined).
 * It answers {outcome, reason?} by the table, its rows in order.
 */
export function tokenErrorOutcome({ status = 0, body, age }) {
  const field = (k) => (body && typeof body[k] === 'string' ? body[k] : '');
  const code = field('error');
  const desc = field('error_description');
  const aadsts = (...codes) => codes.some((c) => desc.includes(`AADSTS${c}:`));
  // Row 1. A 403 that is not JSON is Google's rate-limit page; Entra
  // throttles inside invalid_grant.
  if (status === 429 || status >= 500 || code === 'temporarily_unavailable' || code === 'slow_down' ||
      aadsts('50196', '90055') || (status === 403 && !body)) {
    return { outcome: 'temporary_error' };
  }
  // Row 2: Google's step-up is invalid_grant with invalid_rapt, which its
  // description repeats; Entra's comes as a suberror, claims, or MFA codes.
  if (STEP_UP.includes(code) || field('error_subtype') === 'invalid_rapt' || desc.includes('invalid_rapt') ||
      field('suberror') !== '' || (body?.claims ?? null) !== null || aadsts('50076', '50079')) {
    return { outcome: 'interaction_required' };
  }
  if (DEAD_GRANT.includes(code)) return { outcome: 'reauthorize', reason: deadReason(desc, age) };
  return { outcome: code ? 'configuration_error' : 'temporary_error' };
}

/**
 * deadReason reads why a grant died from its error description; age tells
 * a testing app's grant, which Google ends in its eighth day saying only
 * "expired or revoked". What the user is told, not whether it died.
 */
function deadReason(description, age) {
  const d = description.toLowerCase();
  if (d.includes('reuse')) return 'reuse_detected';
  if (age >= 7 * DAY && age < 8 * DAY && d.includes('expired or revoked')) return 'testing_app_expired';
  if (d.includes('aadsts700082') || d.includes('aadsts700084') || d.includes('inactiv')) return 'expired';
  if (d.includes('aadsts50173') || d.includes('revoked')) return 'revoked';
  if (d.includes('expired')) return 'expired';
  return 'unknown';
}

/**
 * parseRetryAfter reads a Retry-After header (RFC 9110 §10.2.3: seconds, or
 * an HTTP date) as a wait in ms from now; 0 when absent or unreadable.
 */
export function parseRetryAfter(value, now = Date.now()) {
  if (!value) return 0;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * SECOND;
  const at = Date.parse(v);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now);
}

/** backoffDelay is the wait after the nth failure in a row: 1 s, 2 s, 4 s... up to 5 min. */
export function backoffDelay(failures) {
  return Math.min(BACKOFF_FIRST * 2 ** Math.max(0, failures - 1), BACKOFF_MAX);
}

// --- when to refresh ------------------------------------------------------------

/**
 * refreshAt is when the timer refreshes a stored token: at 80% of its
 * lifetime, or a minute before it expires when that comes first, but not
 * before half its lifetime (a token of a minute is not refreshed at once).
 */
export function refreshAt(rec) {
  const l = rec.lifetime;
  return rec.issuedAt + Math.min(0.8 * l, Math.max(l - MINUTE, l / 2));
}

/**
 * useUntil is when a token stops being handed out: a small margin (30 s, or
 * a tenth of a short lifetime) before it expires, for the time the API call
 * takes and for clock differences.
 */
export function useUntil(rec) {
  return rec.expiresAt - Math.min(30 * SECOND, rec.lifetime / 10);
}

/** tokensFrom makes the stored tokens of a token answer to a request sent at now. */
export function tokensFrom(answer, now, previous) {
  const lifetime = Number(answer.expires_in) > 0 ? Number(answer.expires_in) * SECOND : DEFAULT_LIFETIME;
  return {
    accessToken: answer.access_token,
    // RFC 6749 §6: a refresh answer may leave the refresh token out; the
    // one held stays valid then.
    refreshToken: answer.refresh_token || previous?.refreshToken,
    issuedAt: now,
    lifetime,
    expiresAt: now + lifetime,
  };
}

// --- small helpers ----------------------------------------------------------------

function base64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(bytes = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** pkceChallenge is the S256 code challenge of a verifier (RFC 7636 §4.2). */
export async function pkceChallenge(verifier) {
  return base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
}

/** jwtClaims reads a JWT's payload, unverified: the id_token came straight from the token endpoint. */
function jwtClaims(jwt) {
  const part = String(jwt).split('.')[1] ?? '';
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
}

/** parseJSON reads JSON text; undefined when it is none. */
export function parseJSON(text) {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

// --- the application's manager ------------------------------------------------------

/**
 * AppManager is the token manager of one application page (a tab's top
 * frame). The methods the runner calls are authorizationUrl,
 * completeAuthorization, mount and logout; the others are its policy, each
 * a place a mutant overrides: read, write, latest and lock (where tokens
 * live and how tabs take turns), token (a token at use), arm (the timer),
 * failed (what a failed refresh does), post and trusted (the messages).
 */
export class AppManager {
  constructor(env) {
    this.env = env;
    this.key = `oauthsim.tm:${env.clientId}`;
    this.pendingKey = `${this.key}:authorization`;
    // One lock per client: the origin's storage holds one user's grant
    // per client, so it is the user's lock too.
    this.lockName = `${this.key}:refresh`;
    this.discoveryUrl = `${String(env.issuer).replace(/\/+$/, '')}/.well-known/openid-configuration`;
    this.frames = new Set();
    this.reported = new Set();
    this.queue = Promise.resolve();
    this.stopped = undefined;
    this.timer = undefined;
    this.meta = undefined;
    this.told = undefined;
  }

  /** start listens to the dashboards and to the other tabs, and arms the timer. */
  start() {
    window.addEventListener('message', (e) => this.onMessage(e));
    window.addEventListener('storage', (e) => {
      if (e.storageArea === localStorage && (e.key === this.key || e.key === null)) this.changed(this.read());
    });
    this.checkAbandonedAuthorization();
    this.arm();
    // Opened now, so that a refresh under the lock does not wait for it.
    this.latest();
    return this;
  }

  // --- storage: where the tokens live -------------------------------------

  /** read returns the stored record, or null. */
  read() {
    return parseJSON(localStorage.getItem(this.key)) ?? null;
  }

  /**
   * write stores the record (null forgets it), at once: a rotated refresh
   * token must not be lost. It resolves when every tab reads it (latest).
   */
  write(rec) {
    if (rec) localStorage.setItem(this.key, JSON.stringify(rec));
    else localStorage.removeItem(this.key);
    // Forgotten tokens leave an empty record, not none: no record means
    // IndexedDB never had one, and localStorage is asked (tokens stored
    // there by an older page, or carried over by the runner, say).
    return this.shared('readwrite', (store) => store.put(rec ?? {}, this.key));
  }

  /**
   * latest is the stored record as every tab sees it now, for the refresh
   * decision under the lock. localStorage alone would not do: Chromium
   * copies it to each renderer process asynchronously, so a tab that takes
   * the lock just after another tab stored rotated tokens may still read
   * the old ones, and spend the old refresh token again. IndexedDB commits
   * in one place, so its copy is read there; localStorage stays the
   * synchronous copy the rest reads, a moment late at worst.
   */
  async latest() {
    return (await this.shared('readonly', (store) => store.get(this.key))) ?? this.read();
  }

  /**
   * shared runs one request (op) on the IndexedDB copy and resolves to its
   * result once committed; to undefined where there is none, or where
   * IndexedDB cannot be used (localStorage then serves alone).
   */
  async shared(mode, op) {
    if (typeof indexedDB === 'undefined') return undefined;
    try {
      this.db ??= new Promise((resolve, reject) => {
        const open = indexedDB.open('oauthsim.tm', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('records');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const db = await this.db;
      return await new Promise((resolve, reject) => {
        // Relaxed: committed (so every tab reads it) without waiting for
        // the disk, which a crash of the browser may lose; localStorage
        // keeps its own copy.
        const tx = db.transaction('records', mode, { durability: 'relaxed' });
        const req = op(tx.objectStore('records'));
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = tx.onabort = () => reject(tx.error);
      });
    } catch {
      return undefined;
    }
  }

  /** lock runs fn while no other tab or frame of the origin runs a refresh. */
  lock(fn) {
    return navigator.locks ? navigator.locks.request(this.lockName, fn) : fn();
  }

  /**
   * current is the stored record when it can give tokens; else it throws
   * why not: this page's client was refused, the grant is dead or waits
   * for the user (reported once), or there is none.
   */
  current(rec = this.read()) {
    if (this.stopped) {
      this.report(this.stopped);
      throw this.stopped;
    }
    if (rec?.halt) {
      const p = new Problem(rec.halt);
      this.report(p);
      throw p;
    }
    if (!rec || (!rec.accessToken && !this.canRefresh(rec))) {
      throw new Problem({ outcome: 'reauthorize', reason: 'no_grant', detail: 'the user has not signed in' });
    }
    return rec;
  }

  // --- tokens at use ------------------------------------------------------

  /**
   * token is the record whose access token a dashboard gets now: the
   * stored one while it is not about to expire and is not the one the API
   * just refused (rejected), else a refreshed one.
   */
  async token({ rejected } = {}) {
    const rec = this.current();
    if (rec.accessToken && rec.accessToken !== rejected && Date.now() < useUntil(rec)) return rec;
    return this.refresh({ rejected });
  }

  /**
   * refresh refreshes under the lock when it is still due once the lock is
   * held. The calls of this page queue up, so that dashboards asking at
   * once make one refresh: the others find its tokens.
   */
  refresh(opts) {
    const run = this.queue.then(() => this.lock(() => this.refreshLocked(opts)));
    this.queue = run.catch(() => {});
    return run;
  }

  async refreshLocked({ rejected, proactive } = {}) {
    const rec = this.current(await this.latest());
    const now = Date.now();
    const due = !rec.accessToken || (rejected !== undefined && rec.accessToken === rejected) ||
      now >= (proactive ? refreshAt(rec) : useUntil(rec));
    // Another tab refreshed while this one waited for the lock.
    if (!due) return rec;
    if (rec.backoff && now < rec.backoff.until) {
      if (!proactive && this.usable(rec, rejected)) return rec;
      const wait = Math.ceil((rec.backoff.until - now) / SECOND);
      const p = new Problem(rec.backoff.problem);
      throw new Problem({ ...p.result, detail: `${p.detail}; next try in ${wait} s` });
    }
    if (!this.canRefresh(rec)) {
      const none = new Problem({ outcome: 'reauthorize', reason: 'no_refresh_token', detail: 'the access token expired and there is no refresh token' });
      return this.failed(rec, none, { rejected, proactive });
    }
    let answer;
    // The token's life is counted from when it was asked for: however
    // long the answer took, it expires no later than that says.
    const asked = Date.now();
    try {
      answer = await this.refreshRequest(rec, { rejected });
    } catch (err) {
      return this.failed(rec, err, { rejected, proactive });
    }
    const next = { ...rec, ...this.tokensOf(answer, asked, rec), backoff: undefined };
    await this.write(next);
    this.changed(next);
    return next;
  }

  /** canRefresh: rec holds what a refresh needs. */
  canRefresh(rec) {
    return Boolean(rec.refreshToken);
  }

  /** refreshRequest asks the provider for new tokens and returns its token answer. */
  refreshRequest(rec) {
    return this.tokenRequest({ grant_type: 'refresh_token', refresh_token: rec.refreshToken, client_id: this.env.clientId }, rec);
  }

  /** tokensOf makes the stored tokens of a token answer. */
  tokensOf(answer, now, previous) {
    return tokensFrom(answer, now, previous);
  }

  /** usable: rec's access token has not expired (margin or not) and is not the rejected one. */
  usable(rec, rejected) {
    return Boolean(rec.accessToken) && rec.accessToken !== rejected && Date.now() < rec.expiresAt;
  }

  /**
   * failed decides what a failed refresh leaves behind, and returns the
   * record to hand out anyway or throws why there is none. A dead grant is
   * dropped and remembered, a step-up remembered; a refused client stops
   * this page; anything else waits out the backoff, kept in storage so
   * that no tab asks before its time, and the still valid access token
   * keeps being handed out meanwhile.
   */
  async failed(rec, err, { rejected, proactive }) {
    const p = asProblem(err);
    if (p.outcome === 'reauthorize' || p.outcome === 'interaction_required') {
      // A dead grant's tokens are dropped; a step-up keeps them for later.
      const kept = p.outcome === 'reauthorize' ? { sub: rec.sub, authorizedAt: rec.authorizedAt } : rec;
      const halted = { ...kept, backoff: undefined, halt: p.result };
      await this.write(halted);
      this.changed(halted);
      this.report(p);
      throw p;
    }
    if (p.outcome === 'configuration_error' && !p.blocked) {
      this.stopped = p;
      this.changed(rec);
      this.report(p);
      throw p;
    }
    const waiting = await this.backOff(rec, p);
    if (p.outcome === 'configuration_error') this.report(p);
    if (!proactive && this.usable(rec, rejected)) return waiting;
    throw p;
  }

  /**
   * backOff stores when the next token request may go, after p: the later
   * of the provider's Retry-After and the backoff of the failures in a row.
   */
  async backOff(rec, p) {
    const failures = (rec.backoff?.failures ?? 0) + 1;
    const until = Date.now() + Math.max(backoffDelay(failures), p.retryAfter);
    const waiting = { ...rec, backoff: { until, failures, problem: p.result } };
    await this.write(waiting);
    this.arm(waiting);
    return waiting;
  }

  // --- the provider ---------------------------------------------------------

  /** discovery is the provider's discovery document, fetched once per page, when first needed. */
  discovery() {
    this.meta ??= this.request(this.discoveryUrl).then(
      async (res) => {
        const doc = res.ok ? parseJSON(await res.text()) : undefined;
        if (!doc?.token_endpoint) {
          throw new Problem({ outcome: 'temporary_error', detail: `the provider's discovery document could not be read (HTTP ${res.status})` });
        }
        return doc;
      },
      (err) => {
        throw new Problem({ outcome: 'temporary_error', detail: `the provider's discovery document is unreachable (${err?.message ?? err})` });
      });
    this.meta.catch(() => {
      this.meta = undefined;
    });
    return this.meta;
  }

  /** request fetches url, giving up after REQUEST_TIMEOUT. */
  request(url, init = {}) {
    return fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT) });
  }

  /**
   * tokenRequest POSTs params to the token endpoint and returns its token
   * answer, or throws a Problem read by the outcome table.
   */
  async tokenRequest(params, rec) {
    const { token_endpoint: endpoint } = await this.discovery();
    let res;
    let text;
    try {
      res = await this.request(endpoint, { method: 'POST', headers: { accept: 'application/json' }, body: new URLSearchParams(params) });
    } catch (err) {
      throw await this.blocked(err, 'token endpoint');
    }
    try {
      text = await res.text();
    } catch (err) {
      throw new Problem({ outcome: 'temporary_error', detail: `the token endpoint's answer was cut short (${err?.message ?? err})` });
    }
    const body = parseJSON(text);
    const fields = body && typeof body === 'object' && !Array.isArray(body) ? body : undefined;
    if (res.ok && typeof fields?.access_token === 'string' && fields.access_token && !fields.error) return fields;
    const age = rec?.authorizedAt ? Date.now() - rec.authorizedAt : undefined;
    const { outcome, reason } = tokenErrorOutcome({ status: res.status, body: fields, age });
    const code = [fields?.error, fields?.error_description].filter((s) => typeof s === 'string' && s).join(': ');
    const detail = `the token endpoint answered HTTP ${res.status}${code ? ` (${code})` : fields ? ' without an error' : ', not JSON'}`;
    throw new Problem({ outcome, reason, detail }, parseRetryAfter(res.headers.get('retry-after')));
  }

  /**
   * blocked explains a request to the provider that the browser failed
   * without an answer: when the provider's discovery document (which any
   * origin may read) answers, the provider is up and the browser refused
   * the answer to this origin (CORS), a configuration problem. It is still
   * retried after the backoff (blocked), since a connection lost once
   * looks the same from here.
   */
  async blocked(err, what) {
    const cause = err?.message ?? String(err);
    if (err?.name === 'TimeoutError') {
      return new Problem({ outcome: 'temporary_error', detail: `the provider's ${what} did not answer within ${REQUEST_TIMEOUT / SECOND} s` });
    }
    let answers = false;
    try {
      answers = (await this.request(this.discoveryUrl, { cache: 'no-store' })).ok;
    } catch {
      // unreachable: answers stays false
    }
    if (!answers) {
      return new Problem({ outcome: 'temporary_error', detail: `the provider's ${what} did not answer (${cause}), nor its discovery document: the provider is unreachable` });
    }
    const p = new Problem({
      outcome: 'configuration_error',
      detail: `the browser blocked the request to the provider's ${what} from ${location.origin} (${cause}) while the provider answers: ` +
        `this origin is probably not registered (allowed for cross-origin requests) for client ${this.env.clientId}`,
    });
    p.blocked = true;
    return p;
  }

  // --- the timer ---------------------------------------------------------------

  /** arm sets the timer for the next proactive refresh: refreshAt, or the end of a backoff. */
  arm(rec = this.read()) {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || !rec || rec.halt || !this.canRefresh(rec) || !rec.accessToken) return;
    const when = Math.max(refreshAt(rec), rec.backoff?.until ?? 0);
    const delay = Math.min(Math.max(when - Date.now(), 0), MAX_TIMER);
    this.timer = setTimeout(() => this.onTimer(), delay);
  }

  onTimer() {
    this.timer = undefined;
    // A failure was reported (when it is worth telling) where it happened.
    // The record the refresh ended with is the latest, which this tab's
    // localStorage may not show yet.
    return this.refresh({ proactive: true }).then((rec) => this.arm(rec), () => this.arm());
  }

  /** changed follows new tokens (or none): the timer, and news for the dashboards. */
  changed(rec) {
    this.arm(rec);
    // Only news: another tab's backoff, say, changes nothing for them.
    const news = this.news(rec);
    const told = news.token ?? `${news.outcome}/${news.reason ?? ''}`;
    if (told === this.told) return;
    this.told = told;
    for (const frame of this.frames) {
      if (frame.contentWindow) this.post(frame.contentWindow, news);
    }
  }

  news(rec) {
    if (this.stopped) return { type: MESSAGE.error, ...this.stopped.result };
    if (rec?.halt) return { type: MESSAGE.error, ...rec.halt };
    if (!rec?.accessToken) return { type: MESSAGE.error, outcome: 'reauthorize', reason: 'no_grant', detail: 'the user is signed out' };
    return { type: MESSAGE.token, token: rec.accessToken, expiresAt: rec.expiresAt, useUntil: useUntil(rec) };
  }

  // --- the dashboards -----------------------------------------------------------

  /** mount embeds a dashboard: its tokens come by postMessage, never in its URL. */
  mount(iframe, url) {
    this.frames.add(iframe);
    iframe.src = url;
  }

  /** post sends a dashboard a message, to the dashboard origin only. */
  post(win, msg) {
    win.postMessage(msg, this.env.dashboardOrigin);
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
    const frame = this.frameOf(e);
    const m = e.data;
    if (!frame || m?.type !== MESSAGE.request) return;
    let answer;
    try {
      const rec = await this.tokenFor(frame, { rejected: typeof m.rejected === 'string' ? m.rejected : undefined });
      answer = this.news(rec);
    } catch (err) {
      answer = { type: MESSAGE.error, ...asProblem(err).result };
    }
    this.post(e.source, { ...answer, id: m.id });
  }

  /** tokenFor is the record whose token the dashboard in frame gets. */
  tokenFor(frame, opts) {
    return this.token(opts);
  }

  // --- telling the user -----------------------------------------------------------

  /** report tells the user of a problem, once per kind of problem and page. */
  report(p) {
    const key = `${p.outcome}/${p.reason ?? ''}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    try {
      Promise.resolve(this.env.report?.(p.result)).catch(() => {});
    } catch {
      // the page's report failed: nothing more this manager can tell
    }
  }

  /**
   * checkAbandonedAuthorization reports a sign-in this tab started that
   * never came back to its redirect URI: the provider refuses a redirect
   * URI it does not know without redirecting, so a page of the application
   * loaded while a sign-in is pending that no callback page has seen is
   * the only sign of an unregistered redirect URI (after a move to a new
   * origin, say) the application gets. The sign-in stays pending: its
   * callback may still come.
   */
  checkAbandonedAuthorization() {
    const pending = parseJSON(sessionStorage.getItem(this.pendingKey));
    if (!pending?.redirectUri || pending.cameBack || pending.reported) return;
    // A callback page, even one a forged callback loaded, is the provider
    // (or someone) sending the browser back: the redirect URI works.
    const back = location.href.startsWith(pending.redirectUri);
    sessionStorage.setItem(this.pendingKey, JSON.stringify({ ...pending, cameBack: back, reported: !back }));
    if (back) return;
    this.report(new Problem({
      outcome: 'configuration_error',
      detail: `the sign-in started at ${new Date(pending.startedAt).toISOString()} did not come back to ${pending.redirectUri}: ` +
        `the provider probably does not have that redirect URI registered for client ${this.env.clientId}`,
    }));
  }

  // --- signing in and out ---------------------------------------------------------

  /**
   * authorizationUrl starts a sign-in: PKCE S256, state and nonce, kept in
   * this tab's sessionStorage until the callback. loginHint is passed on
   * when given.
   */
  async authorizationUrl({ loginHint } = {}) {
    const meta = await this.discovery();
    const verifier = randomString();
    const scopes = [...(this.env.scopes ?? [])];
    if (this.env.offlineAccess === 'scope' && !scopes.includes('offline_access')) scopes.push('offline_access');
    const pending = {
      state: randomString(16),
      nonce: scopes.includes('openid') ? randomString(16) : undefined,
      verifier,
      redirectUri: this.env.redirectUri,
      startedAt: Date.now(),
    };
    const url = new URL(meta.authorization_endpoint);
    const q = url.searchParams;
    q.set('response_type', 'code');
    q.set('client_id', this.env.clientId);
    q.set('redirect_uri', pending.redirectUri);
    q.set('scope', scopes.join(' '));
    q.set('state', pending.state);
    if (pending.nonce) q.set('nonce', pending.nonce);
    q.set('code_challenge', await pkceChallenge(verifier));
    q.set('code_challenge_method', 'S256');
    if (this.env.offlineAccess === 'access_type') q.set('access_type', 'offline');
    if (loginHint) q.set('login_hint', loginHint);
    sessionStorage.setItem(this.pendingKey, JSON.stringify(pending));
    return url.href;
  }

  /** completeAuthorization finishes the sign-in at the callback: url is the page's location. */
  async completeAuthorization(url) {
    try {
      await this.redeem(url);
      return { outcome: 'ok' };
    } catch (err) {
      const p = asProblem(err);
      if (p.outcome === 'configuration_error') this.report(p);
      return p.result;
    }
  }

  async redeem(url) {
    const { code, pending } = this.callback(url);
    const asked = Date.now();
    const answer = await this.tokenRequest({
      grant_type: 'authorization_code', code, redirect_uri: pending.redirectUri, client_id: this.env.clientId, code_verifier: pending.verifier,
    });
    let claims;
    if (answer.id_token) {
      try {
        claims = jwtClaims(answer.id_token);
      } catch {
        throw new Problem({ outcome: 'error', detail: 'the id_token could not be read' });
      }
      if (pending.nonce && claims.nonce !== pending.nonce) {
        throw new Problem({ outcome: 'error', detail: 'the id_token\'s nonce is not the one this sign-in sent: nothing kept' });
      }
    }
    await this.lock(async () => {
      const prev = await this.latest();
      // A second sign-in of the same user answered without a refresh token
      // (as Google answers after the first consent) keeps the one held.
      const same = prev && !prev.halt && claims?.sub !== undefined && prev.sub === claims.sub ? prev : undefined;
      await this.signedIn({ ...this.tokensOf(answer, asked, same), sub: claims?.sub, authorizedAt: asked });
    });
  }

  /**
   * callback reads the redirect back (url) of a sign-in this tab started:
   * its code, and what the start kept (pending). It throws when the
   * provider refused the sign-in, or when the state is not one this tab
   * issued and has not spent (a forged callback, or one delivered again:
   * RFC 6749 §10.12), before any token request.
   */
  callback(url) {
    const u = new URL(url, location.href);
    const q = u.searchParams;
    const pending = parseJSON(sessionStorage.getItem(this.pendingKey));
    if (!pending?.state || q.get('state') !== pending.state) {
      throw new Problem({ outcome: 'error', detail: 'the callback\'s state is not one this tab issued and has not spent: refused' });
    }
    // Spent; and the code leaves the address bar, so that no later request
    // carries it as a Referer.
    sessionStorage.removeItem(this.pendingKey);
    if (location.href === u.href) history.replaceState(history.state, '', u.origin + u.pathname);
    const error = q.get('error');
    if (error) {
      const desc = q.get('error_description');
      const outcome = STEP_UP.includes(error) ? 'interaction_required'
        : ['invalid_request', 'unauthorized_client', 'invalid_scope', 'unsupported_response_type'].includes(error) ? 'configuration_error' : 'error';
      throw new Problem({ outcome, detail: `authorization refused: ${error}${desc ? ` (${desc})` : ''}` });
    }
    const code = q.get('code');
    if (!code) throw new Problem({ outcome: 'error', detail: 'the callback has neither a code nor an error' });
    return { code, pending };
  }

  /** signedIn stores the tokens of a new sign-in, and starts afresh. */
  async signedIn(rec) {
    await this.write(rec);
    this.stopped = undefined;
    this.reported.clear();
    this.changed(rec);
  }

  /**
   * logout revokes the refresh token and the access token (RFC 7009) when
   * the provider has a revocation endpoint, and forgets them whatever it
   * answers: the user asked to be signed out.
   */
  async logout() {
    let notes = [];
    await this.lock(async () => {
      const rec = await this.latest();
      try {
        notes = await this.revoke(rec);
      } finally {
        await this.write(null);
      }
    });
    this.stopped = undefined;
    this.changed(null);
    return { outcome: 'ok', ...(notes.length && { detail: notes.join('; ') }) };
  }

  async revoke(rec) {
    const tokens = [['refresh_token', rec?.refreshToken], ['access_token', rec?.accessToken]].filter(([, t]) => t);
    if (!tokens.length) return [];
    let endpoint;
    try {
      endpoint = (await this.discovery()).revocation_endpoint;
    } catch (err) {
      return [`not revoked: ${asProblem(err).detail}`];
    }
    if (!endpoint) return ['the provider has no revocation endpoint'];
    const notes = [];
    for (const [hint, token] of tokens) {
      try {
        const res = await this.request(endpoint, { method: 'POST', body: new URLSearchParams({ token, token_type_hint: hint, client_id: this.env.clientId }) });
        if (!res.ok) notes.push(`revoking the ${hint.replace('_', ' ')}: HTTP ${res.status}`);
      } catch (err) {
        notes.push(`revoking the ${hint.replace('_', ' ')}: ${err?.message ?? err}`);
      }
    }
    return notes;
  }
}

// --- a dashboard's manager -------------------------------------------------------------

/**
 * DashboardManager is the token manager of one dashboard frame: it asks
 * the application (its parent) for tokens, and takes messages only from
 * the parent window on the application's origin.
 */
export class DashboardManager {
  constructor(env) {
    this.env = env;
    this.seq = 0;
    this.waiting = new Map();
    this.cached = undefined;
  }

  start() {
    window.addEventListener('message', (e) => this.onMessage(e));
    return this;
  }

  /** trusted: the message came from the parent window, on the application's origin. */
  trusted(e) {
    return e.origin === this.env.appOrigin && e.source === window.parent;
  }

  /** post sends the application a message, to its origin only. */
  post(msg) {
    window.parent.postMessage(msg, this.env.appOrigin);
  }

  onMessage(e) {
    const m = e.data;
    if (!this.trusted(e) || !m || typeof m !== 'object') return;
    const waiter = this.waiting.get(m.id);
    if (m.type === MESSAGE.token && typeof m.token === 'string') {
      this.cached = { token: m.token, useUntil: Number(m.useUntil) || 0 };
      waiter?.resolve(m.token);
    } else if (m.type === MESSAGE.error) {
      this.cached = undefined;
      waiter?.reject(new Problem(m));
    } else {
      return;
    }
    this.waiting.delete(m.id);
  }

  /**
   * accessToken resolves to the token to call the API with now: the one
   * last given while it may be used and is not the one the API refused
   * (options.rejected), else a new one from the application.
   */
  accessToken(options = {}) {
    const c = this.cached;
    if (c && c.token !== options.rejected && Date.now() < c.useUntil) return Promise.resolve(c.token);
    if (window.parent === window) {
      return Promise.reject(new Problem({ outcome: 'error', detail: 'the dashboard is not embedded in the application' }));
    }
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.post({ type: MESSAGE.request, id, ...(options.rejected && { rejected: options.rejected }) });
    });
  }
}

/** app starts the token manager of an application page (the module contract's export). */
export async function app(env) {
  return new AppManager(env).start();
}

/** dashboard starts the token manager of a dashboard frame (the module contract's export). */
export async function dashboard(env) {
  return new DashboardManager(env).start();
}
