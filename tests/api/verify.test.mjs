// `hpf verify` holds on a demo ledger and names the first violation when posted data is forged
// directly in the database, as an attacker with database access could: the immutability triggers
// are dropped (SQLite: DROP TRIGGER in a copy of the file) or disabled (PostgreSQL: ALTER TABLE
// ... DISABLE TRIGGER USER in a copy of the database, CREATE DATABASE ... TEMPLATE) first.
// Runs on the store of HPF_TEST_STORE. Contract: README "The hpf command"; invariants:
// ledger/verify.h.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { STORE, createStore, forgedCopy, populate, runHpf } from '../lib/server.mjs';

let clean; // the demo store every forgery copies
const forgedStores = [];

before(async () => {
  clean = await createStore({ tag: 'verify' });
  await populate(clean, { demo: { employers: 2, members: 6, months: 2, seed: 3 } });
});
after(async () => {
  for (const s of forgedStores) await s.drop().catch(() => {});
  await clean?.drop();
});

const forged = (name, sql) => forgedCopy(clean, forgedStores, name, sql);

const verify = (args) => runHpf(['verify', ...args]);

test(`a demo ledger verifies on ${STORE}: exit 0 with the counts`, async () => {
  const r = await verify(clean.args);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^hpf verify: ok \(4 vouchers, 6 members, 12 postings, 4 remittances\)/);
});

test(`the schema itself refuses to change posted history on ${STORE} (immutability triggers)`, async () => {
  for (const sql of ['UPDATE posting SET amount = amount + 1 WHERE id = 1', 'DELETE FROM posting WHERE id = 1',
    'UPDATE voucher_line SET debit = debit + 1 WHERE voucher_id = 1 AND line_no = 1', 'DELETE FROM remittance WHERE id = 1',
    "UPDATE voucher SET summary = 'x' WHERE id = 1"]) {
    await assert.rejects(clean.sql(sql), /immutable/, `${sql} was not refused`);
  }
  const r = await verify(clean.args);
  assert.equal(r.code, 0, r.stderr);
});

// [name, SQLite forgery, PostgreSQL forgery, expected first violation]
const PG_OPEN = (t) => `ALTER TABLE ${t} DISABLE TRIGGER USER;`;
const forgeries = [
  ['a member balance raised by one fen',
    'UPDATE member_balance SET balance = balance + 1 WHERE member_id = 2;',
    'UPDATE member_balance SET balance = balance + 1 WHERE member_id = 2;',
    /member\.balance_is_sum_of_postings: member \d{17}[\dX] \(id 2\) balance/],
  ['a posting amount changed',
    'DROP TRIGGER posting_immutable_u; UPDATE posting SET amount = amount - 100 WHERE id = 3;',
    `${PG_OPEN('posting')} UPDATE posting SET amount = amount - 100 WHERE id = 3;`,
    /member\.balance_is_sum_of_postings: member .* \(id \d+\)/],
  ['a posting deleted',
    'DROP TRIGGER posting_immutable_d; DELETE FROM posting WHERE id = 4;',
    `${PG_OPEN('posting')} DELETE FROM posting WHERE id = 4;`,
    /member\.balance_is_sum_of_postings/],
  ['a running balance_after changed',
    'DROP TRIGGER posting_immutable_u; UPDATE posting SET balance_after = balance_after + 5 WHERE id = 1;',
    `${PG_OPEN('posting')} UPDATE posting SET balance_after = balance_after + 5 WHERE id = 1;`,
    /posting\.running_balance: posting id 1 /],
  ['a voucher line unbalanced',
    'DROP TRIGGER voucher_line_immutable_u; UPDATE voucher_line SET debit = debit + 1 WHERE voucher_id = 1 AND line_no = 1;',
    `${PG_OPEN('voucher_line')} UPDATE voucher_line SET debit = debit + 1 WHERE voucher_id = 1 AND line_no = 1;`,
    /voucher\.balanced: voucher V\d{14} \(id 1\) debits/],
  ['a remittance total changed',
    'DROP TRIGGER remittance_immutable_u; UPDATE remittance SET total = total + 100, unit_total = unit_total + 100 WHERE id = 2;',
    `${PG_OPEN('remittance')} UPDATE remittance SET total = total + 100, unit_total = unit_total + 100 WHERE id = 2;`,
    /remittance\.matches_voucher_and_postings: remittance HJ\d{14} \(id 2\)/],
  ['money moved between two members',
    'DROP TRIGGER posting_immutable_u; UPDATE posting SET amount = amount + 100 WHERE id = 1; UPDATE posting SET amount = amount - 100 WHERE id = 2;',
    `${PG_OPEN('posting')} UPDATE posting SET amount = amount + 100 WHERE id = 1; UPDATE posting SET amount = amount - 100 WHERE id = 2;`,
    /member\.balance_is_sum_of_postings/],
  ['an extra voucher without a business record',
    "INSERT INTO voucher(voucher_no, biz_date, template, summary) VALUES ('V20261101999999', '2026-11-01', '001', 'forged'); INSERT INTO voucher_line VALUES (last_insert_rowid(), 1, '101', 500, 0); INSERT INTO voucher_line SELECT id, 2, '201', 0, 500 FROM voucher WHERE voucher_no = 'V20261101999999';",
    "INSERT INTO voucher(voucher_no, biz_date, template, summary) VALUES ('V20261101999999', '2026-11-01', '001', 'forged'); INSERT INTO voucher_line SELECT id, 1, '101', 500, 0 FROM voucher WHERE voucher_no = 'V20261101999999'; INSERT INTO voucher_line SELECT id, 2, '201', 0, 500 FROM voucher WHERE voucher_no = 'V20261101999999';",
    /ledger\.control_201|voucher\.has_business_record/],
];

for (const [name, sqliteSql, pgSql, expected] of forgeries) {
  test(`verify exits 1 naming the violation on ${STORE}: ${name}`, async () => {
    const args = await forged(name.replace(/\W+/g, '-'), STORE === 'postgres' ? pgSql : sqliteSql);
    const r = await verify(args);
    assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^hpf verify: FAILED: /);
    assert.match(r.stderr, expected);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one clear line on stderr');
  });
}
