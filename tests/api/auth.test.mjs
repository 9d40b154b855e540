// Sessions, CSRF, roles and scope. Contract: docs/openapi.yaml "Session", "Errors" (auth.*,
// csrf.*, scope.*), and the role named on each route.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createEmployer, newUscc, companyName, nextN } from '../lib/fixtures.mjs';
import { maskId, mod112Check, mod112Valid } from '../lib/ids.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import { client, demoLogin, login, loginAs, startServer } from '../lib/server.mjs';

let srv;
let op; // operator session
let agent; // agent of the first demo employer
let member; // a member of the first demo employer
let memberB; // another member (account object, as the operator sees it)
let otherDwzh; // an employer the agent does not belong to

before(async () => {
  srv = await startServer({ demo: { employers: 2, members: 3, months: 1, seed: 7 }, sim: true }); // sim: members' SMS codes
  op = await loginAs(srv, 'operator');
  agent = await loginAs(srv, 'agent');
  member = await loginAs(srv, 'member');
  const list = await op.get('/api/v1/employers?offset=0&limit=50');
  assert.equal(list.status, 200, describeRes(list));
  const other = list.json.items.find((e) => e.account_no !== agent.user.employer_account_no);
  assert.ok(other, `the demo has a second employer: ${list.text}`);
  otherDwzh = other.account_no;
  for (const e of list.json.items) {
    const ms = await op.get(`/api/v1/employers/${e.account_no}/members?offset=0&limit=50`);
    assert.equal(ms.status, 200, describeRes(ms));
    memberB = memberB ?? ms.json.items.find((m) => m.account_no !== member.user.account_no);
  }
  assert.ok(memberB, 'the demo has a second member');
});
after(() => srv?.stop().catch(() => {}));

function cookieAttributes(res) {
  const cookies = [].concat(res.headers['set-cookie'] || []);
  const c = cookies.find((x) => /^\s*hpf_session=/.test(x));
  assert.ok(c, `Set-Cookie hpf_session in ${JSON.stringify(cookies)}`);
  const [pair, ...attrs] = c.split(';').map((s) => s.trim());
  const map = {};
  for (const a of attrs) {
    const i = a.indexOf('=');
    map[(i < 0 ? a : a.slice(0, i)).toLowerCase()] = i < 0 ? true : a.slice(i + 1);
  }
  return { value: pair.slice(pair.indexOf('=') + 1), attrs: map, raw: c };
}

describe('login', () => {
  test('the operator logs in: 200 with user and csrf_token', () => {
    const body = op.loginResponse.json;
    assert.equal(body.user.role, 'operator');
    assert.equal(body.user.username, demoLogin(srv, 'operator').username);
    assert.equal(typeof body.user.name, 'string');
    assert.ok(body.user.name.length > 0);
    assert.equal(body.user.account_no ?? null, null, 'account_no is for members only');
    assert.equal(body.user.employer_account_no ?? null, null, 'employer_account_no is for agents only');
    assert.equal(typeof body.csrf_token, 'string');
    assert.ok(body.csrf_token.length >= 16, 'csrf_token is long enough to be unguessable');
  });

  test('the session cookie is hpf_session; Path=/; HttpOnly; Secure; SameSite=Strict', () => {
    const { value, attrs, raw } = cookieAttributes(op.loginResponse);
    assert.ok(value.length >= 16, `cookie value looks unguessable: ${raw}`);
    assert.equal(attrs.path, '/', raw);
    assert.equal(attrs.httponly, true, raw);
    assert.equal(attrs.secure, true, raw);
    assert.equal(String(attrs.samesite).toLowerCase(), 'strict', raw);
    assert.notEqual(value, op.csrf, 'the CSRF token is not the session cookie');
  });

  test('an agent logs in with the employer account number', () => {
    assert.equal(agent.user.role, 'agent');
    assert.ok(mod112Valid(agent.user.employer_account_no), `DWZH ${agent.user.employer_account_no}`);
    assert.equal(agent.user.account_no ?? null, null);
  });

  test("a member's username is their resident id number; the session names their account", () => {
    assert.equal(member.user.role, 'member');
    assert.ok(mod112Valid(member.user.username), `username ${member.user.username} is a valid id number`);
    assert.ok(mod112Valid(member.user.account_no), `GRZH ${member.user.account_no}`);
    assert.equal(member.user.employer_account_no ?? null, null);
  });

  test('a wrong password is 401 auth.bad_credentials and sets no session cookie', async () => {
    const l = demoLogin(srv, 'operator');
    const res = await client(srv).post('/api/v1/session', { username: l.username, password: `${l.password}x` });
    assertProblem(res, 401, { rule: 'auth.bad_credentials' });
    const cookies = [].concat(res.headers['set-cookie'] || []);
    assert.ok(!cookies.some((c) => /^hpf_session=[^;]+/.test(c) && !/max-age=0/i.test(c)), `no session: ${cookies}`);
  });

  test('an unknown user gets the same 401 as a wrong password (no account enumeration)', async () => {
    const l = demoLogin(srv, 'agent');
    const bad = await client(srv).post('/api/v1/session', { username: l.username, password: 'Wrong#2026pass' });
    const unknown = await client(srv).post('/api/v1/session', { username: 'nobody-here', password: 'Wrong#2026pass' });
    const p1 = assertProblem(bad, 401, { rule: 'auth.bad_credentials' });
    const p2 = assertProblem(unknown, 401, { rule: 'auth.bad_credentials' });
    assert.equal(p1.title, p2.title);
    assert.equal(p1.detail, p2.detail);
  });
});

describe('session', () => {
  test('GET /api/v1/session returns the same user and csrf_token as the login', async () => {
    const body = assertOk(await op.get('/api/v1/session'));
    assert.deepEqual(body, op.loginResponse.json);
  });

  test('GET /api/v1/session without a cookie is 401 auth.required', async () => {
    assertProblem(await client(srv).get('/api/v1/session'), 401, { rule: 'auth.required' });
  });

  test('a forged session cookie is 401 auth.required', async () => {
    const forged = client(srv, { cookie: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    assertProblem(await forged.get('/api/v1/session'), 401, { rule: 'auth.required' });
  });

  test('DELETE /api/v1/session without X-CSRF-Token is 403 csrf.missing and the session lives on', async () => {
    const s = await loginAs(srv, 'agent');
    assertProblem(await s.del('/api/v1/session', undefined, { csrf: false }), 403, { rule: 'csrf.missing' });
    assert.equal((await s.get('/api/v1/session')).status, 200);
  });

  test('logout: 204, the cookie is cleared, and the old cookie no longer works', async () => {
    const s = await loginAs(srv, 'agent');
    const oldCookie = s.cookie;
    const res = await s.del('/api/v1/session');
    assert.equal(res.status, 204, describeRes(res));
    const { value, attrs, raw } = cookieAttributes(res);
    const expired = value === '' || attrs['max-age'] === '0' || (attrs.expires && Date.parse(attrs.expires) < Date.now());
    assert.ok(expired, `the cookie is cleared: ${raw}`);
    const replay = client(srv, { cookie: oldCookie });
    assertProblem(await replay.get('/api/v1/session'), 401, { rule: 'auth.required' });
  });
});

describe('CSRF on writes', () => {
  function employerBody() {
    const n = nextN();
    return {
      name: companyName(n),
      uscc: newUscc(n),
      unit_ratio_bp: 1200,
      indiv_ratio_bp: 1200,
      agent: { username: `agent-csrf${n}`, password: 'Agent#2026pass', name: '王芳' },
    };
  }
  async function employerTotal() {
    const r = await op.get('/api/v1/employers?offset=0&limit=1');
    assert.equal(r.status, 200, describeRes(r));
    return r.json.total;
  }

  test('a write without X-CSRF-Token is 403 csrf.missing and writes nothing', async () => {
    const total = await employerTotal();
    const body = employerBody();
    assertProblem(await op.post('/api/v1/employers', body, { csrf: false }), 403, { rule: 'csrf.missing' });
    assert.equal(await employerTotal(), total);
    // the same employer can still be registered: nothing of it was kept
    assert.equal((await op.post('/api/v1/employers', body)).status, 201);
  });

  test('a wrong X-CSRF-Token is 403 csrf.mismatch and writes nothing', async () => {
    const total = await employerTotal();
    const res = await op.post('/api/v1/employers', employerBody(), { csrf: `${op.csrf}x` });
    assertProblem(res, 403, { rule: 'csrf.mismatch' });
    assert.equal(await employerTotal(), total);
  });

  test("another session's CSRF token is 403 csrf.mismatch", async () => {
    const op2 = await loginAs(srv, 'operator');
    assert.notEqual(op2.csrf, op.csrf, 'each session has its own CSRF token');
    const total = await employerTotal();
    assertProblem(await op.post('/api/v1/employers', employerBody(), { csrf: op2.csrf }), 403, { rule: 'csrf.mismatch' });
    assert.equal(await employerTotal(), total);
  });
});

describe('unauthenticated', () => {
  for (const [method, path] of [
    ['GET', '/api/v1/employers?offset=0&limit=50'],
    ['GET', '/api/v1/policy'],
    ['POST', '/api/v1/employers'],
  ]) {
    test(`${method} ${path} without a session is 401 auth.required`, async () => {
      const body = method === 'POST' ? { name: '盐城示例科技有限公司' } : undefined;
      assertProblem(await client(srv).request(method, path, body), 401, { rule: 'auth.required' });
    });
  }

  test('member and employer reads without a session are 401 auth.required', async () => {
    const anon = client(srv);
    assertProblem(await anon.get(`/api/v1/members/${member.user.account_no}`), 401, { rule: 'auth.required' });
    assertProblem(await anon.get(`/api/v1/employers/${agent.user.employer_account_no}`), 401, { rule: 'auth.required' });
    assertProblem(await anon.get(`/api/v1/employers/${agent.user.employer_account_no}/members`), 401, { rule: 'auth.required' });
  });
});

describe('roles', () => {
  test('a member may not register an employer: 403 auth.role, nothing written', async () => {
    const n = nextN();
    const before1 = (await op.get('/api/v1/employers?offset=0&limit=1')).json.total;
    const res = await member.post('/api/v1/employers', {
      name: companyName(n), uscc: newUscc(n), unit_ratio_bp: 1200, indiv_ratio_bp: 1200,
      agent: { username: `agent-role${n}`, password: 'Agent#2026pass', name: '王芳' },
    });
    assertProblem(res, 403, { rule: 'auth.role' });
    assert.equal((await op.get('/api/v1/employers?offset=0&limit=1')).json.total, before1);
  });

  test('an agent may not register an employer: 403 auth.role', async () => {
    const n = nextN();
    const res = await agent.post('/api/v1/employers', {
      name: companyName(n), uscc: newUscc(n), unit_ratio_bp: 1200, indiv_ratio_bp: 1200,
      agent: { username: `agent-role${n}`, password: 'Agent#2026pass', name: '王芳' },
    });
    assertProblem(res, 403, { rule: 'auth.role' });
  });

  test('only the operator lists all employers: agent and member get 403 auth.role', async () => {
    assertProblem(await agent.get('/api/v1/employers?offset=0&limit=50'), 403, { rule: 'auth.role' });
    assertProblem(await member.get('/api/v1/employers?offset=0&limit=50'), 403, { rule: 'auth.role' });
  });

  test('a member may not read an employer record: 403 auth.role', async () => {
    assertProblem(await member.get(`/api/v1/employers/${agent.user.employer_account_no}`), 403, { rule: 'auth.role' });
  });

  test('every role reads the policy in force', async () => {
    for (const s of [op, agent, member]) {
      const p = assertOk(await s.get('/api/v1/policy'));
      assert.equal(typeof p.version, 'number');
    }
  });
});

describe('scope', () => {
  test('an agent reads its own employer and members', async () => {
    const dwzh = agent.user.employer_account_no;
    const e = assertOk(await agent.get(`/api/v1/employers/${dwzh}`));
    assert.equal(e.account_no, dwzh);
    const ms = assertOk(await agent.get(`/api/v1/employers/${dwzh}/members?offset=0&limit=50`));
    assert.ok(ms.items.some((m) => m.account_no === member.user.account_no), 'the demo member is listed');
  });

  test("an agent reading another employer, its members or its draft gets 403 scope.own_employer", async () => {
    assertProblem(await agent.get(`/api/v1/employers/${otherDwzh}`), 403, { rule: 'scope.own_employer' });
    assertProblem(await agent.get(`/api/v1/employers/${otherDwzh}/members?offset=0&limit=50`), 403, { rule: 'scope.own_employer' });
    assertProblem(await agent.get(`/api/v1/employers/${otherDwzh}/remittances/draft?period=2026-11`), 403, { rule: 'scope.own_employer' });
    assertProblem(await agent.get(`/api/v1/employers/${otherDwzh}/remittances?offset=0&limit=50`), 403, { rule: 'scope.own_employer' });
  });

  test("an agent may not open a member at another employer: 403 scope.own_employer, nothing written", async () => {
    const before1 = (await op.get(`/api/v1/employers/${otherDwzh}/members?offset=0&limit=1`)).json.total;
    const res = await agent.post(`/api/v1/employers/${otherDwzh}/members`, { name: '张三', id_number: '11010519491231002X', wage: '6543.21' });
    assertProblem(res, 403, { rule: 'scope.own_employer' });
    assert.equal((await op.get(`/api/v1/employers/${otherDwzh}/members?offset=0&limit=1`)).json.total, before1);
  });

  test("an agent reading a member of another employer gets 403 scope.own_employer", async () => {
    const ms = await op.get(`/api/v1/employers/${otherDwzh}/members?offset=0&limit=50`);
    const stranger = ms.json.items[0];
    assert.ok(stranger, 'the other demo employer has a member');
    assertProblem(await agent.get(`/api/v1/members/${stranger.account_no}`), 403, { rule: 'scope.own_employer' });
  });

  test('a member reads their own account, with the id number masked', async () => {
    const m = assertOk(await member.get(`/api/v1/members/${member.user.account_no}`));
    assert.equal(m.account_no, member.user.account_no);
    assert.equal(m.id_number, maskId(member.user.username));
    const st = assertOk(await member.get(`/api/v1/members/${member.user.account_no}/statement?from=2026-01-01&to=2026-11-15`));
    assert.equal(st.account_no, member.user.account_no);
  });

  test("member A reading member B's account or statement gets 403 scope.own_account", async () => {
    assertProblem(await member.get(`/api/v1/members/${memberB.account_no}`), 403, { rule: 'scope.own_account' });
    assertProblem(await member.get(`/api/v1/members/${memberB.account_no}/statement?from=2026-01-01&to=2026-11-15`), 403, { rule: 'scope.own_account' });
  });

  test('a member probing an account number that does not exist gets the same 403 (no enumeration)', async () => {
    const body = '32090099999999999';
    assertProblem(await member.get(`/api/v1/members/${body}${mod112Check(body)}`), 403, { rule: 'scope.own_account' });
  });

  test('the operator reading an account that does not exist gets 404', async () => {
    const body = '32090099999999999';
    assertProblem(await op.get(`/api/v1/members/${body}${mod112Check(body)}`), 404);
    const ebody = '32090199999999999';
    assertProblem(await op.get(`/api/v1/employers/${ebody}${mod112Check(ebody)}`), 404);
  });

  test('an agent registered with a new employer sees only that employer', async () => {
    const { employer, agent: a } = await createEmployer(op, { unitBp: 1200 });
    const s = await login(srv, a.username, a.password);
    assert.equal(s.user.role, 'agent');
    assert.equal(s.user.employer_account_no, employer.account_no);
    assert.equal(s.user.name, a.name);
    assertOk(await s.get(`/api/v1/employers/${employer.account_no}`));
    assertProblem(await s.get(`/api/v1/employers/${agent.user.employer_account_no}`), 403, { rule: 'scope.own_employer' });
  });
});

test('hpf serve exits 0 on SIGTERM (no sanitizer report, no leak)', async () => {
  await srv.stop();
});
