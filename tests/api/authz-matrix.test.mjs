// The authorisation matrix, generated from the route table: every route of `hpf routes` (one line
// "METHOD PATTERN ROLES", ROLES comma-separated or "public") times every caller gets one
// well-formed request, and the answer's class is checked against what the table says:
//   anonymous on a route that is not public          -> 401 auth.required
//   a role the route does not list                   -> 403 auth.role (the administrator on
//                                                        every business route: deny by default)
//   a listed role outside its scope (the agent of another employer, another member: only on
//   routes with {dwzh} or {grzh})                     -> 403 scope.own_employer / scope.own_account
//   a listed role in scope, or anyone on a public route -> neither 401 nor 403 and never 5xx: a
//                                                        2xx, or a 4xx business/validation answer
// The expectations come from the route table alone, so a new route is covered as soon as the
// server lists it. The request comes from PARAMS (path parameters by name) and, for a route that
// is not a plain GET, from REQUESTS (body and headers by "METHOD PATTERN"): a route the test
// cannot build a request for fails by name, so no route is added without an authorisation test.
// Contract: docs/openapi.yaml "Roles"; the role check is in api/common.c, scope in service/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chineseName, companyName, createEmployer, idemKey, newIdNumber, newUscc, nextN, openMember, rosterFromDraft }
  from '../lib/fixtures.mjs';
import { assertProblem, describeRes } from '../lib/problem.mjs';
import { demoLogin, login, loginAs, request, runHpf, smsCode, startServer, stepUp, totpCode } from '../lib/server.mjs';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const HERE = 'tests/api/authz-matrix.test.mjs';

/** Parse `hpf routes`: [{method, pattern, roles: [...] | null (public), params: [...]}]. */
function parseRoutes(stdout) {
  const routes = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const m = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (\/\S*) (\S+)(?: fresh-factor)?$/.exec(line.trim());
    if (!m) throw new Error(`hpf routes: cannot read the line ${JSON.stringify(line)} (want "METHOD PATTERN ROLES [fresh-factor]")`);
    const roles = m[3] === 'public' ? null : m[3].split(',');
    const params = [...m[2].matchAll(/\{([^}]+)\}/g)].map((x) => x[1]);
    routes.push({ method: m[1], pattern: m[2], roles, params, key: `${m[1]} ${m[2]}` });
  }
  return routes;
}

const listed = await runHpf(['routes']);
if (listed.code !== 0) throw new Error(`hpf routes exited ${listed.code}: ${listed.stderr}`);
const ROUTES = parseRoutes(listed.stdout);

// ---- the world the requests are made in ------------------------------------------------------
// Employer 1 (the demo's) with its agent and member A (the demo's member login); employer 2
// registered through the API by the operator, with its agent and member B, who registers a
// login through the online hall. "own" ids are employer 1's and member A's.
const w = {};

before(async () => {
  w.srv = await startServer({ demo: { employers: 1, members: 3, months: 1, seed: 11 }, sim: true }); // sim: members' SMS codes
  w.op = await loginAs(w.srv, 'operator');
  w.agent = await loginAs(w.srv, 'agent');
  w.member = await loginAs(w.srv, 'member');
  w.admin = await loginAs(w.srv, 'admin');
  w.dwzh = w.agent.user.employer_account_no;
  w.grzh = w.member.user.account_no;
  assert.ok(w.dwzh && w.grzh, 'the demo agent and member name their accounts');
  const m1 = await w.op.get(`/api/v1/members/${w.grzh}`);
  assert.equal(m1.status, 200, describeRes(m1));
  assert.equal(m1.json.employer_account_no, w.dwzh, "the demo member belongs to the demo agent's employer");
  w.code = m1.json.verification_code; // the account opening's code, for the public document check

  const e2 = await createEmployer(w.op);
  w.dwzh2 = e2.employer.account_no;
  w.agent2 = await login(w.srv, e2.agent.username, e2.agent.password);
  const b = await openMember(w.agent2, w.dwzh2, { wage: '7200.00', phone: '13705150003' });
  const pw = 'Member#2026other';
  const reg = await request(w.srv, 'POST', '/api/v1/registrations',
    { body: { id_number: b.idNumber, name: b.name, account_no: b.member.account_no, password: pw } });
  assert.equal(reg.status, 201, `register member B: ${describeRes(reg)}`);
  w.member2 = await login(w.srv, b.idNumber, pw);
  assert.equal(w.member2.user.account_no, b.member.account_no);
  // A login of its own for the administrator's disable and enable routes: disabling a caller of
  // the matrix would end that caller's session.
  w.spare = (await createEmployer(w.op)).agent.username;

  // A pending request (maker-checker) of employer 1, made by the operator, for the approval
  // routes: employer 1's agent may decide it, the operator (its maker) gets a 409.
  const sep = await w.op.get(`/api/v1/employers/${w.dwzh}/remittances/draft?period=2026-09`);
  assert.equal(sep.status, 200, describeRes(sep));
  const sub = await w.op.post(`/api/v1/employers/${w.dwzh}/remittances`, rosterFromDraft(sep.json), { headers: { 'idempotency-key': idemKey('mxa') } });
  assert.equal(sub.status, 202, describeRes(sub));
  w.approval = sub.json.approval_id;

  // The roster of employer 1 for the business month, for the remittance route.
  const d = await w.op.get(`/api/v1/employers/${w.dwzh}/remittances/draft?period=2026-11`);
  assert.equal(d.status, 200, describeRes(d));
  assert.ok(d.json.rows.length > 0, 'employer 1 has members to remit for');
  w.roster = rosterFromDraft(d.json);
});
after(() => w.srv?.stop().catch(() => {}));

// ---- callers -----------------------------------------------------------------------------------
// session(): the client (null for anonymous); creds(): its login (to log in afresh); foreign:
// the caller holds a listed role but another employer or account than the one in the path.
const CALLERS = [
  { name: 'anonymous', role: null, session: () => null },
  { name: 'member', role: 'member', session: () => w.member, creds: () => demoLogin(w.srv, 'member') },
  { name: 'agent', role: 'agent', session: () => w.agent, creds: () => demoLogin(w.srv, 'agent') },
  { name: 'operator', role: 'operator', session: () => w.op, creds: () => demoLogin(w.srv, 'operator') },
  { name: 'admin', role: 'admin', session: () => w.admin, creds: () => demoLogin(w.srv, 'admin') },
  { name: 'agent of another employer', role: 'agent', foreign: 'scope.own_employer', session: () => w.agent2 },
  { name: 'another member', role: 'member', foreign: 'scope.own_account', session: () => w.member2 },
];

/** The value of each path parameter the test knows: the "own" world of employer 1, member A. */
const PARAMS = {
  dwzh: () => w.dwzh,
  grzh: () => w.grzh,
  id: () => w.approval,
  code: () => w.code,
  username: () => w.spare,
  // A letter number no transfer has: allowed callers meet 404 citytransfer.unknown.
  contact_no: () => '3209002611159999',
  // A voucher number no voucher has: allowed callers meet 404 ledger.voucher_unknown.
  voucher_no: () => 'V20260101999999',
};

/**
 * The request of every route that is not a plain GET (and the query of GETs that want one), by
 * "METHOD PATTERN". build(caller) resolves {body, headers, query, session}; session 'fresh'
 * logs the caller in again and uses that session (for routes that end a session).
 */
const REQUESTS = {
  'POST /api/v1/session': {
    // Logging in again while logged in is fine; the new cookie is not kept (request() has no jar).
    // Operators and agents send a TOTP code (each is good once); a member gets a 202 challenge.
    build: async (c) => {
      const l = c.creds ? c.creds() : demoLogin(w.srv, 'member');
      const body = { username: l.username, password: l.password };
      if (l.totp) body.totp = await totpCode(w.srv, l.username, l.totp);
      return { body };
    },
  },
  'POST /api/v1/session/otp': {
    // A fresh login challenge of the demo member, answered with the code the sim received.
    build: async () => {
      const l = demoLogin(w.srv, 'member');
      const r = await request(w.srv, 'POST', '/api/v1/session', { body: { username: l.username, password: l.password } });
      assert.equal(r.status, 202, describeRes(r));
      return { body: { challenge: r.json.challenge, code: await smsCode(w.srv, r.json.challenge) } };
    },
  },
  'POST /api/v1/session/step-up': {
    // Operators and agents prove a TOTP code; members ask for an SMS (202). A request that the
    // CSRF check (or, without a session, the login check) refuses first spends no code.
    build: async (c, { csrf }) => {
      if (c.role === 'member' || !csrf || !c.creds) return { body: c.role === 'member' ? {} : { totp: '000000' } };
      const l = c.creds();
      return { body: { totp: await totpCode(w.srv, l.username, l.totp) } };
    },
  },
  'POST /api/v1/counter/verdicts': {
    build: () => ({ body: { case_ref: `MX-${nextN()}`, kind: 'id_card', result: 'pass', device_id: 'reader-mx', evidence_sha256: 'cd'.repeat(32) } }),
  },
  'GET /api/v1/counter/verdicts': { build: () => ({ query: 'case_ref=MX-1' }) },
  'DELETE /api/v1/session': { build: () => ({ session: 'fresh' }) },
  'POST /api/v1/registrations': {
    // A member opened just now, without a login yet: the registration itself is well-formed.
    build: async () => {
      const m = await openMember(w.op, w.dwzh, { wage: '5100.00' });
      return { body: { id_number: m.idNumber, name: m.name, account_no: m.member.account_no, password: 'Member#2026reg' } };
    },
  },
  'POST /api/v1/employers': {
    build: () => {
      const n = nextN();
      return {
        body: {
          name: companyName(n), uscc: newUscc(n), unit_ratio_bp: 1200, indiv_ratio_bp: 1200,
          agent: { username: `agent-mx${n}`, password: 'Agent#2026pass', name: chineseName(n) },
        },
      };
    },
  },
  'POST /api/v1/employers/{dwzh}/members': {
    build: () => ({ body: { name: chineseName(nextN()), id_number: newIdNumber(), wage: '6100.00' } }),
  },
  'POST /api/v1/employers/{dwzh}/remittances': {
    // The first allowed caller posts the month (201); later ones get 409 remittance.period_posted.
    build: () => ({ body: w.roster, headers: { 'idempotency-key': idemKey('mx') } }),
  },
  'GET /api/v1/employers/{dwzh}/remittances/draft': { build: () => ({ query: 'period=2026-11' }) },
  // 补缴 and 缓缴 (tests/api/backpay.test.mjs, deferral.test.mjs): well-formed submits; the
  // business checks answer whatever they answer once the role and scope passed.
  'POST /api/v1/employers/{dwzh}/backpays': {
    build: () => ({ body: { lines: [{ account_no: w.roster.rows[0].account_no, period: '2026-11' }] }, headers: { 'idempotency-key': idemKey('mxb') } }),
  },
  'POST /api/v1/employers/{dwzh}/deferrals': {
    build: () => ({ body: { from: '2027-01', to: '2027-03', reason: '经营困难', document_no: '盐公积金管委〔2026〕1号' }, headers: { 'idempotency-key': idemKey('mxd') } }),
  },
  // Maker-checker: decisions on w.approval (the first allowed decision wins, later ones 409).
  'POST /api/v1/approvals/{id}/approve': { build: () => ({}) },
  'POST /api/v1/approvals/{id}/reject': { build: () => ({ body: { reason: '花名册有误' } }) },
  'POST /api/v1/approvals/{id}/withdraw': { build: () => ({}) },
  'GET /api/v1/approvals': { build: () => ({ query: 'status=pending' }) },
  'POST /api/v1/policies': {
    build: () => ({
      body: {
        effective_from: `2030-${String((nextN() % 12) + 1).padStart(2, '0')}-01`, unit_ratio_min_bp: 500, unit_ratio_max_bp: 1200,
        indiv_ratio_min_bp: 500, indiv_ratio_max_bp: 1200, city_avg_wage: '7500.00', min_wage: '2070.00', cap_multiple: 3,
        rounding: 'yuan', ratios_must_match: true, deposit_rate_e7: 150000, day_basis: 360, note: '授权矩阵',
      },
      headers: { 'idempotency-key': idemKey('mxp') },
    }),
  },
  'GET /api/v1/members/{grzh}/statement': { build: () => ({ query: 'from=2026-01-01&to=2026-11-15' }) },
  // Administration: a new operator each time; the spare agent disabled, then enabled again.
  'POST /api/v1/operators': {
    build: () => {
      const n = nextN();
      return { body: { username: `op-mx${n}`, name: chineseName(n), password: 'Counter#2026mx', branch: '02' } };
    },
  },
  // Account states on w's member (docs/internals/accounts.md): the first allowed caller seals
  // it, later ones may meet 409 account.state; a transfer to its own employer is 409.
  // Cross-city transfers and merge (docs/internals/citytransfer.md): w's member is 01, so an
  // application is taken (later ones 409 citytransfer.open), a transfer out 409 account.state;
  // a merge of w's member into itself is 422 merge.same_account.
  'POST /api/v1/city-transfers/in': {
    build: () => ({ body: { account_no: w.grzh, out_centre: '320100', or_unit: '南京某公司', or_acct: 'NJ1' }, headers: { 'idempotency-key': idemKey('mxct') } }),
  },
  'POST /api/v1/city-transfers/out': {
    build: () => ({ body: { account_no: w.grzh, contact_no: '3201002611150001', in_centre: '320100', reason: '联系函' }, headers: { 'idempotency-key': idemKey('mxco') } }),
  },
  'POST /api/v1/city-transfers/{contact_no}/cancel': { build: () => ({ body: { reason: '撤销' } }) },
  'POST /api/v1/city-transfers/{contact_no}/query': { build: () => ({}) },
  'POST /api/v1/vouchers/{voucher_no}/reversal': {
    build: () => ({ body: { reason: '错缴更正' }, headers: { 'idempotency-key': idemKey('mxrv') } }),
  },
  'POST /api/v1/member-merges': {
    build: () => ({ body: { from_account: w.grzh, to_account: w.grzh, reason: '重复账户' }, headers: { 'idempotency-key': idemKey('mxmg') } }),
  },
  'POST /api/v1/members/{grzh}/seal': { build: () => ({ body: { reason: '解除劳动关系' } }) },
  'POST /api/v1/members/{grzh}/unseal': { build: () => ({ body: {} }) },
  'POST /api/v1/members/{grzh}/freeze': { build: () => ({ body: { reason: '法院协助冻结', order_ref: '(2026)苏0902执1号' } }) },
  'POST /api/v1/members/{grzh}/unfreeze': { build: () => ({ body: { reason: '解除冻结' } }) },
  // (the member's resident ID is its login name)
  'POST /api/v1/members/{grzh}/transfer': { build: () => ({ body: { to_employer: w.dwzh, id_number: demoLogin(w.srv, 'member').username } }) },
  // 基数调整 / 比例调整 (docs/internals/contribution-changes.md): the first allowed caller adjusts,
  // later ones meet 409 contribution.base_year_done or 422 contribution.ratio_unchanged.
  'POST /api/v1/employers/{dwzh}/base-adjustments': {
    build: () => ({ body: { year: 2026, rows: [{ account_no: w.grzh, wage: '6200.00' }] }, headers: { 'idempotency-key': idemKey('mxb') } }),
  },
  'POST /api/v1/employers/{dwzh}/ratio-changes': {
    build: () => ({ body: { unit_ratio_bp: 1100, indiv_ratio_bp: 1100, effective_month: '2026-12' }, headers: { 'idempotency-key': idemKey('mxr') } }),
  },
  // Voluntary depositors: a new person each time; w's member is no voluntary account (404).
  'POST /api/v1/voluntary': {
    build: () => ({ body: { name: chineseName(nextN()), id_number: newIdNumber(), base: '5000.00', ratio_bp: 1600 } }),
  },
  'POST /api/v1/voluntary/{grzh}/deposits': { build: () => ({ body: { period: '2026-11' } }) },
  'POST /api/v1/voluntary/{grzh}/stop': { build: () => ({ body: {} }) },
  'POST /api/v1/users/{username}/disable': { build: () => ({}) },
  'POST /api/v1/users/{username}/enable': { build: () => ({}) },
};

/** What the table says a caller gets: {status, rule} or {allowed: true}. */
function expected(route, caller) {
  if (route.roles === null) return { allowed: true };
  if (caller.role === null) return { status: 401, rule: 'auth.required' };
  if (!route.roles.includes(caller.role)) return { status: 403, rule: 'auth.role' };
  if (caller.foreign) {
    // A member out of scope on a route without {grzh} (none today) may be refused either way.
    const rule = caller.role === 'member' && !route.params.includes('grzh') ? /^scope\./ : caller.foreign;
    return { status: 403, rule };
  }
  return { allowed: true };
}

function callersOf(route) {
  return CALLERS.filter((c) => !c.foreign || route.params.some((p) => p === 'dwzh' || p === 'grzh'));
}

/** Why the test cannot build a request for this route, or null. */
function unbuildable(route) {
  const strange = (route.roles ?? []).filter((r) => !CALLERS.some((c) => c.role === r && !c.foreign));
  if (strange.length) {
    return `${route.key}: the role ${strange.join(', ')} has no caller in the authorisation matrix; add a caller with that `
      + `role to CALLERS in ${HERE}`;
  }
  const unknown = route.params.filter((p) => !PARAMS[p]);
  if (unknown.length) {
    return `${route.key}: the path parameter ${unknown.map((p) => `{${p}}`).join(', ')} is unknown to the authorisation `
      + `matrix; add it to PARAMS in ${HERE}`;
  }
  if (route.method !== 'GET' && !REQUESTS[route.key]) {
    return `${route.key}: the authorisation matrix cannot build a well-formed request for this route; add it to REQUESTS `
      + `in ${HERE} (and the route's roles are then tested automatically)`;
  }
  return null;
}

/** Send one request as a caller; nothing of the answer is kept in the caller's cookie jar. */
async function send(route, caller, { csrf = true } = {}) {
  const spec = REQUESTS[route.key];
  const built = spec ? await spec.build(caller, { csrf }) : {};
  let s = caller.session();
  // A request the CSRF check refuses ends no session: it may use the caller's own.
  if (built.session === 'fresh' && s && csrf) {
    const l = caller.creds();
    s = await login(w.srv, l.username, l.password);
  }
  const path = route.pattern.replace(/\{([^}]+)\}/g, (_, p) => encodeURIComponent(PARAMS[p]()))
    + (built.query ? `?${built.query}` : '');
  const headers = { ...(built.headers ?? {}) };
  if (s) {
    headers.cookie = `hpf_session=${s.cookie}`;
    if (WRITES.has(route.method) && csrf) headers['x-csrf-token'] = s.csrf;
  }
  const res = await request(w.srv, route.method, path, { body: built.body, headers });
  // A money route once the session's second factor is older than the step-up window (a slow
  // run): prove it again and send once more, as a client does; the matrix is about roles.
  if (res.status === 401 && res.json?.rule === 'auth.step_up_required' && s?.login) {
    await stepUp(s);
    return request(w.srv, route.method, path, { body: built.body, headers });
  }
  return res;
}

const results = new Map(); // route key -> [`caller: status rule`]

describe('the route table', () => {
  test('hpf routes lists the API, each route with its roles', () => {
    assert.ok(ROUTES.length >= 15, `hpf routes listed ${ROUTES.length} routes`);
    assert.equal(new Set(ROUTES.map((r) => r.key)).size, ROUTES.length, 'no route is listed twice');
    for (const r of ROUTES) assert.match(r.pattern, /^\/api\/v1\//, `${r.key} is under /api/v1`);
  });

  test('every request builder belongs to a route the server has (no stale entries)', () => {
    const keys = new Set(ROUTES.map((r) => r.key));
    assert.deepEqual(Object.keys(REQUESTS).filter((k) => !keys.has(k)), [], `stale entries in REQUESTS of ${HERE}`);
  });
});

for (const route of ROUTES) {
  describe(`${route.key} (${route.roles ? route.roles.join(',') : 'public'})`, () => {
    const why = unbuildable(route);
    if (why) {
      test('a well-formed request can be built', () => assert.fail(why));
      return;
    }
    for (const caller of callersOf(route)) {
      const exp = expected(route, caller);
      const label = exp.allowed ? 'allowed: neither 401 nor 403, never 5xx' : `${exp.status} ${exp.rule}`;
      test(`${caller.name}: ${label}`, async () => {
        const res = await send(route, caller);
        const line = `${caller.name}: ${res.status}${res.json?.rule ? ` ${res.json.rule}` : ''}`;
        if (!results.has(route.key)) results.set(route.key, []);
        results.get(route.key).push(line);
        if (!exp.allowed) {
          assertProblem(res, exp.status, { rule: exp.rule });
          return;
        }
        const ctx = describeRes(res);
        assert.ok(res.status < 500, `an allowed caller never gets a 5xx: ${ctx}`);
        assert.ok(res.status !== 401 && res.status !== 403, `${caller.name} may use ${route.key}: ${ctx}`);
        if (res.status >= 400) {
          const p = assertProblem(res, res.status);
          assert.doesNotMatch(String(p.rule ?? ''), /^(auth|scope|csrf)\./, `a business answer, not a refusal: ${ctx}`);
        }
      });
    }
    // A write made with a session needs the session's CSRF token, whoever makes it.
    if (WRITES.has(route.method) && route.roles) {
      for (const caller of CALLERS.filter((c) => !c.foreign && c.role && route.roles.includes(c.role))) {
        test(`${caller.name} without X-CSRF-Token: 403 csrf.missing`, async () => {
          const res = await send(route, caller, { csrf: false });
          assertProblem(res, 403, { rule: 'csrf.missing' });
        });
      }
    }
  });
}

test('the matrix as derived and answered (diagnostic)', (t) => {
  const lines = [];
  for (const r of ROUTES) {
    lines.push(`${r.key} [${r.roles ? r.roles.join(',') : 'public'}] ${(results.get(r.key) ?? ['(not run)']).join('; ')}`);
  }
  for (const l of lines) t.diagnostic(l);
  if (process.env.HPF_AUTHZ_PRINT) console.log(lines.join('\n'));
  assert.equal(results.size, ROUTES.filter((r) => !unbuildable(r)).length, 'every route with a request was exercised');
});

test('hpf serve exits 0 on SIGTERM (no sanitizer report, no leak)', async () => {
  await w.srv.stop();
});
