// selfcheck: the classifier of independent.js answers every case of
// ../adapters/testdata/outcomes.json (the shared outcome table of
// clients/adapters/README.md) as the case says; exits 1 on any mismatch.
//
// Usage: node clients/independent/selfcheck.js
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { classifyTokenError, apiOutcome } = require('./independent.js');

const cases = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'adapters', 'testdata', 'outcomes.json'), 'utf8'));
let failed = 0;
let total = 0;
function expect(what, got, want) {
  total++;
  if (JSON.stringify(got) === JSON.stringify(want)) return;
  failed++;
  console.error(`independent: ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

for (const c of cases.token) {
  // The body as the client would hold it: the parsed object, or the text.
  const got = classifyTokenError(c.status, c.body, c.age_hours);
  expect(`token endpoint HTTP ${c.status} ${JSON.stringify(c.body)}, grant ${c.age_hours} h old`,
    [got.outcome, got.reason ?? ''], [c.outcome, c.reason ?? '']);
}
for (const c of cases.api) expect(`API HTTP ${c.status}`, apiOutcome(c.status).outcome, c.outcome);

console.error(`independent: ${total - failed} of ${total} outcome cases as the table says`);
process.exit(failed ? 1 : 0);
