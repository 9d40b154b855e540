// docs/openapi.yaml stays true to the server: every route of the route table (`hpf routes`) is
// described and nothing else is, every rule the C sources can answer with is named, every $ref
// points at something defined, every error response is problem+json. A structural
// check with a small indentation reader (no YAML library is installed for the tests); the full
// validation is `python3 -m openapi_spec_validator docs/openapi.yaml` where that tool exists.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO, runHpf } from '../lib/server.mjs';

const yamlText = fs.readFileSync(path.join(REPO, 'docs', 'openapi.yaml'), 'utf8');

/** Every string literal in src/ that looks like a problem rule ("remittance.period_posted"). */
function sourceRules() {
  const rules = new Set();
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.c') && !p.endsWith(path.join('ledger', 'verify.c'))) {
        // log events (hpf_log's second argument) share the dotted shape but never reach a client
        const src = fs.readFileSync(p, 'utf8').replace(/hpf_log\([^,]*,\s*"[^"]*"/g, '');
        for (const m of src.matchAll(/"((?:json|http|csrf|auth|scope|uscc|ratio|employer|user|password|id|money|member|remittance|idempotency|registration|name|account|phone|wage|month|date|query|username|approval|policy|roster|contribution|voluntary|backpay|deferral|continuity|interest|citytransfer|merge)\.[a-z_]+)"/g)) {
          rules.add(m[1]);
        }
      }
    }
  };
  walk(path.join(REPO, 'src'));
  return rules;
}

/** Block-mapping keys as slash-joined paths ("paths//api/v1/session/post"); flow values are leaves. */
function keyPaths(text) {
  const out = new Set();
  const stack = []; // [{indent, key}]
  for (const line of text.split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    const m = /^( *)((?:'[^']*'|"[^"]*"|[^\s'"#:-][^:#]*?)):(?:\s|$)/.exec(line);
    if (!m) continue;
    const indent = m[1].length;
    const key = m[2].replace(/^['"]|['"]$/g, '');
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    stack.push({ indent, key });
    out.add(stack.map((s) => s.key).join('|'));
  }
  return out;
}

const keys = keyPaths(yamlText);

test('openapi.yaml declares OpenAPI 3.1 with info, paths and components', () => {
  assert.match(yamlText, /^openapi: 3\.1\.\d+$/m);
  for (const k of ['info', 'info|title', 'info|version', 'paths', 'components', 'components|schemas', 'components|securitySchemes']) {
    assert.ok(keys.has(k), `missing ${k}`);
  }
  assert.doesNotMatch(yamlText, /\t/, 'YAML must not contain tabs');
});

test('openapi.yaml describes exactly the routes of `hpf routes`', async () => {
  const r = await runHpf(['routes']);
  assert.equal(r.code, 0, r.stderr);
  const routes = r.stdout.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' '));
  assert.ok(routes.length >= 15, `hpf routes listed only ${routes.length}`);
  const missing = routes.filter((x) => {
    const [method, p] = x.split(' ');
    return !keys.has(`paths|${p}|${method.toLowerCase()}`);
  });
  assert.deepEqual(missing, [], 'routes the server has but openapi.yaml lacks');
  const documented = [...keys].map((k) => /^paths\|(\/api\/v1[^|]*)\|(get|post|put|patch|delete)$/.exec(k))
    .filter(Boolean).map((m) => `${m[2].toUpperCase()} ${m[1]}`);
  const extra = documented.filter((x) => !routes.includes(x));
  assert.deepEqual(extra, [], 'routes openapi.yaml describes but the server lacks');
});

test('every $ref resolves to a defined component', () => {
  const refs = new Set([...yamlText.matchAll(/\$ref: '#\/([^']+)'/g)].map((m) => m[1]));
  assert.ok(refs.size > 20);
  const unresolved = [...refs].filter((r) => !keys.has(r.split('/').join('|')));
  assert.deepEqual(unresolved, []);
});

test('the security schemes are the hpf_session cookie and the X-CSRF-Token header', () => {
  assert.match(yamlText, /session:\n\s+type: apiKey\n\s+in: cookie\n\s+name: hpf_session/);
  assert.match(yamlText, /csrf:\n\s+type: apiKey\n\s+in: header\n\s+name: X-CSRF-Token/);
  assert.match(yamlText, /name: Idempotency-Key\n\s+in: header\n\s+required: true/);
});

test('every problem type of the contract is in the Problem schema', () => {
  const types = ['invalid-input', 'unauthenticated', 'forbidden', 'not-found', 'method-not-allowed', 'conflict', 'too-large',
    'unsupported-media-type', 'unprocessable', 'too-many-requests'];
  for (const t of types) assert.match(yamlText, new RegExp(`- urn:hpf:problem:${t}$`, 'm'), t);
});

test('every rule the C sources can answer with appears in openapi.yaml', () => {
  const rules = sourceRules();
  assert.ok(rules.size >= 30, `found only ${rules.size} rules in src/`);
  const missing = [...rules].filter((r) => !yamlText.includes(r));
  assert.deepEqual(missing, []);
});
