// store: postgres
// A PostgreSQL primary with a streaming hot standby (scripts/pgtest.sh standby), as in
// docs/operations.md, and the failover runbook played through (issue 3 item 4):
//   1. `hpf demo` and remittances through `hpf serve --db PRIMARY --read-db STANDBY`; statements
//      and member reads are served from the standby (shown by pausing its replay);
//   2. the standby catches up (asynchronous: wait until pg_last_wal_replay_lsn() >= the primary's
//      pg_current_wal_lsn(); synchronous: no waiting at all, a commit was on the standby before
//      the client heard 201), the primary crashes (pg_ctl stop -m immediate), /readyz says so;
//   3. the standby is promoted and holds every committed remittance: row counts, every member's
//      balance, `hpf verify --db STANDBY` ok; a server re-pointed at it accepts the old session
//      and new work.
// Runs its own clusters (not HPF_TEST_PG_DIR), so tests/run.sh runs it in the PostgreSQL run only.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { employerWithMembers, idemKey, remitAndApprove, rosterFromDraft } from '../lib/fixtures.mjs';
import { fen, yuan } from '../lib/money.mjs';
import { assertOk, describeRes } from '../lib/problem.mjs';
import { BUSINESS_DATE, client, createStore, loginAs, request, runHpf, startPgCluster, startServer } from '../lib/server.mjs';

const PERIOD = BUSINESS_DATE.slice(0, 7);
const DEADLINE_MS = 30000;

async function poll(what, fn) {
  const end = Date.now() + DEADLINE_MS;
  let last;
  for (;;) {
    last = await fn();
    if (last.ok) return last;
    if (Date.now() > end) assert.fail(`${what}: not within ${DEADLINE_MS} ms; last seen ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const one = async (cluster, db, sql) => (await cluster.sql(db, sql)).trim();

for (const sync of [false, true]) {
  const mode = sync ? 'synchronous' : 'asynchronous';
  describe(`primary + ${mode} streaming standby: failover loses no committed remittance`, () => {
    let primary;
    let standby;
    let store; // the database on the primary
    let S1; // hpf serve --db primary --read-db standby
    let S2; // hpf serve --db standby after the promotion
    let op;
    const employers = [];
    const committed = []; // remittances answered 201
    let counts; // on the primary after the last commit
    let balances; // account_no -> balance on the primary after the last commit

    before(async () => {
      primary = await startPgCluster('primary');
      standby = await primary.standby({ sync });
      store = await createStore({ cluster: primary, tag: 'ha' });
      S1 = await startServer({
        store,
        demo: { employers: 2, members: 6, months: 2, seed: 41 },
        args: ['--read-db', standby.url(store.dbName)],
        verify: false,
      });
      op = await loginAs(S1, 'operator');
    });

    after(async () => {
      const errors = [];
      for (const f of [() => S2?.stop(), () => S1?.stop(), () => standby?.stop(), () => primary?.stop(), () => store?.drop().catch(() => {})]) {
        try {
          await f();
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length) throw errors[0];
    });

    test('the standby streams from the primary and is read-only', async () => {
      assert.equal(await one(standby, 'postgres', 'SELECT pg_is_in_recovery()'), 't');
      const rep = await one(primary, 'postgres', "SELECT state || ' ' || sync_state FROM pg_stat_replication");
      assert.equal(rep, sync ? 'streaming sync' : 'streaming async');
      await assert.rejects(standby.sql(store.dbName, 'UPDATE member_balance SET balance = balance'), /read-only transaction/);
    });

    test('remittances through hpf serve on the primary: each submitted and approved (maker-checker)', async () => {
      for (let i = 0; i < 4; i++) employers.push(await employerWithMembers(S1, op, { wages: ['6543.21', '12000.00'] }));
      const results = await Promise.all(employers.map(async (e) => {
        const d = assertOk(await e.agent.get(`/api/v1/employers/${e.dwzh}/remittances/draft?period=${PERIOD}`));
        const { receipt } = await remitAndApprove(e.agent, op, e.dwzh, rosterFromDraft(d), { key: idemKey('ha') });
        return { e, d, receipt };
      }));
      for (const { e, d, receipt } of results) committed.push({ dwzh: e.dwzh, serial: receipt.serial, rows: d.rows });
    });

    test('with --read-db, statements and member reads come from the standby (pausing its replay holds them back)', async () => {
      const e = await employerWithMembers(S1, op, { wages: ['7000.00'] });
      const m = e.members[0].member.account_no;
      await poll('the new member is on the standby', async () => {
        const r = await op.get(`/api/v1/members/${m}`);
        return { ok: r.status === 200, status: r.status };
      });
      const d = assertOk(await e.agent.get(`/api/v1/employers/${e.dwzh}/remittances/draft?period=${PERIOD}`));
      await standby.sql('postgres', 'SELECT pg_wal_replay_pause()');
      let r;
      try {
        await poll('replay paused', async () => ({ ok: (await one(standby, 'postgres', 'SELECT pg_get_wal_replay_pause_state()')) === 'paused' }));
        // Maker-checker: the approval reads and writes the primary, never the paused standby.
        r = (await remitAndApprove(e.agent, op, e.dwzh, rosterFromDraft(d), { key: idemKey('ro') })).receipt;
        committed.push({ dwzh: e.dwzh, serial: r.serial, rows: d.rows });
        assert.equal(await one(primary, store.dbName, `SELECT b.balance FROM member m JOIN member_balance b ON b.member_id = m.id WHERE m.account_no = '${m}'`), String(fen(d.total)), 'committed on the primary');
        const st = assertOk(await op.get(`/api/v1/members/${m}/statement?from=2026-01-01&to=2026-12-31`));
        assert.deepEqual(st.items, [], 'the statement, read from the paused standby, does not show the new remittance yet');
        assert.equal(assertOk(await op.get(`/api/v1/members/${m}`)).balance, '0.00', 'nor does the member read');
      } finally {
        await standby.sql('postgres', 'SELECT pg_wal_replay_resume()');
      }
      const st = await poll('the statement shows the remittance once replay resumes', async () => {
        const s = assertOk(await op.get(`/api/v1/members/${m}/statement?from=2026-01-01&to=2026-12-31`));
        return { ok: s.items.length === 1, s };
      });
      assert.equal(st.s.items[0].amount, d.total);
      assert.equal(st.s.closing_balance, d.total);
    });

    test(`the primary crashes ${sync ? 'right after the last 201 (no waiting: replication is synchronous)' : 'once the standby has replayed its WAL'}`, async () => {
      counts = {
        remittance: await one(primary, store.dbName, 'SELECT count(*) FROM remittance'),
        posting: await one(primary, store.dbName, 'SELECT count(*) FROM posting'),
        voucher: await one(primary, store.dbName, 'SELECT count(*) FROM voucher'),
        session: await one(primary, store.dbName, 'SELECT count(*) FROM session'),
      };
      balances = Object.fromEntries((await primary.sql(store.dbName, 'SELECT m.account_no, b.balance FROM member m JOIN member_balance b ON b.member_id = m.id ORDER BY m.account_no'))
        .trim().split('\n').map((l) => l.split('|')));
      if (!sync) {
        const lsn = await one(primary, 'postgres', 'SELECT pg_current_wal_lsn()');
        await poll(`the standby replayed up to ${lsn}`, async () => {
          const v = await one(standby, 'postgres', `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn`);
          return { ok: v === 't', v };
        });
      }
      await primary.kill();
      await poll('/readyz of the server on the dead primary is 503', async () => {
        const r = await request(S1, 'GET', '/readyz');
        return { ok: r.status === 503, status: r.status };
      });
      assert.equal((await request(S1, 'GET', '/healthz')).status, 200, 'the process itself lives on');
      await S1.stop(); // SIGTERM: a clean exit even without its database
    });

    test('the promoted standby holds every committed remittance, every balance, and verifies', async () => {
      await standby.promote();
      assert.equal(await one(standby, 'postgres', 'SELECT pg_is_in_recovery()'), 'f');
      const db = store.dbName;
      assert.deepEqual({
        remittance: await one(standby, db, 'SELECT count(*) FROM remittance'),
        posting: await one(standby, db, 'SELECT count(*) FROM posting'),
        voucher: await one(standby, db, 'SELECT count(*) FROM voucher'),
        session: await one(standby, db, 'SELECT count(*) FROM session'),
      }, counts);
      const got = Object.fromEntries((await standby.sql(db, 'SELECT m.account_no, b.balance FROM member m JOIN member_balance b ON b.member_id = m.id ORDER BY m.account_no'))
        .trim().split('\n').map((l) => l.split('|')));
      assert.deepEqual(got, balances);
      for (const c of committed) {
        assert.equal(await one(standby, db, `SELECT count(*) FROM remittance WHERE serial = '${c.serial}'`), '1', `remittance ${c.serial}`);
        for (const row of c.rows) assert.equal(got[row.account_no], String(fen(row.total)), `member ${row.account_no}`);
      }
      const v = await runHpf(['verify', '--data-dir', store.dataDir, '--db', standby.url(db)]);
      assert.equal(v.code, 0, `${v.stdout}${v.stderr}`);
      assert.match(v.stdout, /^hpf verify: ok \(/);
    });

    test('a server re-pointed at the promoted standby keeps the sessions and takes new work', async () => {
      const url = standby.url(store.dbName);
      const moved = { ...store, url, args: ['--data-dir', store.dataDir, '--db', url], sql: (t) => standby.sql(store.dbName, t) };
      S2 = await startServer({ store: moved });
      const same = client(S2, { cookie: op.cookie, csrf: op.csrf });
      assert.equal(assertOk(await same.get('/api/v1/session')).user.username, 'operator', 'the session made on the old primary');
      for (const c of committed) {
        for (const row of c.rows) assert.equal(assertOk(await same.get(`/api/v1/members/${row.account_no}`)).balance, yuan(fen(row.total)));
      }
      const e = await employerWithMembers(S2, same, { wages: ['5000.00'] });
      const d = assertOk(await e.agent.get(`/api/v1/employers/${e.dwzh}/remittances/draft?period=${PERIOD}`));
      await remitAndApprove(e.agent, same, e.dwzh, rosterFromDraft(d), { key: idemKey('after') });
      await S2.stop(); // and hpf verify on the promoted standby
    });
  });
}
