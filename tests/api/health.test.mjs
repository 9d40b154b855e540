// Health, metrics, transport: what every deployment probe and every client relies on.
// Contract: docs/openapi.yaml "Health (public)", "Errors" (X-Request-Id); HTTPS only.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REQUEST_ID, assertOk, assertProblem } from '../lib/problem.mjs';
import { client, peerCertificate, rawTcp, request, startServer } from '../lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({ demo: null }); // an empty, migrated database: health needs no data
});
after(() => srv?.stop().catch(() => {}));

test('GET /healthz answers 200 {"status":"ok"} as JSON without a session', async () => {
  const res = await request(srv, 'GET', '/healthz');
  assert.deepEqual(assertOk(res), { status: 'ok' });
});

test('GET /readyz answers 200 {"status":"ready"} when the database is reachable', async () => {
  const res = await request(srv, 'GET', '/readyz');
  assert.deepEqual(assertOk(res), { status: 'ready' });
});

const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"';
const SAMPLE = new RegExp(
  `^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(?:${LABEL}(?:,${LABEL})*,?)?\\})? (?<value>-?[0-9.]+(?:[eE][+-]?\\d+)?|NaN|[+-]Inf)(?: -?\\d+)?$`,
);

function metricSum(text, name) {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (m && m.groups.name === name) sum += Number(m.groups.value);
  }
  return sum;
}

test('GET /metrics is Prometheus text: every line a comment or a well-formed sample', async () => {
  const res = await request(srv, 'GET', '/metrics');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'] ?? '', /^text\/plain\b/);
  const lines = res.text.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0, 'metrics body is empty');
  for (const line of lines) {
    if (line.startsWith('#')) {
      assert.match(line, /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/, `comment line: ${line}`);
    } else {
      assert.match(line, SAMPLE, `sample line: ${line}`);
    }
  }
  assert.match(res.text, /^# TYPE hpf_http_requests_total counter$/m);
});

test('hpf_http_requests_total counts requests as they are served', async () => {
  const before1 = metricSum((await request(srv, 'GET', '/metrics')).text, 'hpf_http_requests_total');
  for (let i = 0; i < 3; i++) assert.equal((await request(srv, 'GET', '/healthz')).status, 200);
  const after1 = metricSum((await request(srv, 'GET', '/metrics')).text, 'hpf_http_requests_total');
  assert.ok(after1 >= before1 + 3, `counter went from ${before1} to ${after1} after 3 requests`);
});

test('every response carries a distinct X-Request-Id, success, problem and static alike', async () => {
  const anon = client(srv);
  const responses = [
    await request(srv, 'GET', '/healthz'),
    await request(srv, 'GET', '/metrics'),
    await request(srv, 'GET', '/'),
    await anon.get('/api/v1/session'), // 401 problem
    await request(srv, 'GET', '/api/v1/no-such-route'), // 404 problem
  ];
  const ids = new Set();
  for (const r of responses) {
    assert.match(r.headers['x-request-id'] ?? '', REQUEST_ID, `${r.path} -> ${r.status}`);
    ids.add(r.headers['x-request-id']);
  }
  assert.equal(ids.size, responses.length, 'request ids repeat');
});

test('a problem body names the same request id as its X-Request-Id header', async () => {
  const res = await client(srv).get('/api/v1/session');
  assertProblem(res, 401, { rule: 'auth.required' });
});

test('unknown /api/ paths are 404 problems, not the web page', async () => {
  const res = await request(srv, 'GET', '/api/v1/no-such-route');
  assertProblem(res, 404);
});

function assertSecurityHeaders(res) {
  const h = res.headers;
  const where = `${res.path} -> ${res.status}`;
  const hsts = /max-age=(\d+)/i.exec(h['strict-transport-security'] ?? '');
  assert.ok(hsts && Number(hsts[1]) > 0, `Strict-Transport-Security with a positive max-age on ${where}: ${h['strict-transport-security']}`);
  assert.equal((h['x-content-type-options'] ?? '').toLowerCase(), 'nosniff', `X-Content-Type-Options on ${where}`);
  const framing = /^(deny|sameorigin)$/i.test(h['x-frame-options'] ?? '') || /frame-ancestors\s+('none'|'self')/i.test(h['content-security-policy'] ?? '');
  assert.ok(framing, `framing forbidden (X-Frame-Options or CSP frame-ancestors) on ${where}`);
}

test('security headers (HSTS, nosniff, no framing) on JSON, problem, metrics and static responses', async () => {
  assertSecurityHeaders(await request(srv, 'GET', '/healthz'));
  assertSecurityHeaders(await request(srv, 'GET', '/metrics'));
  assertSecurityHeaders(await client(srv).get('/api/v1/session'));
  assertSecurityHeaders(await request(srv, 'GET', '/'));
});

test('GET / serves the web front-end (HTML) over the same HTTPS port', async () => {
  const res = await request(srv, 'GET', '/');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'] ?? '', /^text\/html\b/);
});

test('TLS only: a plain-HTTP request to the port gets no HTTP answer', async () => {
  const r = await rawTcp(srv.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  assert.doesNotMatch(r.text, /^HTTP\/1\.[01] [23]\d\d/, `plain HTTP was served: ${r.text.slice(0, 200)}`);
  assert.doesNotMatch(r.text, /"status"\s*:\s*"ok"/);
  // and the server is still fine afterwards
  assert.equal((await request(srv, 'GET', '/healthz')).status, 200);
});

test('TLS is 1.2 or newer and the served certificate is DIR/tls/cert.pem; key.pem is private', async () => {
  const { cert, protocol } = await peerCertificate(srv);
  assert.ok(['TLSv1.2', 'TLSv1.3'].includes(protocol), `protocol ${protocol}`);
  const certPath = path.join(srv.dataDir, 'tls', 'cert.pem');
  const keyPath = path.join(srv.dataDir, 'tls', 'key.pem');
  const onDisk = new X509Certificate(fs.readFileSync(certPath));
  assert.equal(cert.fingerprint256, onDisk.fingerprint256);
  const mode = fs.statSync(keyPath).mode & 0o777;
  assert.equal(mode & 0o077, 0, `key.pem mode ${mode.toString(8)} is readable by group or others`);
});

test('hpf serve exits 0 on SIGTERM (no sanitizer report, no leak)', async () => {
  await srv.stop();
  assert.equal(srv.alive(), false);
});
