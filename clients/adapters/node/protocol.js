// The client side of clients/PROTOCOL.md (version 1) for the Node.js
// adapters: the OAUTHSIM_* environment, the hello, JSON lines on stdin and
// stdout with requests served concurrently, token files in the state
// directory, the API call, and the table of outcomes of
// clients/adapters/README.md that every adapter answers with.
//
// Nothing here refreshes, retries or locks: that is the library's business,
// and the point of the adapters is to judge the library.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import crypto from 'node:crypto';

export const PROTOCOL_VERSION = 1;

/** libraryVersion is the installed version of the npm package name, for the hello. */
export function libraryVersion(name) {
  const file = new URL(`./node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}

// stdout carries protocol lines only. Libraries that log with console.log
// (or console.info/debug) would break it, so every console method writes to
// stderr, which is the client's log.
const writeStdout = process.stdout.write.bind(process.stdout);
for (const m of ['log', 'info', 'debug']) {
  console[m] = (...args) => console.error(...args);
}

// Strings that must never reach a response's detail (tokens, secrets).
// The harness searches the log too; adapters log no tokens at all.
const sensitive = new Set();

/** remember marks s (a token or a secret) so that no detail repeats it. */
export function remember(s) {
  if (typeof s === 'string' && s.length >= 8) sensitive.add(s);
}

/** rememberAll marks the tokens in v (a stored token object or a token response). */
export function rememberAll(v) {
  if (!v || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string' && /token|secret|code/i.test(k) && !/type|hint/i.test(k)) remember(x);
    else if (x && typeof x === 'object') rememberAll(x);
  }
}

// Token-bearing fields as they appear in a raw answer that a library quotes
// in its error message (JSON or form-encoded, possibly cut short).
const TOKEN_FIELDS = [
  /("(?:access_token|refresh_token|id_token|client_secret|code)"\s*:\s*")[^"]*/g,
  /(\b(?:access_token|refresh_token|id_token|client_secret|code)=)[^&\s"']*/g,
  /(\bBearer\s+)[A-Za-z0-9._~+/=-]+/g,
];

/** redact blanks the tokens and secrets in s. */
export function redact(s) {
  if (typeof s !== 'string') return s;
  for (const t of sensitive) if (s.includes(t)) s = s.split(t).join('[redacted]');
  for (const re of TOKEN_FIELDS) s = s.replace(re, '$1[redacted]');
  return s;
}

// short is a response's detail: redacted, and at most 600 characters.
function short(s) {
  s = redact(s);
  return s.length > 600 ? s.slice(0, 600) + '...' : s;
}

/**
 * log writes one line to stderr, the client's log. Never pass it a token;
 * library messages that quote an answer are redacted all the same.
 */
export function log(...args) {
  const text = args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' ');
  console.error(`[${new Date().toISOString()}] ${redact(text)}`);
}

// The state directory, set by readEnv.
let stateDir = '';

/** readEnv reads the OAUTHSIM_* variables, refusing a missing one. */
export function readEnv() {
  const get = (k) => process.env['OAUTHSIM_' + k] ?? '';
  if (get('PROTOCOL') !== String(PROTOCOL_VERSION)) {
    throw new Error(`OAUTHSIM_PROTOCOL is ${JSON.stringify(get('PROTOCOL'))}; this adapter speaks ${PROTOCOL_VERSION}`);
  }
  const env = {
    issuer: get('ISSUER'),
    resource: get('RESOURCE'),
    clientId: get('CLIENT_ID'),
    secretFile: get('CLIENT_SECRET_FILE'),
    redirectUri: get('REDIRECT_URI'),
    scopes: get('SCOPES').split(/\s+/).filter(Boolean),
    // access_type: ask offline access as Google does; scope: offline_access.
    offlineAccess: get('OFFLINE_ACCESS') || 'scope',
    profile: get('PROFILE'),
    rotation: get('REFRESH_ROTATION'),
    grace: Number.parseInt(get('REFRESH_GRACE') || '0', 10),
    stateDir: get('STATE_DIR'),
    start: get('TIME'),
  };
  stateDir = env.stateDir;
  for (const [k, v] of Object.entries({ ISSUER: env.issuer, RESOURCE: env.resource, CLIENT_ID: env.clientId, REDIRECT_URI: env.redirectUri, STATE_DIR: env.stateDir })) {
    if (!v) throw new Error(`OAUTHSIM_${k} is not set`);
  }
  /** secret reads the client secret now; undefined for a public client. */
  env.secret = () => {
    if (!env.secretFile) return undefined;
    const s = fs.readFileSync(env.secretFile, 'utf8').trim();
    remember(s);
    return s;
  };
  /** scopesWithOffline: the scopes to ask for, with offline_access when the provider wants the scope. */
  env.scopesWithOffline = () => (env.offlineAccess === 'scope' ? [...env.scopes, 'offline_access'] : [...env.scopes]);
  return env;
}

/** discover fetches the provider's OAuth 2.0 metadata (RFC 8414), for libraries that do not discover. */
export async function discover(issuer) {
  const res = await fetch(new URL('/.well-known/oauth-authorization-server', issuer), { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`discovery answered HTTP ${res.status}`);
  return res.json();
}

// --- state: token files in OAUTHSIM_STATE_DIR --------------------------------

/** loadState reads the JSON file name in the state directory, or null. */
export function loadState(name) {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(stateDir, name + '.json'), 'utf8'));
    rememberAll(v);
    return v;
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
}

/** saveState writes v as JSON, atomically (a temporary file renamed). */
export function saveState(name, v) {
  rememberAll(v);
  const file = path.join(stateDir, name + '.json');
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(v), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** clearState removes the file name. */
export function clearState(name) {
  fs.rmSync(path.join(stateDir, name + '.json'), { force: true });
}

/** markGrant records when the user authorized, for the reason of a dead grant. */
export function markGrant() {
  saveState('grant', { authorized_at: Date.now() });
}

/** forgetGrant drops the record of markGrant (a logout). */
export function forgetGrant() {
  clearState('grant');
}

/** noGrant is the outcome of a call without tokens: the user never authorized, or logged out. */
export function noGrant() {
  return { outcome: 'reauthorize', reason: 'no_grant', detail: 'no stored token' };
}

// The token files the adapter made with tokenFile, for the hello's glue.
const tokenFiles = new Set();

/**
 * tokenFile is the JSON file name in the state directory where an adapter
 * keeps what its library leaves the application to store. Making one is
 * the adapter's glue storing tokens, and the hello says so (helloLine).
 */
export function tokenFile(name) {
  tokenFiles.add(name + '.json');
  return { load: () => loadState(name), save: (v) => saveState(name, v), clear: () => clearState(name) };
}

/** GLUE_STORAGE: the adapter's code, not its library, writes what is kept in OAUTHSIM_STATE_DIR. */
export const GLUE_STORAGE = 'storage';

/**
 * helloLine is the first line the adapter writes: { hello } with the
 * protocol version and what the adapter says of itself. None of the
 * libraries wrapped here writes a file: once the adapter has a tokenFile,
 * saveState (plain JSON, as the libraries' docs show their tokens) writes
 * what is kept, so the hello's glue lists storage, and what the harness
 * finds there is reported as the glue's, not the library's.
 */
export function helloLine(hello) {
  const glue = [...(hello.glue ?? [])];
  if (tokenFiles.size > 0 && !glue.includes(GLUE_STORAGE)) glue.push(GLUE_STORAGE);
  return { hello: { protocol: PROTOCOL_VERSION, ...hello, ...(glue.length ? { glue } : {}) } };
}

/** grantAge is how long ago (ms) the user authorized, or undefined. */
export function grantAge() {
  const g = loadState('grant');
  return g ? Date.now() - g.authorized_at : undefined;
}

// --- authorization requests --------------------------------------------------

/** randomState is a fresh value for the authorization request's state. */
export function randomState() {
  return crypto.randomBytes(16).toString('base64url');
}

/**
 * callbackParams parses the redirect back and checks its state, for libraries
 * that leave this to the application: { code } or { response } to answer.
 */
export function callbackParams(url, wantState) {
  const q = new URL(url).searchParams;
  if (q.get('error')) return { response: { outcome: 'error', detail: `authorization refused: ${q.get('error')}` } };
  if (q.get('state') !== wantState) return { response: { outcome: 'error', detail: "the callback's state does not match" } };
  return { code: q.get('code') };
}

// --- outcomes: the table of clients/adapters/README.md -------------------------

const DAY = 24 * 3600 * 1000;

/**
 * deadReason reads a dead grant's error description (as the provider wrote
 * it and the library passed it on) for why it died; age (the grant's, in
 * ms, or undefined) tells a testing app's seventh day. The decision that the grant
 * is dead rests on the error code; the reason is what the user is told.
 */
export function deadReason(description, age) {
  const d = String(description ?? '').toLowerCase();
  if (d.includes('reuse')) return 'reuse_detected';
  // Google says only "Token has been expired or revoked."; a grant dying in
  // its eighth day is the testing-app signature.
  if (age !== undefined && age >= 7 * DAY && age < 8 * DAY && d.includes('expired or revoked')) return 'testing_app_expired';
  if (d.includes('aadsts700082') || d.includes('aadsts700084') || d.includes('inactiv')) return 'expired';
  if (d.includes('aadsts50173') || d.includes('revoked')) return 'revoked';
  if (d.includes('expired')) return 'expired';
  return 'unknown';
}

// Error codes that mean the grant is dead: RFC 6749's, GitHub's and Slack's.
const DEAD_GRANT = ['invalid_grant', 'bad_refresh_token', 'invalid_refresh_token', 'token_revoked'];
const STEP_UP = ['interaction_required', 'login_required', 'consent_required'];

/**
 * tokenErrorOutcome reads a token endpoint's error answer, as far as the
 * library passed it on: status (0 when it did not), body (the parsed JSON
 * object, or undefined) and age, the grant's (ms). It answers { outcome,
 * reason } by the table, the rows in its order.
 */
export function tokenErrorOutcome({ status = 0, body, age }) {
  const fields = body && typeof body === 'object' && !Array.isArray(body) ? body : undefined;
  const str = (k) => (typeof fields?.[k] === 'string' ? fields[k] : '');
  const code = str('error');
  const desc = str('error_description');
  // Entra puts throttling and step-up inside invalid_grant, as AADSTS codes.
  const entra = (...codes) => codes.some((c) => desc.includes(`AADSTS${c}:`));
  if (status === 429 || status >= 500 || code === 'temporarily_unavailable' || code === 'slow_down' ||
      entra('50196', '90055') || (status === 403 && !fields)) {
    // A 403 that is not JSON is Google's rate-limit page.
    return { outcome: 'temporary_error' };
  }
  // Google's step-up is invalid_grant with error_subtype invalid_rapt, which
  // its description repeats ("reauth related error (invalid_rapt)") for
  // libraries that pass on only the error and its description.
  if (STEP_UP.includes(code) || str('error_subtype') === 'invalid_rapt' || desc.includes('invalid_rapt') ||
      str('suberror') !== '' || (fields?.claims ?? null) !== null || entra('50076', '50079')) {
    return { outcome: 'interaction_required' };
  }
  if (DEAD_GRANT.includes(code)) return { outcome: 'reauthorize', reason: deadReason(desc, age) };
  if (code) return { outcome: 'configuration_error' };
  return { outcome: 'temporary_error' };
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED']);

/** isNetworkError: the request got no answer (reset, closed, timed out). */
export function isNetworkError(err) {
  for (let e = err, i = 0; e && i < 5; e = e.cause, i++) {
    if (NETWORK_CODES.has(e.code) || NETWORK_CODES.has(e.errno)) return true;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    if (typeof e.message === 'string' && /socket hang up|other side closed|fetch failed/i.test(e.message)) return true;
  }
  return false;
}

/**
 * oauthOutcome maps what a library reported about a failed token request to
 * an outcome: body is the OAuth error body when the library gives it, status
 * the HTTP status when it gives it, message its own words. Without either,
 * no answer was read: the request failed on the way (temporary) or the
 * library failed by itself (error).
 */
export function oauthOutcome({ body, status, message, err }) {
  const code = body && typeof body === 'object' ? body.error : undefined;
  const desc = body && typeof body === 'object' ? body.error_description : undefined;
  const detail = [code, desc].filter(Boolean).join(': ') || message || 'unknown failure';
  const full = message && code && !String(message).includes(code) ? `${message} (${detail})` : (message || detail);
  if (body === undefined && !status) return { ...libraryFailure(err), detail: full };
  return { ...tokenErrorOutcome({ status, body, age: grantAge() }), detail: full };
}

/**
 * unreadableAnswer is the outcome when the library read the token endpoint's
 * answer and found neither tokens nor an OAuth error in it (a body that is
 * not JSON, empty or cut short), and says so in its own words, without the
 * status: the table's last row, an answer with no error.
 */
export function unreadableAnswer(message) {
  return { ...tokenErrorOutcome({ age: grantAge() }), detail: message };
}

/** libraryFailure is the outcome of an error that carries no answer. */
export function libraryFailure(err) {
  const detail = String(err?.message ?? err);
  return { outcome: isNetworkError(err) ? 'temporary_error' : 'error', detail };
}

/** apiOutcome maps the API's HTTP status to an outcome. */
export function apiOutcome(status, statusText = '') {
  const detail = `the API answered ${status} ${statusText}`.trim();
  if (status >= 200 && status < 300) return { outcome: 'ok' };
  if (status === 401) return { outcome: 'unauthorized', detail };
  if (status === 429 || status >= 500) return { outcome: 'temporary_error', detail };
  return { outcome: 'error', detail };
}

/**
 * callApi GETs the API with send (a function returning a fetch Response),
 * reads the answer whole and maps it; an exception goes to failure.
 */
export async function callApi(send, failure) {
  let res;
  try {
    res = await send();
    await res.arrayBuffer();
  } catch (err) {
    return failure(err);
  }
  return apiOutcome(res.status, res.statusText);
}

// --- the loop -----------------------------------------------------------------

/**
 * serve writes the hello, then reads requests from stdin and serves each at
 * once (concurrently) with handlers[op](request), writing each response when
 * it is ready. handlers may have authorize, callback, call, logout, reload
 * and time; a missing one is refused with error. handlers.build, when given,
 * makes the library's client from the configuration: it runs once before the
 * first request is served and again on reload (the secret file changed), as
 * an operator's restart of the configuration would. serve never returns:
 * the process exits after answering shutdown (or at the end of stdin).
 */
export function serve(env, hello, { build, ...handlers }) {
  if (build) {
    let ready;
    const built = () => (ready ??= Promise.resolve().then(build));
    handlers = Object.fromEntries(Object.entries(handlers).map(([op, h]) => [op, async (req) => (await built(), h(req))]));
    handlers.reload = async () => {
      await built();
      await build();
      return {};
    };
  }
  const write = (v) => writeStdout(JSON.stringify(v) + '\n');
  // The clock is read before the hello: once the harness has it, it may move
  // the sim time (and the faketime file) at once.
  log(`${hello.name} ${hello.version}: starting; sim time ${env.start}, process clock ${new Date().toISOString()}`);
  if (tokenFiles.size > 0) log(`the adapter's glue keeps ${[...tokenFiles].join(', ')} in OAUTHSIM_STATE_DIR, plain JSON`);
  write(helloLine(hello));

  const inflight = new Set();
  const finish = () => Promise.allSettled([...inflight]);
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let shuttingDown = false;

  rl.on('line', (line) => {
    if (!line.trim()) return;
    let req;
    try {
      req = JSON.parse(line);
    } catch (err) {
      write({ id: '', error: 'not a request: ' + err.message });
      return;
    }
    if (req.op === 'shutdown') {
      shuttingDown = true;
      finish().then(() => writeStdout(JSON.stringify({ id: req.id }) + '\n', () => process.exit(0)));
      return;
    }
    checkClock(req);
    const p = handle(handlers, req).then((resp) => {
      if (resp.detail !== undefined) resp.detail = short(String(resp.detail));
      if (resp.error !== undefined) resp.error = short(String(resp.error));
      write({ ...resp, id: req.id });
    });
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  });
  rl.on('close', () => {
    if (!shuttingDown) finish().then(() => process.exit(0));
  });
}

async function handle(handlers, req) {
  const h = handlers[req.op];
  if (!h) {
    if (req.op === 'time') return {}; // clock:faketime: the process clock moved already
    return { error: `unknown op ${JSON.stringify(req.op)}` };
  }
  try {
    return (await h(req)) ?? {};
  } catch (err) {
    // An exception the adapter did not map is the adapter's bug for ops
    // without an outcome, and the library's failure for those with one.
    log(`${req.op} failed:`, err);
    if (['callback', 'call', 'logout'].includes(req.op)) return { outcome: 'error', detail: String(err?.message ?? err) };
    return { error: String(err?.message ?? err) };
  }
}

// checkClock warns (in the log) when the process clock, which libfaketime
// should set to the sim time, is far from the request's now.
function checkClock(req) {
  if (!req.now) return;
  const skew = Date.now() - Date.parse(req.now);
  if (Math.abs(skew) > 5000) log(`warning: the process clock is ${(skew / 1000).toFixed(1)} s off the sim time of request ${req.id} (${req.op}); is libfaketime loaded?`);
}
