// Isolation: member A cannot read or act on member B's data, and the agent of employer A cannot
// touch employer B, by any id in any place. Every route of `hpf routes` with a {grzh} or {dwzh}
// is called with the other side's account numbers (both directions, and member A against a
// colleague of the same employer) and must answer 403 with no data of the other side in the
// body; ids in other places (encodings of the id in the path, query strings, bodies, roster
// rows naming another employer's member) are refused or ignored without a trace of the other
// side either. A route with a path parameter this test cannot fill, or a write it cannot build
// a body for, fails by name. Contract: docs/openapi.yaml "Roles" (scope.own_account,
// scope.own_employer: "whether or not the other account exists"); scope checks in service/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createEmployer, idemKey, newIdNumber, openMember, remitAndApprove, rosterFromDraft } from '../lib/fixtures.mjs';
import { maskId, mod112Check } from '../lib/ids.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import { login, loginAs, request, runHpf, startServer } from '../lib/server.mjs';

const HERE = 'tests/api/isolation.test.mjs';
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const PERIOD = '2026-11';

const listed = await runHpf(['routes']);
if (listed.code !== 0) throw new Error(`hpf routes exited ${listed.code}: ${listed.stderr}`);
const ROUTES = listed.stdout.trim().split('\n').map((line) => {
  const [method, pattern, roles] = line.trim().split(' ');
  return {
    method, pattern, key: `${method} ${pattern}`, roles: roles === 'public' ? null : roles.split(','),
    params: [...pattern.matchAll(/\{([^}]+)\}/g)].map((x) => x[1]),
  };
});
const SCOPED = ROUTES.filter((r) => r.params.includes('dwzh') || r.params.includes('grzh'));

// Two sides. Side A: the demo's employer 1, its agent, member A (the demo member login) and a
// colleague A2 of the same employer. Side B: employer 2, registered by the operator through
// the API, its agent, member B (with an online-hall login) and B2; employer 2 has remitted a
// month, so B has a balance and a statement to leak.
const A = {};
const B = {};
let srv;
let op;
let admin; // manages logins: no route with {grzh} or {dwzh} admits the role

async function get(path) {
  const r = await op.get(path);
  assert.equal(r.status, 200, describeRes(r));
  return r.json;
}

/** Every string that would betray a side's members or employer. */
function secretsOf(side) {
  const s = [];
  for (const m of side.members) s.push(m.account_no, m.name, m.id_number, maskId(m.id_number));
  s.push(side.dwzh, side.employer.name, side.employer.uscc, ...(side.agentNames ?? []));
  return s.filter((x) => typeof x === 'string' && x.length >= 2);
}

/** No secret of the side in the response, except what the request itself carried. */
function assertNoTrace(res, side, sent = '') {
  const leaked = secretsOf(side).filter((x) => res.text.includes(x) && !sent.includes(x));
  assert.deepEqual(leaked, [], `the answer carries the other side's data: ${describeRes(res)}`);
}

async function remitFor(agentSess, dwzh) {
  const d = assertOk(await agentSess.get(`/api/v1/employers/${dwzh}/remittances/draft?period=${PERIOD}`));
  await remitAndApprove(agentSess, op, dwzh, rosterFromDraft(d), { key: idemKey('iso') }); // maker-checker
}

before(async () => {
  srv = await startServer({ demo: { employers: 1, members: 3, months: 1, seed: 13 }, sim: true }); // sim: members' SMS codes
  op = await loginAs(srv, 'operator');
  admin = await loginAs(srv, 'admin');

  A.agent = await loginAs(srv, 'agent');
  A.member = await loginAs(srv, 'member');
  A.dwzh = A.agent.user.employer_account_no;
  A.employer = await get(`/api/v1/employers/${A.dwzh}`);
  const aList = await get(`/api/v1/employers/${A.dwzh}/members?offset=0&limit=200`);
  const self = aList.items.find((m) => m.account_no === A.member.user.account_no);
  assert.ok(self, "member A belongs to agent A's employer");
  const mate = aList.items.find((m) => m.account_no !== A.member.user.account_no);
  assert.ok(mate, 'employer A has a second member');
  A.grzh = self.account_no;
  A.grzh2 = mate.account_no;
  // Full id numbers: A's is the username; the colleague's is not shown unmasked anywhere, so
  // the masked form (what a leak would show) is checked.
  A.members = [{ ...self, id_number: A.member.user.username }, { ...mate, id_number: mate.id_number }];
  A.agentNames = [A.agent.user.username];

  const e = await createEmployer(op, { unitBp: 1000 });
  B.dwzh = e.employer.account_no;
  B.employer = e.employer;
  B.agent = await login(srv, e.agent.username, e.agent.password);
  B.agentNames = [e.agent.username, e.agent.name];
  const b1 = await openMember(B.agent, B.dwzh, { name: '欧阳青青', wage: '8800.00', phone: '13905150002' });
  const b2 = await openMember(B.agent, B.dwzh, { name: '司马明远', wage: '5300.00' });
  B.grzh = b1.member.account_no;
  B.grzh2 = b2.member.account_no;
  B.members = [{ ...b1.member, id_number: b1.idNumber }, { ...b2.member, id_number: b2.idNumber }];
  const pw = 'Member#2026ouyang';
  const reg = await request(srv, 'POST', '/api/v1/registrations',
    { body: { id_number: b1.idNumber, name: b1.name, account_no: B.grzh, password: pw } });
  assert.equal(reg.status, 201, describeRes(reg));
  B.login = { username: b1.idNumber, password: pw };
  B.member = await login(srv, b1.idNumber, pw);
  await remitFor(B.agent, B.dwzh);
  B.balance = (await get(`/api/v1/members/${B.grzh}`)).balance;
  assert.notEqual(B.balance, '0.00', 'member B has money to protect');
});
after(() => srv?.stop().catch(() => {}));

// ---- every scoped route, with the other side's ids ------------------------------------------

/** The body of a write, by "METHOD PATTERN" (well-formed, so that the scope check decides). */
const BODIES = {
  'POST /api/v1/employers/{dwzh}/members': () => ({ body: { name: '上官云', id_number: newIdNumber(), wage: '6000.00' } }),
  'POST /api/v1/members/{grzh}/seal': () => ({ body: { reason: '解除劳动关系' } }),
  'POST /api/v1/members/{grzh}/unseal': () => ({ body: {} }),
  'POST /api/v1/members/{grzh}/freeze': () => ({ body: { reason: '冻结', order_ref: '(2026)苏0902执1号' } }),
  'POST /api/v1/members/{grzh}/unfreeze': () => ({ body: { reason: '解冻' } }),
  // The attacker's agent asks to take the other side's member into its own employer (an 内部转移
  // by the new employer's agent), without knowing the member's resident ID.
  'POST /api/v1/members/{grzh}/transfer': (victim) => ({
    body: { to_employer: victim.dwzh === A.dwzh ? B.dwzh : A.dwzh, id_number: newIdNumber() },
  }),
  'POST /api/v1/employers/{dwzh}/base-adjustments': (victim) => ({
    body: { year: 2026, rows: [{ account_no: victim.grzh, wage: '6000.00' }] },
    headers: { 'idempotency-key': idemKey('iso-b') },
  }),
  'POST /api/v1/employers/{dwzh}/ratio-changes': () => ({
    body: { unit_ratio_bp: 1000, indiv_ratio_bp: 1000, effective_month: '2026-12' },
    headers: { 'idempotency-key': idemKey('iso-r') },
  }),
  'POST /api/v1/voluntary/{grzh}/deposits': () => ({ body: { period: '2026-11' } }),
  'POST /api/v1/employers/{dwzh}/backpays': (victim) => ({
    body: { lines: [{ account_no: victim.grzh, period: PERIOD }] },
    headers: { 'idempotency-key': idemKey('iso-bp') },
  }),
  'POST /api/v1/employers/{dwzh}/deferrals': () => ({
    body: { from: '2027-01', to: '2027-03', reason: '经营困难', document_no: '盐公积金管委〔2026〕2号' },
    headers: { 'idempotency-key': idemKey('iso-d') },
  }),
  'POST /api/v1/voluntary/{grzh}/stop': () => ({ body: {} }),
  'POST /api/v1/employers/{dwzh}/remittances': (victim) => ({
    body: {
      period: PERIOD,
      total: '1.00',
      rows: [{ account_no: victim.grzh, unit: '0.50', individual: '0.50' }],
    },
    headers: { 'idempotency-key': idemKey('iso-w') },
  }),
};

/** What the victim side holds that a write could change: its members and remittances. */
async function footprint(side) {
  const ms = await get(`/api/v1/employers/${side.dwzh}/members?offset=0&limit=200`);
  const rs = await get(`/api/v1/employers/${side.dwzh}/remittances?offset=0&limit=200`);
  return JSON.stringify({ members: ms.items.map((m) => [m.account_no, m.balance, m.state]), remittances: rs.items });
}

const ATTACKS = [
  // [name, attacker session, attacker role, victim side, which victim member]
  { name: 'member A on member B', who: () => A.member, role: 'member', side: () => B, grzh: () => B.grzh },
  { name: 'member A on colleague A2', who: () => A.member, role: 'member', side: () => A, grzh: () => A.grzh2, dwzh: () => A.dwzh },
  { name: 'member B on member A', who: () => B.member, role: 'member', side: () => A, grzh: () => A.grzh },
  { name: 'agent A on employer B', who: () => A.agent, role: 'agent', side: () => B, grzh: () => B.grzh },
  { name: 'agent B on employer A', who: () => B.agent, role: 'agent', side: () => A, grzh: () => A.grzh },
  { name: 'the administrator on employer B', who: () => admin, role: 'admin', side: () => B, grzh: () => B.grzh },
];

function expectedRule(route, role) {
  if (!route.roles.includes(role)) return 'auth.role';
  // The new employer's agent may take over an account it names by resident ID: a wrong one is
  // refused like an unknown account, before anything about the account is told.
  if (route.key === 'POST /api/v1/members/{grzh}/transfer' && role === 'agent') return 'account.identity_mismatch';
  return role === 'member' ? 'scope.own_account' : 'scope.own_employer';
}

describe('every route with {grzh} or {dwzh}, called with the other side\'s account numbers', () => {
  test('the route table has scoped routes', () => assert.ok(SCOPED.length >= 8, `${SCOPED.length} scoped routes`));

  for (const route of SCOPED) {
    describe(route.key, () => {
      const unknown = route.params.filter((p) => p !== 'dwzh' && p !== 'grzh');
      if (unknown.length || (route.method !== 'GET' && !BODIES[route.key])) {
        test('the isolation test can build this request', () => assert.fail(unknown.length
          ? `${route.key}: the path parameter {${unknown.join('}, {')}} is unknown to ${HERE}; teach it which id of the other side to use`
          : `${route.key}: ${HERE} has no body for this write; add one to BODIES so that the scope check is reached`));
        return;
      }
      for (const at of ATTACKS) {
        const rule = route.roles ? expectedRule(route, at.role) : null;
        test(`${at.name}: 403 ${rule}, no trace of the other side`, async () => {
          const side = at.side();
          const victim = { dwzh: at.dwzh ? at.dwzh() : side.dwzh, grzh: at.grzh() };
          const path = route.pattern.replace(/\{(dwzh|grzh)\}/g, (_, p) => victim[p]);
          const built = route.method === 'GET' ? {} : BODIES[route.key](victim);
          const s = at.who();
          const headers = { cookie: `hpf_session=${s.cookie}`, ...(built.headers ?? {}) };
          if (WRITES.has(route.method)) headers['x-csrf-token'] = s.csrf;
          const before1 = WRITES.has(route.method) ? await footprint(side) : null;
          const res = await request(srv, route.method, path, { body: built.body, headers });
          assertProblem(res, 403, { rule });
          assertNoTrace(res, side, path + JSON.stringify(built.body ?? ''));
          if (before1 !== null) assert.equal(await footprint(side), before1, `${route.key} by ${at.name} changed the other side`);
          if (route.method === 'GET') {
            const head = await request(srv, 'HEAD', path, { headers });
            assert.equal(head.status, 403, `HEAD ${path}: ${describeRes(head)}`);
            assert.equal(head.text, '', 'HEAD has no body');
          }
        });
      }
    });
  }
});

// ---- the same id in other shapes --------------------------------------------------------------

function pctAll(s) {
  return [...s].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/** Spellings of account number `id` in a path (after `prefix`), none of which may reach it. */
function spellings(prefix, id, ownId) {
  return [
    `${prefix}/${pctAll(id)}`,
    `${prefix}/${id.toLowerCase()}`,
    `${prefix}/${id}%20`,
    `${prefix}/%20${id}`,
    `${prefix}/0${id}`,
    `${prefix}/${id}/`,
    `${prefix}//${id}`,
    `${prefix}/${id};x=1`,
    `${prefix}/${ownId}/../${id}`,
    `${prefix}/${ownId}%2F..%2F${id}`,
    `${prefix}/${id}%00`,
    `${prefix}/${id}.json`,
    `${prefix}/${id}?`,
  ];
}

async function assertRefused(sess, path, side, method = 'GET') {
  const res = await request(srv, method, path, { headers: { cookie: `hpf_session=${sess.cookie}` } });
  assert.ok(res.status >= 400 && res.status < 500, `a 4xx for ${path}: ${describeRes(res)}`);
  assertNoTrace(res, side, path);
}

describe('other spellings of the other side\'s ids in the path', () => {
  test("member A: encodings of B's account number are refused", async () => {
    for (const p of spellings('/api/v1/members', B.grzh, A.grzh)) await assertRefused(A.member, p, B);
    for (const p of spellings('/api/v1/members', B.grzh, A.grzh)) {
      const [base, q] = p.split('?');
      await assertRefused(A.member, `${base}/statement${q !== undefined ? '?' : ''}`, B);
    }
  });

  test("member A: encodings of the colleague's account number are refused", async () => {
    const colleague = { members: [A.members[1]], employer: {}, dwzh: '' }; // A2's data only
    for (const p of spellings('/api/v1/members', A.grzh2, A.grzh)) await assertRefused(A.member, p, colleague);
  });

  test("agent A: encodings of employer B's and member B's account numbers are refused", async () => {
    for (const p of spellings('/api/v1/employers', B.dwzh, A.dwzh)) {
      await assertRefused(A.agent, p, B);
      const [base] = p.split('?');
      await assertRefused(A.agent, `${base}/members`, B);
      await assertRefused(A.agent, `${base}/remittances`, B);
    }
    for (const p of spellings('/api/v1/members', B.grzh, A.grzh)) await assertRefused(A.agent, p, B);
  });

  test('an account number that does not exist is refused like an existing one (no oracle for members)', async () => {
    const body = '32090099999999999';
    const ghost = body + mod112Check(body);
    const r1 = await A.member.get(`/api/v1/members/${ghost}`);
    const r2 = await A.member.get(`/api/v1/members/${B.grzh}`);
    const p1 = assertProblem(r1, 403, { rule: 'scope.own_account' });
    const p2 = assertProblem(r2, 403, { rule: 'scope.own_account' });
    assert.equal(p1.detail, p2.detail);
  });
});

describe('ids in query strings do not widen the scope', () => {
  const extra = () => `grzh=${B.grzh}&account_no=${B.grzh}&dwzh=${B.dwzh}&employer_account_no=${B.dwzh}`;

  test("member A's account with B's ids in the query is still A's", async () => {
    const res = await A.member.get(`/api/v1/members/${A.grzh}?${extra()}`);
    assert.equal(assertOk(res).account_no, A.grzh);
    assertNoTrace(res, B, extra());
  });

  test("member A's statement with B's ids in the query is still A's", async () => {
    const res = await A.member.get(`/api/v1/members/${A.grzh}/statement?from=2026-01-01&to=2026-11-15&${extra()}`);
    assert.equal(assertOk(res).account_no, A.grzh);
    assertNoTrace(res, B, extra());
  });

  test("member A's session with B's ids in the query is still A's", async () => {
    const res = await A.member.get(`/api/v1/session?${extra()}`);
    assert.equal(assertOk(res).user.account_no, A.grzh);
    assertNoTrace(res, B, extra());
  });

  test("agent A's lists with employer B in the query list employer A only", async () => {
    const plain = await A.agent.get(`/api/v1/employers/${A.dwzh}/members?offset=0&limit=200`);
    const res = await A.agent.get(`/api/v1/employers/${A.dwzh}/members?offset=0&limit=200&${extra()}`);
    assert.deepEqual(assertOk(res), assertOk(plain));
    for (const m of res.json.items) assert.equal(m.employer_account_no, A.dwzh);
    assertNoTrace(res, B, extra());
    for (const sub of ['remittances?offset=0&limit=200', `remittances/draft?period=${PERIOD}`]) {
      const p = await A.agent.get(`/api/v1/employers/${A.dwzh}/${sub}`);
      const r = await A.agent.get(`/api/v1/employers/${A.dwzh}/${sub}&${extra()}`);
      assert.deepEqual(assertOk(r), assertOk(p), sub);
      assertNoTrace(r, B, extra());
    }
  });
});

describe('ids in bodies', () => {
  async function draftA() {
    return assertOk(await A.agent.get(`/api/v1/employers/${A.dwzh}/remittances/draft?period=${PERIOD}`));
  }

  test("agent A's roster naming member B is 422 remittance.member_unknown and posts nothing", async () => {
    const d = await draftA();
    const before1 = [await footprint(A), await footprint(B)];
    const roster = rosterFromDraft(d);
    roster.rows.push({ account_no: B.grzh, unit: '1.00', individual: '1.00' });
    const res = await A.agent.post(`/api/v1/employers/${A.dwzh}/remittances`, roster, { headers: { 'Idempotency-Key': idemKey('iso-b') } });
    assertProblem(res, 422, { rule: 'remittance.member_unknown', field: `/rows/${roster.rows.length - 1}/account_no` });
    assertNoTrace(res, B, B.grzh);
    assert.deepEqual([await footprint(A), await footprint(B)], before1, 'nothing was posted on either side');
  });

  test("a roster row naming member B is answered exactly like one naming no account (no oracle)", async () => {
    const body = '32090099999999998';
    const ghost = body + mod112Check(body);
    const answers = [];
    for (const acct of [B.grzh, ghost]) {
      const res = await A.agent.post(`/api/v1/employers/${A.dwzh}/remittances`,
        { period: PERIOD, total: '2.00', rows: [{ account_no: acct, name: '欧阳青青', unit: '1.00', individual: '1.00' }] },
        { headers: { 'Idempotency-Key': idemKey('iso-g') } });
      answers.push(assertProblem(res, 422, { rule: 'remittance.member_unknown', field: '/rows/0/account_no' }));
    }
    assert.equal(answers[0].detail, answers[1].detail);
  });

  test('an employer or account number smuggled into a body is an unknown field (400), nothing written', async () => {
    const before1 = [await footprint(A), await footprint(B)];
    const m = await A.agent.post(`/api/v1/employers/${A.dwzh}/members`,
      { name: '上官云', id_number: newIdNumber(), wage: '6000.00', employer_account_no: B.dwzh });
    assertProblem(m, 400, { rule: 'json.unknown_field', field: '/employer_account_no' });
    const d = await draftA();
    const r = await A.agent.post(`/api/v1/employers/${A.dwzh}/remittances`, { ...rosterFromDraft(d), employer_account_no: B.dwzh },
      { headers: { 'Idempotency-Key': idemKey('iso-u') } });
    assertProblem(r, 400, { rule: 'json.unknown_field', field: '/employer_account_no' });
    assert.deepEqual([await footprint(A), await footprint(B)], before1);
  });

  test("agent A opening an account for member B's person is refused without naming B's account", async () => {
    const before1 = await footprint(B);
    const res = await A.agent.post(`/api/v1/employers/${A.dwzh}/members`,
      { name: B.members[0].name, id_number: B.members[0].id_number, wage: '6000.00' });
    assertProblem(res, 409, { rule: 'member.one_live_account', field: '/id_number' });
    assertNoTrace(res, B, JSON.stringify([B.members[0].name, B.members[0].id_number]));
    assert.equal(await footprint(B), before1);
  });

  test("registration with B's account number and A's identity is 422 registration.mismatch, like a made-up account", async () => {
    const body = '32090099999999997';
    const ghost = body + mod112Check(body);
    const answers = [];
    for (const acct of [B.grzh, ghost]) {
      const sent = { id_number: A.member.user.username, name: A.members[0].name, account_no: acct, password: 'Member#2026steal' };
      const res = await request(srv, 'POST', '/api/v1/registrations',
        { body: sent, headers: { cookie: `hpf_session=${A.member.cookie}` } });
      answers.push(assertProblem(res, 422, { rule: 'registration.mismatch' }));
      assertNoTrace(res, B, JSON.stringify(sent));
    }
    assert.equal(answers[0].detail, answers[1].detail);
    // B's login is untouched: B still logs in with B's password, and nobody with A's.
    const again = await login(srv, B.login.username, B.login.password);
    assert.equal(again.user.account_no, B.grzh);
  });
});

test("member B's balance is what employer B remitted, whatever A tried", async () => {
  assert.equal((await get(`/api/v1/members/${B.grzh}`)).balance, B.balance);
});

test('hpf serve exits 0 on SIGTERM (no sanitizer report, no leak)', async () => {
  await srv.stop();
});
