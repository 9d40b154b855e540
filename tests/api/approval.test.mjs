// Maker-checker (issue 4 part 2; service/approval.c, docs/internals/approval.md): a remittance or
// a policy change is stored pending by its maker and runs only when another login with scope
// approves it; nobody decides their own request; money routes want a fresh second factor; an
// operator's decision carries an SM2 signature that is verified on every read. Runs on the store
// of HPF_TEST_STORE.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { employerWithMembers, idemKey, openMember, rosterFromDraft } from '../lib/fixtures.mjs';
import { fen } from '../lib/money.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import {
  BUSINESS_DATE, STORE, createStore, login, loginAs, populate, rememberTotp, runHpf, startServer, stepUp,
} from '../lib/server.mjs';
import { secretFromUri } from '../lib/totp.mjs';

const PERIOD = BUSINESS_DATE.slice(0, 7); // the demo remitted the month before; this one is open
const HERE = 'tests/api/approval.test.mjs';

let store;
let srv;
let op; // the demo operator
let op2; // a second operator, made with `hpf user add-operator`
let agent; // the demo employer's agent
let dwzh;
let other; // employer 2: {dwzh, agent, members}
const ids = {}; // approvals made along the way

before(async () => {
  store = await createStore({ tag: 'appr' });
  await populate(store, { demo: { employers: 1, members: 3, months: 1, seed: 17 } });
  srv = await startServer({ store, verify: false });
  op = await loginAs(srv, 'operator');
  agent = await loginAs(srv, 'agent');
  dwzh = agent.user.employer_account_no;
  const pw = 'Checker#2026second';
  const made = await runHpf(['user', 'add-operator', '--username', 'checker2', '--name', '复核员', ...store.args], { input: `${pw}\n` });
  assert.equal(made.code, 0, made.stderr);
  rememberTotp(srv, 'checker2', secretFromUri(made.stdout.split('\n').find((l) => l.startsWith('otpauth://'))));
  op2 = await login(srv, 'checker2', pw);
  const e2 = await employerWithMembers(srv, op, { wages: ['6543.21', '5000.00'] });
  other = { dwzh: e2.dwzh, agent: e2.agent, members: e2.members };
});

after(async () => {
  try {
    await merge?.srv.stop();
    await srv?.stop();
  } finally {
    await store?.drop();
  }
});

const one = async (sql) => (await store.sql(sql)).trim();

// The second server of the merge check (its store is edited by hand): made on first use.
let merge = null;
async function mergeServer() {
  if (!merge) {
    const s = await startServer({ demo: { employers: 1, members: 1, months: 0, seed: 23 }, verify: false });
    const o = await loginAs(s, 'operator');
    merge = { srv: s, store: s.store, op: o, e: await employerWithMembers(s, o, { wages: ['6000.00', '5000.00'] }) };
  }
  return merge;
}

async function draft(sess, acct, period = PERIOD) {
  return assertOk(await sess.get(`/api/v1/employers/${acct}/remittances/draft?period=${period}`));
}

function submit(sess, acct, body, key = idemKey('ap'), opts = {}) {
  return sess.post(`/api/v1/employers/${acct}/remittances`, body, { ...opts, headers: { 'Idempotency-Key': key, ...(opts.headers ?? {}) } });
}

const decide = (sess, id, verb, body, opts) => sess.post(`/api/v1/approvals/${id}/${verb}`, body, opts);

async function balances(acct) {
  const d = await draft(op, acct);
  const out = {};
  for (const r of d.rows) out[r.account_no] = assertOk(await op.get(`/api/v1/members/${r.account_no}`)).balance;
  return out;
}

/** Make the session's second factor old, as if proven an hour ago. */
async function staleFactor(sess, on = store) {
  await on.sql(`UPDATE session SET factor_at = factor_at - 3600 WHERE user_id = (SELECT id FROM app_user WHERE username = '${sess.user.username}')`);
}

function policyBody(overrides = {}) {
  return {
    effective_from: '2026-12-01', unit_ratio_min_bp: 500, unit_ratio_max_bp: 1200, indiv_ratio_min_bp: 500,
    indiv_ratio_max_bp: 1200, city_avg_wage: '7500.00', min_wage: '20000.00', cap_multiple: 3, rounding: 'yuan',
    ratios_must_match: true, deposit_rate_e7: 150000, day_basis: 360, note: '测试：新的缴存基数下限', ...overrides,
  };
}

describe(`maker-checker on ${STORE}`, () => {
  test('a submitted remittance is pending: 202, nothing posted, the same key finds it again', async () => {
    const d = await draft(agent, dwzh);
    const before = await balances(dwzh);
    const posted = assertOk(await op.get(`/api/v1/employers/${dwzh}/remittances`)).total;
    const key = idemKey('pend');
    const res = await submit(agent, dwzh, rosterFromDraft(d), key);
    assert.equal(res.status, 202, describeRes(res));
    const a = res.json;
    assert.equal(a.status, 'pending');
    assert.equal(a.kind, 'remittance.post');
    assert.equal(a.ref, key);
    assert.equal(a.employer_account_no, dwzh);
    assert.equal(a.made_by.username, agent.user.username);
    assert.equal(a.decided_by, null);
    assert.equal(a.result, null);
    assert.match(a.request_hash, /^[0-9a-f]{64}$/);
    ids.remit = a.approval_id;
    ids.remitKey = key;
    ids.remitDraft = d;
    // No money moved.
    assert.deepEqual(await balances(dwzh), before);
    assert.equal(assertOk(await op.get(`/api/v1/employers/${dwzh}/remittances`)).total, posted);
    assert.equal(await one(`SELECT count(*) FROM remittance WHERE idem_key = '${key}'`), '0');
    // The request as submitted, and its hash.
    const got = assertOk(await op.get(`/api/v1/approvals/${a.approval_id}`));
    assert.deepEqual(got.payload, { employer: dwzh, ...rosterFromDraft(d) });
    assert.equal(got.payload_intact, true);
    assert.equal(got.signature_valid, null);
    // The same key again: the same request, never a second one.
    const again = await submit(agent, dwzh, rosterFromDraft(d), key);
    assert.equal(again.status, 200, describeRes(again));
    assert.equal(again.headers['idempotent-replay'], 'true');
    assert.equal(again.json.approval_id, a.approval_id);
    assert.equal(await one(`SELECT count(*) FROM approval WHERE ref = '${key}'`), '1');
    // The same key with other content, and another key for the same month: refused.
    assertProblem(await submit(agent, dwzh, { ...rosterFromDraft(d), rows: rosterFromDraft(d).rows.slice(1) }, key), 409,
      { rule: 'idempotency.key_reused' });
    assertProblem(await submit(agent, dwzh, rosterFromDraft(d)), 409, { rule: 'remittance.period_pending' });
  });

  test('the roster is checked at submit as before, and a refused one stores nothing', async () => {
    const n = await one('SELECT count(*) FROM approval');
    const d = rosterFromDraft(ids.remitDraft);
    assertProblem(await submit(agent, dwzh, { ...d, total: '1.00' }), 422, { rule: 'remittance.total_mismatch', field: '/total' });
    assertProblem(await submit(agent, dwzh, { ...d, period: '2027-01' }), 422, { rule: 'remittance.period_future' });
    assertProblem(await submit(agent, dwzh, { ...d, rows: [] }), 422, { rule: 'remittance.empty' });
    const dup = { ...d, rows: [d.rows[0], d.rows[0]] };
    assertProblem(await submit(agent, dwzh, dup), 422, { rule: 'remittance.duplicate_member' });
    assertProblem(await submit(agent, dwzh, d, 'short'), 400, { rule: 'idempotency.key_format' });
    assertProblem(await agent.post(`/api/v1/employers/${dwzh}/remittances`, d), 400, { rule: 'idempotency.key_missing' });
    assertProblem(await submit(other.agent, dwzh, d), 403, { rule: 'scope.own_employer' });
    assert.equal(await one('SELECT count(*) FROM approval'), n);
  });

  test('the maker cannot decide their own request: 409 approval.self_approval', async () => {
    assertProblem(await decide(agent, ids.remit, 'approve'), 409, { rule: 'approval.self_approval' });
    assertProblem(await decide(agent, ids.remit, 'reject', { reason: '自己驳回' }), 409, { rule: 'approval.self_approval' });
    assert.equal(assertOk(await op.get(`/api/v1/approvals/${ids.remit}`)).status, 'pending');
  });

  test('an agent of another employer neither sees nor decides it', async () => {
    assertProblem(await other.agent.get(`/api/v1/approvals/${ids.remit}`), 404, { rule: 'approval.unknown' });
    assertProblem(await decide(other.agent, ids.remit, 'approve'), 404, { rule: 'approval.unknown' });
    assertProblem(await decide(other.agent, ids.remit, 'reject', { reason: '越权' }), 404, { rule: 'approval.unknown' });
    const theirs = assertOk(await other.agent.get('/api/v1/approvals'));
    assert.ok(!theirs.items.some((x) => x.approval_id === ids.remit), 'listed to another employer');
    const mine = assertOk(await agent.get('/api/v1/approvals?status=pending&kind=remittance.post'));
    assert.ok(mine.items.some((x) => x.approval_id === ids.remit), 'not listed to its own employer');
    assert.ok(mine.items.every((x) => x.employer_account_no === dwzh && x.status === 'pending'));
    const all = assertOk(await op.get('/api/v1/approvals?status=pending'));
    assert.ok(all.items.some((x) => x.approval_id === ids.remit), 'not listed to the operator');
    assertProblem(await op.get('/api/v1/approvals?status=done'), 400, { rule: 'query.enum' });
  });

  test('another operator approves: the month is posted, balances move, the decision is signed', async () => {
    const before = await balances(dwzh);
    const res = await decide(op, ids.remit, 'approve');
    assert.equal(res.status, 200, describeRes(res));
    const a = res.json;
    assert.equal(a.status, 'approved');
    assert.equal(a.decided_by.username, op.user.username);
    assert.equal(a.decided_by.role, 'operator');
    assert.match(a.signature, /^[0-9a-f]{100,144}$/);
    assert.match(a.key_id, /^[0-9a-f]{16}$/);
    assert.equal(a.signature_valid, true);
    // The result is the receipt the remittance route answered before maker-checker.
    const r = a.result;
    assert.match(r.serial, /^HJ\d{14}$/);
    assert.equal(r.state, 'posted');
    assert.equal(r.period, PERIOD);
    assert.equal(r.total, ids.remitDraft.total);
    assert.equal(r.members, ids.remitDraft.rows.length);
    const listed = assertOk(await op.get(`/api/v1/employers/${dwzh}/remittances`)).items.find((x) => x.serial === r.serial);
    assert.deepEqual(r, listed);
    // Balances moved by each member's share of the month.
    const after = await balances(dwzh);
    for (const row of ids.remitDraft.rows) {
      assert.equal(fen(after[row.account_no]) - fen(before[row.account_no]), fen(row.total), `balance of ${row.account_no}`);
    }
    // Read back: the signature verifies against the operator's recorded public key.
    const got = assertOk(await agent.get(`/api/v1/approvals/${ids.remit}`));
    assert.equal(got.signature_valid, true);
    assert.equal(got.payload_intact, true);
    assert.deepEqual(got.result, r);
    assert.equal(await one(`SELECT user_id FROM sm2_key WHERE key_id = '${a.key_id}'`), await one(`SELECT id FROM app_user WHERE username = '${op.user.username}'`));
    // The same key once more: the approved request with its receipt, nothing posted twice.
    const again = await submit(agent, dwzh, rosterFromDraft(ids.remitDraft), ids.remitKey);
    assert.equal(again.status, 200, describeRes(again));
    assert.equal(again.json.status, 'approved');
    assert.equal(again.json.result.serial, r.serial);
    assert.equal(await one(`SELECT count(*) FROM remittance WHERE idem_key = '${ids.remitKey}'`), '1');
    ids.serial = r.serial;
  });

  test('a decided request stays decided: 409 approval.decided', async () => {
    assertProblem(await decide(op2, ids.remit, 'approve'), 409, { rule: 'approval.decided' });
    assertProblem(await decide(op2, ids.remit, 'reject', { reason: '晚了' }), 409, { rule: 'approval.decided' });
    assertProblem(await decide(agent, ids.remit, 'withdraw'), 409, { rule: 'approval.decided' });
  });

  test('the audit chain holds the submit and the decision, and hpf audit verify passes', async () => {
    const kinds = (await store.sql(`SELECT kind FROM audit_log WHERE ref_table = 'approval' AND ref_id = ${ids.remit} ORDER BY seq`)).trim().split('\n');
    assert.deepEqual(kinds, ['approval.submitted', 'approval.decided']);
    const decided = await one(`SELECT payload FROM audit_log WHERE kind = 'approval.decided' AND ref_id = ${ids.remit}`);
    const sig = await one(`SELECT signature FROM approval WHERE id = ${ids.remit}`);
    // The decided snapshot of the request (docs/internals/audit.md): kind, key, employer, request
    // hash, maker, made_at, status, checker, decided_at, reason digest, signature, key id, result
    // and payload digests.
    const row = (await one(`SELECT ref || ' ' || request_hash || ' ' || maker_id || ' ' || checker_id FROM approval WHERE id = ${ids.remit}`)).split(' ');
    assert.match(decided, new RegExp(`^approval/2\\|remittance\\.post\\|${row[0]}\\|\\d{18}\\|${row[1]}\\|${row[2]}\\|[^|]+\\|approved\\|${row[3]}\\|[^|]+\\|\\|${sig}\\|[0-9a-f]{16}\\|sm3:[0-9a-f]{64}\\|sm3:[0-9a-f]{64}$`));
    // The posting itself is on the chain, by the checker, after the submit.
    const remId = await one(`SELECT id FROM remittance WHERE serial = '${ids.serial}'`);
    const seqs = await one(`SELECT (SELECT seq FROM audit_log WHERE kind = 'approval.submitted' AND ref_id = ${ids.remit}) || ',' || (SELECT seq FROM audit_log WHERE kind = 'remittance.posted' AND ref_id = ${remId}) || ',' || (SELECT seq FROM audit_log WHERE kind = 'approval.decided' AND ref_id = ${ids.remit})`);
    const [s1, s2, s3] = seqs.split(',').map(Number);
    assert.ok(s1 < s2 && s2 < s3, `submit ${s1} < posting ${s2} < decision ${s3}`);
    const r = await runHpf(['audit', 'verify', ...store.args]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const v = await runHpf(['verify', ...store.args]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  test('a checker rejects with a reason: nothing posted; the maker may then submit again and withdraw', async () => {
    const d = await draft(other.agent, other.dwzh);
    const res = await submit(other.agent, other.dwzh, rosterFromDraft(d));
    assert.equal(res.status, 202, describeRes(res));
    const id = res.json.approval_id;
    assertProblem(await decide(op, id, 'reject', {}), 400, { rule: 'json.required', field: '/reason' });
    assertProblem(await decide(op, id, 'reject', { reason: '' }), 400, { rule: 'approval.reason' });
    const rej = await decide(op, id, 'reject', { reason: '工资基数与花名册不符' });
    assert.equal(rej.status, 200, describeRes(rej));
    assert.equal(rej.json.status, 'rejected');
    assert.equal(rej.json.reason, '工资基数与花名册不符');
    assert.equal(rej.json.result, null);
    assert.equal(rej.json.signature_valid, true);
    assert.equal(assertOk(await op.get(`/api/v1/employers/${other.dwzh}/remittances`)).total, 0);
    ids.rejected = id;
    // The month is free again: a new request, which only its maker may withdraw.
    const again = await submit(other.agent, other.dwzh, rosterFromDraft(d));
    assert.equal(again.status, 202, describeRes(again));
    assertProblem(await decide(op, again.json.approval_id, 'withdraw'), 409, { rule: 'approval.not_maker' });
    const w = await decide(other.agent, again.json.approval_id, 'withdraw');
    assert.equal(w.status, 200, describeRes(w));
    assert.equal(w.json.status, 'withdrawn');
    assert.equal(w.json.decided_by, null);
    assertProblem(await decide(op, again.json.approval_id, 'approve'), 409, { rule: 'approval.decided' });
    const kinds = (await store.sql(`SELECT kind FROM audit_log WHERE ref_table = 'approval' AND ref_id = ${again.json.approval_id} ORDER BY seq`)).trim();
    assert.equal(kinds, 'approval.submitted\napproval.decided');
  });

  test('a stale second factor: 401 auth.step_up_required on submit and on approve, nothing stored', async () => {
    const d = await draft(other.agent, other.dwzh);
    const n = await one('SELECT count(*) FROM approval');
    await staleFactor(other.agent);
    assertProblem(await submit(other.agent, other.dwzh, rosterFromDraft(d), idemKey('stale'), { stepUp: false }), 401,
      { rule: 'auth.step_up_required' });
    assert.equal(await one('SELECT count(*) FROM approval'), n);
    await stepUp(other.agent);
    const res = await submit(other.agent, other.dwzh, rosterFromDraft(d));
    assert.equal(res.status, 202, describeRes(res));
    await staleFactor(op2);
    assertProblem(await decide(op2, res.json.approval_id, 'approve', undefined, { stepUp: false }), 401, { rule: 'auth.step_up_required' });
    assertProblem(await decide(op2, res.json.approval_id, 'reject', { reason: '过期' }, { stepUp: false }), 401, { rule: 'auth.step_up_required' });
    assert.equal(assertOk(await op.get(`/api/v1/approvals/${res.json.approval_id}`)).status, 'pending');
    await stepUp(op2);
    const ok = await decide(op2, res.json.approval_id, 'approve');
    assert.equal(ok.status, 200, describeRes(ok));
    assert.equal(ok.json.decided_by.username, 'checker2');
    assert.equal(ok.json.signature_valid, true);
    ids.byOp2 = res.json.approval_id;
  });

  test("an agent of the employer may check an operator's remittance: posted, unsigned (agents hold no keys)", async () => {
    const e = await employerWithMembers(srv, op, { wages: ['7100.00'] });
    const d = await draft(op, e.dwzh);
    const res = await submit(op, e.dwzh, rosterFromDraft(d));
    assert.equal(res.status, 202, describeRes(res));
    assert.equal(res.json.made_by.role, 'operator');
    assertProblem(await decide(other.agent, res.json.approval_id, 'approve'), 404, { rule: 'approval.unknown' });
    const ok = await decide(e.agent, res.json.approval_id, 'approve');
    assert.equal(ok.status, 200, describeRes(ok));
    assert.equal(ok.json.decided_by.role, 'agent');
    assert.equal(ok.json.signature, null);
    assert.equal(ok.json.key_id, null);
    assert.equal(ok.json.signature_valid, null);
    assert.equal(ok.json.result.total, d.total);
    assert.equal(assertOk(await op.get(`/api/v1/members/${e.members[0].member.account_no}`)).balance, d.total);
  });

  test('a policy change runs when a second operator approves it, and takes effect on its date', async () => {
    assertProblem(await op.post('/api/v1/policies', policyBody({ effective_from: BUSINESS_DATE }), { headers: { 'Idempotency-Key': idemKey('pol') } }),
      422, { rule: 'policy.effective_past' });
    assertProblem(await op.post('/api/v1/policies', policyBody({ min_wage: '99999.00' }), { headers: { 'Idempotency-Key': idemKey('pol') } }),
      400, { rule: 'policy.invalid' });
    assertProblem(await agent.post('/api/v1/policies', policyBody(), { headers: { 'Idempotency-Key': idemKey('pol') } }), 403, { rule: 'auth.role' });
    const res = await op.post('/api/v1/policies', policyBody(), { headers: { 'Idempotency-Key': idemKey('pol') } });
    assert.equal(res.status, 202, describeRes(res));
    const id = res.json.approval_id;
    assert.equal(res.json.kind, 'policy.change');
    assert.equal(res.json.employer_account_no, null);
    const oldVersion = assertOk(await op.get('/api/v1/policy?date=2026-12-01')).version;
    assertProblem(await decide(op, id, 'approve'), 409, { rule: 'approval.self_approval' });
    assertProblem(await decide(agent, id, 'approve'), 404, { rule: 'approval.unknown' }); // an agent checks no policy
    assert.equal(assertOk(await op.get('/api/v1/policy?date=2026-12-01')).version, oldVersion, 'pending: not in force');
    const ok = await decide(op2, id, 'approve');
    assert.equal(ok.status, 200, describeRes(ok));
    assert.equal(ok.json.status, 'approved');
    assert.equal(ok.json.signature_valid, true);
    assert.equal(ok.json.result.effective_from, '2026-12-01');
    const version = ok.json.result.version;
    assert.ok(version > oldVersion);
    // In force from its date, not before.
    assert.equal(assertOk(await op.get('/api/v1/policy?date=2026-11-30')).version, oldVersion);
    const now = assertOk(await op.get('/api/v1/policy?date=2026-12-01'));
    assert.equal(now.version, version);
    assert.equal(now.min_wage, '20000.00');
    assert.equal(now.effective_from, '2026-12-01');
    assert.equal(now.deferral_counts_as_continuous, true, 'absent from the proposal: the default of C-10');
    // The continuity flag is a parameter of the version like the others.
    const off = await op.post('/api/v1/policies', policyBody({ effective_from: '2030-01-01', deferral_counts_as_continuous: false }),
      { headers: { 'Idempotency-Key': idemKey('pol') } });
    assert.equal(off.status, 202, describeRes(off));
    assert.equal((await decide(op2, off.json.approval_id, 'approve')).status, 200);
    assert.equal(assertOk(await op.get('/api/v1/policy?date=2030-01-01')).deferral_counts_as_continuous, false);
    assert.equal(assertOk(await op.get('/api/v1/policy?date=2029-12-31')).deferral_counts_as_continuous, true);
    assertProblem(await op.post('/api/v1/policies', policyBody({ effective_from: '2030-02-01', deferral_counts_as_continuous: 0 }),
      { headers: { 'Idempotency-Key': idemKey('pol') } }), 400, { field: '/deferral_counts_as_continuous', rule: 'json.type' });
    // The roster of December is computed under it: every base at least the new floor.
    const nov = await draft(op, dwzh, '2026-11');
    const dec = await draft(op, dwzh, '2026-12');
    assert.ok(nov.rows.some((r) => fen(r.base) < 2000000n), 'some November base below 20000.00');
    assert.ok(dec.rows.length > 0 && dec.rows.every((r) => fen(r.base) >= 2000000n), 'December bases follow the new floor');
    // The date is taken now.
    assertProblem(await op.post('/api/v1/policies', policyBody({ note: '重复' }), { headers: { 'Idempotency-Key': idemKey('pol') } }),
      409, { rule: 'policy.date_taken' });
    ids.policy = id;
  });

  test('every route flagged fresh-factor refuses self-approval and a stale second factor', async () => {
    const listed = await runHpf(['routes']);
    assert.equal(listed.code, 0, listed.stderr);
    // The administrator's routes want a fresh factor too but move no money and need no checker:
    // tests/api/admin.test.mjs checks their stale factor.
    const fresh = listed.stdout.trim().split('\n').filter((l) => / fresh-factor$/.test(l) && l.split(' ')[2] !== 'admin')
      .map((l) => l.split(' ').slice(0, 2).join(' '));
    assert.ok(fresh.length >= 4, `only ${fresh.length} routes flagged: ${fresh.join(', ')}`);
    // For each flagged route: make a pending request with the maker, then the maker's own
    // decision (409) and a stale session (401). Submit routes are decided through approve.
    const pendingRemit = async (maker, acct) => {
      const d = await draft(maker, acct, '2026-09');
      const r = await submit(maker, acct, rosterFromDraft(d));
      assert.equal(r.status, 202, describeRes(r));
      return r.json.approval_id;
    };
    let month = 0;
    const pendingPolicy = async () => {
      month += 1;
      const r = await op.post('/api/v1/policies', policyBody({ effective_from: `2027-0${month}-01` }), { headers: { 'Idempotency-Key': idemKey('fp') } });
      assert.equal(r.status, 202, describeRes(r));
      return r.json.approval_id;
    };
    const CHECKS = {
      'POST /api/v1/employers/{dwzh}/remittances': {
        self: async () => decide(agent, await pendingRemit(agent, dwzh), 'approve'),
        stale: () => submit(agent, dwzh, rosterFromDraft(ids.remitDraft), idemKey('st'), { stepUp: false }),
        who: () => agent,
      },
      'POST /api/v1/policies': {
        self: async () => decide(op, await pendingPolicy(), 'approve'),
        stale: () => op.post('/api/v1/policies', policyBody({ effective_from: '2028-01-01' }), { headers: { 'Idempotency-Key': idemKey('st') }, stepUp: false }),
        who: () => op,
      },
      // 补缴 and 缓缴 (tests/api/backpay.test.mjs, deferral.test.mjs).
      'POST /api/v1/employers/{dwzh}/backpays': {
        self: async () => {
          const d = await draft(agent, dwzh, '2026-09');
          const r = await agent.post(`/api/v1/employers/${dwzh}/backpays`, { lines: [{ account_no: d.rows[0].account_no, period: '2026-09' }] },
            { headers: { 'Idempotency-Key': idemKey('fb') } });
          assert.equal(r.status, 202, describeRes(r));
          return decide(agent, r.json.approval_id, 'approve');
        },
        stale: () => agent.post(`/api/v1/employers/${dwzh}/backpays`, { lines: [{ account_no: '320900000000000013', period: '2026-09' }] },
          { headers: { 'Idempotency-Key': idemKey('st') }, stepUp: false }),
        who: () => agent,
      },
      'POST /api/v1/employers/{dwzh}/deferrals': {
        self: async () => {
          const r = await op.post(`/api/v1/employers/${other.dwzh}/deferrals`, { from: '2027-01', to: '2027-02', reason: '经营困难', document_no: '盐公积金管委〔2026〕9号' },
            { headers: { 'Idempotency-Key': idemKey('fd') } });
          assert.equal(r.status, 202, describeRes(r));
          return decide(op, r.json.approval_id, 'approve');
        },
        stale: () => op.post(`/api/v1/employers/${other.dwzh}/deferrals`, { from: '2027-03', to: '2027-04', reason: '经营困难', document_no: '盐公积金管委〔2026〕9号' },
          { headers: { 'Idempotency-Key': idemKey('st') }, stepUp: false }),
        who: () => op,
      },
      // Cross-city transfer out (tests/api/citytransfer.test.mjs): a sealed account of employer 2.
      'POST /api/v1/city-transfers/out': {
        self: async () => {
          const grzh = other.members[0].member.account_no;
          assertOk(await op.post(`/api/v1/members/${grzh}/seal`, { reason: '调往南京' }));
          const r = await op.post('/api/v1/city-transfers/out', { account_no: grzh, contact_no: '3201002611150001', in_centre: '320100', reason: '联系函' },
            { headers: { 'Idempotency-Key': idemKey('fo') } });
          assert.equal(r.status, 202, describeRes(r));
          return decide(op, r.json.approval_id, 'approve');
        },
        stale: () => op.post('/api/v1/city-transfers/out', { account_no: other.members[0].member.account_no, contact_no: '3201002611150002', in_centre: '320100', reason: '联系函' },
          { headers: { 'Idempotency-Key': idemKey('st') }, stepUp: false }),
        who: () => op,
      },
      // 个人合并 (tests/api/merge.test.mjs): a second account of one person, possible once the
      // first is re-typed in the database (member_one_live is per (id_type, resident ID)); on a
      // server of its own, since that edit is what `hpf audit verify` exists to name.
      'POST /api/v1/member-merges': {
        self: async () => {
          const m = await mergeServer();
          const first = m.e.members[0];
          await m.store.sql(`UPDATE member SET id_type = '99' WHERE account_no = '${first.member.account_no}'`);
          const dup = await openMember(m.e.agent, m.e.dwzh, { idNumber: first.idNumber, name: first.name });
          m.pair = { from_account: first.member.account_no, to_account: dup.member.account_no };
          const r = await m.op.post('/api/v1/member-merges', { ...m.pair, reason: '重复账户' },
            { headers: { 'Idempotency-Key': idemKey('fm') } });
          assert.equal(r.status, 202, describeRes(r));
          return decide(m.op, r.json.approval_id, 'approve');
        },
        stale: async () => {
          const m = await mergeServer();
          return m.op.post('/api/v1/member-merges', { ...m.pair, reason: '重复' },
            { headers: { 'Idempotency-Key': idemKey('st') }, stepUp: false });
        },
        who: () => merge.op,
        store: () => merge.store,
      },
      // 冲账 (tests/api/ledger.test.mjs): a reversal of the demo's remittance voucher.
      'POST /api/v1/vouchers/{voucher_no}/reversal': {
        self: async () => {
          const no = await one('SELECT v.voucher_no FROM voucher v JOIN remittance r ON r.voucher_id = v.id ORDER BY v.id LIMIT 1');
          const r = await op.post(`/api/v1/vouchers/${no}/reversal`, { reason: '错缴更正' }, { headers: { 'Idempotency-Key': idemKey('fr') } });
          assert.equal(r.status, 202, describeRes(r));
          return decide(op, r.json.approval_id, 'approve');
        },
        stale: async () => {
          const no = await one('SELECT v.voucher_no FROM voucher v JOIN remittance r ON r.voucher_id = v.id ORDER BY v.id LIMIT 1');
          return op.post(`/api/v1/vouchers/${no}/reversal`, {}, { headers: { 'Idempotency-Key': idemKey('st') }, stepUp: false });
        },
        who: () => op,
      },
      'POST /api/v1/approvals/{id}/approve': {
        self: async () => decide(op, await pendingPolicy(), 'approve'),
        stale: async () => decide(op2, await pendingPolicy(), 'approve', undefined, { stepUp: false }),
        who: () => op2,
      },
      'POST /api/v1/approvals/{id}/reject': {
        self: async () => decide(op, await pendingPolicy(), 'reject', { reason: '自己的' }),
        stale: async () => decide(op2, await pendingPolicy(), 'reject', { reason: '过期' }, { stepUp: false }),
        who: () => op2,
      },
    };
    // A voluntary depositor's own monthly deposit (tests/api/voluntary.test.mjs) moves the
    // person's own money at the amount the system fixes, with nobody's discretion to check: it
    // wants a fresh factor, not a checker.
    const OWN_DEPOSIT = {
      'POST /api/v1/voluntary/{grzh}/deposits': () => op.post(`/api/v1/voluntary/${other.members[0].member.account_no}/deposits`, {},
        { headers: { 'Idempotency-Key': idemKey('st') }, stepUp: false }),
    };
    const unknown = fresh.filter((k) => !CHECKS[k] && !OWN_DEPOSIT[k]);
    assert.deepEqual(unknown, [], `routes flagged fresh-factor without a maker-checker check: add them to CHECKS in ${HERE}`);
    for (const [k, stale] of Object.entries(OWN_DEPOSIT)) {
      assert.ok(fresh.includes(k), `${k} is no longer flagged fresh-factor`);
      await staleFactor(op);
      assertProblem(await stale(), 401, { rule: 'auth.step_up_required' });
    }
    for (const k of fresh.filter((x) => CHECKS[x])) {
      assertProblem(await CHECKS[k].self(), 409, { rule: 'approval.self_approval' });
      // The next request of that session after this steps up again by itself (tests/lib).
      await staleFactor(CHECKS[k].who(), CHECKS[k].store?.());
      assertProblem(await CHECKS[k].stale(), 401, { rule: 'auth.step_up_required' });
    }
  });

  test('a forged signature or payload in a copy of the database reads as signature_valid false', async () => {
    await srv.stop();
    srv = null;
    const v = await runHpf(['verify', ...store.args]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const a = await runHpf(['audit', 'verify', ...store.args]);
    assert.equal(a.code, 0, a.stdout + a.stderr);
    // An attacker with database access: the immutability trigger off, the rejection's signature
    // put on the approval (valid hex, wrong text), another payload changed.
    const otherSig = await one(`SELECT signature FROM approval WHERE id = ${ids.rejected}`);
    const forge = STORE === 'postgres'
      ? `ALTER TABLE approval DISABLE TRIGGER USER; UPDATE approval SET signature = '${otherSig}' WHERE id = ${ids.remit};
         UPDATE approval SET payload = replace(payload, '"min_wage":"20000.00"', '"min_wage":"2070.00"') WHERE id = ${ids.policy};`
      : `DROP TRIGGER approval_decide; UPDATE approval SET signature = '${otherSig}' WHERE id = ${ids.remit};
         UPDATE approval SET payload = replace(payload, '"min_wage":"20000.00"', '"min_wage":"2070.00"') WHERE id = ${ids.policy};`;
    const copy = await forgedStore(forge);
    const fake = await startServer({ store: copy, verify: false });
    try {
      const fop = await loginAs(fake, 'operator');
      const remit = assertOk(await fop.get(`/api/v1/approvals/${ids.remit}`));
      assert.equal(remit.signature_valid, false);
      assert.equal(remit.payload_intact, true);
      const pol = assertOk(await fop.get(`/api/v1/approvals/${ids.policy}`));
      assert.equal(pol.payload_intact, false);
      assert.equal(pol.signature_valid, false);
      // The untouched ones still verify.
      assert.equal(assertOk(await fop.get(`/api/v1/approvals/${ids.rejected}`)).signature_valid, true);
      assert.equal(assertOk(await fop.get(`/api/v1/approvals/${ids.byOp2}`)).signature_valid, true);
    } finally {
      await fake.stop();
      await copy.drop();
    }
  });
});

/** A copy of the (stopped) store with `sql` applied, sharing the key files, ready to serve. */
async function forgedStore(sql) {
  const copy = await createStore({ tag: 'forged' });
  if (STORE === 'postgres') {
    await copy.cluster.dropdb(copy.dbName);
    await copy.cluster.createdb(copy.dbName, store.dbName);
  } else {
    fs.rmSync(copy.dataDir, { recursive: true, force: true });
    fs.cpSync(store.dataDir, copy.dataDir, { recursive: true });
  }
  if (STORE === 'postgres') {
    // The key files (field keys, SM2) are the original data dir's: serve the copy from there.
    copy.args = ['--data-dir', store.dataDir, '--db', copy.url];
  }
  await copy.sql(sql);
  // The same logins, and the same record of TOTP steps already used.
  copy.logins = store.logins;
  copy.totpSecrets = store.totpSecrets;
  copy.totpSteps = store.totpSteps;
  copy.populated = true;
  return copy;
}

// The sqlite3 CLI is needed on SQLite runs (createStore uses it): fail early and clearly.
if (STORE === 'sqlite') execFileSync('sqlite3', ['-version']);
