// Employer registration (单位开户) and the request rules every JSON write shares.
// Contract: docs/openapi.yaml "Employers" and "Errors"; ids: shared/domain/RULES.md §10.2.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { companyName, createEmployer, newUscc, nextN } from '../lib/fixtures.mjs';
import { mod112Valid } from '../lib/ids.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import { BUSINESS_DATE, demoLogin, login, loginAs, rememberTotp, request, startServer } from '../lib/server.mjs';
import { secretFromUri } from '../lib/totp.mjs';

let srv;
let op;
let policy;

before(async () => {
  srv = await startServer({ demo: { employers: 1, members: 2, months: 1, seed: 3 } });
  op = await loginAs(srv, 'operator');
  policy = assertOk(await op.get('/api/v1/policy'));
});
after(() => srv?.stop().catch(() => {}));

function body(over = {}) {
  const n = nextN();
  return {
    name: companyName(n),
    uscc: newUscc(n),
    unit_ratio_bp: 1200,
    indiv_ratio_bp: 1200,
    agent: { username: `agent-e${n}`, password: 'Agent#2026pass', name: '王芳' },
    ...over,
  };
}

async function total() {
  const r = await op.get('/api/v1/employers?offset=0&limit=1');
  assert.equal(r.status, 200, describeRes(r));
  return r.json.total;
}

/** Run `fn` (which must fail) and prove the employer count did not move. */
async function writesNothing(fn) {
  const t = await total();
  await fn();
  assert.equal(await total(), t, 'the failed request wrote an employer');
}

const EMPLOYER_FIELDS = ['account_no', 'name', 'uscc', 'unit_ratio_bp', 'indiv_ratio_bp', 'state', 'opened_on', 'members', 'paid_through'];

describe('registration', () => {
  let created;
  let sent;

  test('a valid employer (USCC 9135052155323005XL) is registered: 201 with the employer object', async () => {
    const t = await total();
    sent = body({ name: '盐城示例科技有限公司', uscc: '9135052155323005XL' });
    const res = await op.post('/api/v1/employers', sent);
    const { agent: issued, ...employer } = assertOk(res, 201);
    created = employer;
    // The agent's TOTP secret, shown this once (docs/internals/identity.md).
    assert.equal(issued.username, sent.agent.username);
    assert.match(issued.totp_uri, /^otpauth:\/\/totp\/HPF:[^?]+\?secret=[A-Z2-7]{32}&issuer=HPF&algorithm=SHA1&digits=6&period=30$/);
    rememberTotp(srv, sent.agent.username, secretFromUri(issued.totp_uri));
    for (const k of EMPLOYER_FIELDS) assert.ok(k in created, `field ${k} in ${res.text}`);
    assert.ok(mod112Valid(created.account_no), `DWZH ${created.account_no} ends in its MOD 11-2 check character`);
    assert.equal(created.name, sent.name);
    assert.equal(created.uscc, sent.uscc);
    assert.equal(created.unit_ratio_bp, 1200);
    assert.equal(created.indiv_ratio_bp, 1200);
    assert.equal(created.state, 'normal');
    assert.equal(created.opened_on, BUSINESS_DATE, 'opened on the business date');
    assert.equal(created.members, 0);
    assert.equal(created.paid_through, null);
    assert.equal(await total(), t + 1);
  });

  test('GET /api/v1/employers/{dwzh} returns the same object, and the list contains it', async () => {
    assert.deepEqual(assertOk(await op.get(`/api/v1/employers/${created.account_no}`)), created);
    const list = assertOk(await op.get('/api/v1/employers?offset=0&limit=50'));
    assert.ok(list.items.some((e) => e.account_no === created.account_no));
    assert.equal(typeof list.total, 'number');
  });

  test("the employer's agent can log in and is bound to it", async () => {
    const s = await login(srv, sent.agent.username, sent.agent.password);
    assert.equal(s.user.role, 'agent');
    assert.equal(s.user.employer_account_no, created.account_no);
  });

  test('the second valid USCC vector 91350100M000100Y43 is accepted at 8%/8%', async () => {
    const e = assertOk(await op.post('/api/v1/employers', body({ uscc: '91350100M000100Y43', unit_ratio_bp: 800, indiv_ratio_bp: 800 })), 201);
    assert.equal(e.unit_ratio_bp, 800);
    assert.equal(e.indiv_ratio_bp, 800);
  });

  test('the policy bounds themselves are accepted (min and max ratio)', async () => {
    const lo = await op.post('/api/v1/employers', body({ unit_ratio_bp: policy.unit_ratio_min_bp, indiv_ratio_bp: policy.indiv_ratio_min_bp }));
    assertOk(lo, 201);
    const hi = await op.post('/api/v1/employers', body({ unit_ratio_bp: policy.unit_ratio_max_bp, indiv_ratio_bp: policy.indiv_ratio_max_bp }));
    assertOk(hi, 201);
  });

  test('Content-Type application/json; charset=utf-8 is application/json', async () => {
    const res = await op.post('/api/v1/employers', body(), { headers: { 'content-type': 'application/json; charset=utf-8' } });
    assertOk(res, 201);
  });

  test('a duplicate USCC is 409 employer.uscc_unique and writes nothing', async () => {
    await writesNothing(async () => {
      assertProblem(await op.post('/api/v1/employers', body({ uscc: '9135052155323005XL' })), 409, { rule: 'employer.uscc_unique' });
    });
  });

  test('a taken agent username is 409 user.username_taken and writes nothing, not even the employer', async () => {
    const b = body({ agent: { username: demoLogin(srv, 'agent').username, password: 'Agent#2026pass', name: '李娜' } });
    await writesNothing(async () => {
      assertProblem(await op.post('/api/v1/employers', b), 409, { rule: 'user.username_taken' });
    });
    // the USCC is still free: the failed registration left no employer behind
    const retry = await op.post('/api/v1/employers', { ...b, agent: { ...b.agent, username: `agent-retry${nextN()}` } });
    assertOk(retry, 201);
  });
});

describe('validation', () => {
  test('USCC 913209007382718460 (wrong check character) is 400 /uscc uscc.check_digit, nothing written', async () => {
    await writesNothing(async () => {
      assertProblem(await op.post('/api/v1/employers', body({ uscc: '913209007382718460' })), 400, { field: '/uscc', rule: 'uscc.check_digit' });
    });
  });

  for (const bad of ['9132090073827184', '91320900738271846CC', '9132090073827184IO', '91320900-38271846C', '']) {
    test(`USCC ${JSON.stringify(bad)} is 400 /uscc uscc.format`, async () => {
      await writesNothing(async () => {
        assertProblem(await op.post('/api/v1/employers', body({ uscc: bad })), 400, { field: '/uscc', rule: 'uscc.format' });
      });
    });
  }

  test('a ratio above the policy maximum is 400 /unit_ratio_bp ratio.range', async () => {
    const r = policy.unit_ratio_max_bp + 100;
    await writesNothing(async () => {
      assertProblem(await op.post('/api/v1/employers', body({ unit_ratio_bp: r, indiv_ratio_bp: r })), 400, { field: '/unit_ratio_bp', rule: 'ratio.range' });
    });
  });

  test('a ratio below the policy minimum is 400 /unit_ratio_bp ratio.range', async () => {
    const r = policy.unit_ratio_min_bp - 100;
    await writesNothing(async () => {
      assertProblem(await op.post('/api/v1/employers', body({ unit_ratio_bp: r, indiv_ratio_bp: r })), 400, { field: '/unit_ratio_bp', rule: 'ratio.range' });
    });
  });

  test('1300 basis points (13%) is out of range under the demo policy (5%..12%)', async () => {
    assert.equal(policy.unit_ratio_max_bp, 1200, 'the demo policy caps ratios at 12%');
    assertProblem(await op.post('/api/v1/employers', body({ unit_ratio_bp: 1300, indiv_ratio_bp: 1300 })), 400, { field: '/unit_ratio_bp', rule: 'ratio.range' });
  });

  test('different employer and employee ratios follow ratios_must_match', async () => {
    const res = await op.post('/api/v1/employers', body({ unit_ratio_bp: 1200, indiv_ratio_bp: 800 }));
    if (policy.ratios_must_match) assertProblem(res, 400, { rule: 'ratio.must_match' });
    else assertOk(res, 201);
  });

  for (const pw of ['Ag#2026', 'alllowercaseletters', 'lowercase2026', 'UPPER2026LOWER']) {
    test(`agent password ${JSON.stringify(pw)} is 400 /agent/password password.weak`, async () => {
      const b = body();
      b.agent.password = pw;
      await writesNothing(async () => {
        assertProblem(await op.post('/api/v1/employers', b), 400, { field: '/agent/password', rule: 'password.weak' });
      });
    });
  }
});

describe('JSON request rules', () => {
  test('an unknown field is 400 json.unknown_field at its pointer', async () => {
    await writesNothing(async () => {
      assertProblem(await op.post('/api/v1/employers', { ...body(), legal_person: '张三' }), 400, { field: '/legal_person', rule: 'json.unknown_field' });
    });
  });

  test('an unknown field inside agent is 400 json.unknown_field /agent/...', async () => {
    const b = body();
    b.agent.role = 'operator';
    assertProblem(await op.post('/api/v1/employers', b), 400, { field: '/agent/role', rule: 'json.unknown_field' });
  });

  test('a duplicate key is 400 json.duplicate_key and writes nothing', async () => {
    const b = body();
    const raw = JSON.stringify(b).replace(/^\{/, `{"name":"重复名称有限公司",`);
    assert.match(raw, /"name":.*"name":/);
    await writesNothing(async () => {
      assertProblem(await op.post('/api/v1/employers', raw), 400, { rule: 'json.duplicate_key' });
    });
  });

  test('broken JSON is 400 json.syntax', async () => {
    assertProblem(await op.post('/api/v1/employers', '{"name":"盐城示例科技有限公司",'), 400, { rule: 'json.syntax' });
  });

  test('a JSON array instead of an object is 400 json.not_object', async () => {
    assertProblem(await op.post('/api/v1/employers', '[]'), 400, { rule: 'json.not_object' });
  });

  test('a missing required field is 400 json.required at its pointer', async () => {
    const b = body();
    delete b.uscc;
    assertProblem(await op.post('/api/v1/employers', b), 400, { field: '/uscc', rule: 'json.required' });
  });

  test('a wrong type is 400 json.type at its pointer', async () => {
    assertProblem(await op.post('/api/v1/employers', body({ unit_ratio_bp: '1200' })), 400, { field: '/unit_ratio_bp', rule: 'json.type' });
    assertProblem(await op.post('/api/v1/employers', body({ name: 12345 })), 400, { field: '/name', rule: 'json.type' });
    assertProblem(await op.post('/api/v1/employers', body({ unit_ratio_bp: 1200.5, indiv_ratio_bp: 1200.5 })), 400, { field: '/unit_ratio_bp', rule: 'json.type' });
  });

  test('Content-Type text/plain is 415 http.content_type and writes nothing', async () => {
    await writesNothing(async () => {
      const res = await op.post('/api/v1/employers', JSON.stringify(body()), { headers: { 'content-type': 'text/plain' } });
      assertProblem(res, 415, { rule: 'http.content_type' });
    });
  });

  test('a body without Content-Type is 415 http.content_type', async () => {
    const res = await op.post('/api/v1/employers', JSON.stringify(body()), { headers: { 'content-type': null } });
    assertProblem(res, 415, { rule: 'http.content_type' });
  });

  test('a body over 1 MiB is 413 http.body_too_large, and the server carries on', async () => {
    const b = body({ name: '盐'.repeat(400 * 1024) }); // 3 bytes each: 1.2 MB
    const raw = JSON.stringify(b);
    assert.ok(Buffer.byteLength(raw) > 1024 * 1024);
    await writesNothing(async () => {
      assertProblem(await op.post('/api/v1/employers', raw), 413, { rule: 'http.body_too_large' });
    });
    assert.equal((await request(srv, 'GET', '/healthz')).status, 200);
  });

  test('a body just under 1 MiB is read (and rejected on its merits, not its size)', async () => {
    const b = body();
    const pad = 1024 * 1024 - Buffer.byteLength(JSON.stringify({ ...b, name: '' })) - 64;
    b.name = 'a'.repeat(pad);
    const res = await op.post('/api/v1/employers', b);
    assert.notEqual(res.status, 413, describeRes(res));
    assert.ok(res.status < 500, describeRes(res));
  });
});

describe('listing', () => {
  test('offset and limit page through the employers; total counts them all', async () => {
    await createEmployer(op);
    await createEmployer(op);
    const all = assertOk(await op.get('/api/v1/employers?offset=0&limit=50'));
    assert.ok(all.total >= 3);
    assert.equal(all.items.length, Math.min(all.total, 50));
    const page = assertOk(await op.get('/api/v1/employers?offset=1&limit=1'));
    assert.equal(page.total, all.total);
    assert.equal(page.items.length, 1);
    assert.deepEqual(page.items[0], all.items[1]);
    const past = assertOk(await op.get(`/api/v1/employers?offset=${all.total}&limit=10`));
    assert.deepEqual(past.items, []);
    assert.equal(past.total, all.total);
  });

  test('the demo created exactly the employers it was asked for before these tests', async () => {
    const list = assertOk(await op.get('/api/v1/employers?offset=0&limit=50'));
    const demoOnes = list.items.filter((e) => e.paid_through !== null);
    assert.equal(demoOnes.length, 1, 'one demo employer with one posted month');
  });
});

test('hpf serve exits 0 on SIGTERM (no sanitizer report, no leak)', async () => {
  await srv.stop();
});
