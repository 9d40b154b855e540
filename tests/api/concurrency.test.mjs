// Many parallel requests on the same accounts (ARCHITECTURE rule 3 and 4, issue 3 item 3):
// balances are never lost or doubled, a month is posted once, an idempotency key posts once, a
// request is approved once, and no request gets a 5xx (on PostgreSQL the server retries
// serialization failures and deadlocks itself). Remittances go through maker-checker
// (docs/internals/approval.md): the employer's agent submits, the operator approves. Runs on the
// store of HPF_TEST_STORE.
//
// The employers here must have 12 unposted months: a first server with business date 2025-11-15
// registers them, then the server under test runs on the same database with business date
// 2026-11-15, so 2025-11 .. 2026-11 are all postable.

import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, test } from 'node:test';
import { approve, createEmployer, idemKey, openMember, rosterFromDraft } from '../lib/fixtures.mjs';
import { fen, yuan } from '../lib/money.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import { BUSINESS_DATE, STORE, createStore, login, loginAs, runHpf, startServer } from '../lib/server.mjs';

const OPENED = '2025-11-15';
const PAR = 16;
// 12 months before the business month: 2025-11 .. 2026-10
const MONTHS = Array.from({ length: 12 }, (_, i) => {
  const d = new Date(Date.UTC(2025, 10 + i, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
});
const THIS_MONTH = BUSINESS_DATE.slice(0, 7);

let store;
let srv; // the server under test (business date 2026-11-15)
let wide; // srv with its own https.Agent allowing PAR parallel connections
let op;
const emp = {}; // name -> {dwzh, agentLogin, members: [account_no]}

before(async () => {
  store = await createStore({ tag: 'conc' });
  // 1. A server on the opening date registers the employers and their members.
  const early = await startServer({ store, demo: { employers: 1, members: 1, months: 0, seed: 23 }, env: { HPF_BUSINESS_DATE: OPENED } });
  try {
    const eop = await loginAs(early, 'operator');
    for (const name of ['months', 'period', 'replay']) {
      const { employer, agent } = await createEmployer(eop, { unitBp: 1200 });
      assert.equal(employer.opened_on, OPENED);
      const a = await login(early, agent.username, agent.password);
      const members = [];
      for (const wage of ['6543.21', '8000.00', '25310.40', '1900.00']) members.push((await openMember(a, employer.account_no, { wage })).member.account_no);
      emp[name] = { dwzh: employer.account_no, agentLogin: agent, members };
    }
  } finally {
    await early.stop();
  }
  // 2. The server under test, a year later, on the same database.
  srv = await startServer({ store });
  wide = { ...srv, agent: new https.Agent({ keepAlive: true, maxSockets: PAR * 2, rejectUnauthorized: false }) };
  op = await loginAs(wide, 'operator');
});

after(async () => {
  wide?.agent.destroy();
  try {
    await srv?.stop();
  } finally {
    await store?.drop();
  }
});

/**
 * Sessions of the employer's agent (the makers) to spread the parallel submits over. A
 * TOTP code is good once, so the agent logs in once (three codes in a row would wait for the
 * next 30-second step) and its session is used for the other slots; the parallel requests still
 * each have their own connection.
 */
async function sessions(e, n) {
  e.session ??= await login(wide, e.agentLogin.username, e.agentLogin.password);
  // The makers: the operator approves (maker-checker), so it submits nothing here.
  const list = [];
  while (list.length < n) list.push(e.session);
  return list;
}

async function balances(e) {
  const out = {};
  for (const m of e.members) out[m] = fen(assertOk(await op.get(`/api/v1/members/${m}`)).balance);
  return out;
}

async function draft(sess, dwzh, period) {
  return assertOk(await sess.get(`/api/v1/employers/${dwzh}/remittances/draft?period=${period}`));
}

function post(sess, dwzh, body, key) {
  return sess.post(`/api/v1/employers/${dwzh}/remittances`, body, { headers: { 'Idempotency-Key': key } });
}

function no5xx(results) {
  const bad = results.filter((r) => r.status >= 500);
  assert.equal(bad.length, 0, `5xx answers:\n${bad.map(describeRes).join('\n')}`);
}

async function statementItems(m) {
  const s = assertOk(await op.get(`/api/v1/members/${m}/statement?from=2025-01-01&to=2026-12-31`));
  return s;
}

test(`12 months submitted and approved in parallel for one employer from 3 agent sessions (${STORE}): all 202 then 200, balances = the sum of the 12 months`, async () => {
  const e = emp.months;
  const sess = await sessions(e, 3);
  const drafts = await Promise.all(MONTHS.map((p, i) => draft(sess[i % sess.length], e.dwzh, p)));
  const want = {};
  for (const m of e.members) want[m] = 0n;
  for (const d of drafts) {
    assert.equal(d.rows.length, e.members.length, `draft ${d.period} lists every member`);
    for (const r of d.rows) want[r.account_no] += fen(r.total);
  }
  // Reads race the writes: every balance seen must be a whole number of posted months.
  const monthly = Object.fromEntries(drafts[0].rows.map((r) => [r.account_no, fen(r.total)]));
  let reading = true;
  const seen = [];
  const reader = (async () => {
    while (reading) {
      const m = e.members[seen.length % e.members.length];
      const res = await op.get(`/api/v1/members/${m}`);
      seen.push({ m, res });
    }
  })();
  let submits;
  let results;
  try {
    // Each month: the agent submits, the operator approves as soon as it is stored.
    const pairs = await Promise.all(MONTHS.map(async (p, i) => {
      const s = await post(sess[i % sess.length], e.dwzh, rosterFromDraft(drafts[i]), idemKey(`m${i}`));
      return [s, s.status === 202 ? await approve(op, s.json.approval_id) : s];
    }));
    submits = pairs.map((x) => x[0]);
    results = pairs.map((x) => x[1]);
  } finally {
    reading = false;
    await reader;
  }
  no5xx([...submits, ...results]);
  no5xx(seen.map((s) => s.res));
  for (const r of submits) assert.equal(r.status, 202, describeRes(r));
  for (const r of results) assert.equal(r.status, 200, describeRes(r));
  assert.equal(new Set(results.map((r) => r.json.result.serial)).size, 12, 'twelve distinct remittances');
  assert.deepEqual(results.map((r) => r.json.result.period).sort(), MONTHS);
  assert.ok(seen.length > 0, 'no read ran while the remittances were posted');
  for (const { m, res } of seen) {
    const b = fen(assertOk(res).balance);
    assert.equal(b % monthly[m], 0n, `balance ${yuan(b)} of ${m} seen mid-flight is not a whole number of months of ${yuan(monthly[m])}`);
    assert.ok(b <= want[m], `balance ${yuan(b)} of ${m} above the 12-month total ${yuan(want[m])}`);
  }
  const got = await balances(e);
  for (const m of e.members) {
    assert.equal(yuan(got[m]), yuan(want[m]), `member ${m}: balance = sum of the 12 months`);
    const member = assertOk(await op.get(`/api/v1/members/${m}`));
    assert.equal(member.paid_through, MONTHS[11], `member ${m} paid through the last month`);
    const st = await statementItems(m);
    assert.equal(st.items.length, 12, `member ${m}: twelve statement lines`);
    assert.deepEqual(st.items.map((it) => it.period).sort(), MONTHS);
    assert.equal(st.closing_balance, yuan(want[m]));
    // the running balance of each line follows from the previous one
    let run = fen(st.opening_balance);
    for (const it of st.items) {
      run += fen(it.amount);
      assert.equal(it.balance, yuan(run), `running balance on ${it.period} of ${m}`);
    }
  }
  const list = assertOk(await op.get(`/api/v1/employers/${e.dwzh}/remittances?offset=0&limit=50`));
  assert.equal((list.items ?? list).length, 12);
  assert.equal(assertOk(await op.get(`/api/v1/employers/${e.dwzh}`)).paid_through, MONTHS[11]);
});

test(`${PAR} parallel submits of the same month with different keys (${STORE}): one 202, ${PAR - 1} x 409 remittance.period_pending; ${PAR} parallel approvals: one 200, ${PAR - 1} x 409 approval.decided; nothing doubled`, async () => {
  const e = emp.period;
  const sess = await sessions(e, 3);
  const before1 = await balances(e);
  const d = await draft(op, e.dwzh, THIS_MONTH);
  const body = rosterFromDraft(d);
  const results = await Promise.all(Array.from({ length: PAR }, (_, i) => post(sess[i % sess.length], e.dwzh, body, idemKey(`p${i}`))));
  no5xx(results);
  const created = results.filter((r) => r.status === 202);
  assert.equal(created.length, 1, `exactly one 202: ${results.map((r) => r.status).join(' ')}`);
  for (const r of results.filter((x) => x.status !== 202)) assertProblem(r, 409, { rule: 'remittance.period_pending', field: '/period' });
  const decisions = await Promise.all(Array.from({ length: PAR }, () => approve(op, created[0].json.approval_id)));
  no5xx(decisions);
  const ok = decisions.filter((r) => r.status === 200);
  assert.equal(ok.length, 1, `exactly one 200: ${decisions.map((r) => r.status).join(' ')}`);
  for (const r of decisions.filter((x) => x.status !== 200)) assertProblem(r, 409, { rule: 'approval.decided' });
  const after1 = await balances(e);
  for (const row of d.rows) {
    assert.equal(yuan(after1[row.account_no] - before1[row.account_no]), row.total, `member ${row.account_no} credited once`);
    assert.equal((await statementItems(row.account_no)).items.length, 1);
  }
  const list = assertOk(await op.get(`/api/v1/employers/${e.dwzh}/remittances?offset=0&limit=50`));
  assert.equal((list.items ?? list).length, 1);
});

test(`${PAR} parallel replays of the same key (${STORE}): one 202, the rest 200 Idempotent-Replay of the same request, one posting per member`, async () => {
  const e = emp.replay;
  const sess = await sessions(e, 3);
  const before1 = await balances(e);
  const d = await draft(op, e.dwzh, THIS_MONTH);
  const body = rosterFromDraft(d);
  const key = idemKey('same');
  const results = await Promise.all(Array.from({ length: PAR }, (_, i) => post(sess[i % sess.length], e.dwzh, body, key)));
  no5xx(results);
  const created = results.filter((r) => r.status === 202);
  assert.equal(created.length, 1, `exactly one 202: ${results.map((r) => r.status).join(' ')}`);
  assert.equal(created[0].headers['idempotent-replay'], undefined, 'the first answer is not marked a replay');
  for (const r of results.filter((x) => x.status !== 202)) {
    assert.equal(r.status, 200, describeRes(r));
    assert.equal(r.headers['idempotent-replay'], 'true', describeRes(r));
    assert.equal(r.json.approval_id, created[0].json.approval_id, 'a replay returns the first request');
    assert.equal(r.json.request_hash, created[0].json.request_hash);
  }
  assertOk(await approve(op, created[0].json.approval_id));
  // Replays after the approval: the approved request with its receipt, still one posting.
  const again = await Promise.all(Array.from({ length: 4 }, (_, i) => post(sess[i % sess.length], e.dwzh, body, key)));
  for (const r of again) {
    assert.equal(r.status, 200, describeRes(r));
    assert.equal(r.json.status, 'approved');
  }
  assert.equal(new Set(again.map((r) => r.json.result.serial)).size, 1);
  const after1 = await balances(e);
  for (const row of d.rows) {
    assert.equal(yuan(after1[row.account_no] - before1[row.account_no]), row.total, `member ${row.account_no} credited once`);
    const st = await statementItems(row.account_no);
    assert.equal(st.items.length, 1, `member ${row.account_no}: one posting`);
  }
});

test(`hpf verify holds on the database while the server still runs (${STORE})`, async () => {
  const r = await runHpf(['verify', ...store.args]);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^hpf verify: ok \(/);
});
