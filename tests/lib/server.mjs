// The black-box test harness: start a real `hpf serve` on a free loopback port with a fresh
// database, talk HTTPS to it as a client would, stop it and demand a clean exit.
//
//   const srv = await startServer();                  // demo data: 1 employer, 3 members, 1 month
//   const op = await loginAs(srv, 'operator');         // a session: keeps the cookie and CSRF token
//   const r = await op.post('/api/v1/employers', {...});   // {status, headers, json, text}
//   await srv.stop();                                   // throws unless hpf exited 0 (sanitizers!)
//
// Environment: HPF_BIN (default <repo>/build-test/hpf); HPF_KEEP_DATA=1 keeps the temp dirs
// (and, on PostgreSQL, the databases).
//
// The store: HPF_TEST_STORE=sqlite (default) gives each server a fresh data dir with its SQLite
// file, as `hpf` does by default. HPF_TEST_STORE=postgres with HPF_TEST_PG_DIR=DIR (a cluster
// running from `scripts/pgtest.sh start DIR`) gives each server a fresh database on that cluster
// instead: `hpf demo|migrate|serve|verify --data-dir D --db postgres://postgres@127.0.0.1:PORT/NAME`
// (the data dir still holds the TLS certificate); the database is dropped at stop().
//   const store = await createStore();       // what startServer does for itself
//   await runHpf(['migrate', ...store.args]);  // --data-dir D [--db URL]
//   await store.sql('SELECT count(*) FROM member');  // through sqlite3 or psql
//   await store.drop();
// Several servers on one database: startServer({store}) with a store made by createStore(); the
// first server fills it (demo), later ones reuse it; the caller drops it.
// The server's certificate is self-signed: this client does not verify it (rejectUnauthorized
// false on its own https.Agent; nothing global is changed). One test compares the served
// certificate with DIR/tls/cert.pem instead.

import { execFile, execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { step as totpStep, totp } from './totp.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HPF_BIN = process.env.HPF_BIN || path.join(REPO, 'build-test', 'hpf');
export const BUSINESS_DATE = '2026-11-15';
export const DEFAULT_DEMO = Object.freeze({ employers: 1, members: 3, months: 1, seed: 1 });

/** 'sqlite' or 'postgres': the store the servers and helpers of this process use. */
export const STORE = (process.env.HPF_TEST_STORE || 'sqlite').toLowerCase();
if (STORE !== 'sqlite' && STORE !== 'postgres') {
  throw new Error(`HPF_TEST_STORE=${process.env.HPF_TEST_STORE}: want sqlite or postgres`);
}
export const PGTEST = path.join(REPO, 'scripts', 'pgtest.sh');
export const PGBIN = '/usr/lib/postgresql/15/bin';

const START_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 20000;
const REQUEST_TIMEOUT_MS = 15000;
const TAIL = 6000;

// Children still running when the test process exits are killed, whatever happened.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

function tail(s, n = TAIL) {
  return s.length > n ? `...${s.slice(-n)}` : s;
}

// hpf settings from the developer's shell (HPF_DB, HPF_CONFIG, ...) never reach the hpf under
// test: a test passes what it means through `env` or flags. HPF_BIN, HPF_TEST_* and
// HPF_KEEP_DATA are the harness's own.
function hpfEnv(env) {
  const base = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('HPF_') || k === 'HPF_BIN' || k === 'HPF_KEEP_DATA' || k.startsWith('HPF_TEST_')) base[k] = v;
  }
  return { ...base, HPF_BUSINESS_DATE: BUSINESS_DATE, ...env };
}

/**
 * Run `hpf ARGS...` to completion. Resolves {code, signal, stdout, stderr}; rejects only when the
 * binary cannot be started or does not finish within timeoutMs.
 */
export function runHpf(args, { env = {}, input, timeoutMs = 120000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(HPF_BIN, args, { env: hpfEnv(env), cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      reject(new Error(`cannot run ${HPF_BIN}: ${e.message}`));
      return;
    }
    live.add(child);
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hpf ${args.join(' ')}: no exit after ${timeoutMs} ms\n${tail(Buffer.concat(err).toString())}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      live.delete(child);
      reject(new Error(`cannot run ${HPF_BIN} (set HPF_BIN or build build-test): ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/**
 * Parse the `login ROLE USERNAME PASSWORD [TOTP_SECRET_BASE32]` lines that `hpf demo` prints:
 * [{role, username, password, totp?}] (totp: the base32 secret of operators and agents).
 */
export function parseLogins(stdout) {
  const logins = [];
  for (const line of stdout.split('\n')) {
    const m = /^login (\S+) (\S+) (\S+)(?: ([A-Z2-7]+))?\s*$/.exec(line);
    if (m) logins.push({ role: m[1], username: m[2], password: m[3], ...(m[4] ? { totp: m[4] } : {}) });
  }
  return logins;
}

async function rmrf(dir) {
  if (dir && !process.env.HPF_KEEP_DATA) await fs.promises.rm(dir, { recursive: true, force: true });
}

function execFileP(file, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 << 20, timeout: 60000, ...opts }, (e, stdout, stderr) => {
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
 * A PostgreSQL cluster started by scripts/pgtest.sh: {dir, port, url(db), sql(db, text),
 * createdb(name), dropdb(name)}. Tests that run their own clusters (primary and standby) use
 * pgCluster(dir) on each.
 */
export function pgCluster(dir) {
  const port = Number(execFileSync(PGTEST, ['port', dir], { encoding: 'utf8' }).trim());
  const c = {
    dir,
    port,
    url: (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`,
    /** Run SQL through psql (errors stop it); resolves stdout, unaligned, tuples only. */
    sql: (db, text) =>
      execFileP(path.join(PGBIN, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port),
        '-U', 'postgres', '-d', db, '-c', text]),
    createdb: (name, template) => c.sql('postgres', `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`),
    dropdb: (name) => c.sql('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
  return c;
}

/**
 * Start a PostgreSQL cluster of this test's own (scripts/pgtest.sh start) in a fresh folder
 * under HPF_TEST_PG_SCRATCH (tests/run.sh sets it, and stops what a killed test left there) or
 * the temp dir. Resolves a pgCluster with stop() (stop and remove), kill() (an immediate stop,
 * the folder kept), promote(), and standby({sync}) (a streaming hot standby of it, started).
 * The caller stops every cluster it started, in a finally block.
 */
export async function startPgCluster(tag = 'pg') {
  const parent = process.env.HPF_TEST_PG_SCRATCH || os.tmpdir();
  const dir = await fs.promises.mkdtemp(path.join(parent, `${tag}-`));
  try {
    await execFileP(PGTEST, ['start', dir], { timeout: 120000 });
  } catch (e) {
    await execFileP(PGTEST, ['stop', dir]).catch(() => {});
    await fs.promises.rm(dir, { recursive: true, force: true });
    throw e;
  }
  return withControls(pgCluster(dir));
}

function withControls(c) {
  c.stop = () => execFileP(PGTEST, ['stop', c.dir], { timeout: 120000 });
  c.kill = () => execFileP(PGTEST, ['kill', c.dir], { timeout: 120000 });
  c.promote = () => execFileP(PGTEST, ['promote', c.dir], { timeout: 120000 });
  c.standby = async ({ sync = false, tag = 'standby' } = {}) => {
    const parent = path.dirname(c.dir);
    const dir = await fs.promises.mkdtemp(path.join(parent, `${tag}-`));
    try {
      await execFileP(PGTEST, ['standby', c.dir, dir, ...(sync ? ['--sync'] : [])], { timeout: 180000 });
    } catch (e) {
      await execFileP(PGTEST, ['stop', dir]).catch(() => {});
      await fs.promises.rm(dir, { recursive: true, force: true });
      throw e;
    }
    return withControls(pgCluster(dir));
  };
  return c;
}

let sharedCluster = null;
/** The cluster of HPF_TEST_PG_DIR (postgres runs only). */
export function testCluster() {
  if (!sharedCluster) {
    const dir = process.env.HPF_TEST_PG_DIR;
    if (!dir) {
      throw new Error('HPF_TEST_STORE=postgres needs HPF_TEST_PG_DIR: start a cluster with '
        + '`scripts/pgtest.sh start DIR` and export HPF_TEST_PG_DIR=DIR');
    }
    sharedCluster = pgCluster(dir);
  }
  return sharedCluster;
}

let dbSeq = 0;
/** A fresh database name: lower case, unique within the cluster. */
/**
 * A copy of a populated store `clean` (from createStore + populate) with `sql` applied, for
 * forgery tests: a new database on PostgreSQL (its drop is pushed onto `drops`), a copied
 * SQLite file otherwise. Resolves the `hpf` options that select the copy.
 */
export async function forgedCopy(clean, drops, name, sql) {
  if (STORE === 'postgres') {
    const db = freshDbName('forged');
    const pg = clean.cluster;
    await pg.createdb(db, clean.dbName);
    drops.push({ drop: () => pg.dropdb(db) });
    await pg.sql(db, sql);
    return ['--data-dir', clean.dataDir, '--db', pg.url(db)];
  }
  const dir = path.join(clean.dataDir, 'forged', name);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(clean.dataDir, 'hpf.db'), path.join(dir, 'hpf.db'));
  execFileSync('sqlite3', [path.join(dir, 'hpf.db'), sql]);
  return ['--data-dir', dir];
}

export function freshDbName(tag = 't') {
  dbSeq += 1;
  return `hpf_${tag}_${process.pid}_${dbSeq}_${crypto.randomBytes(3).toString('hex')}`;
}

/**
 * A fresh, empty store on the current STORE (or on `cluster`, a pgCluster): a temp data dir
 * (TLS certificate, and on SQLite the database file DIR/hpf.db) plus, on PostgreSQL, a new
 * database. Returns
 *   {kind, dataDir, url, dbName, args, sql(text), drop(), populated, logins}
 * args are the `hpf` options that select it (--data-dir DIR [--db URL]); url is the database
 * URL (sqlite:DIR/hpf.db or postgres://...); sql(text) runs SQL on it (sqlite3 or psql) and
 * resolves stdout; drop() removes the data dir and drops the database.
 */
export async function createStore({ kind = STORE, tag = 't', cluster = null } = {}) {
  if (cluster) kind = 'postgres';
  const dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'hpf-api-'));
  const store = { kind, dataDir, populated: false, logins: [] };
  if (kind === 'postgres') {
    const pg = cluster ?? testCluster();
    const dbName = freshDbName(tag);
    try {
      await pg.createdb(dbName);
    } catch (e) {
      await rmrf(dataDir);
      throw e;
    }
    Object.assign(store, {
      dbName,
      cluster: pg,
      url: pg.url(dbName),
      args: ['--data-dir', dataDir, '--db', pg.url(dbName)],
      sql: (text) => pg.sql(dbName, text),
    });
  } else {
    const file = path.join(dataDir, 'hpf.db');
    Object.assign(store, {
      dbName: null,
      url: `sqlite:${file}`,
      args: ['--data-dir', dataDir],
      sql: (text) => execFileP('sqlite3', ['-batch', file, text]),
    });
  }
  let dropping = null;
  store.drop = () => {
    if (!dropping) {
      dropping = (async () => {
        try {
          if (store.dbName && !process.env.HPF_KEEP_DATA) await store.cluster.dropdb(store.dbName);
        } finally {
          await rmrf(dataDir);
        }
      })();
    }
    return dropping;
  };
  return store;
}

/** The `hpf` options that select a store: --data-dir DIR, plus --db URL on PostgreSQL. */
export function storeArgs(store) {
  return store.args;
}

/** Fill a store: `hpf demo` (demo settings merged over DEFAULT_DEMO) or `hpf migrate` (null). */
export async function populate(store, { demo = DEFAULT_DEMO, env = {} } = {}) {
  if (demo === null) {
    const r = await runHpf(['migrate', ...store.args], { env });
    if (r.code !== 0) throw new Error(`hpf migrate exited ${r.code}:\n${tail(r.stderr)}`);
  } else {
    const d = { ...DEFAULT_DEMO, ...demo };
    const r = await runHpf(
      ['demo', ...store.args, '--employers', String(d.employers), '--members', String(d.members),
        '--months', String(d.months), '--seed', String(d.seed)],
      { env },
    );
    if (r.code !== 0) throw new Error(`hpf demo exited ${r.code}:\n${tail(r.stderr)}`);
    store.logins = parseLogins(r.stdout);
    if (store.logins.length === 0) throw new Error(`hpf demo printed no "login ROLE USERNAME PASSWORD" line:\n${tail(r.stdout)}`);
  }
  store.populated = true;
  return store;
}

/**
 * Start `hpf serve` on 127.0.0.1 with a fresh store (see createStore): `hpf demo` first (or
 * `hpf migrate` when demo is null). Resolves once the server printed `hpf: serving
 * https://127.0.0.1:PORT`. Options:
 *   demo   demo settings (merged over DEFAULT_DEMO), or null for an empty migrated database
 *   env    extra environment for every hpf run
 *   store  serve this store (createStore) instead of a fresh one; it is filled only when not yet
 *          populated, and not dropped at stop() (the caller owns it)
 *   args   extra `hpf serve` arguments (e.g. ['--read-db', url])
 *   verify false: skip the `hpf verify` after stop (the caller verifies the shared store)
 *   peers  a started hpf-sim (tests/lib/sim.mjs startSim): serve with --peers and --peers-ca
 *   sim    true: start an hpf-sim of the server's own as its peers (stopped with the server);
 *          member logins need one (their SMS code comes back through it: see login())
 */
export async function startServer({ demo = DEFAULT_DEMO, env = {}, store: given = null, args: extra = [], verify = true, peers = null, sim = false } = {}) {
  let ownSim = null;
  if (sim && !peers) {
    // Imported here: sim.mjs imports this module, and is needed only by servers that want it.
    const { startSim } = await import('./sim.mjs');
    peers = ownSim = await startSim();
  }
  if (peers) extra = [...extra, ...peers.serverArgs];
  const store = given ?? (await createStore());
  const ownStore = !given;
  const dataDir = store.dataDir;
  let webTmp = null;
  try {
    if (!store.populated) await populate(store, { demo, env });
  } catch (e) {
    if (ownStore) await store.drop();
    await ownSim?.stop().catch(() => {});
    throw e;
  }
  const logins = store.logins;
  let webDir = path.join(REPO, 'web', 'dist');
  if (!fs.existsSync(path.join(webDir, 'index.html'))) {
    // The front-end is not built: serve a stand-in so the API tests do not depend on it.
    webTmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'hpf-web-'));
    await fs.promises.writeFile(path.join(webTmp, 'index.html'), '<!doctype html><title>HPF</title>\n');
    webDir = webTmp;
  }

  // Every test client comes from 127.0.0.1 and logs in far faster than a person: the public
  // routes' rate limit is off unless a test sets it (tests/api/ratelimit.test.mjs).
  const child = spawn(HPF_BIN, ['serve', ...store.args, '--listen', '127.0.0.1:0', '--web-dir', webDir, ...extra], {
    env: hpfEnv({ HPF_THROTTLE_PER_MIN: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let err = '';
  let exited = null; // {code, signal}
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      resolve(exited);
    });
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    err += d;
  });
  child.stdout.setEncoding('utf8');

  let url;
  try {
    url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hpf serve printed no "hpf: serving" line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${HPF_BIN} (set HPF_BIN or build build-test): ${e.message}`));
      });
      child.stdout.on('data', (d) => {
        out += d;
        const m = /^hpf: serving (https:\/\/127\.0\.0\.1:(\d+))\s*$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      exitPromise.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`hpf serve exited (code ${code}, signal ${signal}) before serving`));
      });
    });
  } catch (e) {
    if (!exited) child.kill('SIGKILL');
    await exitPromise;
    if (ownStore) await store.drop();
    await rmrf(webTmp);
    await ownSim?.stop().catch(() => {});
    throw new Error(`${e.message}\nstdout:\n${tail(out)}\nstderr:\n${tail(err)}`);
  }

  const port = Number(new URL(url).port);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: false });
  let stopping = null;

  const srv = {
    url,
    port,
    dataDir,
    store,
    webDir,
    logins,
    agent,
    peers, // the hpf-sim it sends to, or null
    pid: child.pid,
    stderr: () => err,
    stdout: () => out,
    /** True while the process runs. */
    alive: () => exited === null,
    /**
     * SIGTERM, wait for the exit, remove the temp dirs. Throws when the exit is not a clean 0
     * (a sanitizer report, a crash, a hang), with the tail of stderr.
     */
    stop() {
      if (!stopping) {
        stopping = (async () => {
          agent.destroy();
          try {
            if (!exited) child.kill('SIGTERM');
            let timer;
            const timeout = new Promise((resolve) => {
              timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS);
            });
            const res = await Promise.race([exitPromise, timeout]);
            clearTimeout(timer);
            if (res === null) {
              child.kill('SIGKILL');
              await exitPromise;
              throw new Error(`hpf serve did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\nstderr:\n${tail(err)}`);
            }
            if (res.code !== 0 || res.signal !== null) {
              throw new Error(`hpf serve exited with code ${res.code}, signal ${res.signal} (want 0)\nstderr:\n${tail(err)}`);
            }
            // Whatever the tests did, the ledger invariants must still hold afterwards.
            if (verify) {
              const v = await runHpf(['verify', ...store.args], { env });
              if (v.code !== 0) {
                throw new Error(`hpf verify failed after the tests (exit ${v.code}):\n${v.stdout}${v.stderr}`);
              }
              // ... and every business record must still match its entry in the audit chain.
              const a = await runHpf(['audit', 'verify', ...store.args], { env });
              if (a.code !== 0) {
                throw new Error(`hpf audit verify failed after the tests (exit ${a.code}):\n${a.stdout}${a.stderr}`);
              }
            }
          } finally {
            if (ownStore) await store.drop();
            await rmrf(webTmp);
            await ownSim?.stop();
          }
        })();
      }
      return stopping;
    },
  };
  return srv;
}

/** The demo login of a role ('operator', 'agent', 'member'); throws when the demo printed none. */
export function demoLogin(srv, role) {
  const l = srv.logins.find((x) => x.role === role);
  if (!l) throw new Error(`hpf demo printed no login for role ${role}: ${JSON.stringify(srv.logins)}`);
  return l;
}

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * One HTTPS request. body: undefined (none), a Buffer or string (sent as is), anything else
 * (JSON-encoded). A JSON or raw body gets Content-Type application/json unless headers say
 * otherwise; a header given as null is not sent. Resolves {status, headers, text, json, raw}.
 */
export function request(srv, method, urlPath, { body, headers = {}, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
  let payload = null;
  const h = {};
  if (body !== undefined) {
    payload = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    h['content-type'] = 'application/json';
    h['content-length'] = String(payload.length);
  }
  for (const [k, v] of Object.entries(headers)) {
    if (v === null) delete h[k.toLowerCase()];
    else h[k.toLowerCase()] = v;
  }
  return new Promise((resolve, reject) => {
    let done = false;
    let answered = false;
    const req = https.request(
      { host: '127.0.0.1', port: srv.port, method, path: urlPath, headers: h, agent: srv.agent, rejectUnauthorized: false },
      (res) => {
        answered = true;
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', (e) => {
          if (!done) {
            done = true;
            reject(e);
          }
        });
        res.on('end', () => {
          if (done) return;
          done = true;
          const raw = Buffer.concat(chunks);
          const text = raw.toString('utf8');
          let json;
          if (/json/.test(res.headers['content-type'] || '')) {
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
          }
          resolve({ method, path: urlPath, status: res.statusCode, headers: res.headers, text, json, raw });
        });
      },
    );
    req.setTimeout(timeoutMs, () => {
      if (!done) {
        done = true;
        req.destroy();
        reject(new Error(`${method} ${urlPath}: no response within ${timeoutMs} ms`));
      }
    });
    // A server that answers early (413) may close while the body is still being sent: the
    // response, once it has arrived, is what counts.
    req.on('error', (e) => {
      if (!done && !answered) {
        done = true;
        reject(e);
      }
    });
    if (payload) req.end(payload);
    else req.end();
  });
}

function cookieFrom(res, name) {
  for (const c of [].concat(res.headers['set-cookie'] || [])) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    if (pair.slice(0, i).trim() === name) return { value: pair.slice(i + 1).trim(), header: c };
  }
  return null;
}

/**
 * A client with a tiny cookie jar (hpf_session only). Writes carry X-CSRF-Token when the client
 * holds one, unless opts.csrf is false (send none) or a string (send that one).
 *   get(path, opts)  post(path, body, opts)  put/patch(path, body, opts)  del(path, body, opts)
 * opts: {headers, csrf, timeoutMs}
 */
export function client(srv, { cookie = null, csrf = null } = {}) {
  const c = {
    srv,
    cookie,
    csrf,
    user: null,
    async request(method, urlPath, body, opts = {}) {
      const headers = {};
      if (c.cookie) headers.cookie = `hpf_session=${c.cookie}`;
      if (WRITE.has(method)) {
        if (typeof opts.csrf === 'string') headers['x-csrf-token'] = opts.csrf;
        else if (opts.csrf !== false && c.csrf) headers['x-csrf-token'] = c.csrf;
      }
      Object.assign(headers, opts.headers || {});
      const res = await request(srv, method, urlPath, { body, headers, timeoutMs: opts.timeoutMs });
      const set = cookieFrom(res, 'hpf_session');
      if (set) c.cookie = set.value && !/max-age=0\b/i.test(set.header) ? set.value : null;
      // A money route after the second factor went stale: prove it again and resend once, as the
      // web front-end does (a client made by login() knows how; tests of the refusal itself
      // turn this off with autoStepUp = false or opts.stepUp = false).
      if (res.status === 401 && res.json?.rule === 'auth.step_up_required' && c.autoStepUp && c.login
        && opts.stepUp !== false) {
        await stepUp(c);
        return c.request(method, urlPath, body, { ...opts, stepUp: false });
      }
      return res;
    },
    get: (p, opts) => c.request('GET', p, undefined, opts),
    post: (p, body, opts) => c.request('POST', p, body, opts),
    put: (p, body, opts) => c.request('PUT', p, body, opts),
    patch: (p, body, opts) => c.request('PATCH', p, body, opts),
    del: (p, body, opts) => c.request('DELETE', p, body, opts),
  };
  return c;
}

// ---- second factors ----------------------------------------------------------------------
// Operators and agents log in with a TOTP code; the harness holds their secrets per store (the
// demo's from its login lines, others' from rememberTotp, which createEmployer calls with the
// secret of the registration's agent.totp_uri). A code is accepted once: the harness tracks the
// last time step it used per login and store, uses the steps now-1 .. now+1 the server accepts,
// and waits for the next step when they are spent (so a test can log one user in a few times
// in a row, at the cost of up to 30 s each after the third). Members get their code by SMS:
// their server needs an hpf-sim (startServer({sim: true}) or {peers}).

function totpState(srv) {
  const store = srv.store ?? srv;
  if (!store.totpSecrets) {
    store.totpSecrets = new Map();
    store.totpSteps = new Map();
  }
  for (const l of store.logins ?? srv.logins ?? []) {
    if (l.totp && !store.totpSecrets.has(l.username)) store.totpSecrets.set(l.username, l.totp);
  }
  return store;
}

/** Remember the TOTP secret (base32) of a login on this server's store. */
export function rememberTotp(srv, username, secret) {
  totpState(srv).totpSecrets.set(username, secret);
}

/** The TOTP secret the harness knows for a login, or undefined. */
export function totpSecretOf(srv, username) {
  return totpState(srv).totpSecrets.get(username);
}

/**
 * A TOTP code for `username` that the server has not seen used (see above): resolves the code;
 * throws when the harness knows no secret for the login.
 */
export async function totpCode(srv, username, secret = totpSecretOf(srv, username)) {
  if (!secret) throw new Error(`no TOTP secret known for ${username}: pass one or rememberTotp()`);
  const st = totpState(srv);
  for (;;) {
    const now = Date.now() / 1000;
    const cur = totpStep(now);
    // now-1 only early in a step: the server's clock may cross into the next one meanwhile.
    const lowest = now - cur * 30 < 20 ? cur - 1 : cur;
    const s = Math.max(lowest, (st.totpSteps.get(username) ?? -Infinity) + 1);
    if (s <= cur + 1) {
      st.totpSteps.set(username, s);
      return totp(secret, s);
    }
    await new Promise((r) => setTimeout(r, ((cur + 1) * 30 - now) * 1000 + 50));
  }
}

/** The outbox key of the SMS of a challenge: "otp:" + SM3 hex of the challenge (the database
 * never holds the challenge itself). */
export const otpKey = (challenge) => `otp:${crypto.createHash('sm3').update(challenge).digest('hex')}`;

/** The SMS code sent for a challenge, read from the server's hpf-sim. */
export async function smsCode(srv, challenge) {
  if (!srv.peers) {
    throw new Error('member logins send their code by SMS: start the server with {sim: true} (or peers)');
  }
  const m = await srv.peers.waitForMessage(undefined, { match: (x) => x.idempotency_key === otpKey(challenge) });
  return m.params.code;
}

/**
 * POST /api/v1/session and return a logged-in client; throws unless the login ends in 201.
 * Operators and agents send a TOTP code (opts.totp: the secret, default the one the harness
 * knows); members answer the 202 SMS challenge with the code from the sim.
 */
export async function login(srv, username, password, { totp: secret } = {}) {
  const c = client(srv);
  const body = { username, password };
  secret = secret ?? totpSecretOf(srv, username);
  if (secret) body.totp = await totpCode(srv, username, secret);
  let res = await c.post('/api/v1/session', body);
  if (res.status === 202 && res.json?.challenge) {
    const code = await smsCode(srv, res.json.challenge);
    res = await c.post('/api/v1/session/otp', { challenge: res.json.challenge, code });
  }
  if (res.status !== 201 || !res.json || !c.cookie) {
    throw new Error(`login ${username}: ${res.status} ${res.text.slice(0, 400)}`);
  }
  c.csrf = res.json.csrf_token;
  c.user = res.json.user;
  c.loginResponse = res;
  c.login = { username, password, totp: secret };
  c.autoStepUp = true;
  return c;
}

/** Log in with the demo login of a role. */
export function loginAs(srv, role) {
  const l = demoLogin(srv, role);
  return login(srv, l.username, l.password, { totp: l.totp });
}

/**
 * Prove the session's second factor again (POST /api/v1/session/step-up): a TOTP code for
 * operators and agents, an SMS round for members. Resolves the final response (200
 * {fresh_until}); throws on anything else.
 */
export async function stepUp(c) {
  const member = c.user?.role === 'member';
  const body = member ? {} : { totp: await totpCode(c.srv, c.login.username, c.login.totp) };
  let res = await c.request('POST', '/api/v1/session/step-up', body, { stepUp: false });
  if (member && res.status === 202) {
    const code = await smsCode(c.srv, res.json.challenge);
    res = await c.request('POST', '/api/v1/session/otp', { challenge: res.json.challenge, code }, { stepUp: false });
  }
  if (res.status !== 200 || typeof res.json?.fresh_until !== 'number') {
    throw new Error(`step-up of ${c.login?.username}: ${res.status} ${res.text.slice(0, 400)}`);
  }
  return res;
}

/**
 * Send raw bytes over TLS (for requests a normal client refuses to make: bad paths, broken
 * encodings). The request should say `Connection: close`. Resolves {status, headers, body, text}
 * once the server closes; status is null when no HTTP response came back.
 */
export function rawTls(srv, data, { timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const sock = tls.connect({ host: '127.0.0.1', port: srv.port, rejectUnauthorized: false }, () => sock.end(data));
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`raw TLS request: no close within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', () => {}); // a reset after the answer is fine; 'close' follows
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(parseRaw(Buffer.concat(chunks)));
    });
  });
}

/** Parse a raw HTTP/1.1 response (no chunked decoding beyond what the tests need). */
export function parseRaw(buf) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end >= 0 ? text.slice(0, end) : text;
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  const headers = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = end >= 0 ? buf.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')) : Buffer.alloc(0);
  if (/chunked/i.test(headers['transfer-encoding'] || '')) body = dechunk(body);
  const bodyText = body.toString('utf8');
  let json;
  try {
    json = JSON.parse(bodyText);
  } catch {
    json = undefined;
  }
  return { status: m ? Number(m[1]) : null, headers, text: bodyText, json, raw: buf };
}

function dechunk(buf) {
  const parts = [];
  let i = 0;
  while (i < buf.length) {
    const nl = buf.indexOf('\r\n', i);
    if (nl < 0) break;
    const size = parseInt(buf.subarray(i, nl).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(buf.subarray(nl + 2, nl + 2 + size));
    i = nl + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Send bytes over plain TCP; resolves {text, error} when the peer closes (or on timeout). */
export function rawTcp(port, data, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const chunks = [];
    let error = null;
    const sock = net.connect({ host: '127.0.0.1', port }, () => sock.write(data));
    const timer = setTimeout(() => {
      error = error || 'timeout';
      sock.destroy();
    }, timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => {
      error = e.code || e.message;
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), error });
    });
  });
}

/** The certificate the server presents, as a tls PeerCertificate. */
export function peerCertificate(srv) {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port: srv.port, rejectUnauthorized: false }, () => {
      const cert = sock.getPeerCertificate();
      const proto = sock.getProtocol();
      sock.end();
      resolve({ cert, protocol: proto });
    });
    sock.on('error', reject);
  });
}
