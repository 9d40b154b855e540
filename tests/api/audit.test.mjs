// The tamper-evident audit chain (issue 4, part 4; trust/audit.h, docs/internals/audit.md).
// Business actions through the API append to one SM3 hash chain inside their own transaction;
// `hpf audit verify` recomputes the chain and every audited record from the rows as they are, and
// exits 1 naming the first problem when the database is forged directly, as an attacker with
// database access could: the immutability triggers are dropped (SQLite, in a copy of the file) or
// disabled (PostgreSQL, ALTER TABLE ... DISABLE TRIGGER USER in a copy of the database) first.
// Runs on the store of HPF_TEST_STORE. Contract: README "The hpf command".
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { employerWithMembers, idemKey, newIdNumber, openMember, rosterFromDraft } from '../lib/fixtures.mjs';
import { assertOk } from '../lib/problem.mjs';
import {
  BUSINESS_DATE, STORE, client, createStore, forgedCopy, login, loginAs, populate, runHpf, startServer, totpCode,
} from '../lib/server.mjs';

const PERIOD = BUSINESS_DATE.slice(0, 7);
const OK_LINE = /^hpf audit verify: ok \((\d+) entries, head [0-9a-f]{16}; (\d+) records and (\d+) postings match their entries, 0 older than the chain; \d+ rows, [\d.]+ MB hashed in [\d.]+ s: \d+ rows\/s, [\d.]+ MB\/s = [\d.]+ of raw SM3 at [\d.]+ MB\/s\)\n$/;

let clean; // demo + API actions, server stopped: every forgery copies it
const facts = {}; // what the API run saw
const forgedStores = [];

const auditVerify = (args) => runHpf(['audit', 'verify', ...args]);
const one = async (sql) => (await clean.sql(sql)).trim();
const count = async (s = clean) => Number((await s.sql('SELECT count(*) FROM audit_log')).trim());

before(async () => {
  clean = await createStore({ tag: 'audit' });
  await populate(clean, { demo: { employers: 2, members: 5, months: 2, seed: 5 } });
  const srv = await startServer({ store: clean, sim: true }); // the member's SMS code
  try {
    const op = await loginAs(srv, 'operator');
    const e = await employerWithMembers(srv, op, { wages: ['6543.21', '5000.00'] });
    facts.operator = op.user.username;
    facts.agent = e.agentLogin.username;
    facts.dwzh = e.dwzh;
    const draft = assertOk(await e.agent.get(`/api/v1/employers/${e.dwzh}/remittances/draft?period=${PERIOD}`));
    const key = idemKey('audit');
    const post = (body) => e.agent.post(`/api/v1/employers/${e.dwzh}/remittances`, body, { headers: { 'Idempotency-Key': key } });
    // Nothing is appended for an action that writes nothing: a rejected roster, a replay.
    let n = await count();
    const bad = { ...rosterFromDraft(draft), total: '1.00' };
    facts.rejected = (await e.agent.post(`/api/v1/employers/${e.dwzh}/remittances`, bad, { headers: { 'Idempotency-Key': idemKey('bad') } })).status;
    facts.appendedByNothing = (await count()) - n;
    // Maker-checker (docs/internals/approval.md): the agent submits, the operator approves.
    const first = await post(rosterFromDraft(draft));
    assert.equal(first.status, 202, first.text);
    const approved = await op.post(`/api/v1/approvals/${first.json.approval_id}/approve`);
    assert.equal(approved.status, 200, approved.text);
    facts.serial = approved.json.result.serial;
    facts.approval = first.json.approval_id;
    n = await count();
    facts.replay = (await post(rosterFromDraft(draft))).status;
    facts.appendedByNothing += (await count()) - n;

    // A member registers a login, logs in (the SMS code goes to the phone on file) and out.
    const m = await openMember(e.agent, e.dwzh, { wage: '5200.00', phone: '13905150003' });
    const password = 'Member#2026audit';
    const reg = await client(srv).post('/api/v1/registrations', { id_number: m.idNumber, name: m.name, account_no: m.member.account_no, password });
    assert.equal(reg.status, 201, reg.text);
    const member = await login(srv, m.idNumber, password);
    facts.member = m.idNumber;
    facts.memberAcct = m.member.account_no;
    facts.idNumbers = [m.idNumber, '13905150003', ...e.members.map((x) => x.idNumber), ...clean.logins.filter((l) => l.role === 'member').map((l) => l.username)];
    assert.equal((await member.del('/api/v1/session')).status, 204);

    // Writers in parallel: members opened and logins made at once keep one gapless chain. Four
    // logins of four users: a TOTP code is good once, and of two codes of one user sent at once
    // the older may arrive second and be refused as a replay.
    n = await count();
    const logins = [];
    for (const l of [e.agentLogin, ...srv.logins.filter((x) => x.totp)]) {
      logins.push({ username: l.username, password: l.password, totp: await totpCode(srv, l.username) });
    }
    assert.equal(logins.length, 6, 'the agent, the demo operators (centre and 建湖), the administrator and two demo agents');
    const results = await Promise.all([
      ...Array.from({ length: 6 }, () => e.agent.post(`/api/v1/employers/${e.dwzh}/members`, { name: '王芳', id_number: newIdNumber(), wage: '4321.00' })),
      ...logins.map((body) => client(srv).post('/api/v1/session', body)),
    ]);
    for (const r of results) assert.ok(r.status === 201 || r.status === 200, `${r.status} ${r.text}`);
    facts.appendedInParallel = (await count()) - n;
    await openMember(op, e.dwzh, { wage: '7000.00' });
  } finally {
    await srv.stop();
  }
});

after(async () => {
  for (const s of forgedStores) await s.drop().catch(() => {});
  await clean?.drop();
});

describe(`the chain on ${STORE}`, () => {
  test('hpf audit verify exits 0 after the demo and the API run, with the counts and the throughput', async () => {
    const r = await auditVerify(clean.args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, OK_LINE);
    const [, entries, records, postings] = OK_LINE.exec(r.stdout).map(Number);
    assert.equal(entries, await count());
    assert.equal(records, Number(await one("SELECT (SELECT count(*) FROM employer) + (SELECT count(*) FROM member) + (SELECT count(*) FROM app_user) + (SELECT count(*) FROM remittance) + (SELECT count(*) FROM approval)")));
    assert.equal(postings, Number(await one('SELECT count(*) FROM posting')));
    // In parallel parts the counts are the same.
    const r2 = await auditVerify([...clean.args, '--jobs', '3']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(OK_LINE.exec(r2.stdout).slice(1, 4), OK_LINE.exec(r.stdout).slice(1, 4));
  });

  test('seq runs 1..n without gaps and starts with the genesis entry; the head is the last entry', async () => {
    assert.equal(await one('SELECT min(seq) || \',\' || max(seq) || \',\' || count(*) FROM audit_log'), `1,${await count()},${await count()}`);
    assert.equal(await one('SELECT kind FROM audit_log WHERE seq = 1'), 'audit.genesis');
    assert.equal(await one("SELECT prev_hash FROM audit_log WHERE seq = 1"), '0'.repeat(64));
    assert.equal(await one('SELECT h.seq || h.hash FROM audit_head h'), await one('SELECT seq || hash FROM audit_log ORDER BY seq DESC LIMIT 1'));
  });

  test('every business action and session event is in the chain, with who did it', async () => {
    const kinds = (await clean.sql('SELECT DISTINCT kind FROM audit_log ORDER BY kind')).trim().split('\n');
    assert.deepEqual(kinds, ['approval.decided', 'approval.submitted', 'audit.genesis', 'employer.registered', 'member.opened', 'remittance.posted', 'session.login', 'session.logout', 'user.created']);
    const actorOf = (kind, where) => one(`SELECT actor FROM audit_log WHERE kind = '${kind}' AND ${where} ORDER BY seq DESC LIMIT 1`);
    const userId = (name) => one(`SELECT id FROM app_user WHERE username = '${name}'`);
    // A member's login is stored under the blind index of the resident ID (docs/internals/crypto.md).
    const memberId = await one(`SELECT u.id FROM app_user u JOIN member m ON m.id = u.member_id WHERE m.account_no = '${facts.memberAcct}'`);
    const [operatorId, agentId] = [await userId(facts.operator), await userId(facts.agent)];
    const empId = await one(`SELECT id FROM employer WHERE account_no = '${facts.dwzh}'`);
    assert.equal(await actorOf('employer.registered', `ref_id = ${empId}`), operatorId);
    const remId = await one(`SELECT id FROM remittance WHERE serial = '${facts.serial}'`);
    // Maker-checker: the agent made the request, the operator's approval posted it.
    assert.equal(await actorOf('approval.submitted', `ref_id = ${facts.approval}`), agentId);
    assert.equal(await actorOf('remittance.posted', `ref_id = ${remId}`), operatorId);
    assert.equal(await actorOf('approval.decided', `ref_id = ${facts.approval}`), operatorId);
    assert.equal(await actorOf('session.login', `ref_id = ${memberId}`), memberId);
    assert.equal(await actorOf('session.logout', `ref_id = ${memberId}`), memberId);
    // A member registers their own login: the entry's actor is the system (an agent's names the operator).
    assert.equal(await actorOf('user.created', `ref_id = ${memberId}`), '0');
    // The remittance's payload carries its serial, totals, voucher with its lines and its postings.
    const payload = await one(`SELECT payload FROM audit_log WHERE kind = 'remittance.posted' AND ref_id = ${remId}`);
    assert.match(payload, new RegExp(`^remittance/1\\|${facts.serial}\\|${facts.dwzh}\\|01\\|${PERIOD.replace('-', '')}\\|`));
    assert.match(payload, /\|V\d{14}\|\d{8}\|001\|汇缴 [^|]+\|1,101,(\d+),0;2,201,0,\1\|2\|\1\|[0-9a-f]{64}$/);
  });

  test('no resident ID number or phone is in the chain in clear: members carry their blind indexes', async () => {
    // The database holds them only encrypted (tests/api/fieldcrypt.test.mjs): look for the ones
    // this run knows, and for the blind indexes in the member payloads.
    assert.ok(facts.idNumbers.length >= 3);
    const all = await clean.sql('SELECT payload FROM audit_log');
    for (const id of facts.idNumbers) assert.ok(!all.includes(id), `${id} appears in an audit payload`);
    const bidx = await one(`SELECT id_number_bidx FROM member WHERE account_no = '${facts.memberAcct}'`);
    assert.match(bidx, /^[0-9a-f]{64}$/);
    assert.match(await one(`SELECT payload FROM audit_log WHERE kind = 'member.opened' AND ref_id = (SELECT id FROM member WHERE account_no = '${facts.memberAcct}')`),
      new RegExp(`^member/2\\|${facts.memberAcct}\\|[^|]*\\|[^|]*\\|01\\|bidx:${bidx}\\|`));
    assert.equal(await one(`SELECT payload FROM audit_log WHERE kind = 'user.created' AND ref_id = (SELECT u.id FROM app_user u JOIN member m ON m.id = u.member_id WHERE m.account_no = '${facts.memberAcct}')`).then((p) => p.split('|')[1]), `m:${bidx}`);
  });

  test('an action that writes nothing appends nothing; parallel writers append one entry each', () => {
    assert.equal(facts.replay, 200);
    assert.equal(facts.rejected, 422);
    assert.equal(facts.appendedByNothing, 0);
    assert.equal(facts.appendedInParallel, 6 + 6); // six members opened, six logins
  });

  test('every entry hash recomputes outside hpf (node SM3, the format of docs/internals/audit.md)', async () => {
    const entries = await dumpEntries(clean);
    let prev = '0'.repeat(64);
    for (const e of entries) {
      assert.equal(e.prev_hash, prev, `seq ${e.seq}`);
      assert.equal(entryHash(e.prev_hash, e), e.hash, `seq ${e.seq}`);
      prev = e.hash;
    }
  });

  test('the schema refuses to change or delete audit entries, or to add one that does not extend the head', async () => {
    for (const sql of ['UPDATE audit_log SET actor = 5 WHERE seq = 2', 'DELETE FROM audit_log WHERE seq = 2', 'DELETE FROM audit_head']) {
      await assert.rejects(clean.sql(sql), /immutable/, `${sql} was not refused`);
    }
    const n = await count();
    // The head says seq n: an entry must take the head first (seq n + 1) and link to its hash.
    for (const [seq, prev] of [[n + 1, "'x'"], [n + 1, '(SELECT hash FROM audit_head)'], [n + 2, '(SELECT hash FROM audit_head)']]) {
      const sql = `INSERT INTO audit_log VALUES (${seq}, '2026-11-15T00:00:00.000Z', 0, 'x', 'x', 0, '', ${prev}, 'y')`;
      await assert.rejects(clean.sql(sql), /extend the chain head/, `${sql} was not refused`);
    }
    assert.equal((await auditVerify(clean.args)).code, 0);
  });
});

// ---- forgeries ----

/** The canonical bytes of an entry and its hash: SM3(prev hash bytes || fields). */
const esc = (s) => String(s).replace(/[\\|;,]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
function entryHash(prevHex, e) {
  const fields = `hpf-audit/1|${e.seq}|${esc(e.at)}|${e.actor}|${esc(e.kind)}|${esc(e.ref_table)}|${e.ref_id}|${e.payload}`;
  return crypto.createHash('sm3').update(Buffer.from(prevHex, 'hex')).update(fields, 'utf8').digest('hex');
}

async function dumpEntries(s) {
  const cols = ['seq', 'at', 'actor', 'kind', 'ref_table', 'ref_id', 'payload', 'prev_hash', 'hash'];
  const sql = STORE === 'postgres'
    ? `SELECT json_agg(json_build_object(${cols.map((c) => `'${c}', ${c}`).join(', ')}) ORDER BY seq) FROM audit_log`
    : `SELECT json_group_array(json_object(${cols.map((c) => `'${c}', ${c}`).join(', ')})) FROM (SELECT * FROM audit_log ORDER BY seq)`;
  return JSON.parse(await s.sql(sql));
}

const quote = (s) => `'${String(s).replace(/'/g, "''")}'`;

const forged = (name, sql) => forgedCopy(clean, forgedStores, name, sql);

// The attacker's first step: lift the append-only and immutable rules.
const OPEN = STORE === 'postgres'
  ? 'ALTER TABLE audit_log DISABLE TRIGGER USER; ALTER TABLE audit_head DISABLE TRIGGER USER; ALTER TABLE voucher_line DISABLE TRIGGER USER; ALTER TABLE posting DISABLE TRIGGER USER; ALTER TABLE employer DISABLE TRIGGER USER;'
  : 'DROP TRIGGER audit_log_immutable_u; DROP TRIGGER audit_log_immutable_d; DROP TRIGGER audit_log_link; DROP TRIGGER audit_log_head; DROP TRIGGER voucher_line_immutable_u; DROP TRIGGER posting_immutable_u; DROP TRIGGER posting_immutable_d;';
/** Swap the keys a and b of table.col (through a free value: the key is unique). */
const swap = (table, col, a, b) => `UPDATE ${table} SET ${col} = -1 WHERE ${col} = ${a}; UPDATE ${table} SET ${col} = ${a} WHERE ${col} = ${b}; UPDATE ${table} SET ${col} = ${b} WHERE ${col} = -1;`;

/** What a forgery needs to know about the clean store: seqs and ids. */
async function targets() {
  const remId = Number(await one(`SELECT id FROM remittance WHERE serial = '${facts.serial}'`));
  return {
    remId,
    remSeq: Number(await one(`SELECT seq FROM audit_log WHERE kind = 'remittance.posted' AND ref_id = ${remId}`)),
    memberSeq: Number(await one("SELECT seq FROM audit_log WHERE kind = 'member.opened' ORDER BY seq LIMIT 1 OFFSET 2")),
    last: await count(),
    voucherId: Number(await one(`SELECT voucher_id FROM remittance WHERE id = ${remId}`)),
    postings: (await one(`SELECT id FROM posting WHERE remittance_id = ${remId} ORDER BY id`)).split('\n').map(Number),
    memberId: Number(await one('SELECT min(id) FROM member')),
    apprId: Number(await one('SELECT max(id) FROM approval')),
    apprSeq: Number(await one("SELECT seq FROM audit_log WHERE kind = 'approval.decided' AND ref_id = (SELECT max(id) FROM approval)")),
  };
}

// [name, stores, forgery (targets => sql, may be async), expected first problem]
const forgeries = [
  ['a decided maker-checker request changed (when it was made)', ['sqlite', 'postgres'],
    (t) => `${STORE === 'postgres' ? 'ALTER TABLE approval DISABLE TRIGGER USER;' : 'DROP TRIGGER approval_decide;'} UPDATE approval SET made_at = '2026-01-01T00:00:00Z' WHERE id = ${t.apprId};`,
    (t) => new RegExp(`^entry seq ${t.apprSeq} \\(approval\\.decided\\): approval remittance\\.post \\(id ${t.apprId}\\) differs from its audited record in made_at: audited '[^']+', now '2026-01-01T00:00:00Z'`)],
  ['a field of an audit entry changed (its actor)', ['sqlite', 'postgres'],
    (t) => `UPDATE audit_log SET actor = 99 WHERE seq = ${t.remSeq};`,
    (t) => new RegExp(`^entry seq ${t.remSeq} \\(remittance\\.posted, remittance id ${t.remId}\\) does not match its hash: a field of the entry was changed`)],
  ['a record and its entry rewritten together, the entry hash recomputed by the forger', ['sqlite', 'postgres'],
    async (t) => {
      const e = (await dumpEntries(clean)).find((x) => x.seq === t.memberSeq);
      const payload = e.payload.replace(/^(member\/2\|[^|]+\|[^|]+\|)[^|]+/, '$1李四');
      const hash = entryHash(e.prev_hash, { ...e, payload });
      return `UPDATE member SET name = '李四' WHERE id = ${e.ref_id}; UPDATE audit_log SET payload = ${quote(payload)}, hash = '${hash}' WHERE seq = ${e.seq};`;
    },
    (t) => new RegExp(`^the hash chain breaks at seq ${t.memberSeq + 1}: its prev_hash is not the hash of seq ${t.memberSeq} \\(entries were reordered, inserted or deleted\\)`)],
  ['an audit entry deleted', ['sqlite', 'postgres'],
    (t) => `DELETE FROM audit_log WHERE seq = ${t.memberSeq};`,
    (t) => new RegExp(`^entry seq ${t.memberSeq} is missing: the chain jumps from seq ${t.memberSeq - 1} to seq ${t.memberSeq + 1} \\(entries were deleted\\)`)],
  ['the last audit entry deleted', ['sqlite'],
    (t) => `DELETE FROM audit_log WHERE seq = ${t.last};`,
    (t) => new RegExp(`^the chain ends at seq ${t.last - 1} but its head says seq ${t.last} with another hash`)],
  ['an audit entry inserted in the middle (a copy, the later ones renumbered)', ['sqlite', 'postgres'],
    (t) => `UPDATE audit_log SET seq = seq + 1000000 WHERE seq > ${t.memberSeq}; UPDATE audit_log SET seq = seq - 999999 WHERE seq > 1000000;
      INSERT INTO audit_log SELECT seq + 1, at, actor, kind, ref_table, ref_id, payload, prev_hash, hash FROM audit_log WHERE seq = ${t.memberSeq};
      UPDATE audit_head SET seq = seq + 1;`,
    (t) => new RegExp(`^the hash chain breaks at seq ${t.memberSeq + 1}:`)],
  ['an entry appended with a valid hash and the head moved, for an employer that is not there', ['sqlite', 'postgres'],
    async (t) => {
      const last = (await dumpEntries(clean)).at(-1);
      const e = { seq: t.last + 1, at: '2026-11-15T09:00:00.000Z', actor: 1, kind: 'employer.registered', ref_table: 'employer', ref_id: 999, payload: 'employer/1|320900010000099999|盐城假公司|91320900MA0000000X|1200|1200|20261115|01' };
      const hash = entryHash(last.hash, e);
      return `INSERT INTO audit_log VALUES (${e.seq}, '${e.at}', ${e.actor}, '${e.kind}', 'employer', 999, ${quote(e.payload)}, '${last.hash}', '${hash}'); UPDATE audit_head SET seq = ${e.seq}, hash = '${hash}';`;
    },
    (t) => new RegExp(`^entry seq ${t.last + 1} \\(employer\\.registered\\) refers to employer 320900010000099999 \\(id 999\\), which does not exist \\(deleted, or the entry was inserted\\)`)],
  ["a member's resident ID replaced and a new snapshot appended with a valid hash", ['sqlite', 'postgres'],
    async (t) => {
      const entries = await dumpEntries(clean);
      const last = entries.at(-1);
      const opened = entries.find((x) => x.kind === 'member.opened' && x.ref_id === t.memberId);
      // Another person's blind index (the forger has no key: any 64 hex will do for the test).
      const bidx = crypto.randomBytes(32).toString('hex');
      const fields = opened.payload.split('|');
      fields[5] = `bidx:${bidx}`;
      const e = { ...opened, seq: t.last + 1, at: '2026-11-15T09:00:00.000Z', payload: fields.join('|') };
      const hash = entryHash(last.hash, e);
      return `UPDATE member SET id_number_bidx = '${bidx}' WHERE id = ${t.memberId};
        INSERT INTO audit_log VALUES (${e.seq}, '${e.at}', ${e.actor}, '${e.kind}', 'member', ${e.ref_id}, ${quote(e.payload)}, '${last.hash}', '${hash}');
        UPDATE audit_head SET seq = ${e.seq}, hash = '${hash}';`;
    },
    (t) => new RegExp(`^entry seq ${t.last + 1} \\(member\\.opened\\) repeats the creation of member \\d{18} \\(id ${t.memberId}\\), written at seq \\d+ \\(an entry was inserted\\)`)],
  ['two audit entries swapped', ['sqlite', 'postgres'],
    (t) => swap('audit_log', 'seq', t.memberSeq, t.memberSeq + 1),
    (t) => new RegExp(`^the hash chain breaks at seq ${t.memberSeq}:`)],
  ['an amount in a posted voucher line changed (both sides, so the voucher still balances)', ['sqlite', 'postgres'],
    (t) => `UPDATE voucher_line SET debit = debit + 100 WHERE voucher_id = ${t.voucherId} AND line_no = 1; UPDATE voucher_line SET credit = credit + 100 WHERE voucher_id = ${t.voucherId} AND line_no = 2;`,
    (t) => new RegExp(`^entry seq ${t.remSeq} \\(remittance\\.posted\\): remittance ${facts.serial} \\(id ${t.remId}\\) differs from its audited record in voucher_lines: audited '1,101,(\\d+),0;2,201,0,\\1', now '1,101,\\d+,0;2,201,0,\\d+': a voucher line was changed`)],
  ['a posting amount changed', ['sqlite', 'postgres'],
    (t) => `UPDATE posting SET amount = amount + 100, unit_amount = unit_amount + 100 WHERE id = ${t.postings[1]};`,
    (t) => new RegExp(`^entry seq ${t.remSeq} \\(remittance\\.posted\\): remittance ${facts.serial} \\(id ${t.remId}\\) differs from its audited record in postings_amount: audited '(\\d+)', now '\\d+': a posting amount was changed`)],
  ['a posting moved to another member', ['sqlite'],
    (t) => `UPDATE posting SET member_id = ${t.memberId} WHERE id = ${t.postings[0]};`,
    (t) => new RegExp(`^entry seq ${t.remSeq} \\(remittance\\.posted\\): remittance ${facts.serial} \\(id ${t.remId}\\) differs from its audited record in postings_digest: audited '[0-9a-f]+\\.\\.\\.', now '[0-9a-f]+\\.\\.\\.': a posting of it was changed, or two were swapped`)],
  ['a posting deleted', ['sqlite'],
    (t) => `DELETE FROM posting WHERE id = ${t.postings[1]};`,
    (t) => new RegExp(`^entry seq ${t.remSeq} \\(remittance\\.posted\\): remittance ${facts.serial} \\(id ${t.remId}\\) differs from its audited record in postings: audited '2', now '1': a posting of it was deleted, inserted or moved`)],
  ['two postings swapped', ['sqlite'],
    (t) => swap('posting', 'id', t.postings[0], t.postings[1]),
    (t) => new RegExp(`^entry seq ${t.remSeq} \\(remittance\\.posted\\): remittance ${facts.serial} \\(id ${t.remId}\\) differs from its audited record in postings_digest:`)],
  ['a posting inserted outside any remittance', ['sqlite'],
    (t) => `INSERT INTO posting(member_id, biz_date, kind, amount, balance_after, voucher_id) VALUES (${t.memberId}, '2026-11-15', '01', 100000, 100000, ${t.voucherId});`,
    () => /^posting id \d+ belongs to no audited business record \(inserted\)/],
  ["a member's resident ID number replaced (its blind index, which the payload holds)", ['sqlite'],
    () => `UPDATE member SET id_number_bidx = '${crypto.randomBytes(32).toString('hex')}' WHERE id = 1;`,
    () => /^entry seq \d+ \(member\.opened\): member \d{17}[\dX] \(id 1\) differs from its audited record in id_number \(a personal field: values not shown\)/],
  ["an employer moved to another branch office (whose operators then see its cases)", ['sqlite', 'postgres'],
    () => "UPDATE employer SET branch = CASE WHEN branch = '03' THEN '04' ELSE '03' END WHERE id = 1;",
    () => /^entry seq \d+ \(employer\.registered\): employer \d{18} \(id 1\) differs from its audited record in branch: audited '0[0-4]', now '0[34]'/],
  ["an operator's login moved to another branch office", ['sqlite', 'postgres'],
    () => "UPDATE app_user SET branch = '02' WHERE username = 'op-jianhu';",
    () => /^entry seq \d+ \(user\.created\): login op-jianhu \(id \d+\) differs from its audited record in branch: audited '01', now '02'/],
  ['an employer inserted outside the audited path', ['sqlite'],
    () => "INSERT INTO employer(account_no, name, uscc, unit_ratio_bp, indiv_ratio_bp, state, opened_on) VALUES ('320900010000088888', '盐城影子公司', '91320900MA0000001X', 1200, 1200, '01', '2026-11-15');",
    () => /^employer 320900010000088888 \(id \d+\) has no audit entry: it was written outside the audited path \(inserted\)/],
];

describe(`forgeries on ${STORE}: hpf audit verify exits 1 naming the row`, () => {
  for (const [name, stores, forge, expected] of forgeries) {
    if (!stores.includes(STORE)) continue;
    test(name, async (ctx) => {
      const t = await targets();
      const args = await forged(name.replace(/\W+/g, '-').slice(0, 60), OPEN + (await forge(t)));
      const r = await auditVerify(args);
      assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line on stderr: ${r.stderr}`);
      ctx.diagnostic(r.stderr.trim());
      assert.match(r.stderr, /^hpf audit verify: FAILED: /);
      assert.match(r.stderr.replace(/^hpf audit verify: FAILED: /, ''), expected(t));
      // The parallel verifier (part 0: chain and records; part 1: the remittances) finds the
      // same first problem and the same count.
      const r2 = await auditVerify([...args, '--jobs', '2']);
      assert.equal(r2.code, 1, `--jobs 2: expected exit 1, got ${r2.code}: ${r2.stdout}${r2.stderr}`);
      assert.equal(r2.stderr, r.stderr);
    });
  }
});
