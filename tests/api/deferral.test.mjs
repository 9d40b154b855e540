// 缓缴 (deferral, RULES §1.1 C-9 / C-10, §1.3 type 13) and its make-up by 补缴
// (docs/internals/deposits.md): an operator records an approved deferral, another operator approves
// it (maker-checker); the employer becomes 03, the deferred months are owed per member; a monthly
// remittance of a deferred month is refused; back-payments with the original months make them up;
// when every owed month is made up the deferral closes and the employer returns to 01, and a
// deferral whose months are over closes 'ended' with its unpaid months still owed. Deferral months
// count towards continuous_months while the policy flag deferral_counts_as_continuous is on.
//
// The employers open on 2026-05-15 (a first server with that business date); the server under test
// runs on the same database with business date 2026-11-15.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { approve, createEmployer, idemKey, openMember, remitAndApprove } from '../lib/fixtures.mjs';
import { contribution, fen, yuan } from '../lib/money.mjs';
import { assertOk, assertProblem } from '../lib/problem.mjs';
import { STORE, createStore, login, loginAs, rememberTotp, runHpf, startServer } from '../lib/server.mjs';
import { secretFromUri } from '../lib/totp.mjs';

const OPENED = '2026-05-15';

let store;
let srv;
let op;
let op2; // a second operator: the checker of deferrals
let policy;
const D = { wages: ['6543.21', '8000.00'] };
const G = { wages: ['5000.00'] };

before(async () => {
  store = await createStore({ tag: 'dfr' });
  const early = await startServer({ store, demo: { employers: 1, members: 1, months: 0, seed: 37 }, env: { HPF_BUSINESS_DATE: OPENED } });
  try {
    const eop = await loginAs(early, 'operator');
    for (const x of [D, G]) {
      const { employer, agent } = await createEmployer(eop, { unitBp: 1200 });
      const a = await login(early, agent.username, agent.password);
      x.dwzh = employer.account_no;
      x.agentLogin = agent;
      x.members = [];
      for (const wage of x.wages) x.members.push((await openMember(a, employer.account_no, { wage })).member.account_no);
    }
  } finally {
    await early.stop();
  }
  srv = await startServer({ store });
  op = await loginAs(srv, 'operator');
  const pw = 'Checker#2026second';
  const made = await runHpf(['user', 'add-operator', '--username', 'checker-dfr', '--name', '复核员', ...store.args], { input: `${pw}\n` });
  assert.equal(made.code, 0, made.stderr);
  rememberTotp(srv, 'checker-dfr', secretFromUri(made.stdout.split('\n').find((l) => l.startsWith('otpauth://'))));
  op2 = await login(srv, 'checker-dfr', pw);
  policy = assertOk(await op.get('/api/v1/policy'));
  for (const x of [D, G]) x.agent = await login(srv, x.agentLogin.username, x.agentLogin.password);
  for (const period of ['2026-05', '2026-06']) await remit(D, period);
  await remit(G, '2026-05');
});

after(async () => {
  try {
    await srv?.stop();
  } finally {
    await store?.drop();
  }
});

async function remit(x, period) {
  const d = assertOk(await op.get(`/api/v1/employers/${x.dwzh}/remittances/draft?period=${period}`));
  const rows = d.rows.map((r) => ({ account_no: r.account_no, unit: r.unit, individual: r.individual }));
  return remitAndApprove(x.agent, op, x.dwzh, { period, total: d.total, rows });
}

function submitRemit(x, period) {
  return op.get(`/api/v1/employers/${x.dwzh}/remittances/draft?period=${period}`).then((d) => x.agent.post(`/api/v1/employers/${x.dwzh}/remittances`,
    { period, total: d.json.total, rows: d.json.rows.map((r) => ({ account_no: r.account_no, unit: r.unit, individual: r.individual })) },
    { headers: { 'Idempotency-Key': idemKey('rm') } }));
}

function submitDeferral(sess, dwzh, body, key = idemKey('df')) {
  return sess.post(`/api/v1/employers/${dwzh}/deferrals`, body, { headers: { 'Idempotency-Key': key } });
}

const MONTHS = ['2026-07', '2026-08', '2026-09', '2026-10', '2026-11'];
const BODY = { from: '2026-07', to: '2026-11', reason: '受疫情影响生产经营困难', document_no: '盐公积金管委〔2026〕12号' };
const month = (wage) => contribution(wage, policy, 1200, 1200);
const member = async (grzh) => assertOk(await op.get(`/api/v1/members/${grzh}`));
const employer = async (x) => assertOk(await op.get(`/api/v1/employers/${x.dwzh}`));
const deferrals = async (x, sess = op) => assertOk(await sess.get(`/api/v1/employers/${x.dwzh}/deferrals`));

async function grant(x, body) {
  const s = await submitDeferral(op, x.dwzh, body);
  assert.equal(s.status, 202, JSON.stringify(s.json));
  const a = await approve(op2, s.json.approval_id);
  assert.equal(a.status, 200, JSON.stringify(a.json));
  return a.json.result;
}

async function backpay(x, lines) {
  const s = await x.agent.post(`/api/v1/employers/${x.dwzh}/backpays`, { lines }, { headers: { 'Idempotency-Key': idemKey('bp') } });
  assert.equal(s.status, 202, JSON.stringify(s.json));
  const a = await approve(op, s.json.approval_id);
  assert.equal(a.status, 200, JSON.stringify(a.json));
  return a.json.result;
}

describe(`缓缴 (${STORE})`, () => {
  test('only an operator records a deferral; bad requests are refused at submit', async () => {
    assertProblem(await submitDeferral(D.agent, D.dwzh, BODY), 403, { rule: 'auth.role' });
    const cases = [
      [{ ...BODY, from: '2026-10', to: '2026-09' }, 422, 'deferral.range', '/to'],
      [{ ...BODY, from: '2026-04' }, 422, 'deferral.range', '/from'],
      [{ ...BODY, from: '2026-07', to: '2029-12' }, 422, 'deferral.range', '/to'],
      [{ ...BODY, from: '2026-06' }, 409, 'deferral.month_remitted', '/from'],
      [{ ...BODY, reason: '' }, 400, 'deferral.reason', '/reason'],
      [{ ...BODY, document_no: 'x'.repeat(65) }, 400, 'deferral.document_no', '/document_no'],
      [{ ...BODY, from: '2026-7' }, 400, 'month.format', '/from'],
    ];
    for (const [body, status, rule, field] of cases) assertProblem(await submitDeferral(op, D.dwzh, body), status, { rule, field });
    assert.equal((await deferrals(D)).total, 0);
  });

  test('approved by another operator: the employer is 03 and every member owes each deferred month', async () => {
    const s = await submitDeferral(op, D.dwzh, BODY);
    assert.equal(s.status, 202, JSON.stringify(s.json));
    assert.equal(s.json.kind, 'deferral.grant');
    assertProblem(await approve(op, s.json.approval_id), 409, { rule: 'approval.self_approval' });
    assert.equal((await employer(D)).state_code, '01', 'nothing changes before the approval');
    const a = await approve(op2, s.json.approval_id);
    assert.equal(a.status, 200, JSON.stringify(a.json));
    const owedTotal = yuan(5n * D.wages.reduce((t, w) => t + fen(month(w).total), 0n));
    assert.deepEqual(a.json.result, { deferral_id: a.json.result.deferral_id, from: '2026-07', to: '2026-11', state: 'active', members: 2, owed_months: 10, owed_total: owedTotal });
    assert.equal((await employer(D)).state_code, '03');
    const list = await deferrals(D, D.agent); // the employer's agent reads them too
    assert.equal(list.total, 1);
    const d = list.items[0];
    assert.equal(d.state, 'active');
    assert.equal(d.document_no, BODY.document_no);
    assert.equal(d.granted_on, '2026-11-15');
    assert.equal(d.closed_on, null);
    assert.equal(d.owed_months, 10);
    assert.equal(d.made_up_months, 0);
    assert.equal(d.outstanding, owedTotal);
    const owed = assertOk(await op.get(`/api/v1/employers/${D.dwzh}/deferrals/owed?outstanding=true`));
    assert.equal(owed.total, 10);
    const mine = owed.items.filter((o) => o.account_no === D.members[0]).map((o) => [o.period, o.unit, o.individual, o.made_up_by]);
    const m0 = month(D.wages[0]);
    assert.deepEqual(mine, MONTHS.map((p) => [p, m0.unit, m0.individual, null]));
    // Another employer's agent sees none of it.
    assertProblem(await G.agent.get(`/api/v1/employers/${D.dwzh}/deferrals`), 403, { rule: 'scope.own_employer' });
    assertProblem(await G.agent.get(`/api/v1/employers/${D.dwzh}/deferrals/owed`), 403, { rule: 'scope.own_employer' });
    assertProblem(await op.get(`/api/v1/employers/${D.dwzh}/deferrals/owed?outstanding=maybe`), 400, { rule: 'query.enum' });
  });

  test('deferred months count as continuous (policy flag on); a monthly remittance of one is refused', async () => {
    assert.equal((await member(D.members[0])).continuous_months, 7, '05, 06 paid; 07..11 deferred');
    assertProblem(await submitRemit(D, '2026-08'), 409, { rule: 'remittance.month_deferred', field: '/period' });
    assertProblem(await submitDeferral(op, D.dwzh, { ...BODY, from: '2026-09', to: '2026-10' }), 409, { rule: 'deferral.overlap' });
  });

  test('make-up back-payments with the original months clear the owed months; all made up: the employer returns to 01', async () => {
    const r0 = await backpay(D, MONTHS.map((period) => ({ account_no: D.members[0], period })));
    assert.equal(r0.total, yuan(5n * fen(month(D.wages[0]).total)), 'computed from the owed months');
    let d = (await deferrals(D)).items[0];
    assert.equal(d.state, 'active', 'member 1 still owes');
    assert.equal(d.made_up_months, 5);
    const m0 = await member(D.members[0]);
    assert.equal(m0.paid_through, '2026-11', 'filled right after 06');
    assert.equal(m0.continuous_months, 7);
    const owed0 = assertOk(await op.get(`/api/v1/employers/${D.dwzh}/deferrals/owed`)).items.filter((o) => o.account_no === D.members[0]);
    assert.ok(owed0.every((o) => o.made_up_by === r0.serial && o.made_up_on === '2026-11-15'), JSON.stringify(owed0));
    await backpay(D, MONTHS.map((period) => ({ account_no: D.members[1], period })));
    d = (await deferrals(D)).items[0];
    assert.equal(d.state, 'made_up');
    assert.equal(d.closed_on, '2026-11-15');
    assert.equal(d.outstanding, '0.00');
    assert.equal((await employer(D)).state_code, '01');
    // The months are paid: a monthly remittance of one would pay them twice.
    assertProblem(await submitRemit(D, '2026-08'), 409, { rule: 'remittance.month_paid' });
    assert.equal((await member(D.members[1])).continuous_months, 7, '05..11');
  });

  test('a deferral whose months are over ends at the next posting: the employer is 01, its unpaid months stay owed', async () => {
    await grant(G, { ...BODY, from: '2026-06', to: '2026-07' });
    assert.equal((await employer(G)).state_code, '03');
    // A month after the deferral is remitted while the employer is 03; the deferral is over then.
    await remit(G, '2026-08');
    const d = (await deferrals(G)).items[0];
    assert.equal(d.state, 'ended');
    assert.equal(d.owed_months - d.made_up_months, 2);
    assert.equal((await employer(G)).state_code, '01');
    assertProblem(await submitRemit(G, '2026-07'), 409, { rule: 'remittance.month_deferred' });
    const grzh = G.members[0];
    assert.equal((await member(grzh)).continuous_months, 4, '05 paid, 06..07 deferred, 08 paid');
  });

  test('with deferral_counts_as_continuous off, deferred months break the run', async () => {
    // The flag is policy data (schema 13); no API changes it yet, so the test sets it directly.
    await store.sql('UPDATE policy_version SET deferral_counts_as_continuous = 0');
    try {
      assert.equal((await member(G.members[0])).continuous_months, 1, '08 only');
    } finally {
      await store.sql('UPDATE policy_version SET deferral_counts_as_continuous = 1');
    }
    assert.equal((await member(G.members[0])).continuous_months, 4);
  });

  test('deferral rows and owed months are immutable in the database beyond their one change', async () => {
    for (const sql of ["UPDATE deferral SET reason = 'x'", 'DELETE FROM owed_month', "UPDATE owed_month SET amount = 1 WHERE made_up_by IS NOT NULL"]) {
      await assert.rejects(store.sql(sql), /immutable/, `${sql} was not refused`);
    }
  });
});
