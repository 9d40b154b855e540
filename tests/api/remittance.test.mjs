// Monthly remittance (汇缴): the draft roster, posting under maker-checker (the agent submits,
// another login approves: docs/internals/approval.md), idempotency, and the rule that a rejected
// roster writes nothing. Contract: docs/openapi.yaml "Remittances", "Policy"; amounts:
// shared/domain/RULES.md §1.2 (worked example 1.2-A). Business date 2026-11-15: the current
// business month is 2026-11; fresh employers open on 2026-11-15, so 2026-11 is their only
// postable month (2026-10 is before opening, 2026-12 in the future).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { approve, employerWithMembers, idemKey, remitAndApprove, rosterFromDraft } from '../lib/fixtures.mjs';
import { contribution, fen, sum, yuan } from '../lib/money.mjs';
import { assertOk, assertProblem } from '../lib/problem.mjs';
import { BUSINESS_DATE, loginAs, startServer } from '../lib/server.mjs';

const PERIOD = BUSINESS_DATE.slice(0, 7); // 2026-11

let srv;
let op;
let policy;

before(async () => {
  srv = await startServer({ demo: { employers: 1, members: 2, months: 2, seed: 11 }, sim: true }); // sim: members' SMS codes
  op = await loginAs(srv, 'operator');
  policy = assertOk(await op.get('/api/v1/policy'));
});
after(() => srv?.stop().catch(() => {}));

const draftPath = (dwzh, period = PERIOD) => `/api/v1/employers/${dwzh}/remittances/draft?period=${period}`;
const postPath = (dwzh) => `/api/v1/employers/${dwzh}/remittances`;

function post(sess, dwzh, body, key = idemKey()) {
  const headers = key === null ? {} : { 'Idempotency-Key': key };
  return sess.post(postPath(dwzh), body, { headers });
}

/** Everything a remittance could change, read back through the API. */
async function snapshot(e) {
  const members = [];
  for (const m of e.members) members.push(assertOk(await op.get(`/api/v1/members/${m.member.account_no}`)));
  const employer = assertOk(await op.get(`/api/v1/employers/${e.dwzh}`));
  const remittances = assertOk(await op.get(`/api/v1/employers/${e.dwzh}/remittances?offset=0&limit=50`));
  return {
    balances: members.map((m) => m.balance),
    paid: members.map((m) => m.paid_through),
    employerPaid: employer.paid_through,
    remittances,
  };
}

async function writesNothing(e, fn) {
  const before1 = await snapshot(e);
  await fn();
  assert.deepEqual(await snapshot(e), before1, 'the rejected remittance changed balances or history');
}

describe('policy', () => {
  test('GET /api/v1/policy returns the parameters in force on the business date', async () => {
    for (const k of ['version', 'effective_from', 'unit_ratio_min_bp', 'unit_ratio_max_bp', 'indiv_ratio_min_bp', 'indiv_ratio_max_bp',
      'city_avg_wage', 'min_wage', 'base_cap', 'base_floor', 'cap_multiple', 'rounding', 'ratios_must_match']) {
      assert.ok(k in policy, `policy.${k}`);
    }
    assert.ok(policy.effective_from <= BUSINESS_DATE);
    assert.ok(['yuan', 'jiao', 'fen'].includes(policy.rounding));
    assert.equal(fen(policy.base_cap), fen(policy.city_avg_wage) * BigInt(policy.cap_multiple), 'cap = multiple x city average (C-3)');
    assert.equal(fen(policy.base_floor), fen(policy.min_wage), 'floor = minimum wage (C-4)');
    const dated = assertOk(await op.get(`/api/v1/policy?date=${BUSINESS_DATE}`));
    assert.deepEqual(dated, policy);
  });

  test('the demo policy is the one of RULES §1.2-A (7500.00 average, 2070.00 minimum, yuan rounding)', () => {
    assert.equal(policy.city_avg_wage, '7500.00');
    assert.equal(policy.base_cap, '22500.00');
    assert.equal(policy.base_floor, '2070.00');
    assert.equal(policy.rounding, 'yuan');
  });

  test('a date before any policy is 404, a malformed date 400 date', async () => {
    assertProblem(await op.get('/api/v1/policy?date=1900-01-01'), 404);
    assertProblem(await op.get('/api/v1/policy?date=2026-13-01'), 400, { field: 'date' });
  });
});

describe('draft roster follows RULES §1.2', () => {
  function checkDraft(d, e, unitBp, indivBp) {
    assert.equal(d.period, PERIOD);
    assert.equal(d.members, e.members.length);
    assert.equal(d.rows.length, e.members.length);
    for (const m of e.members) {
      const row = d.rows.find((r) => r.account_no === m.member.account_no);
      assert.ok(row, `row for ${m.member.account_no}`);
      assert.equal(row.name, m.name);
      const want = contribution(m.wage, policy, unitBp, indivBp);
      assert.deepEqual({ base: row.base, unit: row.unit, individual: row.individual, total: row.total }, want, `wage ${m.wage}`);
    }
    assert.equal(d.unit_total, sum(d.rows.map((r) => r.unit)));
    assert.equal(d.indiv_total, sum(d.rows.map((r) => r.individual)));
    assert.equal(d.total, sum(d.rows.map((r) => r.total)));
  }

  test('8%/8%: 6543.21 -> 523/523; 25310.40 capped; 1900.00 floored', async () => {
    const e = await employerWithMembers(srv, op, { unitBp: 800, wages: ['6543.21', '25310.40', '1900.00'] });
    const d = assertOk(await e.agent.get(draftPath(e.dwzh)));
    checkDraft(d, e, 800, 800);
    const byWage = (w) => d.rows.find((r) => r.account_no === e.members.find((m) => m.wage === w).member.account_no);
    assert.deepEqual([byWage('6543.21').unit, byWage('6543.21').individual, byWage('6543.21').total], ['523.00', '523.00', '1046.00']);
    assert.equal(byWage('25310.40').base, policy.base_cap);
    assert.equal(byWage('25310.40').unit, '1800.00');
    assert.equal(byWage('1900.00').base, policy.base_floor);
    assert.equal(byWage('1900.00').unit, '166.00'); // 2070 x 8% = 165.60 -> 166
    assert.equal(d.total, '4978.00'); // 1046 + 3600 + 332
  });

  test('5%/5%: the .5 tie of employee B rounds half up (103.50 -> 104)', async () => {
    const e = await employerWithMembers(srv, op, { unitBp: 500, wages: ['1900.00'] });
    const d = assertOk(await e.agent.get(draftPath(e.dwzh)));
    checkDraft(d, e, 500, 500);
    assert.deepEqual(d.rows.map((r) => [r.base, r.unit, r.individual, r.total]), [['2070.00', '104.00', '104.00', '208.00']]);
  });

  test('12%/12%: employee A is capped at 22500.00 -> 2700/2700', async () => {
    const e = await employerWithMembers(srv, op, { unitBp: 1200, wages: ['25310.40'] });
    const d = assertOk(await e.agent.get(draftPath(e.dwzh)));
    checkDraft(d, e, 1200, 1200);
    assert.deepEqual(d.rows.map((r) => [r.base, r.unit, r.individual, r.total]), [['22500.00', '2700.00', '2700.00', '5400.00']]);
  });

  test('the member object carries the same monthly amounts as the draft', async () => {
    const e = await employerWithMembers(srv, op, { unitBp: 800, wages: ['6543.21'] });
    const m = e.members[0].member;
    assert.deepEqual([m.base, m.unit_monthly, m.indiv_monthly, m.monthly_total], ['6543.21', '523.00', '523.00', '1046.00']);
  });

  test('a draft for a malformed period is 400 period', async () => {
    const e = await employerWithMembers(srv, op, { unitBp: 800, wages: ['6543.21'] });
    assertProblem(await e.agent.get(draftPath(e.dwzh, '2026-13')), 400, { field: 'period' });
    assertProblem(await e.agent.get(draftPath(e.dwzh, '2026-1')), 400, { field: 'period' });
  });

  test('a draft without ?period= is the month before the business month, without members opened later', async () => {
    const e = await employerWithMembers(srv, op, { unitBp: 800, wages: ['6543.21'] });
    const r = await e.agent.get(`/api/v1/employers/${e.dwzh}/remittances/draft`);
    assert.equal(r.status, 200);
    assert.equal(r.json.period, '2026-10');
    // the member was opened on the business date 2026-11-15, after October
    assert.equal(r.json.rows.length, 0);
    assert.equal(r.json.total, '0.00');
  });
});

describe('posting and idempotency', () => {
  let e;
  let roster;
  let key;
  let first;
  let draft;
  let approvalId;

  before(async () => {
    e = await employerWithMembers(srv, op, { unitBp: 800, wages: ['6543.21', '25310.40', '1900.00'] });
    draft = assertOk(await e.agent.get(draftPath(e.dwzh)));
    roster = rosterFromDraft(draft);
    key = idemKey('post');
  });

  test('the agent submits the month: 202, a pending approval, nothing posted yet', async () => {
    await writesNothing(e, async () => {
      const res = await post(e.agent, e.dwzh, roster, key);
      const a = assertOk(res, 202);
      assert.equal(a.status, 'pending');
      assert.equal(a.kind, 'remittance.post');
      assert.equal(a.employer_account_no, e.dwzh);
      assert.equal(a.result, null);
      assert.notEqual(res.headers['idempotent-replay'], 'true');
      approvalId = a.approval_id;
    });
  });

  test('the operator approves: 200, the approval carries the posted remittance', async () => {
    const res = await approve(op, approvalId);
    const a = assertOk(res, 200);
    assert.equal(a.status, 'approved');
    first = a.result;
    assert.match(first.serial, /^HJ\d{14}$/);
    assert.equal(first.serial.slice(2, 10), BUSINESS_DATE.replaceAll('-', ''), 'serial carries the business date');
    assert.equal(first.period, PERIOD);
    assert.equal(first.state, 'posted');
    assert.equal(first.members, 3);
    assert.equal(first.unit_total, draft.unit_total);
    assert.equal(first.indiv_total, draft.indiv_total);
    assert.equal(first.total, draft.total);
    assert.equal(first.total, '4978.00');
    assert.match(first.voucher_no, /^V\d{14}$/);
    assert.equal(first.posted_on, BUSINESS_DATE);
  });

  test("each member's balance grew by their monthly total; paid_through is the period", async () => {
    for (const m of e.members) {
      const now = assertOk(await op.get(`/api/v1/members/${m.member.account_no}`));
      assert.equal(now.balance, m.member.monthly_total, `${m.wage}: balance`);
      assert.equal(now.paid_through, PERIOD);
    }
    assert.equal(assertOk(await op.get(`/api/v1/employers/${e.dwzh}`)).paid_through, PERIOD);
  });

  test("each member's statement shows the remittance with the voucher number", async () => {
    const m = e.members[0].member;
    const st = assertOk(await op.get(`/api/v1/members/${m.account_no}/statement?from=${BUSINESS_DATE}&to=${BUSINESS_DATE}`));
    assert.equal(st.items.length, 1);
    const it = st.items[0];
    assert.deepEqual(
      { date: it.date, type: it.type, type_code: it.type_code, period: it.period, amount: it.amount, balance: it.balance, voucher_no: it.voucher_no },
      { date: BUSINESS_DATE, type: 'remittance', type_code: '01', period: PERIOD, amount: m.monthly_total, balance: m.monthly_total, voucher_no: first.voucher_no },
    );
    assert.equal(st.opening_balance, '0.00');
    assert.equal(st.closing_balance, m.monthly_total);
  });

  test('the employer history lists it', async () => {
    const list = assertOk(await e.agent.get(`/api/v1/employers/${e.dwzh}/remittances?offset=0&limit=50`));
    assert.equal(list.total, 1);
    assert.deepEqual(list.items[0], first);
  });

  test('the same key with the same body again: 200, the approved request with the same remittance, Idempotent-Replay: true, nothing posted', async () => {
    await writesNothing(e, async () => {
      const res = await post(e.agent, e.dwzh, roster, key);
      const a = assertOk(res, 200);
      assert.equal(a.approval_id, approvalId);
      assert.equal(a.status, 'approved');
      assert.deepEqual(a.result, first);
      assert.equal(res.headers['idempotent-replay'], 'true');
    });
  });

  test('the replay also works for the operator (the key belongs to the employer, not the session)', async () => {
    await writesNothing(e, async () => {
      const res = await post(op, e.dwzh, roster, key);
      assert.deepEqual(assertOk(res, 200).result, first);
      assert.equal(res.headers['idempotent-replay'], 'true');
    });
  });

  test('the same key with a different body is 409 idempotency.key_reused and writes nothing', async () => {
    const other = { ...roster, rows: roster.rows.slice(0, 2) };
    other.total = sum(draft.rows.slice(0, 2).map((r) => r.total));
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, other, key), 409, { rule: 'idempotency.key_reused' });
    });
  });

  test('the posted month with a new key is 409 remittance.period_posted and writes nothing', async () => {
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, roster, idemKey('again')), 409, { rule: 'remittance.period_posted' });
    });
  });
});

describe('a rejected roster writes nothing', () => {
  let e; // 8%/8%, three members, not yet posted
  let stranger; // a member of another employer
  let draft;
  let roster;

  before(async () => {
    e = await employerWithMembers(srv, op, { unitBp: 800, wages: ['6543.21', '5000.00', '3200.50'] });
    stranger = (await employerWithMembers(srv, op, { unitBp: 800, wages: ['4000.00'] })).members[0];
    draft = assertOk(await e.agent.get(draftPath(e.dwzh)));
    roster = rosterFromDraft(draft);
  });

  const clone = () => structuredClone(roster);

  test('a wrong unit amount in row 1 is 422 /rows/1/unit remittance.amount_mismatch', async () => {
    const b = clone();
    b.rows[1].unit = yuan(fen(b.rows[1].unit) + 100n);
    b.total = yuan(fen(b.total) + 100n);
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, b), 422, { field: '/rows/1/unit', rule: 'remittance.amount_mismatch' });
    });
  });

  test('a wrong individual amount in row 2 is 422 /rows/2/individual remittance.amount_mismatch', async () => {
    const b = clone();
    b.rows[2].individual = yuan(fen(b.rows[2].individual) - 1n);
    b.total = yuan(fen(b.total) - 1n);
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, b), 422, { field: '/rows/2/individual', rule: 'remittance.amount_mismatch' });
    });
  });

  test('a name that does not match the account is 422 /rows/0/name remittance.name_mismatch', async () => {
    const b = clone();
    b.rows[0].name = `${b.rows[0].name}某`;
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, b), 422, { field: '/rows/0/name', rule: 'remittance.name_mismatch' });
    });
  });

  test("another employer's member in row 3 is 422 /rows/3/... remittance.member_unknown", async () => {
    const b = clone();
    const s = stranger.member;
    b.rows.push({ account_no: s.account_no, name: stranger.name, unit: contribution('4000.00', policy, 800, 800).unit, individual: contribution('4000.00', policy, 800, 800).individual });
    b.total = yuan(fen(b.total) + fen(contribution('4000.00', policy, 800, 800).total));
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, b), 422, { field: /^\/rows\/3(\/account_no)?$/, rule: 'remittance.member_unknown' });
    });
    // and the stranger's own account did not move either
    assert.equal(assertOk(await op.get(`/api/v1/members/${s.account_no}`)).balance, '0.00');
  });

  test('the same member twice is 422 /rows/3/... remittance.duplicate_member', async () => {
    const b = clone();
    b.rows.push({ ...b.rows[0] });
    b.total = yuan(fen(b.total) + fen(draft.rows[0].total));
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, b), 422, { field: /^\/rows\/3(\/account_no)?$/, rule: 'remittance.duplicate_member' });
    });
  });

  test('a total that is not the sum of the rows is 422 /total remittance.total_mismatch', async () => {
    const b = clone();
    b.total = yuan(fen(b.total) + 1n);
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, b), 422, { field: '/total', rule: 'remittance.total_mismatch' });
    });
  });

  test('a month after the business month is 422 /period remittance.period_future', async () => {
    const b = clone();
    b.period = '2026-12';
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, b), 422, { field: '/period', rule: 'remittance.period_future' });
    });
  });

  test('a month before the employer opened is 422 /period remittance.period_before_opening', async () => {
    const b = clone();
    b.period = '2026-10';
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, b), 422, { field: '/period', rule: 'remittance.period_before_opening' });
    });
  });

  test('no rows is 422 /rows remittance.empty', async () => {
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, { period: PERIOD, total: '0.00', rows: [] }), 422, { field: '/rows', rule: 'remittance.empty' });
    });
  });

  test('more than 5000 rows is 413', async () => {
    const row = roster.rows[0];
    const b = { period: PERIOD, total: yuan(fen(draft.rows[0].total) * 5001n), rows: Array.from({ length: 5001 }, () => ({ ...row })) };
    assert.ok(Buffer.byteLength(JSON.stringify(b)) < 1024 * 1024, 'under the body limit: the row cap is what answers');
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, b), 413);
    });
  });

  test('a missing Idempotency-Key is 400 Idempotency-Key idempotency.key_missing', async () => {
    await writesNothing(e, async () => {
      assertProblem(await post(e.agent, e.dwzh, clone(), null), 400, { field: 'Idempotency-Key', rule: 'idempotency.key_missing' });
    });
  });

  for (const bad of ['short', 'x'.repeat(65), 'has space 12345', 'bad/slash/key', '汉字汉字汉字汉字']) {
    test(`Idempotency-Key ${JSON.stringify(bad.length > 20 ? `${bad.slice(0, 8)}...(${bad.length})` : bad)} is 400 idempotency.key_format`, async () => {
      await writesNothing(e, async () => {
        const res = await post(e.agent, e.dwzh, clone(), encodeURIComponent(bad) === bad ? bad : Buffer.from(bad).toString('latin1'));
        assertProblem(res, 400, { field: 'Idempotency-Key', rule: 'idempotency.key_format' });
      });
    });
  }

  test("an agent of another employer may not post here: 403 scope.own_employer", async () => {
    const other = await employerWithMembers(srv, op, { unitBp: 800, wages: ['4000.00'] });
    await writesNothing(e, async () => {
      assertProblem(await post(other.agent, e.dwzh, clone()), 403, { rule: 'scope.own_employer' });
    });
  });

  test('a member may not post a remittance: 403 auth.role', async () => {
    const m = await loginAs(srv, 'member');
    await writesNothing(e, async () => {
      assertProblem(await post(m, e.dwzh, clone()), 403, { rule: 'auth.role' });
    });
  });

  test('after all those rejections the correct roster still posts: nothing was half-written', async () => {
    const { receipt: r } = await remitAndApprove(e.agent, op, e.dwzh, clone(), { key: idemKey('final') });
    assert.equal(r.total, draft.total);
    for (const m of e.members) {
      assert.equal(assertOk(await op.get(`/api/v1/members/${m.member.account_no}`)).balance, m.member.monthly_total);
    }
  });
});

describe('concurrent submits and approvals', () => {
  test('four simultaneous submits with one key: one 202, the rest replay it; approved once, money posted once', async () => {
    const e = await employerWithMembers(srv, op, { unitBp: 1000, wages: ['8000.00', '12000.00'] });
    const roster = rosterFromDraft(assertOk(await e.agent.get(draftPath(e.dwzh))));
    const key = idemKey('race');
    const results = await Promise.all([0, 1, 2, 3].map(() => post(e.agent, e.dwzh, roster, key)));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 202], `statuses ${statuses}`);
    const created = results.find((r) => r.status === 202).json;
    for (const r of results.filter((x) => x.status === 200)) {
      assert.equal(r.headers['idempotent-replay'], 'true');
      assert.equal(r.json.approval_id, created.approval_id);
    }
    const both = await Promise.all([approve(op, created.approval_id), approve(op, created.approval_id)]);
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 409], both.map((r) => r.text).join('\n'));
    assertProblem(both.find((r) => r.status === 409), 409, { rule: 'approval.decided' });
    for (const m of e.members) {
      assert.equal(assertOk(await op.get(`/api/v1/members/${m.member.account_no}`)).balance, m.member.monthly_total, 'posted exactly once');
    }
    assert.equal(assertOk(await op.get(`/api/v1/employers/${e.dwzh}/remittances?offset=0&limit=50`)).total, 1);
  });

  test('four simultaneous submits of one month with different keys: one 202, three 409 remittance.period_pending', async () => {
    const e = await employerWithMembers(srv, op, { unitBp: 1000, wages: ['8000.00'] });
    const roster = rosterFromDraft(assertOk(await e.agent.get(draftPath(e.dwzh))));
    const results = await Promise.all([0, 1, 2, 3].map((i) => post(e.agent, e.dwzh, roster, idemKey(`r${i}`))));
    const created = results.filter((r) => r.status === 202);
    assert.equal(created.length, 1, `statuses ${results.map((r) => r.status)}`);
    for (const r of results.filter((x) => x.status !== 202)) assertProblem(r, 409, { rule: 'remittance.period_pending' });
    assertOk(await approve(op, created[0].json.approval_id));
    assertProblem(await post(e.agent, e.dwzh, roster, idemKey('late')), 409, { rule: 'remittance.period_posted' });
    assert.equal(assertOk(await op.get(`/api/v1/members/${e.members[0].member.account_no}`)).balance, e.members[0].member.monthly_total);
  });
});

describe('history order', () => {
  test('the demo employer history is newest period first and counts its months', async () => {
    const agent = await loginAs(srv, 'agent');
    const dwzh = agent.user.employer_account_no;
    const list = assertOk(await agent.get(`/api/v1/employers/${dwzh}/remittances?offset=0&limit=50`));
    assert.equal(list.total, 2, 'the demo posted two months');
    assert.equal(list.items.length, 2);
    assert.notEqual(list.items[0].period, list.items[1].period);
    const e = assertOk(await agent.get(`/api/v1/employers/${dwzh}`));
    assert.equal(list.items[0].period, e.paid_through);
    const periods = list.items.map((r) => r.period);
    assert.deepEqual(periods, [...periods].sort().reverse());
  });
});

test('hpf serve exits 0 on SIGTERM (no sanitizer report, no leak)', async () => {
  await srv.stop();
});
