// Personal fields at rest (issue 4, part 3; trust/fieldcrypt.h, docs/internals/crypto.md): a
// member's resident ID and phone are stored only as SM4-CTR + HMAC-SM3 ciphertexts under keys in
// DATA_DIR/keys/field.keys, found through keyed blind indexes.
//  (a) after `hpf demo` no resident ID or phone is anywhere in the database file and its WAL
//      (SQLite) or in pg_dump of the database (PostgreSQL); the scan finds what is stored in clear;
//  (b) `hpf keys rotate` re-encrypts everything (resumable), `hpf keys retire` refuses while a row
//      uses the version; members still read back and log in with their resident ID;
//  (c) a ciphertext copied to another row or column, or changed by one character, is a logged
//      security event and a bare 500 on read, and `hpf keys status` names the rows;
//  (d) a database made with the schema of 0001..0003 (clear values, a legacy audit chain) is
//      encrypted by `hpf migrate`, leaves no clear value, and still passes `hpf audit verify`.
// The stored format is decrypted here with node's own SM4/SM3 from the description in
// docs/internals/crypto.md, independently of the C code. Runs on the store of HPF_TEST_STORE.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { newIdNumber, openMember } from '../lib/fixtures.mjs';
import { maskId } from '../lib/ids.mjs';
import { assertOk } from '../lib/problem.mjs';
import {
  PGBIN, REPO, STORE, client, createStore, freshDbName, login, loginAs, populate, runHpf, startServer,
} from '../lib/server.mjs';

const DEMO = { employers: 3, members: 240, months: 1, seed: 11 };

let clean; // the demo store: (a) scans it, (c) copies it, (b) rotates it
const owned = []; // stores and copies to drop at the end
let fields0; // the decrypted members of the demo, before any rotation

after(async () => {
  for (const s of owned) await s.drop().catch(() => {});
});

// ---- the stored format, from docs/internals/crypto.md ----

function readKeys(dataDir) {
  const text = fs.readFileSync(path.join(dataDir, 'keys', 'field.keys'), 'utf8');
  const keys = { fields: new Map(), current: 0, bidx: null, text };
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w[0] === 'bidx') keys.bidx = Buffer.from(w[1], 'hex');
    else if (w[0] === 'field') keys.fields.set(Number(w[1].slice(1)), { sm4: Buffer.from(w[2], 'hex'), mac: Buffer.from(w[3], 'hex') });
    else if (w[0] === 'current') keys.current = Number(w[1].slice(1));
  }
  assert.equal(keys.bidx?.length, 32, 'a 32-byte blind-index key');
  for (const [v, k] of keys.fields) {
    assert.equal(k.sm4.length, 16, `v${v}: a 16-byte SM4 key`);
    assert.equal(k.mac.length, 32, `v${v}: a 32-byte HMAC-SM3 key`);
  }
  return keys;
}

const be32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** Decrypt f1.<v>.<base64url(IV||CT||TAG)>, checking the tag first; throws when it fails. */
function decrypt(keys, field, context, text) {
  const m = /^f1\.([1-9]\d*)\.([A-Za-z0-9_-]+)$/.exec(text);
  assert.ok(m, `not an f1 text: ${text}`);
  const v = Number(m[1]);
  const k = keys.fields.get(v);
  assert.ok(k, `no key v${v}`);
  const raw = Buffer.from(m[2], 'base64url');
  const iv = raw.subarray(0, 16);
  const ct = raw.subarray(16, raw.length - 32);
  const tag = raw.subarray(raw.length - 32);
  const f = Buffer.from(field);
  const c = Buffer.from(context);
  const want = crypto.createHmac('sm3', k.mac).update('f1').update(be32(v)).update(be32(f.length)).update(f)
    .update(be32(c.length)).update(c).update(iv).update(ct).digest();
  if (!crypto.timingSafeEqual(want, tag)) throw new Error(`${field} of ${context}: tag mismatch`);
  const d = crypto.createDecipheriv('sm4-ctr', k.sm4, iv);
  return { version: v, value: Buffer.concat([d.update(ct), d.final()]).toString('utf8') };
}

const bidx = (keys, field, value) => crypto.createHmac('sm3', keys.bidx).update(field).update(Buffer.from([0]))
  .update(value.trim().toUpperCase()).digest('hex');

/** Every member row with its stored fields. */
async function memberRows(s) {
  const out = await s.sql('SELECT id, account_no, id_number_enc, id_number_bidx, COALESCE(phone_enc, \'\'), COALESCE(phone_bidx, \'\'), key_version FROM member ORDER BY id');
  return out.trim().split('\n').filter(Boolean).map((l) => {
    const [id, acct, idEnc, idBidx, phEnc, phBidx, version] = l.split('|');
    return { id: Number(id), acct, idEnc, idBidx, phEnc, phBidx, version: Number(version) };
  });
}

/** Logins with an encrypted TOTP secret (operators, agents): {username: {version, secret}}. */
async function loginSecrets(s) {
  const keys = readKeys(s.dataDir);
  const out = {};
  for (const l of (await s.sql('SELECT username, totp_secret FROM app_user WHERE totp_secret IS NOT NULL')).trim().split('\n').filter(Boolean)) {
    const [user, enc] = l.split('|');
    const d = decrypt(keys, 'app_user.totp_secret', user, enc);
    out[user] = { version: d.version, secret: d.value };
  }
  return out;
}

/** Decrypt every member of a store, checking each blind index; [{acct, id, phone, version}]. */
async function decryptAll(s) {
  const keys = readKeys(s.dataDir);
  return (await memberRows(s)).map((r) => {
    const id = decrypt(keys, 'id_number', r.acct, r.idEnc);
    assert.equal(r.idBidx, bidx(keys, 'id_number', id.value), `blind index of ${r.acct}`);
    assert.equal(id.version, r.version, `key_version of ${r.acct}`);
    let phone = '';
    if (r.phEnc) {
      const p = decrypt(keys, 'phone', r.acct, r.phEnc);
      assert.equal(p.version, r.version);
      assert.equal(r.phBidx, bidx(keys, 'phone', p.value), `phone blind index of ${r.acct}`);
      phone = p.value;
    }
    return { acct: r.acct, id: id.value, phone, version: r.version };
  });
}

// ---- scanning the stored bytes ----

function execP(file, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 256 << 20, encoding: 'buffer', ...opts }, (e, stdout, stderr) => {
      if (e) reject(new Error(`${file} ${args.join(' ')}: ${e.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The bytes a thief of the database would get: the SQLite file and its WAL, or pg_dump. */
async function storedBytes(s) {
  if (s.kind === 'postgres') {
    return [await execP(path.join(PGBIN, 'pg_dump'), ['-h', '127.0.0.1', '-p', String(s.cluster.port), '-U', 'postgres', '-d', s.dbName])];
  }
  const file = path.join(s.dataDir, 'hpf.db');
  return [file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f));
}

const found = (bufs, value) => bufs.some((b) => b.includes(Buffer.from(value)));

function assertNoClear(bufs, values, what) {
  assert.ok(values.length > 0, `some ${what} to look for`);
  for (const v of values) assert.ok(!found(bufs, v), `${what} ${v} is stored in clear`);
}

// ---- a copy of the clean store with a forgery applied, keys included ----

async function forgedStore(sql) {
  const dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'hpf-fc-'));
  fs.cpSync(path.join(clean.dataDir, 'keys'), path.join(dataDir, 'keys'), { recursive: true });
  // The TOTP steps used so far go with the copy: the database refuses a code used twice.
  const s = { kind: clean.kind, dataDir, populated: true, logins: clean.logins, totpSecrets: clean.totpSecrets, totpSteps: clean.totpSteps };
  if (clean.kind === 'postgres') {
    const db = freshDbName('fcforged');
    await clean.cluster.createdb(db, clean.dbName);
    Object.assign(s, { dbName: db, cluster: clean.cluster, args: ['--data-dir', dataDir, '--db', clean.cluster.url(db)], sql: (t) => clean.cluster.sql(db, t) });
  } else {
    fs.copyFileSync(path.join(clean.dataDir, 'hpf.db'), path.join(dataDir, 'hpf.db'));
    const file = path.join(dataDir, 'hpf.db');
    Object.assign(s, { args: ['--data-dir', dataDir], sql: async (t) => (await execP('sqlite3', ['-batch', file, `\n${t}`])).toString() });
  }
  s.drop = async () => {
    if (s.dbName) await clean.cluster.dropdb(s.dbName);
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  };
  owned.push(s);
  await s.sql(sql);
  return s;
}

/**
 * A member's login by resident ID: the first step finds the login through the blind index, checks
 * the password and sends the SMS code to the decrypted phone (202, the number masked); then the
 * whole login (the code read from hpf-sim). Returns the session.
 */
async function memberLogin(srv, id, password, phone) {
  const first = await client(srv).post('/api/v1/session', { username: id, password });
  assert.equal(first.status, 202, first.text);
  assert.equal(first.json.to, `${phone.slice(0, 3)}****${phone.slice(-4)}`, 'the code goes to the decrypted phone');
  const wrong = await client(srv).post('/api/v1/session', { username: id, password: `${password}x` });
  assert.equal(wrong.status, 401, wrong.text);
  const m = await login(srv, id, password);
  assert.equal(m.user.username, id, 'the session names the resident ID');
  return m;
}

/** Every member as the operator reads it through the API: {acct: masked id}. */
async function readAllMembers(srv) {
  const op = await loginAs(srv, 'operator');
  const emps = assertOk(await op.get('/api/v1/employers?limit=200')).items;
  const seen = {};
  for (const e of emps) {
    for (let offset = 0; ; offset += 200) {
      const page = assertOk(await op.get(`/api/v1/employers/${e.account_no}/members?limit=200&offset=${offset}`));
      for (const m of page.items) seen[m.account_no] = m.id_number;
      if (offset + 200 >= page.total) break;
    }
  }
  return seen;
}

before(async () => {
  clean = await createStore({ tag: 'fc' });
  owned.push(clean);
  await populate(clean, { demo: DEMO });
  fields0 = await decryptAll(clean);
});

describe(`(a) no personal field in clear on ${STORE}`, () => {
  test('the demo stored every member encrypted under v1, readable from the documented format', async () => {
    assert.equal(fields0.length, DEMO.members);
    for (const f of fields0) {
      assert.equal(f.version, 1);
      assert.match(f.id, /^\d{17}[\dX]$/);
      assert.match(f.phone, /^1[3-9]\d{9}$/, 'the demo gives every member a mobile number');
    }
    // The demo's member logins are among them, and are stored under their blind index.
    const memberLogins = clean.logins.filter((l) => l.role === 'member').map((l) => l.username);
    assert.ok(memberLogins.length > 0);
    const ids = new Set(fields0.map((f) => f.id));
    for (const u of memberLogins) assert.ok(ids.has(u), `demo login ${u} is a member's resident ID`);
    const keys = readKeys(clean.dataDir);
    const names = (await clean.sql("SELECT username FROM app_user WHERE role = 'member' ORDER BY id")).trim().split('\n');
    assert.deepEqual(names.sort(), memberLogins.map((u) => `m:${bidx(keys, 'id_number', u)}`).sort());
    assert.equal((await clean.sql('SELECT count(*) FROM member_pii_legacy')).trim(), '0');
    // The logins' TOTP secrets use the same keys: the demo printed them, the database holds them
    // encrypted (field app_user.totp_secret, the username bound in).
    const secrets = await loginSecrets(clean);
    const withTotp = clean.logins.filter((l) => l.totp);
    assert.ok(withTotp.length >= 2);
    for (const l of withTotp) assert.deepEqual(secrets[l.username], { version: 1, secret: l.totp }, l.username);
  });

  test('neither the database file nor its WAL (or pg_dump) holds a resident ID or a phone; the scan finds clear data', async () => {
    const srv = await startServer({ store: clean });
    try {
      // The API agrees with what was decrypted here (masked as it shows them).
      const api = await readAllMembers(srv);
      assert.equal(Object.keys(api).length, DEMO.members);
      for (const f of fields0) assert.equal(api[f.acct], maskId(f.id), `member ${f.acct}`);
      // A member opened now, while the server runs: its pages are in the WAL on SQLite.
      const agent = await loginAs(srv, 'agent');
      const dwzh = agent.user.employer_account_no;
      const fresh = await openMember(agent, dwzh, { idNumber: newIdNumber(), phone: '13912345678', name: '欧阳明月' });
      const bufs = await storedBytes(clean);
      if (STORE === 'sqlite') assert.ok(fs.existsSync(path.join(clean.dataDir, 'hpf.db-wal')), 'the WAL is scanned while it holds pages');
      // Positive controls: what is stored in clear is found, in the file, the WAL or the dump.
      const uscc = (await clean.sql('SELECT uscc FROM employer ORDER BY id LIMIT 1')).trim();
      assert.ok(found(bufs, uscc), `the scan finds the employer USCC ${uscc}`);
      assert.ok(found(bufs, '欧阳明月'), 'the scan finds the new member\'s name (UTF-8)');
      assert.ok(found(bufs, fresh.member.account_no), 'the scan finds the new account number');
      assertNoClear(bufs, fields0.map((f) => f.id), 'resident ID');
      assertNoClear(bufs, fields0.map((f) => f.phone), 'phone');
      assertNoClear(bufs, [fresh.idNumber, '13912345678'], 'new member field');
      // Nor in lower case, nor the 17 digits before the check character.
      assertNoClear(bufs, fields0.filter((f) => f.id.endsWith('X')).map((f) => f.id.toLowerCase()), 'resident ID');
      assertNoClear(bufs, fields0.slice(0, 40).map((f) => f.id.slice(0, 17)), 'resident ID body');
    } finally {
      await srv.stop();
    }
    fields0 = await decryptAll(clean); // with the fresh member
  });
});

describe(`(c) a moved or changed ciphertext on ${STORE}`, () => {
  let forged;
  let A;
  let B;
  let C;
  let D;
  before(async () => {
    [A, B, C, D] = (await memberRows(clean)).slice(0, 4);
    const flip = (s) => {
      const i = 30;
      return s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    };
    forged = await forgedStore(`UPDATE member SET phone_enc = '${A.phEnc}' WHERE id = ${B.id};
      UPDATE member SET id_number_enc = '${flip(C.idEnc)}' WHERE id = ${C.id};
      UPDATE member SET phone_enc = '${A.idEnc}' WHERE id = ${D.id};`);
  });

  test('reading it is a bare 500 and a logged security event; the other members still read', async () => {
    const srv = await startServer({ store: forged });
    try {
      const op = await loginAs(srv, 'operator');
      assertOk(await op.get(`/api/v1/members/${A.acct}`));
      for (const [m, field] of [[B, 'phone'], [C, 'id_number'], [D, 'phone']]) {
        const res = await op.get(`/api/v1/members/${m.acct}`);
        assert.equal(res.status, 500, res.text);
        assert.equal(res.json.type, 'urn:hpf:problem:internal');
        // Nothing of the row, the field or the crypto reaches the client.
        for (const leak of [m.acct, field, 'f1.', 'integrity', 'tamper']) assert.ok(!res.text.includes(leak), `${leak} in ${res.text}`);
        // The server writes its log line before the answer, but the pipe may deliver it after.
        const logged = new RegExp(`"event":"security\\.field_tampered","msg":"member ${m.acct}: the stored ${field} fails its integrity check`);
        for (let i = 0; i < 40 && !logged.test(srv.stderr()); i++) await new Promise((r) => setTimeout(r, 50));
        assert.match(srv.stderr(), logged);
      }
      const emp = (await forged.sql(`SELECT e.account_no FROM employer e JOIN member m ON m.employer_id = e.id WHERE m.id = ${B.id}`)).trim();
      assert.equal((await op.get(`/api/v1/employers/${emp}/members?limit=200`)).status, 500, 'no partial page');
    } finally {
      await srv.stop();
    }
  });

  test('hpf keys status exits 1 naming each tampered row and field', async () => {
    const r = await runHpf(['keys', 'status', ...forged.args]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const logins = Object.keys(await loginSecrets(forged)).length;
    assert.match(r.stdout, new RegExp(`^checked: ${fields0.length + logins} rows, 3 tampered, 0 unreadable$`, 'm'));
    assert.match(r.stderr, new RegExp(`member ${B.acct}: phone: the stored phone fails its integrity check`));
    assert.match(r.stderr, new RegExp(`member ${C.acct}: id_number: the stored id_number fails its integrity check`));
    assert.match(r.stderr, new RegExp(`member ${D.acct}: phone: `));
    assert.match(r.stderr, /FAILED: 3 rows fail their integrity check/);
    // A rotation leaves them as they are (a new ciphertext would launder them) and says so.
    const rot = await runHpf(['keys', 'rotate', ...forged.args]);
    assert.equal(rot.code, 1, rot.stdout + rot.stderr);
    assert.match(rot.stderr, /FAILED: 3 rows fail their integrity check and were left as they are/);
    assert.match(rot.stdout, new RegExp(`${fields0.length + logins - 3} rows re-encrypted to v2, 3 rows left on other versions`));
  });

  test('a swapped blind index (the audited value) is caught by hpf keys status and hpf audit verify', async () => {
    // Another person's index (not in this database: the unique index would refuse a copy).
    const s = await forgedStore(`UPDATE member SET id_number_bidx = '${crypto.randomBytes(32).toString('hex')}' WHERE id = ${B.id}`);
    const r = await runHpf(['keys', 'status', ...s.args]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`member ${B.acct}: id_number: the blind index is not the one of the stored value`));
    const a = await runHpf(['audit', 'verify', ...s.args]);
    assert.equal(a.code, 1, a.stdout);
    assert.match(a.stderr, new RegExp(`member ${B.acct} \\(id ${B.id}\\) differs from its audited record in id_number \\(a personal field: values not shown\\)`));
  });
});

describe(`(b) rotation on ${STORE}`, () => {
  let logins; // logins with a TOTP secret: rows too
  before(async () => {
    logins = Object.keys(await loginSecrets(clean)).length;
  });
  const status = async () => {
    const r = await runHpf(['keys', 'status', ...clean.args]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rows = {};
    for (const m of r.stdout.matchAll(/^version v(\d+)( \(current\))?: (\d+) rows$/gm)) rows[`v${m[1]}${m[2] ? '*' : ''}`] = Number(m[3]);
    return rows;
  };

  test('before: everything on v1', async () => {
    assert.deepEqual(await status(), { 'v1*': fields0.length + logins });
  });

  test('rotate in two steps (--limit, then resume); retire refuses while rows remain, succeeds after', async () => {
    const n = fields0.length + logins;
    const first = await runHpf(['keys', 'rotate', '--limit', '100', ...clean.args]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`added v2, current now\\n.*100 rows re-encrypted to v2, ${n - 100} rows left on other versions`, 's'));
    assert.deepEqual(await status(), { v1: n - 100, 'v2*': 100 });

    const refused = await runHpf(['keys', 'retire', 'v1', ...clean.args]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`${n - 100} rows are still encrypted under v1`));
    assert.match(readKeys(clean.dataDir).text, /^field v1 /m, 'v1 is still in the file');

    const rest = await runHpf(['keys', 'rotate', ...clean.args]);
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stdout, new RegExp(`resuming the rotation to v2\\n.*${n - 100} rows re-encrypted to v2, 0 rows left`, 's'));
    assert.deepEqual(await status(), { v1: 0, 'v2*': n });

    // Same values, same blind indexes, new ciphertexts.
    const now = await decryptAll(clean);
    assert.deepEqual(now.map((f) => [f.acct, f.id, f.phone]), fields0.map((f) => [f.acct, f.id, f.phone]));
    assert.ok(now.every((f) => f.version === 2));
    const secrets = await loginSecrets(clean);
    assert.equal(Object.keys(secrets).length, logins);
    for (const l of clean.logins.filter((x) => x.totp)) assert.deepEqual(secrets[l.username], { version: 2, secret: l.totp });
  });

  test('every member reads back, a member logs in with the resident ID, verify and audit verify pass', async () => {
    const srv = await startServer({ store: clean, sim: true }); // stop() runs hpf verify and hpf audit verify
    try {
      const api = await readAllMembers(srv);
      for (const f of fields0) assert.equal(api[f.acct], maskId(f.id), `member ${f.acct}`);
      const l = clean.logins.find((x) => x.role === 'member');
      const me = fields0.find((f) => f.id === l.username);
      const member = await memberLogin(srv, l.username, l.password, me.phone);
      assertOk(await member.get(`/api/v1/members/${me.acct}`));
    } finally {
      await srv.stop();
    }
    for (const cmd of [['verify'], ['audit', 'verify']]) {
      const r = await runHpf([...cmd, ...clean.args]);
      assert.equal(r.code, 0, `hpf ${cmd.join(' ')}: ${r.stdout}${r.stderr}`);
    }
  });

  test('retire v1 now that no row uses it', async () => {
    const r = await runHpf(['keys', 'retire', 'v1', ...clean.args]);
    assert.equal(r.code, 0, r.stderr);
    const keys = readKeys(clean.dataDir);
    assert.deepEqual([...keys.fields.keys()], [2]);
    assert.equal(keys.current, 2);
    assert.deepEqual(await status(), { 'v2*': fields0.length + logins });
    // The current version is never retired.
    const cur = await runHpf(['keys', 'retire', 'v2', ...clean.args]);
    assert.equal(cur.code, 1);
  });

  test('a server refuses to start without the key file, or with one that lacks a version in use', async () => {
    const s = await forgedStore('SELECT 1');
    const file = path.join(s.dataDir, 'keys', 'field.keys');
    const saved = fs.readFileSync(file, 'utf8');
    fs.rmSync(file);
    for (const cmd of [['migrate'], ['keys', 'status']]) {
      const r = await runHpf([...cmd, ...s.args]);
      assert.equal(r.code, 1, `${cmd}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /no key file .*field\.keys/);
    }
    assert.ok(!fs.existsSync(file), 'no new key was made for encrypted data');
    await assert.rejects(startServer({ store: s, verify: false }), /restore the key file/);
    // hpf verify and audit verify need no key.
    assert.equal((await runHpf(['verify', ...s.args])).code, 0);
    fs.writeFileSync(file, saved.replace(/^field v2 .*\n/m, '').replace(/^current v2$/m, 'current v1')
      .replace(/^bidx/m, `field v1 ${'0'.repeat(32)} ${'0'.repeat(64)}\nbidx`), { mode: 0o600 });
    const r = await runHpf(['migrate', ...s.args]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /encrypted under key version v2, which .* lacks/);
  });
});

describe(`(d) upgrading a database of schema 3 on ${STORE}`, () => {
  const ID1 = '320902199003071232';
  const ID2 = '11010519491231002X';
  const ID3 = '440524188001010014';
  const PHONE1 = '13800138000';
  const PHONE3 = '15912345678';
  let old;
  let pwHash;

  const sm3 = (s) => crypto.createHash('sm3').update(s).digest('hex');
  const pii = (s) => (s ? `sm3:${sm3(`hpf-pii/1|${s}`)}` : '');
  const esc = (s) => String(s).replace(/[\\|;,]/g, (c) => `\\${c}`);
  const entryHash = (prevHex, e) => crypto.createHash('sm3').update(Buffer.from(prevHex, 'hex'))
    .update(`hpf-audit/1|${e.seq}|${esc(e.at)}|${e.actor}|${esc(e.kind)}|${esc(e.ref_table)}|${e.ref_id}|${e.payload}`, 'utf8').digest('hex');
  const sqlFile = (n) => fs.readFileSync(path.join(REPO, 'sql', STORE, fs.readdirSync(path.join(REPO, 'sql', STORE)).find((f) => f.startsWith(n))), 'utf8');
  const q = (s) => `'${s.replace(/'/g, "''")}'`;

  before(async () => {
    pwHash = (await clean.sql("SELECT pw_hash FROM app_user WHERE role = 'member' ORDER BY id LIMIT 1")).trim();
    old = await createStore({ tag: 'fcold' });
    owned.push(old);
    // Schema 1 and 2, two members (one with a login) from before the audit chain, then schema 3.
    // (A leading newline: the sqlite3 shell reads an argument starting with "--" as an option.)
    await old.sql(`\n${sqlFile('0001_')}`);
    await old.sql(`\n${sqlFile('0002_')}`);
    await old.sql(`INSERT INTO employer (id, account_no, name, uscc, unit_ratio_bp, indiv_ratio_bp, state, opened_on) VALUES (1, '320900010000000011', '盐城旧数据有限公司', '91320900MA1OLD001X', 1200, 1200, '01', '2020-01-02');
      INSERT INTO member (id, account_no, employer_id, name, id_type, id_number, phone, wage, state, opened_on) VALUES
        (1, '320900000000000013', 1, '王一', '01', '${ID1}', '${PHONE1}', 600000, '01', '2020-01-02'),
        (2, '320900000000000021', 1, '李二', '01', '${ID2}', NULL, 500000, '01', '2020-01-02');
      INSERT INTO app_user (id, username, pw_hash, role, display_name, member_id) VALUES (1, '${ID1}', ${q(pwHash)}, 'member', '王一', 1);`);
    await old.sql(`\n${sqlFile('0003_')}`);
    // A member opened under schema 3, audited as the program of that time did (member/1 and
    // user/1 payloads with unkeyed digests), its login too.
    const at = '2026-11-01T08:00:00.000Z';
    const entries = [
      { kind: 'audit.genesis', ref_table: 'audit_genesis', ref_id: 0, actor: 0, payload: 'genesis/1|app_user:1|employer:1|member:2|posting:0|remittance:0|voucher:0' },
      { kind: 'member.opened', ref_table: 'member', ref_id: 3, actor: 0, payload: `member/1|320900000000000030|320900010000000011|张三|01|${pii(ID3)}|${pii(PHONE3)}|700000|01|20261101|` },
      { kind: 'user.created', ref_table: 'app_user', ref_id: 2, actor: 0, payload: `user/1|${pii(ID3)}|member|张三||320900000000000030|0|${pii(pwHash)}` },
    ];
    let prev = '0'.repeat(64);
    let sql = `INSERT INTO member (id, account_no, employer_id, name, id_type, id_number, phone, wage, state, opened_on) VALUES (3, '320900000000000030', 1, '张三', '01', '${ID3}', '${PHONE3}', 700000, '01', '2026-11-01');
      INSERT INTO app_user (id, username, pw_hash, role, display_name, member_id) VALUES (2, '${ID3}', ${q(pwHash)}, 'member', '张三', 3);`;
    entries.forEach((e, i) => {
      Object.assign(e, { seq: i + 1, at });
      const hash = entryHash(prev, e);
      sql += `UPDATE audit_head SET seq = ${e.seq} WHERE id = 1;
        INSERT INTO audit_log VALUES (${e.seq}, '${at}', 0, '${e.kind}', '${e.ref_table}', ${e.ref_id}, ${q(e.payload)}, '${prev}', '${hash}');`;
      prev = hash;
    });
    sql += `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
      INSERT INTO schema_migrations (version, name) VALUES (1, 'init'), (2, 'jobs'), (3, 'audit');`;
    await old.sql(sql);
    assert.ok(found(await storedBytes(old), ID1), 'the old database holds the resident IDs in clear');
  });

  test('hpf migrate encrypts every clear value, renames the logins, purges the file', async () => {
    const r = await runHpf(['migrate', ...old.args]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /"event":"keys\.created"/);
    assert.match(r.stderr, /"event":"keys\.upgraded","msg":"encrypted the resident IDs and phones of 3 members/);
    const keys = readKeys(old.dataDir);
    const rows = await decryptAll(old);
    assert.deepEqual(rows.map((f) => [f.acct, f.id, f.phone]), [
      ['320900000000000013', ID1, PHONE1], ['320900000000000021', ID2, ''], ['320900000000000030', ID3, PHONE3]]);
    assert.equal((await old.sql('SELECT count(*) FROM member_pii_legacy')).trim(), '0');
    assert.deepEqual((await old.sql('SELECT username FROM app_user ORDER BY id')).trim().split('\n'),
      [`m:${bidx(keys, 'id_number', ID1)}`, `m:${bidx(keys, 'id_number', ID3)}`]);
    const bufs = await storedBytes(old);
    assert.ok(found(bufs, '91320900MA1OLD001X'), 'the scan finds the employer USCC');
    assertNoClear(bufs, [ID1, ID2, ID3, PHONE1, PHONE3], 'resident ID or phone');
    // Idempotent: a second run has nothing left to do.
    const again = await runHpf(['migrate', ...old.args]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /keys\.(created|upgraded)/);
  });

  test('the audited member and login get a fresh snapshot; hpf audit verify passes', async () => {
    const kinds = (await old.sql("SELECT kind || ':' || ref_id FROM audit_log WHERE seq > 3 ORDER BY seq")).trim().split('\n');
    assert.deepEqual(kinds, ['member.protected:3', 'user.protected:2'], 'only what an entry vouched for');
    const payload = (await old.sql("SELECT payload FROM audit_log WHERE kind = 'member.protected'")).trim();
    const keys = readKeys(old.dataDir);
    assert.equal(payload, `member/2|320900000000000030|320900010000000011|张三|01|bidx:${bidx(keys, 'id_number', ID3)}|bidx:${bidx(keys, 'phone', PHONE3)}|700000|01|20261101|`);
    const r = await runHpf(['audit', 'verify', ...old.args]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /4 older than the chain/, 'members 1 and 2, their employer and the first login');
    const st = await runHpf(['keys', 'status', ...old.args]);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /^version v1 \(current\): 3 rows$/m);
    assert.match(st.stdout, /^clear: 0 rows awaiting encryption$/m);
  });

  test('the upgraded members read back and log in with their resident ID', async () => {
    const srv = await startServer({ store: Object.assign(old, { populated: true, logins: [] }), sim: true, verify: false });
    try {
      const password = clean.logins.find((l) => l.role === 'member').password;
      const m1 = await memberLogin(srv, ID1, password, PHONE1);
      const me = assertOk(await m1.get('/api/v1/members/320900000000000013'));
      assert.equal(me.id_number, maskId(ID1));
      const m3 = await memberLogin(srv, ID3, password, PHONE3);
      assert.equal(assertOk(await m3.get('/api/v1/members/320900000000000030')).id_number, maskId(ID3));
    } finally {
      await srv.stop();
    }
  });
});
