// 基数调整 (type 10) and 比例调整 (type 75) (issue 5 item 3; RULES C-5, §1.2, §1.3;
// docs/internals/contribution-changes.md): the employer declares its members' wages for a
// 缴存年度 (1 July Y .. 30 June Y+1) and changes its ratios from a month; the remittance of a
// month uses the wage and the ratios in force in that month. Row errors, all-or-nothing,
// idempotency, once a year unless an operator corrects it, the July rule, the ratio bounds (below
// the minimum is the 降比/缓缴 procedure), the history, the audit snapshots, and `hpf verify` /
// `hpf audit verify` green at the end. The business date is 2026-11-15: the year is 2026.
// Runs on the store of HPF_TEST_STORE.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { employerWithMembers, idemKey, remitAndApprove, rosterFromDraft } from '../lib/fixtures.mjs';
import { assertOk, assertProblem } from '../lib/problem.mjs';
import { STORE, createStore, loginAs, populate, startServer } from '../lib/server.mjs';

let store;
let srv;
let op;
let A; // 12%/12%, two members
let B; // 12%/12%, one member: ratio changes
let C; // another employer, for scopes

const adjust = (sess, dwzh, body, key = idemKey('base')) =>
  sess.post(`/api/v1/employers/${dwzh}/base-adjustments`, body, { headers: { 'Idempotency-Key': key } });
const changeRatio = (sess, dwzh, body, key = idemKey('ratio')) =>
  sess.post(`/api/v1/employers/${dwzh}/ratio-changes`, body, { headers: { 'Idempotency-Key': key } });
const draft = async (sess, dwzh, period) => assertOk(await sess.get(`/api/v1/employers/${dwzh}/remittances/draft?period=${period}`));
const rowOf = (d, grzh) => d.rows.find((r) => r.account_no === grzh);
const grzh = (E, i) => E.members[i].member.account_no;

before(async () => {
  store = await createStore({ tag: 'baseratio' });
  await populate(store, { demo: { employers: 2, members: 4, months: 1, seed: 41 } });
  srv = await startServer({ store });
  op = await loginAs(srv, 'operator');
  A = await employerWithMembers(srv, op, { wages: ['6543.21', '5000.00'] });
  B = await employerWithMembers(srv, op, { wages: ['6000.00'] });
  C = await employerWithMembers(srv, op, { wages: ['5000.00'] });
});
after(async () => {
  await srv?.stop().catch(() => {});
  await store?.drop();
});

describe(`基数调整 (${STORE})`, () => {
  test('the agent declares a wage from December: November keeps the old wage, December takes the new one', async () => {
    const res = await adjust(A.agent, A.dwzh, { year: 2026, rows: [{ account_no: grzh(A, 0), wage: '8000.00', effective_month: '2026-12' }] });
    const o = assertOk(res, 201);
    assert.equal(o.year, 2026);
    assert.equal(o.members, 1);
    const r = o.rows[0];
    assert.deepEqual(
      { acct: r.account_no, old: r.old_wage, wage: r.wage, base: r.base, eff: r.effective_month, corr: r.correction, role: r.actor_role },
      { acct: grzh(A, 0), old: '6543.21', wage: '8000.00', base: '8000.00', eff: '2026-12', corr: false, role: 'agent' },
    );
    const nov = rowOf(await draft(A.agent, A.dwzh, '2026-11'), grzh(A, 0));
    const dec = rowOf(await draft(A.agent, A.dwzh, '2026-12'), grzh(A, 0));
    assert.equal(nov.base, '6543.21');
    assert.equal(nov.unit, '785.00');
    assert.equal(dec.base, '8000.00');
    assert.equal(dec.unit, '960.00');
    // The member row holds the latest declared wage.
    assert.equal(assertOk(await op.get(`/api/v1/members/${grzh(A, 0)}`)).wage, '8000.00');
  });

  test("November's remittance posts with the old wage; the new wage's amounts are refused for it", async () => {
    const d = await draft(op, A.dwzh, '2026-11');
    const bad = rosterFromDraft(d);
    const i = bad.rows.findIndex((r) => r.account_no === grzh(A, 0));
    bad.rows[i] = { ...bad.rows[i], unit: '960.00', individual: '960.00' };
    const res = await A.agent.post(`/api/v1/employers/${A.dwzh}/remittances`, bad, { headers: { 'Idempotency-Key': idemKey('bad') } });
    assertProblem(res, 422, { rule: 'remittance.amount_mismatch', field: `/rows/${i}/unit` });
    const { receipt } = await remitAndApprove(A.agent, op, A.dwzh, rosterFromDraft(d));
    assert.equal(receipt.period, '2026-11');
  });

  test('a replay of the same key and body is 200 Idempotent-Replay; the key with another body is 409', async () => {
    const key = idemKey('replay');
    const body = { year: 2026, rows: [{ account_no: grzh(A, 1), wage: '5100.00' }] };
    const first = assertOk(await adjust(A.agent, A.dwzh, body, key), 201);
    assert.equal(first.rows[0].effective_month, '2026-11', 'a member who joined in November takes the base from then');
    const again = await adjust(A.agent, A.dwzh, body, key);
    assert.equal(again.status, 200);
    assert.equal(again.headers['idempotent-replay'], 'true');
    assert.equal(again.json.id, first.id);
    assertProblem(await adjust(A.agent, A.dwzh, { ...body, rows: [{ account_no: grzh(A, 1), wage: '5200.00' }] }, key), 409, { rule: 'idempotency.key_reused' });
  });

  test('once a year: a second adjustment of 2026 is 409 contribution.base_year_done; an agent may not correct; an operator does', async () => {
    assertProblem(await adjust(A.agent, A.dwzh, { year: 2026, rows: [{ account_no: grzh(A, 1), wage: '5300.00' }] }), 409, { rule: 'contribution.base_year_done', field: '/rows/0/account_no' });
    assertProblem(await adjust(A.agent, A.dwzh, { year: 2026, correction: true, rows: [{ account_no: grzh(A, 1), wage: '5300.00' }] }), 403, { rule: 'contribution.correction_role' });
    const o = assertOk(await adjust(op, A.dwzh, { year: 2026, correction: true, rows: [{ account_no: grzh(A, 1), wage: '5300.00' }] }), 201);
    assert.equal(o.rows[0].correction, true);
    assert.equal(o.rows[0].old_wage, '5100.00');
    assert.equal(rowOf(await draft(op, A.dwzh, '2026-12'), grzh(A, 1)).base, '5300.00');
  });

  test('the next year starts in July: 2027-08 is refused for a member there before July; 2027-07 is the default', async () => {
    assertProblem(
      await adjust(A.agent, A.dwzh, { year: 2027, rows: [{ account_no: grzh(A, 0), wage: '9000.00', effective_month: '2027-08' }] }),
      422,
      { rule: 'contribution.effective_month', field: '/rows/0/effective_month' },
    );
    const o = assertOk(await adjust(A.agent, A.dwzh, { year: 2027, rows: [{ account_no: grzh(A, 0), wage: '9000.00' }] }), 201);
    assert.equal(o.rows[0].effective_month, '2027-07');
    assert.equal(o.rows[0].old_wage, '8000.00');
    assert.equal(rowOf(await draft(op, A.dwzh, '2027-06'), grzh(A, 0)).base, '8000.00');
    assert.equal(rowOf(await draft(op, A.dwzh, '2027-07'), grzh(A, 0)).base, '9000.00');
  });

  test('all or nothing: an unknown account in row 1 is 422 naming /rows/1/account_no and row 0 is not applied', async () => {
    const before0 = assertOk(await A.agent.get(`/api/v1/employers/${A.dwzh}/base-adjustments`)).total;
    const res = await adjust(op, A.dwzh, { year: 2027, rows: [{ account_no: grzh(A, 1), wage: '5600.00' }, { account_no: grzh(C, 0), wage: '5600.00' }] });
    assertProblem(res, 422, { rule: 'contribution.member_unknown', field: '/rows/1/account_no' });
    assert.equal(assertOk(await A.agent.get(`/api/v1/employers/${A.dwzh}/base-adjustments`)).total, before0);
    assertProblem(await adjust(op, A.dwzh, { year: 2027, rows: [{ account_no: grzh(A, 1), wage: '5600.00' }, { account_no: grzh(A, 1), wage: '5700.00' }] }), 422, { rule: 'contribution.duplicate_member', field: '/rows/1/account_no' });
    assertProblem(await adjust(op, A.dwzh, { year: 2027, rows: [{ account_no: grzh(A, 1), wage: '0.00' }] }), 400, { field: '/rows/0/wage' });
    assertProblem(await adjust(op, A.dwzh, { year: 2027, rows: [{ account_no: grzh(A, 1), wage: '5600.00', x: 1 }] }), 400, { rule: 'json.unknown_field' });
    assertProblem(await adjust(op, A.dwzh, { year: 2024, rows: [{ account_no: grzh(A, 1), wage: '5600.00' }] }), 422, { rule: 'contribution.year', field: '/year' });
    assertProblem(await adjust(op, A.dwzh, { year: 2027, rows: [] }), 422, { rule: 'contribution.empty' });
    assertProblem(await A.agent.post(`/api/v1/employers/${A.dwzh}/base-adjustments`, { year: 2027, rows: [] }), 400, { rule: 'idempotency.key_missing' });
  });

  test('a wage above the cap gives the capped base; scopes: another agent 403, an administrator 403', async () => {
    const o = assertOk(await adjust(op, A.dwzh, { year: 2027, rows: [{ account_no: grzh(A, 1), wage: '99999.00' }] }), 201);
    const pol = assertOk(await op.get('/api/v1/policy'));
    assert.equal(o.rows[0].base, pol.base_cap);
    assertProblem(await adjust(C.agent, A.dwzh, { year: 2027, rows: [{ account_no: grzh(A, 1), wage: '5600.00' }] }), 403, { rule: 'scope.own_employer' });
    const admin = await loginAs(srv, 'admin');
    assertProblem(await adjust(admin, A.dwzh, { year: 2027, rows: [{ account_no: grzh(A, 1), wage: '5600.00' }] }), 403);
  });

  test('the history lists the rows newest first, by year and by account', async () => {
    const all = assertOk(await A.agent.get(`/api/v1/employers/${A.dwzh}/base-adjustments`));
    assert.equal(all.total, 5);
    assert.ok(all.items[0].id > all.items[1].id);
    const y26 = assertOk(await op.get(`/api/v1/employers/${A.dwzh}/base-adjustments?year=2026`));
    assert.equal(y26.total, 3);
    const one = assertOk(await op.get(`/api/v1/employers/${A.dwzh}/base-adjustments?account_no=${grzh(A, 0)}`));
    assert.equal(one.total, 2);
    assert.ok(one.items.every((x) => x.account_no === grzh(A, 0)));
  });

  test('each adjusted member is one member.changed audit entry; the history rows cannot be changed', async () => {
    const rows = Number((await store.sql('SELECT count(*) FROM base_adjustment')).trim());
    const entries = Number((await store.sql("SELECT count(*) FROM audit_log WHERE kind = 'member.changed'")).trim());
    assert.equal(entries, rows);
    for (const sql of ['UPDATE base_adjustment SET new_wage = 1', 'DELETE FROM base_adjustment']) {
      await assert.rejects(store.sql(sql), /immutable/, `${sql} was not refused`);
    }
  });
});

describe(`比例调整 (${STORE})`, () => {
  test('the agent lowers the ratios to 10% from December: November stays at 12%, December is 10%', async () => {
    const o = assertOk(await changeRatio(B.agent, B.dwzh, { unit_ratio_bp: 1000, indiv_ratio_bp: 1000, effective_month: '2026-12', reason: '职代会决议' }), 201);
    assert.deepEqual(
      { old: [o.old_unit_ratio_bp, o.old_indiv_ratio_bp], now: [o.unit_ratio_bp, o.indiv_ratio_bp], eff: o.effective_month, reason: o.reason },
      { old: [1200, 1200], now: [1000, 1000], eff: '2026-12', reason: '职代会决议' },
    );
    assert.equal(rowOf(await draft(B.agent, B.dwzh, '2026-11'), grzh(B, 0)).unit, '720.00');
    assert.equal(rowOf(await draft(B.agent, B.dwzh, '2026-12'), grzh(B, 0)).unit, '600.00');
    assert.equal(assertOk(await op.get(`/api/v1/employers/${B.dwzh}`)).unit_ratio_bp, 1000);
  });

  test('below the minimum is 400 ratio.below_minimum naming 降比/缓缴; above the maximum ratio.range; unequal ratio.must_match', async () => {
    const pol = assertOk(await op.get('/api/v1/policy'));
    const low = assertProblem(await changeRatio(B.agent, B.dwzh, { unit_ratio_bp: pol.unit_ratio_min_bp - 100, indiv_ratio_bp: pol.indiv_ratio_min_bp - 100, effective_month: '2027-01' }), 400, { rule: 'ratio.below_minimum', field: '/unit_ratio_bp' });
    assert.match(low.detail, /降比\/缓缴/);
    assertProblem(await changeRatio(B.agent, B.dwzh, { unit_ratio_bp: pol.unit_ratio_max_bp + 100, indiv_ratio_bp: pol.unit_ratio_max_bp + 100, effective_month: '2027-01' }), 400, { rule: 'ratio.range' });
    if (pol.ratios_must_match) {
      assertProblem(await changeRatio(B.agent, B.dwzh, { unit_ratio_bp: 1100, indiv_ratio_bp: 900, effective_month: '2027-01' }), 400, { rule: 'ratio.must_match' });
    }
  });

  test('the month: not before the business month, not a remitted month, not a year ahead; unchanged ratios 422', async () => {
    assertProblem(await changeRatio(B.agent, B.dwzh, { unit_ratio_bp: 800, indiv_ratio_bp: 800, effective_month: '2026-10' }), 422, { rule: 'contribution.ratio_month', field: '/effective_month' });
    assertProblem(await changeRatio(B.agent, B.dwzh, { unit_ratio_bp: 800, indiv_ratio_bp: 800, effective_month: '2027-12' }), 422, { rule: 'contribution.ratio_month' });
    await remitAndApprove(B.agent, op, B.dwzh, rosterFromDraft(await draft(B.agent, B.dwzh, '2026-11')));
    assertProblem(await changeRatio(B.agent, B.dwzh, { unit_ratio_bp: 800, indiv_ratio_bp: 800, effective_month: '2026-11' }), 422, { rule: 'contribution.ratio_month' });
    assertProblem(await changeRatio(B.agent, B.dwzh, { unit_ratio_bp: 1000, indiv_ratio_bp: 1000, effective_month: '2027-01' }), 422, { rule: 'contribution.ratio_unchanged' });
  });

  test('replay, reused key, scopes and the history', async () => {
    const key = idemKey('r');
    const body = { unit_ratio_bp: 1100, indiv_ratio_bp: 1100, effective_month: '2027-03' };
    const first = assertOk(await changeRatio(op, B.dwzh, body, key), 201);
    const again = await changeRatio(op, B.dwzh, body, key);
    assert.equal(again.status, 200);
    assert.equal(again.json.id, first.id);
    assertProblem(await changeRatio(op, B.dwzh, { ...body, unit_ratio_bp: 900, indiv_ratio_bp: 900 }, key), 409, { rule: 'idempotency.key_reused' });
    assertProblem(await changeRatio(C.agent, B.dwzh, body), 403, { rule: 'scope.own_employer' });
    const h = assertOk(await B.agent.get(`/api/v1/employers/${B.dwzh}/ratio-changes`));
    assert.equal(h.total, 2);
    assert.equal(h.items[0].effective_month, '2027-03');
    assert.equal(rowOf(await draft(op, B.dwzh, '2027-02'), grzh(B, 0)).unit, '600.00');
    assert.equal(rowOf(await draft(op, B.dwzh, '2027-03'), grzh(B, 0)).unit, '660.00');
    const entries = Number((await store.sql("SELECT count(*) FROM audit_log WHERE kind = 'employer.changed'")).trim());
    assert.equal(entries, 2);
  });
});

describe(`after the run (${STORE})`, () => {
  test('hpf serve exits 0; hpf verify and hpf audit verify pass', async () => {
    await srv.stop();
  });
});
