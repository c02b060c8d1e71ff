#!/usr/bin/env node
// independent: a complete OAuth 2.0 client that speaks clients/PROTOCOL.md,
// written from the RFCs and the protocol, not from the Go reference token
// manager, and with a deliberately different policy: it refreshes only in
// the last 30 seconds of an access token's life (the last quarter of a
// shorter one's), or after the API's 401,
// where the reference refreshes 5 minutes ahead. Both are correct; a scenario
// or check that passes one and fails the other encodes one client's policy.
//
// Node 20 built-ins only. Usage: oauthsim conform --client-cmd "node clients/independent/independent.js"
//
// What it keeps (in OAUTHSIM_STATE_DIR, one file a tenant, each written
// atomically under a lock file of its own so that several processes can share
// it), sealed with AES-256-GCM under the current key of
// OAUTHSIM_STORAGE_KEY_FILE; the file names the key's id, and the id (with the
// file's name) is the AEAD's additional data:
//   grant:   the access token, its expiry (sim ms, null when unknown), the
//            refresh token, when the user authorized (for Google's testing-app
//            reason), when the tokens were obtained, and who the user is (the
//            verified id_token's sub);
//   dead:    why the grant is dead; no refresh is sent until a new authorization;
//   backoff: until when no token request may be sent, and how many failures in a row;
//   lost:    a refresh whose answer was lost, on a provider with a grace window:
//            the same refresh token may be retried only inside that window.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const readline = require('node:readline');

const MARGIN_MS = 30_000; // refresh when this close to expiry...
const MARGIN_SHARE = 4; // ...or within the last quarter of the token's lifetime, when that is shorter
const ID_TOKEN_LEEWAY_MS = 5 * 60_000; // the provider's clock may err: an id_token's exp is read with this leeway
const USABLE_SLACK_MS = 1_000; // an access token is still sent until 1 s before its expiry
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_CAP_MS = 5 * 60_000;
const HEADER_PAD_MS = 1_000; // header deadlines are whole seconds: never come back early
const GRACE_SAFETY_MS = 2_000; // retry a lost refresh only this well inside the grace window
const HTTP_TIMEOUT_MS = 5_000; // an op must answer within the harness's 20 s
const LOCK_STALE_MS = 15_000; // a lock older than any holder can hold it (or whose process died) is taken over
const LOCK_WAIT_MS = 12_000; // a waiter gives up (temporary_error) rather than break a live holder's lock

// ---------------------------------------------------------------- clock
// The sim time is the `now` of the latest request plus the monotonic time
// since it arrived: the sim clock runs at wall rate while an op is in flight.
// Date.now() is never used for an expiry or backoff decision.
let clockBase = { sim: Date.parse(process.env.OAUTHSIM_TIME || '') || 0, mono: process.hrtime.bigint() };
function setNow(iso) {
  const t = Date.parse(iso);
  if (Number.isFinite(t)) clockBase = { sim: t, mono: process.hrtime.bigint() };
}
function now() {
  return clockBase.sim + Number(process.hrtime.bigint() - clockBase.mono) / 1e6;
}
const iso = (ms) => new Date(ms).toISOString();

// ---------------------------------------------------------------- log
// stderr gets events and fingerprints, never a token or a secret.
const fp = (s) => (s ? crypto.createHash('sha256').update(s).digest('hex').slice(0, 8) : '-');
function log(msg) {
  process.stderr.write(`[independent ${process.pid} sim=${iso(now())}] ${msg}\n`);
}

// ---------------------------------------------------------------- outcomes
// The shared table of clients/adapters/README.md, written afresh. status is 0
// when unknown; body is the parsed JSON object, or a string when the answer
// was not JSON; ageHours is the grant's age since the user authorized.
function classifyTokenError(status, body, ageHours) {
  const o = body && typeof body === 'object' ? body : null;
  const code = o && typeof o.error === 'string' ? o.error : '';
  const desc = o && typeof o.error_description === 'string' ? o.error_description : '';
  const throttled = /AADSTS(50196|90055):/.test(desc); // Entra throttling inside invalid_grant
  if (status === 429 || status >= 500 || code === 'temporarily_unavailable' || code === 'slow_down' || throttled ||
      (status === 403 && !o)) { // Google's rate-limit page
    return { outcome: 'temporary_error' };
  }
  // Google's invalid_rapt comes as error_subtype, and in the description
  // ("reauth related error (invalid_rapt)") that every library passes on.
  if (['interaction_required', 'login_required', 'consent_required'].includes(code) ||
      (o && (o.error_subtype === 'invalid_rapt' || 'suberror' in o || 'claims' in o)) || desc.includes('invalid_rapt') ||
      /AADSTS(50076|50079):/.test(desc)) {
    return { outcome: 'interaction_required' };
  }
  if (['invalid_grant', 'bad_refresh_token', 'invalid_refresh_token', 'token_revoked'].includes(code)) {
    return { outcome: 'reauthorize', reason: deadReason(desc, ageHours) };
  }
  if (code) return { outcome: 'configuration_error' };
  return { outcome: 'temporary_error' }; // no error code: HTML, empty, cut short
}

// deadReason is what the user is told; the decision rests on the code.
function deadReason(description, ageHours) {
  const d = description.toLowerCase();
  if (d.includes('reuse')) return 'reuse_detected';
  // Google says only "Token has been expired or revoked." when a testing
  // app's 7-day grant ends: in the grant's eighth day, that is the cause.
  if (d.includes('expired or revoked') && ageHours >= 168 && ageHours < 192) return 'testing_app_expired';
  if (d.includes('aadsts700082') || d.includes('aadsts700084') || d.includes('inactiv')) return 'expired';
  if (d.includes('aadsts50173') || d.includes('revoked')) return 'revoked';
  if (d.includes('expired')) return 'expired';
  return 'unknown';
}

function apiOutcome(status) {
  if (status >= 200 && status < 300) return { outcome: 'ok' };
  if (status === 401) return { outcome: 'unauthorized', detail: 'the API answered 401' };
  if (status === 429 || status >= 500) return { outcome: 'temporary_error', detail: `the API answered ${status}` };
  return { outcome: 'error', detail: `the API answered ${status}` };
}

// ---------------------------------------------------------------- sealed storage
// What the client keeps is sealed with AES-256-GCM (NIST SP 800-38D) under a
// key of OAUTHSIM_STORAGE_KEY_FILE, which lives outside the state directory:
// a key kept beside the ciphertext would protect nothing. The file's format is
// PROTOCOL.md's "Storage keys": one key a line, `ID BASE64`, the current
// first, older ones after it, newest first.

// StorageError: the state cannot be kept or read (no key file, a malformed
// one, a state sealed under a key the file no longer holds, a tampered file).
// An op that meets one answers `error` with its message; the loop goes on.
class StorageError extends Error {
  constructor(message, unknownKid) { super(message); this.unknownKid = unknownKid || null; }
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const KEY_B64 = /^[A-Za-z0-9+/]{43}=$/; // 32 bytes, standard base64 with its padding
const SEALED = 'independent-state/1';
const ALG = 'A256GCM';

// parseStorageKeys reads the key file's content into [{id, key}], the current
// key first. Its messages name lines and ids, never key material.
function parseStorageKeys(content) {
  if (typeof content !== 'string' || content.trim() === '') throw new StorageError('storage key file: no key');
  const keys = [];
  const seen = new Set();
  content.replace(/\n+$/, '').split('\n').forEach((line, i) => {
    const sp = line.indexOf(' ');
    const id = sp < 0 ? line : line.slice(0, sp);
    if (sp < 0 || !KEY_ID.test(id)) {
      throw new StorageError(`storage key file, line ${i + 1}: want an id (A-Z a-z 0-9 . _ -, 1 to 64 characters), a space and a base64 key`);
    }
    if (!KEY_B64.test(line.slice(sp + 1))) throw new StorageError(`storage key file, line ${i + 1} (key ${id}): the key must be 32 bytes in standard base64`);
    if (seen.has(id)) throw new StorageError(`storage key file, line ${i + 1}: key id ${id} comes twice`);
    seen.add(id);
    keys.push({ id, key: Buffer.from(line.slice(sp + 1), 'base64') });
  });
  return keys;
}

// The additional data binds the key id (a file cannot be made to name another
// key than it was sealed with) and the file's name (one tenant's state cannot
// be passed off as another's).
const aad = (kid, label) => Buffer.from(`${SEALED}\nalg=${ALG}\nkid=${kid}\nfile=${label}`, 'utf8');

// seal encrypts obj under the current key (keys[0]): a JSON envelope naming
// the key's id, a fresh 96-bit nonce, the ciphertext and the tag.
function seal(keys, label, obj) {
  const { id, key } = keys[0];
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  c.setAAD(aad(id, label));
  const data = Buffer.concat([c.update(JSON.stringify(obj), 'utf8'), c.final()]);
  return JSON.stringify({ sealed: SEALED, alg: ALG, kid: id, iv: iv.toString('base64url'), data: data.toString('base64url'), tag: c.getAuthTag().toString('base64url') }) + '\n';
}

// open decrypts an envelope seal wrote, with whichever key of keys it names.
// It answers { state, kid }, or throws a StorageError (unknownKid set when the
// envelope names a key keys lacks).
function open(keys, label, text) {
  let box;
  try { box = JSON.parse(text); } catch { box = null; }
  if (!box || box.sealed !== SEALED || box.alg !== ALG || typeof box.kid !== 'string' ||
      typeof box.iv !== 'string' || typeof box.data !== 'string' || typeof box.tag !== 'string') {
    throw new StorageError(`${label} is not a state this client sealed`);
  }
  const k = keys.find((x) => x.id === box.kid);
  if (!k) throw new StorageError(`${label} is sealed under key ${JSON.stringify(box.kid).slice(0, 70)}, which the storage key file does not hold`, box.kid);
  try {
    const d = crypto.createDecipheriv('aes-256-gcm', k.key, Buffer.from(box.iv, 'base64url'), { authTagLength: 16 }); // a full tag: no truncated one
    d.setAAD(aad(box.kid, label));
    d.setAuthTag(Buffer.from(box.tag, 'base64url'));
    const plain = Buffer.concat([d.update(Buffer.from(box.data, 'base64url')), d.final()]).toString('utf8');
    return { state: JSON.parse(plain), kid: box.kid };
  } catch {
    throw new StorageError(`${label} does not open under key ${box.kid}: altered, or sealed for another file`);
  }
}

if (require.main !== module) {
  module.exports = { classifyTokenError, apiOutcome, deadReason, parseStorageKeys, seal, open, StorageError };
  return; // loaded by selfcheck.js: the classifier and the sealing only
}

// ---------------------------------------------------------------- configuration
const env = {
  issuer: process.env.OAUTHSIM_ISSUER || '',
  resource: process.env.OAUTHSIM_RESOURCE || '',
  scopes: (process.env.OAUTHSIM_SCOPES || '').split(/\s+/).filter(Boolean),
  offline: process.env.OAUTHSIM_OFFLINE_ACCESS || 'scope',
  stateDir: process.env.OAUTHSIM_STATE_DIR || '.',
  keyFile: process.env.OAUTHSIM_STORAGE_KEY_FILE || '',
};

// ConfigError: a request names no tenant this process serves, or
// OAUTHSIM_TENANTS does not parse. The op answers `error`; the loop goes on.
class ConfigError extends Error {}

// A tenant is one client registration with everything of its own: its
// credentials, its state file and lock, its single-flight refresh, its
// authorizations under way, its client-credentials token. Nothing of one
// tenant's grant is ever sent with another's credentials.
function makeTenant(name, clientId, secretFile, redirectUri, rotation, graceSeconds, fileTag) {
  return {
    name, clientId, secretFile, redirectUri,
    rotation: rotation || 'rotate',
    graceMs: (Number.isFinite(graceSeconds) && graceSeconds > 0 ? graceSeconds : 0) * 1000,
    stateFile: path.join(env.stateDir, `independent-state${fileTag}.json`),
    lockFile: path.join(env.stateDir, `independent${fileTag}.lock`),
    secret: undefined,
    inflight: null, // { stale, promise }: the refresh under way
    pending: new Map(), // state -> { verifier, nonce } of an authorization under way
    service: null, serviceInflight: null,
  };
}

// loadTenants: without OAUTHSIM_TENANTS, the one registration of the other
// variables; with it, one tenant an entry, the first the default, each kept in
// a file named after it (a name unfit for a file name is hashed).
let tenantsError = null;
function loadTenants() {
  const raw = process.env.OAUTHSIM_TENANTS;
  if (!raw) {
    return [makeTenant('', process.env.OAUTHSIM_CLIENT_ID || '', process.env.OAUTHSIM_CLIENT_SECRET_FILE || '',
      process.env.OAUTHSIM_REDIRECT_URI || '', process.env.OAUTHSIM_REFRESH_ROTATION,
      Number.parseInt(process.env.OAUTHSIM_REFRESH_GRACE || '0', 10), '')];
  }
  let list;
  try { list = JSON.parse(raw); } catch { list = null; }
  const names = new Set();
  const bad = !Array.isArray(list) || list.length === 0 || list.some((x) => !x || typeof x !== 'object' ||
    typeof x.name !== 'string' || !x.name || names.has(x.name) || !names.add(x.name) ||
    typeof x.client_id !== 'string' || !x.client_id || typeof x.redirect_uri !== 'string' ||
    (x.client_secret_file !== undefined && typeof x.client_secret_file !== 'string'));
  if (bad) {
    tenantsError = 'OAUTHSIM_TENANTS is not a JSON array of tenants, each with a distinct name, a client_id and a redirect_uri';
    log(tenantsError);
    return [];
  }
  return list.map((x) => {
    const tag = KEY_ID.test(x.name) ? x.name : 'h' + crypto.createHash('sha256').update(x.name).digest('hex').slice(0, 16);
    return makeTenant(x.name, x.client_id, x.client_secret_file || '', x.redirect_uri, x.refresh_rotation,
      Number(x.refresh_grace) || 0, `.tenant-${tag}`);
  });
}
const tenants = loadTenants();

// tenantFor: the tenant a request names, or the first.
function tenantFor(req) {
  if (tenantsError) throw new ConfigError(tenantsError);
  if (req.tenant === undefined || req.tenant === null || req.tenant === '') return tenants[0];
  const t = tenants.find((x) => x.name === req.tenant);
  if (!t) throw new ConfigError(`no tenant named ${JSON.stringify(String(req.tenant)).slice(0, 80)}`);
  return t;
}

// The client secret is read from its file for every token request (and on
// reload), so a rotated secret is used at once.
function readSecret(t) {
  if (!t.secretFile) return (t.secret = undefined);
  try { t.secret = fs.readFileSync(t.secretFile, 'utf8').trim(); } catch (err) { log(`secret file of ${who(t)} unreadable: ${err.code}`); }
  return t.secret;
}
const who = (t) => (t.name ? `tenant ${JSON.stringify(t.name)}` : 'the client');

// ---------------------------------------------------------------- storage keys
// The key file is read at start and on storage_key, and once more when a state
// names a key this process has not seen (another process of the run was told
// of a rotation first). Until it reads well, what needs the state fails with
// the reason.
let keyring = null;
let keyringError = 'not read yet';
function loadKeys() {
  if (!env.keyFile) {
    keyring = null;
    keyringError = 'OAUTHSIM_STORAGE_KEY_FILE is not set, and this client keeps nothing unencrypted';
  } else {
    try {
      keyring = parseStorageKeys(fs.readFileSync(env.keyFile, 'utf8'));
      keyringError = null;
      log(`storage keys: current ${keyring[0].id}, ${keyring.length - 1} older`);
      return true;
    } catch (err) {
      keyring = null;
      keyringError = err instanceof StorageError ? err.message : `the storage key file is unreadable (${err.code || err.message})`;
    }
  }
  log(`no storage key: ${keyringError}`);
  return false;
}
function keys() {
  if (!keyring) throw new StorageError(`cannot keep or read tokens: ${keyringError}`);
  return keyring;
}

// ---------------------------------------------------------------- state
// readState answers the tenant's state ({} when none was kept); meta.kid gets
// the id of the key it was sealed with. A state that cannot be read is a
// StorageError, never an empty state: that would forget a live grant and
// overwrite it at the next save.
function readState(t, meta) {
  let text;
  try { text = fs.readFileSync(t.stateFile, 'utf8'); } catch (err) {
    if (err.code === 'ENOENT') return {};
    throw new StorageError(`${path.basename(t.stateFile)} is unreadable (${err.code})`);
  }
  let opened;
  try {
    opened = open(keys(), path.basename(t.stateFile), text);
  } catch (err) {
    if (!(err instanceof StorageError && err.unknownKid) || !loadKeys()) throw err;
    log(`${path.basename(t.stateFile)} is sealed under key ${err.unknownKid}: read the key file again`);
    opened = open(keys(), path.basename(t.stateFile), text);
  }
  if (meta) meta.kid = opened.kid;
  return opened.state && typeof opened.state === 'object' ? opened.state : {};
}
// writeState seals st under the current key, then: a temporary file, fsync,
// rename, fsync of the directory; a crash leaves the old state or the new
// one, never half of either.
function writeState(t, st) {
  const text = seal(keys(), path.basename(t.stateFile), st);
  const tmp = `${t.stateFile}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try { fs.writeSync(fd, text); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  fs.renameSync(tmp, t.stateFile);
  try { const d = fs.openSync(env.stateDir, 'r'); fs.fsyncSync(d); fs.closeSync(d); } catch { /* best effort */ }
}

class LockBusy extends Error { constructor() { super('another process holds the token lock'); } }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pidAlive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };

// withLock runs fn holding the tenant's lock file in the state directory,
// shared by every process of the run. Waiting here is waiting for a peer's refresh to land,
// not a backoff: the peer's result is what this process then uses.
async function withLock(t, fn) {
  const mine = `${process.pid} ${crypto.randomBytes(6).toString('hex')}`;
  const give_up = process.hrtime.bigint() + BigInt(LOCK_WAIT_MS) * 1_000_000n;
  for (;;) {
    try {
      const fd = fs.openSync(t.lockFile, 'wx', 0o600);
      fs.writeSync(fd, mine); fs.closeSync(fd);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // The lock's age is wall time (file mtime): it measures how long a
      // holder has held it, not anything on the sim clock.
      let holder = '', age = 0;
      try { holder = fs.readFileSync(t.lockFile, 'utf8'); age = Date.now() - fs.statSync(t.lockFile).mtimeMs; } catch { continue; }
      const pid = Number.parseInt(holder, 10);
      const stale = (pid && pid !== process.pid && !pidAlive(pid)) || age > LOCK_STALE_MS;
      if (!stale && process.hrtime.bigint() > give_up) throw new LockBusy();
      if (stale) {
        log(`taking over a stale lock (holder ${pid}, ${Math.round(age)} ms old)`);
        try { if (fs.readFileSync(t.lockFile, 'utf8') === holder) fs.unlinkSync(t.lockFile); } catch { /* gone already */ }
        continue;
      }
      await sleep(5);
    }
  }
  try { return await fn(); } finally {
    try { if (fs.readFileSync(t.lockFile, 'utf8') === mine) fs.unlinkSync(t.lockFile); } catch { /* taken over */ }
  }
}

// ---------------------------------------------------------------- HTTP
let metadata;
async function discover() {
  if (metadata) return metadata;
  const res = await fetch(new URL('/.well-known/oauth-authorization-server', env.issuer), { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  return (metadata = await res.json());
}

// form-urlencode for HTTP Basic, as RFC 6749 §2.3.1 asks.
const formEncode = (s) => encodeURIComponent(s).replace(/%20/g, '+');

// tokenPost sends one token-endpoint request. It answers {status, headers,
// body, text, receivedAt} or {noAnswer: message} when no answer came back
// (refused, reset, closed, timed out).
async function tokenPost(t, params) {
  const md = await discover();
  const s = readSecret(t);
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const form = new URLSearchParams(params);
  if (s !== undefined) headers.authorization = 'Basic ' + Buffer.from(`${formEncode(t.clientId)}:${formEncode(s)}`).toString('base64');
  else form.set('client_id', t.clientId);
  return post(md.token_endpoint, headers, form, s);
}

async function post(url, headers, form, usedSecret) {
  let res, text;
  try {
    res = await fetch(url, { method: 'POST', headers, body: form.toString(), signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    text = await res.text();
  } catch (err) {
    return { noAnswer: String(err.cause?.code || err.cause?.message || err.message) };
  }
  let body = text;
  try { body = JSON.parse(text); } catch { /* not JSON, whatever the label */ }
  if (body === null || typeof body !== 'object') body = text;
  return { status: res.status, headers: res.headers, body, text, receivedAt: now(), usedSecret };
}

// tokenRequest is tokenPost, retried once with the secret file as it is now
// when the provider refuses the client (invalid_client) and the file holds
// another secret than the one sent.
async function tokenRequest(t, params) {
  let res = await tokenPost(t, params);
  if (!res.noAnswer && res.body?.error === 'invalid_client' && t.secretFile) {
    const sent = res.usedSecret;
    if (readSecret(t) !== sent) {
      log(`invalid_client: the secret file of ${who(t)} changed, retrying once with it`);
      res = await tokenPost(t, params);
    }
  }
  return res;
}

// errorDetail describes an error answer for a response's detail. Error
// answers carry no tokens, but their description is the provider's free
// text: any token or secret this client holds that it might echo is
// replaced by its fingerprint.
function errorDetail(t, res) {
  if (res.noAnswer) return `no answer from the token endpoint (${res.noAnswer})`;
  const o = typeof res.body === 'object' ? res.body : {};
  const parts = [`HTTP ${res.status}`];
  if (o.error) parts.push(o.error + (o.error_description ? `: ${String(o.error_description).slice(0, 300)}` : ''));
  else parts.push(`unreadable answer (${(res.text || '').length} bytes)`);
  return scrub(t, parts.join(' '));
}

function scrub(t, text) {
  let g = {};
  try { g = readState(t).grant || {}; } catch { /* unreadable: scrub what is in memory */ }
  const held = [g.access_token, g.refresh_token];
  for (const x of tenants) held.push(x.secret, x.service?.access_token);
  for (const v of held) {
    if (typeof v === 'string' && v.length >= 4) text = text.split(v).join(`[${fp(v)}]`);
  }
  return text;
}

// parseExpiresIn tolerates "3600" and 3599.5; anything else is unknown (null).
function parseExpiresIn(v) {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}

// tokensOf reads a successful token answer, or null when it holds none
// (GitHub's and Slack's errors come with HTTP 200).
function tokensOf(res) {
  if (res.noAnswer || res.status < 200 || res.status >= 300) return null;
  const o = res.body;
  if (!o || typeof o !== 'object' || o.error || o.ok === false) return null;
  if (typeof o.access_token !== 'string' || o.access_token === '') return null;
  return o;
}

// ---------------------------------------------------------------- backoff
// headerDelay reads how long the answer asks the client to wait: Retry-After
// in seconds or as an HTTP-date, else Okta's X-Rate-Limit-Reset or Auth0's
// X-RateLimit-Reset (epoch seconds). Dates are on the provider's clock, so
// they are read against its Date header, not against ours.
function headerDelay(h, receivedAt) {
  if (!h) return null;
  const date = Date.parse(h.get('date') || '');
  const providerNow = Number.isFinite(date) ? date : receivedAt; // without a Date header, ours is all there is
  const ra = (h.get('retry-after') || '').trim();
  if (/^\d+$/.test(ra)) return Number(ra) * 1000;
  if (/[a-z]/i.test(ra) && Number.isFinite(Date.parse(ra))) return Date.parse(ra) - providerNow;
  for (const k of ['x-rate-limit-reset', 'x-ratelimit-reset']) {
    const v = (h.get(k) || '').trim();
    if (/^\d+$/.test(v)) return Number(v) * 1000 - providerNow;
  }
  return null;
}

// backOff records a failed token request in st: the provider's deadline when
// it gave one, else 1 s doubling per failure in a row, capped, with jitter.
function backOff(st, res) {
  const failures = (st.backoff?.failures || 0) + 1;
  const at = res.receivedAt ?? now();
  const fromHeader = res.noAnswer ? null : headerDelay(res.headers, at);
  let delay;
  if (fromHeader !== null) delay = Math.max(0, fromHeader) + HEADER_PAD_MS;
  else delay = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** Math.min(failures - 1, 20) * (1 + Math.random() / 2));
  st.backoff = { until: at + delay, failures };
  log(`token endpoint failed (${res.noAnswer ? 'no answer' : res.status}); no token request before ${iso(st.backoff.until)}`);
}

const inBackoff = (st) => st.backoff && now() < st.backoff.until;
const backoffFail = (st) => ({ outcome: 'temporary_error', detail: `backing off: no token request before ${iso(st.backoff.until)}` });

// ---------------------------------------------------------------- the grant
// margin: how long before its expiry an access token is refreshed: 30 s,
// or a quarter of its lifetime when that is shorter (a 60 s token is not
// refreshed at every call).
const margin = (g) => (g.lifetime_ms > 0 ? Math.min(MARGIN_MS, g.lifetime_ms / MARGIN_SHARE) : MARGIN_MS);
const fresh = (g) => !!g?.access_token && (g.expires_at == null || now() < g.expires_at - margin(g));
const usable = (g) => !!g?.access_token && (g.expires_at == null || now() < g.expires_at - USABLE_SLACK_MS);
const reauth = (reason, detail) => ({ outcome: 'reauthorize', reason, ...(detail ? { detail } : {}) });

// grantFrom builds the stored grant from a token answer; the refresh token
// is kept when the answer carries none (RFC 6749 §6), and so are when the
// user consented and who the user is (the id_token's sub).
function grantFrom(tok, sentAt, previous) {
  const ei = parseExpiresIn(tok.expires_in);
  const rt = typeof tok.refresh_token === 'string' && tok.refresh_token ? tok.refresh_token : null;
  return {
    access_token: tok.access_token,
    refresh_token: rt ?? previous?.refresh_token ?? null,
    expires_at: ei === null ? null : sentAt + ei * 1000, // from when the request was sent: never later than the provider's
    lifetime_ms: ei === null ? null : ei * 1000,
    authorized_at: previous?.authorized_at ?? sentAt, // the consent that gave the refresh token
    obtained_at: sentAt,
    sub: previous?.sub ?? null,
  };
}

// Single flight in the process: concurrent callers share one refresh. A
// caller that joins a refresh of the same stale token takes its result,
// whatever it was; one whose token is another (it got a 401 on the token the
// refresh just brought) starts or joins the next one.
async function refreshShared(t, stale) {
  if (t.inflight) {
    const joined = t.inflight;
    const r = await joined.promise;
    if (joined.stale === stale || (r.grant?.access_token && r.grant.access_token !== stale)) return r;
  }
  if (!t.inflight) {
    const mine = { stale };
    mine.promise = withLock(t, () => refreshLocked(t, stale)).finally(() => { if (t.inflight === mine) t.inflight = null; });
    t.inflight = mine;
  }
  return t.inflight.promise;
}

// refreshLocked refreshes the grant whose access token `stale` is no longer
// good, holding the lock. It answers {grant} (the stored grant after it: new
// tokens, or another process's, or the old one when the refresh failed) and
// fail, the outcome to give when that grant's access token cannot serve.
async function refreshLocked(t, stale) {
  const st = readState(t); // another process may have refreshed meanwhile
  const g = st.grant;
  if (!g) return { fail: reauth(st.dead?.reason || 'no_grant', st.dead?.detail) };
  if (g.access_token && g.access_token !== stale && fresh(g)) return { grant: g };
  if (st.dead) return { grant: g, fail: reauth(st.dead.reason, st.dead.detail) };
  if (!g.refresh_token) return { grant: g, fail: reauth('no_refresh_token', 'the access token expired and there is no refresh token') };
  if (inBackoff(st)) return { grant: g, fail: backoffFail(st) };
  const rtfp = fp(g.refresh_token);
  if (st.lost && st.lost.rt === rtfp && now() >= st.lost.first + t.graceMs - GRACE_SAFETY_MS) {
    // The answer to a refresh with this token was lost and the provider's
    // grace window for it is over: it is superseded, and sending it again
    // would be reuse. The rotated-into token never reached us.
    return { grant: g, fail: markDead(t, st, 'lost_refresh_response', 'a refresh answer was lost and the grace window for a retry is over', true) };
  }
  const sentAt = now();
  log(`refresh with rt ${rtfp}`);
  const res = await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: g.refresh_token });
  const tok = tokensOf(res);
  if (tok) {
    st.grant = grantFrom(tok, sentAt, g);
    st.backoff = null; st.lost = null;
    writeState(t, st); // persisted before the new access token is used
    log(`refreshed: at ${fp(st.grant.access_token)} rt ${fp(st.grant.refresh_token)} expires ${st.grant.expires_at ? iso(st.grant.expires_at) : 'unknown'}`);
    return { grant: st.grant };
  }
  // Served but lost: no answer at all, or a 2xx we cannot read. The provider
  // may have rotated the refresh token into one we never saw.
  if (res.noAnswer || (res.status >= 200 && res.status < 300 && !(typeof res.body === 'object' && (res.body.error || res.body.ok === false)))) {
    backOff(st, res);
    const detail = errorDetail(t, res);
    if (t.rotation === 'none' || t.rotation === 'rotate_keep_old') {
      // The old refresh token stays valid: an ordinary transient failure.
    } else if (t.rotation === 'rotate_with_grace' && t.graceMs > 0) {
      if (!st.lost || st.lost.rt !== rtfp) st.lost = { rt: rtfp, first: sentAt };
      log(`refresh answer lost; retry allowed until ${iso(st.lost.first + t.graceMs)}`);
    } else {
      return { grant: g, fail: markDead(t, st, 'lost_refresh_response', `the refresh answer was lost and the provider keeps no grace window: ${detail}`, true) };
    }
    writeState(t, st);
    return { grant: g, fail: { outcome: 'temporary_error', detail } };
  }
  const age = (now() - (g.authorized_at ?? now())) / 3_600_000;
  const verdict = classifyTokenError(res.status, res.body, age);
  const detail = errorDetail(t, res);
  switch (verdict.outcome) {
    case 'temporary_error':
      backOff(st, res);
      writeState(t, st);
      return { grant: g, fail: { outcome: 'temporary_error', detail } };
    case 'reauthorize':
      return { fail: markDead(t, st, verdict.reason, detail, false) };
    default: // interaction_required, configuration_error: the grant lives
      if (st.backoff) { st.backoff = null; writeState(t, st); }
      return { grant: g, fail: { outcome: verdict.outcome, detail } };
  }
}

// markDead records a dead grant. keepAccess: the access token still works
// until it expires (a lost answer); after invalid_grant it is dropped.
function markDead(t, st, reason, detail, keepAccess) {
  log(`grant dead: ${reason}`);
  st.dead = { reason, detail, at: now() };
  if (!keepAccess && st.grant) st.grant.access_token = null;
  st.backoff = null;
  writeState(t, st);
  return reauth(reason, detail);
}

async function getResource(accessToken) {
  try {
    const res = await fetch(env.resource, { headers: { authorization: `Bearer ${accessToken}` }, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    await res.arrayBuffer();
    return { status: res.status };
  } catch (err) {
    return { noAnswer: String(err.cause?.code || err.message) };
  }
}

// ---------------------------------------------------------------- ops
async function opCall(req) {
  const t = tenantFor(req);
  const st = readState(t);
  let g = st.grant;
  if (!g) return reauth(st.dead?.reason || 'no_grant', st.dead?.detail);
  let refreshed = false;
  if (!fresh(g)) {
    const r = await refreshShared(t, g.access_token);
    if (r.grant && usable(r.grant)) {
      refreshed = r.grant.access_token !== g.access_token;
      g = r.grant; // new tokens, or the current ones while they last
    } else {
      return r.fail || reauth('unknown');
    }
  }
  let api = await getResource(g.access_token);
  if (api.status === 401 && !refreshed) {
    // The provider refused a token we thought good (revoked, skewed clock,
    // no expires_in): refresh and send the request once more.
    log(`API 401 with at ${fp(g.access_token)}: refreshing`);
    const r = await refreshShared(t, g.access_token);
    if (!(r.grant && r.grant.access_token !== g.access_token && usable(r.grant))) {
      return r.fail || { outcome: 'unauthorized', detail: 'the API refused the access token and no other could be had' };
    }
    api = await getResource(r.grant.access_token);
  }
  if (api.noAnswer) return { outcome: 'temporary_error', detail: `no answer from the API (${api.noAnswer})` };
  return apiOutcome(api.status);
}

// ---------------------------------------------------------------- id_token
// verifyIdToken checks an id_token as OpenID Connect Core §3.1.3.7 asks: its
// signature against the provider's JWKS (discovery's jwks_uri), iss, aud
// (and azp), exp on the sim clock with some leeway for the provider's clock,
// and the nonce the authorization sent. It answers the claims, or throws an
// Error whose message says what was wrong (never a token).
let jwks = null; // { keys: [...] } as last fetched
async function fetchJwks() {
  const md = await discover();
  if (!md.jwks_uri) throw new Error('the provider publishes no jwks_uri');
  const res = await fetch(md.jwks_uri, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`the JWKS answered ${res.status}`);
  const set = await res.json();
  if (!set || !Array.isArray(set.keys)) throw new Error('the JWKS holds no keys');
  return (jwks = set);
}

const JWS_ALGS = {
  RS256: { hash: 'sha256', kty: 'RSA' }, RS384: { hash: 'sha384', kty: 'RSA' }, RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: 32 }, PS384: { hash: 'sha384', kty: 'RSA', pss: 48 }, PS512: { hash: 'sha512', kty: 'RSA', pss: 64 },
  ES256: { hash: 'sha256', kty: 'EC' }, ES384: { hash: 'sha384', kty: 'EC' }, ES512: { hash: 'sha512', kty: 'EC' },
  EdDSA: { hash: null, kty: 'OKP' },
};

function pickKey(set, header, kty) {
  const keys = set.keys.filter((k) => k && k.kty === kty && (!k.use || k.use === 'sig') && (!k.alg || k.alg === header.alg));
  if (header.kid !== undefined) return keys.find((k) => k.kid === header.kid) || null;
  return keys.length === 1 ? keys[0] : null;
}

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

async function verifyIdToken(t, idToken, nonce) {
  const parts = idToken.split('.');
  if (parts.length !== 3) throw new Error('the id_token is not a signed JWT');
  let header, claims;
  try { header = b64json(parts[0]); claims = b64json(parts[1]); } catch { throw new Error('the id_token does not decode'); }
  if (!header || !claims || typeof claims !== 'object') throw new Error('the id_token does not decode');
  const alg = JWS_ALGS[header.alg];
  if (!alg) throw new Error(`the id_token is signed with ${JSON.stringify(String(header.alg)).slice(0, 20)}, which is not accepted`);
  let jwk = jwks && pickKey(jwks, header, alg.kty);
  if (!jwk) jwk = pickKey(await fetchJwks(), header, alg.kty); // a key rotated in since the last fetch
  if (!jwk) throw new Error('no key of the provider\'s JWKS matches the id_token\'s');
  let key;
  try { key = crypto.createPublicKey({ key: jwk, format: 'jwk' }); } catch (err) { throw new Error(`the provider's key does not import: ${err.message}`); }
  const opts = { key };
  if (alg.pss) Object.assign(opts, { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.pss });
  if (alg.kty === 'EC') opts.dsaEncoding = 'ieee-p1363';
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  if (!crypto.verify(alg.hash, signed, opts, Buffer.from(parts[2], 'base64url'))) throw new Error('the id_token\'s signature does not verify');
  const md = await discover();
  if (claims.iss !== (md.issuer || env.issuer)) throw new Error('the id_token\'s iss is not the provider\'s issuer');
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(t.clientId)) throw new Error('the id_token\'s aud does not name this client');
  if (aud.length > 1 && claims.azp !== undefined && claims.azp !== t.clientId) throw new Error('the id_token\'s azp is another client');
  if (typeof claims.exp !== 'number' || now() >= claims.exp * 1000 + ID_TOKEN_LEEWAY_MS) throw new Error('the id_token has expired');
  if (claims.nonce !== nonce) throw new Error('the id_token\'s nonce is not the one the authorization sent');
  if (typeof claims.sub !== 'string' || !claims.sub) throw new Error('the id_token names no subject');
  return claims;
}

// ---------------------------------------------------------------- authorization
// t.pending: state -> the PKCE verifier and nonce of an authorization under
// way for tenant t. A state is spent by its first callback, whatever comes of
// it; a callback for another tenant than the authorization's is refused.
const oidc = env.scopes.includes('openid');
async function opAuthorize(req) {
  const t = tenantFor(req);
  const md = await discover();
  const verifier = crypto.randomBytes(32).toString('base64url');
  const state = crypto.randomBytes(16).toString('base64url');
  const nonce = oidc ? crypto.randomBytes(16).toString('base64url') : null;
  t.pending.set(state, { verifier, nonce });
  const scopes = env.offline === 'scope' ? [...env.scopes, 'offline_access'] : env.scopes;
  const u = new URL(md.authorization_endpoint);
  const q = {
    response_type: 'code', client_id: t.clientId, redirect_uri: t.redirectUri, scope: scopes.join(' '), state,
    code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    ...(nonce ? { nonce } : {}),
    ...(env.offline === 'access_type' ? { access_type: 'offline' } : {}),
  };
  for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
  return { url: u.href };
}

async function opCallback(req) {
  const t = tenantFor(req);
  let u;
  try { u = new URL(req.url); } catch { return { outcome: 'error', detail: 'the callback URL does not parse' }; }
  const state = u.searchParams.get('state');
  const pending = state && t.pending.get(state);
  if (!pending) return { outcome: 'error', detail: 'the callback state matches no authorization under way (forged, or already used)' };
  t.pending.delete(state);
  const err = u.searchParams.get('error');
  if (err) {
    const v = classifyTokenError(0, { error: err, error_description: u.searchParams.get('error_description') || '' }, 0);
    return { outcome: v.outcome === 'interaction_required' ? v.outcome : 'error', detail: `authorization refused: ${err}` };
  }
  const code = u.searchParams.get('code');
  if (!code) return { outcome: 'error', detail: 'the callback carries no code' };
  keys(); // no code is redeemed whose tokens could not be kept
  return withLock(t, async () => {
    const st = readState(t);
    if (inBackoff(st)) return backoffFail(st);
    const sentAt = now();
    const res = await tokenRequest(t, { grant_type: 'authorization_code', code, redirect_uri: t.redirectUri, code_verifier: pending.verifier });
    const tok = tokensOf(res);
    if (!tok) {
      if (res.noAnswer || res.status === 429 || res.status >= 500) { backOff(st, res); writeState(t, st); }
      const v = res.noAnswer ? { outcome: 'temporary_error' } : classifyTokenError(res.status, res.body, 0);
      return { outcome: v.outcome, ...(v.reason ? { reason: v.reason } : {}), detail: errorDetail(t, res) };
    }
    // Who signed in: the id_token, verified, when the authorization sent a
    // nonce. An answer whose id_token fails is refused whole: nothing of it
    // is kept. (A provider that answers openid without an id_token is taken
    // as plain OAuth 2.0: no user is known then.)
    let sub = null;
    if (pending.nonce && typeof tok.id_token === 'string') {
      try {
        sub = (await verifyIdToken(t, tok.id_token, pending.nonce)).sub;
      } catch (e) {
        log(`authorization refused: ${e.message}`);
        return { outcome: 'error', detail: `the sign-in was refused: ${e.message}` };
      }
    }
    // A new authorization: a new grant, alive. Google sends a refresh token
    // only at a user's first consent: a later sign-in of the same user (the
    // same sub) comes without one, and the one held stays good, so it is
    // kept, with when it was consented. Another user's is never inherited,
    // nor one the provider has said is dead.
    const prev = st.grant;
    const inherit = !(typeof tok.refresh_token === 'string' && tok.refresh_token) && !!prev?.refresh_token && !st.dead &&
      sub !== null && prev.sub === sub;
    const grant = grantFrom(tok, sentAt, inherit ? prev : null);
    grant.sub = sub;
    writeState(t, { grant, dead: null, backoff: null, lost: null });
    log(`authorized ${who(t)}: at ${fp(tok.access_token)} rt ${fp(grant.refresh_token)}${inherit ? ' (kept: same user, no new one)' : ''} sub ${fp(sub)}`);
    return { outcome: 'ok' };
  });
}

// logout revokes the refresh token (RFC 7009) and forgets the grant even
// when the revocation fails.
async function opLogout(req) {
  const t = tenantFor(req);
  return withLock(t, async () => {
    const st = readState(t);
    const g = st.grant;
    const token = g?.refresh_token || g?.access_token;
    if (token) {
      try {
        const md = await discover();
        if (md.revocation_endpoint) {
          const s = readSecret(t);
          const headers = { 'content-type': 'application/x-www-form-urlencoded' };
          const form = new URLSearchParams({ token, token_type_hint: g.refresh_token ? 'refresh_token' : 'access_token' });
          if (s !== undefined) headers.authorization = 'Basic ' + Buffer.from(`${formEncode(t.clientId)}:${formEncode(s)}`).toString('base64');
          else form.set('client_id', t.clientId);
          const res = await post(md.revocation_endpoint, headers, form, s);
          log(`revocation: ${res.noAnswer ? 'no answer' : res.status}`);
        }
      } catch (err) { log(`revocation failed: ${err.message}`); }
    }
    writeState(t, { grant: null, dead: null, backoff: st.backoff ?? null, lost: null });
    return { outcome: 'ok' };
  });
}

// service_call: a client-credentials token (scope api), kept in memory and
// reused until its refresh margin (30 s, or a quarter of a shorter lifetime).
function serviceToken(t, stale) {
  if (t.service && t.service.access_token !== stale && fresh(t.service)) return Promise.resolve({ grant: t.service });
  if (!t.serviceInflight) {
    t.serviceInflight = (async () => {
      const st = readState(t);
      if (inBackoff(st)) return { fail: backoffFail(st) };
      const sentAt = now();
      const res = await tokenRequest(t, { grant_type: 'client_credentials', scope: 'api' });
      const tok = tokensOf(res);
      if (tok) {
        const ei = parseExpiresIn(tok.expires_in);
        t.service = { access_token: tok.access_token, expires_at: ei === null ? null : sentAt + ei * 1000, lifetime_ms: ei === null ? null : ei * 1000 };
        if (st.backoff) await withLock(t, async () => { const s2 = readState(t); s2.backoff = null; writeState(t, s2); });
        return { grant: t.service };
      }
      const v = res.noAnswer ? { outcome: 'temporary_error' } : classifyTokenError(res.status, res.body, 0);
      if (v.outcome === 'temporary_error') await withLock(t, async () => { const s2 = readState(t); backOff(s2, res); writeState(t, s2); });
      return { fail: { outcome: v.outcome === 'reauthorize' ? 'configuration_error' : v.outcome, detail: errorDetail(t, res) } };
    })().finally(() => { t.serviceInflight = null; });
  }
  return t.serviceInflight;
}

async function opServiceCall(req) {
  const t = tenantFor(req);
  let r = await serviceToken(t, null);
  if (!r.grant) return r.fail;
  let api = await getResource(r.grant.access_token);
  if (api.status === 401) {
    const old = r.grant.access_token;
    r = await serviceToken(t, old);
    if (!r.grant) return r.fail;
    api = await getResource(r.grant.access_token);
  }
  if (api.noAnswer) return { outcome: 'temporary_error', detail: `no answer from the API (${api.noAnswer})` };
  return apiOutcome(api.status);
}

// ---------------------------------------------------------------- protocol
function send(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

// storage_key: the key file has a new current key. Each tenant's state is
// read (under whichever key sealed it) and sealed again under the new one at
// once, so that nothing stays under the old key longer than it must; a state
// whose lock is busy is left to its next save, which seals with the new key
// too. A key file that does not read is logged and answered; every op that
// needs the state then fails with the reason, until a good one is read.
async function opStorageKey() {
  if (!loadKeys()) return {};
  for (const t of tenants) {
    try {
      await withLock(t, async () => {
        if (!fs.existsSync(t.stateFile)) return;
        const meta = {};
        const st = readState(t, meta);
        if (meta.kid === keys()[0].id) return;
        writeState(t, st);
        log(`${path.basename(t.stateFile)}: sealed again, under key ${keys()[0].id} (was ${meta.kid})`);
      });
    } catch (err) {
      log(`${path.basename(t.stateFile)}: not sealed again now (${err.message}); its next save will be`);
    }
  }
  return {};
}

const running = new Set();
const ops = {
  authorize: opAuthorize,
  callback: opCallback,
  call: opCall,
  service_call: opServiceCall,
  logout: opLogout,
  reload: async (req) => { const t = tenantFor(req); readSecret(t); log(`reloaded the client secret of ${who(t)}`); return {}; },
  storage_key: opStorageKey,
  time: async () => ({}),
};

const OUTCOME_OPS = new Set(['callback', 'call', 'service_call', 'logout']);

async function handle(req) {
  const op = ops[req.op];
  if (!op) return send({ id: req.id, error: `unknown op ${JSON.stringify(req.op)}` });
  let out;
  try {
    out = await op(req);
  } catch (err) {
    // A failure of our own (discovery unreachable, no storage key, an
    // unknown tenant, a bug): reported, never a crash. An op without an
    // outcome can only say so as an error.
    log(`op ${req.op} failed: ${err.message}`);
    if (!OUTCOME_OPS.has(req.op)) return send({ id: req.id, error: `${req.op}: ${err.message}` });
    out = { outcome: err instanceof LockBusy ? 'temporary_error' : 'error', detail: String(err.message).slice(0, 300) };
  }
  send({ id: req.id, ...out });
}

send({ hello: { protocol: 1, name: 'independent', version: '1.2.0',
  capabilities: ['refresh', 'restart', 'concurrency', 'logout', 'secret_rotation', 'shared_state', 'client_credentials',
    'encrypts_at_rest', 'key_rotation', 'multi_tenant', 'clock:now'] } });
loadKeys();

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let req;
  try { req = JSON.parse(line); } catch { return send({ error: 'a line that is not JSON' }); }
  if (!req || typeof req !== 'object' || typeof req.id !== 'string') return send({ error: 'a request without an id' });
  if (typeof req.now === 'string') setNow(req.now);
  if (req.op === 'shutdown') {
    // Let the ops under way finish (they may hold the lock), then go.
    Promise.race([Promise.allSettled([...running]), sleep(15_000)]).then(() => {
      process.stdout.write(JSON.stringify({ id: req.id }) + '\n', () => process.exit(0));
    });
    return;
  }
  const p = handle(req).finally(() => running.delete(p));
  running.add(p);
});
rl.on('close', () => { Promise.allSettled([...running]).then(() => process.exit(0)); });
