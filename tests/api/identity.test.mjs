// Identity (issue 4): operators and agents log in with password + TOTP (RFC 6238), members with
// password + an SMS code that travels through the outbox to hpf-sim; lockout with back-off;
// a fresh second factor before money moves (step-up); password rules; idle and absolute session
// expiry; counter-terminal verdicts on the audit chain; `hpf totp` and `hpf user add-operator`.
// Contract: docs/openapi.yaml (Session, Counter) and docs/internals/identity.md.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  companyName, createEmployer, employerWithMembers, idemKey, newUscc, nextN, openMember, rosterFromDraft,
} from '../lib/fixtures.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import {
  STORE, client, demoLogin, login, loginAs, otpKey, request, runHpf, smsCode, startServer, stepUp, totpCode,
} from '../lib/server.mjs';
import { secretFromUri, step, totp } from '../lib/totp.mjs';

const LOCK_BASE_S = 2; // --lockout-base-s: the first lock lasts 2 s, then 4 s, 8 s ...
const STEP_UP_S = 3; // --session-step-up-s

let srv;
let op;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  srv = await startServer({
    sim: true,
    demo: { employers: 2, members: 4, months: 1, seed: 41 },
    args: ['--lockout-base-s', String(LOCK_BASE_S), '--session-step-up-s', String(STEP_UP_S)],
  });
  op = await loginAs(srv, 'operator');
});
after(() => srv?.stop().catch(() => {}));

const post = (body) => client(srv).post('/api/v1/session', body);

/** A fresh agent login of its own (so that locking it disturbs no other test). */
async function freshAgent() {
  const { employer, agent } = await createEmployer(op);
  return { dwzh: employer.account_no, ...agent };
}

/** A member with an online-hall login (and, unless phone is null, a mobile number). */
async function freshMember({ phone = `139${String(Date.now() % 1e8).padStart(8, '0')}` } = {}) {
  const e = await employerWithMembers(srv, op, { wages: [] });
  const m = await openMember(e.agent, e.dwzh, phone ? { phone } : {});
  const password = 'Member#2026fresh';
  const reg = await request(srv, 'POST', '/api/v1/registrations',
    { body: { id_number: m.idNumber, name: m.name, account_no: m.member.account_no, password } });
  assert.equal(reg.status, 201, describeRes(reg));
  return { username: m.idNumber, password, phone, grzh: m.member.account_no };
}

describe('operators and agents: password + TOTP', () => {
  test('the demo prints each operator and agent login with its TOTP secret', () => {
    for (const l of srv.logins.filter((x) => x.role !== 'member')) {
      assert.match(l.totp ?? '', /^[A-Z2-7]{32}$/, `20-byte base32 secret for ${l.username}`);
    }
    for (const l of srv.logins.filter((x) => x.role === 'member')) assert.equal(l.totp, undefined);
  });

  test('without a code: 401 auth.totp_required at /totp', async () => {
    const l = demoLogin(srv, 'operator');
    assertProblem(await post({ username: l.username, password: l.password }), 401,
      { rule: 'auth.totp_required', field: '/totp' });
  });

  test('a wrong code is 401 auth.bad_credentials, the same answer as a wrong password or an unknown name', async () => {
    const l = demoLogin(srv, 'operator');
    const right = totp(l.totp);
    const wrong = String((Number(right) + 500000) % 1000000).padStart(6, '0');
    const p1 = assertProblem(await post({ username: l.username, password: l.password, totp: wrong }), 401, { rule: 'auth.bad_credentials' });
    const p2 = assertProblem(await post({ username: l.username, password: `${l.password}x`, totp: right }), 401, { rule: 'auth.bad_credentials' });
    const p3 = assertProblem(await post({ username: 'nobody-totp', password: l.password, totp: right }), 401, { rule: 'auth.bad_credentials' });
    assert.deepEqual([p1.detail, p1.field], [p2.detail, p2.field]);
    assert.deepEqual([p1.detail, p1.field], [p3.detail, p3.field]);
    await loginAs(srv, 'operator'); // a success resets the operator's failure count
  });

  test('the right code: 201 with the session; a code that is not six digits is refused', async () => {
    const a = await freshAgent();
    assertProblem(await post({ username: a.username, password: a.password, totp: '12345' }), 401, { rule: 'auth.bad_credentials' });
    const c = client(srv);
    const res = await c.post('/api/v1/session', { username: a.username, password: a.password, totp: await totpCode(srv, a.username) });
    assert.equal(res.status, 201, describeRes(res));
    assert.equal(res.json.user.role, 'agent');
    assert.equal(res.json.user.employer_account_no, a.dwzh);
    assert.ok(c.cookie, 'a session cookie is set');
    assert.equal((await c.get('/api/v1/session')).status, 200);
  });

  test('a code is accepted once: the same code again, or an older one, is refused (replay)', async () => {
    const a = await freshAgent();
    const now = step();
    const older = totp(a.totp, now - 1);
    const code = totp(a.totp, now);
    assert.equal((await post({ username: a.username, password: a.password, totp: code })).status, 201);
    assertProblem(await post({ username: a.username, password: a.password, totp: code }), 401, { rule: 'auth.bad_credentials' });
    assertProblem(await post({ username: a.username, password: a.password, totp: older }), 401, { rule: 'auth.bad_credentials' });
    // The next step is still good (the window reaches one step ahead).
    assert.equal((await post({ username: a.username, password: a.password, totp: totp(a.totp, now + 1) })).status, 201);
  });

  test('the registration answer carries the agent TOTP URI once; reads of the employer do not', async () => {
    const { employer, agent } = await createEmployer(op);
    assert.match(agent.totp, /^[A-Z2-7]{32}$/);
    const again = assertOk(await op.get(`/api/v1/employers/${employer.account_no}`));
    assert.equal(again.agent, undefined);
    assert.ok(!JSON.stringify(again).includes(agent.totp));
    const stored = await srv.store.sql(`SELECT totp_secret FROM app_user WHERE username = '${agent.username}'`);
    assert.ok(stored.trim().length > 0, 'the secret is stored for the login');
  });
});

describe('lockout with back-off', () => {
  test(`5 failures lock the login: 429 auth.locked with Retry-After, even with the right password; open again after ${LOCK_BASE_S} s; audited`, async () => {
    const a = await freshAgent();
    for (let i = 1; i <= 5; i++) {
      assertProblem(await post({ username: a.username, password: `Wrong#2026x${i}`, totp: '000000' }), 401, { rule: 'auth.bad_credentials' });
    }
    const locked = await post({ username: a.username, password: a.password, totp: totp(a.totp) });
    assertProblem(locked, 429, { rule: 'auth.locked' });
    const retry = Number(locked.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= LOCK_BASE_S, `Retry-After ${locked.headers['retry-after']}`);
    const uid = (await srv.store.sql(`SELECT id FROM app_user WHERE username = '${a.username}'`)).trim();
    const audited = await srv.store.sql(`SELECT count(*) FROM audit_log WHERE kind = 'user.locked' AND ref_table = 'app_user' AND ref_id = ${uid}`);
    assert.equal(audited.trim(), '1', 'the lock is an audit event');

    await sleep(retry * 1000 + 200);
    // The lock is over, the count is not: one more failure locks again, for twice as long.
    assertProblem(await post({ username: a.username, password: 'Wrong#2026again', totp: '000000' }), 401, { rule: 'auth.bad_credentials' });
    const again = await post({ username: a.username, password: a.password, totp: totp(a.totp) });
    assertProblem(again, 429, { rule: 'auth.locked' });
    const retry2 = Number(again.headers['retry-after']);
    assert.ok(retry2 > LOCK_BASE_S && retry2 <= 2 * LOCK_BASE_S, `doubled: Retry-After ${retry2}`);
    assert.equal((await srv.store.sql(`SELECT count(*) FROM audit_log WHERE kind = 'user.locked' AND ref_id = ${uid}`)).trim(), '2');

    await sleep(retry2 * 1000 + 200);
    const ok = await login(srv, a.username, a.password);
    assert.equal(ok.user.username, a.username);
    // A success resets the count: a single failure now does not lock.
    assertProblem(await post({ username: a.username, password: 'Wrong#2026reset', totp: '000000' }), 401, { rule: 'auth.bad_credentials' });
    await login(srv, a.username, a.password);
  });

  test('a name that matches no login is throttled the same way (no hint whether it exists)', async () => {
    const name = `nobody-${process.pid}-${Date.now()}`;
    for (let i = 0; i < 5; i++) assertProblem(await post({ username: name, password: 'Wrong#2026pass' }), 401, { rule: 'auth.bad_credentials' });
    const res = await post({ username: name, password: 'Wrong#2026pass' });
    assertProblem(res, 429, { rule: 'auth.locked' });
    assert.ok(Number(res.headers['retry-after']) >= 1);
    const keys = await srv.store.sql("SELECT throttle_key FROM login_throttle WHERE throttle_key LIKE 'n:%'");
    assert.ok(!keys.includes(name), 'the typed name is not stored in clear');
  });

  test('wrong SMS codes count as failures too: the fifth locks the member login', async () => {
    const m = await freshMember();
    const first = await post({ username: m.username, password: m.password });
    assert.equal(first.status, 202, describeRes(first));
    const code = await smsCode(srv, first.json.challenge);
    const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
    for (let i = 0; i < 5; i++) {
      assertProblem(await client(srv).post('/api/v1/session/otp', { challenge: first.json.challenge, code: wrong }), 401, { rule: 'auth.otp_invalid' });
    }
    // Locked: neither the right code nor the password is looked at.
    assertProblem(await client(srv).post('/api/v1/session/otp', { challenge: first.json.challenge, code }), 429, { rule: 'auth.locked' });
    assertProblem(await post({ username: m.username, password: m.password }), 429, { rule: 'auth.locked' });
  });
});

describe('members: password, then an SMS code through the outbox and hpf-sim', () => {
  test('202 challenge -> the code arrives at the sim -> 201 session; the code works once', async () => {
    const m = await freshMember({ phone: '13812340000' });
    const c = client(srv);
    const res = await c.post('/api/v1/session', { username: m.username, password: m.password });
    assert.equal(res.status, 202, describeRes(res));
    assert.deepEqual(Object.keys(res.json).sort(), ['challenge', 'channel', 'expires_in', 'to']);
    assert.equal(res.json.channel, 'sms');
    assert.equal(res.json.to, '138****0000');
    assert.equal(res.json.expires_in, 300);
    assert.equal(c.cookie, null, 'no session before the code');
    const sms = await srv.peers.waitForMessage('13812340000', { match: (x) => x.idempotency_key === otpKey(res.json.challenge) });
    assert.equal(sms.template, 'otp');
    assert.match(sms.params.code, /^\d{6}$/);

    const wrong = String((Number(sms.params.code) + 7) % 1000000).padStart(6, '0');
    assertProblem(await c.post('/api/v1/session/otp', { challenge: res.json.challenge, code: wrong }), 401, { rule: 'auth.otp_invalid' });
    const ok = await c.post('/api/v1/session/otp', { challenge: res.json.challenge, code: sms.params.code });
    assert.equal(ok.status, 201, describeRes(ok));
    assert.equal(ok.json.user.role, 'member');
    assert.equal(ok.json.user.account_no, m.grzh);
    assert.equal(assertOk(await c.get('/api/v1/session')).user.account_no, m.grzh);
    assertProblem(await client(srv).post('/api/v1/session/otp', { challenge: res.json.challenge, code: sms.params.code }), 401, { rule: 'auth.otp_invalid' });
  });

  test('the code is kept only as a hash: neither the challenge nor the code is in otp_challenge', async () => {
    const m = await freshMember();
    const res = await post({ username: m.username, password: m.password });
    assert.equal(res.status, 202);
    const code = await smsCode(srv, res.json.challenge);
    const rows = await srv.store.sql('SELECT challenge_hash, code_hash FROM otp_challenge');
    assert.ok(!rows.includes(res.json.challenge) && !rows.includes(code), 'hashes only');
  });

  test("the access log names a member by user id, never by resident ID", async () => {
    const m = await freshMember();
    const res = await post({ username: m.username, password: m.password });
    assert.equal(res.status, 202);
    const c = client(srv);
    const ok = await c.post('/api/v1/session/otp', { challenge: res.json.challenge, code: await smsCode(srv, res.json.challenge) });
    assert.equal(ok.status, 201);
    assert.equal((await c.get('/api/v1/session')).status, 200);
    // The access line is written after the answer: wait for it.
    let lines = [];
    for (let i = 0; i < 60; i++) {
      lines = (srv.stdout() + srv.stderr()).split('\n').filter((l) => l.includes('"route"'));
      if (lines.some((l) => /"user":"member#\d+"/.test(l))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(lines.some((l) => /"user":"member#\d+"/.test(l)), 'a member line in the access log');
    assert.ok(!lines.some((l) => l.includes(m.username)), `the resident ID ${m.username} is in the access log`);
  });

  test('the SMS waits in the outbox sealed: no code, phone or challenge in clear', async () => {
    const m = await freshMember({ phone: '13812345678' });
    const res = await post({ username: m.username, password: m.password });
    assert.equal(res.status, 202);
    const code = await smsCode(srv, res.json.challenge);
    const row = await srv.store.sql(`SELECT idem_key || ' ' || payload FROM outbox WHERE idem_key = '${otpKey(res.json.challenge)}'`);
    assert.match(row, /\{"sealed":"f1\.\d+\.[A-Za-z0-9_-]+"\}/, `sealed payload: ${row}`);
    for (const secret of [code, '13812345678', res.json.challenge]) {
      assert.ok(!row.includes(secret), `${secret} in clear in the outbox row`);
    }
  });

  test('an unknown challenge is 401 auth.otp_invalid; a wrong password sends no SMS', async () => {
    assertProblem(await client(srv).post('/api/v1/session/otp', { challenge: 'x'.repeat(43), code: '123456' }), 401, { rule: 'auth.otp_invalid' });
    const m = await freshMember({ phone: '13912345678' });
    assertProblem(await post({ username: m.username, password: 'Wrong#2026member' }), 401, { rule: 'auth.bad_credentials' });
    assert.deepEqual(await srv.peers.messages('13912345678'), []);
  });

  test('a member without a mobile number on file: 403 auth.no_phone', async () => {
    const m = await freshMember({ phone: null });
    const p = assertProblem(await post({ username: m.username, password: m.password }), 403, { rule: 'auth.no_phone' });
    assert.match(p.detail, /counter/);
  });

  test('the demo member logs in through the helpers (the whole suite does)', async () => {
    const s = await loginAs(srv, 'member');
    assert.equal(s.user.role, 'member');
  });
});

describe('a fresh second factor before money moves (step-up)', () => {
  test(`a remittance ${STEP_UP_S} s after the login is 401 auth.step_up_required; after a step-up it goes through`, async () => {
    const e = await employerWithMembers(srv, op, { wages: ['6000.00'] });
    e.agent.autoStepUp = false;
    const d = assertOk(await e.agent.get(`/api/v1/employers/${e.dwzh}/remittances/draft?period=2026-11`));
    await sleep((STEP_UP_S + 1) * 1000);
    const key = idemKey('stepup');
    const stale = await e.agent.post(`/api/v1/employers/${e.dwzh}/remittances`, rosterFromDraft(d), { headers: { 'Idempotency-Key': key } });
    assertProblem(stale, 401, { rule: 'auth.step_up_required' });
    assert.equal(assertOk(await e.agent.get(`/api/v1/employers/${e.dwzh}/remittances`)).total, 0, 'nothing was posted');
    // Reads still work: the session itself is alive.
    assert.equal((await e.agent.get('/api/v1/session')).status, 200);

    assertProblem(await e.agent.post('/api/v1/session/step-up', {}), 401, { rule: 'auth.totp_required', field: '/totp' });
    assertProblem(await e.agent.post('/api/v1/session/step-up', { totp: '000000' }), 401, { rule: 'auth.bad_credentials' });
    const up = await stepUp(e.agent);
    const now = Date.now() / 1000;
    assert.ok(up.json.fresh_until >= now + STEP_UP_S - 2 && up.json.fresh_until <= now + STEP_UP_S + 2, `fresh_until ${up.json.fresh_until}`);
    const posted = await e.agent.post(`/api/v1/employers/${e.dwzh}/remittances`, rosterFromDraft(d), { headers: { 'Idempotency-Key': key } });
    // Posted, or handed to a checker (maker-checker): either way past the step-up check.
    assert.ok([201, 202].includes(posted.status), describeRes(posted));
  });

  test('a step-up needs the session: without a cookie 401 auth.required, without CSRF 403', async () => {
    assertProblem(await client(srv).post('/api/v1/session/step-up', { totp: '123456' }), 401, { rule: 'auth.required' });
    const a = await login(srv, (await freshAgent()).username, 'Agent#2026pass');
    assertProblem(await a.post('/api/v1/session/step-up', { totp: '123456' }, { csrf: false }), 403, { rule: 'csrf.missing' });
  });

  test('a member steps up by SMS; the step-up code belongs to that session only', async () => {
    const m = await freshMember();
    const s = await login(srv, m.username, m.password);
    const res = await s.post('/api/v1/session/step-up', {});
    assert.equal(res.status, 202, describeRes(res));
    assert.equal(res.json.channel, 'sms');
    const code = await smsCode(srv, res.json.challenge);
    // Another session of the same member, or no session, cannot use it.
    const other = await login(srv, m.username, m.password);
    assertProblem(await other.post('/api/v1/session/otp', { challenge: res.json.challenge, code }), 401, { rule: 'auth.otp_invalid' });
    assertProblem(await client(srv).post('/api/v1/session/otp', { challenge: res.json.challenge, code }), 401, { rule: 'auth.otp_invalid' });
    const ok = await s.post('/api/v1/session/otp', { challenge: res.json.challenge, code });
    assert.equal(ok.status, 200, describeRes(ok));
    assert.ok(ok.json.fresh_until > Date.now() / 1000);
    assert.equal(ok.headers['set-cookie'], undefined, 'the session stays the same');
  });
});

describe('password rules', () => {
  test('too short, too few classes, or containing the username: 400 password.weak saying what is missing', async () => {
    const cases = [
      ['agent-pw1', 'Ab#1', /10 to 128/],
      ['agent-pw2', 'alllowercase', /missing: upper-case, digit, symbol/],
      ['agent-pw3', 'xx-AGENT-PW3#2026', /username/],
    ];
    for (const [username, password, why] of cases) {
      const n = nextN();
      const res = await op.post('/api/v1/employers', {
        name: companyName(n), uscc: newUscc(n), unit_ratio_bp: 1200, indiv_ratio_bp: 1200,
        agent: { username, password, name: '王芳' },
      });
      const p = assertProblem(res, 400, { rule: 'password.weak', field: '/agent/password' });
      assert.match(p.detail, why);
    }
  });
});

describe('counter-terminal verdicts', () => {
  const sha = 'ab'.repeat(32);
  const caseRef = `W-${process.pid}-${Date.now()}`;

  test('an operator records id_card, face and e-licence verdicts: 201 {id, recorded_at}; each is on the audit chain', async () => {
    const bodies = [
      { case_ref: caseRef, kind: 'id_card', result: 'pass', device_id: 'reader-07', evidence_sha256: sha },
      { case_ref: caseRef, kind: 'face', result: 'fail', device_id: 'cam-02', evidence_sha256: sha.toUpperCase(), score: 41 },
      { case_ref: caseRef, kind: 'elicence', result: 'pass', device_id: 'qr-01', licence_id: 'EL-3209-000123' },
    ];
    const ids = [];
    for (const b of bodies) {
      const res = await op.post('/api/v1/counter/verdicts', b);
      assert.equal(res.status, 201, describeRes(res));
      assert.deepEqual(Object.keys(res.json).sort(), ['id', 'recorded_at']);
      assert.match(res.json.recorded_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      ids.push(res.json.id);
    }
    const list = assertOk(await op.get(`/api/v1/counter/verdicts?case_ref=${caseRef}`));
    assert.equal(list.total, 3);
    assert.deepEqual(list.items.map((v) => v.id), ids);
    assert.equal(list.items[1].score, 41);
    assert.equal(list.items[1].evidence_sha256, sha, 'stored lower-case');
    assert.equal(list.items[2].licence_id, 'EL-3209-000123');
    assert.equal(list.items[0].operator, demoLogin(srv, 'operator').username);
    const audited = await srv.store.sql(`SELECT count(*) FROM audit_log WHERE kind = 'identity.verdict' AND ref_table = 'identity_verdict' AND ref_id IN (${ids.join(',')})`);
    assert.equal(audited.trim(), '3');
    const payload = await srv.store.sql(`SELECT payload FROM audit_log WHERE kind = 'identity.verdict' AND ref_id = ${ids[1]}`);
    assert.match(payload, new RegExp(`^verdict/1\\|${caseRef}\\|face\\|fail\\|cam-02\\|${sha}\\|\\|41\\|`));
  });

  test('the same Idempotency-Key replays (200), with other content is 409', async () => {
    const key = idemKey('verdict');
    const b = { case_ref: `${caseRef}-i`, kind: 'id_card', result: 'pass', device_id: 'reader-07', evidence_sha256: sha };
    const first = await op.post('/api/v1/counter/verdicts', b, { headers: { 'Idempotency-Key': key } });
    assert.equal(first.status, 201, describeRes(first));
    const again = await op.post('/api/v1/counter/verdicts', b, { headers: { 'Idempotency-Key': key } });
    assert.equal(again.status, 200, describeRes(again));
    assert.deepEqual(again.json, first.json);
    assertProblem(await op.post('/api/v1/counter/verdicts', { ...b, result: 'fail' }, { headers: { 'Idempotency-Key': key } }), 409, { rule: 'idempotency.key_reused' });
    assert.equal(assertOk(await op.get(`/api/v1/counter/verdicts?case_ref=${caseRef}-i`)).total, 1);
  });

  test('malformed verdicts are 400 with the field and a verdict.* rule', async () => {
    const base = { case_ref: caseRef, kind: 'face', result: 'pass', device_id: 'cam-02', evidence_sha256: sha };
    const cases = [
      [{ ...base, kind: 'iris' }, '/kind', 'verdict.kind'],
      [{ ...base, result: 'maybe' }, '/result', 'verdict.result'],
      [{ ...base, evidence_sha256: 'abc' }, '/evidence_sha256', 'verdict.evidence'],
      [{ ...base, kind: 'id_card', score: 90 }, '/score', 'verdict.score'],
      [{ ...base, score: 101 }, '/score', 'json.range'],
      [{ ...base, case_ref: 'bad ref' }, '/case_ref', 'verdict.case_ref'],
      [{ ...base, kind: 'elicence' }, '/evidence_sha256', 'verdict.evidence'],
      [{ case_ref: caseRef, kind: 'elicence', result: 'pass', device_id: 'qr-01' }, '/licence_id', 'verdict.licence_id'],
      [{ ...base, device_id: '' }, '/device_id', 'verdict.device_id'],
    ];
    for (const [body, field, rule] of cases) {
      assertProblem(await op.post('/api/v1/counter/verdicts', body), 400, { field, rule });
    }
    assertProblem(await op.get('/api/v1/counter/verdicts'), 400, { field: 'case_ref' });
  });

  test('agents and members may not record or read verdicts (403 auth.role)', async () => {
    const agent = await loginAs(srv, 'agent');
    assertProblem(await agent.post('/api/v1/counter/verdicts', { case_ref: caseRef, kind: 'id_card', result: 'pass', device_id: 'x', evidence_sha256: sha }), 403, { rule: 'auth.role' });
    assertProblem(await agent.get(`/api/v1/counter/verdicts?case_ref=${caseRef}`), 403, { rule: 'auth.role' });
  });
});

describe('the command line', () => {
  test('hpf totp SECRET prints the current code', async () => {
    const l = demoLogin(srv, 'operator');
    const before = step();
    const r = await runHpf(['totp', l.totp]);
    assert.equal(r.code, 0, r.stderr);
    const want = [before, step()].map((s) => totp(l.totp, s));
    assert.ok(want.includes(r.stdout.trim()), `${r.stdout.trim()} in ${want}`);
    assert.equal((await runHpf(['totp', 'not base32!'])).code, 2);
  });

  test('hpf user add-operator prints the otpauth URI once; the operator logs in with it', async () => {
    const name = `op-${process.pid}-${Date.now() % 100000}`;
    const r = await runHpf(['user', 'add-operator', '--username', name, ...srv.store.args], { input: 'Counter#2026other\n' });
    assert.equal(r.code, 0, r.stderr);
    const uri = /^otpauth:\/\/totp\/\S+$/m.exec(r.stdout)?.[0];
    assert.ok(uri, r.stdout);
    assert.match(uri, /[?&]issuer=HPF(&|$)/);
    assert.match(uri, /[?&]algorithm=SHA1(&|$)/);
    assert.match(uri, /[?&]digits=6(&|$)/);
    assert.match(uri, /[?&]period=30(&|$)/);
    const s = await login(srv, name, 'Counter#2026other', { totp: secretFromUri(uri) });
    assert.equal(s.user.role, 'operator');
  });
});

describe(`session expiry (${STORE})`, () => {
  let short;
  before(async () => {
    short = await startServer({ demo: { employers: 1, members: 1, months: 0, seed: 42 }, args: ['--session-idle-s', '2', '--session-max-s', '5'] });
  });
  after(() => short?.stop().catch(() => {}));

  test('idle logout: a session unused for longer than session_idle_s is 401 auth.required', async () => {
    const s = await loginAs(short, 'operator');
    assert.equal((await s.get('/api/v1/session')).status, 200);
    await sleep(3200);
    assertProblem(await s.get('/api/v1/session'), 401, { rule: 'auth.required' });
  });

  test('absolute expiry: a session in steady use ends after session_max_s', async () => {
    const s = await loginAs(short, 'agent');
    const end = Date.now() + 6500;
    let last;
    while (Date.now() < end) {
      last = await s.get('/api/v1/session');
      if (last.status !== 200) break;
      await sleep(1000);
    }
    assertProblem(last, 401, { rule: 'auth.required' });
  });
});

test('hpf serve exits 0 on SIGTERM (no sanitizer report, no leak)', async () => {
  await srv.stop();
});
