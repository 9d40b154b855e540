// Administrators (docs/internals/identity.md "Roles and scopes"): they log in with password and
// TOTP like operators, create operator logins (the TOTP secret is answered once), disable and
// enable operators' and agents' logins (disabling ends the sessions; the next login is 401
// auth.disabled), list operators, and nothing else: every business route answers them 403
// auth.role, taken from the route table. They cannot disable themselves. Every action is on the
// audit chain, and `hpf audit verify` holds afterwards. `hpf user add-admin` makes the first one.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createEmployer, idemKey } from '../lib/fixtures.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import { secretFromUri } from '../lib/totp.mjs';
import { login, loginAs, request, rememberTotp, runHpf, startServer, STORE, totpCode } from '../lib/server.mjs';

let srv;
let admin;
let op;
const made = { username: 'op-binhai', password: 'Counter#2026binhai', name: '滨海管理部柜员', branch: '02' };
const madeBody = { ...made }; // what POST /api/v1/operators was sent (made gains the TOTP secret)

/** A login attempt that is not expected to succeed: the raw answer. */
async function tryLogin(username, password, secret) {
  return request(srv, 'POST', '/api/v1/session', { body: { username, password, totp: await totpCode(srv, username, secret) } });
}

const sql = async (text) => (await srv.store.sql(text)).trim();

before(async () => {
  srv = await startServer({ demo: { employers: 1, members: 2, months: 1, seed: 31 } });
  admin = await loginAs(srv, 'admin');
  op = await loginAs(srv, 'operator');
});
after(() => srv?.stop().catch(() => {}));

describe(`administrators manage logins (${STORE})`, () => {
  test('the demo administrator logs in with password and TOTP: role admin', () => {
    assert.equal(admin.user.role, 'admin');
    assert.equal(admin.user.username, 'admin');
  });

  test('POST /api/v1/operators: 201 with the TOTP URI once; the new operator logs in with it', async () => {
    const res = await admin.post('/api/v1/operators', madeBody);
    assert.equal(res.status, 201, describeRes(res));
    assert.equal(res.json.username, made.username);
    assert.equal(res.json.role, 'operator');
    assert.equal(res.json.branch, '02');
    assert.equal(res.json.disabled, false);
    assert.match(res.json.totp_uri, /^otpauth:\/\/totp\/HPF:op-binhai\?secret=[A-Z2-7]{32}&/);
    made.totp = secretFromUri(res.json.totp_uri);
    rememberTotp(srv, made.username, made.totp);
    const s = await login(srv, made.username, made.password);
    assert.equal(s.user.role, 'operator');
    assert.equal(s.user.branch, '02');
    // The secret is not answered again anywhere: not in the list.
    const list = assertOk(await admin.get('/api/v1/operators?limit=200'));
    assert.ok(!JSON.stringify(list).includes(made.totp), 'the list carries no TOTP secret');
  });

  test('a second operator of the same name is 409; a bad branch 400; an operator may not create one (403)', async () => {
    assertProblem(await admin.post('/api/v1/operators', madeBody), 409, { rule: 'user.username_taken', field: '/username' });
    assertProblem(await admin.post('/api/v1/operators', { ...madeBody, username: 'op-nowhere', branch: '77' }), 400, { rule: 'branch.unknown', field: '/branch' });
    assertProblem(await admin.post('/api/v1/operators', { ...madeBody, username: 'op-weak', password: 'short' }), 400, { rule: 'password.weak' });
    assertProblem(await op.post('/api/v1/operators', { ...madeBody, username: 'op-byop' }), 403, { rule: 'auth.role' });
  });

  test('GET /api/v1/operators lists the operators with their branch and state', async () => {
    const list = assertOk(await admin.get('/api/v1/operators?limit=200'));
    const by = Object.fromEntries(list.items.map((x) => [x.username, x]));
    assert.equal(by.operator?.branch, null, 'the demo operator works for the whole centre');
    assert.equal(by['op-jianhu']?.branch, '01');
    assert.equal(by[made.username]?.branch, '02');
    assert.ok(list.items.every((x) => x.role === 'operator'));
    assert.equal(list.total, list.items.length);
  });

  test('disable ends the sessions and refuses the login with auth.disabled; enable restores it', async () => {
    const s = await login(srv, made.username, made.password);
    assertOk(await s.get('/api/v1/session'));
    const off = await admin.post(`/api/v1/users/${made.username}/disable`);
    assert.equal(off.status, 200, describeRes(off));
    assert.equal(off.json.disabled, true);
    assert.ok(off.json.sessions_ended >= 1, `the sessions ended: ${describeRes(off)}`);
    assertProblem(await s.get('/api/v1/session'), 401, { rule: 'auth.required' });
    assertProblem(await tryLogin(made.username, made.password, made.totp), 401, { rule: 'auth.disabled' });
    // Twice is no error and ends nothing more.
    const again = assertOk(await admin.post(`/api/v1/users/${made.username}/disable`));
    assert.equal(again.sessions_ended, 0);
    const on = assertOk(await admin.post(`/api/v1/users/${made.username}/enable`));
    assert.equal(on.disabled, false);
    const back = await login(srv, made.username, made.password);
    assert.equal(back.user.username, made.username);
  });

  test("an agent's login is disabled and enabled the same way", async () => {
    const e = await createEmployer(op);
    const s = await login(srv, e.agent.username, e.agent.password);
    assertOk(await admin.post(`/api/v1/users/${e.agent.username}/disable`));
    assertProblem(await s.get('/api/v1/session'), 401, { rule: 'auth.required' });
    assertProblem(await tryLogin(e.agent.username, e.agent.password, e.agent.totp), 401, { rule: 'auth.disabled' });
    assertOk(await admin.post(`/api/v1/users/${e.agent.username}/enable`));
    await login(srv, e.agent.username, e.agent.password);
  });

  test('an administrator cannot disable themself (409); an unknown login is 404; an operator gets 403', async () => {
    assertProblem(await admin.post('/api/v1/users/admin/disable'), 409, { rule: 'user.self_disable' });
    assertProblem(await admin.post('/api/v1/users/nobody-here/disable'), 404, { rule: 'user.unknown' });
    assertProblem(await op.post(`/api/v1/users/${made.username}/disable`), 403, { rule: 'auth.role' });
    assertOk(await admin.get('/api/v1/session'));
  });

  test('every administration route flagged fresh-factor refuses a second factor older than the step-up window', async () => {
    const listed = await runHpf(['routes']);
    const fresh = listed.stdout.trim().split('\n').filter((l) => / admin fresh-factor$/.test(l)).map((l) => l.split(' ').slice(0, 2));
    assert.deepEqual(fresh.map((x) => x.join(' ')).sort(),
      ['POST /api/v1/operators', 'POST /api/v1/users/{username}/disable', 'POST /api/v1/users/{username}/enable']);
    await srv.store.sql("UPDATE session SET factor_at = factor_at - 3600 WHERE user_id = (SELECT id FROM app_user WHERE username = 'admin')");
    for (const [method, pattern] of fresh) {
      const path = pattern.replace('{username}', made.username);
      const body = pattern === '/api/v1/operators' ? { ...madeBody, username: 'op-stale' } : undefined;
      assertProblem(await admin.request(method, path, body, { stepUp: false }), 401, { rule: 'auth.step_up_required' });
    }
    assert.equal(await sql("SELECT count(*) FROM app_user WHERE username = 'op-stale'"), '0', 'nothing was created');
    assert.equal(assertOk(await admin.get('/api/v1/operators?limit=200')).items.find((x) => x.username === made.username).disabled, false);
  });

  test('every business route of `hpf routes` answers the administrator 403 auth.role', async () => {
    const listed = await runHpf(['routes']);
    assert.equal(listed.code, 0, listed.stderr);
    let n = 0;
    for (const line of listed.stdout.trim().split('\n')) {
      const [method, pattern, roles] = line.trim().split(' ');
      if (roles === 'public' || roles.split(',').includes('admin')) continue;
      // The role check comes before anything about the path or the body.
      const path = pattern.replace(/\{[^}]+\}/g, '320900010000000012');
      const write = method !== 'GET';
      const res = await request(srv, method, path, {
        body: write ? {} : undefined,
        headers: { cookie: `hpf_session=${admin.cookie}`, ...(write ? { 'x-csrf-token': admin.csrf, 'idempotency-key': idemKey('adm') } : {}) },
      });
      assertProblem(res, 403, { rule: 'auth.role' });
      n++;
    }
    assert.ok(n >= 15, `${n} business routes checked`);
  });

  test('the audit chain names the administrator; hpf audit verify passes', async () => {
    const adminId = await sql("SELECT id FROM app_user WHERE username = 'admin'");
    const opId = await sql(`SELECT id FROM app_user WHERE username = '${made.username}'`);
    const rows = (await sql(`SELECT kind, actor FROM audit_log WHERE ref_table = 'app_user' AND ref_id = ${opId}`
      + " AND kind IN ('user.created', 'user.disabled', 'user.enabled') ORDER BY seq")).split('\n');
    assert.deepEqual(rows, [`user.created|${adminId}`, `user.disabled|${adminId}`, `user.enabled|${adminId}`]);
    const ended = await sql(`SELECT count(*) FROM audit_log WHERE kind = 'session.expired' AND ref_id = ${opId} AND actor = ${adminId}`);
    assert.ok(Number(ended) >= 1, 'the ended session is on the chain, by the administrator');
    const r = await runHpf(['audit', 'verify', ...srv.store.args]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });

  test('hpf user add-admin prints the TOTP URI once; the administrator logs in with it', async () => {
    const r = await runHpf(['user', 'add-admin', '--username', 'admin2', '--name', '第二管理员', ...srv.store.args], { input: 'Manage#2026second\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /administrator admin2 created/);
    const uri = /^otpauth:\/\/totp\/\S+$/m.exec(r.stdout)?.[0];
    assert.ok(uri, r.stdout);
    const s = await login(srv, 'admin2', 'Manage#2026second', { totp: secretFromUri(uri) });
    assert.equal(s.user.role, 'admin');
    // One administrator does not disable another over the API.
    assertProblem(await admin.post('/api/v1/users/admin2/disable'), 404, { rule: 'user.unknown' });
  });
});

test('hpf serve exits 0 on SIGTERM (no sanitizer report, no leak)', async () => {
  await srv.stop();
});
