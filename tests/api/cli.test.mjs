// The hpf command line: calc contribution (RULES §1.2-A), calc interest (§2.3), version, help, exit codes, migrate, demo.
// Exit codes: 0 ok, 1 failure, 2 bad usage or bad input (one line on stderr).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { mod112Valid } from '../lib/ids.mjs';
import { STORE, createStore, parseLogins, runHpf, testCluster } from '../lib/server.mjs';

const VECTORS = {
  // RULES §1.2-A, city average 7500.00 (cap 22500.00), minimum wage 2070.00
  A: { wage: '25310.40', ratio: 12 },
  B: { wage: '1900.00', ratio: 5 },
  C: { wage: '6543.21', ratio: 8 },
};
const EXPECTED = {
  A: {
    yuan: { base: '22500.00', unit: '2700.00', individual: '2700.00', total: '5400.00' },
    jiao: { base: '22500.00', unit: '2700.00', individual: '2700.00', total: '5400.00' },
    fen: { base: '22500.00', unit: '2700.00', individual: '2700.00', total: '5400.00' },
  },
  B: {
    yuan: { base: '2070.00', unit: '104.00', individual: '104.00', total: '208.00' },
    jiao: { base: '2070.00', unit: '103.50', individual: '103.50', total: '207.00' },
    fen: { base: '2070.00', unit: '103.50', individual: '103.50', total: '207.00' },
  },
  C: {
    yuan: { base: '6543.21', unit: '523.00', individual: '523.00', total: '1046.00' },
    jiao: { base: '6543.21', unit: '523.50', individual: '523.50', total: '1047.00' },
    fen: { base: '6543.21', unit: '523.46', individual: '523.46', total: '1046.92' },
  },
};

function calcArgs({ wage, ratio, unit = ratio, indiv = ratio, rounding, cityAvg = '7500.00', minWage = '2070.00' }) {
  const a = ['calc', 'contribution', '--wage', wage, '--city-avg', cityAvg, '--min-wage', minWage, '--unit-ratio', String(unit), '--indiv-ratio', String(indiv)];
  if (rounding) a.push('--rounding', rounding);
  return a;
}

function assertUsageError(r, what) {
  const ctx = `${what}: code ${r.code}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`;
  assert.equal(r.code, 2, ctx);
  assert.equal(r.stdout, '', ctx);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `exactly one line on stderr: ${ctx}`);
}

describe('hpf calc contribution (RULES §1.2-A)', () => {
  for (const [name, v] of Object.entries(VECTORS)) {
    for (const rounding of ['yuan', 'jiao', 'fen']) {
      test(`employee ${name} (${v.wage} at ${v.ratio}%/${v.ratio}%), ${rounding} rounding`, async () => {
        const r = await runHpf(calcArgs({ ...v, rounding }));
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout), EXPECTED[name][rounding]);
        assert.equal(r.stdout.trim().split('\n').length, 1, 'one line of JSON');
      });
    }
  }

  test('yuan is the default rounding', async () => {
    const r = await runHpf(calcArgs(VECTORS.C));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), EXPECTED.C.yuan);
  });

  test('different employer and employee ratios are computed separately', async () => {
    const r = await runHpf(calcArgs({ wage: '6543.21', unit: 12, indiv: 5 }));
    assert.equal(r.code, 0, r.stderr);
    // 785.18520 -> 785; 327.1605 -> 327
    assert.deepEqual(JSON.parse(r.stdout), { base: '6543.21', unit: '785.00', individual: '327.00', total: '1112.00' });
  });

  test('the ratio bounds 5 and 12 are accepted', async () => {
    assert.equal((await runHpf(calcArgs({ wage: '5000.00', ratio: 5 }))).code, 0);
    assert.equal((await runHpf(calcArgs({ wage: '5000.00', ratio: 12 }))).code, 0);
  });

  const bad = [
    ['unit ratio 13', { wage: '6543.21', unit: 13, indiv: 8 }],
    ['individual ratio 13', { wage: '6543.21', unit: 8, indiv: 13 }],
    ['unit ratio 4', { wage: '6543.21', unit: 4, indiv: 8 }],
    ['ratio abc', { wage: '6543.21', unit: 'abc', indiv: 8 }],
    ['wage with three decimals', { wage: '6543.215', ratio: 8 }],
    ['wage abc', { wage: 'abc', ratio: 8 }],
    ['negative wage', { wage: '-1.00', ratio: 8 }],
    ['rounding "cent"', { wage: '6543.21', ratio: 8, rounding: 'cent' }],
  ];
  for (const [what, v] of bad) {
    test(`${what}: exit 2 with one line on stderr`, async () => {
      assertUsageError(await runHpf(calcArgs(v)), what);
    });
  }

  test('a missing --wage: exit 2 with one line on stderr', async () => {
    const args = calcArgs(VECTORS.C);
    args.splice(args.indexOf('--wage'), 2);
    assertUsageError(await runHpf(args), 'missing --wage');
  });
});

// RULES §2.3-A: 20,000.00 opening, 1,000.00 on the 15th of each month, 5,000.00 out on 2022-03-10.
const EX_A = [
  '2021-07-15', '2021-08-15', '2021-09-15', '2021-10-15', '2021-11-15', '2021-12-15',
  '2022-01-15', '2022-02-15', '2022-03-15', '2022-04-15', '2022-05-15', '2022-06-15',
].map((d) => `${d}:1000.00`).concat(['2022-03-10:-5000.00']);

function interestArgs({ rate = '1.5', basis, from = '2021-07-01', to = '2022-06-30', opening = '20000.00', postings = [], changes = [], leap = false }) {
  const a = ['calc', 'interest', '--rate', rate, '--basis', String(basis), '--from', from, '--to', to, '--opening', opening];
  for (const p of postings) a.push('--posting', p);
  for (const c of changes) a.push('--rate-change', c);
  if (leap) a.push('--leap-366');
  return a;
}

async function interestOk(v) {
  const r = await runHpf(interestArgs(v));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 1, 'one line of JSON');
  return JSON.parse(r.stdout);
}

describe('hpf calc interest (RULES §2.3)', () => {
  test('2.3-A at basis 360: 8,931,000.00 yuan·days, 372.13 (the 372.125 tie rounds up), 27,372.13', async () => {
    assert.deepEqual(await interestOk({ basis: 360, postings: EX_A }), { jishu: '8931000.00', interest: '372.13', closing: '27372.13' });
  });

  test('2.3-A at basis 365: 367.03', async () => {
    assert.deepEqual(await interestOk({ basis: 365, postings: EX_A }), { jishu: '8931000.00', interest: '367.03', closing: '27367.03' });
  });

  test('2.3-A with the postings in another order and "1.50", "+1000": the same figures', async () => {
    const shuffled = [...EX_A].reverse().map((p) => p.replace(':1000.00', ':+1000'));
    assert.deepEqual(await interestOk({ rate: '1.50', basis: 360, postings: shuffled }), { jishu: '8931000.00', interest: '372.13', closing: '27372.13' });
  });

  test('2.3-B, closing on 2022-01-20: interest to 2022-01-19 is 197.42, payout 27,197.42', async () => {
    const seven = EX_A.filter((p) => p < '2022-01-20');
    assert.equal(seven.length, 7);
    assert.deepEqual(await interestOk({ basis: 360, to: '2022-01-19', postings: seven }), { jishu: '4738000.00', interest: '197.42', closing: '27197.42' });
  });

  test('2.3-C, 10,000.00 over the 366 days of 2023-07-01..2024-06-30: 152.50, 150.41, 150.00 with --leap-366', async () => {
    const v = { from: '2023-07-01', to: '2024-06-30', opening: '10000' };
    assert.deepEqual(await interestOk({ ...v, basis: 360 }), { jishu: '3660000.00', interest: '152.50', closing: '10152.50' });
    assert.deepEqual(await interestOk({ ...v, basis: 365 }), { jishu: '3660000.00', interest: '150.41', closing: '10150.41' });
    assert.deepEqual(await interestOk({ ...v, basis: 365, leap: true }), { jishu: '3660000.00', interest: '150.00', closing: '10150.00' });
  });

  test('a rate change inside the year splits the jishu and rounds once: 187.33 (not 76.67 + 110.67)', async () => {
    // 10,000 x 184 days at 1.5% + (10,000 x 181 + 2,000 x 91) at 2.0%: 67,440 / 360 = 187.333
    const v = { opening: '10000.00', postings: ['2022-04-01:2000'], changes: ['2022-01-01:2.00'] };
    assert.deepEqual(await interestOk({ ...v, basis: 360 }), { jishu: '3832000.00', interest: '187.33', closing: '12187.33' });
    assert.deepEqual(await interestOk({ ...v, basis: 365 }), { jishu: '3832000.00', interest: '184.77', closing: '12184.77' });
  });

  test('a negative balance earns negative interest, rounded half-up on the absolute value', async () => {
    assert.deepEqual(await interestOk({ basis: 360, opening: '-10000.00' }), { jishu: '-3650000.00', interest: '-152.08', closing: '-10152.08' });
  });

  const bad = [
    ['no --rate', (a) => a.splice(a.indexOf('--rate'), 2)],
    ['no --opening', (a) => a.splice(a.indexOf('--opening'), 2)],
    ['--basis 366', (a) => (a[a.indexOf('--basis') + 1] = '366')],
    ['--rate abc', (a) => (a[a.indexOf('--rate') + 1] = 'abc')],
    ['--rate 1.5%', (a) => (a[a.indexOf('--rate') + 1] = '1.5%')],
    ['--rate with six decimals', (a) => (a[a.indexOf('--rate') + 1] = '1.500001')],
    ['--rate -1', (a) => (a[a.indexOf('--rate') + 1] = '-1')],
    ['--from not a date', (a) => (a[a.indexOf('--from') + 1] = '2021-02-30')],
    ['--to before --from', (a) => (a[a.indexOf('--to') + 1] = '2021-06-30')],
    ['--opening with three decimals', (a) => (a[a.indexOf('--opening') + 1] = '1.005')],
    ['a posting without its date', (a) => a.push('--posting', '1000.00')],
    ['a posting with a bad amount', (a) => a.push('--posting', '2022-01-01:1,000')],
    ['a posting after --to', (a) => a.push('--posting', '2022-07-01:1000')],
    ['a posting before --from', (a) => a.push('--posting', '2021-06-30:1000')],
    ['--leap-366 with basis 360', (a) => a.push('--leap-366')],
    ['a rate change on --from', (a) => a.push('--rate-change', '2021-07-01:2.0')],
    ['a rate change after --to', (a) => a.push('--rate-change', '2022-07-01:2.0')],
    ['two rate changes on one day', (a) => a.push('--rate-change', '2022-01-01:2.0', '--rate-change', '2022-01-01:2.5')],
    ['a rate change with a bad rate', (a) => a.push('--rate-change', '2022-01-01:two')],
    ['an unknown option', (a) => a.push('--frobnicate')],
    ['an extra argument', (a) => a.push('extra')],
  ];
  for (const [what, edit] of bad) {
    test(`${what}: exit 2 with one line on stderr`, async () => {
      const args = interestArgs({ basis: 360, postings: ['2022-01-15:1000'] });
      edit(args);
      assertUsageError(await runHpf(args), what);
    });
  }
});

describe('version, help, usage', () => {
  test('hpf version prints the version and exits 0', async () => {
    const r = await runHpf(['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\b\d+\.\d+\.\d+\b/);
  });

  test('hpf --help lists the commands and exits 0', async () => {
    const r = await runHpf(['--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const cmd of ['serve', 'migrate', 'demo', 'calc', 'version']) assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`), `--help mentions ${cmd}`);
  });

  for (const cmd of [['serve'], ['migrate'], ['demo'], ['calc', 'contribution'], ['calc', 'interest']]) {
    test(`hpf ${cmd.join(' ')} --help exits 0 and describes its options`, async () => {
      const r = await runHpf([...cmd, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /--/, 'lists options');
    });
  }

  test('an unknown command: exit 2 with one line on stderr', async () => {
    assertUsageError(await runHpf(['frobnicate']), 'unknown command');
  });

  test('an unknown option: exit 2 with one line on stderr', async () => {
    assertUsageError(await runHpf(['version', '--no-such-option']), 'unknown option');
  });

  test('no command at all: exit 2', async () => {
    const r = await runHpf([]);
    assert.equal(r.code, 2, r.stderr);
  });
});

describe(`migrate and demo on ${STORE}`, () => {
  async function withStore(fn) {
    const store = await createStore({ tag: 'cli' });
    try {
      return await fn(store);
    } finally {
      await store.drop();
    }
  }
  /** The tables of the store's database (sqlite_master or information_schema). */
  async function tables(store) {
    const out = await store.sql(store.kind === 'postgres'
      ? "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
      : "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1");
    return out.split('\n').filter(Boolean);
  }

  test('hpf migrate creates the schema and is idempotent', async () => {
    await withStore(async (store) => {
      const r1 = await runHpf(['migrate', ...store.args]);
      assert.equal(r1.code, 0, r1.stderr);
      if (store.kind === 'sqlite') assert.ok(fs.existsSync(path.join(store.dataDir, 'hpf.db')));
      else assert.ok(!fs.existsSync(path.join(store.dataDir, 'hpf.db')), 'with --db postgres://... no SQLite file is made');
      const t1 = await tables(store);
      for (const t of ['member', 'employer', 'posting', 'voucher', 'voucher_line', 'remittance', 'session']) assert.ok(t1.includes(t), `table ${t} in ${t1}`);
      const r2 = await runHpf(['migrate', ...store.args]);
      assert.equal(r2.code, 0, r2.stderr);
      assert.deepEqual(await tables(store), t1);
    });
  });

  test('hpf demo prints the documented logins (operator, agent0001, a member by id number)', async () => {
    await withStore(async (store) => {
      const r = await runHpf(['demo', ...store.args, '--employers', '1', '--members', '2', '--months', '1', '--seed', '1']);
      assert.equal(r.code, 0, r.stderr);
      const logins = parseLogins(r.stdout);
      const op = logins.find((l) => l.role === 'operator');
      const agent = logins.find((l) => l.role === 'agent');
      const member = logins.find((l) => l.role === 'member');
      // Operators and agents: a fifth word, the TOTP secret (20 random bytes, base32).
      assert.match(op.totp ?? '', /^[A-Z2-7]{32}$/, r.stdout);
      assert.match(agent.totp ?? '', /^[A-Z2-7]{32}$/, r.stdout);
      assert.notEqual(op.totp, agent.totp);
      assert.deepEqual({ ...op, totp: undefined }, { role: 'operator', username: 'operator', password: 'Counter#2026hpf', totp: undefined });
      assert.deepEqual({ ...agent, totp: undefined }, { role: 'agent', username: 'agent0001', password: 'Agent#2026hpf', totp: undefined });
      assert.equal(member.totp, undefined, 'members have no TOTP secret');
      assert.ok(member, r.stdout);
      assert.ok(mod112Valid(member.username), `member username ${member.username} is a valid id number`);
      assert.equal(member.password, 'Member#2026hpf');
      if (store.kind === 'sqlite') assert.ok(fs.existsSync(path.join(store.dataDir, 'hpf.db')));
      assert.equal((await store.sql('SELECT count(*) FROM member')).trim(), '2');
    });
  });

  test('hpf demo is deterministic: the same seed prints the same logins (TOTP secrets are fresh each time)', async () => {
    const args = ['--employers', '2', '--members', '2', '--months', '1', '--seed', '42'];
    const a = await withStore((store) => runHpf(['demo', ...store.args, ...args]));
    const b = await withStore((store) => runHpf(['demo', ...store.args, ...args]));
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    // A TOTP secret is key material: random, never derived from the seed.
    const withoutSecrets = (out) => parseLogins(out).map(({ totp, ...l }) => l);
    assert.deepEqual(withoutSecrets(a.stdout), withoutSecrets(b.stdout));
    const secrets = (out) => parseLogins(out).filter((l) => l.totp).map((l) => l.totp);
    assert.equal(secrets(a.stdout).length, 5, 'the operators (centre and 建湖), the administrator, two agents');
    assert.deepEqual(secrets(a.stdout).filter((s) => secrets(b.stdout).includes(s)), []);
  });

  test('hpf demo with a non-numeric --employers: exit 2 with one line on stderr', async () => {
    await withStore(async (store) => {
      assertUsageError(await runHpf(['demo', ...store.args, '--employers', 'many', '--members', '2', '--months', '1', '--seed', '1']), 'bad --employers');
    });
  });
});

describe('PostgreSQL URLs', { skip: STORE !== 'postgres' && 'runs in the PostgreSQL run (HPF_TEST_STORE=postgres)' }, () => {
  test('HPF_DB selects the database, and the config file key db does too', async () => {
    const store = await createStore({ tag: 'cli' });
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'hpf-cfg-'));
    try {
      let r = await runHpf(['migrate', '--data-dir', store.dataDir], { env: { HPF_DB: store.url } });
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await store.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'member'")).trim() === '1');
      assert.ok(!fs.existsSync(path.join(store.dataDir, 'hpf.db')));
      const conf = path.join(base, 'hpf.conf');
      fs.writeFileSync(conf, `db = ${store.url}\ndata_dir = ${base}/d\n`);
      r = await runHpf(['verify', '--config', conf]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^hpf verify: ok/);
      assert.ok(!fs.existsSync(path.join(base, 'd', 'hpf.db')));
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
      await store.drop();
    }
  });

  test('a server that does not answer: exit 1 with one line on stderr, quickly', async () => {
    // a loopback port that was just free: connection refused is immediate
    const port = await new Promise((resolve, reject) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      }).on('error', reject);
    });
    const t0 = Date.now();
    const r = await runHpf(['migrate', '--data-dir', os.tmpdir(), '--db', `postgres://postgres@127.0.0.1:${port}/nowhere`], { timeoutMs: 30000 });
    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line on stderr: ${r.stderr}`);
    assert.ok(Date.now() - t0 < 20000);
  });

  test('a database that does not exist: exit 1 with one line on stderr naming it', async () => {
    const r = await runHpf(['migrate', '--data-dir', os.tmpdir(), '--db', testCluster().url('hpf_no_such_db')]);
    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line on stderr: ${r.stderr}`);
    assert.match(r.stderr, /hpf_no_such_db/);
  });
});

// SQLite-file tests: they check where the SQLite file lands.
describe('configuration: flags over environment over the config file', () => {
  const mk = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hpf-cfg-'));
  const dbIn = (dir) => fs.existsSync(path.join(dir, 'hpf.db'));

  test('the config file sets the data directory', async () => {
    const base = mk();
    try {
      const conf = path.join(base, 'hpf.conf');
      fs.writeFileSync(conf, `# comment\ndata_dir = ${base}/from-file\n\nlisten = 127.0.0.1:9443\n`);
      const r = await runHpf(['migrate', '--config', conf]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(dbIn(path.join(base, 'from-file')));
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  test('HPF_DATA_DIR beats the file (HPF_CONFIG names it), and --data-dir beats both', async () => {
    const base = mk();
    try {
      const conf = path.join(base, 'hpf.conf');
      fs.writeFileSync(conf, `data_dir = ${base}/from-file\n`);
      let r = await runHpf(['migrate'], { env: { HPF_CONFIG: conf, HPF_DATA_DIR: `${base}/from-env` } });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(dbIn(path.join(base, 'from-env')));
      assert.ok(!dbIn(path.join(base, 'from-file')));
      r = await runHpf(['migrate', '--data-dir', `${base}/from-flag`], { env: { HPF_CONFIG: conf, HPF_DATA_DIR: `${base}/from-env` } });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(dbIn(path.join(base, 'from-flag')));
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  test('--db beats the data directory for the database file', async () => {
    const base = mk();
    try {
      const r = await runHpf(['migrate', '--data-dir', `${base}/d`, '--db', `sqlite:${base}/other.db`]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(fs.existsSync(path.join(base, 'other.db')));
      assert.ok(!dbIn(path.join(base, 'd')));
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  for (const [name, text, re] of [
    ['an unknown key', 'colour = blue\n', /unknown key 'colour'/],
    ['a line without =', 'data_dir\n', /expected key = value/],
  ]) {
    test(`a config file with ${name} is bad input: exit 2, one line naming file and line`, async () => {
      const base = mk();
      try {
        const conf = path.join(base, 'hpf.conf');
        fs.writeFileSync(conf, text);
        const r = await runHpf(['migrate', '--config', conf, '--data-dir', base]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, new RegExp(`hpf\\.conf:1: `));
        assert.match(r.stderr, re);
        assert.equal(r.stderr.trim().split('\n').length, 1);
      } finally {
        fs.rmSync(base, { recursive: true, force: true });
      }
    });
  }

  test('an unknown database URL scheme is bad input (exit 2)', async () => {
    const r = await runHpf(['migrate', '--db', 'mysql://x/y', '--data-dir', os.tmpdir()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown database URL scheme/);
  });
});
