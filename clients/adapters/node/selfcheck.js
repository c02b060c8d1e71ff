// selfcheck: node/protocol.js answers every case of ../testdata/outcomes.json
// (the outcome table of clients/adapters/README.md) as the case says. Run by
// conform-all before the adapters; needs Node only, no npm packages.
//
// Usage: node selfcheck.js

import fs from 'node:fs';
import { tokenErrorOutcome, apiOutcome } from './protocol.js';

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

const total = cases.token.length + cases.api.length;
console.error(`node/protocol.js: ${total - failed} of ${total} outcome cases as the table says`);
process.exit(failed ? 1 : 0);
