// Test data made through the public API: employers with their agent, members with fresh valid ids.
// Every value is new within one server (a counter per test process; each test file has its own
// server), and realistic: Chinese names, 盐城 area codes, valid check characters.

import assert from 'node:assert/strict';
import { describeRes } from './problem.mjs';
import { idNumber, mod112Check, orgCodeCheck, usccCheck } from './ids.mjs';
import { login, rememberTotp } from './server.mjs';
import { secretFromUri } from './totp.mjs';

let seq = 0;
export function nextN() {
  seq += 1;
  return seq;
}

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '胡', '朱', '高'];
const GIVEN = ['芳', '伟', '娜', '敏', '静', '强', '磊', '洋', '艳', '勇', '军', '杰', '娟', '涛', '明'];
const TRADES = ['科技', '机械', '纺织', '汽车零部件', '新能源', '物流', '建材', '食品', '电子', '环保'];
const PLACES = ['盐城', '东台', '大丰', '建湖', '射阳', '阜宁', '滨海', '响水'];

export function chineseName(n) {
  return SURNAMES[n % SURNAMES.length] + GIVEN[(n * 7) % GIVEN.length] + (n % 3 === 0 ? GIVEN[(n * 3) % GIVEN.length] : '');
}

export function companyName(n) {
  return `${PLACES[n % PLACES.length]}市${TRADES[n % TRADES.length]}测试${n}号有限公司`;
}

/** A valid USCC whose embedded organisation code ("TE" + 6 digits) is valid too. */
export function newUscc(n = nextN()) {
  const org8 = `TE${String(n).padStart(6, '0')}`;
  const first17 = `91320900${org8}${orgCodeCheck(org8)}`;
  return first17 + usccCheck(first17);
}

/** A valid resident id number from 东台 (320981), born 1970..1999. */
export function newIdNumber(n = nextN()) {
  const y = 1970 + (n % 30);
  const m = String((n % 12) + 1).padStart(2, '0');
  const d = String((n % 28) + 1).padStart(2, '0');
  return idNumber(`${y}${m}${d}`, 100 + (n % 800), '320981');
}

/** A valid id number ending in X (for the upper-casing check). */
export function newIdNumberEndingX() {
  for (;;) {
    const n = nextN();
    const id = newIdNumber(n);
    if (id.endsWith('X')) return id;
  }
}

export { mod112Check };

/**
 * POST /api/v1/employers as `op` (an operator session). Asserts 201. Returns
 * {employer, agent: {username, password, name, totp}, body} (totp: the agent's TOTP secret from
 * the answer's agent.totp_uri, also remembered for login() on op's server). `employer` is the
 * answer without its one-time agent part.
 */
export async function createEmployer(op, { unitBp = 1200, indivBp = unitBp, n = nextN() } = {}) {
  const agent = { username: `agent-t${n}`, password: 'Agent#2026pass', name: chineseName(n + 5) };
  const body = { name: companyName(n), uscc: newUscc(n), unit_ratio_bp: unitBp, indiv_ratio_bp: indivBp, agent };
  const res = await op.post('/api/v1/employers', body);
  assert.equal(res.status, 201, `create employer: ${describeRes(res)}`);
  const { agent: issued, ...employer } = res.json;
  const secret = secretFromUri(issued?.totp_uri);
  rememberTotp(op.srv, agent.username, secret);
  return { employer, agent: { ...agent, totp: secret }, body };
}

/** POST /api/v1/employers/{dwzh}/members. Asserts 201. Returns {member, idNumber, name, wage}. */
export async function openMember(sess, dwzh, { wage = '6543.21', idNumber: id = newIdNumber(), name, phone } = {}) {
  const n = nextN();
  const body = { name: name ?? chineseName(n), id_number: id, wage };
  if (phone !== undefined) body.phone = phone;
  const res = await sess.post(`/api/v1/employers/${dwzh}/members`, body);
  assert.equal(res.status, 201, `open member: ${describeRes(res)}`);
  return { member: res.json, idNumber: id, name: body.name, wage };
}

/**
 * A fresh employer (ratios unitBp/indivBp) with one member per wage, and its agent logged in.
 * Returns {employer, dwzh, agent (session), agentLogin, members: [{member, idNumber, name, wage}]}.
 */
export async function employerWithMembers(srv, op, { unitBp = 1200, indivBp = unitBp, wages = ['6543.21'] } = {}) {
  const { employer, agent: agentLogin } = await createEmployer(op, { unitBp, indivBp });
  const agent = await login(srv, agentLogin.username, agentLogin.password);
  const members = [];
  for (const wage of wages) members.push(await openMember(agent, employer.account_no, { wage }));
  return { employer, dwzh: employer.account_no, agent, agentLogin, members };
}

/** A fresh idempotency key (8..64 of A-Za-z0-9_-). */
export function idemKey(tag = 'k') {
  return `t-${tag}-${process.pid}-${nextN()}-${Date.now().toString(36)}`.slice(0, 64);
}

/** The roster body for POST .../remittances from a draft. */
export function rosterFromDraft(draft) {
  return {
    period: draft.period,
    total: draft.total,
    rows: draft.rows.map((r) => ({ account_no: r.account_no, name: r.name, unit: r.unit, individual: r.individual })),
  };
}

// ---- remittances under maker-checker (docs/internals/approval.md) ----------------------------
// POST .../remittances stores the roster as a pending approval (202); it is posted when another
// login with scope (an operator; another agent of the employer) approves it.

/** POST /api/v1/employers/{dwzh}/remittances as `sess` (not asserted): the submit. */
export function submitRemittance(sess, dwzh, body, key = idemKey('sub'), opts = {}) {
  return sess.post(`/api/v1/employers/${dwzh}/remittances`, body, { ...opts, headers: { 'Idempotency-Key': key, ...(opts.headers ?? {}) } });
}

/** POST /api/v1/approvals/{id}/approve as `sess` (not asserted). */
export function approve(sess, id, opts) {
  return sess.post(`/api/v1/approvals/${id}/approve`, undefined, opts);
}

/**
 * Post a month the maker-checker way: `maker` submits the roster (202, or 200 for a key it used
 * before) and `checker`, another login with scope, approves it (200). Asserts both. Resolves
 * {receipt, approval, submitted, approved}: receipt is the posted remittance (the approval's
 * result, the body POST .../remittances answered before maker-checker); approved is null when
 * the key's request was approved already.
 */
export async function remitAndApprove(maker, checker, dwzh, body, { key = idemKey('ra') } = {}) {
  const submitted = await submitRemittance(maker, dwzh, body, key);
  assert.ok(submitted.status === 202 || submitted.status === 200, `submit remittance: ${describeRes(submitted)}`);
  let approval = submitted.json;
  let approved = null;
  if (approval.status === 'pending') {
    approved = await approve(checker, approval.approval_id);
    assert.equal(approved.status, 200, `approve remittance ${approval.approval_id}: ${describeRes(approved)}`);
    approval = approved.json;
  }
  assert.equal(approval.status, 'approved', `remittance ${approval.approval_id} is ${approval.status}`);
  return { receipt: approval.result, approval, submitted, approved };
}
