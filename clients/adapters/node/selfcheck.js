// selfcheck: node/protocol.js answers every case of ../testdata/outcomes.json
// (the outcome table of clients/adapters/README.md) as the case says, and the
// openid-client adapter reads what the library throws for a token endpoint's
// answer (the real library, its fetch answered here, no network) as the
// table does. Run by conform-all before the adapters; needs Node and the
// installed packages (npm ci).
//
// Usage: node selfcheck.js

import fs from 'node:fs';
import { tokenErrorOutcome, apiOutcome, helloLine, GLUE_STORAGE } from './protocol.js';
import * as client from 'openid-client';
import { failure as openidClientFailure } from './openid-client.js';

const cases = JSON.parse(fs.readFileSync(new URL('../testdata/outcomes.json', import.meta.url), 'utf8'));
const HOUR = 3600 * 1000;
let failed = 0;
const expect = (what, got, want) => {
  if (JSON.stringify(got) === JSON.stringify(want)) return;
  failed++;
  console.error(`node/protocol.js: ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
};

for (const c of cases.token) {
  // A library passes a body on as the object it parsed; text is no OAuth body.
  const body = typeof c.body === 'object' ? c.body : undefined;
  const got = tokenErrorOutcome({ status: c.status, body, age: c.age_hours * HOUR });
  expect(`HTTP ${c.status} ${JSON.stringify(c.body)}, a ${c.age_hours} h old grant`, [got.outcome, got.reason ?? ''], [c.outcome, c.reason ?? '']);
}
for (const c of cases.api) expect(`the API's HTTP ${c.status}`, apiOutcome(c.status).outcome, c.outcome);

// Token endpoint answers to a refresh, as openid-client meets them: status,
// content type, body, and the outcome and reason the table gives them.
const json = 'application/json';
const answers = [
  [200, json, '', 'temporary_error'],
  [200, json, '{"access_token":"abc","token_ty', 'temporary_error'],
  [200, json, '{"token_type":"Bearer"}', 'temporary_error'],
  [200, 'text/html; charset=utf-8', '<html><head><title>200 OK</title></head></html>', 'temporary_error'],
  [403, 'text/html; charset=utf-8', '<html><title>403 Rate Limit Exceeded</title></html>', 'temporary_error'],
  [200, json, '{"error":"bad_refresh_token","error_description":"The refresh token passed is incorrect or expired."}', 'reauthorize', 'expired'],
  [200, json, '{"ok":false,"error":"invalid_refresh_token"}', 'reauthorize', 'unknown'],
  [400, json, '{"error":"invalid_grant","error_description":"reauth related error (invalid_rapt)"}', 'interaction_required'],
];
let adapterCases = 0;
for (const [status, type, body, outcome, reason] of answers) {
  const config = new client.Configuration({ issuer: 'http://127.0.0.1/', token_endpoint: 'http://127.0.0.1/token' }, 'demo', 'secret');
  client.allowInsecureRequests(config);
  config[client.customFetch] = async () => new Response(body, { status, headers: { 'content-type': type } });
  let got;
  try {
    await client.refreshTokenGrant(config, 'a-refresh-token');
    got = { outcome: '(the library took it as a token)' };
  } catch (err) {
    got = openidClientFailure(err);
  }
  adapterCases++;
  expect(`openid-client: a refresh answered HTTP ${status} ${type} ${JSON.stringify(body)}`, [got.outcome, got.reason ?? ''], [outcome, reason ?? '']);
}

const total = cases.token.length + cases.api.length + adapterCases;
console.error(`node/protocol.js and openid-client.js: ${total - failed} of ${total} outcome cases as the table says`);

// The hello of an adapter with a token file (openid-client.js made one on
// import) lists its storage as glue, and claims no encryption: the token
// file is plain JSON, which is the finding to report as the glue's.
const before = failed;
const { hello } = helloLine({ name: 'openid-client', version: '0', capabilities: ['refresh', 'clock:faketime'] });
expect('the hello of an adapter with a token file: glue', hello.glue, [GLUE_STORAGE]);
expect('the hello of an adapter with a token file: encrypts_at_rest', hello.capabilities.includes('encrypts_at_rest'), false);
expect('the hello\'s protocol', hello.protocol, 1);
console.error(`node/protocol.js: ${3 - (failed - before)} of 3 hello checks (glue storage declared)`);
process.exit(failed ? 1 : 0);
