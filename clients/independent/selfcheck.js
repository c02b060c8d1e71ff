// selfcheck: the independent client checked on its own, without the harness;
// exits 1 on any mismatch.
//
//  1. Its classifier answers every case of ../adapters/testdata/outcomes.json
//     (the shared outcome table of clients/adapters/README.md) as the case says.
//  2. Its sealing (AES-256-GCM under the keys of OAUTHSIM_STORAGE_KEY_FILE):
//     the key file's format, a state sealed under an older key opens with the
//     rotated file, a state whose key id or file name was altered does not.
//  3. The client itself, run as the harness runs it (clients/PROTOCOL.md over
//     stdin/stdout) against a small provider written here, with two tenants:
//     the state is readable after a key rotation and sealed again under the new
//     key id (at its next save after a restart, at once on storage_key); no
//     token or secret is in the state directory in any form the harness
//     searches for; the tenants' grants are kept apart (each refresh with its
//     own credentials, a logout of one leaves the other); a missing or
//     malformed key file is an error of the ops that need it, not a crash.
//
// Usage: node clients/independent/selfcheck.js
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const crypto = require('node:crypto');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { classifyTokenError, apiOutcome, parseStorageKeys, seal, open, StorageError } = require('./independent.js');

let failed = 0;
let total = 0;
function expect(what, got, want) {
  total++;
  if (JSON.stringify(got) === JSON.stringify(want)) return;
  failed++;
  console.error(`independent: ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
// throwsStorage: what fn throws, as {storage error?, unknown kid}, or 'no error'.
function throwsStorage(fn) {
  try { fn(); return 'no error'; } catch (err) { return { storage: err instanceof StorageError, unknownKid: err.unknownKid ?? null }; }
}

// ---------------------------------------------------------------- 1. outcomes
const cases = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'adapters', 'testdata', 'outcomes.json'), 'utf8'));
for (const c of cases.token) {
  // The body as the client would hold it: the parsed object, or the text.
  const got = classifyTokenError(c.status, c.body, c.age_hours);
  expect(`token endpoint HTTP ${c.status} ${JSON.stringify(c.body)}, grant ${c.age_hours} h old`,
    [got.outcome, got.reason ?? ''], [c.outcome, c.reason ?? '']);
}
for (const c of cases.api) expect(`API HTTP ${c.status}`, apiOutcome(c.status).outcome, c.outcome);
const outcomeCases = total;

// ---------------------------------------------------------------- 2. sealing
const keyLine = (id) => `${id} ${crypto.randomBytes(32).toString('base64')}`;
const [k1, k2] = [keyLine('k1'), keyLine('k2')];
expect('a key file of two keys', parseStorageKeys(`${k2}\n${k1}\n`).map((k) => [k.id, k.key.length]), [['k2', 32], ['k1', 32]]);
for (const [what, content] of [['an empty key file', ''], ['a line without a key', 'k1\n'], ['a short key', 'k1 AAAA\n'],
  ['an id with a slash', `a/b ${k1.split(' ')[1]}\n`], ['an id twice', `${k1}\n${k1}\n`], ['unpadded base64', `${k1.slice(0, -1)}\n`]]) {
  expect(`${what} is refused`, throwsStorage(() => parseStorageKeys(content)), { storage: true, unknownKid: null });
}
{
  const ring1 = parseStorageKeys(k1);
  const ring21 = parseStorageKeys(`${k2}\n${k1}`);
  const secretish = { grant: { access_token: 'at-not-to-be-seen', refresh_token: 'rt-not-to-be-seen' } };
  const sealed = seal(ring1, 'f.json', secretish);
  expect('a sealed state names its key', JSON.parse(sealed).kid, 'k1');
  expect('a sealed state holds no token', /not-to-be-seen/.test(sealed), false);
  expect('a state sealed under k1 opens after the rotation to k2', open(ring21, 'f.json', sealed), { state: secretish, kid: 'k1' });
  expect('sealing after the rotation uses k2', JSON.parse(seal(ring21, 'f.json', secretish)).kid, 'k2');
  expect('a state under a key the file lacks', throwsStorage(() => open(parseStorageKeys(k2), 'f.json', sealed)), { storage: true, unknownKid: 'k1' });
  const relabelled = JSON.stringify({ ...JSON.parse(sealed), kid: 'k2' });
  expect('a state whose key id was changed does not open (the id is in the additional data)',
    throwsStorage(() => open(parseStorageKeys(`${k2.split(' ')[0]} ${k1.split(' ')[1]}`), 'f.json', relabelled)), { storage: true, unknownKid: null });
  expect('a state moved to another file does not open', throwsStorage(() => open(ring1, 'g.json', sealed)), { storage: true, unknownKid: null });
  expect('a plain-text state is not taken for a sealed one', throwsStorage(() => open(ring1, 'f.json', JSON.stringify(secretish))), { storage: true, unknownKid: null });
}

// ---------------------------------------------------------------- 3. the client
// A provider of the least this needs: discovery, an authorization endpoint
// that redirects at once, a token endpoint (code with PKCE S256, refresh with
// rotation, clients authenticated by HTTP Basic), revocation, and the API.
// It keeps every token and secret it has seen, to search for them.
function provider(clients) {
  const codes = new Map(); // code -> { client, challenge, redirect }
  const refresh = new Map(); // refresh token -> owning client id (while valid)
  const access = new Set();
  const minted = Object.values(clients); // the secrets, then every token and code
  const log = []; // { grant, client, owner }
  const mint = (kind) => { const v = `${kind}.${crypto.randomBytes(24).toString('base64url')}`; minted.push(v); return v; };
  const json = (res, status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      if (u.pathname === '/.well-known/oauth-authorization-server') {
        return json(res, 200, { issuer: base, authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token`, revocation_endpoint: `${base}/revoke` });
      }
      if (u.pathname === '/authorize') {
        const code = mint('code');
        codes.set(code, { client: u.searchParams.get('client_id'), challenge: u.searchParams.get('code_challenge'), redirect: u.searchParams.get('redirect_uri') });
        const to = new URL(u.searchParams.get('redirect_uri'));
        to.searchParams.set('code', code);
        to.searchParams.set('state', u.searchParams.get('state'));
        res.writeHead(302, { location: to.href });
        return res.end();
      }
      if (u.pathname === '/api') {
        const at = (req.headers.authorization || '').replace(/^Bearer /, '');
        return json(res, access.has(at) ? 200 : 401, {});
      }
      // token and revocation: the client authenticated by HTTP Basic
      const [id, secret] = Buffer.from((req.headers.authorization || '').replace(/^Basic /, ''), 'base64').toString().split(':').map(decodeURIComponent);
      if (!clients[id] || clients[id] !== secret) return json(res, 401, { error: 'invalid_client' });
      const form = new URLSearchParams(body);
      if (u.pathname === '/revoke') { if (refresh.get(form.get('token')) === id) refresh.delete(form.get('token')); return json(res, 200, {}); }
      const grant = form.get('grant_type');
      if (grant === 'authorization_code') {
        const c = codes.get(form.get('code'));
        codes.delete(form.get('code'));
        const pkce = c && crypto.createHash('sha256').update(form.get('code_verifier') || '').digest('base64url') === c.challenge;
        log.push({ grant, client: id, owner: c?.client });
        if (!c || c.client !== id || !pkce || c.redirect !== form.get('redirect_uri')) return json(res, 400, { error: 'invalid_grant' });
      } else if (grant === 'refresh_token') {
        const owner = refresh.get(form.get('refresh_token'));
        log.push({ grant, client: id, owner });
        if (owner !== id) return json(res, 400, { error: 'invalid_grant', error_description: 'unknown, revoked, or another client\'s' });
        refresh.delete(form.get('refresh_token')); // rotation
      } else {
        return json(res, 400, { error: 'unsupported_grant_type' });
      }
      const at = mint('at');
      const rt = mint('rt');
      access.add(at);
      refresh.set(rt, id);
      return json(res, 200, { access_token: at, token_type: 'Bearer', expires_in: 3600, refresh_token: rt });
    });
  });
  return { server, minted, log, refresh };
}

// forms: what the harness searches the state directory for (PROTOCOL.md,
// What is kept): each value as issued, JSON-escaped, URL-encoded, in base64,
// base64url and hex.
function forms(v) {
  const b = Buffer.from(v);
  return [v, JSON.stringify(v).slice(1, -1), encodeURIComponent(v), b.toString('base64'), b.toString('base64url'), b.toString('hex')];
}
// leaks: which kept files hold which of the values, in which form.
function leaks(dir, values) {
  const found = [];
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    const p = path.join(dir, f);
    if (!fs.statSync(p).isFile()) continue;
    const text = fs.readFileSync(p, 'latin1');
    for (const v of values) {
      forms(v).forEach((form, i) => { if (text.includes(form)) found.push(`${f}: ${v.split('.')[0]} in form ${i}`); });
    }
  }
  return found;
}
const kidOf = (file) => JSON.parse(fs.readFileSync(file, 'utf8')).kid;
// writeKeys replaces the key file atomically, as the harness does.
function writeKeys(file, lines) {
  fs.writeFileSync(`${file}.tmp`, lines.join('\n') + '\n');
  fs.renameSync(`${file}.tmp`, file);
}

// start runs the client as the harness does, answering each request's
// promise by id; stderr is kept, to search it too.
function start(envOverrides) {
  const child = spawn(process.execPath, [path.join(__dirname, 'independent.js')], { env: { ...process.env, ...envOverrides }, stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting = new Map();
  let hello;
  let stderr = '';
  let seq = 0;
  const helloP = new Promise((resolve) => { hello = resolve; });
  child.stderr.on('data', (c) => { stderr += c; });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const m = JSON.parse(line);
    if (m.hello) return hello(m.hello);
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (w) w(m);
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    hello: helloP,
    exited,
    stderr: () => stderr,
    send(op, now, extra) {
      const id = String(++seq);
      child.stdin.write(JSON.stringify({ id, op, now, ...extra }) + '\n');
      return new Promise((resolve) => waiting.set(id, resolve));
    },
  };
}

async function clientChecks() {
  const clients = { 'acme-app': `acme-secret-${crypto.randomBytes(12).toString('hex')}`, 'globex-app': `globex-secret-${crypto.randomBytes(12).toString('hex')}` };
  const p = provider(clients);
  await new Promise((r) => p.server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${p.server.address().port}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'independent-selfcheck-'));
  const stateDir = path.join(tmp, 'state');
  fs.mkdirSync(stateDir);
  const keyFile = path.join(tmp, 'storage-keys');
  const keyLines = [keyLine('key-1')];
  writeKeys(keyFile, keyLines);
  const tenants = Object.keys(clients).map((id) => {
    const secretFile = path.join(tmp, `secret.${id}`);
    fs.writeFileSync(secretFile, clients[id] + '\n');
    return { name: id.split('-')[0], client_id: id, redirect_uri: 'http://127.0.0.1:1/callback', client_secret_file: secretFile, refresh_rotation: 'rotate', refresh_grace: 0 };
  });
  const env = {
    OAUTHSIM_PROTOCOL: '1', OAUTHSIM_ISSUER: base, OAUTHSIM_RESOURCE: `${base}/api`, OAUTHSIM_SCOPES: 'api',
    OAUTHSIM_OFFLINE_ACCESS: 'scope', OAUTHSIM_PROFILE: 'generic', OAUTHSIM_REFRESH_ROTATION: 'rotate', OAUTHSIM_REFRESH_GRACE: '0',
    OAUTHSIM_STATE_DIR: stateDir, OAUTHSIM_TIME: '2026-01-05T10:00:00Z', OAUTHSIM_STORAGE_KEY_FILE: keyFile,
    OAUTHSIM_CLIENT_ID: tenants[0].client_id, OAUTHSIM_CLIENT_SECRET_FILE: tenants[0].client_secret_file, OAUTHSIM_REDIRECT_URI: tenants[0].redirect_uri,
    OAUTHSIM_TENANTS: JSON.stringify(tenants),
  };
  const fileOf = (tenant) => path.join(stateDir, `independent-state.tenant-${tenant}.json`);
  let hour = 10;
  const at = () => `2026-01-05T${String(hour).padStart(2, '0')}:00:00Z`;
  const outcome = async (c, op, extra) => { const r = await c.send(op, at(), extra); return r.error ? `error: ${r.error}` : r.outcome ?? 'answered'; };
  const refreshesBy = (client) => p.log.filter((e) => e.grant === 'refresh_token' && e.client === client).length;
  const stderrs = [];

  // Two tenants sign in.
  let c = start(env);
  const caps = (await c.hello).capabilities;
  expect('the hello lists encrypts_at_rest, key_rotation and multi_tenant', ['encrypts_at_rest', 'key_rotation', 'multi_tenant'].every((x) => caps.includes(x)), true);
  async function signIn(tenant) {
    const { url } = await c.send('authorize', at(), { tenant });
    const res = await fetch(url, { redirect: 'manual' });
    return outcome(c, 'callback', { tenant, url: res.headers.get('location') });
  }
  expect('acme signs in', await signIn('acme'), 'ok');
  expect('globex signs in', await signIn('globex'), 'ok');
  {
    const { url } = await c.send('authorize', at(), { tenant: 'acme' });
    const res = await fetch(url, { redirect: 'manual' });
    expect('acme\'s callback delivered as globex\'s is refused', await outcome(c, 'callback', { tenant: 'globex', url: res.headers.get('location') }), 'error');
  }
  expect('a tenant nobody named', await outcome(c, 'call', { tenant: 'initech' }), 'error');
  expect('acme calls', await outcome(c, 'call', { tenant: 'acme' }), 'ok');
  expect('a call without a tenant is the first tenant\'s', await outcome(c, 'call'), 'ok');
  expect('globex calls', await outcome(c, 'call', { tenant: 'globex' }), 'ok');
  expect('each tenant kept in a file of its own, sealed under key-1', [kidOf(fileOf('acme')), kidOf(fileOf('globex'))], ['key-1', 'key-1']);
  expect('no token or secret in the state directory after the sign-ins', leaks(stateDir, p.minted), []);

  // Two hours later each tenant refreshes, with its own credentials.
  hour = 12;
  expect('acme calls two hours later', await outcome(c, 'call', { tenant: 'acme' }), 'ok');
  expect('globex calls two hours later', await outcome(c, 'call', { tenant: 'globex' }), 'ok');
  expect('one refresh a tenant, by its own client', [refreshesBy('acme-app'), refreshesBy('globex-app')], [1, 1]);

  // The key is rotated while the process is down: the restarted process reads
  // what was sealed under key-1, and its next save seals under key-2.
  await c.send('shutdown', at());
  expect('the first process exits 0', await c.exited, 0);
  stderrs.push(c.stderr());
  keyLines.unshift(keyLine('key-2'));
  writeKeys(keyFile, keyLines);
  c = start(env);
  expect('after the rotation and a restart, acme\'s state (under key-1) is read', await outcome(c, 'call', { tenant: 'acme' }), 'ok');
  expect('no refresh for that', refreshesBy('acme-app'), 1);
  expect('nothing saved yet: still under key-1', kidOf(fileOf('acme')), 'key-1');
  hour = 14;
  expect('acme calls two hours later, refreshing', await outcome(c, 'call', { tenant: 'acme' }), 'ok');
  expect('acme\'s next save is sealed under key-2; globex\'s, not saved, still under key-1', [kidOf(fileOf('acme')), kidOf(fileOf('globex'))], ['key-2', 'key-1']);
  expect('globex calls, refreshing with its own credentials', await outcome(c, 'call', { tenant: 'globex' }), 'ok');
  expect('globex\'s save sealed under key-2', kidOf(fileOf('globex')), 'key-2');

  // Rotated with storage_key: both states are sealed again at once. A second
  // process sharing the state directory, started before the rotation and not
  // told of it, still reads them (it reads the key file again).
  const peer = start(env);
  expect('a second process calls for acme', await outcome(peer, 'call', { tenant: 'acme' }), 'ok');
  keyLines.unshift(keyLine('key-3'));
  writeKeys(keyFile, keyLines);
  expect('storage_key is answered', await outcome(c, 'storage_key'), 'answered');
  expect('after storage_key both states are under key-3', [kidOf(fileOf('acme')), kidOf(fileOf('globex'))], ['key-3', 'key-3']);
  expect('acme calls after storage_key', await outcome(c, 'call', { tenant: 'acme' }), 'ok');
  expect('the second process, not told of key-3, calls for globex', await outcome(peer, 'call', { tenant: 'globex' }), 'ok');
  await peer.send('shutdown', at());
  expect('the second process exits 0', await peer.exited, 0);
  stderrs.push(peer.stderr());

  // The tenants are apart: globex logs out, acme keeps its grant.
  expect('globex logs out', await outcome(c, 'logout', { tenant: 'globex' }), 'ok');
  expect('globex has no grant left', await outcome(c, 'call', { tenant: 'globex' }), 'reauthorize');
  hour = 16;
  expect('acme still calls, refreshing', await outcome(c, 'call', { tenant: 'acme' }), 'ok');
  expect('every refresh presented by the client it was issued to', p.log.filter((e) => e.owner !== e.client).length, 0);
  expect('refreshes by acme and globex', [refreshesBy('acme-app'), refreshesBy('globex-app')], [3, 2]);

  // A malformed key file: the ops that need it fail, the process goes on.
  fs.writeFileSync(keyFile, 'this is not a key file\n');
  expect('storage_key with a malformed key file is answered', await outcome(c, 'storage_key'), 'answered');
  const bad = await c.send('call', at(), { tenant: 'acme' });
  expect('a call without a readable key file', [bad.outcome, /storage key file/.test(bad.detail || '')], ['error', true]);
  writeKeys(keyFile, keyLines);
  expect('storage_key with the key file mended', await outcome(c, 'storage_key'), 'answered');
  expect('acme calls again', await outcome(c, 'call', { tenant: 'acme' }), 'ok');
  await c.send('shutdown', at());
  expect('the restarted process exits 0', await c.exited, 0);
  stderrs.push(c.stderr());

  // No key file at all: an error that says so, and a clean exit.
  const noKey = { ...env };
  delete noKey.OAUTHSIM_STORAGE_KEY_FILE;
  c = start(noKey);
  const none = await c.send('call', at(), { tenant: 'acme' });
  expect('a call without OAUTHSIM_STORAGE_KEY_FILE', [none.outcome, /OAUTHSIM_STORAGE_KEY_FILE/.test(none.detail || '')], ['error', true]);
  await c.send('shutdown', at());
  expect('the process without a key file exits 0', await c.exited, 0);
  stderrs.push(c.stderr());

  expect('no token or secret in the state directory at the end', leaks(stateDir, p.minted), []);
  const logDir = path.join(tmp, 'logs');
  fs.mkdirSync(logDir);
  stderrs.forEach((s, i) => fs.writeFileSync(path.join(logDir, `stderr.${i}`), s));
  expect('no token or secret in the logs', leaks(logDir, p.minted), []);
  p.server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}

const guard = setTimeout(() => { console.error('independent: the client checks did not finish in 60 s'); process.exit(1); }, 60_000);
clientChecks().then(() => {
  clearTimeout(guard);
  console.error(`independent: ${outcomeCases} outcome cases and ${total - outcomeCases} storage and tenant cases; ${failed} failed`);
  process.exit(failed ? 1 : 0);
}, (err) => {
  console.error(`independent: the client checks broke: ${err.stack}`);
  process.exit(1);
});
