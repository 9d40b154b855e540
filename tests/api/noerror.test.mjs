// Hostile requests: malformed JSON, wrong types, nulls, huge numbers, bad money, control
// characters, invalid UTF-8, path traversal, unknown routes, wrong methods, odd headers.
// Each must get a 4xx problem+json (or, where the contract leaves the answer open, at least no
// 5xx), never a crash: the server answers /healthz afterwards and exits 0 on SIGTERM.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { employerWithMembers, idemKey, newIdNumber, newUscc, nextN, companyName } from '../lib/fixtures.mjs';
import { PROBLEM_TYPES, assertClientProblem, assertProblem, describeRes } from '../lib/problem.mjs';
import { client, loginAs, rawTls, request, startServer } from '../lib/server.mjs';

let srv;
let op;
let fx; // an employer with one member, its agent logged in

before(async () => {
  srv = await startServer({ demo: { employers: 1, members: 2, months: 1, seed: 13 } });
  op = await loginAs(srv, 'operator');
  fx = await employerWithMembers(srv, op, { unitBp: 800, wages: ['6543.21'] });
});
after(() => srv?.stop().catch(() => {}));

function employerBody(over = {}) {
  const n = nextN();
  return {
    name: companyName(n),
    uscc: newUscc(n),
    unit_ratio_bp: 1200,
    indiv_ratio_bp: 1200,
    agent: { username: `agent-h${n}`, password: 'Agent#2026pass', name: '王芳' },
    ...over,
  };
}
function memberBody(over = {}) {
  return { name: '张伟', id_number: newIdNumber(), wage: '6543.21', ...over };
}
function rosterBody(over = {}) {
  const m = fx.members[0];
  return {
    period: '2026-11',
    total: m.member.monthly_total,
    rows: [{ account_no: m.member.account_no, name: m.name, unit: m.member.unit_monthly, individual: m.member.indiv_monthly }],
    ...over,
  };
}
const rowWith = (over) => rosterBody({ rows: [{ ...rosterBody().rows[0], ...over }] });

/** Not a 5xx; and when it is an error of the contract's list, a proper problem. */
function assertNo5xx(res) {
  assert.ok(res.status !== null, `no HTTP answer at all: ${describeRes(res)}`);
  assert.ok(res.status < 500, describeRes(res));
  if (PROBLEM_TYPES[res.status]) assertProblem(res, res.status);
}

/** Malformed HTTP: closed without an answer, or any answer but a 5xx. */
function assertFramingRefused(res) {
  assert.ok(res.status === null || res.status < 500, describeRes(res));
}

/** Build a raw HTTP/1.1 request with this session's cookie and CSRF token. */
function raw(method, target, { headers = {}, body = null, session = op, host = true } = {}) {
  const lines = [`${method} ${target} HTTP/1.1`];
  if (host) lines.push(`Host: 127.0.0.1:${srv.port}`);
  if (session?.cookie) lines.push(`Cookie: hpf_session=${session.cookie}`);
  if (session?.csrf && method !== 'GET') lines.push(`X-CSRF-Token: ${session.csrf}`);
  const b = body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body);
  if (b) {
    lines.push('Content-Type: application/json');
    lines.push(`Content-Length: ${b.length}`);
  }
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  lines.push('Connection: close', '', '');
  const head = Buffer.from(lines.join('\r\n'), 'latin1');
  return b ? Buffer.concat([head, b]) : head;
}

const sendRaw = (bytes) => rawTls(srv, bytes);
/** Replace text inside a raw request without re-encoding its bytes. */
const rawReplace = (buf, from, to) => Buffer.from(buf.toString('latin1').replace(from, to), 'latin1');
const postEmployer = (b, opts) => op.post('/api/v1/employers', b, opts);
const postMember = (b) => fx.agent.post(`/api/v1/employers/${fx.dwzh}/members`, b);
const postRoster = (b, key = idemKey('h')) => fx.agent.post(`/api/v1/employers/${fx.dwzh}/remittances`, b, { headers: { 'Idempotency-Key': key } });

// [name, () => response, expectation]: '4xx' = a problem of the contract's list; 'no5xx' = any
// answer but a 5xx (a problem when it is an error); {status, rule?, field?} = exactly that
// problem; 'framing' = malformed HTTP that libmicrohttpd rejects before any route runs: a
// plain 4xx or a closed connection is fine, a 5xx or a hang is not.
const CASES = [
  // --- broken and hostile JSON ---
  ['empty body', () => postEmployer(''), { status: 400 }],
  ['truncated JSON', () => postEmployer('{"name":"盐城'), { status: 400, rule: 'json.syntax' }],
  ['trailing garbage after the object', () => postEmployer(`${JSON.stringify(employerBody())} xyz`), { status: 400, rule: 'json.syntax' }],
  ['two objects', () => postEmployer('{}{}'), { status: 400, rule: 'json.syntax' }],
  ['single quotes', () => postEmployer("{'name':'x'}"), { status: 400, rule: 'json.syntax' }],
  ['JSON null', () => postEmployer('null'), { status: 400, rule: 'json.not_object' }],
  ['JSON number', () => postEmployer('123'), { status: 400, rule: 'json.not_object' }],
  ['JSON string', () => postEmployer('"盐城"'), { status: 400, rule: 'json.not_object' }],
  ['JSON true', () => postEmployer('true'), { status: 400, rule: 'json.not_object' }],
  ['empty object', () => postEmployer('{}'), { status: 400, rule: 'json.required' }],
  ['every field null', () => postEmployer({ name: null, uscc: null, unit_ratio_bp: null, indiv_ratio_bp: null, agent: null }), { status: 400, rule: ['json.type', 'json.required'] }],
  ['name null', () => postEmployer(employerBody({ name: null })), { status: 400, field: '/name', rule: ['json.type', 'json.required'] }],
  ['name an object', () => postEmployer(employerBody({ name: {} })), { status: 400, field: '/name', rule: 'json.type' }],
  ['name an array', () => postEmployer(employerBody({ name: ['盐城'] })), { status: 400, field: '/name', rule: 'json.type' }],
  ['agent a string', () => postEmployer(employerBody({ agent: 'agent0001' })), { status: 400, field: '/agent', rule: 'json.type' }],
  ['ratio true', () => postEmployer(employerBody({ unit_ratio_bp: true })), { status: 400, field: '/unit_ratio_bp', rule: 'json.type' }],
  ['ratio "12%"', () => postEmployer(employerBody({ unit_ratio_bp: '12%' })), { status: 400, field: '/unit_ratio_bp', rule: 'json.type' }],
  ['ratio negative', () => postEmployer(employerBody({ unit_ratio_bp: -1200, indiv_ratio_bp: -1200 })), { status: 400, field: '/unit_ratio_bp' }],
  ['ratio 2^63-1', () => postEmployer(JSON.stringify(employerBody()).replace('"unit_ratio_bp":1200', '"unit_ratio_bp":9223372036854775807')), { status: 400 }],
  ['ratio 2^63', () => postEmployer(JSON.stringify(employerBody()).replace('"unit_ratio_bp":1200', '"unit_ratio_bp":9223372036854775808')), { status: 400 }],
  ['ratio 10^30', () => postEmployer(JSON.stringify(employerBody()).replace('"unit_ratio_bp":1200', '"unit_ratio_bp":1000000000000000000000000000000')), { status: 400 }],
  ['ratio 1e400', () => postEmployer(JSON.stringify(employerBody()).replace('"unit_ratio_bp":1200', '"unit_ratio_bp":1e400')), { status: 400 }],
  ['ratio -0', () => postEmployer(JSON.stringify(employerBody()).replace('"unit_ratio_bp":1200', '"unit_ratio_bp":-0')), '4xx'],
  ['ratio 1.2e3', () => postEmployer(JSON.stringify(employerBody()).replace('"unit_ratio_bp":1200', '"unit_ratio_bp":1.2e3')), '4xx'],
  ['ratio NaN literal', () => postEmployer(JSON.stringify(employerBody()).replace('"unit_ratio_bp":1200', '"unit_ratio_bp":NaN')), { status: 400, rule: 'json.syntax' }],
  ['empty name', () => postEmployer(employerBody({ name: '' })), { status: 400, field: '/name' }],
  ['control character in a name', () => postEmployer(employerBody({ name: '盐城\u0001科技' })), { status: 400, field: '/name' }],
  ['escaped NUL in a name', () => postEmployer(employerBody({ name: '盐城\u0000科技' })), { status: 400 }],
  ['newline in a name', () => postEmployer(employerBody({ name: '盐城\n科技有限公司' })), { status: 400, field: '/name' }],
  ['DEL character in a name', () => postEmployer(employerBody({ name: '盐城\u007f科技' })), { status: 400, field: '/name' }],
  ['lone surrogate escape', () => postEmployer(JSON.stringify(employerBody({ name: 'XX' })).replace('"name":"XX"', '"name":"\\ud800"')), { status: 400 }],
  ['invalid UTF-8 bytes in a string', () => postEmployer(Buffer.concat([Buffer.from('{"name":"盐城'), Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(employerBody()).replace(/^\{"name":"[^"]*/, ''))])), { status: 400 }],
  ['overlong UTF-8 encoding', () => postEmployer(Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('b"}')])), { status: 400 }],
  ['truncated UTF-8 sequence', () => postEmployer(Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xe7, 0x9b]), Buffer.from('"}')])), { status: 400 }],
  ['a name of 100 000 characters', () => postEmployer(employerBody({ name: '盐'.repeat(100000) })), '4xx'],
  ['nesting 100 000 deep', () => postEmployer(`{"name":${'['.repeat(100000)}${']'.repeat(100000)}}`), { status: 400 }],
  ['10 000 unknown keys', () => postEmployer(JSON.stringify(Object.fromEntries(Array.from({ length: 10000 }, (_, i) => [`k${i}`, i])))), { status: 400 }],
  ['byte order mark before the object', () => postEmployer(`\ufeff${JSON.stringify(employerBody())}`), 'no5xx'],
  ['form-encoded body labelled JSON', () => postEmployer('name=%E7%9B%90&uscc=1'), { status: 400, rule: 'json.syntax' }],
  ['form content type', () => postEmployer('name=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), { status: 415, rule: 'http.content_type' }],
  ['multipart content type', () => postEmployer('--x--', { headers: { 'content-type': 'multipart/form-data; boundary=x' } }), { status: 415, rule: 'http.content_type' }],
  ['application/jsonx', () => postEmployer(JSON.stringify(employerBody()), { headers: { 'content-type': 'application/jsonx' } }), { status: 415, rule: 'http.content_type' }],

  // --- members: money and ids ---
  ['wage negative', () => postMember(memberBody({ wage: '-1.00' })), { status: 400, field: '/wage' }],
  ['wage 3 decimals', () => postMember(memberBody({ wage: '6543.211' })), { status: 400, field: '/wage', rule: 'money.format' }],
  ['wage exponent', () => postMember(memberBody({ wage: '6.5e3' })), { status: 400, field: '/wage', rule: 'money.format' }],
  ['wage full-width digits', () => postMember(memberBody({ wage: '６５４３.２１' })), { status: 400, field: '/wage', rule: 'money.format' }],
  ['wage NaN', () => postMember(memberBody({ wage: 'NaN' })), { status: 400, field: '/wage', rule: 'money.format' }],
  ['wage Infinity', () => postMember(memberBody({ wage: 'Infinity' })), { status: 400, field: '/wage', rule: 'money.format' }],
  ['wage hex', () => postMember(memberBody({ wage: '0x1000' })), { status: 400, field: '/wage', rule: 'money.format' }],
  ['wage empty', () => postMember(memberBody({ wage: '' })), { status: 400, field: '/wage', rule: 'money.format' }],
  ['wage ".5"', () => postMember(memberBody({ wage: '.5' })), { status: 400, field: '/wage', rule: 'money.format' }],
  ['wage 400 digits', () => postMember(memberBody({ wage: '9'.repeat(400) })), { status: 400, field: '/wage' }],
  ['wage int64 max fen', () => postMember(memberBody({ wage: '92233720368547758.07' })), { status: 400, field: '/wage', rule: 'money.range' }],
  ['wage a number', () => postMember(memberBody({ wage: 6543.21 })), { status: 400, field: '/wage', rule: 'json.type' }],
  ['wage null', () => postMember(memberBody({ wage: null })), { status: 400, field: '/wage' }],
  ['id number full-width digits', () => postMember(memberBody({ id_number: '１１０１０５１９４９１２３１００２X' })), { status: 400, field: '/id_number', rule: 'id.format' }],
  ['id number with a control character', () => postMember(memberBody({ id_number: '11010519491231002\u0001' })), { status: 400, field: '/id_number' }],
  ['id number a number', () => postMember(memberBody({ id_number: 110105194912310030 })), { status: 400, field: '/id_number', rule: 'json.type' }],
  ['member name with a bidi override', () => postMember(memberBody({ name: '张\u202e伟' })), 'no5xx'],
  ['member name with an emoji', () => postMember(memberBody({ name: '张伟😀' })), 'no5xx'],

  // --- remittances: rows, money, periods ---
  ['rows a string', () => postRoster(rosterBody({ rows: 'x' })), { status: 400, field: '/rows', rule: 'json.type' }],
  ['rows [null]', () => postRoster(rosterBody({ rows: [null] })), { status: 400, field: '/rows/0' }],
  ['rows [{}]', () => postRoster(rosterBody({ rows: [{}] })), { status: 400, field: /^\/rows\/0\// }],
  ['row account_no a number', () => postRoster(rowWith({ account_no: 320900000000000018 })), { status: 400, field: '/rows/0/account_no', rule: 'json.type' }],
  ['row unit negative', () => postRoster(rowWith({ unit: '-523.00' })), '4xx'],
  ['row unit 3 decimals', () => postRoster(rowWith({ unit: '523.001' })), { status: 400, field: '/rows/0/unit', rule: 'money.format' }],
  ['row unit int64 max fen', () => postRoster(rowWith({ unit: '92233720368547758.07' })), '4xx'],
  ['rows whose sum overflows int64', () => {
    const r = rosterBody().rows[0];
    return postRoster({ period: '2026-11', total: '1.00', rows: [{ ...r, unit: '92233720368547758.07' }, { ...r, unit: '92233720368547758.07' }] });
  }, '4xx'],
  ['total exponent', () => postRoster(rosterBody({ total: '1e5' })), { status: 400, field: '/total', rule: 'money.format' }],
  ['period month 13', () => postRoster(rosterBody({ period: '2026-13' })), { status: 400, field: '/period' }],
  ['period text', () => postRoster(rosterBody({ period: 'abcd' })), { status: 400, field: '/period' }],
  ['period one-digit month', () => postRoster(rosterBody({ period: '2026-1' })), { status: 400, field: '/period' }],
  ['period year 0', () => postRoster(rosterBody({ period: '0000-01' })), '4xx'],
  ['Idempotency-Key with a control character (raw)', () => sendRaw(raw('POST', `/api/v1/employers/${fx.dwzh}/remittances`, { session: fx.agent, body: JSON.stringify(rosterBody()), headers: { 'Idempotency-Key': 'abc\u0001defgh' } })), '4xx'],
  ['Idempotency-Key twice (raw)', () => sendRaw(rawReplace(raw('POST', `/api/v1/employers/${fx.dwzh}/remittances`, { session: fx.agent, body: JSON.stringify(rosterBody({ period: '2026-12' })), headers: { 'Idempotency-Key': 'abcdefgh12' } }), 'Idempotency-Key: abcdefgh12', 'Idempotency-Key: abcdefgh12\r\nIdempotency-Key: zyxwvuts98')), '4xx'],

  // --- query parameters ---
  ['offset negative', () => op.get('/api/v1/employers?offset=-1&limit=50'), { status: 400, field: 'offset' }],
  ['limit text', () => op.get('/api/v1/employers?offset=0&limit=abc'), { status: 400, field: 'limit' }],
  ['offset 10^23', () => op.get('/api/v1/employers?offset=99999999999999999999999&limit=5'), { status: 400, field: 'offset' }],
  ['offset exponent', () => op.get('/api/v1/employers?offset=1e3&limit=5'), { status: 400, field: 'offset' }],
  ['offset NUL', () => op.get('/api/v1/employers?offset=%00&limit=5'), { status: 400 }],
  ['limit 0', () => op.get('/api/v1/employers?offset=0&limit=0'), 'no5xx'],
  ['limit a million', () => op.get('/api/v1/employers?offset=0&limit=1000000'), 'no5xx'],
  ['limit twice', () => op.get('/api/v1/employers?limit=5&limit=10'), 'no5xx'],
  ['query with invalid percent-encoding', () => op.get('/api/v1/employers?offset=%zz&limit=5'), '4xx'],
  ['statement from 30 February', () => op.get(`/api/v1/members/${fx.members[0].member.account_no}/statement?from=2026-02-30&to=2026-11-15`), { status: 400, field: 'from' }],
  ['statement to in year 99999', () => op.get(`/api/v1/members/${fx.members[0].member.account_no}/statement?from=2026-01-01&to=99999-01-01`), { status: 400, field: 'to' }],
  ['statement from after to', () => op.get(`/api/v1/members/${fx.members[0].member.account_no}/statement?from=2026-11-15&to=2026-01-01`), 'no5xx'],
  ['statement without dates', () => op.get(`/api/v1/members/${fx.members[0].member.account_no}/statement`), 'no5xx'],
  ['policy date 0000-00-00', () => op.get('/api/v1/policy?date=0000-00-00'), { status: 400, field: 'date' }],
  ['draft period %ff', () => op.get(`/api/v1/employers/${fx.dwzh}/remittances/draft?period=%ff`), { status: 400, field: 'period' }],
  ['draft period 9999-99', () => op.get(`/api/v1/employers/${fx.dwzh}/remittances/draft?period=9999-99`), { status: 400, field: 'period' }],

  // --- path parameters and unknown routes ---
  ['member id text', () => op.get('/api/v1/members/abc'), '4xx'],
  ['member id NUL', () => op.get('/api/v1/members/%00'), '4xx'],
  ['member id 5000 characters', () => op.get(`/api/v1/members/${'A'.repeat(5000)}`), 'no5xx'],
  ['member id with an encoded slash', () => op.get(`/api/v1/members/${fx.members[0].member.account_no}%2fstatement`), '4xx'],
  ['employer id with encoded dots', () => op.get('/api/v1/employers/%2e%2e'), '4xx'],
  ['extra segment', () => op.get(`/api/v1/employers/${fx.dwzh}/members/extra`), { status: 404 }],
  // --- maker-checker (docs/internals/approval.md) ---
  ['approval id text', () => op.post('/api/v1/approvals/abc/approve'), { status: 404, rule: 'approval.unknown' }],
  ['approval id 0', () => op.get('/api/v1/approvals/0'), { status: 404, rule: 'approval.unknown' }],
  ['approval id 10^30', () => op.post(`/api/v1/approvals/${'9'.repeat(30)}/reject`, { reason: 'x' }), { status: 404, rule: 'approval.unknown' }],
  ['approve with a body field', () => op.post('/api/v1/approvals/1/approve', { comment: 'ok' }), { status: 400, rule: 'json.unknown_field' }],
  ['reject reason a number', () => op.post('/api/v1/approvals/1/reject', { reason: 42 }), { status: 400, field: '/reason', rule: 'json.type' }],
  ['reject reason with a control character', () => op.post('/api/v1/approvals/1/reject', { reason: 'a\u0007b' }), '4xx'],
  ['approvals status unknown', () => op.get('/api/v1/approvals?status=done'), { status: 400, field: 'status', rule: 'query.enum' }],
  ['approvals kind unknown', () => op.get('/api/v1/approvals?kind=loan.grant'), { status: 400, field: 'kind' }],
  ['policy ratios_must_match a number', () => op.post('/api/v1/policies', { effective_from: '2031-01-01', unit_ratio_min_bp: 500, unit_ratio_max_bp: 1200, indiv_ratio_min_bp: 500, indiv_ratio_max_bp: 1200, city_avg_wage: '7500.00', min_wage: '2070.00', cap_multiple: 3, rounding: 'yuan', ratios_must_match: 1, deposit_rate_e7: 150000, day_basis: 360, note: 'x' }, { headers: { 'Idempotency-Key': idemKey('np') } }), { status: 400, field: '/ratios_must_match', rule: 'json.type' }],
  ['policy min above max', () => op.post('/api/v1/policies', { effective_from: '2031-01-01', unit_ratio_min_bp: 1200, unit_ratio_max_bp: 500, indiv_ratio_min_bp: 500, indiv_ratio_max_bp: 1200, city_avg_wage: '7500.00', min_wage: '2070.00', cap_multiple: 3, rounding: 'YUAN', ratios_must_match: true, deposit_rate_e7: 150000, day_basis: 360, note: 'x' }, { headers: { 'Idempotency-Key': idemKey('np') } }), { status: 400 }],
  ['unknown route', () => op.get('/api/v1/no-such-thing'), { status: 404 }],
  ['unknown version', () => op.get('/api/v2/employers'), { status: 404 }],
  ['POST to an unknown route', () => op.post('/api/v1/no-such-thing', {}), { status: 404 }],
  ['/api alone', () => op.get('/api'), { status: 404 }],
  ['empty segment', () => op.get('/api/v1//employers'), 'no5xx'],

  // --- wrong methods ---
  ['PUT /api/v1/employers', () => op.put('/api/v1/employers', employerBody()), { status: 405 }],
  ['DELETE /api/v1/employers', () => op.del('/api/v1/employers'), { status: 405 }],
  ['PATCH /api/v1/session', () => op.patch('/api/v1/session', {}), { status: 405 }],
  ['POST /healthz', () => op.post('/healthz', {}), { status: 405 }],
  ['DELETE a member', () => op.del(`/api/v1/members/${fx.members[0].member.account_no}`), { status: 405 }],
  ['GET /api/v1/registrations', () => op.get('/api/v1/registrations'), { status: 405 }],
  ['TRACE /api/v1/session', () => op.request('TRACE', '/api/v1/session'), { status: 405 }],
  ['OPTIONS /api/v1/employers', () => op.request('OPTIONS', '/api/v1/employers'), 'no5xx'],
  ['HEAD /healthz', () => request(srv, 'HEAD', '/healthz'), 'no5xx'],

  // --- headers and framing (raw) ---
  ['no Host header', () => sendRaw(raw('GET', '/healthz', { host: false })), 'framing'],
  ['HTTP/1.0 without Host', () => sendRaw(Buffer.from('GET /healthz HTTP/1.0\r\n\r\n')), 'framing'],
  ['a garbage request line', () => sendRaw(Buffer.from('GARBAGE\r\n\r\n')), 'framing'],
  ['Content-Length larger than the body', () => sendRaw(rawReplace(raw('POST', '/api/v1/employers', { body: '{}' }), 'Content-Length: 2', 'Content-Length: 200')), 'framing'],
  ['a bad chunk size', () => sendRaw(Buffer.from(`POST /api/v1/employers HTTP/1.1\r\nHost: x\r\nCookie: hpf_session=${op.cookie}\r\nX-CSRF-Token: ${op.csrf}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`)), 'framing'],
  ['a 64 KiB header', () => sendRaw(raw('GET', '/healthz', { headers: { 'X-Big': 'a'.repeat(64 * 1024) } })), 'framing'],
  ['300 headers', () => sendRaw(raw('GET', '/healthz', { headers: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`X-H${i}`, 'v'])) })), 'framing'],
  ['a URL of 20 000 characters', () => sendRaw(raw('GET', `/api/v1/employers?x=${'a'.repeat(20000)}`)), 'framing'],
  ['an 8 KiB session cookie', () => client(srv, { cookie: 'x'.repeat(8192) }).get('/api/v1/session'), { status: 401, rule: 'auth.required' }],
  ['two session cookies', () => request(srv, 'GET', '/api/v1/session', { headers: { cookie: `hpf_session=forged; hpf_session=${op.cookie}` } }), 'no5xx'],
  ['a 10 KiB CSRF token', () => op.post('/api/v1/employers', employerBody(), { csrf: 'x'.repeat(10240) }), { status: 403, rule: 'csrf.mismatch' }],
  ['an empty CSRF token', () => op.post('/api/v1/employers', employerBody(), { csrf: '' }), { status: 403, rule: ['csrf.missing', 'csrf.mismatch'] }],

  // --- login ---
  ['login with a 10 000-character username', () => client(srv).post('/api/v1/session', { username: 'u'.repeat(10000), password: 'Wrong#2026pass' }), '4xx'],
  ['login with a 500 KB password', () => client(srv).post('/api/v1/session', { username: 'operator', password: 'p'.repeat(500000) }), '4xx'],
  ['login with NUL in the username', () => client(srv).post('/api/v1/session', { username: 'operator\u0000', password: 'Operator#2026' }), '4xx'],
  ['login with a number as the password', () => client(srv).post('/api/v1/session', { username: 'operator', password: 2026 }), { status: 400, field: '/password', rule: 'json.type' }],
  ['login with an unknown field', () => client(srv).post('/api/v1/session', { username: 'operator', password: 'x', remember: true }), { status: 400, field: '/remember', rule: 'json.unknown_field' }],
  ['registration with nulls', () => client(srv).post('/api/v1/registrations', { id_number: null, name: null, account_no: null, password: null }), { status: 400 }],
];

const STATIC_TRAVERSAL = () => {
  const key = path.relative(srv.webDir, path.join(srv.dataDir, 'tls', 'key.pem'));
  const db = path.relative(srv.webDir, path.join(srv.dataDir, 'hpf.db'));
  return [
    '/../../../../../../etc/passwd',
    '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
    '/%252e%252e/%252e%252e/etc/passwd',
    '/assets/../../../../../../etc/passwd',
    '/..%5c..%5c..%5c..%5cetc%5cpasswd',
    '/index.html%00.js',
    `/${key}`,
    `/${key.split('/').map(encodeURIComponent).join('%2f')}`,
    `/${key.replaceAll('..', '%2e%2e')}`,
    `/${db}`,
    `/${db.replaceAll('..', '%2e%2e')}`,
  ];
};

describe('hostile requests get a 4xx problem, never a 5xx', () => {
  for (const [name, send, want] of CASES) {
    test(name, async () => {
      const res = await send();
      if (want === 'no5xx') assertNo5xx(res);
      else if (want === 'framing') assertFramingRefused(res);
      else if (want === '4xx') assertClientProblem(res);
      else assertProblem(res, want.status, { rule: want.rule, field: want.field });
      if (res.status === 405) assert.ok(res.headers.allow, `405 carries Allow: ${describeRes(res)}`);
    });
  }
});

describe('path traversal never reaches files outside the web directory', () => {
  test('each traversal path is refused or answered with the web page, never a file from outside', async () => {
    for (const p of STATIC_TRAVERSAL()) {
      const res = await sendRaw(raw('GET', p, { session: null }));
      assertNo5xx(res);
      assert.doesNotMatch(res.text, /root:.*:0:0:/, `${p} leaked /etc/passwd`);
      assert.doesNotMatch(res.text, /PRIVATE KEY/, `${p} leaked the TLS key`);
      assert.ok(!res.raw.includes('SQLite format 3'), `${p} leaked the database`);
    }
  });

  test('/api/ paths with dot segments are API problems, not files', async () => {
    for (const p of ['/api/v1/../../etc/passwd', '/api/v1/%2e%2e/%2e%2e/etc/passwd', `/api/v1/members/${fx.members[0].member.account_no}/../../employers`]) {
      const res = await sendRaw(raw('GET', p));
      assertNo5xx(res);
      assert.doesNotMatch(res.text, /root:.*:0:0:/);
    }
  });
});

describe('afterwards', () => {
  test('the server still answers /healthz and /readyz', async () => {
    assert.equal((await request(srv, 'GET', '/healthz')).status, 200);
    assert.equal((await request(srv, 'GET', '/readyz')).status, 200);
  });

  test('the sessions still work and nothing hostile was stored', async () => {
    const list = await op.get('/api/v1/employers?offset=0&limit=50');
    assert.equal(list.status, 200, describeRes(list));
    for (const e of list.json.items) {
      assert.doesNotMatch(e.name, /[\u0000-\u001f\u007f]/, `stored control characters: ${JSON.stringify(e.name)}`);
    }
  });

  test('no access-log line reports a 5xx', () => {
    const bad = srv.stderr().split('\n').filter((l) => /"status"\s*:\s*5\d\d\b/.test(l));
    assert.deepEqual(bad, []);
  });

  test('hpf serve exits 0 on SIGTERM (no sanitizer report, no leak)', async () => {
    await srv.stop();
  });
});
