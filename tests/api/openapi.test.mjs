// docs/openapi.yaml stays true to docs/api-draft.md: every route of the contract is described,
// every $ref points at something defined, every error response is problem+json. A structural
// check with a small indentation reader (no YAML library is installed for the tests); the full
// validation is `python3 -m openapi_spec_validator docs/openapi.yaml` where that tool exists.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from '../lib/server.mjs';

const yamlText = fs.readFileSync(path.join(REPO, 'docs', 'openapi.yaml'), 'utf8');
const draft = fs.readFileSync(path.join(REPO, 'docs', 'api-draft.md'), 'utf8');

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

test('every route of docs/api-draft.md is described with its method', () => {
  const routes = new Set();
  for (const m of draft.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`?\s]*)/g)) routes.add(`${m[1]} ${m[2]}`);
  assert.ok(routes.size >= 15, `found only ${routes.size} routes in the draft`);
  const missing = [...routes].filter((r) => {
    const [method, p] = r.split(' ');
    return !keys.has(`paths|${p}|${method.toLowerCase()}`);
  });
  assert.deepEqual(missing, []);
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

test('every rule the draft names appears in openapi.yaml', () => {
  const rules = new Set();
  for (const m of draft.matchAll(/\b((?:json|http|csrf|auth|scope|uscc|ratio|employer|user|password|id|money|member|remittance|idempotency|registration)\.[a-z_]+)\b/g)) {
    rules.add(m[1]);
  }
  // "idempotency.key_missing / key_format" abbreviates the second rule in the draft
  rules.add('idempotency.key_format');
  const missing = [...rules].filter((r) => !yamlText.includes(r));
  assert.deepEqual(missing, []);
});
