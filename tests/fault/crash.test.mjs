// Crash safety of the two batch jobs (issue 5, "Crash safety"; docs/internals/crash-safety.md):
// `hpf job remit` (one month's 汇缴 for every employer) and `hpf job interest` (the annual
// settlement) are killed with SIGKILL at random points, then run again to completion; after
// each, `hpf verify` and `hpf audit verify` hold, every account was posted exactly once, and the
// figures equal those of a run that was never killed.
//
// One base store (`hpf demo`: 30 employers, 1,000 members, March..May 2026 posted, no June, no
// settlement), and per run a fresh copy of it (SQLite: the file and the keys; PostgreSQL: CREATE
// DATABASE ... TEMPLATE). Small transactions (--per-tx 1: 30 commits; --batch 20: 50 commits)
// give each kill a real chance to land between commits, and the test asserts that most did.
// The kill point: after k progress lines (k uniform over the reference run's lines, k = 0 a
// delay before the first one) plus a random jitter within one commit's time, so kills land
// inside transactions as well as between them.
//
// Cost, measured with the ASan build (build-test/hpf) on this 2-core machine while other work
// kept its load average at 4-6: 95 s on SQLite, 170 s on PostgreSQL for the whole file (2 x 20
// runs; a run is mostly its copy and the two verifies; the diagnostics give each run's split).
// Set HPF_CRASH_SEED=N to replay a run's choices (the seed is printed in the diagnostics and in
// every failure message), HPF_CRASH_RUNS=N for more runs.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HPF_BIN, STORE, createStore, freshDbName, populate, runHpf } from '../lib/server.mjs';

const RUNS = Number(process.env.HPF_CRASH_RUNS || 20);
const SEED = Number(process.env.HPF_CRASH_SEED || crypto.randomInt(1, 2 ** 31));
const DEMO = { employers: 30, members: 1000, months: 3, seed: 47 };
const DEMO_DATE = '2026-06-10'; // --months 3: March, April, May posted; June open
const REMIT_DATE = '2026-06-15';
const MONTH = '2026-06';
const PERIOD = 202606;
const INTEREST_DATE = '2026-07-01';
const YEAR = 2026;
const PER_TX = 1;
const BATCH = 20;
const REMIT_LINE = /^hpf job remit: \d{4}-\d\d: \d+ employers, /;
const INTEREST_LINE = /^hpf job interest: year \d+: \d+ accounts read, /;

const remitArgs = ['job', 'remit', '--month', MONTH, '--per-tx', String(PER_TX)];
const interestArgs = ['job', 'interest', '--year', String(YEAR), '--batch', String(BATCH)];

// A small deterministic generator (mulberry32), so that a seed replays every choice.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
const randInt = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1)); // lo..hi inclusive

let base; // the demo store
let interestBase; // a copy of base with June posted by an uncrashed run
const copies = [];
let seq = 0;

function execP(file, args) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 << 20, timeout: 60000 }, (e, stdout, stderr) => {
      if (e) {
        e.message = `${file} ${args.join(' ')}: ${e.message}\n${stderr}`;
        reject(e);
      } else {
        resolve(stdout);
      }
    });
  });
}

/**
 * A fresh copy of a populated store: {args, sql(text), drop()}. SQLite: the database file and
 * the key files (field encryption, seals) in a data dir of its own; PostgreSQL: a new database
 * made from the source as its template (the data dir, with the keys, is shared).
 */
async function copyOf(src) {
  seq += 1;
  let c;
  if (STORE === 'postgres') {
    const pg = src.cluster;
    const db = freshDbName('crash');
    await pg.createdb(db, src.dbName);
    c = {
      dbName: db,
      cluster: pg,
      dataDir: src.dataDir,
      args: ['--data-dir', src.dataDir, '--db', pg.url(db)],
      sql: (text) => pg.sql(db, text),
      drop: () => (process.env.HPF_KEEP_DATA ? Promise.resolve() : pg.dropdb(db)),
    };
  } else {
    const dir = path.join(base.dataDir, 'copies', String(seq));
    await fs.promises.mkdir(dir, { recursive: true });
    await fs.promises.copyFile(path.join(src.dataDir, 'hpf.db'), path.join(dir, 'hpf.db'));
    // WAL mode: a clean close folds the log into the file, but a log left over is part of it.
    if (fs.existsSync(path.join(src.dataDir, 'hpf.db-wal'))) {
      await fs.promises.copyFile(path.join(src.dataDir, 'hpf.db-wal'), path.join(dir, 'hpf.db-wal'));
    }
    await fs.promises.cp(path.join(src.dataDir, 'keys'), path.join(dir, 'keys'), { recursive: true });
    const file = path.join(dir, 'hpf.db');
    c = {
      dataDir: dir,
      args: ['--data-dir', dir],
      sql: (text) => execP('sqlite3', ['-batch', file, text]),
      drop: () => (process.env.HPF_KEEP_DATA ? Promise.resolve() : fs.promises.rm(dir, { recursive: true, force: true })),
    };
  }
  copies.push(c);
  return c;
}

async function dropCopy(c) {
  const i = copies.indexOf(c);
  if (i >= 0) copies.splice(i, 1);
  await c.drop();
}

const rows = (text) => text.split('\n').filter((l) => l !== '');
const one = async (c, q) => (await c.sql(q)).trim();
const num = async (c, q) => Number(await one(c, q));

// The environment of the hpf under test, as tests/lib/server.mjs makes it: no HPF_* setting of
// the developer's shell but the harness's own.
function hpfEnv(env) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('HPF_') || k === 'HPF_BIN' || k === 'HPF_KEEP_DATA' || k.startsWith('HPF_TEST_')) out[k] = v;
  }
  return { ...out, ...env };
}

/**
 * Run `hpf ARGS` and SIGKILL it at a chosen point: after `lines` progress lines on stderr
 * (matching `re`) plus `jitterMs`, or, with lines = 0, `jitterMs` after the start. Resolves
 * {code, signal, killed, lines (seen), times (ms from the start of each line), stderr}; with
 * kill null the run is left to finish.
 */
function runKilled(args, date, re, kill) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(HPF_BIN, args, { env: hpfEnv({ HPF_BUSINESS_DATE: date }), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    let buf = '';
    let seen = 0;
    const times = [];
    let armed = false;
    let killed = false;
    const timers = [];
    const fire = () => {
      if (child.exitCode === null && child.signalCode === null) {
        killed = child.kill('SIGKILL');
      }
    };
    const arm = () => {
      if (armed) return;
      armed = true;
      timers.push(setTimeout(fire, kill.jitterMs));
    };
    if (kill && kill.lines === 0) arm();
    const guard = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      err += d;
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (re.test(line)) {
          seen += 1;
          times.push(Date.now() - t0);
          if (kill && seen >= kill.lines) arm();
        }
      }
    });
    child.on('error', (e) => reject(new Error(`cannot run ${HPF_BIN}: ${e.message}`)));
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      for (const t of timers) clearTimeout(t);
      resolve({ code, signal, killed: killed && signal === 'SIGKILL', lines: seen, times, stdout: out, stderr: err, ms: Date.now() - t0 });
    });
  });
}

/** A kill point for a job whose uncrashed run printed its progress lines at `times`. */
function killPoint(times) {
  const n = times.length; // the last line is printed as the job ends: k < n
  const gap = Math.max(1, Math.round((times[n - 1] - times[0]) / Math.max(1, n - 1)));
  const k = randInt(0, n - 1);
  return k === 0 ? { lines: 0, jitterMs: randInt(0, times[0] + gap) } : { lines: k, jitterMs: randInt(0, gap) };
}

async function hpfOk(what, args, env = {}) {
  const r = await runHpf(args, { env });
  assert.equal(r.code, 0, `${what} exited ${r.code} (seed ${SEED}):\n${r.stdout}${r.stderr.slice(-4000)}`);
  return r;
}

/** `hpf verify` and `hpf audit verify` on a copy, side by side (both only read). */
async function verifyBoth(c, where) {
  const [v, a] = await Promise.all([runHpf(['verify', ...c.args]), runHpf(['audit', 'verify', ...c.args])]);
  assert.equal(v.code, 0, `hpf verify after ${where} (seed ${SEED}):\n${v.stdout}${v.stderr}`);
  assert.equal(a.code, 0, `hpf audit verify after ${where} (seed ${SEED}):\n${a.stdout}${a.stderr}`);
}

// ---- what each run is compared with --------------------------------------------------------
// Each check is one SQL statement that lists its violations (empty when all hold), so that a run
// costs few sqlite3/psql processes; the rows name what is wrong.

const JUNE = `p.kind = '01' AND p.period = ${PERIOD} AND p.reversal_of IS NULL`;
const JUNE_OF_M = `(SELECT count(*) FROM posting p WHERE p.member_id = m.id AND ${JUNE})`;
const MONTH_OF_E = `(SELECT count(*) FROM remittance r WHERE r.employer_id = e.id AND r.period = ${PERIOD}
  AND r.kind = '01' AND r.member_id IS NULL)`;
const REMIT_VIOLATIONS = `
  SELECT 'member ' || m.account_no || ': ' || ${JUNE_OF_M} || ' June postings, want 1'
    FROM member m JOIN employer e ON e.id = m.employer_id
    WHERE m.state = '01' AND e.state = '01' AND ${JUNE_OF_M} <> 1
  UNION ALL
  SELECT 'member ' || m.account_no || ' (state ' || m.state || ', employer ' || e.state || '): a June posting it does not owe'
    FROM posting p JOIN member m ON m.id = p.member_id JOIN employer e ON e.id = m.employer_id
    WHERE ${JUNE} AND NOT (m.state = '01' AND e.state = '01')
  UNION ALL
  SELECT 'employer ' || e.account_no || ': ' || ${MONTH_OF_E} || ' June remittances, want 1'
    FROM employer e WHERE e.state = '01' AND ${MONTH_OF_E} <> 1
  UNION ALL
  SELECT 'remittance ' || r.serial || ': members ' || r.members || ' total ' || r.total || ', its postings '
      || COALESCE(x.n, 0) || ' and ' || COALESCE(x.s, 0)
    FROM remittance r LEFT JOIN (SELECT p.remittance_id, count(*) AS n, sum(p.amount) AS s FROM posting p
      WHERE ${JUNE} GROUP BY p.remittance_id) x ON x.remittance_id = r.id
    WHERE r.period = ${PERIOD} AND r.kind = '01' AND (x.n IS NULL OR x.n <> r.members OR x.s <> r.total)
  UNION ALL
  SELECT 'the month: postings ' || y.sp || ', remittances ' || y.sr
    FROM (SELECT (SELECT COALESCE(sum(p.amount), 0) FROM posting p WHERE ${JUNE}) AS sp,
      (SELECT COALESCE(sum(r.total), 0) FROM remittance r WHERE r.period = ${PERIOD} AND r.kind = '01') AS sr) y
    WHERE y.sp <> y.sr
  UNION ALL
  SELECT 'posting ' || p.id || ': a June 汇缴 posting without its remittance' FROM posting p
    WHERE ${JUNE} AND p.remittance_id IS NULL`;
// What must equal the uncrashed run's, member by member and employer by employer.
const REMIT_FIGURES = `
  SELECT 'p ' || m.account_no || ' ' || p.amount || ' ' || p.unit_amount || ' ' || p.indiv_amount AS f
    FROM posting p JOIN member m ON m.id = p.member_id WHERE ${JUNE}
  UNION ALL
  SELECT 'r ' || e.account_no || ' ' || r.members || ' ' || r.total AS f FROM remittance r
    JOIN employer e ON e.id = r.employer_id WHERE r.period = ${PERIOD} AND r.kind = '01' AND r.member_id IS NULL
  ORDER BY 1`;

const INTEREST = `p.kind = '09' AND p.period = ${YEAR} AND p.reversal_of IS NULL`;
const INTEREST_OF_M = `(SELECT count(*) FROM posting p WHERE p.member_id = m.id AND ${INTEREST})`;
// The balance before the settlement: the balance less the year's interest posting.
const BEFORE_OF_M = `((SELECT b.balance FROM member_balance b WHERE b.member_id = m.id) - COALESCE((SELECT sum(p.amount) FROM posting p WHERE p.member_id = m.id AND ${INTEREST}), 0))`;
const INTEREST_VIOLATIONS = `
  SELECT 'member ' || m.account_no || ' (state ' || m.state || ', balance before ' || ${BEFORE_OF_M} || '): '
      || ${INTEREST_OF_M} || ' interest postings of the year'
    FROM member m WHERE ${INTEREST_OF_M}
      <> CASE WHEN m.state NOT IN ('03', '04', '05') AND ${BEFORE_OF_M} > 0 THEN 1 ELSE 0 END
  UNION ALL
  SELECT 'interest_run: accounts ' || r.accounts || ' interest ' || r.interest || ' finished '
      || COALESCE(r.finished_at, 'no') || '; postings ' || x.n || ' and ' || x.s
    FROM interest_run r, (SELECT count(*) AS n, COALESCE(sum(p.amount), 0) AS s FROM posting p WHERE ${INTEREST}) x
    WHERE r.year = ${YEAR} AND (r.accounts <> x.n OR r.interest <> x.s OR r.finished_at IS NULL)
  UNION ALL
  SELECT 'no interest_run row' WHERE NOT EXISTS (SELECT 1 FROM interest_run WHERE year = ${YEAR})`;
const INTEREST_FIGURES = `SELECT m.account_no || ' ' || p.amount FROM posting p JOIN member m ON m.id = p.member_id
  WHERE ${INTEREST} ORDER BY 1`;

const ref = { remit: null, interest: null };

/** The remittance invariants of a copy after the month ran to its end. */
async function checkRemit(c, where) {
  assert.deepEqual(rows(await c.sql(REMIT_VIOLATIONS)), [], `the remittance invariants after ${where} (seed ${SEED})`);
  // The same postings and remittances, to the fen, as the run that was never killed.
  if (ref.remit) assert.deepEqual(rows(await c.sql(REMIT_FIGURES)), ref.remit.figures, `the figures of the uncrashed run after ${where} (seed ${SEED})`);
}

/** The interest invariants of a copy after the settlement ran to its end. */
async function checkInterest(c, where) {
  assert.deepEqual(rows(await c.sql(INTEREST_VIOLATIONS)), [], `the settlement invariants after ${where} (seed ${SEED})`);
  // Same member, same interest as the run that was never killed.
  if (ref.interest) assert.deepEqual(rows(await c.sql(INTEREST_FIGURES)), ref.interest.figures, `the interest of the uncrashed run after ${where} (seed ${SEED})`);
}

// ---- the stores ------------------------------------------------------------------------------

before(async () => {
  base = await createStore({ tag: 'crash' });
  await populate(base, { demo: DEMO, env: { HPF_BUSINESS_DATE: DEMO_DATE } });
  // The base is what the brief says: June open, no settlement.
  assert.equal(await num(base, `SELECT count(*) FROM remittance WHERE period = ${PERIOD}`), 0, 'the demo posted June');
  assert.equal(await num(base, `SELECT count(DISTINCT period) FROM remittance WHERE kind = '01'`), 3, 'the demo posted other than 3 months');
  assert.equal(await num(base, 'SELECT count(*) FROM interest_run'), 0, 'the demo ran a settlement');
  // The uncrashed remittance run: the reference figures, the timing of its progress lines, and
  // the base of the interest runs.
  interestBase = await copyOf(base);
  const r = await runKilled([...remitArgs, ...interestBase.args], REMIT_DATE, REMIT_LINE, null);
  assert.equal(r.code, 0, `the uncrashed remittance run:\n${r.stderr}`);
  assert.ok(r.lines >= 20, `only ${r.lines} commits in the remittance run: too few to kill between`);
  const employers = await num(interestBase, `SELECT count(*) FROM employer WHERE state = '01'`);
  await verifyBoth(interestBase, 'the uncrashed remittance run');
  await checkRemit(interestBase, 'the uncrashed remittance run');
  const figures = rows(await interestBase.sql(REMIT_FIGURES));
  ref.remit = { run: r, figures, employers };
  assert.equal(figures.filter((l) => l.startsWith('p ')).length, DEMO.members, 'the uncrashed run posted other than every member');
  assert.equal(figures.filter((l) => l.startsWith('r ')).length, employers, 'the uncrashed run posted other than every employer');
});

after(async () => {
  const errors = [];
  for (const c of [...copies]) {
    try {
      await dropCopy(c);
    } catch (e) {
      errors.push(e);
    }
  }
  try {
    await base?.drop();
  } catch (e) {
    errors.push(e);
  }
  if (errors.length) throw errors[0];
});

/**
 * The crash loop of one job: `runs` copies of `src`, each killed at a random point and run again
 * to its end, then checked. `committed(c)` counts what a copy holds of the job's work. Returns
 * the tally.
 */
async function crashRuns(t, { name, src, args, date, re, times, total, committed, check, doneRe, cleanRe = null }) {
  const tally = { runs: 0, mid: 0, none: 0, all: 0, finished: 0 };
  for (let i = 1; i <= RUNS; i++) {
    const t0 = Date.now();
    const c = await copyOf(src);
    const t1 = Date.now();
    const where = `${name} run ${i}`;
    const point = killPoint(times);
    const k = await runKilled([...args, ...c.args], date, re, point);
    assert.ok(k.killed || k.code === 0, `${where}: the killed run ended with ${k.code}/${k.signal} (seed ${SEED}):\n${k.stderr.slice(-4000)}`);
    const held = await committed(c);
    tally.runs += 1;
    if (!k.killed) tally.finished += 1;
    else if (held === 0) tally.none += 1;
    else if (held === total) tally.all += 1;
    else tally.mid += 1;
    // The rerun takes what is left, and only that.
    const t2 = Date.now();
    const r = await hpfOk(`${where}: the rerun`, [...args, ...c.args], { HPF_BUSINESS_DATE: date });
    const t3 = Date.now();
    const m = doneRe.exec(r.stdout);
    assert.ok(m, `${where}: no summary line from the rerun:\n${r.stdout}`);
    assert.equal(Number(m[1]) + held, total, `${where}: the rerun did ${m[1]} after ${held} of ${total} committed (seed ${SEED})`);
    if (cleanRe) assert.match(r.stdout, cleanRe, `${where}: the rerun refused work (seed ${SEED})`);
    await verifyBoth(c, where);
    const t4 = Date.now();
    await check(c, where);
    const t5 = Date.now();
    await dropCopy(c);
    t.diagnostic(`${where}: killed after ${point.lines} lines + ${point.jitterMs} ms (${k.killed ? `${k.lines} seen` : 'finished first'}), `
      + `${held}/${total} committed; ms: copy ${t1 - t0}, killed run ${k.ms}, rerun ${t3 - t2}, verify ${t4 - t3}, checks ${t5 - t4}, drop ${Date.now() - t5}`);
  }
  return tally;
}

test(`hpf job remit killed at random points ${RUNS} times: each rerun completes the month exactly once (${STORE})`, async (t) => {
  t.diagnostic(`seed ${SEED}`);
  t.diagnostic(`uncrashed run: ${ref.remit.run.lines} commits in ${ref.remit.run.ms} ms (first at ${ref.remit.run.times[0]} ms)`);

  const tally = await crashRuns(t, {
    name: 'remit',
    src: base,
    args: remitArgs,
    date: REMIT_DATE,
    re: REMIT_LINE,
    times: ref.remit.run.times,
    total: ref.remit.employers,
    committed: (c) => num(c, `SELECT count(*) FROM remittance WHERE period = ${PERIOD} AND kind = '01'`),
    check: checkRemit,
    doneRe: /^hpf job remit: \d{4}-\d\d: (\d+) remittances posted/m,
    cleanRe: /; 0 employers refused$/m,
  });
  t.diagnostic(`remit: ${JSON.stringify(tally)}`);
  assert.ok(tally.mid * 2 >= tally.runs, `only ${tally.mid} of ${tally.runs} kills landed mid-run (seed ${SEED}): ${JSON.stringify(tally)}`);
});

test(`hpf job interest killed at random points ${RUNS} times: each rerun settles every account once, as an uncrashed run (${STORE})`, async (t) => {
  t.diagnostic(`seed ${SEED}`);
  const live = await num(interestBase, `SELECT count(*) FROM member m JOIN member_balance b ON b.member_id = m.id WHERE m.state NOT IN ('03', '04', '05') AND b.balance > 0`);
  const refCopy = await copyOf(interestBase);
  const r = await runKilled([...interestArgs, ...refCopy.args], INTEREST_DATE, INTEREST_LINE, null);
  assert.equal(r.code, 0, `the uncrashed settlement:\n${r.stderr}`);
  assert.ok(r.lines >= 20, `only ${r.lines} commits in the settlement: too few to kill between`);
  await verifyBoth(refCopy, 'the uncrashed settlement');
  await checkInterest(refCopy, 'the uncrashed settlement');
  ref.interest = { figures: rows(await refCopy.sql(INTEREST_FIGURES)) };
  assert.equal(ref.interest.figures.length, live, 'the uncrashed settlement posted other than every live account with a balance');
  assert.ok(ref.interest.figures.every((l) => Number(l.split(' ')[1]) > 0), 'an interest posting of 0 or less');
  t.diagnostic(`uncrashed settlement: ${r.lines} progress lines in ${r.ms} ms (first at ${r.times[0]} ms)`);
  await dropCopy(refCopy);

  const tally = await crashRuns(t, {
    name: 'interest',
    src: interestBase,
    args: interestArgs,
    date: INTEREST_DATE,
    re: INTEREST_LINE,
    // the last line (": done") comes after the last commit
    times: r.times,
    total: live,
    committed: (c) => num(c, `SELECT count(*) FROM posting WHERE kind = '09' AND period = ${YEAR}`),
    check: checkInterest,
    doneRe: /^hpf job interest: year \d+ settled: \d+ accounts, (\d+) interest postings/m,
  });
  t.diagnostic(`interest: ${JSON.stringify(tally)}`);
  assert.ok(tally.mid * 2 >= tally.runs, `only ${tally.mid} of ${tally.runs} kills landed mid-run (seed ${SEED}): ${JSON.stringify(tally)}`);
});
