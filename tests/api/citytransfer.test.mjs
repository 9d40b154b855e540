// Cross-city transfers (issue 5 item 3; RULES §1.6, §2.1 I-8, §5.3 J7/J8; docs/internals/citytransfer.md):
// a transfer in applied for through the API leaves as a BDC901 through the outbox to hpf-sim (the
// platform and the other centre), whose answer posts 外部转入 (046) as one amount with the 本金/利息 split
// and the flags kept; the workflow states 01/02/08/00/05/13 as the sim decides; BDC903 only in 01;
// BDC904 queries. A transfer out recorded from the other centre's letter is a maker-checker
// request that closes the sealed account (04) with voucher 011 and sends a BDC905. `hpf verify`
// and `hpf audit verify` pass afterwards. Runs on the store of HPF_TEST_STORE.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { approve, employerWithMembers, idemKey, remitAndApprove, rosterFromDraft } from '../lib/fixtures.mjs';
import { fen, yuan } from '../lib/money.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import { BUSINESS_DATE, STORE, createStore, login, loginAs, populate, rememberTotp, runHpf, startServer } from '../lib/server.mjs';

const CENTRE = '320900';
const OTHER = '320100';
const PERIOD = BUSINESS_DATE.slice(0, 7);

let store;
let srv;
let sim;
let op;
let op2;
let A; // an employer with members, its agent

function secretFromUri(uri) {
  return new URL(uri).searchParams.get('secret');
}

/** The other centre's figures for a resident ID, as hpf-sim makes them (sim/citytransfer.c). */
function simFigures(id) {
  let h = 0;
  for (let i = 0; i < id.length; i++) h += (i + 1) * (/[0-9]/.test(id[i]) ? Number(id[i]) : 10);
  const principal = 100000 + ((h * 7919) % 9000000);
  const interest = Math.floor((principal * 75) / 10000);
  return { principal, interest, six: h % 2 === 0 ? 1 : 2, loans: h % 3, oAcct: `2010-${String((h % 12) + 1).padStart(2, '0')}` };
}

const applyBody = (grzh) => ({ account_no: grzh, out_centre: OTHER, or_unit: '南京市某科技有限公司', or_acct: 'NJ0000123' });
const apply = (sess, body, key = idemKey('ctin')) => sess.post('/api/v1/city-transfers/in', body, { headers: { 'Idempotency-Key': key } });
const transferOf = async (no, sess = op) => assertOk(await sess.get(`/api/v1/city-transfers/${no}`));
const memberOf = async (grzh) => assertOk(await op.get(`/api/v1/members/${grzh}`));
const simMode = async (mode, next = 1) => assert.equal((await sim.request('POST', '/_sim/citytransfer', { mode, next })).status, 200);
const simState = async () => (await sim.request('GET', '/_sim/citytransfer')).json;

/** Poll the transfer until pred holds (the dispatcher sends and applies the answer). */
async function waitTransfer(no, pred, what, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const t = await transferOf(no);
    if (pred(t)) return t;
    if (Date.now() > end) throw new Error(`transfer ${no}: ${what} not reached: ${JSON.stringify(t)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitSimLetter(no, pred = () => true, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const l = (await simState()).letters.find((x) => x.ContactNo === no);
    if (l && pred(l)) return l;
    if (Date.now() > end) {
      const ob = await runHpf(['outbox', 'list', ...store.args]);
      throw new Error(`hpf-sim has no matching letter ${no}; outbox:\n${ob.stdout}${ob.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  store = await createStore({ tag: 'ctr' });
  await populate(store, { demo: { employers: 1, members: 3, months: 1, seed: 41 } });
  srv = await startServer({ store, sim: true });
  sim = srv.peers;
  op = await loginAs(srv, 'operator');
  const pw = 'Checker#2026transfer';
  const made = await runHpf(['user', 'add-operator', '--username', 'checker-ct', '--name', '复核员', ...store.args], { input: `${pw}\n` });
  assert.equal(made.code, 0, made.stderr);
  rememberTotp(srv, 'checker-ct', secretFromUri(made.stdout.split('\n').find((l) => l.startsWith('otpauth://'))));
  op2 = await login(srv, 'checker-ct', pw);
  A = await employerWithMembers(srv, op, { wages: ['6543.21', '5000.00', '4800.00', '7200.00', '5100.00', '6100.00'] });
});
after(async () => {
  await srv?.stop().catch(() => {});
  await store?.drop();
});

const grzhOf = (i) => A.members[i].member.account_no;
const idOf = (i) => A.members[i].idNumber;

describe(`transfer in (${STORE})`, () => {
  test('an application is 201 in state 01 with a letter number of centre + YYMMDD + sequence; the other centre transfers: 00, 046 posted as one amount, split and flags kept', async () => {
    const before_ = await memberOf(grzhOf(0));
    const res = await apply(op, applyBody(grzhOf(0)));
    assert.equal(res.status, 201, describeRes(res));
    const t0 = res.json;
    assert.match(t0.contact_no, new RegExp(`^${CENTRE}${BUSINESS_DATE.slice(2, 4)}${BUSINESS_DATE.slice(5, 7)}${BUSINESS_DATE.slice(8, 10)}\\d{4}$`));
    assert.equal(t0.state_code, '01');
    assert.equal(t0.state_name, '联系函复核通过');
    assert.equal(t0.direction, 'in');
    assert.equal(t0.amount, null);
    const t = await waitTransfer(t0.contact_no, (x) => x.state_code === '00', 'state 00');
    const f = simFigures(idOf(0));
    assert.equal(t.principal, yuan(f.principal));
    assert.equal(t.interest, yuan(f.interest));
    assert.equal(t.amount, yuan(f.principal + f.interest));
    assert.equal(t.six_months_continuous, f.six);
    assert.equal(t.loan_num, f.loans);
    assert.equal(t.loan_unsettled, 2);
    assert.equal(t.fraud_flag, 2);
    assert.equal(t.o_acct_month, f.oAcct);
    assert.equal(t.pay_end_month, '2026-10');
    assert.match(t.voucher_no, /^V\d{14}$/);
    assert.equal(t.done_on, BUSINESS_DATE);
    assert.deepEqual(t.events.map((e) => [e.from_state_code, e.to_state_code, e.tx_code]), [[null, '01', 'BDC901'], ['01', '08', 'BDC905'], ['08', '00', 'BDC905']]);
    const after_ = await memberOf(grzhOf(0));
    assert.equal(Number(fen(after_.balance) - fen(before_.balance)), f.principal + f.interest, 'the balance grew by TranAmt');
    // The continuity counter imports the 6 months SixMconFlag vouches for, and only then.
    const gained = after_.continuous_months - before_.continuous_months;
    assert.ok(f.six === 1 ? [0, 6].includes(gained) : gained === 0, `SixMconFlag ${f.six}: ${before_.continuous_months} -> ${after_.continuous_months}`);
    // The letter reached the platform with the member's data.
    const l = await waitSimLetter(t0.contact_no);
    assert.equal(l.CertNo, idOf(0));
    assert.equal(l.InAcctNo, grzhOf(0));
    assert.equal(l.InCenterCode, CENTRE);
    assert.equal(l.OutCenterCode, OTHER);
  });

  test('the same Idempotency-Key replays (200, Idempotent-Replay); with another body it is 409', async () => {
    const key = idemKey('replay');
    await simMode('hold');
    const first = await apply(op, applyBody(grzhOf(1)), key);
    assert.equal(first.status, 201, describeRes(first));
    const again = await apply(op, applyBody(grzhOf(1)), key);
    assert.equal(again.status, 200, describeRes(again));
    assert.equal(again.headers['idempotent-replay'], 'true');
    assert.equal(again.json.contact_no, first.json.contact_no);
    await waitSimLetter(first.json.contact_no, (l) => l.FlowState === '01'); // the hold is spent on it
    assertProblem(await apply(op, { ...applyBody(grzhOf(1)), or_acct: 'OTHER1' }, key), 409, { rule: 'idempotency.key_reused' });
    // A second transfer in while one is under way
    assertProblem(await apply(op, applyBody(grzhOf(1))), 409, { rule: 'citytransfer.open' });
  });

  test('BDC903 cancels a letter in 01 (05, the platform told); a second cancel is 409 naming 05', async () => {
    await simMode('hold');
    const no = (await apply(op, applyBody(grzhOf(2)))).json.contact_no;
    await waitSimLetter(no, (l) => l.FlowState === '01');
    const t = await transferOf(no);
    assert.equal(t.state_code, '01');
    const res = await op.post(`/api/v1/city-transfers/${no}/cancel`, { reason: '本人申请撤销' });
    assert.equal(res.status, 200, describeRes(res));
    assert.equal(res.json.state_code, '05');
    await waitSimLetter(no, (l) => l.FlowState === '05');
    const p = assertProblem(await op.post(`/api/v1/city-transfers/${no}/cancel`, { reason: '再次撤销' }), 409, { rule: 'citytransfer.state' });
    assert.ok(p.detail.includes('state 05'), p.detail);
    assert.equal((await memberOf(grzhOf(2))).balance, A.members[2].member.balance, 'a cancelled transfer moves no money');
  });

  test('accepted (02): cancelling is 409 naming 02; a BDC904 query brings the money (00)', async () => {
    await simMode('accept');
    const no = (await apply(op, applyBody(grzhOf(3)))).json.contact_no;
    await waitTransfer(no, (x) => x.state_code === '02', 'state 02');
    const p = assertProblem(await op.post(`/api/v1/city-transfers/${no}/cancel`, { reason: '撤销' }), 409, { rule: 'citytransfer.state' });
    assert.ok(p.detail.includes('state 02'), p.detail);
    const q = await op.post(`/api/v1/city-transfers/${no}/query`);
    assert.equal(q.status, 202, describeRes(q));
    const t = await waitTransfer(no, (x) => x.state_code === '00', 'state 00');
    assert.equal(t.amount, yuan(simFigures(idOf(3)).principal + simFigures(idOf(3)).interest));
    assert.deepEqual(t.events.map((e) => e.to_state_code), ['01', '02', '08', '00']);
  });

  test('refused by the sending centre: 13 with the reason, nothing posted; a query of an ended transfer is 409', async () => {
    await simMode('refuse');
    const no = (await apply(op, applyBody(grzhOf(4)))).json.contact_no;
    const t = await waitTransfer(no, (x) => x.state_code === '13', 'state 13');
    assert.equal(t.amount, null);
    assert.equal(t.voucher_no, null);
    assert.ok(t.events.at(-1).note.includes('转出审核不通过'));
    assertProblem(await op.post(`/api/v1/city-transfers/${no}/query`), 409, { rule: 'citytransfer.state' });
  });

  test('an application needs an open account (409 naming the state), another centre (422), and well-formed fields (400)', async () => {
    assertOk(await op.post(`/api/v1/members/${grzhOf(5)}/seal`, { reason: '离职' }));
    const p = assertProblem(await apply(op, applyBody(grzhOf(5))), 409, { rule: 'account.state' });
    assert.ok(p.detail.includes('state 02 (封存)'), p.detail);
    assertProblem(await apply(op, { ...applyBody(grzhOf(0)), out_centre: CENTRE }), 422, { rule: 'citytransfer.same_centre', field: '/out_centre' });
    assertProblem(await apply(op, { ...applyBody(grzhOf(0)), out_centre: '3201' }), 400, { rule: 'citytransfer.centre', field: '/out_centre' });
    assertProblem(await apply(op, { ...applyBody(grzhOf(0)), or_acct: 'NJ 1' }), 400, { rule: 'citytransfer.or_acct', field: '/or_acct' });
    assertProblem(await apply(op, { ...applyBody(grzhOf(0)), extra: 1 }), 400, { field: '/extra' });
    assertProblem(await op.post('/api/v1/city-transfers/in', applyBody(grzhOf(0))), 400, { rule: 'idempotency.key_missing' });
    assertProblem(await op.get('/api/v1/city-transfers/3209002611159999'), 404, { rule: 'citytransfer.unknown' });
  });
});

describe(`transfer out (${STORE})`, () => {
  let grzh;
  let balance;
  test('a sealed member with money: the letter is recorded as a pending transfer.out; nothing moves before approval', async () => {
    const E = await employerWithMembers(srv, op, { wages: ['6000.00'] });
    grzh = E.members[0].member.account_no;
    const draft = assertOk(await E.agent.get(`/api/v1/employers/${E.dwzh}/remittances/draft?period=${PERIOD}`));
    await remitAndApprove(E.agent, op, E.dwzh, rosterFromDraft(draft));
    assertOk(await op.post(`/api/v1/members/${grzh}/seal`, { reason: '调往南京工作' }));
    balance = (await memberOf(grzh)).balance;
    assert.ok(fen(balance) > 0n);
    const letter = `${OTHER}2611150042`;
    const body = { account_no: grzh, contact_no: letter, in_centre: OTHER, reason: '南京中心联系函' };
    const res = await op.post('/api/v1/city-transfers/out', body, { headers: { 'Idempotency-Key': idemKey('out') } });
    assert.equal(res.status, 202, describeRes(res));
    assert.equal(res.json.kind, 'transfer.out');
    assert.equal(res.json.status, 'pending');
    assert.equal((await memberOf(grzh)).state_code, '02');
    assertProblem(await approve(op, res.json.approval_id), 409, { rule: 'approval.self_approval' });
    const ok = await approve(op2, res.json.approval_id);
    assert.equal(ok.status, 200, describeRes(ok));
    const r = ok.json.result;
    assert.equal(r.state_code, '04');
    assert.equal(r.principal, balance);
    assert.equal(fen(r.amount), fen(r.principal) + fen(r.interest));
    assert.ok(fen(r.interest) >= 0n);
    assert.match(r.voucher_no, /^V\d{14}$/);
    const m = await memberOf(grzh);
    assert.equal(m.state_code, '04');
    assert.equal(fen(m.balance), 0n);
    const t = await waitTransfer(letter, (x) => x.state_code === '00', 'confirmed 00');
    assert.equal(t.direction, 'out');
    assert.equal(t.amount, r.amount);
    const got = (await simState()).received.find((x) => x.ContactNo === letter);
    assert.ok(got, 'the BDC905 reached the platform');
    assert.equal(got.TranAmt, r.amount);
    assert.equal(got.OrAcctAmt, r.principal);
    assert.equal(got.Yinter, r.interest);
    assert.equal(got.OrAcctNo, grzh);
    assert.equal(got.PayEndDate, PERIOD.replace('-', ''));
  });

  test('a second letter for the closed account is 409 naming 04; a used letter number 409; a normal account 409 naming 01', async () => {
    const out = (body) => op.post('/api/v1/city-transfers/out', body, { headers: { 'Idempotency-Key': idemKey('out') } });
    const p = assertProblem(await out({ account_no: grzh, contact_no: `${OTHER}2611150043`, in_centre: OTHER, reason: '再次' }), 409, { rule: 'account.state' });
    assert.ok(p.detail.includes('state 04'), p.detail);
    assertProblem(await out({ account_no: grzhOf(0), contact_no: `${OTHER}2611150042`, in_centre: OTHER, reason: '重复' }), 409, { rule: 'citytransfer.letter_used' });
    const p2 = assertProblem(await out({ account_no: grzhOf(0), contact_no: `${OTHER}2611150044`, in_centre: OTHER, reason: '未封存' }), 409, { rule: 'account.state' });
    assert.ok(p2.detail.includes('state 01'), p2.detail);
    assertProblem(await out({ account_no: grzhOf(5), contact_no: `${OTHER}2611150045`, in_centre: '320200', reason: '错误中心' }), 422, { rule: 'citytransfer.contact_no' });
    assertProblem(await A.agent.post('/api/v1/city-transfers/out', {}, { headers: { 'Idempotency-Key': idemKey('out') } }), 403, { rule: 'auth.role' });
  });
});

describe(`after the run (${STORE})`, () => {
  test('hpf serve exits 0; hpf verify and hpf audit verify pass', async () => {
    await srv.stop();
  });
});
