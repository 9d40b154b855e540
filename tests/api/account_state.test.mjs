// The personal account state machine (issue 5 item 3; RULES §1.5, §1.6; docs/internals/accounts.md):
// 封存 / 启封 / 冻结 / 解冻 / 内部转移 through the API, with their roles and scopes, the 409 that names
// the state for every forbidden transition, the deposit path asking the same table (a sealed
// member refused in a roster, a frozen one accepted), the history, and the audit chain: `hpf
// verify` and `hpf audit verify` pass afterwards, and a state forged in the database is caught.
// Runs on the store of HPF_TEST_STORE. Contract: docs/openapi.yaml "Account states".

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { approve, employerWithMembers, idemKey, newIdNumber, rosterFromDraft, submitRemittance } from '../lib/fixtures.mjs';
import { fen, yuan } from '../lib/money.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import { BUSINESS_DATE, STORE, createStore, forgedCopy, login, loginAs, populate, runHpf, startServer } from '../lib/server.mjs';

const PERIOD = BUSINESS_DATE.slice(0, 7);

let store; // this file's own: forged copies are made of it after the server stopped
let srv;
let op; // the centre's operator
let opJ; // op-jianhu, an operator of branch 01
let admin;
let member; // the demo member (of a demo employer)
let A; // employer A (branch 00) with four members and its agent
let B; // employer B (branch 00) and its agent
const forgedStores = [];

/** Log in with the demo login of that username. */
function loginNamed(username) {
  const l = srv.logins.find((x) => x.username === username);
  assert.ok(l, `hpf demo printed a login for ${username}`);
  return login(srv, l.username, l.password, { totp: l.totp });
}

const post = (sess, grzh, action, body) => sess.post(`/api/v1/members/${grzh}/${action}`, body);
const memberOf = async (grzh) => assertOk(await op.get(`/api/v1/members/${grzh}`));
const historyOf = async (grzh, sess = op) => assertOk(await sess.get(`/api/v1/members/${grzh}/history`));
const grzhOf = (i) => A.members[i].member.account_no;

/** The request changes nothing: the member's state, employer and history stay as they were. */
async function changesNothing(grzh, fn) {
  const m0 = await memberOf(grzh);
  const h0 = (await historyOf(grzh)).total;
  await fn();
  const m1 = await memberOf(grzh);
  assert.equal(m1.state_code, m0.state_code, 'the refused request changed the state');
  assert.equal(m1.employer_account_no, m0.employer_account_no, 'the refused request moved the member');
  assert.equal((await historyOf(grzh)).total, h0, 'the refused request wrote a history row');
}

/** The 409 of a forbidden transition: rule account.state, the detail naming the state. */
function assertStateConflict(res, code, name) {
  const p = assertProblem(res, 409, { rule: 'account.state' });
  assert.ok(p.detail.includes(`state ${code} (${name})`), `the detail names state ${code}: ${describeRes(res)}`);
  return p;
}

before(async () => {
  store = await createStore({ tag: 'acct' });
  await populate(store, { demo: { employers: 5, members: 10, months: 1, seed: 31 } });
  srv = await startServer({ store, sim: true }); // sim: the member's SMS code
  op = await loginAs(srv, 'operator');
  opJ = await loginNamed('op-jianhu');
  admin = await loginAs(srv, 'admin');
  member = await loginAs(srv, 'member');
  A = await employerWithMembers(srv, op, { wages: ['6543.21', '5000.00', '4800.00', '7200.00'] });
  B = await employerWithMembers(srv, op, { wages: ['5100.00'] });
});
after(async () => {
  await srv?.stop().catch(() => {});
  for (const s of forgedStores) await s.drop().catch(() => {});
  await store?.drop();
});

describe(`封存 and 启封 (${STORE})`, () => {
  test("the employer's agent seals a member: 200, state 02, one history row naming the business and the actor", async () => {
    const res = await post(A.agent, grzhOf(0), 'seal', { reason: '劳动合同于2026-11-10解除' });
    const o = assertOk(res);
    assert.equal(o.account_no, grzhOf(0));
    assert.equal(o.state_code, '02');
    assert.equal(o.employer_account_no, A.dwzh);
    assert.deepEqual(
      { business: o.change.business, code: o.change.business_code, name: o.change.business_name, from: o.change.from_state_code, to: o.change.to_state_code },
      { business: 'seal', code: '05', name: '封存', from: '01', to: '02' },
    );
    assert.equal(o.change.reason, '劳动合同于2026-11-10解除');
    assert.equal(o.change.business_date, BUSINESS_DATE);
    assert.equal(o.change.actor, A.agentLogin.username);
    assert.equal(o.change.actor_role, 'agent');
    const m = await memberOf(grzhOf(0));
    assert.equal(m.state, 'sealed');
    assert.equal(m.state_code, '02');
    const h = await historyOf(grzhOf(0));
    assert.equal(h.total, 1);
    assert.equal(h.items[0].id, o.change.id);
  });

  test('a second seal is a 409 naming state 02 and writes no second history row', async () => {
    await changesNothing(grzhOf(0), async () => {
      assertStateConflict(await post(A.agent, grzhOf(0), 'seal', { reason: '重复提交' }), '02', '封存');
      assertStateConflict(await post(op, grzhOf(0), 'seal', { reason: '重复提交' }), '02', '封存');
    });
  });

  test('a seal needs a reason: missing, blank, too long, with control characters or unknown fields are 400 naming the field', async () => {
    await changesNothing(grzhOf(1), async () => {
      assertProblem(await post(A.agent, grzhOf(1), 'seal', {}), 400, { rule: 'json.required', field: '/reason' });
      assertProblem(await post(A.agent, grzhOf(1), 'seal', undefined), 400, { rule: 'json.required', field: '/reason' });
      assertProblem(await post(A.agent, grzhOf(1), 'seal', { reason: '   ' }), 400, { rule: 'account.reason', field: '/reason' });
      assertProblem(await post(A.agent, grzhOf(1), 'seal', { reason: 'x'.repeat(201) }), 400, { rule: 'account.reason', field: '/reason' });
      assertProblem(await post(A.agent, grzhOf(1), 'seal', { reason: '离职\n' }), 400, { rule: 'account.reason', field: '/reason' });
      assertProblem(await post(A.agent, grzhOf(1), 'seal', { reason: 7 }), 400, { rule: 'json.type', field: '/reason' });
      assertProblem(await post(A.agent, grzhOf(1), 'seal', { reason: '离职', state: '02' }), 400, { rule: 'json.unknown_field', field: '/state' });
    });
  });

  test('who may seal: a member and an administrator are 403; an agent of another employer 403 as for no account; a branch operator of another branch 404', async () => {
    await changesNothing(grzhOf(1), async () => {
      assertProblem(await post(member, member.user.account_no, 'seal', { reason: '离职' }), 403, { rule: 'auth.role' });
      assertProblem(await post(member, grzhOf(1), 'seal', { reason: '离职' }), 403, { rule: 'auth.role' });
      assertProblem(await post(admin, grzhOf(1), 'seal', { reason: '离职' }), 403, { rule: 'auth.role' });
      const other = await post(B.agent, grzhOf(1), 'seal', { reason: '离职' });
      assertProblem(other, 403, { rule: 'scope.own_employer' });
      const ghost = await post(B.agent, '320900000000999990', 'seal', { reason: '离职' });
      assertProblem(ghost, 403, { rule: 'scope.own_employer' });
      assert.equal(other.json.detail, ghost.json.detail, 'no oracle: the same answer for an account elsewhere and for none');
      const branch = await post(opJ, grzhOf(1), 'seal', { reason: '离职' });
      assertProblem(branch, 404);
      assert.equal(branch.json.rule, undefined, describeRes(branch));
      assertProblem(await post(op, '320900000000999990', 'seal', { reason: '离职' }), 404);
    });
  });

  test('unseal of a normal account is a 409 naming state 01', async () => {
    await changesNothing(grzhOf(1), async () => {
      assertStateConflict(await post(A.agent, grzhOf(1), 'unseal', {}), '01', '正常');
    });
  });
});

describe(`冻结 and 解冻 (${STORE})`, () => {
  test('an operator freezes a member with a court order: 200, state 06, the order in the history', async () => {
    const o = assertOk(await post(op, grzhOf(1), 'freeze', { reason: '法院协助冻结', order_ref: '(2026)苏0902执保123号' }));
    assert.equal(o.state_code, '06');
    assert.equal(o.change.business, 'freeze');
    assert.equal(o.change.business_code, '14');
    assert.equal(o.change.order_ref, '(2026)苏0902执保123号');
    assert.equal(o.change.actor_role, 'operator');
    assert.equal((await memberOf(grzhOf(1))).state, 'frozen');
  });

  test('freeze and unfreeze are for operators; a freeze needs its order; a frozen account refuses every other business with 409 naming 06', async () => {
    await changesNothing(grzhOf(1), async () => {
      assertProblem(await post(A.agent, grzhOf(1), 'unfreeze', { reason: '解除' }), 403, { rule: 'auth.role' });
      assertProblem(await post(A.agent, grzhOf(2), 'freeze', { reason: '冻结', order_ref: 'X1' }), 403, { rule: 'auth.role' });
      assertProblem(await post(op, grzhOf(2), 'freeze', { reason: '冻结' }), 400, { rule: 'json.required', field: '/order_ref' });
      assertProblem(await post(op, grzhOf(2), 'freeze', { reason: '冻结', order_ref: '' }), 400, { rule: 'account.order_ref', field: '/order_ref' });
      assertProblem(await post(op, grzhOf(2), 'freeze', { order_ref: '(2026)苏0902执1号' }), 400, { rule: 'json.required', field: '/reason' });
      assertStateConflict(await post(op, grzhOf(1), 'freeze', { reason: '再次冻结', order_ref: '(2026)苏0902执保124号' }), '06', '冻结');
      assertStateConflict(await post(A.agent, grzhOf(1), 'seal', { reason: '离职' }), '06', '冻结');
      assertStateConflict(await post(op, grzhOf(1), 'unseal', {}), '06', '冻结');
      assertStateConflict(await post(op, grzhOf(1), 'transfer', { to_employer: B.dwzh }), '06', '冻结');
    });
    assertStateConflict(await post(op, grzhOf(2), 'unfreeze', { reason: '未冻结' }), '01', '正常');
  });
});

describe(`the deposit path asks the same table (${STORE})`, () => {
  let draft;

  test('the draft roster leaves the sealed member out and keeps the frozen one', async () => {
    draft = assertOk(await A.agent.get(`/api/v1/employers/${A.dwzh}/remittances/draft?period=${PERIOD}`));
    const accounts = draft.rows.map((r) => r.account_no);
    assert.ok(!accounts.includes(grzhOf(0)), 'the sealed member is not in the draft');
    assert.ok(accounts.includes(grzhOf(1)), 'the frozen member is in the draft');
    assert.equal(accounts.length, 3);
  });

  test('a roster that includes the sealed member is refused (422 remittance.member_state naming 02), nothing stored', async () => {
    const sealed = assertOk(await op.get(`/api/v1/employers/${A.dwzh}/members`)).items.find((m) => m.account_no === grzhOf(0));
    const first = draft.rows[0];
    const row = { account_no: sealed.account_no, name: sealed.name, unit: first.unit, individual: first.individual };
    const body = rosterFromDraft(draft);
    body.rows = [...body.rows, row];
    body.total = yuan(fen(draft.total) + fen(row.unit) + fen(row.individual));
    const before1 = assertOk(await op.get('/api/v1/approvals?status=pending&limit=200')).total;
    const res = await submitRemittance(A.agent, A.dwzh, body, idemKey('sealed'));
    const p = assertProblem(res, 422, { rule: 'remittance.member_state', field: `/rows/${body.rows.length - 1}/account_no` });
    assert.ok(p.detail.includes('state 02 (封存)'), describeRes(res));
    assert.equal(assertOk(await op.get('/api/v1/approvals?status=pending&limit=200')).total, before1, 'no request stored');
  });

  test('a roster with the frozen member posts: the frozen account receives its deposit', async () => {
    const before1 = (await memberOf(grzhOf(1))).balance;
    const sub = await submitRemittance(A.agent, A.dwzh, rosterFromDraft(draft), idemKey('frozen'));
    assert.equal(sub.status, 202, describeRes(sub));
    const ok = await approve(op, sub.json.approval_id);
    assert.equal(ok.status, 200, describeRes(ok));
    const row = draft.rows.find((r) => r.account_no === grzhOf(1));
    const after1 = await memberOf(grzhOf(1));
    assert.equal(fen(after1.balance) - fen(before1), fen(row.unit) + fen(row.individual));
    assert.equal(after1.state_code, '06', 'still frozen');
    assert.equal((await memberOf(grzhOf(0))).balance, '0.00', 'the sealed member received nothing');
  });

  test('unfreeze returns to 01; a freeze of a sealed account returns to 02 on unfreeze', async () => {
    const o = assertOk(await post(op, grzhOf(1), 'unfreeze', { reason: '(2026)苏0902执保123号之一 解除冻结' }));
    assert.deepEqual([o.change.from_state_code, o.change.to_state_code, o.change.business], ['06', '01', 'unfreeze']);
    assertOk(await post(A.agent, grzhOf(2), 'seal', { reason: '离职' }));
    assert.equal(assertOk(await post(op, grzhOf(2), 'freeze', { reason: '协助冻结', order_ref: 'GA-2026-0042' })).state_code, '06');
    const back = assertOk(await post(op, grzhOf(2), 'unfreeze', { reason: '撤销' }));
    assert.deepEqual([back.change.from_state_code, back.change.to_state_code], ['06', '02']);
    assert.equal((await memberOf(grzhOf(2))).state, 'sealed');
  });

  test('the agent unseals the sealed member (a POST without a body): back to 01, and into the draft', async () => {
    const o = assertOk(await post(A.agent, grzhOf(0), 'unseal', undefined));
    assert.deepEqual([o.change.business, o.change.from_state_code, o.change.to_state_code], ['unseal', '02', '01']);
    assert.equal(o.change.reason, null);
    assertStateConflict(await post(A.agent, grzhOf(0), 'unseal', {}), '01', '正常');
    const d = assertOk(await A.agent.get(`/api/v1/employers/${A.dwzh}/remittances/draft?period=${PERIOD}`));
    assert.ok(d.rows.some((r) => r.account_no === grzhOf(0)));
  });
});

describe(`内部转移 (${STORE})`, () => {
  test("the new employer's agent takes over a sealed account with the member's resident ID: same number, same balance, state 01, in B's list", async () => {
    const grzh = grzhOf(2);
    const before1 = await memberOf(grzh);
    assert.equal(before1.state_code, '02');
    assert.notEqual(before1.balance, '0.00', 'the account carries a balance');
    const countA = assertOk(await op.get(`/api/v1/employers/${A.dwzh}`)).members;
    const countB = assertOk(await op.get(`/api/v1/employers/${B.dwzh}`)).members;
    const o = assertOk(await post(B.agent, grzh, 'transfer', { to_employer: B.dwzh, id_number: A.members[2].idNumber, reason: '入职新单位' }));
    assert.equal(o.account_no, grzh);
    assert.equal(o.state_code, '01');
    assert.equal(o.employer_account_no, B.dwzh);
    assert.deepEqual([o.change.business, o.change.business_code, o.change.from_state_code, o.change.to_state_code], ['transfer', '06', '02', '01']);
    assert.deepEqual([o.change.from_employer_account_no, o.change.to_employer_account_no], [A.dwzh, B.dwzh]);
    const m = await memberOf(grzh);
    assert.equal(m.account_no, grzh);
    assert.equal(m.balance, before1.balance, 'the balance stays on the account');
    assert.equal(m.paid_through, before1.paid_through);
    assert.equal(m.employer_account_no, B.dwzh);
    assert.equal(m.state, 'normal');
    const listB = assertOk(await B.agent.get(`/api/v1/employers/${B.dwzh}/members?limit=200`)).items.map((x) => x.account_no);
    const listA = assertOk(await A.agent.get(`/api/v1/employers/${A.dwzh}/members?limit=200`)).items.map((x) => x.account_no);
    assert.ok(listB.includes(grzh) && !listA.includes(grzh));
    assert.equal(assertOk(await op.get(`/api/v1/employers/${A.dwzh}`)).members, countA - 1);
    assert.equal(assertOk(await op.get(`/api/v1/employers/${B.dwzh}`)).members, countB + 1);
    // The history moved with it: the old statement's postings are the account's, read by the new agent.
    const st = assertOk(await B.agent.get(`/api/v1/members/${grzh}/statement`));
    assert.ok(st.items.length >= 1 && st.closing_balance === before1.balance, describeRes({ status: 200, text: JSON.stringify(st) }));
    assertProblem(await A.agent.get(`/api/v1/members/${grzh}`), 403, { rule: 'scope.own_employer' });
    const h = await historyOf(grzh, B.agent);
    assert.deepEqual(h.items.map((x) => x.business), ['transfer', 'unfreeze', 'freeze', 'seal'], 'newest first');
  });

  test("the new employer's agent: needs the resident ID, the right one, its own employer, and a sealed account", async () => {
    await changesNothing(grzhOf(3), async () => {
      assertProblem(await post(B.agent, grzhOf(3), 'transfer', { to_employer: B.dwzh }), 400, { rule: 'json.required', field: '/id_number' });
      const wrong = await post(B.agent, grzhOf(3), 'transfer', { to_employer: B.dwzh, id_number: newIdNumber() });
      assertProblem(wrong, 403, { rule: 'account.identity_mismatch', field: '/id_number' });
      const ghost = await post(B.agent, '320900000000999990', 'transfer', { to_employer: B.dwzh, id_number: A.members[3].idNumber });
      assertProblem(ghost, 403, { rule: 'account.identity_mismatch' });
      assert.equal(wrong.json.detail, ghost.json.detail, 'no oracle');
      assertProblem(await post(B.agent, grzhOf(3), 'transfer', { to_employer: A.dwzh, id_number: A.members[3].idNumber }), 403, { rule: 'scope.own_employer', field: '/to_employer' });
      const live = await post(B.agent, grzhOf(3), 'transfer', { to_employer: B.dwzh, id_number: A.members[3].idNumber });
      const p = assertProblem(live, 409, { rule: 'account.not_sealed' });
      assert.ok(p.detail.includes('state 01 (正常)'), describeRes(live));
      assertProblem(await post(member, grzhOf(3), 'transfer', { to_employer: B.dwzh }), 403, { rule: 'auth.role' });
    });
  });

  test('an operator moves a normal account to another employer (a plain change of employer), keeping number and balance', async () => {
    const grzh = grzhOf(3);
    const before1 = await memberOf(grzh);
    assert.notEqual(before1.balance, '0.00');
    await changesNothing(grzh, async () => {
      assertProblem(await post(op, grzh, 'transfer', { to_employer: A.dwzh }), 409, { rule: 'account.same_employer', field: '/to_employer' });
      assertProblem(await post(op, grzh, 'transfer', { to_employer: '320900009999999990' }), 422, { rule: 'account.employer_unknown', field: '/to_employer' });
      assertProblem(await post(op, grzh, 'transfer', {}), 400, { rule: 'json.required', field: '/to_employer' });
      assertProblem(await post(op, grzh, 'transfer', { to_employer: B.dwzh, id_number: newIdNumber() }), 403, { rule: 'account.identity_mismatch' });
      assertProblem(await post(opJ, grzh, 'transfer', { to_employer: B.dwzh }), 404);
    });
    const o = assertOk(await post(op, grzh, 'transfer', { to_employer: B.dwzh }));
    assert.deepEqual([o.change.from_state_code, o.change.to_state_code, o.employer_account_no], ['01', '01', B.dwzh]);
    const m = await memberOf(grzh);
    assert.equal(m.balance, before1.balance);
    assert.equal(m.employer_account_no, B.dwzh);
  });

  test("a branch operator gets 404 for another branch's member, and sees its own branch's", async () => {
    // A and B are of branch 00; op-jianhu works for branch 01 (the demo's second employer).
    await changesNothing(grzhOf(0), async () => {
      for (const [action, body] of [['transfer', { to_employer: A.dwzh }], ['freeze', { reason: '冻结', order_ref: 'X-1' }],
        ['seal', { reason: '离职' }], ['unseal', {}]]) {
        const res = await post(opJ, grzhOf(0), action, body);
        assertProblem(res, 404);
        assert.ok(!res.text.includes(A.dwzh), describeRes(res));
      }
      assertProblem(await opJ.get(`/api/v1/members/${grzhOf(0)}/history`), 404);
    });
    // Its own branch's member: sealed and unsealed by op-jianhu; a target of another branch is unknown to it.
    const emps = assertOk(await opJ.get('/api/v1/employers?limit=200')).items;
    const own = assertOk(await opJ.get(`/api/v1/employers/${emps[0].account_no}/members?limit=1`)).items[0];
    assertOk(await post(opJ, own.account_no, 'seal', { reason: '离职' }));
    assertProblem(await post(opJ, own.account_no, 'transfer', { to_employer: B.dwzh }), 422, { rule: 'account.employer_unknown', field: '/to_employer' });
    assertOk(await post(opJ, own.account_no, 'unseal', {}));
  });
});

describe(`the history (${STORE})`, () => {
  test('newest first, paged; the member reads their own; others as their scopes allow', async () => {
    const h = await historyOf(grzhOf(0));
    assert.deepEqual(h.items.map((x) => x.business), ['unseal', 'seal']);
    assert.equal(h.account_no, grzhOf(0));
    assert.ok(h.items[0].id > h.items[1].id);
    const page = assertOk(await op.get(`/api/v1/members/${grzhOf(0)}/history?limit=1&offset=1`));
    assert.deepEqual([page.total, page.items.length, page.items[0].business], [2, 1, 'seal']);
    // The demo member's own account: sealed and unsealed by its agent, read by the member, who
    // sees the role that acted but not the login name.
    const demoAgent = await loginAs(srv, 'agent');
    assert.equal(demoAgent.user.employer_account_no, (await memberOf(member.user.account_no)).employer_account_no);
    assertOk(await post(demoAgent, member.user.account_no, 'seal', { reason: '离职' }));
    assertOk(await post(demoAgent, member.user.account_no, 'unseal', {}));
    const own = assertOk(await member.get(`/api/v1/members/${member.user.account_no}/history`));
    assert.deepEqual(own.items.map((x) => [x.business, x.actor, x.actor_role]), [['unseal', null, 'agent'], ['seal', null, 'agent']]);
    assert.equal((await historyOf(member.user.account_no)).items[0].actor, demoAgent.user.username, 'the operator sees who');
    assertProblem(await member.get(`/api/v1/members/${grzhOf(0)}/history`), 403, { rule: 'scope.own_account' });
    assertProblem(await B.agent.get(`/api/v1/members/${grzhOf(0)}/history`), 403, { rule: 'scope.own_employer' });
    assertProblem(await admin.get(`/api/v1/members/${grzhOf(0)}/history`), 403, { rule: 'auth.role' });
    assertProblem(await op.get('/api/v1/members/320900000000999990/history'), 404);
  });

  test('every state change is one member.state_changed audit entry, and the history rows cannot be changed', async () => {
    const rows = Number((await store.sql('SELECT count(*) FROM member_state_history')).trim());
    const entries = Number((await store.sql("SELECT count(*) FROM audit_log WHERE kind = 'member.state_changed'")).trim());
    assert.ok(rows >= 10, `${rows} history rows`);
    assert.equal(entries, rows);
    for (const sql of ["UPDATE member_state_history SET to_state = '01'", 'DELETE FROM member_state_history']) {
      await assert.rejects(store.sql(sql), /immutable/, `${sql} was not refused`);
    }
  });
});

describe(`after the run (${STORE})`, () => {
  test('hpf serve exits 0; hpf verify and hpf audit verify pass', async () => {
    await srv.stop(); // runs both verifiers and throws unless they exit 0
  });

  test("a member's state forged in the database is caught by hpf audit verify", async () => {
    const id = Number((await store.sql(`SELECT id FROM member WHERE account_no = '${grzhOf(0)}'`)).trim());
    const args = await forgedCopy(store, forgedStores, 'state', `UPDATE member SET state = '02' WHERE id = ${id};`);
    const r = await runHpf(['audit', 'verify', ...args]);
    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^hpf audit verify: FAILED: entry seq \\d+ \\(member\\.state_changed\\): member ${grzhOf(0)} \\(id ${id}\\) differs from its audited record in state: audited '01', now '02'`));
    // And a member moved to another employer behind the chain's back.
    const moved = await forgedCopy(store, forgedStores, 'employer', `UPDATE member SET employer_id = (SELECT id FROM employer WHERE account_no = '${A.dwzh}') WHERE account_no = '${grzhOf(3)}';`);
    const r2 = await runHpf(['audit', 'verify', ...moved]);
    assert.equal(r2.code, 1, `${r2.stdout}${r2.stderr}`);
    assert.match(r2.stderr, new RegExp(`member ${grzhOf(3)} \\(id \\d+\\) differs from its audited record in employer: audited '${B.dwzh}', now '${A.dwzh}'`));
  });
});
