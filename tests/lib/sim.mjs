// hpf-sim in tests: start the simulator of the outside peers (SMS, notary) on a loopback port,
// point `hpf serve` at it, read what it received.
//
//   const sim = await startSim();                       // fresh data dir, free port, ttl 600 s
//   const srv = await startServer({ peers: sim });      // hpf serve --peers URL --peers-ca CERT
//   const msgs = await sim.messages('13800000000');     // SMS to that number, newest first:
//        // [{message_id, to, template, params, text, received_at, idempotency_key, repeats}]
//   const m = await sim.waitForMessage('13800000000', { match: (m) => /\d{6}/.test(m.text) });
//   await sim.faults('sms', { failNext: 2, status: 503 });   // the next 2 SMS answer 503
//   const st = await sim.stats();     // {sms: {accepted, repeats}, notary: {accepted, repeats}}
//   const r = await sim.anchor('rcpt-...');             // a notary receipt, or null (404)
//   await sim.stop();                                    // SIGTERM; throws unless it exited 0
//   await sim.restart();                                 // again, same port and data dir
//
// sim.url ('https://127.0.0.1:PORT'), sim.port, sim.certPath (the PEM hpf serve trusts through
// --peers-ca), sim.dataDir, sim.serverArgs (['--peers', url, '--peers-ca', certPath]).
// startSim options: {port (0: a free one), dataDir (default: a fresh temp dir, removed at
// stop()), ttl (seconds; the sim exits by itself after it, so a crashed test leaves nothing
// behind), env}. The sim keeps its state in memory: a restart begins with an empty inbox.
// Environment: HPF_SIM_BIN (default: hpf-sim next to HPF_BIN, i.e. <repo>/build-test/hpf-sim).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { HPF_BIN } from './server.mjs';

export const SIM_BIN = process.env.HPF_SIM_BIN || path.join(path.dirname(HPF_BIN), 'hpf-sim');

const START_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 20000;
const TAIL = 4000;

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

const tail = (s) => (s.length > TAIL ? `...${s.slice(-TAIL)}` : s);

/** Start the sim process; resolves {child, port, certPath, out(), err(), exit} once it is ready. */
function spawnSim({ port, dataDir, ttl, env }) {
  const child = spawn(SIM_BIN, ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--ttl', String(ttl)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let err = '';
  let exited = null;
  const exit = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      resolve(exited);
    });
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hpf-sim printed no "hpf-sim: serving" line within ${START_TIMEOUT_MS} ms\nstderr:\n${tail(err)}`));
    }, START_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${SIM_BIN} (set HPF_SIM_BIN or build build-test): ${e.message}`));
    });
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^hpf-sim: serving https:\/\/127\.0\.0\.1:(\d+) cert (\S+)\s*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), certPath: m[2], out: () => out, err: () => err, exit, exited: () => exited });
      }
    });
    exit.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`hpf-sim exited (code ${code}, signal ${signal}) before serving\nstderr:\n${tail(err)}`));
    });
  });
}

/** Start hpf-sim. See the top of this file. */
export async function startSim({ port = 0, dataDir = null, ttl = 600, env = {} } = {}) {
  const ownDir = !dataDir;
  const dir = dataDir ?? (await fs.promises.mkdtemp(path.join(os.tmpdir(), 'hpf-sim-')));
  let proc;
  try {
    proc = await spawnSim({ port, dataDir: dir, ttl, env });
  } catch (e) {
    if (ownDir && !process.env.HPF_KEEP_DATA) await fs.promises.rm(dir, { recursive: true, force: true });
    throw e;
  }
  let ca = fs.readFileSync(proc.certPath);
  let agent = new https.Agent({ keepAlive: false, ca });

  const call = (method, urlPath, body, extraHeaders = {}) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
      const headers = payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {};
      Object.assign(headers, extraHeaders);
      const req = https.request({ host: '127.0.0.1', port: sim.port, method, path: urlPath, headers, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
        res.on('error', reject);
      });
      req.setTimeout(10000, () => req.destroy(new Error(`hpf-sim ${method} ${urlPath}: no answer within 10 s`)));
      req.on('error', reject);
      req.end(payload ?? undefined);
    });
  const ok = (r, what) => {
    if (r.status < 200 || r.status > 299) throw new Error(`hpf-sim ${what}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.json;
  };

  let stopping = null;
  const sim = {
    port: proc.port,
    url: `https://127.0.0.1:${proc.port}`,
    certPath: proc.certPath,
    dataDir: dir,
    get serverArgs() {
      return ['--peers', sim.url, '--peers-ca', sim.certPath];
    },
    stdout: () => proc.out(),
    stderr: () => proc.err(),
    alive: () => proc.exited() === null,
    /** Raw request to the sim: request(method, path, body?, headers?) -> {status, headers, text, json}. */
    request: call,
    /** SMS received for `to` (every number when omitted), newest first. */
    async messages(to) {
      const q = to === undefined ? '' : `?to=${encodeURIComponent(to)}`;
      return ok(await call('GET', `/sms/v1/messages${q}`), 'messages').items;
    },
    /** Poll messages(to) until one satisfies match (default: any); resolves the newest such. */
    async waitForMessage(to, { match = () => true, timeoutMs = 10000 } = {}) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = (await sim.messages(to)).find(match);
        if (m) return m;
        if (Date.now() > end) throw new Error(`hpf-sim: no matching SMS to ${to} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /** Make the next `failNext` requests to `peer` ('sms' | 'notary') answer `status`. */
    async faults(peer, { failNext = 1, status = 503 } = {}) {
      return ok(await call('POST', '/_sim/faults', { peer, fail_next: failNext, status }), 'faults');
    },
    /** Counters: {sms: {accepted, repeats}, notary: {accepted, repeats}, faults_served}. */
    async stats() {
      return ok(await call('GET', '/_sim/stats'), 'stats');
    },
    /** The notary receipt `id`, or null when the sim has none. */
    async anchor(id) {
      const r = await call('GET', `/notary/v1/anchors/${encodeURIComponent(id)}`);
      return r.status === 404 ? null : ok(r, 'anchor');
    },
    /** SIGTERM and wait; throws unless the exit is a clean 0. Keeps the data dir for restart(). */
    async halt() {
      agent.destroy();
      if (proc.exited() === null) proc.child.kill('SIGTERM');
      let timer;
      const res = await Promise.race([proc.exit, new Promise((r) => (timer = setTimeout(() => r(null), STOP_TIMEOUT_MS)))]);
      clearTimeout(timer);
      if (res === null) {
        proc.child.kill('SIGKILL');
        await proc.exit;
        throw new Error(`hpf-sim did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\nstderr:\n${tail(proc.err())}`);
      }
      if (res.code !== 0) throw new Error(`hpf-sim exited with code ${res.code}, signal ${res.signal}\nstderr:\n${tail(proc.err())}`);
    },
    /** Start it again on the same port and data dir (after halt()); the state starts empty. */
    async restart() {
      if (proc.exited() === null) await sim.halt();
      proc = await spawnSim({ port: sim.port, dataDir: dir, ttl, env });
      ca = fs.readFileSync(proc.certPath);
      agent = new https.Agent({ keepAlive: false, ca });
      return sim;
    },
    /** halt() and remove the data dir (when startSim made it). */
    stop() {
      if (!stopping) {
        stopping = (async () => {
          try {
            await sim.halt();
          } finally {
            if (ownDir && !process.env.HPF_KEEP_DATA) await fs.promises.rm(dir, { recursive: true, force: true });
          }
        })();
      }
      return stopping;
    },
  };
  return sim;
}
