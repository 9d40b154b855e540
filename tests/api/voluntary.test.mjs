// Voluntary depositors (灵活就业, issue 5 item 3; RULES §1.4; docs/internals/contribution-changes.md):
// an operator registers the person at the counter (base within [floor, cap], one ratio within
// [unit_min + indiv_min, unit_max + indiv_max]); the account sits at the centre's pseudo-unit; the
// person (online, as a member) or an operator pays each month's deposit in that month, once (a
// repeat returns the same deposit); an earlier month is refused (no back-payment); stopping seals
// the account. The deposit is a remittance of one member through voucher template 001, so `hpf
// verify` and `hpf audit verify` hold at the end. Business date 2026-11-15. Runs on the store of
// HPF_TEST_STORE.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chineseName, createEmployer, idemKey, newIdNumber, nextN } from '../lib/fixtures.mjs';
import { fen, yuan } from '../lib/money.mjs';
import { assertOk, assertProblem } from '../lib/problem.mjs';
import { STORE, client, createStore, login, loginAs, populate, startServer } from '../lib/server.mjs';

let store;
let srv;
let op;
let pol;
let P; // the first depositor: { account, idNumber, name }
let Q; // the second
let person; // P's online login

const register = (sess, body) => sess.post('/api/v1/voluntary', body);
const pay = (sess, grzh, period) => sess.post(`/api/v1/voluntary/${grzh}/deposits`, { period });

function person0(base = '6543.21', ratio = 1600) {
  return { name: chineseName(nextN()), id_number: newIdNumber(), phone: '13805150011', base, ratio_bp: ratio };
}

before(async () => {
  store = await createStore({ tag: 'vol' });
  await populate(store, { demo: { employers: 1, members: 2, months: 1, seed: 43 } });
  srv = await startServer({ store, sim: true });
  op = await loginAs(srv, 'operator');
  pol = assertOk(await op.get('/api/v1/policy'));
});
after(async () => {
  await srv?.stop().catch(() => {});
  await store?.drop();
});

describe(`registration (${STORE})`, () => {
  test('an operator registers a person: 201, an account of the pseudo-unit, state 01, the month\'s deposit base x ratio rounded once', async () => {
    const body = person0();
    const o = assertOk(await register(op, body), 201);
    P = { account: o, idNumber: body.id_number, name: body.name };
    assert.equal(o.state_code, '01');
    assert.equal(o.registered_on, '2026-11-15', 'registered on the business date');
    assert.equal(o.base, '6543.21');
    assert.equal(o.ratio_bp, 1600);
    // 6,543.21 x 16% = 1,046.91 -> rounded to the policy's unit, once.
    const unit = BigInt({ yuan: 100, jiao: 10, fen: 1 }[pol.rounding] ?? 100);
    const want = ((fen('6543.21') * 1600n + 5000n * unit) / (10000n * unit)) * unit;
    assert.equal(fen(o.monthly), want);
    assert.match(o.unit_account_no, /^\d{6}/);
    const unitRow = assertOk(await op.get(`/api/v1/employers/${o.unit_account_no}`));
    assert.equal(unitRow.state_code, '99', 'the pseudo-unit is in state 99 其他');
    assert.equal(unitRow.branch, '00');
  });

  test('a second person lands at the same pseudo-unit', async () => {
    const body = person0('5000.00', pol.unit_ratio_min_bp + pol.indiv_ratio_min_bp);
    const o = assertOk(await register(op, body), 201);
    Q = { account: o, idNumber: body.id_number, name: body.name };
    assert.equal(o.unit_account_no, P.account.unit_account_no);
    assert.equal(o.registered_on, '2026-11-15');
  });

  test('one live account per person: 409 member.one_live_account', async () => {
    assertProblem(await register(op, { ...person0(), id_number: P.idNumber }), 409, { rule: 'member.one_live_account', field: '/id_number' });
  });

  test('the base within [floor, cap] and the ratio within the voluntary range, else 400 naming the field', async () => {
    assertProblem(await register(op, person0(yuan(fen(pol.base_floor) - 1n))), 400, { rule: 'voluntary.base_range', field: '/base' });
    assertProblem(await register(op, person0(yuan(fen(pol.base_cap) + 1n))), 400, { rule: 'voluntary.base_range', field: '/base' });
    assertProblem(await register(op, person0('5000.00', pol.unit_ratio_min_bp + pol.indiv_ratio_min_bp - 1)), 400, { rule: 'voluntary.ratio_range', field: '/ratio_bp' });
    assertProblem(await register(op, person0('5000.00', pol.unit_ratio_max_bp + pol.indiv_ratio_max_bp + 1)), 400, { rule: 'voluntary.ratio_range', field: '/ratio_bp' });
    assertProblem(await register(op, { ...person0(), extra: 1 }), 400, { rule: 'json.unknown_field' });
  });

  test('only an operator registers: an agent and an administrator are 403', async () => {
    const agent = await loginAs(srv, 'agent');
    assertProblem(await register(agent, person0()), 403);
    assertProblem(await register(await loginAs(srv, 'admin'), person0()), 403);
  });

  test("the pseudo-unit takes no 汇缴 roster: 409 employer.state", async () => {
    const res = await op.post(`/api/v1/employers/${P.account.unit_account_no}/remittances`, { period: '2026-11', total: P.account.monthly, rows: [{ account_no: P.account.account_no, unit: '0.00', individual: P.account.monthly }] }, { headers: { 'Idempotency-Key': idemKey('vu') } });
    assertProblem(res, 409, { rule: 'employer.state' });
  });
});

describe(`monthly deposits (${STORE})`, () => {
  test('the person registers online and pays November: 201, a remittance of one member, the balance moves', async () => {
    const password = 'Member#2026vol';
    assertOk(await client(srv).post('/api/v1/registrations', { id_number: P.idNumber, name: P.name, account_no: P.account.account_no, password }), 201);
    person = await login(srv, P.idNumber, password);
    const r = assertOk(await pay(person, P.account.account_no, '2026-11'), 201);
    assert.equal(r.period, '2026-11');
    assert.equal(r.members, 1);
    assert.equal(r.total, P.account.monthly);
    assert.equal(r.unit_total, '0.00');
    assert.match(r.voucher_no, /\S/);
    const v = assertOk(await person.get(`/api/v1/voluntary/${P.account.account_no}`));
    assert.equal(v.balance, P.account.monthly);
    assert.equal(v.paid_through, '2026-11');
    P.deposit = r;
  });

  test('once a month: paying November again returns the same deposit (200 Idempotent-Replay) and moves nothing', async () => {
    const again = await pay(op, P.account.account_no, '2026-11');
    assert.equal(again.status, 200);
    assert.equal(again.headers['idempotent-replay'], 'true');
    assert.equal(again.json.serial, P.deposit.serial);
    assert.equal(assertOk(await op.get(`/api/v1/voluntary/${P.account.account_no}`)).balance, P.account.monthly);
  });

  test('a missed month is not back-paid: October 422 voluntary.no_backpay; December 422 voluntary.period_future', async () => {
    assertProblem(await pay(op, Q.account.account_no, '2026-10'), 422, { rule: 'voluntary.no_backpay', field: '/period' });
    assertProblem(await pay(op, Q.account.account_no, '2026-12'), 422, { rule: 'voluntary.period_future', field: '/period' });
    assertOk(await pay(op, Q.account.account_no, '2026-11'), 201);
  });

  test("scopes: the person may not pay or read another's account; an ordinary member's account is no voluntary one", async () => {
    assertProblem(await pay(person, Q.account.account_no, '2026-11'), 403, { rule: 'scope.own_account' });
    assertProblem(await person.get(`/api/v1/voluntary/${Q.account.account_no}`), 403, { rule: 'scope.own_account' });
    const member = await loginAs(srv, 'member');
    assertProblem(await member.get(`/api/v1/voluntary/${member.user.account_no}`), 404);
    assertProblem(await pay(await loginAs(srv, 'agent'), P.account.account_no, '2026-11'), 403);
  });
});

describe(`stopping (${STORE})`, () => {
  test('the person stops: the account is sealed (02) with a 封存 history row; a deposit after is 409 account.state', async () => {
    const o = assertOk(await person.post(`/api/v1/voluntary/${P.account.account_no}/stop`, {}));
    assert.equal(o.state_code, '02');
    assert.equal(o.business_code, '05');
    const h = assertOk(await op.get(`/api/v1/members/${P.account.account_no}/history`));
    assert.equal(h.items[0].business_code, '05');
    // The paid month stays paid (no refund): asking for it again still answers that deposit.
    const again = await pay(person, P.account.account_no, '2026-11');
    assert.equal(again.status, 200);
    assert.equal(again.json.serial, P.deposit.serial);
  });

  test('an operator stops an account; stopping twice is 409 account.state; a sealed account takes no deposit', async () => {
    const R = assertOk(await register(op, person0('4000.00', 2000)), 201);
    assertOk(await op.post(`/api/v1/voluntary/${R.account_no}/stop`, { reason: '本人申请' }));
    assertProblem(await op.post(`/api/v1/voluntary/${R.account_no}/stop`, {}), 409, { rule: 'account.state' });
    assertProblem(await pay(op, R.account_no, '2026-11'), 409, { rule: 'account.state' });
  });
});

describe(`after the run (${STORE})`, () => {
  test('hpf serve exits 0; hpf verify and hpf audit verify pass', async () => {
    await srv.stop();
  });
});
