// The public routes (no session: login, registration, the document check) are limited per
// client address with a token bucket (http/ratelimit.c): a burst, then 429 http.rate_limited
// with Retry-After. A session's routes are not limited this way. Behind a trusted gateway the
// client is the address its X-Forwarded-For names; from anyone else that header is ignored.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertProblem } from '../lib/problem.mjs';
import { client, loginAs, startServer } from '../lib/server.mjs';

const BURST = 5;

async function drain(srv, headers = {}) {
  const c = client(srv);
  const codes = [];
  for (let i = 0; i < BURST + 2; i++) codes.push(await c.get('/api/v1/public/centre-keys', { headers }));
  return codes;
}

describe('public routes: a burst, then 429 with Retry-After', () => {
  let srv;
  let op;
  before(async () => {
    srv = await startServer({ env: { HPF_THROTTLE_PER_MIN: '6', HPF_THROTTLE_BURST: String(BURST) } });
    op = await loginAs(srv, 'operator'); // one public request: the login
  });
  after(() => srv?.stop());

  test('the bucket empties after the burst and names the wait', async () => {
    const res = await drain(srv);
    const ok = res.filter((r) => r.status === 200).length;
    assert.equal(ok, BURST - 1, `the login took one of ${BURST} tokens: ${res.map((r) => r.status)}`);
    const refused = res.at(-1);
    assertProblem(refused, 429, { rule: 'http.rate_limited' });
    // 6 a minute: a token every 10 s, so the wait is 1..10 s.
    const wait = Number(refused.headers['retry-after']);
    assert.ok(wait >= 1 && wait <= 10, `Retry-After ${refused.headers['retry-after']}`);
  });

  test('a forged X-Forwarded-For from an untrusted peer gets no bucket of its own', async () => {
    const r = await client(srv).get('/api/v1/public/centre-keys', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assertProblem(r, 429, { rule: 'http.rate_limited' });
  });

  test('a session route is not limited, and the login route is', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await op.get('/api/v1/session')).status, 200);
    const r = await client(srv).post('/api/v1/session', { username: 'nobody', password: 'x' });
    assertProblem(r, 429, { rule: 'http.rate_limited' });
  });

  test('/metrics counts the refusals', async () => {
    const m = await client(srv).get('/metrics');
    const line = m.text.split('\n').find((l) => l.startsWith('hpf_requests_throttled_total'));
    assert.ok(line && Number(line.split(' ')[1]) >= 3, line);
  });
});

describe('behind a trusted gateway: the client its X-Forwarded-For names', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      env: { HPF_THROTTLE_PER_MIN: '6', HPF_THROTTLE_BURST: String(BURST), HPF_TRUSTED_PROXIES: '127.0.0.1' },
    });
  });
  after(() => srv?.stop());

  test('each forwarded client has its own bucket', async () => {
    const a = await drain(srv, { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' });
    assert.deepEqual(a.map((r) => r.status), [...Array(BURST).fill(200), 429, 429]);
    // Another client through the same gateway is not held back by the first.
    const b = await drain(srv, { 'x-forwarded-for': '203.0.113.8' });
    assert.deepEqual(b.map((r) => r.status), [...Array(BURST).fill(200), 429, 429]);
    // The gateway itself (no header) is a client like the others, with a full bucket.
    assert.equal((await client(srv).get('/api/v1/public/centre-keys')).status, 200);
  });
});
