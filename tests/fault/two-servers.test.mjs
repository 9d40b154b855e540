// Two `hpf serve` processes on one database (issue 3 item 5): sessions live in the database, so a
// login on server A works on server B; remittances posted alternately through both add up; an
// idempotency key and a posted month hold across servers; the batch-job lease makes exactly one
// of them the housekeeping leader (hpf_leader{job="housekeeping"} on /metrics), and the other
// takes over when the leader stops. Runs on the store of HPF_TEST_STORE: one PostgreSQL database,
// or one SQLite file shared by both processes.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { employerWithMembers, idemKey, rosterFromDraft } from '../lib/fixtures.mjs';
import { fen, yuan } from '../lib/money.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import { BUSINESS_DATE, STORE, client, createStore, login, loginAs, request, runHpf, startServer } from '../lib/server.mjs';

const PERIOD = BUSINESS_DATE.slice(0, 7);
const ENV = { HPF_JOB_TICK: '1' }; // one lease round a second: leases last 3 s
const DEADLINE_MS = 20000;

let store;
let A;
let B;

before(async () => {
  store = await createStore({ tag: 'two' });
  A = await startServer({ store, env: ENV, demo: { employers: 1, members: 2, months: 1, seed: 31 }, verify: false });
  B = await startServer({ store, env: ENV, verify: false });
});

after(async () => {
  const errors = [];
  for (const s of [A, B]) {
    try {
      await s?.stop();
    } catch (e) {
      errors.push(e);
    }
  }
  try {
    if (store?.populated) {
      const v = await runHpf(['verify', ...store.args]);
      assert.equal(v.code, 0, `hpf verify after both servers stopped: ${v.stdout}${v.stderr}`);
    }
  } finally {
    await store?.drop();
  }
  if (errors.length) throw errors[0];
});

/** A session of server `srv` that uses another client's cookie and CSRF token. */
const sameSessionOn = (srv, c) => Object.assign(client(srv, { cookie: c.cookie, csrf: c.csrf }), { user: c.user });

async function poll(what, fn) {
  const end = Date.now() + DEADLINE_MS;
  let last;
  for (;;) {
    last = await fn();
    if (last.ok) return last;
    if (Date.now() > end) assert.fail(`${what}: not within ${DEADLINE_MS} ms; last seen ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function leaderValue(text) {
  const m = /^hpf_leader\{job="housekeeping"\} (\d+)$/m.exec(text);
  return m ? Number(m[1]) : null;
}

async function leaders(...servers) {
  const vals = [];
  for (const s of servers) vals.push(leaderValue((await request(s, 'GET', '/metrics')).text));
  return vals;
}

test(`a session made on server A works on server B, and a logout on B ends it on A (${STORE})`, async () => {
  const onA = await loginAs(A, 'operator');
  const onB = sameSessionOn(B, onA);
  const me = assertOk(await onB.get('/api/v1/session'));
  assert.equal(me.user.username, 'operator');
  assert.equal(me.csrf_token, onA.csrf);
  // a write on B with A's CSRF token
  const e = await employerWithMembers(B, onB, { wages: ['6543.21'] });
  assert.equal(assertOk(await onA.get(`/api/v1/employers/${e.dwzh}`)).account_no, e.dwzh);
  const del = await onB.del('/api/v1/session');
  assert.equal(del.status, 204, describeRes(del));
  assertProblem(await onA.get('/api/v1/session'), 401, { rule: 'auth.required' });
});

test(`remittances submitted and approved alternately through A and B add up; keys and months hold across servers (${STORE})`, async () => {
  const opA = await loginAs(A, 'operator');
  const opB = sameSessionOn(B, opA);
  const ops = [opA, opB];
  const employers = [];
  for (let i = 0; i < 6; i++) employers.push(await employerWithMembers(i % 2 ? B : A, ops[i % 2], { wages: ['6543.21', '9000.00'] }));
  // each roster drafted through the server that will not post it
  const rosters = [];
  for (let i = 0; i < employers.length; i++) {
    rosters.push(rosterFromDraft(assertOk(await ops[(i + 1) % 2].get(`/api/v1/employers/${employers[i].dwzh}/remittances/draft?period=${PERIOD}`))));
  }
  const keys = employers.map((_, i) => idemKey(`two${i}`));
  // all at once, maker-checker across servers: employer i's agent submits through server i % 2
  // (its own), the operator approves through the other one
  const submitted = await Promise.all(employers.map((e, i) => e.agent.post(`/api/v1/employers/${e.dwzh}/remittances`, rosters[i], { headers: { 'Idempotency-Key': keys[i] } })));
  for (const r of submitted) assert.equal(r.status, 202, describeRes(r));
  const approved = await Promise.all(employers.map((e, i) => ops[(i + 1) % 2].post(`/api/v1/approvals/${submitted[i].json.approval_id}/approve`)));
  for (const r of approved) assert.equal(r.status, 200, describeRes(r));
  const posted = approved.map((r) => r.json.result);
  // the same key through the other server: the approved request, nothing posted
  const replays = await Promise.all(employers.map((e, i) => ops[(i + 1) % 2].post(`/api/v1/employers/${e.dwzh}/remittances`, rosters[i], { headers: { 'Idempotency-Key': keys[i] } })));
  replays.forEach((r, i) => {
    assert.equal(r.status, 200, describeRes(r));
    assert.equal(r.headers['idempotent-replay'], 'true');
    assert.equal(r.json.approval_id, submitted[i].json.approval_id);
    assert.equal(r.json.result.serial, posted[i].serial);
  });
  // the same month with a new key through the other server: 409
  const again = await Promise.all(employers.map((e, i) => ops[(i + 1) % 2].post(`/api/v1/employers/${e.dwzh}/remittances`, rosters[i], { headers: { 'Idempotency-Key': idemKey('again') } })));
  for (const r of again) assertProblem(r, 409, { rule: 'remittance.period_posted' });
  // every balance, read through both servers, is one month's contribution
  for (let i = 0; i < employers.length; i++) {
    for (const row of rosters[i].rows) {
      const want = yuan(fen(row.unit) + fen(row.individual));
      for (const op of ops) assert.equal(assertOk(await op.get(`/api/v1/members/${row.account_no}`)).balance, want, `member ${row.account_no}`);
    }
  }
  // an agent of one employer, logged in on B, sees its remittance submitted through A
  const agentB = await login(B, employers[0].agentLogin.username, employers[0].agentLogin.password);
  const list = assertOk(await agentB.get(`/api/v1/employers/${employers[0].dwzh}/remittances?offset=0&limit=10`));
  assert.deepEqual((list.items ?? list).map((x) => x.serial), [posted[0].serial]);
  const v = await runHpf(['verify', ...store.args]);
  assert.equal(v.code, 0, `${v.stdout}${v.stderr}`);
});

test(`exactly one server leads the housekeeping job, and the other takes over when it stops (${STORE})`, async () => {
  const seen = await poll('both servers report hpf_leader{job="housekeeping"}, one of them 1', async () => {
    const v = await leaders(A, B);
    return { ok: v.every((x) => x !== null) && v[0] + v[1] === 1, v };
  });
  // it stays that way for a few lease rounds
  for (let i = 0; i < 5; i++) {
    const v = await leaders(A, B);
    assert.equal(v[0] + v[1], 1, `one leader at a time: A ${v[0]}, B ${v[1]}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  const [leader, other] = seen.v[0] === 1 ? [A, B] : [B, A];
  await leader.stop();
  await poll('the remaining server becomes the housekeeping leader', async () => {
    const v = await leaders(other);
    return { ok: v[0] === 1, v };
  });
});
