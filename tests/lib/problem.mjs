// Assertions shared by the API tests: RFC 9457 problems exactly as docs/openapi.yaml defines them.

import assert from 'node:assert/strict';

export const PROBLEM_TYPES = Object.freeze({
  400: 'invalid-input',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'too-large',
  415: 'unsupported-media-type',
  422: 'unprocessable',
  429: 'too-many-requests',
});

export const REQUEST_ID = /^req-[0-9a-f]{16}$/;

export function describeRes(res) {
  return `${res.method ?? ''} ${res.path ?? ''} -> ${res.status} ${res.headers?.['content-type'] ?? ''} ${String(res.text ?? '').slice(0, 600)}`;
}

function matches(actual, expected) {
  if (expected instanceof RegExp) return typeof actual === 'string' && expected.test(actual);
  if (Array.isArray(expected)) return expected.includes(actual);
  return actual === expected;
}

/**
 * The response is a problem with this status, its type the contract's type for the status, a
 * title and detail, the request id of the X-Request-Id header, and (when given) this rule and
 * field. rule/field may be a string, a RegExp or an array of accepted values.
 */
export function assertProblem(res, status, { rule, field } = {}) {
  const ctx = describeRes(res);
  assert.equal(res.status, status, `status: ${ctx}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json\s*(;|$)/i, `content type: ${ctx}`);
  assert.ok(res.json && typeof res.json === 'object' && !Array.isArray(res.json), `problem body is a JSON object: ${ctx}`);
  const p = res.json;
  assert.equal(p.type, `urn:hpf:problem:${PROBLEM_TYPES[status]}`, `type: ${ctx}`);
  assert.equal(p.status, status, `status member: ${ctx}`);
  assert.equal(typeof p.title, 'string', `title: ${ctx}`);
  assert.ok(p.title.length > 0, `title: ${ctx}`);
  assert.equal(typeof p.detail, 'string', `detail: ${ctx}`);
  assert.ok(p.detail.length > 0, `detail: ${ctx}`);
  assert.match(res.headers['x-request-id'] ?? '', REQUEST_ID, `X-Request-Id: ${ctx}`);
  assert.equal(p.request_id, res.headers['x-request-id'], `request_id: ${ctx}`);
  if (rule !== undefined) assert.ok(matches(p.rule, rule), `rule ${p.rule} want ${rule}: ${ctx}`);
  if (field !== undefined) assert.ok(matches(p.field, field), `field ${p.field} want ${field}: ${ctx}`);
  return p;
}

/** Any 4xx problem (the status's own type), never a 5xx. */
export function assertClientProblem(res) {
  const ctx = describeRes(res);
  assert.ok(res.status >= 400 && res.status < 500, `want a 4xx: ${ctx}`);
  assert.ok(PROBLEM_TYPES[res.status], `a status of the contract's problem list: ${ctx}`);
  return assertProblem(res, res.status);
}

/** A 2xx JSON success. */
export function assertOk(res, status = 200) {
  const ctx = describeRes(res);
  assert.equal(res.status, status, ctx);
  if (status !== 204) {
    assert.match(res.headers['content-type'] ?? '', /^application\/json\s*(;|$)/i, `content type: ${ctx}`);
    assert.ok(res.json !== undefined, `JSON body: ${ctx}`);
  }
  return res.json;
}
