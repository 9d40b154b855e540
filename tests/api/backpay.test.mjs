// 补缴 (back-payment, RULES §1.3 type 02) for named months, under maker-checker
// (docs/internals/deposits.md, approval.md): the employer's agent submits lines, the operator
// approves; amounts left out are computed (the month's full amount); the posting is a remittance of
// kind 02 through voucher template 001, one posting per line with the line's month; the refusals
// (month paid, future, unknown member, sealed member, duplicates, amounts over what is left); the
// member's 缴至年月 and 连续足额缴存月数 (continuous_months of GET /members/{grzh}); a monthly
// remittance does not pay a back-paid member again. `hpf verify` and `hpf audit verify` hold after
// the run, and a back-paid month moved in the database is caught by the audit chain.
//
// The employer opens on 2026-05-15 (a first server with that business date registers it), then the
// server under test runs on the same database with business date 2026-11-15.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { approve, createEmployer, idemKey, openMember, remitAndApprove } from '../lib/fixtures.mjs';
import { contribution, fen, sum, yuan } from '../lib/money.mjs';
import { assertOk, assertProblem } from '../lib/problem.mjs';
import { STORE, createStore, forgedCopy, login, loginAs, runHpf, startServer } from '../lib/server.mjs';

const OPENED = '2026-05-15';
const WAGES = ['6543.21', '8000.00', '1900.00'];

let store;
let srv;
let op;
let policy;
const E = {}; // {dwzh, agent (session), members: [account_no]}
const F = {}; // another employer
const forgedStores = [];

before(async () => {
  store = await createStore({ tag: 'bp' });
  const early = await startServer({ store, demo: { employers: 1, members: 1, months: 0, seed: 31 }, env: { HPF_BUSINESS_DATE: OPENED } });
  try {
    const eop = await loginAs(early, 'operator');
    for (const [x, wages] of [[E, WAGES], [F, ['5000.00']]]) {
      const { employer, agent } = await createEmployer(eop, { unitBp: 1200 });
      const a = await login(early, agent.username, agent.password);
      x.dwzh = employer.account_no;
      x.agentLogin = agent;
      x.members = [];
      for (const wage of wages) x.members.push((await openMember(a, employer.account_no, { wage })).member.account_no);
    }
  } finally {
    await early.stop();
  }
  srv = await startServer({ store });
  op = await loginAs(srv, 'operator');
  policy = assertOk(await op.get('/api/v1/policy'));
  E.agent = await login(srv, E.agentLogin.username, E.agentLogin.password);
  F.agent = await login(srv, F.agentLogin.username, F.agentLogin.password);
  // Monthly remittances: 05 and 06 for everyone, 08 for members 0 and 1 only; 07 is missed.
  for (const [period, who] of [['2026-05', [0, 1, 2]], ['2026-06', [0, 1, 2]], ['2026-08', [0, 1]]]) {
    const d = assertOk(await op.get(`/api/v1/employers/${E.dwzh}/remittances/draft?period=${period}`));
    const rows = d.rows.filter((r) => who.includes(E.members.indexOf(r.account_no)))
      .map((r) => ({ account_no: r.account_no, unit: r.unit, individual: r.individual }));
    await remitAndApprove(E.agent, op, E.dwzh, { period, total: sum(rows.map((r) => yuan(fen(r.unit) + fen(r.individual)))), rows });
  }
});

after(async () => {
  await srv?.stop().catch(() => {});
  for (const s of forgedStores) await s.drop().catch(() => {});
  await store?.drop();
});

const month = (i, wage = WAGES[i]) => contribution(wage, policy, 1200, 1200);
const member = async (i) => assertOk(await op.get(`/api/v1/members/${E.members[i]}`));

function submit(sess, dwzh, body, key = idemKey('bp')) {
  return sess.post(`/api/v1/employers/${dwzh}/backpays`, body, { headers: { 'Idempotency-Key': key } });
}

/** Submit as E's agent and approve as the operator; resolves the approval (its result the receipt). */
async function backpay(body, key = idemKey('bp')) {
  const s = await submit(E.agent, E.dwzh, body, key);
  assert.equal(s.status, 202, JSON.stringify(s.json));
  const a = await approve(op, s.json.approval_id);
  assert.equal(a.status, 200, JSON.stringify(a.json));
  assert.equal(a.json.status, 'approved');
  return a.json;
}

describe(`补缴 (${STORE})`, () => {
  test('before: a missed month breaks the run (continuous_months counts back from the latest paid month)', async () => {
    const m0 = await member(0);
    assert.equal(m0.paid_through, '2026-08');
    assert.equal(m0.continuous_months, 1, '08 paid, 07 missing');
    const m2 = await member(2);
    assert.equal(m2.paid_through, '2026-06');
    assert.equal(m2.continuous_months, 2);
  });

  test('a back-payment of a missed month with computed amounts: 202, the payload carries the amounts, approval posts kind 02', async () => {
    const before0 = await member(0);
    const want = month(0);
    const s = await submit(E.agent, E.dwzh, { lines: [{ account_no: E.members[0], period: '2026-07' }] });
    assert.equal(s.status, 202, JSON.stringify(s.json));
    assert.equal(s.json.kind, 'backpay.post');
    assert.equal(s.json.status, 'pending');
    const { payload } = assertOk(await op.get(`/api/v1/approvals/${s.json.approval_id}`));
    assert.deepEqual(payload.lines, [{ account_no: E.members[0], period: '2026-07', unit: want.unit, individual: want.individual }]);
    assert.equal(payload.total, want.total);
    // Nothing moved yet.
    assert.equal((await member(0)).balance, before0.balance);
    // The maker does not approve their own request.
    assertProblem(await approve(E.agent, s.json.approval_id), 409, { rule: 'approval.self_approval' });
    const a = await approve(op, s.json.approval_id);
    assert.equal(a.status, 200, JSON.stringify(a.json));
    const r = a.json.result;
    assert.match(r.serial, /^BJ20261115\d{6}$/);
    assert.equal(r.total, want.total);
    assert.equal(r.members, 1);
    assert.equal(r.period, '2026-07');
    const after0 = await member(0);
    assert.equal(after0.balance, yuan(fen(before0.balance) + fen(want.total)));
    assert.equal(after0.paid_through, '2026-08', 'JZNY does not move back');
    assert.equal(after0.continuous_months, 4, '05..08 now run on');
    // The statement shows it as a back-payment of 07, dated the business date.
    const st = assertOk(await op.get(`/api/v1/members/${E.members[0]}/statement?from=2026-11-01&to=2026-11-30`));
    const item = st.items.find((i) => i.type === 'back_payment');
    assert.ok(item, JSON.stringify(st.items));
    assert.equal(item.type_code, '02');
    assert.equal(item.period, '2026-07');
    assert.equal(item.date, '2026-11-15');
    assert.equal(item.amount, want.total);
    assert.equal(item.voucher_no, r.voucher_no);
    // It lists with the employer's remittances.
    const list = assertOk(await op.get(`/api/v1/employers/${E.dwzh}/remittances?limit=50`));
    assert.ok(list.items.some((x) => x.serial === r.serial && x.total === want.total));
  });

  test('the month right after 缴至年月 filled moves it on, over every month now paid in full', async () => {
    const want = month(2);
    const a = await backpay({ lines: [{ account_no: E.members[2], period: '2026-08' }, { account_no: E.members[2], period: '2026-07' }] });
    assert.equal(a.result.total, yuan(2n * fen(want.total)));
    assert.equal(a.result.members, 2, 'a line each');
    const m2 = await member(2);
    assert.equal(m2.paid_through, '2026-08');
    assert.equal(m2.continuous_months, 4);
  });

  test('refusals at submit store nothing: month paid, future, before opening, unknown member, duplicates, amounts', async () => {
    const pending = async () => assertOk(await op.get('/api/v1/approvals?status=pending&kind=backpay.post')).total;
    const n = await pending();
    const m1 = month(1);
    const cases = [
      [{ lines: [{ account_no: E.members[0], period: '2026-07' }] }, 409, 'remittance.month_paid', '/lines/0/period'],
      [{ lines: [{ account_no: E.members[1], period: '2026-12' }] }, 422, 'remittance.period_future', '/lines/0/period'],
      [{ lines: [{ account_no: E.members[1], period: '2026-04', unit: '1.00', individual: '1.00' }] }, 422, 'remittance.period_before_opening', '/lines/0/period'],
      [{ lines: [{ account_no: F.members[0], period: '2026-07' }] }, 422, 'remittance.member_unknown', '/lines/0/account_no'],
      [{ lines: [{ account_no: E.members[1], period: '2026-07', unit: '9999.00', individual: '1.00' }] }, 422, 'backpay.amount_exceeds', '/lines/0/unit'],
      [{ lines: [{ account_no: E.members[1], period: '2026-07', unit: '0.00', individual: '0.00' }] }, 422, 'backpay.amount_zero', '/lines/0/unit'],
      [{ lines: [{ account_no: E.members[1], period: '2026-07' }, { account_no: E.members[1], period: '2026-07' }] }, 422, 'backpay.duplicate_line', '/lines/1/period'],
      [{ lines: [{ account_no: E.members[1], period: '2026-07', unit: '1.00' }] }, 400, 'backpay.amounts', '/lines/0/individual'],
      [{ lines: [{ account_no: E.members[1], period: '2026-07' }], total: yuan(fen(m1.total) + 1n) }, 422, 'remittance.total_mismatch', '/total'],
      [{ lines: [] }, 422, 'backpay.empty', '/lines'],
      [{ lines: [{ account_no: E.members[1], period: '2026-7' }] }, 400, 'month.format', '/lines/0/period'],
    ];
    for (const [body, status, rule, field] of cases) assertProblem(await submit(E.agent, E.dwzh, body), status, { rule, field });
    // Another employer's agent may not ask for E; the route wants the fresh second factor.
    assertProblem(await submit(F.agent, E.dwzh, { lines: [{ account_no: E.members[1], period: '2026-07' }] }), 403, { rule: 'scope.own_employer' });
    assert.equal(await pending(), n, 'a refused request is not stored');
  });

  test('a partial back-payment leaves the month short; the rest fills it (explicit amounts)', async () => {
    const m1 = month(1); // 960.00 + 960.00
    await backpay({ lines: [{ account_no: E.members[1], period: '2026-07', unit: '500.00', individual: '500.00' }] });
    assert.equal((await member(1)).continuous_months, 1, '07 is short');
    // Computed amounts are the month's full amount: more than is left.
    assertProblem(await submit(E.agent, E.dwzh, { lines: [{ account_no: E.members[1], period: '2026-07' }] }), 422, { rule: 'backpay.amount_exceeds' });
    const rest = yuan(fen(m1.unit) - 50000n);
    await backpay({ lines: [{ account_no: E.members[1], period: '2026-07', unit: rest, individual: rest }] });
    assert.equal((await member(1)).continuous_months, 4);
    assertProblem(await submit(E.agent, E.dwzh, { lines: [{ account_no: E.members[1], period: '2026-07', unit: '1.00', individual: '0.00' }] }), 409, { rule: 'remittance.month_paid' });
  });

  test('a monthly remittance does not pay a back-paid member again', async () => {
    await backpay({ lines: [{ account_no: E.members[0], period: '2026-09' }] });
    const d = assertOk(await op.get(`/api/v1/employers/${E.dwzh}/remittances/draft?period=2026-09`));
    const rows = d.rows.map((r) => ({ account_no: r.account_no, unit: r.unit, individual: r.individual }));
    const all = { period: '2026-09', total: d.total, rows };
    const i0 = rows.findIndex((r) => r.account_no === E.members[0]);
    assertProblem(await E.agent.post(`/api/v1/employers/${E.dwzh}/remittances`, all, { headers: { 'Idempotency-Key': idemKey('rm') } }), 409,
      { rule: 'remittance.month_paid', field: `/rows/${i0}/account_no` });
    const others = rows.filter((r) => r.account_no !== E.members[0]);
    await remitAndApprove(E.agent, op, E.dwzh, { period: '2026-09', total: sum(others.map((r) => yuan(fen(r.unit) + fen(r.individual)))), rows: others });
    const m0 = await member(0);
    assert.equal(m0.paid_through, '2026-09');
    assert.equal(m0.continuous_months, 5, '05..09');
  });

  test('the same key and content replays the request; other content under the key is 409', async () => {
    const key = idemKey('rp');
    const body = { lines: [{ account_no: E.members[2], period: '2026-10' }] };
    const first = await submit(E.agent, E.dwzh, body, key);
    assert.equal(first.status, 202);
    const again = await submit(E.agent, E.dwzh, body, key);
    assert.equal(again.status, 200);
    assert.equal(again.headers['idempotent-replay'], 'true');
    assert.equal(again.json.approval_id, first.json.approval_id);
    assertOk(await approve(op, first.json.approval_id));
    // Replayed after the posting: the stored request, approved.
    const late = await submit(E.agent, E.dwzh, body, key);
    assert.equal(late.status, 200);
    assert.equal(late.json.status, 'approved');
    assertProblem(await submit(E.agent, E.dwzh, { lines: [{ account_no: E.members[2], period: '2026-11' }] }, key), 409, { rule: 'idempotency.key_reused' });
  });

  test('a sealed member receives no back-payment', async () => {
    assertOk(await E.agent.post(`/api/v1/members/${E.members[2]}/seal`, { reason: '劳动合同于2026-11-10解除' }));
    assertProblem(await submit(E.agent, E.dwzh, { lines: [{ account_no: E.members[2], period: '2026-11' }] }), 422, { rule: 'remittance.member_state', field: '/lines/0/account_no' });
  });
});

describe(`after the run (${STORE})`, () => {
  test('hpf serve exits 0; hpf verify and hpf audit verify pass', async () => {
    await srv.stop(); // runs both verifiers and throws unless they exit 0
  });

  test('a back-paid month moved in the database is caught by hpf audit verify', async () => {
    const serial = (await store.sql("SELECT serial FROM remittance WHERE kind = '02' ORDER BY id LIMIT 1")).trim();
    const open = STORE === 'postgres' ? 'ALTER TABLE posting DISABLE TRIGGER USER;' : 'DROP TRIGGER posting_immutable_u;';
    const args = await forgedCopy(store, forgedStores, 'period',
      `${open} UPDATE posting SET period = 202606 WHERE id = (SELECT MIN(p.id) FROM posting p JOIN remittance r ON r.id = p.remittance_id WHERE r.serial = '${serial}');`);
    const r = await runHpf(['audit', 'verify', ...args]);
    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^hpf audit verify: FAILED: .*remittance ${serial}`));
  });
});
