// Branch-office scopes (docs/internals/identity.md "Roles and scopes"): every employer belongs to
// a branch office (00 the centre, 01 建湖, 02 滨海, 03 阜宁, 04 射阳). The demo spreads its five
// employers over the five codes and makes op-jianhu, an operator of branch 01. An operator of a
// branch sees only its employers in lists and answers 404 (as for an account that does not
// exist) for another branch's employer, member and approval; it cannot approve another branch's
// remittance, but approves its own. An operator of the centre sees everything.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { approve, chineseName, companyName, idemKey, newIdNumber, newUscc, nextN, rosterFromDraft, submitRemittance } from '../lib/fixtures.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import { login, loginAs, startServer, STORE } from '../lib/server.mjs';

let srv;
let op; // the centre's
let opJ; // op-jianhu, branch 01
const W = {}; // employers by branch code, with an agent session, a member and a pending approval

/** Log in with the demo login of that username. */
function loginNamed(username) {
  const l = srv.logins.find((x) => x.username === username);
  assert.ok(l, `hpf demo printed a login for ${username}: ${JSON.stringify(srv.logins.map((x) => x.username))}`);
  return login(srv, l.username, l.password, { totp: l.totp });
}

before(async () => {
  srv = await startServer({ demo: { employers: 5, members: 10, months: 1, seed: 21 } });
  op = await loginAs(srv, 'operator');
  opJ = await loginNamed('op-jianhu');
  const all = assertOk(await op.get('/api/v1/employers?limit=200'));
  for (const code of ['00', '01']) {
    const e = all.items.find((x) => x.branch === code);
    assert.ok(e, `the demo has an employer of branch ${code}`);
    W[code] = { dwzh: e.account_no };
  }
  // The demo's agents: agent0001 acts for the first employer (00), agent0002 for the second (01).
  for (const [code, user] of [['00', 'agent0001'], ['01', 'agent0002']]) {
    const w = W[code];
    w.agent = await loginNamed(user);
    assert.equal(w.agent.user.employer_account_no, w.dwzh, `${user} acts for the employer of branch ${code}`);
    const ms = assertOk(await op.get(`/api/v1/employers/${w.dwzh}/members`));
    assert.ok(ms.items.length > 0, `the employer of branch ${code} has members`);
    w.grzh = ms.items[0].account_no;
    const draft = assertOk(await w.agent.get(`/api/v1/employers/${w.dwzh}/remittances/draft?period=2026-11`));
    const sub = await submitRemittance(w.agent, w.dwzh, rosterFromDraft(draft), idemKey(`br${code}`));
    assert.equal(sub.status, 202, describeRes(sub));
    w.approval = sub.json.approval_id;
  }
});
after(() => srv?.stop().catch(() => {}));

describe(`a branch operator sees its own branch only (${STORE})`, () => {
  test('the session names the branch: 01 for op-jianhu, null for the centre', async () => {
    assert.equal(opJ.user.branch, '01');
    assert.equal(op.user.branch, null);
    assert.equal(assertOk(await opJ.get('/api/v1/session')).user.branch, '01');
  });

  test("the employer list holds only the branch's employers; the centre's holds every branch", async () => {
    const mine = assertOk(await opJ.get('/api/v1/employers?limit=200'));
    const all = assertOk(await op.get('/api/v1/employers?limit=200'));
    assert.ok(mine.items.length >= 1, 'op-jianhu sees its employer');
    assert.deepEqual([...new Set(mine.items.map((e) => e.branch))], ['01']);
    assert.equal(mine.total, all.items.filter((e) => e.branch === '01').length, 'the total counts the branch only');
    assert.deepEqual([...new Set(all.items.map((e) => e.branch))].sort(), ['00', '01', '02', '03', '04']);
    assert.ok(mine.items.some((e) => e.account_no === W['01'].dwzh));
    assert.ok(!mine.items.some((e) => e.account_no === W['00'].dwzh));
  });

  test("another branch's employer, its members and its remittances answer 404, like no employer at all", async () => {
    const other = W['00'].dwzh;
    for (const path of [`/api/v1/employers/${other}`, `/api/v1/employers/${other}/members`,
      `/api/v1/employers/${other}/remittances`, `/api/v1/employers/${other}/remittances/draft?period=2026-11`]) {
      const res = await opJ.get(path);
      const p = assertProblem(res, 404);
      assert.ok(!res.text.includes(W['00'].grzh), `no member of the other branch in ${path}`);
      assert.equal(p.rule, undefined, `no rule tells "elsewhere" from "nowhere": ${describeRes(res)}`);
    }
    // The same answer as an account number nobody has.
    const ghost = await opJ.get('/api/v1/employers/320900019999999999');
    const mine = await opJ.get(`/api/v1/employers/${other}`);
    assert.equal(ghost.status, 404);
    assert.equal(mine.json.detail.replace(other, 'X'), ghost.json.detail.replace('320900019999999999', 'X'));
    // The own branch's answers.
    assertOk(await opJ.get(`/api/v1/employers/${W['01'].dwzh}`));
    assertOk(await opJ.get(`/api/v1/employers/${W['01'].dwzh}/members`));
  });

  test("another branch's member answers 404 (read and statement); the branch's own member reads", async () => {
    for (const path of [`/api/v1/members/${W['00'].grzh}`, `/api/v1/members/${W['00'].grzh}/statement`]) {
      const res = await opJ.get(path);
      assertProblem(res, 404);
      assert.ok(!res.text.includes(W['00'].dwzh), `no employer of the other branch in ${path}`);
    }
    assert.equal(assertOk(await opJ.get(`/api/v1/members/${W['01'].grzh}`)).employer_account_no, W['01'].dwzh);
    assertOk(await op.get(`/api/v1/members/${W['00'].grzh}`));
  });

  test("opening a member or submitting a remittance at another branch's employer is 404, nothing written", async () => {
    const m = await opJ.post(`/api/v1/employers/${W['00'].dwzh}/members`, { name: chineseName(nextN()), id_number: newIdNumber(), wage: '5000.00' });
    assertProblem(m, 404);
    const before1 = assertOk(await op.get(`/api/v1/employers/${W['00'].dwzh}`)).members;
    const r = await submitRemittance(opJ, W['00'].dwzh, { period: '2026-11', total: '1.00', rows: [{ account_no: W['00'].grzh, unit: '0.50', individual: '0.50' }] });
    assertProblem(r, 404);
    assert.equal(assertOk(await op.get(`/api/v1/employers/${W['00'].dwzh}`)).members, before1);
  });

  test("a person with a live account in another branch: 409 without that account's number", async () => {
    const id = newIdNumber();
    const there = await op.post(`/api/v1/employers/${W['00'].dwzh}/members`, { name: chineseName(nextN()), id_number: id, wage: '5000.00' });
    assert.equal(there.status, 201, describeRes(there));
    const res = await opJ.post(`/api/v1/employers/${W['01'].dwzh}/members`, { name: chineseName(nextN()), id_number: id, wage: '5000.00' });
    assertProblem(res, 409, { rule: 'member.one_live_account', field: '/id_number' });
    assert.ok(!res.text.includes(there.json.account_no), describeRes(res));
    const centre = await op.post(`/api/v1/employers/${W['01'].dwzh}/members`, { name: chineseName(nextN()), id_number: id, wage: '5000.00' });
    assertProblem(centre, 409, { rule: 'member.one_live_account' });
    assert.ok(centre.text.includes(there.json.account_no), "the centre's operator is told which account");
  });

  test("another branch's approval answers 404 and cannot be approved; the list leaves it out", async () => {
    const id = W['00'].approval;
    assertProblem(await opJ.get(`/api/v1/approvals/${id}`), 404, { rule: 'approval.unknown' });
    assertProblem(await approve(opJ, id), 404, { rule: 'approval.unknown' });
    assertProblem(await opJ.post(`/api/v1/approvals/${id}/reject`, { reason: '不属本管理部' }), 404, { rule: 'approval.unknown' });
    assert.equal(assertOk(await op.get(`/api/v1/approvals/${id}`)).status, 'pending', 'still pending');
    const mine = assertOk(await opJ.get('/api/v1/approvals?status=pending&limit=200'));
    assert.ok(mine.items.some((a) => a.approval_id === W['01'].approval), "the branch's own request is listed");
    assert.ok(!mine.items.some((a) => a.approval_id === id), "the other branch's is not");
    for (const a of mine.items) assert.equal(a.employer_account_no, W['01'].dwzh);
    const all = assertOk(await op.get('/api/v1/approvals?status=pending&limit=200'));
    assert.ok(all.items.some((a) => a.approval_id === id) && all.items.some((a) => a.approval_id === W['01'].approval));
  });

  test("the branch operator approves its own branch's remittance; the centre's operator approves any", async () => {
    const own = await approve(opJ, W['01'].approval);
    assert.equal(own.status, 200, describeRes(own));
    assert.equal(own.json.status, 'approved');
    assert.equal(own.json.signature_valid, true, "op-jianhu's decision carries a valid SM2 signature");
    const centre = await approve(op, W['00'].approval);
    assert.equal(centre.status, 200, describeRes(centre));
  });

  test("registration: into the operator's own branch by default; another branch is 403 scope.branch", async () => {
    const body = (extra = {}) => {
      const n = nextN();
      return { name: companyName(n), uscc: newUscc(n), unit_ratio_bp: 1200, indiv_ratio_bp: 1200,
        agent: { username: `agent-br${n}`, password: 'Agent#2026pass', name: chineseName(n) }, ...extra };
    };
    const own = await opJ.post('/api/v1/employers', body());
    assert.equal(own.status, 201, describeRes(own));
    assert.equal(own.json.branch, '01');
    assertProblem(await opJ.post('/api/v1/employers', body({ branch: '02' })), 403, { rule: 'scope.branch', field: '/branch' });
    const centre = await op.post('/api/v1/employers', body({ branch: '03' }));
    assert.equal(centre.status, 201, describeRes(centre));
    assert.equal(centre.json.branch, '03');
    assert.equal(assertOk(await op.post('/api/v1/employers', body()), 201).branch, '00', "the centre's operator registers into 00 by default");
    assertProblem(await op.post('/api/v1/employers', body({ branch: '09' })), 400, { rule: 'branch.unknown', field: '/branch' });
    assertProblem(await op.post('/api/v1/employers', body({ branch: 'x' })), 400, { rule: 'branch.unknown', field: '/branch' });
  });

  test('a policy change is the centre\'s: 403 scope.branch for an operator of a branch', async () => {
    const res = await opJ.post('/api/v1/policies', {
      effective_from: '2031-01-01', unit_ratio_min_bp: 500, unit_ratio_max_bp: 1200, indiv_ratio_min_bp: 500,
      indiv_ratio_max_bp: 1200, city_avg_wage: '7500.00', min_wage: '2070.00', cap_multiple: 3, rounding: 'yuan',
      ratios_must_match: true, deposit_rate_e7: 150000, day_basis: 360, note: '管理部不得提出',
    }, { headers: { 'Idempotency-Key': idemKey('brp') } });
    assertProblem(res, 403, { rule: 'scope.branch' });
  });
});

test('hpf serve exits 0 on SIGTERM (no sanitizer report, no leak)', async () => {
  await srv.stop();
});
