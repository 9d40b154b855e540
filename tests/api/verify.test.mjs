// `hpf verify` holds on a demo ledger and names the first violation when posted data is forged
// directly in the SQLite file (the immutability triggers are dropped first, as an attacker with
// file access could). Contract: README "The hpf command"; invariants: ledger/verify.h.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runHpf } from '../lib/server.mjs';

let base;
before(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'hpf-verify-'));
  const r = await runHpf(['demo', '--data-dir', path.join(base, 'clean'), '--employers', '2',
    '--members', '6', '--months', '2', '--seed', '3']);
  assert.equal(r.code, 0, r.stderr);
});
after(() => fs.rmSync(base, { recursive: true, force: true }));

/** A copy of the clean demo with `sql` applied through the sqlite3 CLI. */
function forged(name, sql) {
  const dir = path.join(base, name);
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(base, 'clean', 'hpf.db'), path.join(dir, 'hpf.db'));
  execFileSync('sqlite3', [path.join(dir, 'hpf.db'), sql]);
  return dir;
}

async function verify(dir) {
  return runHpf(['verify', '--data-dir', dir]);
}

test('a demo ledger verifies: exit 0 with the counts', async () => {
  const r = await verify(path.join(base, 'clean'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^hpf verify: ok \(4 vouchers, 6 members, 12 postings, 4 remittances\)/);
});

const forgeries = [
  ['a member balance raised by one fen', 'UPDATE member SET balance = balance + 1 WHERE id = 2;',
    /member\.balance_is_sum_of_postings: member \d{17}[\dX] \(id 2\) balance/],
  ['a posting amount changed', 'DROP TRIGGER posting_immutable_u; UPDATE posting SET amount = amount - 100 WHERE id = 3;',
    /member\.balance_is_sum_of_postings: member .* \(id \d+\)/],
  ['a posting deleted', 'DROP TRIGGER posting_immutable_d; DELETE FROM posting WHERE id = 4;',
    /member\.balance_is_sum_of_postings/],
  ['a running balance_after changed', 'DROP TRIGGER posting_immutable_u; UPDATE posting SET balance_after = balance_after + 5 WHERE id = 1;',
    /posting\.running_balance: posting id 1 /],
  ['a voucher line unbalanced', 'DROP TRIGGER voucher_line_immutable_u; UPDATE voucher_line SET debit = debit + 1 WHERE voucher_id = 1 AND line_no = 1;',
    /voucher\.balanced: voucher V\d{14} \(id 1\) debits/],
  ['a remittance total changed', 'DROP TRIGGER remittance_immutable_u; UPDATE remittance SET total = total + 100, unit_total = unit_total + 100 WHERE id = 2;',
    /remittance\.matches_voucher_and_postings: remittance HJ\d{14} \(id 2\)/],
  ['money moved between two members', 'DROP TRIGGER posting_immutable_u; UPDATE posting SET amount = amount + 100 WHERE id = 1; UPDATE posting SET amount = amount - 100 WHERE id = 2;',
    /member\.balance_is_sum_of_postings/],
  ['an extra voucher without a business record', "INSERT INTO voucher(voucher_no, biz_date, template, summary) VALUES ('V20261101999999', '2026-11-01', '001', 'forged'); INSERT INTO voucher_line VALUES (last_insert_rowid(), 1, '101', 500, 0); INSERT INTO voucher_line SELECT id, 2, '201', 0, 500 FROM voucher WHERE voucher_no = 'V20261101999999';",
    /ledger\.control_201|voucher\.has_business_record/],
];

for (const [name, sql, expected] of forgeries) {
  test(`verify exits 1 naming the violation: ${name}`, async () => {
    const r = await verify(forged(name.replace(/\W+/g, '-'), sql));
    assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^hpf verify: FAILED: /);
    assert.match(r.stderr, expected);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one clear line on stderr');
  });
}
