// Signed daily checkpoints and verification codes (issue 4, part 4; trust/checkpoint.h,
// docs/internals/audit.md "Signatures and checkpoints"). A receipt carries a verification code;
// anyone can check it at GET /api/v1/public/documents/{code}, recompute its inclusion proof to the
// checkpoint's Merkle root here in JavaScript (node's SM3), and verify the root's SM2 signature
// with the openssl command line against the key from GET /api/v1/public/centre-keys, without
// trusting hpf. `hpf audit verify` recomputes every checkpoint and exits 1 naming a forged one.
//
// The demo and the API calls stamp their entries today, and a day is checkpointed only once it
// is over. `hpf audit checkpoint --through TODAY` closes today early (documented for tests and
// demos: entries stamped today afterwards go into the next day's checkpoint). Runs on the store
// of HPF_TEST_STORE.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { employerWithMembers, idemKey, rosterFromDraft } from '../lib/fixtures.mjs';
import { assertOk, assertProblem } from '../lib/problem.mjs';
import { BUSINESS_DATE, STORE, client, createStore, forgedCopy, freshDbName, loginAs, populate, runHpf, startServer } from '../lib/server.mjs';

const PERIOD = BUSINESS_DATE.slice(0, 7);
const CODE = /^[1-9]\d*-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$/;
/** The centre's day now (Asia/Shanghai, UTC+8, no daylight saving). */
const centreToday = () => new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);

let clean;
const facts = {};
const forgedStores = [];
let tmp;

const sm3 = (...parts) => {
  const h = crypto.createHash('sm3');
  for (const p of parts) h.update(p);
  return h.digest();
};
const one = async (sql) => (await clean.sql(sql)).trim();
const doc = (srv, code) => client(srv).get(`/api/v1/public/documents/${code}`);

function execP(file, args) {
  return new Promise((resolve) => {
    execFile(file, args, (e, stdout, stderr) => resolve({ code: e ? e.code ?? 1 : 0, stdout, stderr }));
  });
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hpf-ckpt-'));
  clean = await createStore({ tag: 'ckpt' });
  await populate(clean, { demo: { employers: 2, members: 4, months: 2, seed: 11 } });

  // Receipts: a member account opened and a remittance posted through the API.
  let srv = await startServer({ store: clean, verify: false });
  try {
    const op = await loginAs(srv, 'operator');
    const e = await employerWithMembers(srv, op, { wages: ['6543.21', '5000.00'] });
    facts.member = e.members[0];
    facts.memberCodes = e.members.map((m) => m.member.verification_code);
    const draft = assertOk(await e.agent.get(`/api/v1/employers/${e.dwzh}/remittances/draft?period=${PERIOD}`));
    const key = idemKey('ckpt');
    const post = () => e.agent.post(`/api/v1/employers/${e.dwzh}/remittances`, rosterFromDraft(draft), { headers: { 'Idempotency-Key': key } });
    // Maker-checker: the agent submits, the operator approves; the approval's result is the
    // remittance receipt, with its code.
    facts.submitted = await post();
    assert.equal(facts.submitted.status, 202, facts.submitted.text);
    facts.approved = await op.post(`/api/v1/approvals/${facts.submitted.json.approval_id}/approve`, {});
    assert.equal(facts.approved.status, 200, facts.approved.text);
    facts.posted = { status: 201, json: facts.approved.json.result, text: JSON.stringify(facts.approved.json.result) };
    facts.replayed = await post();
    facts.list = assertOk(await e.agent.get(`/api/v1/employers/${e.dwzh}/remittances`));
    // A demo remittance, from the operator's view of the first demo employer.
    const emps = assertOk(await op.get('/api/v1/employers?limit=200'));
    const demoEmp = emps.items.find((x) => x.account_no !== e.dwzh && x.paid_through);
    facts.demoList = assertOk(await op.get(`/api/v1/employers/${demoEmp.account_no}/remittances`));
    facts.early = await doc(srv, facts.posted.json.verification_code);
  } finally {
    await srv.stop();
  }

  facts.today = centreToday();
  facts.cp1 = await runHpf(['audit', 'checkpoint', ...clean.args, '--through', facts.today]);
  facts.cp2 = await runHpf(['audit', 'checkpoint', ...clean.args, '--through', facts.today]);
  facts.cpDefault = await runHpf(['audit', 'checkpoint', ...clean.args]);

  // This server has the notary simulator as its peer: the anchors the checkpoint command queued
  // in the outbox go out, and the notary's receipts come back onto the checkpoints.
  srv = await startServer({ store: clean, verify: false, sim: true });
  try {
    const codes = { remittance: facts.posted.json.verification_code, member: facts.memberCodes[0], demo: facts.demoList.items[0].verification_code };
    facts.docs = {};
    for (const [k, c] of Object.entries(codes)) facts.docs[k] = await doc(srv, c);
    facts.keys = await client(srv).get('/api/v1/public/centre-keys');
    const c = codes.remittance;
    const flip = (s, i) => s.slice(0, i) + (s[i] === '0' ? '1' : '0') + s.slice(i + 1);
    const [seq] = c.split('-');
    facts.altered = await doc(srv, flip(c, c.length - 1));
    facts.otherSeq = await doc(srv, `${Number(seq) + 1}${c.slice(seq.length)}`);
    facts.upper = await doc(srv, c.toUpperCase());
    facts.malformed = await doc(srv, 'not-a-code');
    const ev = (await clean.sql("SELECT seq || ' ' || hash FROM audit_log WHERE kind = 'session.login' ORDER BY seq LIMIT 1")).trim().split(' ');
    facts.event = await doc(srv, `${ev[0]}-${ev[1].slice(0, 4)}-${ev[1].slice(4, 8)}-${ev[1].slice(8, 12)}-${ev[1].slice(12, 16)}`);
    const deadline = Date.now() + 15000;
    do {
      facts.anchoredDoc = await doc(srv, codes.remittance);
      if (facts.anchoredDoc.json?.checkpoint?.anchor) break;
      await new Promise((r) => setTimeout(r, 200));
    } while (Date.now() < deadline);
    const rid = facts.anchoredDoc.json?.checkpoint?.anchor?.receipt?.receipt_id;
    facts.notaryRecord = rid ? await srv.peers.anchor(rid) : null;
    facts.anchorStats = await srv.peers.stats();
  } finally {
    await srv.stop();
  }
});

after(async () => {
  for (const s of forgedStores) await s.drop().catch(() => {});
  await clean?.drop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe(`verification codes on ${STORE}`, () => {
  test('a remittance receipt and a member account opening carry a verification code', () => {
    const code = facts.posted.json.verification_code;
    assert.match(code, CODE, facts.approved.text);
    assert.equal(facts.replayed.status, 200);
    assert.equal(facts.replayed.json.result.verification_code, code, 'a replay returns the same receipt');
    const item = facts.list.items.find((r) => r.serial === facts.posted.json.serial);
    assert.equal(item.verification_code, code, 'the history shows the same code');
    for (const m of facts.memberCodes) assert.match(m, CODE);
    assert.notEqual(facts.memberCodes[0], facts.memberCodes[1]);
    for (const r of facts.demoList.items) assert.match(r.verification_code, CODE, 'demo remittances too');
  });

  test('the code names the audit entry that recorded the document: its seq and 64 bits of its hash', async () => {
    const code = facts.posted.json.verification_code;
    const [seq, ...groups] = code.split('-');
    const row = await one(`SELECT a.kind || ' ' || a.hash FROM audit_log a JOIN remittance r ON a.ref_table = 'remittance' AND a.ref_id = r.id WHERE r.serial = '${facts.posted.json.serial}' AND a.seq = ${seq}`);
    const [kind, hash] = row.split(' ');
    assert.equal(kind, 'remittance.posted');
    assert.equal(hash.slice(0, 16), groups.join(''));
  });

  test('before its day is checkpointed, a code checks out without a proof', () => {
    const r = assertOk(facts.early);
    assert.equal(r.authentic, true);
    assert.equal(r.kind, 'remittance');
    assert.equal(r.checkpoint, null);
    assert.equal(r.leaf_index, null);
    assert.deepEqual(r.proof, []);
  });

  test('an altered code is 404, a malformed one 400, an entry that is no document 404', () => {
    assertProblem(facts.altered, 404, { rule: 'document.unknown', field: '/code' });
    assertProblem(facts.otherSeq, 404, { rule: 'document.unknown', field: '/code' });
    assertProblem(facts.event, 404, { rule: 'document.unknown', field: '/code' });
    assertProblem(facts.malformed, 400, { rule: 'document.code_format', field: '/code' });
    assert.equal(facts.upper.status, 200, 'hex digits in either case');
  });
});

describe(`checkpoints on ${STORE}`, () => {
  test('hpf audit checkpoint signs the days that are due, once', async () => {
    assert.equal(facts.cp1.code, 0, facts.cp1.stderr);
    const m = /^hpf audit checkpoint: (\d+) checkpoints? signed through (\S+); the last: (\S+), entries (\d+)\.\.(\d+), root ([0-9a-f]{64}), centre key ([0-9a-f]{16})\n$/.exec(facts.cp1.stdout);
    assert.ok(m, facts.cp1.stdout);
    assert.equal(m[2], facts.today);
    assert.equal(m[3], facts.today);
    assert.equal(await one(`SELECT root FROM audit_checkpoint WHERE day = '${facts.today}'`), m[6]);
    // Every entry up to the checkpoint is covered, from seq 1, without a gap.
    assert.equal(await one('SELECT min(first_seq) FROM audit_checkpoint'), '1');
    assert.equal(await one("SELECT count(*) FROM audit_log WHERE kind = 'audit.checkpoint'"), await one('SELECT count(*) FROM audit_checkpoint'));
    // Idempotent; and without --through only closed days are due (today is not).
    assert.equal(facts.cp2.code, 0, facts.cp2.stderr);
    assert.equal(facts.cp2.stdout, `hpf audit checkpoint: nothing due through ${facts.today}\n`);
    assert.equal(facts.cpDefault.code, 0, facts.cpDefault.stderr);
    assert.match(facts.cpDefault.stdout, /^hpf audit checkpoint: nothing due through \d{4}-\d{2}-\d{2}\n$/);
  });

  test('the proof of each document recomputes to its checkpoint root in JavaScript', async () => {
    for (const [name, res] of Object.entries(facts.docs)) {
      const d = assertOk(res);
      assert.equal(d.authentic, true, name);
      assert.ok(d.checkpoint, `${name} is checkpointed`);
      assert.equal(d.entry_hash.slice(0, 16), d.code.split('-').slice(1).join(''), name);
      assert.equal(d.leaf_index, d.chain_position - d.checkpoint.first_seq);
      let v = sm3(Buffer.from([0]), Buffer.from(d.entry_hash, 'hex'));
      for (const step of d.proof) {
        const s = Buffer.from(step.hash, 'hex');
        assert.ok(step.side === 'left' || step.side === 'right');
        v = step.side === 'left' ? sm3(Buffer.from([1]), s, v) : sm3(Buffer.from([1]), v, s);
      }
      assert.equal(v.toString('hex'), d.checkpoint.root, `${name}: the proof leads to the root`);
      assert.equal(await one(`SELECT root FROM audit_checkpoint WHERE day = '${d.checkpoint.day}'`), d.checkpoint.root);
      // The path is as long as the tree is deep, at most.
      assert.ok(d.proof.length <= Math.ceil(Math.log2(d.checkpoint.leaves)), name);
    }
    assert.equal(facts.docs.member.json.kind, 'member_account');
    assert.equal(facts.docs.demo.json.kind, 'remittance');
  });

  test('the answer holds no personal data', () => {
    const d = facts.docs.member.json;
    assert.deepEqual(Object.keys(d).sort(), ['authentic', 'chain_position', 'checkpoint', 'code', 'entry_hash', 'kind', 'leaf_index', 'proof', 'recorded_at']);
    const text = facts.docs.member.text;
    for (const secret of [facts.member.idNumber, facts.member.name, facts.member.member.account_no]) {
      assert.ok(!text.includes(secret), `${secret} in ${text}`);
    }
  });

  test("the root's SM2 signature verifies with the openssl command line and the published key", async () => {
    const keys = assertOk(facts.keys);
    assert.equal(keys.distinguishing_id, '1234567812345678');
    const cp = facts.docs.remittance.json.checkpoint;
    const key = keys.items.find((k) => k.key_id === cp.key_id);
    assert.ok(key, `key ${cp.key_id} is published`);
    assert.equal(key.current, true);
    const pub = path.join(tmp, 'pub.pem');
    fs.writeFileSync(pub, key.public_key_pem);
    // The key id and fingerprint are the SM3 of the DER public key.
    const der = path.join(tmp, 'pub.der');
    assert.equal((await execP('openssl', ['pkey', '-pubin', '-in', pub, '-outform', 'DER', '-out', der])).code, 0);
    const fp = sm3(fs.readFileSync(der)).toString('hex');
    assert.equal(fp, key.fingerprint);
    assert.equal(fp.slice(0, 16), key.key_id);
    // The signed text, rebuilt from the fields (not taken from the answer).
    const text = `hpf-checkpoint/1|${cp.centre}|${cp.day.replaceAll('-', '')}|${cp.first_seq}|${cp.last_seq}|${cp.leaves}|${cp.root}`;
    assert.equal(cp.signed_text, text);
    fs.writeFileSync(path.join(tmp, 'msg'), text);
    fs.writeFileSync(path.join(tmp, 'sig'), Buffer.from(cp.signature, 'hex'));
    const verify = (msg) => execP('openssl', ['pkeyutl', '-verify', '-rawin', '-digest', 'sm3', '-pkeyopt', 'distid:1234567812345678', '-pubin', '-inkey', pub, '-in', path.join(tmp, msg), '-sigfile', path.join(tmp, 'sig')]);
    const ok = await verify('msg');
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /Signature Verified Successfully/);
    // A changed root does not verify.
    fs.writeFileSync(path.join(tmp, 'msg2'), text.replace(/.$/, (c) => (c === '0' ? '1' : '0')));
    const bad = await verify('msg2');
    assert.notEqual(bad.code, 0, bad.stdout);
  });

  test('hpf audit verify recomputes the checkpoints and counts them on a second line', async () => {
    const r = await runHpf(['audit', 'verify', ...clean.args]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2, r.stdout);
    assert.match(lines[0], /^hpf audit verify: ok \(/);
    const n = await one('SELECT count(*) FROM audit_checkpoint');
    assert.match(lines[1], new RegExp(`^hpf audit verify: ${n} checkpoints? ok \\(\\d{4}-\\d{2}-\\d{2}\\.\\.${facts.today}, \\d+ entries; roots recomputed, SM2 signatures verified; last root [0-9a-f]{16}\\)$`));
  });
});

// ---- forgeries: the immutability trigger lifted first, as in tests/api/audit.test.mjs ----

const OPEN = STORE === 'postgres'
  ? 'ALTER TABLE audit_checkpoint DISABLE TRIGGER USER;'
  : 'DROP TRIGGER audit_checkpoint_immutable_u; DROP TRIGGER audit_checkpoint_immutable_d;';

const forgeries = [
  ['a checkpoint root changed', (d) => `UPDATE audit_checkpoint SET root = '${'0'.repeat(63)}f' WHERE day = '${d}';`,
    (d) => new RegExp(`^checkpoint of ${d} \\(seq 1\\.\\.\\d+\\): its root 0{16}\\.\\.\\. does not recompute from the chain`), 'audit.checkpoint_root'],
  ['a checkpoint signature changed (its last byte)', async (d) => {
    const sig = await one(`SELECT signature FROM audit_checkpoint WHERE day = '${d}'`);
    return `UPDATE audit_checkpoint SET signature = '${sig.slice(0, -2)}${sig.endsWith('00') ? '01' : '00'}' WHERE day = '${d}';`;
  }, (d) => new RegExp(`^checkpoint of ${d}: its signature does not verify with centre key [0-9a-f]{16}`), 'audit.checkpoint_signature'],
  ['a checkpoint deleted', (d) => `DELETE FROM audit_checkpoint WHERE day = '${d}';`,
    (d) => new RegExp(`^chain entry seq \\d+ records the checkpoint of ${d}, which audit_checkpoint does not hold \\(deleted\\)`), 'audit.checkpoint_missing'],
];

describe(`notary anchoring on ${STORE}`, () => {
  test('each checkpoint is anchored through the outbox; its receipt shows in the public answer and matches the notary', () => {
    const cp = facts.anchoredDoc.json?.checkpoint;
    assert.ok(cp?.anchor, `no anchor within 15 s: ${facts.anchoredDoc.text}`);
    const { receipt } = cp.anchor;
    assert.match(receipt.receipt_id, /^rcpt-/);
    assert.match(receipt.tx_hash, /^[0-9a-f]{64}$/);
    assert.ok(facts.notaryRecord, `the notary has no receipt ${receipt.receipt_id}`);
    // The notary holds what the centre signed: this checkpoint's day, root, signature and key.
    assert.equal(facts.notaryRecord.day.replace(/-/g, ''), cp.day.replace(/-/g, ''));
    assert.equal(facts.notaryRecord.root, cp.root);
    assert.equal(facts.notaryRecord.signature, cp.signature);
    assert.equal(facts.notaryRecord.key_id, cp.key_id);
    assert.equal(facts.notaryRecord.tx_hash, receipt.tx_hash);
    // One anchor per checkpoint day, none sent twice.
    assert.equal(facts.anchorStats.notary.repeats, 0);
  });
});

describe(`forged checkpoints on ${STORE}: hpf audit verify exits 1 naming the checkpoint`, () => {
  for (const [name, forge, expected] of forgeries) {
    test(name, async (ctx) => {
      const day = facts.today;
      const args = await forgedCopy(clean, forgedStores, name.replace(/\W+/g, '-').slice(0, 60), OPEN + (await forge(day)));
      const r = await runHpf(['audit', 'verify', ...args]);
      assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line on stderr: ${r.stderr}`);
      ctx.diagnostic(r.stderr.trim());
      assert.match(r.stderr, /^hpf audit verify: FAILED: /);
      assert.match(r.stderr.replace(/^hpf audit verify: FAILED: /, ''), expected(day));
    });
  }
});

// ---- rotating the seal key (hpf keys rotate-seal), on a copy of the store with its keys ----

describe(`the seal key rotated on ${STORE}`, () => {
  let args;
  let dir;
  let out;
  before(async () => {
    dir = path.join(tmp, 'rotated');
    fs.cpSync(clean.dataDir, dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}forged`) });
    args = ['--data-dir', dir];
    if (STORE === 'postgres') {
      const db = freshDbName('rot');
      await clean.cluster.createdb(db, clean.dbName);
      forgedStores.push({ drop: () => clean.cluster.dropdb(db) });
      args.push('--db', clean.cluster.url(db));
    }
    out = await runHpf(['keys', 'rotate-seal', ...args]);
  });
  const sql = async (q) => (STORE === 'postgres' ? clean.cluster.sql(args.at(-1).split('/').pop(), q) : new Promise((resolve, reject) => {
    execFile('sqlite3', [path.join(dir, 'hpf.db'), q], (e, stdout) => (e ? reject(e) : resolve(stdout)));
  })).then((t) => t.trim());

  test('a new key replaces the file; both public keys stay recorded; the rotation is in the chain', async () => {
    assert.equal(out.code, 0, out.stderr);
    const m = out.stdout.match(/^hpf keys rotate-seal: seal key ([0-9a-f]{16}) replaced by ([0-9a-f]{16})$/m);
    assert.ok(m, out.stdout);
    const [, oldId, newId] = m;
    assert.notEqual(oldId, newId);
    const ids = (await sql("SELECT key_id FROM sm2_key WHERE owner = 'centre' ORDER BY created_at")).split('\n');
    assert.deepEqual(ids, [oldId, newId]);
    // The file's public key is the new one, and no longer the old one.
    const pub = await execP('openssl', ['pkey', '-in', path.join(dir, 'keys', 'centre-sm2.pem'), '-pubout']);
    assert.equal(pub.code, 0, pub.stderr);
    const recorded = await sql(`SELECT public_pem FROM sm2_key WHERE key_id = '${newId}'`);
    assert.equal(pub.stdout.trim(), recorded.trim());
    const event = await sql("SELECT payload FROM audit_log WHERE kind = 'keys.seal_rotated'");
    assert.equal(event, `seal-rotation/1|${oldId}|${newId}`);
  });

  test('what the old key signed still verifies', async () => {
    const r = await runHpf(['audit', 'verify', ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /checkpoints? ok/);
  });

  test('without a seal key there is nothing to rotate', async () => {
    const empty = fs.mkdtempSync(path.join(tmp, 'nokey-'));
    fs.cpSync(dir, empty, { recursive: true });
    fs.rmSync(path.join(empty, 'keys', 'centre-sm2.pem'));
    const a = ['--data-dir', empty, ...args.slice(2)];
    const r = await runHpf(['keys', 'rotate-seal', ...a]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /no key file .*centre-sm2\.pem/);
  });
});
