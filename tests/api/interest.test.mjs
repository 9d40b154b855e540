// The annual interest settlement (年终结息, RULES 2.4; issue 5 item 5) through `hpf job interest`
// and through `hpf demo`, which runs it after June as the centre does. Every member's interest
// is recomputed here, independently of the C code, by the day-by-day 积数 loop of RULES 2.2 over
// the postings in the database; the run is idempotent, refuses a year that has not ended, and
// `hpf verify` and `hpf audit verify` hold after it and name a forged interest state or posting.
// Runs on the store of HPF_TEST_STORE.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fen } from '../lib/money.mjs';
import { assertOk, assertProblem } from '../lib/problem.mjs';
import { BUSINESS_DATE, STORE, createStore, forgedCopy, loginAs, populate, runHpf, startServer } from '../lib/server.mjs';

let store; // demo over February..October 2026: June's settlement ran inside the demo
let early; // demo over February..May 2026: the job settles
const drops = [];

before(async () => {
  store = await createStore({ tag: 'interest' });
  await populate(store, { demo: { employers: 3, members: 10, months: 9, seed: 5 } });
});
after(async () => {
  for (const s of drops) await s.drop().catch(() => {});
  await store?.drop();
  await early?.drop();
});

const DAY = 86400000;
const days = (a, b) => Math.round((Date.parse(b) - Date.parse(a)) / DAY); // b - a

// RULES 2.2, day by day: the end-of-day balance summed over 1 July .. 30 June, a posting counting
// from its own day; interest = round half up (积数 x rate / (10^7 x 360)), once.
function expectedInterest(postings, year, rateE7 = 150000n, basis = 360n) {
  const first = `${year - 1}-07-01`;
  const last = `${year}-06-30`;
  let opening = 0n;
  const inYear = [];
  for (const p of postings) {
    if (p.date < first) opening += p.amount;
    else if (p.date <= last) inYear.push(p);
  }
  let jishu = 0n;
  let bal = opening;
  const n = days(first, last) + 1;
  for (let d = 0, k = 0; d < n; d++) {
    const day = new Date(Date.parse(first) + d * DAY).toISOString().slice(0, 10);
    while (k < inYear.length && inYear[k].date === day) bal += inYear[k++].amount;
    jishu += bal;
  }
  const num = jishu * rateE7;
  const den = 10000000n * basis;
  return { jishu, interest: (num * 2n + den) / (2n * den) };
}

async function rows(s, sql) {
  const out = (await s.sql(sql)).trim();
  return out ? out.split('\n').map((l) => l.split('|')) : [];
}

async function postingsByMember(s) {
  const by = new Map();
  for (const [m, date, amount, kind, period] of await rows(s,
    'SELECT member_id, biz_date, amount, kind, COALESCE(period, 0) FROM posting ORDER BY member_id, biz_date, id')) {
    if (!by.has(m)) by.set(m, []);
    by.get(m).push({ date, amount: BigInt(amount), kind, period: Number(period) });
  }
  return by;
}

test(`the demo's June settlement posted each member's interest to the fen on ${STORE}`, async () => {
  const by = await postingsByMember(store);
  assert.ok(by.size >= 10, `postings for ${by.size} members`);
  let settled = 0;
  for (const [m, ps] of by) {
    const interest = ps.filter((p) => p.kind === '09');
    const want = expectedInterest(ps.filter((p) => p.kind !== '09'), 2026);
    if (want.interest === 0n) {
      assert.equal(interest.length, 0, `member ${m}: no interest, no posting`);
      continue;
    }
    assert.equal(interest.length, 1, `member ${m}: one interest posting`);
    assert.equal(interest[0].date, '2026-06-30');
    assert.equal(interest[0].period, 2026);
    assert.equal(interest[0].amount, want.interest, `member ${m}: 积数 ${want.jishu}`);
    settled++;
  }
  assert.ok(settled >= 10, `${settled} members earned interest`);
  // The J6 vouchers: template 018, Dr 41101 / Cr 201, their total the run's.
  const [[n, dr, cr]] = await rows(store,
    "SELECT COUNT(DISTINCT v.id), SUM(l.debit), SUM(l.credit) FROM voucher v JOIN voucher_line l ON l.voucher_id = v.id WHERE v.template = '018'");
  assert.ok(Number(n) >= 1);
  assert.equal(dr, cr);
  const [[runTotal, runAccounts]] = await rows(store, 'SELECT interest, accounts FROM interest_run WHERE year = 2026');
  assert.equal(runTotal, dr);
  assert.equal(Number(runAccounts), settled);
  for (const cmd of [['verify'], ['audit', 'verify']]) {
    const r = await runHpf([...cmd, ...store.args]);
    assert.equal(r.code, 0, `${cmd.join(' ')}: ${r.stdout}${r.stderr}`);
  }
});

test(`a rerun settles nothing more; a year not ended and bad usage are refused on ${STORE}`, async () => {
  const before = await rows(store, "SELECT COUNT(*), SUM(amount) FROM posting WHERE kind = '09'");
  let r = await runHpf(['job', 'interest', '--year', '2026', ...store.args]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^hpf job interest: year 2026 settled: \d+ accounts, 0 interest postings, 0\.00 in 0 vouchers/);
  assert.deepEqual(await rows(store, "SELECT COUNT(*), SUM(amount) FROM posting WHERE kind = '09'"), before);

  r = await runHpf(['job', 'interest', '--year', '2027', ...store.args]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /interest\.too_early: the interest year 2027 ends on 2027-06-30; the business date is 2026-11-15/);
  r = await runHpf(['job', 'interest', ...store.args]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /interest needs --year/);
  r = await runHpf(['job', 'interest', '--year', '2026', '--batch', '0', ...store.args]);
  assert.equal(r.code, 2);
  r = await runHpf(['job', 'interest', '--year', '2026', '--reason', 'x', ...store.args]);
  assert.equal(r.code, 2);
  assert.deepEqual(await rows(store, "SELECT COUNT(*), SUM(amount) FROM posting WHERE kind = '09'"), before);
});

test(`the settlement runs in batches with progress, and only once 30 June has passed, on ${STORE}`, async () => {
  // Remittances of February..May 2026 (business date 20 June): no 30 June passed inside the
  // demo, so the job settles, on 1 July, in batches of 3 accounts.
  early = await createStore({ tag: 'interest_early' });
  await populate(early, { demo: { employers: 2, members: 7, months: 4, seed: 9 }, env: { HPF_BUSINESS_DATE: '2026-06-20' } });
  assert.deepEqual(await rows(early, "SELECT COUNT(*) FROM posting WHERE kind = '09'"), [['0']]);
  let r = await runHpf(['job', 'interest', '--year', '2026', '--batch', '3', ...early.args], { env: { HPF_BUSINESS_DATE: '2026-06-29' } });
  assert.equal(r.code, 2, 'before 30 June');
  r = await runHpf(['job', 'interest', '--year', '2026', '--batch', '3', ...early.args], { env: { HPF_BUSINESS_DATE: '2026-07-01' } });
  assert.equal(r.code, 0, r.stderr);
  const progress = r.stderr.split('\n').filter((l) => l.startsWith('hpf job interest: year 2026:'));
  assert.ok(progress.length >= 3, r.stderr);
  assert.match(progress.at(-1), /7 accounts read, 7 posted, [\d,.]+; 0 to go: done$/);
  const by = await postingsByMember(early);
  for (const [m, ps] of by) {
    const want = expectedInterest(ps.filter((p) => p.kind !== '09'), 2026);
    const got = ps.filter((p) => p.kind === '09');
    assert.equal(got.length, 1, `member ${m}`);
    assert.equal(got[0].amount, want.interest, `member ${m}`);
  }
  const [[vouchers]] = await rows(early, "SELECT COUNT(*) FROM voucher WHERE template = '018'");
  assert.equal(vouchers, '3', 'one J6 voucher per batch: 3 + 3 + 1 accounts');
  for (const cmd of [['verify'], ['audit', 'verify']]) {
    r = await runHpf([...cmd, ...early.args], { env: { HPF_BUSINESS_DATE: '2026-07-01' } });
    assert.equal(r.code, 0, `${cmd.join(' ')}: ${r.stdout}${r.stderr}`);
  }
});

const PG_OPEN = (t) => `ALTER TABLE ${t} DISABLE TRIGGER USER;`;

test(`hpf verify names a forged interest state; audit verify a forged interest posting on ${STORE}`, async () => {
  let args = await forgedCopy(store, drops, 'istate', 'UPDATE member_balance SET int_jishu = int_jishu + 7 WHERE member_id = 2;');
  let r = await runHpf(['verify', ...args]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /member\.interest_state: member \d{17}[\dX] \(id 2\) int_jishu is \d+, its postings give \d+/);

  const [[pid]] = await rows(store, "SELECT MIN(id) FROM posting WHERE kind = '09'");
  args = await forgedCopy(store, drops, 'iposting', STORE === 'postgres'
    ? `${PG_OPEN('posting')} UPDATE posting SET amount = amount + 1 WHERE id = ${pid};`
    : `DROP TRIGGER posting_immutable_u; UPDATE posting SET amount = amount + 1 WHERE id = ${pid};`);
  r = await runHpf(['audit', 'verify', ...args]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /\(voucher\.posted\): voucher V\d{14} \(id \d+\) differs from its audited record in postings_amount/);
  r = await runHpf(['verify', ...args]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /member\.balance_is_sum_of_postings/);
});

test(`the annual statement (对账单) of a member: settled 2026, and 2027 so far with its accrued interest, on ${STORE}`, async () => {
  const srv = await startServer({ store, verify: false, sim: true });
  try {
    const member = await loginAs(srv, 'member');
    const acct = member.user.account_no;
    const [[mid]] = await rows(store, `SELECT id FROM member WHERE account_no = '${acct}'`);
    const ps = (await postingsByMember(store)).get(mid);
    const sum = (f) => ps.filter(f).reduce((a, p) => a + p.amount, 0n);

    const y26 = assertOk(await member.get(`/api/v1/members/${acct}/statement?year=2026`));
    assert.equal(y26.from, '2025-07-01');
    assert.equal(y26.to, '2026-06-30');
    const a = y26.annual;
    assert.equal(a.year, 2026);
    assert.equal(a.settled, true);
    assert.equal(a.method, '积数');
    assert.equal(a.day_basis, 360);
    assert.equal(a.deposit_rate_e7, 150000);
    assert.equal(fen(a.carried_forward), sum((p) => p.date < '2025-07-01'));
    assert.equal(fen(a.deposits), sum((p) => p.kind === '01' && p.date >= '2025-07-01' && p.date <= '2026-06-30'));
    assert.equal(fen(a.interest), expectedInterest(ps.filter((p) => p.kind !== '09'), 2026).interest);
    assert.ok(fen(a.interest) > 0n);
    assert.equal(fen(a.withdrawals), 0n);
    assert.equal(fen(a.closing_balance), fen(a.carried_forward) + fen(a.deposits) + fen(a.interest));
    assert.equal(a.closing_balance, y26.closing_balance);
    assert.equal(y26.items.at(-1).type, 'interest');
    assert.equal(y26.items.at(-1).date, '2026-06-30');

    const y27 = assertOk(await member.get(`/api/v1/members/${acct}/statement?year=2027`));
    assert.equal(y27.to, BUSINESS_DATE, 'a running year: up to the business date');
    const b = y27.annual;
    assert.equal(b.settled, false);
    assert.equal(b.carried_forward, a.closing_balance, '上年结转 = last year\'s closing, interest included');
    assert.equal(fen(b.interest), 0n);
    assert.equal(b.accrued_to, BUSINESS_DATE);
    // Accrued: the 积数 from 1 July to the business date, day by day, at 1.5% / 360.
    let jishu = 0n;
    let bal = fen(b.carried_forward);
    const later = ps.filter((p) => p.date >= '2026-07-01');
    for (let d = Date.parse('2026-07-01'), k = 0; d <= Date.parse(BUSINESS_DATE); d += DAY) {
      const day = new Date(d).toISOString().slice(0, 10);
      while (k < later.length && later[k].date === day) bal += later[k++].amount;
      jishu += bal;
    }
    const den = 10000000n * 360n;
    assert.equal(fen(b.accrued_interest), (jishu * 150000n * 2n + den) / (2n * den));

    assertProblem(await member.get(`/api/v1/members/${acct}/statement?year=2026&from=2026-01-01`), 400, { field: 'year' });
    assertProblem(await member.get(`/api/v1/members/${acct}/statement?year=26`), 400, { field: 'year' });
    assertProblem(await member.get(`/api/v1/members/${acct}/statement?year=2028`), 422, { field: 'year' });
  } finally {
    await srv.stop();
  }
});
