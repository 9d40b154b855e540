// Every read of a member's personal data by someone else is traced in the audit chain before the
// data is answered (RULES 11.2; service/member.c trace_reads, docs/internals/audit.md): an agent
// or an operator reading a member, a page of members or a statement appends one member.read
// entry per member, naming the reader; the member reading their own account appends nothing.
// Runs on the store of HPF_TEST_STORE.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { employerWithMembers, openMember } from '../lib/fixtures.mjs';
import { assertOk } from '../lib/problem.mjs';
import { login, loginAs, request, runHpf, startServer } from '../lib/server.mjs';

let srv;
let op;
let e;
let member; // {grzh, id (database id), username, password}

/** The member.read entries after seq `after`: [{seq, actor, ref_id, payload}]. */
async function reads(afterSeq) {
  const out = await srv.store.sql(`SELECT seq || ' ' || actor || ' ' || ref_id || ' ' || payload FROM audit_log WHERE kind = 'member.read' AND seq > ${afterSeq} ORDER BY seq`);
  return out.trim().split('\n').filter(Boolean).map((l) => {
    const [seq, actor, ref, payload] = l.split(' ');
    return { seq: Number(seq), actor: Number(actor), ref: Number(ref), payload };
  });
}
const head = async () => Number((await srv.store.sql('SELECT COALESCE(MAX(seq), 0) FROM audit_log')).trim());
const userId = async (username) => Number((await srv.store.sql(`SELECT id FROM app_user WHERE username = '${username}'`)).trim());

before(async () => {
  srv = await startServer({ sim: true });
  op = await loginAs(srv, 'operator');
  e = await employerWithMembers(srv, op, { wages: ['5000.00', '6000.00'] });
  const m = await openMember(e.agent, e.dwzh, { phone: '13911112222' });
  const password = 'Member#2026trail';
  const reg = await request(srv, 'POST', '/api/v1/registrations', { body: { id_number: m.idNumber, name: m.name, account_no: m.member.account_no, password } });
  assert.equal(reg.status, 201, reg.text);
  member = { grzh: m.member.account_no, username: m.idNumber, password };
  member.id = Number((await srv.store.sql(`SELECT id FROM member WHERE account_no = '${member.grzh}'`)).trim());
});
after(() => srv?.stop());

test("an operator's read of a member is traced before it is answered: who, which member, which fields", async () => {
  const h = await head();
  assertOk(await op.get(`/api/v1/members/${member.grzh}`));
  const r = await reads(h);
  assert.equal(r.length, 1, JSON.stringify(r));
  assert.equal(r[0].ref, member.id);
  assert.equal(r[0].actor, await userId(op.user.username));
  assert.equal(r[0].payload, 'read/1|name,id_number,phone,wage,balance,state|centre_service||api');
});

test("an agent's page of its members traces each member on the page; a statement traces the member", async () => {
  const h = await head();
  const page = assertOk(await e.agent.get(`/api/v1/employers/${e.dwzh}/members?limit=200`));
  assert.equal(page.items.length, 3);
  assertOk(await e.agent.get(`/api/v1/members/${member.grzh}/statement`));
  const r = await reads(h);
  const agentId = await userId(e.agentLogin.username);
  assert.equal(r.length, 4, JSON.stringify(r));
  for (const x of r) assert.equal(x.actor, agentId);
  assert.deepEqual(r.slice(0, 3).map((x) => x.payload), Array(3).fill('read/1|name,id_number,phone,wage,balance,state|employer_admin||api'));
  assert.equal(r[3].ref, member.id);
  assert.equal(r[3].payload, 'read/1|postings|employer_admin||api');
});

test('a member reading their own account appends nothing; a refused read appends nothing', async () => {
  const self = await login(srv, member.username, member.password);
  const h = await head();
  assertOk(await self.get(`/api/v1/members/${member.grzh}`));
  assertOk(await self.get(`/api/v1/members/${member.grzh}/statement`));
  // Another employer's agent is refused (scope): nothing was read, nothing is traced.
  const other = await employerWithMembers(srv, op, { wages: [] });
  const refused = await other.agent.get(`/api/v1/members/${member.grzh}`);
  assert.ok(refused.status === 403 || refused.status === 404, `${refused.status}`);
  assert.deepEqual(await reads(h), []);
});

test('hpf audit verify passes with the read entries in the chain', async () => {
  const r = await runHpf(['audit', 'verify', ...srv.store.args]);
  assert.equal(r.code, 0, r.stderr);
});
