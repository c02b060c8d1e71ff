// selfcheck: reference.js and the mutants, in Node 20 or later, before the
// browser runner judges them in Chromium. First the pure pieces: the
// reference's outcome table answers every case of
// ../../adapters/testdata/outcomes.json as the case says, and Retry-After,
// the backoff, the refresh times and PKCE are computed as its comments say.
// Then the application side's flows against a real `oauthsim serve` on
// loopback, with the few browser globals the managers use stood in for
// (storage, location, a Web Lock, the clock moved with the simulator's):
// sign-in, tokens handed out at use, the timer's refresh, one refresh for
// two pages at once, rotation, Retry-After, a dead grant remembered and
// reported once, logout's revocation, a blocked token request, an abandoned
// sign-in; the dashboard side's origin checks; and each mutant's bug
// showing. Dashboards are stood in for by the messages they would send.
//
// Usage: go build -o bin/oauthsim ./cmd/oauthsim && node clients/browser/tm/selfcheck.js
//        (OAUTHSIM names another oauthsim binary)

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tokenErrorOutcome, parseRetryAfter, backoffDelay, refreshAt, useUntil, tokensFrom, pkceChallenge } from './reference.js';
import { setMaxListeners } from 'node:events';

const bin = process.env.OAUTHSIM ?? 'bin/oauthsim';
if (!fs.existsSync(bin)) {
  console.error(`selfcheck: no ${bin}: build it (go build -o bin/oauthsim ./cmd/oauthsim) or set OAUTHSIM`);
  process.exit(2);
}
const APP = 'http://app.localhost:8080';
const DASH = 'http://dash.localhost:8081';

// --- checking -------------------------------------------------------------------------

let failed = 0;
let total = 0;
const expect = (what, got, want) => {
  total++;
  if (JSON.stringify(got) === JSON.stringify(want)) return;
  failed++;
  console.error(`FAIL ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
};


// --- the pure pieces ---------------------------------------------------------------

const cases = JSON.parse(fs.readFileSync(new URL('../../adapters/testdata/outcomes.json', import.meta.url), 'utf8'));
const HOUR = 3600 * 1000;
for (const c of cases.token) {
  // The manager passes a body on as the object it parsed; text is no OAuth body.
  const body = typeof c.body === 'object' ? c.body : undefined;
  const got = tokenErrorOutcome({ status: c.status, body, age: c.age_hours * HOUR });
  expect(`HTTP ${c.status} ${JSON.stringify(c.body)}, a ${c.age_hours} h old grant`, [got.outcome, got.reason ?? ''], [c.outcome, c.reason ?? '']);
}

const now = Date.parse('2026-12-07T03:00:00Z');
expect('Retry-After in seconds', parseRetryAfter('120', now), 120000);
expect('Retry-After as an HTTP date', parseRetryAfter('Mon, 07 Dec 2026 03:01:30 GMT', now), 90000);
expect('Retry-After as a date gone by', parseRetryAfter('Mon, 07 Dec 2026 02:00:00 GMT', now), 0);
expect('Retry-After unreadable', parseRetryAfter('soon', now), 0);
expect('Retry-After absent', parseRetryAfter(null, now), 0);
expect('backoff after 1, 2, 3, 20 failures', [1, 2, 3, 20].map(backoffDelay), [1000, 2000, 4000, 300000]);

const hour = tokensFrom({ access_token: 'a', expires_in: 3600 }, now);
expect('a 1 h token is refreshed at 48 min', (refreshAt(hour) - now) / 60000, 48);
expect('a 1 h token is handed out until 30 s before expiry', (hour.expiresAt - useUntil(hour)) / 1000, 30);
const short = tokensFrom({ access_token: 'a', expires_in: 10 }, now);
expect('a 10 s token is refreshed at half its life, handed out until 1 s before expiry', [refreshAt(short) - now, short.expiresAt - useUntil(short)], [5000, 1000]);
const twoMin = tokensFrom({ access_token: 'a', expires_in: 120 }, now);
expect('a 2 min token is refreshed a minute before expiry', (twoMin.expiresAt - refreshAt(twoMin)) / 1000, 60);
expect('an answer without expires_in lasts an hour', hour.lifetime, tokensFrom({ access_token: 'a' }, now).lifetime);
expect('an answer without a refresh token keeps the one held', tokensFrom({ access_token: 'b' }, now, { refreshToken: 'r1' }).refreshToken, 'r1');
expect('a rotated refresh token replaces the one held', tokensFrom({ access_token: 'b', refresh_token: 'r2' }, now, { refreshToken: 'r1' }).refreshToken, 'r2');
// RFC 7636 appendix B's example.
expect('PKCE S256 challenge', await pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');


// --- the simulator ---------------------------------------------------------------

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowcheck-'));
fs.writeFileSync(path.join(dir, 'sim.yaml'), `
profile:
  access_token_lifetime: 1h
  refresh:
    rotation: rotate
clients:
  - client_id: spa
    public: true
    redirect_uris: [${APP}/callback]
    grant_types: [authorization_code, refresh_token]
    scopes: [openid, offline_access, api]
    token_endpoint_auth_methods: [none]
users:
  - id: carol
    name: Carol Example
auto_approve: true
`);
const sim = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--config', path.join(dir, 'sim.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] });
// serve names its issuer once it listens.
const issuer = await new Promise((resolve, reject) => {
  let out = '';
  sim.stdout.on('data', (b) => {
    out += b;
    const m = /issuer\s+(http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
  sim.on('exit', (code) => reject(new Error(`${bin} serve exited (${code}) before it listened: ${out}`)));
});
sim.stdout.resume();
const control = async (method, p, body) => {
  const res = await fetch(`${issuer}/sim/v1${p}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${p}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
};

// --- the browser's globals ------------------------------------------------------------

class MemoryStorage {
  constructor() {
    this.m = new Map();
  }

  getItem(k) {
    return this.m.has(k) ? this.m.get(k) : null;
  }

  setItem(k, v) {
    this.m.set(k, String(v));
  }

  removeItem(k) {
    this.m.delete(k);
  }
}

const realNow = Date.now;
let offset = new Date((await control('GET', '/clock')).now).getTime() - realNow();
Date.now = () => realNow() + offset;
const advance = async (minutes) => {
  const st = await control('POST', '/clock', { advance: `${minutes}m` });
  offset = new Date(st.now).getTime() - realNow();
};

const locks = new Map();
globalThis.navigator = {
  locks: {
    request(name, fn) {
      const run = (locks.get(name) ?? Promise.resolve()).then(() => fn());
      locks.set(name, run.catch(() => {}));
      return run;
    },
  },
};
globalThis.window = new EventTarget();
setMaxListeners(1000, window);
window.parent = window;
globalThis.localStorage = new MemoryStorage();
globalThis.sessionStorage = new MemoryStorage();
globalThis.location = new URL(`${APP}/`);
globalThis.history = { state: null, replaceState: (s, t, url) => { location.href = new URL(url, location.href).href; } };

// Every request, for counting refreshes; block makes the token endpoint's
// fail as a CORS refusal does.
const requests = [];
let block = false;
const nodeFetch = globalThis.fetch;
globalThis.fetch = async (url, init = {}) => {
  const body = init.body ? String(init.body) : '';
  requests.push({ url: String(url), body });
  if (block && String(url).includes('/oauth2/token')) throw new TypeError('Failed to fetch');
  if (String(url).startsWith(`${APP}/bff/`)) return bffServer(String(url).slice(`${APP}/bff`.length), JSON.parse(body || '{}'));
  return nodeFetch(url, init);
};
const refreshes = () => requests.filter((r) => r.body.includes('grant_type=refresh_token')).length;

const reports = [];
const env = {
  issuer, clientId: 'spa', redirectUri: `${APP}/callback`, scopes: ['openid', 'api'], offlineAccess: 'scope',
  api: `${issuer}/api/me`, appOrigin: APP, dashboardOrigin: DASH, report: (p) => reports.push(p),
};

/** page loads a module's app page at url (a navigation: memory gone, storage kept). */
async function page(mod, url = `${APP}/`) {
  location.href = url;
  return mod.app(env);
}

/** signIn signs carol in through the simulator, and lands on the callback page. */
async function signIn(mod) {
  const m = await page(mod);
  const res = await nodeFetch(await m.authorizationUrl({ loginHint: 'carol' }), { redirect: 'manual' });
  const back = res.headers.get('location');
  const cb = await page(mod, back);
  const result = await cb.completeAuthorization(back);
  return { result, cb };
}

/** withDashboards loads mod's app page with n dashboards mounted. */
async function withDashboards(mod, n = 1) {
  const m = await page(mod);
  const frames = Array.from({ length: n }, () => frame());
  frames.forEach((f, i) => m.mount(f, `${DASH}/dashboard?n=${i + 1}`));
  return { m, f: frames[0], frames };
}

/** frame is a dashboard iframe: its window records what it was posted. */
function frame() {
  const got = [];
  return { got, src: '', contentWindow: { postMessage: (data, targetOrigin) => got.push({ data, targetOrigin }) } };
}

/** ask has the dashboard in f ask m for a token, from origin, and returns m's answer. */
async function ask(m, f, { origin = DASH, rejected } = {}) {
  const before = f.got.length;
  await m.onMessage({ origin, source: f.contentWindow, data: { type: 'oauthsim:token-request', id: before + 1, ...(rejected && { rejected }) } });
  return f.got.slice(before).find((g) => g.data.id === before + 1);
}

function fresh() {
  localStorage.m.clear();
  sessionStorage.m.clear();
  reports.length = 0;
  requests.length = 0;
  block = false;
}

const ref = await import('./reference.js');

// The reference.
{
  fresh();
  const { result, cb } = await signIn(ref);
  expect('sign-in', result, { outcome: 'ok' });
  expect('the callback page leaves no code in the address bar', location.href, `${APP}/callback`);
  const again = await cb.completeAuthorization(`${APP}/callback?code=x&state=y`);
  expect('a callback delivered again is refused', again.outcome, 'error');
  expect('the refresh token stays in localStorage only, with the access token', Boolean(JSON.parse(localStorage.getItem('oauthsim.tm:spa')).refreshToken), true);

  const { m, f } = await withDashboards(ref);
  expect('mount puts no token in src', f.src, `${DASH}/dashboard?n=1`);
  const a1 = await ask(m, f);
  expect('a dashboard gets a token, posted to its exact origin', [typeof a1?.data.token, a1?.targetOrigin], ['string', DASH]);
  expect('a page load reuses the stored token', refreshes(), 0);
  expect('a message from another origin gets no answer', await ask(m, f, { origin: 'http://probe.localhost:8082' }), undefined);
  const stranger = frame();
  expect('a message from a window not mounted gets no answer', await ask(m, stranger), undefined);

  await advance(50);
  const other = await page(ref); // another tab of the origin: same storage
  await Promise.all([m.onTimer(), other.onTimer()]);
  expect('two pages\' timers at 50 min: one refresh', refreshes(), 1);
  const a2 = await ask(m, f);
  expect('the dashboard gets the refreshed token, no other refresh', [a2.data.token !== a1.data.token, refreshes()], [true, 1]);
  const rt = (r) => new URLSearchParams(r.body).get('refresh_token');
  const sent = requests.filter((r) => r.body.includes('grant_type=refresh_token'));
  expect('the refresh sent the refresh token of the sign-in, and the rotated one was stored', [Boolean(rt(sent[0])), JSON.parse(localStorage.getItem('oauthsim.tm:spa')).refreshToken !== rt(sent[0])], [true, true]);

  const a3 = await ask(m, f, { rejected: a2.data.token });
  expect('a token the API refused is refreshed once', [a3.data.token !== a2.data.token, refreshes()], [true, 2]);

  // Retry-After: a rate limit on refresh, 30 s.
  const fault = await control('POST', '/faults', { kind: 'rate_limit', match: { endpoint: 'token', grant_type: 'refresh_token' }, retry_after: '120s' });
  const a4 = await ask(m, f, { rejected: a3.data.token });
  expect('a 429 on refresh: temporary_error', a4.data.outcome, 'temporary_error');
  const a5 = await ask(m, f, { rejected: a3.data.token });
  expect('no token request before Retry-After', [a5.data.outcome, refreshes()], ['temporary_error', 3]);
  const a6 = await ask(m, f);
  expect('the held token, still valid, is handed out meanwhile', a6.data.token, a3.data.token);
  await control('DELETE', `/faults/${fault.id}`);
  await advance(2.5);
  const a7 = await ask(m, f, { rejected: a3.data.token });
  expect('after Retry-After, a refresh', [typeof a7.data.token, refreshes()], ['string', 4]);

  // A dead grant: revoked at the provider.
  await control('POST', '/revocations', { user: 'carol', reason: 'admin' });
  await advance(61);
  const d1 = await ask(m, f);
  expect('a revoked grant: reauthorize, revoked', [d1.data.outcome, d1.data.reason], ['reauthorize', 'revoked']);
  const d2 = await ask(m, f);
  expect('a dead grant is remembered: no further token request', [d2.data.outcome, refreshes()], ['reauthorize', 5]);
  const d3 = await ask(await page(ref), f);
  expect('nor after a navigation', [d3?.data?.outcome ?? 'no answer', refreshes()], ['no answer', 5]);
  expect('and reported once, by the page that met it', reports.map((r) => [r.outcome, r.reason]), [['reauthorize', 'revoked']]);

  // Logout revokes.
  await signIn(ref);
  const out = await (await page(ref)).logout();
  const revoked = requests.filter((r) => r.url.includes('/oauth2/revoke')).length;
  expect('logout: ok, two revocations, nothing stored', [out.outcome, revoked, localStorage.getItem('oauthsim.tm:spa')], ['ok', 2, null]);

  // A blocked token request while the provider answers: configuration_error.
  await signIn(ref);
  const { m: b, f: g } = await withDashboards(ref);
  await advance(61);
  block = true;
  const b1 = await ask(b, g);
  expect('a blocked refresh: configuration_error, reported', [b1.data.outcome, reports.at(-1)?.outcome], ['configuration_error', 'configuration_error']);
  expect('its detail names the origin', b1.data.detail.includes(APP), true);

  // An abandoned sign-in (an unregistered redirect URI) is reported when a page loads.
  fresh();
  const s = await page(ref);
  await s.authorizationUrl({ loginHint: 'carol' });
  await page(ref);
  expect('a sign-in that never came back is reported', reports.map((r) => r.outcome), ['configuration_error']);
  await page(ref);
  expect('once', reports.length, 1);

  // A forged callback first, then the real one: no report, and the real one completes.
  fresh();
  const start = await page(ref);
  const res = await nodeFetch(await start.authorizationUrl({ loginHint: 'carol' }), { redirect: 'manual' });
  const forged = await (await page(ref, `${APP}/callback?code=forged&state=forged`)).completeAuthorization(`${APP}/callback?code=forged&state=forged`);
  await page(ref);
  const back = res.headers.get('location');
  const real = await (await page(ref, back)).completeAuthorization(back);
  expect('a forged callback is refused, the real one then completes, nothing reported', [forged.outcome, real.outcome, reports.length], ['error', 'ok', 0]);
}

// The reference's dashboard side: it asks its parent, to the app's origin,
// and takes answers only from the parent window on that origin.
{
  const posted = [];
  const parent = { postMessage: (data, targetOrigin) => posted.push({ data, targetOrigin }) };
  window.parent = parent;
  const d = await ref.dashboard(env);
  const deliver = (origin, source, data) => window.dispatchEvent(Object.assign(new Event('message'), { origin, source, data }));
  const asked = d.accessToken();
  expect('a dashboard asks its parent, to the app origin only', [posted[0]?.data.type, posted[0]?.targetOrigin], ['oauthsim:token-request', APP]);
  const id = posted[0].data.id;
  const until = Date.now() + 60000;
  deliver('http://probe.localhost:8082', parent, { type: 'oauthsim:token', id, token: 'forged', useUntil: until });
  deliver(APP, {}, { type: 'oauthsim:token', id, token: 'forged', useUntil: until });
  deliver(APP, parent, { type: 'oauthsim:token', id, token: 'good', useUntil: until });
  expect('it takes the token from its parent on the app origin, not from others', await asked, 'good');
  expect('and reuses it while it may', [await d.accessToken(), posted.length], ['good', 1]);
  const again = d.accessToken({ rejected: 'good' });
  expect('a rejected token is asked again, naming it', posted[1]?.data.rejected, 'good');
  deliver(APP, parent, { type: 'oauthsim:token-error', id: posted[1].data.id, outcome: 'reauthorize', reason: 'revoked', detail: 'x' });
  const err = await again.catch((e) => e);
  expect('a refusal rejects with an Error carrying the outcome', [err instanceof Error, err.outcome, err.reason], [true, 'reauthorize', 'revoked']);
  window.parent = window;
}

// The BFF variant, against a stand-in of its server written from BFF.md
// (one browser, so one session and no cookie to carry).
const bffSession = { pending: new Map(), grant: undefined, dead: undefined, queue: Promise.resolve() };
async function bffServer(p, body) {
  const answer = (status, json, headers = {}) => new Response(JSON.stringify(json), { status, headers: { 'content-type': 'application/json', ...headers } });
  const meta = await (await nodeFetch(`${issuer}/.well-known/openid-configuration`)).json();
  const tokenRequest = async (params) => {
    const res = await fetch(meta.token_endpoint, { method: 'POST', body: new URLSearchParams({ ...params, client_id: 'spa' }) });
    const json = await res.json().catch(() => undefined);
    if (res.ok && json?.access_token) return json;
    throw Object.assign(new Error(json?.error ?? 'no answer'), tokenErrorOutcome({ status: res.status, body: json }));
  };
  const held = (g) => ({ outcome: 'ok', access_token: g.access, expires_in: Math.floor((g.expiresAt - Date.now()) / 1000), lifetime: g.lifetime });
  const status = { reauthorize: 401, interaction_required: 403, configuration_error: 502, temporary_error: 503 };
  switch (p) {
    case '/login-url': {
      const state = crypto.randomUUID();
      const verifier = crypto.randomUUID() + crypto.randomUUID();
      bffSession.pending.set(state, { verifier, redirectUri: body.redirect_uri });
      const u = new URL(meta.authorization_endpoint);
      Object.entries({
        response_type: 'code', client_id: 'spa', redirect_uri: body.redirect_uri, scope: 'openid api offline_access', state,
        code_challenge: await pkceChallenge(verifier), code_challenge_method: 'S256', login_hint: body.login_hint,
      }).forEach(([k, v]) => u.searchParams.set(k, v));
      return answer(200, { outcome: 'ok', url: u.href });
    }
    case '/callback': {
      const pending = bffSession.pending.get(body.state);
      if (!pending) return answer(400, { outcome: 'error', detail: 'unknown state' });
      bffSession.pending.delete(body.state);
      const t = await tokenRequest({ grant_type: 'authorization_code', code: body.code, redirect_uri: pending.redirectUri, code_verifier: pending.verifier });
      bffSession.grant = { access: t.access_token, refresh: t.refresh_token, lifetime: t.expires_in, expiresAt: Date.now() + t.expires_in * 1000 };
      bffSession.dead = undefined;
      return answer(200, held(bffSession.grant));
    }
    case '/token': {
      const run = bffSession.queue.then(async () => {
        const g = bffSession.grant;
        if (bffSession.dead) return answer(401, bffSession.dead);
        if (!g) return answer(401, { outcome: 'reauthorize', reason: 'no_grant' });
        if (g.expiresAt - Date.now() > (body.min_ttl ?? 30) * 1000 && g.access !== body.rejected) return answer(200, held(g));
        try {
          const t = await tokenRequest({ grant_type: 'refresh_token', refresh_token: g.refresh });
          Object.assign(g, { access: t.access_token, refresh: t.refresh_token || g.refresh, lifetime: t.expires_in, expiresAt: Date.now() + t.expires_in * 1000 });
          return answer(200, held(g));
        } catch (err) {
          const problem = { outcome: err.outcome, reason: err.reason, detail: err.message };
          if (err.outcome === 'reauthorize') [bffSession.dead, bffSession.grant] = [problem, undefined];
          return answer(status[err.outcome] ?? 400, problem, err.outcome === 'temporary_error' ? { 'retry-after': '1' } : {});
        }
      });
      bffSession.queue = run.catch(() => {});
      return run;
    }
    case '/logout':
      if (bffSession.grant) await fetch(meta.revocation_endpoint, { method: 'POST', body: new URLSearchParams({ token: bffSession.grant.refresh, client_id: 'spa' }) });
      bffSession.grant = undefined;
      return answer(200, { outcome: 'ok' });
  }
  return answer(404, { outcome: 'error' });
}
{
  fresh();
  const bff = await import('./bff.js');
  const { result } = await signIn(bff);
  expect('bff: sign-in', result, { outcome: 'ok' });
  const { m, f } = await withDashboards(bff);
  const a1 = await ask(m, f);
  expect('bff: a page load reuses the cached token', [typeof a1.data.token, refreshes()], ['string', 0]);
  await advance(50);
  const other = await page(bff);
  await Promise.all([m.onTimer(), other.onTimer()]);
  const a2 = await ask(m, f);
  expect('bff: two pages\' timers at 50 min: one refresh, a new token', [refreshes(), a2.data.token !== a1.data.token], [1, true]);
  const a3 = await ask(m, f, { rejected: a2.data.token });
  expect('bff: a token the API refused is refreshed once', [refreshes(), a3.data.token !== a2.data.token], [2, true]);
  const stored = JSON.stringify([...localStorage.m.values(), ...sessionStorage.m.values()]);
  expect('bff: no refresh token in the browser', /refresh_?token"\s*:\s*"/i.test(stored), false);
  await control('POST', '/revocations', { user: 'carol', reason: 'admin' });
  await advance(61);
  const d1 = await ask(m, f);
  const d2 = await ask(m, f);
  expect('bff: a revoked grant: reauthorize, remembered, reported once', [d1.data.outcome, d1.data.reason, d2.data.outcome, refreshes(), reports.length], ['reauthorize', 'revoked', 'reauthorize', 3, 1]);
  await signIn(bff);
  const out = await (await page(bff)).logout();
  expect('bff: logout', [out.outcome, localStorage.getItem('oauthsim.bff:spa')], ['ok', null]);
}

// The mutants, each with its bug showing.

/** mutant is a fresh browser where carol signed in through the mutant name. */
async function mutant(name) {
  fresh();
  const mod = await import(`./mutant-${name}.js`);
  await signIn(mod);
  return mod;
}
{
  const { m, f } = await withDashboards(await mutant('memory-only'));
  await ask(m, f);
  expect('memory-only: a page load refreshes though the token was valid', refreshes(), 1);
}
{
  const { m, frames } = await withDashboards(await mutant('manager-per-dashboard'), 3);
  for (const f of frames) await ask(m, f);
  await advance(50);
  await Promise.all([...m.own.values()].map((o) => o.onTimer()));
  expect('manager-per-dashboard: three dashboards, three refreshes', refreshes(), 3);
}
{
  const mod = await mutant('timer-only');
  await advance(40);
  const { m, f } = await withDashboards(mod);
  await advance(30);
  const a = await ask(m, f);
  const rec = JSON.parse(localStorage.getItem('oauthsim.tm:spa'));
  expect('timer-only: an expired token handed out, no refresh', [Date.now() > rec.expiresAt, a.data.token === rec.accessToken, refreshes()], [true, true, 0]);
}
{
  const { m, f } = await withDashboards(await mutant('swallow'));
  await control('POST', '/revocations', { user: 'carol', reason: 'admin' });
  await advance(61);
  const origError = console.error;
  const logged = [];
  console.error = (...a) => logged.push(a.join(' '));
  const a = await ask(m, f);
  console.error = origError;
  expect('swallow: the stale token handed out, nothing reported, a line logged', [typeof a.data.token, reports.length, logged.length], ['string', 0, 1]);
}
{
  const { m, f } = await withDashboards(await mutant('postmessage-star'));
  expect('postmessage-star: posted to "*"', (await ask(m, f)).targetOrigin, '*');
}
{
  const { f } = await withDashboards(await mutant('token-in-src'));
  expect('token-in-src: the access token in src', new URL(f.src).searchParams.has('access_token'), true);
}
{
  const mod = await mutant('session-storage');
  const tab1 = await withDashboards(mod);
  await ask(tab1.m, tab1.f);
  const first = sessionStorage;
  globalThis.sessionStorage = new MemoryStorage(); // a second tab
  const tab2 = await withDashboards(mod);
  await ask(tab2.m, tab2.f);
  globalThis.sessionStorage = first;
  expect('session-storage: a second tab refreshes at once', refreshes(), 1);
}

sim.kill();
fs.rmSync(dir, { recursive: true, force: true });
console.error(`clients/browser/tm selfcheck: ${total - failed} of ${total} checks as expected`);
process.exit(failed ? 1 : 0);
