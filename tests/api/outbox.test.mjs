// The transactional outbox end to end: `hpf serve --peers` sends queued messages to hpf-sim
// (tests/lib/sim.mjs) through its dispatcher; `hpf outbox ping|list|retry` are the operator's
// handles on it. Shown: a ping reaches the sim's SMS inbox; a peer failing twice gets the
// message on the third attempt; a peer that refuses a message makes it dead, and a retry sends
// it; while the sim is down messages stay queued and arrive once it is back; a wrong CA is
// refused; no peers configured keeps messages queued and the server ready; two servers on one
// database deliver each message once. Runs on the store of HPF_TEST_STORE.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORE, createStore, request, runHpf, startServer } from '../lib/server.mjs';
import { startSim } from '../lib/sim.mjs';

const DEADLINE_MS = 30000;
let phoneSeq = 0;
/** A fresh phone number per message, so inbox reads never see another test's SMS. */
const phone = () => `139${String(process.pid % 10000).padStart(4, '0')}${String(++phoneSeq).padStart(4, '0')}`;

async function outbox(store, ...args) {
  return runHpf(['outbox', ...args, ...store.args]);
}

/** `hpf outbox list --json` as objects, newest first. */
async function list(store, ...args) {
  const r = await outbox(store, 'list', '--json', '--limit', '1000', ...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

async function message(store, id) {
  const m = (await list(store)).find((x) => x.id === id);
  assert.ok(m, `message ${id} in hpf outbox list`);
  return m;
}

/** Queue a test SMS without waiting; resolves {id, key, to}. */
async function ping(store, to, wait = '0') {
  const r = await outbox(store, 'ping', 'sms', '--to', to, '--wait', wait);
  const m = /message (\d+) queued for sms (\S+) \(key (\S+)\)/.exec(r.stdout);
  assert.ok(m, `ping output: ${r.stdout} ${r.stderr}`);
  return { id: Number(m[1]), to: m[2], key: m[3], result: r };
}

async function poll(what, fn, deadline = DEADLINE_MS) {
  const end = Date.now() + deadline;
  let last;
  for (;;) {
    last = await fn();
    if (last.ok) return last;
    if (Date.now() > end) assert.fail(`${what}: not within ${deadline} ms; last seen ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function metric(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe(`the outbox with hpf-sim (${STORE})`, () => {
  let sim;
  let srv;
  before(async () => {
    sim = await startSim({ ttl: 900 });
    srv = await startServer({ demo: null, peers: sim });
  });
  after(async () => {
    const errors = [];
    for (const x of [srv, sim]) {
      try {
        await x?.stop();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw errors[0];
  });

  test('hpf outbox ping sms reaches the SMS inbox of the sim, sent once, attempt 1', async () => {
    const to = phone();
    const r = await outbox(srv.store, 'ping', 'sms', '--to', to, '--wait', '20');
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /delivered in [\d.]+ s after 1 attempt;/);
    const key = /\(key (\S+)\)/.exec(r.stdout)[1];
    const inbox = await sim.messages(to);
    assert.equal(inbox.length, 1, JSON.stringify(inbox));
    assert.equal(inbox[0].idempotency_key, key, 'the outbox key travels in Idempotency-Key');
    assert.equal(inbox[0].template, 'ops.ping');
    assert.match(inbox[0].text, /^HPF connectivity check /);
    assert.equal(inbox[0].repeats, 0);
    const m = (await list(srv.store, '--status', 'sent')).find((x) => x.idem_key === key);
    assert.ok(m, 'the message is listed as sent');
    assert.equal(m.attempts, 1);
    assert.equal(m.peer, 'sms');
    assert.equal(m.topic, 'sms.ping');
    assert.equal(m.last_error, '');
    assert.equal(m.reply.message_id, inbox[0].message_id, 'the reply of the sim is kept');
    const metrics = (await request(srv, 'GET', '/metrics')).text;
    assert.ok(metric(metrics, 'hpf_outbox_sent_total{peer="sms"}') >= 1, 'hpf_outbox_sent_total counts it');
    assert.match(metrics, /^hpf_outbox_queued \d+$/m);
  });

  test('with fail_next 2 the message is retried and arrives on attempt 3', async () => {
    const before1 = await sim.stats();
    await sim.faults('sms', { failNext: 2, status: 503 });
    const to = phone();
    const p = await ping(srv.store, to);
    const got = await sim.waitForMessage(to, { timeoutMs: DEADLINE_MS });
    assert.equal(got.idempotency_key, p.key);
    const m = await poll('the message is marked sent', async () => {
      const x = await message(srv.store, p.id);
      return { ok: x.status === 'sent', x };
    });
    assert.equal(m.x.attempts, 3, 'two failed attempts and the one that arrived');
    const after1 = await sim.stats();
    assert.equal(after1.faults_served - before1.faults_served, 2);
    assert.equal((await sim.messages(to)).length, 1, 'delivered once');
    // hpf outbox list (the text table) shows the attempts too
    const text = await outbox(srv.store, 'list', '--status', 'sent');
    assert.equal(text.code, 0, text.stderr);
    const row = text.stdout.split('\n').find((l) => l.startsWith(`${p.id} `));
    assert.ok(row, `row of message ${p.id} in:\n${text.stdout}`);
    assert.deepEqual(row.trim().split(/\s+/).slice(1, 5), ['sent', 'sms', 'sms.ping', '3']);
    const metrics = (await request(srv, 'GET', '/metrics')).text;
    assert.ok(metric(metrics, 'hpf_outbox_failed_total{peer="sms"}') >= 2, 'failed sends are counted');
  });

  test('a message the peer refuses (400) is dead at once; hpf outbox retry sends it again', async () => {
    await sim.faults('sms', { failNext: 1, status: 400 });
    const to = phone();
    const p = await ping(srv.store, to);
    const dead = await poll('the message is dead', async () => {
      const x = await message(srv.store, p.id);
      return { ok: x.status === 'dead', x };
    });
    assert.equal(dead.x.attempts, 1);
    assert.match(dead.x.last_error, /answered 400/);
    assert.deepEqual(await sim.messages(to), []);
    const r = await outbox(srv.store, 'retry', String(p.id));
    assert.equal(r.code, 0, r.stderr);
    await sim.waitForMessage(to, { timeoutMs: DEADLINE_MS });
    const sent = await poll('the message is sent', async () => {
      const x = await message(srv.store, p.id);
      return { ok: x.status === 'sent', x };
    });
    assert.equal(sent.x.attempts, 1, 'a retried dead message starts counting again');
    // a sent message cannot be retried; an unknown one is named
    const again = await outbox(srv.store, 'retry', String(p.id));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /sent already/);
    const none = await outbox(srv.store, 'retry', '99999999');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no outbox message 99999999/);
    assert.equal((await outbox(srv.store, 'retry', 'x1')).code, 2);
  });

  test('while the sim is down a message stays queued; it arrives after the sim comes back', async () => {
    await sim.halt();
    const to = phone();
    const p = await ping(srv.store, to);
    const failing = await poll('a failed attempt is recorded while the sim is down', async () => {
      const x = await message(srv.store, p.id);
      return { ok: x.attempts >= 1 && x.last_error !== '', x };
    });
    assert.equal(failing.x.status, 'queued');
    assert.ok(failing.x.next_at, 'it has a next try');
    const ready = await request(srv, 'GET', '/readyz');
    assert.equal(ready.status, 200, 'a peer being down does not make the server unready');
    await sim.restart(); // same port and data dir (and certificate); an empty inbox
    const got = await sim.waitForMessage(to, { timeoutMs: DEADLINE_MS });
    assert.equal(got.idempotency_key, p.key);
    await poll('the message is marked sent', async () => {
      const x = await message(srv.store, p.id);
      return { ok: x.status === 'sent', x };
    });
  });

  test('the sim drops a repeated Idempotency-Key and counts it; no message was sent twice', async () => {
    const to = phone();
    const body = { to, template: 'probe', params: {}, text: 'probe' };
    // without a key the sim refuses (hpf always sends one)
    assert.equal((await sim.request('POST', '/sms/v1/messages', body)).status, 400);
    const before1 = await sim.stats();
    const key = `probe-${process.pid}-${phoneSeq}`;
    const first = await sim.request('POST', '/sms/v1/messages', body, { 'idempotency-key': key });
    const second = await sim.request('POST', '/sms/v1/messages', body, { 'idempotency-key': key });
    assert.equal(first.status, 201, first.text);
    assert.equal(second.status, 201, second.text);
    assert.equal(second.headers['idempotent-replay'], 'true');
    assert.deepEqual(second.json, first.json);
    const after1 = await sim.stats();
    assert.equal(after1.sms.repeats - before1.sms.repeats, 1);
    assert.equal(after1.sms.accepted - before1.sms.accepted, 1);
    const inbox = await sim.messages(to);
    assert.equal(inbox.length, 1);
    assert.equal(inbox[0].repeats, 1);
    // everything hpf sent since the sim (re)started arrived exactly once
    const all = (await sim.messages()).filter((m) => m.to !== to);
    assert.ok(all.length >= 1, 'hpf sent something since the restart');
    const keys = all.map((m) => m.idempotency_key);
    assert.equal(new Set(keys).size, keys.length, 'one SMS per key');
    for (const m of all) assert.equal(m.repeats, 0, `SMS ${m.message_id} was sent again`);
  });
});

describe(`retention: a sent message's contents are wiped after outbox_keep_days (${STORE})`, () => {
  let sim;
  let srv;
  before(async () => {
    sim = await startSim({ ttl: 900 });
    srv = await startServer({ demo: null, peers: sim, env: { HPF_OUTBOX_KEEP_DAYS: '0', HPF_JOB_TICK: '1' } });
  });
  after(async () => {
    await srv?.stop();
    await sim?.stop();
  });

  test('the row stays with its key and status; payload and reply are gone', async () => {
    const to = phone();
    const r = await outbox(srv.store, 'ping', 'sms', '--to', to, '--wait', '20');
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    const key = /\(key (\S+)\)/.exec(r.stdout)[1];
    const row = () => srv.store.sql(`SELECT status || '|' || payload || '|' || coalesce(reply, 'NULL') FROM outbox WHERE idem_key = '${key}'`);
    let got = '';
    for (const deadline = Date.now() + 15000; Date.now() < deadline;) {
      got = (await row()).trim();
      if (got === 'sent|{}|NULL') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(got, 'sent|{}|NULL', 'wiped by the housekeeping job within 15 s');
    const m = (await list(srv.store, '--status', 'sent')).find((x) => x.idem_key === key);
    assert.ok(m, 'still listed as sent, under its key');
    const metrics = (await request(srv, 'GET', '/metrics')).text;
    assert.ok(metric(metrics, 'hpf_outbox_wiped_total') >= 1, 'hpf_outbox_wiped_total counts it');
  });
});

describe(`the outbox without reachable peers (${STORE})`, () => {
  test('without --peers messages stay queued and the server stays ready', async () => {
    const srv = await startServer({ demo: null });
    try {
      const r = await outbox(srv.store, 'ping', 'sms', '--to', phone(), '--wait', '1');
      assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /not delivered within 1 s \(attempts 0\)/);
      const [m] = await list(srv.store);
      assert.equal(m.status, 'queued');
      assert.equal(m.attempts, 0, 'nothing tried to send it');
      assert.equal((await request(srv, 'GET', '/readyz')).status, 200);
      assert.match(srv.stderr(), /"event":"outbox.no_peers"/);
    } finally {
      await srv.stop();
    }
  });

  test('a peer whose certificate is not the one trusted is never sent to', async () => {
    const sim = await startSim({ ttl: 300 });
    // trust some other self-signed certificate: hpf serve's own
    const store = await createStore();
    let srv;
    try {
      srv = await startServer({ demo: null, store, args: ['--peers', sim.url, '--peers-ca', `${store.dataDir}/tls/cert.pem`] });
      const p = await ping(store, phone());
      const m = await poll('a failed attempt is recorded', async () => {
        const x = await message(store, p.id);
        return { ok: x.attempts >= 1 && x.last_error !== '', x };
      });
      assert.equal(m.x.status, 'queued');
      assert.match(m.x.last_error, /certificate|SSL/i);
      assert.deepEqual(await sim.messages(p.to), []);
    } finally {
      await srv?.stop();
      await store.drop();
      await sim.stop();
    }
  });

  test('hpf serve refuses a peers URL that is not https', async () => {
    const store = await createStore();
    try {
      const r = await runHpf(['serve', ...store.args, '--listen', '127.0.0.1:0', '--peers', 'http://127.0.0.1:8444'], { timeoutMs: 30000 });
      assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /https/);
      assert.doesNotMatch(r.stdout, /serving/);
    } finally {
      await store.drop();
    }
  });

  test('hpf outbox usage errors exit 2', async () => {
    const store = await createStore();
    try {
      await runHpf(['migrate', ...store.args]);
      for (const args of [['ping', 'sms'], ['ping', 'notary', '--to', '13800000000'], ['ping', 'sms', '--to', '12ab'], ['retry'], ['list', '--status', 'late'], ['bogus']]) {
        const r = await outbox(store, ...args);
        assert.equal(r.code, 2, `hpf outbox ${args.join(' ')}: ${r.code} ${r.stderr}`);
      }
    } finally {
      await store.drop();
    }
  });
});

describe(`two servers on one database (${STORE})`, () => {
  test('deliver each message exactly once', async (t) => {
    const sim = await startSim({ ttl: 600 });
    const store = await createStore({ tag: 'obx2' });
    const servers = [];
    try {
      servers.push(await startServer({ demo: null, store, peers: sim, verify: false }));
      servers.push(await startServer({ demo: null, store, peers: sim, verify: false }));
      const N = 16;
      const sent = [];
      // queued in bursts while both servers poll
      for (let i = 0; i < N; i++) sent.push(await ping(store, phone()));
      await poll(`all ${N} messages are marked sent`, async () => {
        const xs = await list(store);
        const left = xs.filter((x) => x.status !== 'sent').length;
        return { ok: xs.length === N && left === 0, left };
      });
      const inbox = await sim.messages();
      assert.equal(inbox.length, N, 'one SMS per message');
      assert.deepEqual(inbox.map((m) => m.idempotency_key).sort(), sent.map((p) => p.key).sort());
      for (const m of inbox) assert.equal(m.repeats, 0, `SMS ${m.message_id} arrived twice`);
      const st = await sim.stats();
      assert.equal(st.sms.accepted, N);
      assert.equal(st.sms.repeats, 0);
      for (const x of await list(store)) assert.equal(x.attempts, 1, `message ${x.id} took ${x.attempts} attempts`);
      // both dispatchers count what they sent; together exactly N
      const bySrv = [];
      for (const s of servers) bySrv.push(metric((await request(s, 'GET', '/metrics')).text, 'hpf_outbox_sent_total{peer="sms"}'));
      t.diagnostic(`sent by server A ${bySrv[0]}, by server B ${bySrv[1]}`);
      assert.equal(bySrv[0] + bySrv[1], N);
    } finally {
      for (const s of servers) await s.stop().catch(() => {});
      await store.drop();
      await sim.stop();
    }
  });
});
