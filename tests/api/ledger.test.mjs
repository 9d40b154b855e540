// The fund's books (issue 5 items 1 and 2; docs/internals/ledger.md, RULES §5): the trial balance
// through the API and the CLI, recomputed here from the posted voucher lines; the balance-sheet
// identity; reversal (冲账) through the operator CLI; chart of accounts versions loaded from a
// file, and a bad chart refused naming its row; and `hpf verify` red, naming the row, on a copy
// of the ledger forged directly in the database. Runs on the store of HPF_TEST_STORE.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { idemKey, remitAndApprove, rosterFromDraft } from '../lib/fixtures.mjs';
import { fen, yuan } from '../lib/money.mjs';
import { assertOk, assertProblem } from '../lib/problem.mjs';
import { BUSINESS_DATE, REPO, STORE, createStore, forgedCopy, login, loginAs, populate, rememberTotp, runHpf, startServer } from '../lib/server.mjs';
import { secretFromUri } from '../lib/totp.mjs';

/** Every posted voucher line: [{date, subject, debit, credit}] (fen as BigInt). */
async function postedLines(store) {
  const out = await store.sql(
    'SELECT v.biz_date, l.subject, l.debit, l.credit FROM voucher_line l JOIN voucher v ON v.id = l.voucher_id ORDER BY v.id, l.line_no',
  );
  return out.trim().split('\n').filter(Boolean).map((row) => {
    const [date, subject, debit, credit] = row.split('|');
    return { date, subject, debit: BigInt(debit), credit: BigInt(credit) };
  });
}

/**
 * The trial balance recomputed from the lines: for each subject of the report, the lines of that
 * code and of every code below it (by the report's own parent links, which the chart tests
 * check), opening before `from`, turnover from..to, balances on the normal side.
 */
function recompute(report, lines) {
  const parent = new Map(report.subjects.map((s) => [s.code, s.parent]));
  const under = (code, top) => {
    for (let c = code; c; c = parent.get(c)) if (c === top) return true;
    return false;
  };
  const want = {};
  for (const s of report.subjects) {
    const sign = s.normal_side === 'D' ? 1n : -1n;
    let open = 0n;
    let dr = 0n;
    let cr = 0n;
    for (const l of lines) {
      if (l.date > report.to || !under(l.subject, s.code)) continue;
      if (l.date < report.from) open += l.debit - l.credit;
      else {
        dr += l.debit;
        cr += l.credit;
      }
    }
    want[s.code] = { opening: yuan(sign * open), debit: yuan(dr), credit: yuan(cr), closing: yuan(sign * (open + dr - cr)) };
  }
  return want;
}

/** The report's figures as the recomputation's shape. */
function figures(report) {
  return Object.fromEntries(report.subjects.map((s) => [s.code, { opening: s.opening, debit: s.debit, credit: s.credit, closing: s.closing }]));
}

/** The identity of RULES §5.2 from the report's first-level rows, checked here, not trusted. */
function assertIdentity(report) {
  const net = { asset: 0n, liability: 0n, equity: 0n, income: 0n, expense: 0n };
  for (const s of report.subjects.filter((x) => x.level === 1)) {
    const signed = fen(s.closing) * (s.normal_side === 'D' ? 1n : -1n); // Dr - Cr
    net[s.class] += ['asset', 'expense'].includes(s.class) ? signed : -signed;
  }
  assert.equal(net.asset, net.liability + net.equity + net.income - net.expense, 'assets = liabilities + equity + income - expense');
  const id = report.identity.closing;
  assert.equal(fen(id.assets), net.asset);
  assert.equal(fen(id.liabilities), net.liability);
  assert.equal(fen(id.left), fen(id.right));
  assert.equal(id.holds, true);
  assert.equal(report.identity.opening.holds, true);
  assert.equal(report.totals.debit, report.totals.credit, 'turnover balances');
  assert.equal(report.totals.closing_debit, report.totals.closing_credit, 'balances balance');
}

describe(`trial balance through the API on ${STORE}`, () => {
  let srv;
  let op;

  before(async () => {
    srv = await startServer({ demo: { employers: 2, members: 6, months: 2, seed: 5 } });
    op = await loginAs(srv, 'operator');
    // A few remittances more, the maker-checker way: each demo agent submits 2026-11, the
    // operator approves.
    for (const l of srv.logins.filter((x) => x.role === 'agent')) {
      const agent = await login(srv, l.username, l.password, { totp: l.totp });
      const dwzh = agent.user.employer_account_no;
      const draft = assertOk(await agent.get(`/api/v1/employers/${dwzh}/remittances/draft?period=${BUSINESS_DATE.slice(0, 7)}`));
      await remitAndApprove(agent, op, dwzh, rosterFromDraft(draft), { key: idemKey('tb') });
    }
  });
  after(() => srv?.stop());

  test('the figures equal the sums of the posted lines, rolled up to first-level codes; the identity holds', async () => {
    const lines = await postedLines(srv.store);
    const dates = [...new Set(lines.map((l) => l.date))].sort();
    assert.ok(dates.length >= 3, `vouchers on three dates at least: ${dates}`);
    // From the second date: an opening balance, and turnover of the later months.
    const from = dates[1];
    const report = assertOk(await op.get(`/api/v1/ledger/trial-balance?from=${from}&to=${BUSINESS_DATE}`));
    assert.equal(report.from, from);
    assert.equal(report.to, BUSINESS_DATE);
    assert.equal(report.chart.effective_from, '1999-01-01');
    assert.deepEqual(figures(report), recompute(report, lines));
    const row = (code) => report.subjects.find((s) => s.code === code);
    assert.notEqual(row('101').opening, '0.00', 'an opening balance on 101');
    assert.notEqual(row('201').credit, '0.00', 'deposits credited to 201 in the range');
    assert.equal(row('101').closing, row('201').closing, 'Dr 101 / Cr 201: deposits held = members\' fund');
    assert.equal(row('10101').level, 2);
    assert.equal(row('10101').parent, '101');
    assertIdentity(report);
    // The member sub-ledger is the control account's: the members' balances add up to 201.
    const members = await srv.store.sql('SELECT COALESCE(SUM(balance), 0) FROM member_balance');
    assert.equal(row('201').closing, yuan(BigInt(members.trim())));
  });

  test('the default range is the business year so far; the CLI gives the same report', async () => {
    const report = assertOk(await op.get('/api/v1/ledger/trial-balance'));
    assert.equal(report.from, `${BUSINESS_DATE.slice(0, 4)}-01-01`);
    assert.equal(report.to, BUSINESS_DATE);
    assert.deepEqual(figures(report), recompute(report, await postedLines(srv.store)));
    const cli = await runHpf(['ledger', 'trial-balance', '--json', ...srv.store.args]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout), report);
  });

  test('bad ranges are 400 naming the parameter', async () => {
    assertProblem(await op.get('/api/v1/ledger/trial-balance?from=2026-11-02&to=2026-11-01'), 400, { rule: 'query.range', field: 'from' });
    assertProblem(await op.get('/api/v1/ledger/trial-balance?from=2026-02-30'), 400, { rule: 'date.format', field: 'from' });
    assertProblem(await op.get('/api/v1/ledger/trial-balance?to=1998-12-31'), 404, { rule: 'chart.none' });
  });

  test('a reversal (冲账) through the API is a maker-checker request: 202, no self-approval, another operator runs it', async () => {
    const pw = 'Checker#2026ledger';
    const made = await runHpf(['user', 'add-operator', '--username', 'ledger2', '--name', '复核员', ...srv.store.args], { input: `${pw}\n` });
    assert.equal(made.code, 0, made.stderr);
    rememberTotp(srv, 'ledger2', secretFromUri(made.stdout.split('\n').find((l) => l.startsWith('otpauth://'))));
    const op2 = await login(srv, 'ledger2', pw);
    const [no, postings] = (await srv.store.sql(
      "SELECT v.voucher_no, (SELECT COUNT(*) FROM posting p WHERE p.voucher_id = v.id) FROM voucher v JOIN remittance r ON r.voucher_id = v.id ORDER BY v.id DESC LIMIT 1")).trim().split('|');
    const balances = async () => (await srv.store.sql('SELECT member_id, balance FROM member_balance ORDER BY member_id')).trim();
    const before_ = await balances();
    const key = idemKey('rv');
    const res = await op.post(`/api/v1/vouchers/${no}/reversal`, { reason: '错缴更正' }, { headers: { 'Idempotency-Key': key } });
    assert.equal(res.status, 202, JSON.stringify(res.json));
    assert.equal(res.json.kind, 'voucher.reverse');
    assert.equal(res.json.status, 'pending');
    assert.equal(await balances(), before_, 'nothing moves before the approval');
    assertProblem(await op.post(`/api/v1/approvals/${res.json.approval_id}/approve`, {}), 409, { rule: 'approval.self_approval' });
    const ok = assertOk(await op2.post(`/api/v1/approvals/${res.json.approval_id}/approve`, {}));
    assert.equal(ok.status, 'approved');
    assert.equal(ok.result.reverses, no);
    assert.equal(ok.result.postings, Number(postings));
    assert.match(ok.result.voucher_no, /^V\d{14}$/);
    assert.notEqual(await balances(), before_, 'the members\' deposits were taken back');
    // Checked at submit as it would run: a second reversal of it, a reversal of the mirror, an
    // unknown voucher.
    assertProblem(await op.post(`/api/v1/vouchers/${no}/reversal`, {}, { headers: { 'Idempotency-Key': idemKey('rv') } }), 409, { rule: 'ledger.already_reversed' });
    assertProblem(await op.post(`/api/v1/vouchers/${ok.result.voucher_no}/reversal`, {}, { headers: { 'Idempotency-Key': idemKey('rv') } }), 409, { rule: 'ledger.reversal_of_reversal' });
    assertProblem(await op.post('/api/v1/vouchers/V20260101999999/reversal', {}, { headers: { 'Idempotency-Key': idemKey('rv') } }), 404, { rule: 'ledger.voucher_unknown' });
    assertProblem(await (await loginAs(srv, 'agent')).post(`/api/v1/vouchers/${no}/reversal`, {}, { headers: { 'Idempotency-Key': idemKey('rv') } }), 403, { rule: 'auth.role' });
    for (const cmd of [['verify'], ['audit', 'verify']]) {
      const r = await runHpf([...cmd, ...srv.store.args]);
      assert.equal(r.code, 0, `${cmd.join(' ')}: ${r.stdout}${r.stderr}`);
    }
  });

  test('the books are the centre\'s: 403 for an operator of a branch office, an agent and an administrator', async () => {
    const l = srv.logins.find((x) => x.username === 'op-jianhu');
    const branchOp = await login(srv, l.username, l.password, { totp: l.totp });
    assertProblem(await branchOp.get('/api/v1/ledger/trial-balance'), 403, { rule: 'scope.branch' });
    assertProblem(await (await loginAs(srv, 'agent')).get('/api/v1/ledger/trial-balance'), 403, { rule: 'auth.role' });
    assertProblem(await (await loginAs(srv, 'admin')).get('/api/v1/ledger/trial-balance'), 403, { rule: 'auth.role' });
  });
});

describe(`the books from the CLI on ${STORE}: chart versions, reversal, forgeries`, () => {
  let clean;
  const forgedStores = [];
  const tmp = [];
  const hpf = (args) => runHpf([...args, ...clean.args]);
  const one = async (sql) => (await clean.sql(sql)).trim();

  before(async () => {
    clean = await createStore({ tag: 'books' });
    await populate(clean, { demo: { employers: 2, members: 6, months: 3, seed: 9 } });
  });
  after(async () => {
    for (const s of forgedStores) await s.drop().catch(() => {});
    await clean?.drop();
    for (const f of tmp) fs.rmSync(f, { force: true });
  });

  const chartFile = (name, text) => {
    const f = path.join(clean.dataDir, name);
    fs.writeFileSync(f, text);
    tmp.push(f);
    return f;
  };
  const baseline = fs.readFileSync(path.join(REPO, 'data', 'chart-1999.csv'), 'utf8');

  test('the baseline chart is data/chart-1999.csv, loaded on first start', async () => {
    const r = await hpf(['ledger', 'chart', 'show', '--date', '2000-01-01']);
    assert.equal(r.code, 0, r.stderr);
    const rows = (t) => t.split('\n').filter((x) => x && !x.startsWith('#'));
    assert.deepEqual(rows(r.stdout), rows(baseline));
    assert.match(r.stdout, /^# effective_from: 1999-01-01$/m);
  });

  test('a revised chart (an account renamed, a second-level code added) is in force from its date', async () => {
    const revised = baseline
      .replace('# effective_from: 1999-01-01', '# effective_from: 2019-01-01')
      .replace('101,住房公积金存款,1,,asset,D', '101,住房公积金银行存款,1,,asset,D')
      .replace('10102,定期存款,2,101,asset,D\n', '10102,定期存款,2,101,asset,D\n10103,协定存款,2,101,asset,D\n');
    const before1 = await one('SELECT count(*) FROM audit_log');
    const r = await hpf(['ledger', 'chart', 'load', chartFile('chart-2019.csv', revised), '--name', '2019 revision']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /version \d+ loaded \(32 subjects, 1 new codes\)/);
    const show = async (date) => {
      const s = await hpf(['ledger', 'chart', 'show', '--json', '--date', date]);
      assert.equal(s.code, 0, s.stderr);
      return JSON.parse(s.stdout);
    };
    const old = await show('2018-12-31');
    const now = await show('2019-01-01');
    assert.equal(old.subjects.find((s) => s.code === '101').name, '住房公积金存款');
    assert.equal(old.subjects.find((s) => s.code === '10103'), undefined);
    assert.equal(now.name, '2019 revision');
    assert.equal(now.subjects.find((s) => s.code === '101').name, '住房公积金银行存款');
    assert.deepEqual(now.subjects.find((s) => s.code === '10103'), { code: '10103', name: '协定存款', level: 2, parent: '101', class: 'asset', normal_side: 'D' });
    // The trial balance names the accounts of the chart in force on its end date.
    const tb = JSON.parse((await hpf(['ledger', 'trial-balance', '--json'])).stdout);
    assert.equal(tb.chart.name, '2019 revision');
    assert.equal(tb.subjects.find((s) => s.code === '101').name, '住房公积金银行存款');
    // The load is on the audit chain, and the chain verifies.
    assert.equal(Number(await one('SELECT count(*) FROM audit_log')), Number(before1) + 1);
    assert.match(await one("SELECT payload FROM audit_log WHERE kind = 'chart.loaded'"), /^chart\/1\|\d+\|20190101\|32\|1\|[0-9a-f]{64}\|2019 revision\|chart-2019\.csv$/);
    const a = await hpf(['audit', 'verify']);
    assert.equal(a.code, 0, a.stderr);
    // The same version again is refused: versions never change.
    const again = await hpf(['ledger', 'chart', 'load', chartFile('again.csv', revised)]);
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, /chart\.version_exists/);
    // JSON works as well.
    const json = { ...now, effective_from: '2020-01-01', name: 'JSON form' };
    const j = await hpf(['ledger', 'chart', 'load', chartFile('chart-2020.json', JSON.stringify(json))]);
    assert.equal(j.code, 0, j.stderr);
    assert.equal((await show('2020-06-01')).name, 'JSON form');
  });

  test('a bad chart is refused naming the row, and nothing of it is stored', async () => {
    const versions = await one('SELECT count(*) FROM chart_version');
    const cases = [
      [baseline.replace('10101,活期存款,2,101,asset,D', '10101,活期存款,2,109,asset,D').replace('1999-01-01', '2021-01-01'),
        /chart\.parent_unknown: line 10 \(code 10101\): parent 109 is not in the chart/],
      [baseline.replace('32101,提取贷款风险准备金,2,321,equity,D', '32101,提取贷款风险准备金,2,321,equity,C').replace('1999-01-01', '2021-01-01'),
        /chart\.class_mismatch: line 26 \(code 32101\)/],
      [baseline.replace('201,住房公积金,1,,liability,C\n', '').replace('1999-01-01', '2021-01-01'),
        /chart\.code_in_use: code 201 is used by posted voucher lines/],
      [baseline.replace('111,应收利息,1,,asset,D', '111,应收利息,1,,expense,D').replace('1999-01-01', '2021-01-01'),
        /chart\.class_changed: line 13 \(code 111\)/],
      ['code,name\n101,x\n', /chart\.syntax: line 1: the header lacks column level/],
    ];
    for (const [i, [text, want]] of cases.entries()) {
      const r = await hpf(['ledger', 'chart', 'load', chartFile(`bad-${i}.csv`, text)]);
      assert.equal(r.code, 2, `case ${i}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, want, `case ${i}`);
    }
    assert.equal(await one('SELECT count(*) FROM chart_version'), versions);
  });

  test('bad usage exits 2 and writes nothing', async () => {
    for (const args of [['ledger'], ['ledger', 'trial-balance', '--from', '2026-13-01'], ['ledger', 'chart', 'show', '--reason', 'x'],
      ['ledger', 'reverse'], ['ledger', 'chart', 'load']]) {
      const r = await hpf(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^hpf ledger: /);
    }
  });

  test('a reversal mirrors the voucher and its postings, restoring balances; a second reversal is refused', async () => {
    const [vno, rid] = (await one('SELECT v.voucher_no, r.id FROM remittance r JOIN voucher v ON v.id = r.voucher_id ORDER BY r.id DESC LIMIT 1')).split('|');
    const balances = async () => Object.fromEntries((await clean.sql('SELECT member_id, balance FROM member_balance ORDER BY member_id')).trim().split('\n').map((x) => x.split('|')));
    const employers = async () => (await clean.sql('SELECT employer_id, balance FROM employer_balance ORDER BY employer_id')).trim();
    const posted = (await clean.sql(`SELECT member_id, amount FROM posting WHERE remittance_id = ${rid}`)).trim().split('\n').map((x) => x.split('|'));
    const before1 = await balances();
    const tbBefore = JSON.parse((await hpf(['ledger', 'trial-balance', '--json'])).stdout);
    const total = await one(`SELECT total FROM remittance WHERE id = ${rid}`);

    const r = await hpf(['ledger', 'reverse', vno, '--reason', '错缴更正']);
    assert.equal(r.code, 0, r.stderr);
    const m = /^hpf ledger reverse: (V\d{14}) reverses (V\d{14}) \((\d+) member postings, ([\d.]+)\)$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(m[2], vno);
    assert.equal(Number(m[3]), posted.length);
    assert.equal(m[4], yuan(BigInt(total)));
    const rev = m[1];

    // Every member of the remittance is back by exactly its posting; the others are untouched.
    const after1 = await balances();
    const back = Object.fromEntries(posted.map(([id, amt]) => [id, BigInt(amt)]));
    for (const id of Object.keys(before1)) {
      assert.equal(BigInt(after1[id]), BigInt(before1[id]) - (back[id] ?? 0n), `member ${id}`);
    }
    // The mirror: lines swapped, postings opposite and linked to their originals.
    assert.equal(await one(`SELECT count(*) FROM voucher WHERE voucher_no = '${rev}' AND reversal_of = (SELECT id FROM voucher WHERE voucher_no = '${vno}')`), '1');
    const linesOf = async (no) => (await clean.sql(`SELECT l.line_no, l.subject, l.debit, l.credit FROM voucher_line l JOIN voucher v ON v.id = l.voucher_id WHERE v.voucher_no = '${no}' ORDER BY l.line_no`)).trim().split('\n').map((x) => x.split('|'));
    const swapped = (await linesOf(vno)).map(([n, s, d, c]) => [n, s, c, d]);
    assert.deepEqual(await linesOf(rev), swapped);
    assert.deepEqual(swapped.map(([, s]) => s), ['101', '201']);
    const mirror = (await clean.sql(`SELECT p.member_id, p.amount, o.amount FROM posting p JOIN posting o ON o.id = p.reversal_of JOIN voucher v ON v.id = p.voucher_id WHERE v.voucher_no = '${rev}' ORDER BY p.id`)).trim().split('\n');
    assert.equal(mirror.length, posted.length);
    for (const row of mirror) {
      const [, amt, orig] = row.split('|');
      assert.equal(BigInt(amt), -BigInt(orig));
    }
    // The employer sub-ledger followed, and the books still balance.
    const sumByEmployer = await clean.sql('SELECT m.employer_id, SUM(b.balance) FROM member m JOIN member_balance b ON b.member_id = m.id GROUP BY m.employer_id ORDER BY m.employer_id');
    assert.equal(await employers(), sumByEmployer.trim());
    const tbAfter = JSON.parse((await hpf(['ledger', 'trial-balance', '--json'])).stdout);
    const row = (tb, code) => tb.subjects.find((s) => s.code === code);
    assert.equal(fen(row(tbAfter, '201').closing), fen(row(tbBefore, '201').closing) - BigInt(total));
    assert.equal(fen(row(tbAfter, '101').credit), fen(row(tbBefore, '101').credit) + BigInt(total));
    assert.deepEqual(figures(tbAfter), recompute(tbAfter, await postedLines(clean)));
    assertIdentity(tbAfter);
    const v = await hpf(['verify']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^hpf verify: ok /);
    // The reversal is a record of the audit chain (the mirror voucher, its lines, a digest of
    // its postings; the reason only as a digest), and the chain with it verifies.
    const snap = await one(`SELECT payload FROM audit_log WHERE kind = 'voucher.reversed'`);
    assert.match(snap, new RegExp(`^reversal/1\\|${rev}\\|\\d{8}\\|001\\|sm3:[0-9a-f]{64}\\|${vno}\\|1,101,0,\\d+;2,201,\\d+,0\\|${posted.length}\\|-${total}\\|[0-9a-f]{64}$`));
    assert.doesNotMatch(snap, /错缴更正/);
    const av = await hpf(['audit', 'verify']);
    assert.equal(av.code, 0, av.stderr);

    // A second reversal (409 ledger.already_reversed in the service) and a reversal of the
    // reversal are refused, writing nothing.
    const vouchers = await one('SELECT count(*) FROM voucher');
    const twice = await hpf(['ledger', 'reverse', vno]);
    assert.equal(twice.code, 1, twice.stderr);
    assert.match(twice.stderr, new RegExp(`ledger\\.already_reversed: voucher ${vno} was already reversed by ${rev}`));
    const back2 = await hpf(['ledger', 'reverse', rev]);
    assert.equal(back2.code, 1, back2.stderr);
    assert.match(back2.stderr, /ledger\.reversal_of_reversal/);
    const unknown = await hpf(['ledger', 'reverse', 'V20260101999999']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /ledger\.voucher_unknown/);
    assert.equal(await one('SELECT count(*) FROM voucher'), vouchers);
    assert.deepEqual(await balances(), after1);
  });

  // [name, SQLite forgery, PostgreSQL forgery, expected first violation]. The forgeries copy the
  // ledger above (with its reversal) and drop or disable the immutability triggers first.
  const PG_OPEN = (t) => `ALTER TABLE ${t} DISABLE TRIGGER USER;`;
  const REMIT_VOUCHER = (id) => `(SELECT voucher_id FROM remittance WHERE id = ${id})`;
  const REVERSAL = '(SELECT id FROM voucher WHERE reversal_of IS NOT NULL)';
  const forgeries = [
    ['an amount in a voucher\'s lines, both sides alike (still balanced)',
      `DROP TRIGGER voucher_line_immutable_u; UPDATE voucher_line SET debit = debit + 100 WHERE voucher_id = ${REMIT_VOUCHER(1)} AND debit > 0; UPDATE voucher_line SET credit = credit + 100 WHERE voucher_id = ${REMIT_VOUCHER(1)} AND credit > 0;`,
      `${PG_OPEN('voucher_line')} UPDATE voucher_line SET debit = debit + 100 WHERE voucher_id = ${REMIT_VOUCHER(1)} AND debit > 0; UPDATE voucher_line SET credit = credit + 100 WHERE voucher_id = ${REMIT_VOUCHER(1)} AND credit > 0;`,
      /remittance\.matches_voucher_and_postings: remittance HJ\d{14} \(id 1\) total [\d.]+, voucher debits [\d.]+/],
    ['a posting deleted',
      'DROP TRIGGER posting_immutable_d; DELETE FROM posting WHERE id = 5;',
      `${PG_OPEN('posting')} DELETE FROM posting WHERE id = 5;`,
      /member\.balance_is_sum_of_postings: member \d{17}[\dX] \(id \d+\) balance [\d.]+ != sum of postings/],
    ['an unbalanced voucher (its credit line deleted)',
      `DROP TRIGGER voucher_line_immutable_d; DELETE FROM voucher_line WHERE voucher_id = ${REMIT_VOUCHER(2)} AND credit > 0;`,
      `${PG_OPEN('voucher_line')} DELETE FROM voucher_line WHERE voucher_id = ${REMIT_VOUCHER(2)} AND credit > 0;`,
      /voucher\.balanced: voucher V\d{14} \(id \d+\) debits [\d.]+ != credits 0\.00/],
    ['an employer sub-ledger that differs from its members',
      'UPDATE employer_balance SET balance = balance + 1 WHERE employer_id = 2;',
      'UPDATE employer_balance SET balance = balance + 1 WHERE employer_id = 2;',
      /employer\.balance_is_sum_of_members: employer \d{17}[\dX] \(id 2\) balance [\d.]+ != sum of its members' balances/],
    ['a subject changed on a line (the template says otherwise)',
      `DROP TRIGGER voucher_line_immutable_u; UPDATE voucher_line SET subject = '102' WHERE voucher_id = ${REMIT_VOUCHER(3)} AND debit > 0;`,
      `${PG_OPEN('voucher_line')} UPDATE voucher_line SET subject = '102' WHERE voucher_id = ${REMIT_VOUCHER(3)} AND debit > 0;`,
      /voucher\.matches_template: voucher V\d{14} \(id \d+\) line 1 \(Dr 102\) is no line of its template 001/],
    ['a voucher dated before any chart',
      `DROP TRIGGER voucher_immutable_u; UPDATE voucher SET biz_date = '1998-06-30' WHERE id = ${REMIT_VOUCHER(2)};`,
      `${PG_OPEN('voucher')} UPDATE voucher SET biz_date = '1998-06-30' WHERE id = ${REMIT_VOUCHER(2)};`,
      /voucher\.subject_in_chart: voucher V\d{14} \(id \d+\) line 1 names subject 101, which the chart in force on 1998-06-30 lacks/],
    ['a reversal line that does not mirror its original',
      `DROP TRIGGER voucher_line_immutable_u; UPDATE voucher_line SET subject = '102' WHERE voucher_id = ${REVERSAL} AND credit > 0;`,
      `${PG_OPEN('voucher_line')} UPDATE voucher_line SET subject = '102' WHERE voucher_id = ${REVERSAL} AND credit > 0;`,
      /voucher\.reversal_mirrors_original: voucher V\d{14} \(id \d+\) reverses V\d{14}/],
    ['a posting that no business record carries',
      'INSERT INTO posting (member_id, biz_date, kind, amount, balance_after, voucher_id) SELECT member_id, biz_date, kind, 0, balance_after, voucher_id FROM posting WHERE id = (SELECT MAX(id) FROM posting WHERE member_id = 1);',
      'INSERT INTO posting (member_id, biz_date, kind, amount, balance_after, voucher_id) SELECT member_id, biz_date, kind, 0, balance_after, voucher_id FROM posting WHERE id = (SELECT MAX(id) FROM posting WHERE member_id = 1);',
      /posting\.has_business_record: posting id \d+ of member id 1 belongs to no business record/],
  ];

  test('audit verify names a mirror posting changed after the reversal', async () => {
    const sql = `SELECT id FROM posting WHERE reversal_of IS NOT NULL ORDER BY id LIMIT 1`;
    const pid = await one(sql);
    const forge = STORE === 'postgres'
      ? `${PG_OPEN('posting')} UPDATE posting SET amount = amount - 100, indiv_amount = indiv_amount - 100 WHERE id = ${pid};`
      : `DROP TRIGGER posting_immutable_u; UPDATE posting SET amount = amount - 100, indiv_amount = indiv_amount - 100 WHERE id = ${pid};`;
    const args = await forgedCopy(clean, forgedStores, 'reversal-posting', forge);
    const r = await runHpf(['audit', 'verify', ...args]);
    assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^hpf audit verify: FAILED: entry seq \d+ \(voucher\.reversed\): voucher V\d{14} \(id \d+\) differs from its audited record in postings_amount/);
  });

  for (const [name, sqliteSql, pgSql, expected] of forgeries) {
    test(`verify exits 1 naming the row: ${name}`, async () => {
      const args = await forgedCopy(clean, forgedStores, name.replace(/\W+/g, '-'), STORE === 'postgres' ? pgSql : sqliteSql);
      const r = await runHpf(['verify', ...args]);
      assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^hpf verify: FAILED: /);
      assert.match(r.stderr, expected);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one clear line on stderr');
    });
  }
});
