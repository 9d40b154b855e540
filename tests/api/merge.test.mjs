// 个人合并 (POST /api/v1/member-merges; src/service/merge.c, docs/internals/citytransfer.md
// "Account merge"): one person with two live accounts. member_one_live allows one live account
// per (证件类型, 证件号码), so the duplicate is made as it arises in practice: an account recorded
// under 证件类型 99 (其他) before the resident ID was known (here: its id_type changed to 99 in
// the database), and a second account opened through the API with the same name and resident
// ID. The merge is maker-checker: an operator submits, another approves; at approval the
// duplicate's balance moves to the main account and the duplicate closes into 03. Runs on the
// store of HPF_TEST_STORE; `hpf verify` holds at the end, and `hpf audit verify` names the
// setup's direct change of id_type (audit.snapshot_transition), nothing else.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { employerWithMembers, idemKey, openMember, remitAndApprove, rosterFromDraft } from '../lib/fixtures.mjs';
import { fen, yuan } from '../lib/money.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import { BUSINESS_DATE, STORE, createStore, login, loginAs, populate, rememberTotp, runHpf, startServer } from '../lib/server.mjs';
import { secretFromUri } from '../lib/totp.mjs';

const PERIOD = BUSINESS_DATE.slice(0, 7); // open: the demo remitted the months before it
const REASON = '同一人重复开户：原按其他证件登记';

let store;
let srv;
let op; // the demo operator: the maker
let op2; // a second operator (hpf user add-operator): the checker
let dup; // the duplicate: {member, idNumber, name}, employer 1, later id_type 99
let main; // the main account: the same person, employer 2
let other; // another person, employer 2
const was = {}; // balances before the merge, fen

before(async () => {
  store = await createStore({ tag: 'merge' });
  await populate(store, { demo: { employers: 1, members: 2, months: 1, seed: 23 } });
  srv = await startServer({ store, verify: false });
  op = await loginAs(srv, 'operator');
  const pw = 'Checker#2026merge';
  const made = await runHpf(['user', 'add-operator', '--username', 'checker-m', '--name', '复核员乙', ...store.args], { input: `${pw}\n` });
  assert.equal(made.code, 0, made.stderr);
  rememberTotp(srv, 'checker-m', secretFromUri(made.stdout.split('\n').find((l) => l.startsWith('otpauth://'))));
  op2 = await login(srv, 'checker-m', pw);
});

after(async () => {
  try {
    await srv?.stop();
  } finally {
    await store?.drop();
  }
});

const one = async (sql) => (await store.sql(sql)).trim();
const memberOf = async (grzh) => assertOk(await op.get(`/api/v1/members/${grzh}`));
const balanceOf = async (grzh) => fen((await memberOf(grzh)).balance);

function submitMerge(sess, body, key = idemKey('mg'), opts = {}) {
  return sess.post('/api/v1/member-merges', body, { ...opts, headers: { 'Idempotency-Key': key, ...(opts.headers ?? {}) } });
}

/** Post the open month of an employer: its agent submits, the operator approves. */
async function remitMonth(e) {
  const d = assertOk(await e.agent.get(`/api/v1/employers/${e.dwzh}/remittances/draft?period=${PERIOD}`));
  await remitAndApprove(e.agent, op, e.dwzh, rosterFromDraft(d));
}

describe(`account merge on ${STORE}`, () => {
  let approvalId;
  let key;
  let body;

  test('a duplicate account of one person: the same resident ID opens twice only under another 证件类型', async () => {
    const e1 = await employerWithMembers(srv, op, { wages: ['6543.21'] });
    [dup] = e1.members;
    await remitMonth(e1);
    const e2 = await employerWithMembers(srv, op, { wages: ['5000.00'] });
    [other] = e2.members;
    // While the first account is under 01, the same resident ID does not open again.
    const refused = await e2.agent.post(`/api/v1/employers/${e2.dwzh}/members`, { name: dup.name, id_number: dup.idNumber, wage: '7000.00' });
    assertProblem(refused, 409, { rule: 'member.one_live_account', field: '/id_number' });
    // The first account as recorded before the resident ID was known: 证件类型 99 其他.
    await store.sql(`UPDATE member SET id_type = '99' WHERE account_no = '${dup.member.account_no}'`);
    main = await openMember(e2.agent, e2.dwzh, { name: dup.name, idNumber: dup.idNumber, wage: '7000.00' });
    assert.notEqual(main.member.account_no, dup.member.account_no);
    await remitMonth(e2);
    for (const m of [dup, main, other]) {
      was[m.member.account_no] = await balanceOf(m.member.account_no);
      assert.ok(was[m.member.account_no] > 0n, `member ${m.member.account_no} has a balance`);
    }
    assert.equal(await one(`SELECT count(*) FROM member WHERE account_no IN ('${dup.member.account_no}', '${main.member.account_no}') AND state = '01'`), '2');
  });

  test('an operator submits the merge: 202 pending, nothing moves, the same key finds it again', async () => {
    body = { from_account: dup.member.account_no, to_account: main.member.account_no, reason: REASON };
    key = idemKey('merge');
    const res = await submitMerge(op, body, key);
    assert.equal(res.status, 202, describeRes(res));
    assert.equal(res.json.status, 'pending');
    assert.equal(res.json.kind, 'member.merge');
    assert.equal(res.json.made_by.username, op.user.username);
    assert.equal(res.json.result, null);
    approvalId = res.json.approval_id;
    for (const m of [dup, main]) assert.equal(await balanceOf(m.member.account_no), was[m.member.account_no], `${m.member.account_no} moved before approval`);
    assert.equal((await memberOf(dup.member.account_no)).state_code, '01');
    assert.equal(await one('SELECT count(*) FROM member_merge'), '0');
    const again = await submitMerge(op, body, key);
    assert.equal(again.status, 200, describeRes(again));
    assert.equal(again.headers['idempotent-replay'], 'true');
    assert.equal(again.json.approval_id, approvalId);
    assertProblem(await submitMerge(op, { ...body, reason: '另一个理由' }, key), 409, { rule: 'idempotency.key_reused' });
  });

  test('the maker cannot approve their own merge: 409 approval.self_approval, nothing moves', async () => {
    assertProblem(await op.post(`/api/v1/approvals/${approvalId}/approve`), 409, { rule: 'approval.self_approval' });
    assert.equal(await balanceOf(dup.member.account_no), was[dup.member.account_no]);
    assert.equal(await one('SELECT count(*) FROM member_merge'), '0');
  });

  test('a second operator approves: the balance moves to the main account, the duplicate closes into 03 with its history', async () => {
    const res = await op2.post(`/api/v1/approvals/${approvalId}/approve`);
    assert.equal(res.status, 200, describeRes(res));
    assert.equal(res.json.status, 'approved');
    assert.equal(res.json.decided_by.username, 'checker-m');
    const r = res.json.result;
    assert.equal(r.from_account, dup.member.account_no);
    assert.equal(r.to_account, main.member.account_no);
    assert.equal(r.from_state_code, '03');
    assert.equal(r.amount, yuan(was[dup.member.account_no]));
    assert.equal(typeof r.voucher_no, 'string');
    // Balances: the duplicate is empty, the main account holds both; the other person is untouched.
    const from = await memberOf(dup.member.account_no);
    assert.equal(from.balance, '0.00');
    assert.equal(from.state_code, '03');
    assert.equal(await balanceOf(main.member.account_no), was[main.member.account_no] + was[dup.member.account_no]);
    assert.equal(await balanceOf(other.member.account_no), was[other.member.account_no]);
    assert.equal((await memberOf(main.member.account_no)).state_code, '01');
    // One voucher, two postings of kind 99 on it that cancel out, one member_merge row.
    const posts = (await store.sql(`SELECT m.account_no || ':' || p.amount || ':' || v.voucher_no FROM posting p
      JOIN member m ON m.id = p.member_id JOIN voucher v ON v.id = p.voucher_id WHERE p.kind = '99' ORDER BY p.id`)).trim().split('\n');
    assert.deepEqual(posts, [
      `${dup.member.account_no}:${-was[dup.member.account_no]}:${r.voucher_no}`,
      `${main.member.account_no}:${was[dup.member.account_no]}:${r.voucher_no}`,
    ]);
    assert.equal(await one(`SELECT count(*) || ':' || sum(amount) FROM member_merge WHERE id = ${r.merge_id}`), `1:${was[dup.member.account_no]}`);
    // The history of the duplicate: 01 -> 03, by the checker, with the reason and the date.
    const h = assertOk(await op.get(`/api/v1/members/${dup.member.account_no}/history`));
    const items = h.items ?? h;
    assert.ok(items.length >= 1, JSON.stringify(h));
    const last = items[0];
    assert.equal(last.from_state_code, '01');
    assert.equal(last.to_state_code, '03');
    assert.equal(last.reason, REASON);
    assert.equal(last.business_date, BUSINESS_DATE);
    assert.equal(last.actor, 'checker-m');
    // The approval is decided: a second approval is refused.
    assertProblem(await op2.post(`/api/v1/approvals/${approvalId}/approve`), 409, { rule: 'approval.decided' });
  });

  test('the closed duplicate is not merged again: 409 account.state', async () => {
    const res = await submitMerge(op, body);
    assertProblem(res, 409, { rule: 'account.state' });
  });

  test('two different persons are not merged: 422 merge.not_same_person, nothing stored', async () => {
    const n = await one('SELECT count(*) FROM approval');
    assertProblem(await submitMerge(op, { from_account: other.member.account_no, to_account: main.member.account_no, reason: REASON }), 422,
      { rule: 'merge.not_same_person', field: '/to_account' });
    assertProblem(await submitMerge(op, { from_account: main.member.account_no, to_account: main.member.account_no, reason: REASON }), 422,
      { rule: 'merge.same_account' });
    assertProblem(await submitMerge(op, { from_account: '320900999999999999', to_account: main.member.account_no, reason: REASON }), 404,
      { rule: 'merge.account_unknown', field: '/from_account' });
    assert.equal(await one('SELECT count(*) FROM approval'), n);
    assert.equal(await balanceOf(other.member.account_no), was[other.member.account_no]);
  });

  test('hpf verify holds after the merge; hpf audit verify names the one change made outside a business, the setup\'s 证件类型', async () => {
    await srv.stop();
    srv = null;
    const v = await runHpf(['verify', ...store.args]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    // The setup changed the duplicate's id_type in the database (no business does that); the
    // merge's snapshot (member.state_changed) then recorded the row as it found it. The row
    // equals its latest snapshot, but the change between its two snapshots is not the merge's.
    for (const jobs of ['1', '2']) {
      const a = await runHpf(['audit', 'verify', '--jobs', jobs, ...store.args]);
      assert.equal(a.code, 1, a.stdout + a.stderr);
      assert.match(a.stderr, new RegExp(`^hpf audit verify: FAILED: entry seq \\d+ \\(member\\.state_changed\\): member ${dup.member.account_no} \\(id \\d+\\) changed id_type since its snapshot at seq \\d+, and member\\.state_changed does not change id_type`));
      assert.doesNotMatch(a.stderr, /more problem/, 'nothing else');
    }
  });
});
