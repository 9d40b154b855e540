// Member accounts (个人开户), online-hall registration, balance and statement.
// Contract: docs/openapi.yaml "Members"; ids: shared/domain/RULES.md §10.1; amounts §1.2.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chineseName, createEmployer, newIdNumber, newIdNumberEndingX, nextN } from '../lib/fixtures.mjs';
import { idNumber, maskId, mod112Check, mod112Valid } from '../lib/ids.mjs';
import { contribution, fen, yuan } from '../lib/money.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import { BUSINESS_DATE, client, login, loginAs, startServer } from '../lib/server.mjs';

let srv;
let op;
let agent; // agent of a fresh 8%/8% employer
let dwzh;
let otherDwzh;
let policy;

before(async () => {
  srv = await startServer({ demo: { employers: 1, members: 3, months: 2, seed: 5 }, sim: true }); // sim: members' SMS codes
  op = await loginAs(srv, 'operator');
  policy = assertOk(await op.get('/api/v1/policy'));
  const e = await createEmployer(op, { unitBp: 800, indivBp: 800 });
  dwzh = e.employer.account_no;
  agent = await login(srv, e.agent.username, e.agent.password);
  otherDwzh = (await createEmployer(op, { unitBp: 800 })).employer.account_no;
});
after(() => srv?.stop().catch(() => {}));

async function memberTotal(d = dwzh) {
  const r = await op.get(`/api/v1/employers/${d}/members?offset=0&limit=1`);
  assert.equal(r.status, 200, describeRes(r));
  return r.json.total;
}

async function writesNothing(fn) {
  const t = await memberTotal();
  const t2 = await memberTotal(otherDwzh);
  await fn();
  assert.equal(await memberTotal(), t, 'the failed request opened a member');
  assert.equal(await memberTotal(otherDwzh), t2, 'the failed request opened a member elsewhere');
}

function open(body, sess = agent, d = dwzh) {
  return sess.post(`/api/v1/employers/${d}/members`, body);
}

const MEMBER_FIELDS = ['account_no', 'name', 'id_number', 'employer_account_no', 'employer_name', 'state', 'opened_on', 'wage', 'base',
  'unit_monthly', 'indiv_monthly', 'monthly_total', 'balance', 'paid_through'];

describe('opening an account', () => {
  let m;

  test('the agent opens 张三 (11010519491231002X, wage 6543.21 at 8%/8%): 201 with the member object', async () => {
    const before1 = await memberTotal();
    const res = await open({ name: '张三', id_number: '11010519491231002X', wage: '6543.21', phone: '13800000000' });
    m = assertOk(res, 201);
    for (const k of MEMBER_FIELDS) assert.ok(k in m, `field ${k} in ${res.text}`);
    assert.ok(mod112Valid(m.account_no), `GRZH ${m.account_no} ends in its MOD 11-2 check character`);
    assert.equal(m.name, '张三');
    assert.equal(m.id_number, '1101**********002X', 'the id number is masked but for 4 + 4 characters');
    assert.equal(m.employer_account_no, dwzh);
    assert.equal(typeof m.employer_name, 'string');
    assert.equal(m.state, 'normal');
    assert.equal(m.opened_on, BUSINESS_DATE);
    assert.equal(m.wage, '6543.21');
    const want = contribution('6543.21', policy, 800, 800);
    assert.equal(m.base, want.base);
    assert.equal(m.unit_monthly, want.unit);
    assert.equal(m.indiv_monthly, want.individual);
    assert.equal(m.monthly_total, want.total);
    if (policy.rounding === 'yuan') {
      assert.equal(m.unit_monthly, '523.00', 'RULES §1.2-A employee C');
      assert.equal(m.monthly_total, '1046.00');
    }
    assert.equal(m.balance, '0.00');
    assert.equal(m.paid_through, null);
    assert.equal(await memberTotal(), before1 + 1);
  });

  test('GET /api/v1/members/{grzh} returns the same object; the employer lists and counts it', async () => {
    assert.deepEqual(assertOk(await agent.get(`/api/v1/members/${m.account_no}`)), m);
    assert.deepEqual(assertOk(await op.get(`/api/v1/members/${m.account_no}`)), m);
    const list = assertOk(await agent.get(`/api/v1/employers/${dwzh}/members?offset=0&limit=50`));
    assert.ok(list.items.some((x) => x.account_no === m.account_no));
    const e = assertOk(await op.get(`/api/v1/employers/${dwzh}`));
    assert.equal(e.members, list.total);
  });

  test('the second valid id vector 440524188001010014 is accepted, without a phone', async () => {
    const x = assertOk(await open({ name: '李四', id_number: '440524188001010014', wage: '5000.00' }), 201);
    assert.equal(x.id_number, '4405**********0014');
  });

  test('a second live account for the same id number is 409 member.one_live_account (same employer)', async () => {
    await writesNothing(async () => {
      assertProblem(await open({ name: '张三', id_number: '11010519491231002X', wage: '7000.00' }), 409, { rule: 'member.one_live_account' });
    });
  });

  test('... and at another employer too (one live account per person)', async () => {
    await writesNothing(async () => {
      const res = await open({ name: '张三', id_number: '11010519491231002X', wage: '7000.00' }, op, otherDwzh);
      assertProblem(res, 409, { rule: 'member.one_live_account' });
    });
  });

  test("a lower-case check 'x' is read as 'X': same person, same account rule", async () => {
    const id = newIdNumberEndingX();
    const x = assertOk(await open({ name: chineseName(nextN()), id_number: id.toLowerCase(), wage: '6000.00' }), 201);
    assert.equal(x.id_number, maskId(id));
    assertProblem(await open({ name: x.name, id_number: id, wage: '6000.00' }), 409, { rule: 'member.one_live_account' });
  });

  test('the operator may open accounts at any employer', async () => {
    assertOk(await open({ name: chineseName(nextN()), id_number: newIdNumber(), wage: '4800.00' }, op, otherDwzh), 201);
  });
});

describe('id number validation (nothing written)', () => {
  const cases = [
    ['32090219900307123X', 'id.check_digit', 'RULES §10.1 vector: the check character should be 2'],
    [idNumber('19900307', 123).slice(0, 17) + (idNumber('19900307', 123)[17] === '0' ? '1' : '0'), 'id.check_digit', 'wrong check digit'],
    [idNumber('19900230', 123), 'id.birth_date', 'born on 30 February'],
    [idNumber('19901301', 123), 'id.birth_date', 'born in month 13'],
    [idNumber('20990101', 123), 'id.birth_date', 'born in the future'],
    ['32090219900307123', 'id.format', '17 characters'],
    ['3209021990030712321', 'id.format', '19 characters'],
    ['32090219900307123Y', 'id.format', 'a check character that is not 0-9 or X'],
    ['3209021990O3071232', 'id.format', 'a letter inside'],
    ['', 'id.format', 'empty'],
  ];
  for (const [id, rule, why] of cases) {
    test(`${JSON.stringify(id)} (${why}) is 400 /id_number ${rule}`, async () => {
      await writesNothing(async () => {
        assertProblem(await open({ name: '王五', id_number: id, wage: '6543.21' }), 400, { field: '/id_number', rule });
      });
    });
  }
});

describe('wage validation (nothing written)', () => {
  const cases = [
    ['6543.215', 'money.format'],
    ['6,543.21', 'money.format'],
    ['abc', 'money.format'],
    ['1e3', 'money.format'],
    [' 6543.21', 'money.format'],
    ['-1.00', 'money.range'],
    ['99999999999999999999.00', ['money.range', 'money.format']],
  ];
  for (const [wage, rule] of cases) {
    test(`wage ${JSON.stringify(wage)} is 400 /wage ${rule}`, async () => {
      await writesNothing(async () => {
        assertProblem(await open({ name: '王五', id_number: newIdNumber(), wage }), 400, { field: '/wage', rule });
      });
    });
  }

  test('a wage sent as a JSON number is 400 /wage json.type', async () => {
    await writesNothing(async () => {
      assertProblem(await open({ name: '王五', id_number: newIdNumber(), wage: 6543.21 }), 400, { field: '/wage', rule: 'json.type' });
    });
  });

  test('a phone number that is not a mainland mobile number is 400 /phone', async () => {
    await writesNothing(async () => {
      assertProblem(await open({ name: '王五', id_number: newIdNumber(), wage: '6543.21', phone: '12345' }), 400, { field: '/phone' });
    });
  });

  test('a missing name is 400 /name json.required', async () => {
    await writesNothing(async () => {
      assertProblem(await open({ id_number: newIdNumber(), wage: '6543.21' }), 400, { field: '/name', rule: 'json.required' });
    });
  });
});

describe('online-hall registration', () => {
  let acct;
  let id;
  const password = 'Member#2026new';

  before(async () => {
    id = newIdNumber();
    // A mobile number: the login's second factor is an SMS code.
    acct = assertOk(await open({ name: '赵敏', id_number: id, wage: '5200.00', phone: '13805150001' }), 201);
  });

  test('a member registers with id number, name and account number: 201 {username: id}', async () => {
    const res = await client(srv).post('/api/v1/registrations', { id_number: id, name: '赵敏', account_no: acct.account_no, password });
    assert.deepEqual(assertOk(res, 201), { username: id });
  });

  test('the registered member logs in and reads their own account', async () => {
    const s = await login(srv, id, password);
    assert.equal(s.user.role, 'member');
    assert.equal(s.user.account_no, acct.account_no);
    assert.equal(assertOk(await s.get(`/api/v1/members/${acct.account_no}`)).account_no, acct.account_no);
  });

  test('registering the same id number again is 409 user.username_taken', async () => {
    const res = await client(srv).post('/api/v1/registrations', { id_number: id, name: '赵敏', account_no: acct.account_no, password });
    assertProblem(res, 409, { rule: 'user.username_taken' });
  });

  test('a name that does not match is 422 registration.mismatch, and no login is created', async () => {
    const id2 = newIdNumber();
    const a2 = assertOk(await open({ name: '钱伟', id_number: id2, wage: '5200.00' }), 201);
    const res = await client(srv).post('/api/v1/registrations', { id_number: id2, name: '钱大伟', account_no: a2.account_no, password });
    assertProblem(res, 422, { rule: 'registration.mismatch' });
    const probe = await client(srv).post('/api/v1/session', { username: id2, password });
    assertProblem(probe, 401, { rule: 'auth.bad_credentials' });
  });

  test("someone else's account number is 422 registration.mismatch", async () => {
    const id3 = newIdNumber();
    await open({ name: '孙丽', id_number: id3, wage: '5200.00' });
    const res = await client(srv).post('/api/v1/registrations', { id_number: id3, name: '孙丽', account_no: acct.account_no, password });
    assertProblem(res, 422, { rule: 'registration.mismatch' });
  });

  test('an id number without an account is 422 registration.mismatch (no hint that it is unknown)', async () => {
    const body = '32090099999999999';
    const res = await client(srv).post('/api/v1/registrations', {
      id_number: newIdNumber(), name: '周杰', account_no: body + mod112Check(body), password,
    });
    assertProblem(res, 422, { rule: 'registration.mismatch' });
  });

  test('a weak password is 400 /password password.weak', async () => {
    const id4 = newIdNumber();
    const a4 = assertOk(await open({ name: '吴娟', id_number: id4, wage: '5200.00' }), 201);
    const res = await client(srv).post('/api/v1/registrations', { id_number: id4, name: '吴娟', account_no: a4.account_no, password: 'password' });
    assertProblem(res, 400, { field: '/password', rule: 'password.weak' });
  });
});

describe('balance and statement (demo member, 2 posted months)', () => {
  let member;
  let acct;

  before(async () => {
    member = await loginAs(srv, 'member');
    acct = assertOk(await member.get(`/api/v1/members/${member.user.account_no}`));
  });

  test('the balance is the posted months times the monthly total, and paid_through is set', () => {
    assert.ok(fen(acct.balance) > 0n, `balance ${acct.balance}`);
    assert.equal(fen(acct.balance), 2n * fen(acct.monthly_total), `2 months of ${acct.monthly_total}`);
    assert.match(acct.paid_through ?? '', /^\d{4}-(0[1-9]|1[0-2])$/);
    assert.ok(acct.paid_through <= BUSINESS_DATE.slice(0, 7), 'not paid into the future');
  });

  test('the statement runs from the opening to the closing balance, item by item', async () => {
    const st = assertOk(await member.get(`/api/v1/members/${acct.account_no}/statement?from=2000-01-01&to=${BUSINESS_DATE}`));
    assert.equal(st.account_no, acct.account_no);
    assert.equal(st.from, '2000-01-01');
    assert.equal(st.to, BUSINESS_DATE);
    assert.equal(st.opening_balance, '0.00');
    assert.equal(st.closing_balance, acct.balance);
    assert.equal(st.items.length, 2);
    let run = fen(st.opening_balance);
    const periods = new Set();
    for (const it of st.items) {
      assert.match(it.date, /^\d{4}-\d{2}-\d{2}$/);
      assert.ok(it.date >= st.from && it.date <= st.to, `item date ${it.date} in the window`);
      assert.equal(it.type, 'remittance');
      assert.equal(it.type_code, '01');
      assert.match(it.period, /^\d{4}-\d{2}$/);
      periods.add(it.period);
      assert.equal(it.amount, acct.monthly_total);
      assert.match(it.voucher_no, /^V\d{14}$/);
      run += fen(it.amount);
      assert.equal(it.balance, yuan(run), 'the running balance');
    }
    assert.equal(periods.size, 2, 'two different months');
    assert.equal(yuan(run), st.closing_balance);
    assert.ok([...periods].includes(acct.paid_through), 'paid_through is the latest posted month');
  });

  test('a window before any posting is empty with 0.00 at both ends', async () => {
    const st = assertOk(await member.get(`/api/v1/members/${acct.account_no}/statement?from=1999-01-01&to=1999-12-31`));
    assert.deepEqual(st.items, []);
    assert.equal(st.opening_balance, '0.00');
    assert.equal(st.closing_balance, '0.00');
  });

  test("the agent and the operator read the same statement as the member", async () => {
    const path = `/api/v1/members/${acct.account_no}/statement?from=2000-01-01&to=${BUSINESS_DATE}`;
    const mine = assertOk(await member.get(path));
    const demoAgent = await loginAs(srv, 'agent');
    assert.deepEqual(assertOk(await demoAgent.get(path)), mine);
    assert.deepEqual(assertOk(await op.get(path)), mine);
  });

  test('a statement with a malformed date is 400 naming the parameter', async () => {
    assertProblem(await member.get(`/api/v1/members/${acct.account_no}/statement?from=2026-02-30&to=${BUSINESS_DATE}`), 400, { field: 'from' });
    assertProblem(await member.get(`/api/v1/members/${acct.account_no}/statement?from=2026-01-01&to=20261115`), 400, { field: 'to' });
  });
});

test('hpf serve exits 0 on SIGTERM (no sanitizer report, no leak)', async () => {
  await srv.stop();
});
