// The roster (汇缴清册) as a CSV file (domain/roster.c, docs/internals/roster.md): the draft as
// CSV, uploading a file to POST .../remittances with Content-Type text/csv and ?period=&total=,
// which takes the same maker-checker path as JSON (202 pending, another login approves, replay
// by Idempotency-Key), and 422 problems whose `errors` array lists every row error with the
// file's line and column. Business date 2026-11-15: fresh employers can remit 2026-11 only.
// Runs on the store of HPF_TEST_STORE.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { approve, employerWithMembers, idemKey, rosterFromDraft } from '../lib/fixtures.mjs';
import { assertOk, assertProblem, describeRes } from '../lib/problem.mjs';
import { BUSINESS_DATE, STORE, loginAs, startServer } from '../lib/server.mjs';

const PERIOD = BUSINESS_DATE.slice(0, 7);
const BOM = '\ufeff';

let srv;
let op;

before(async () => {
  srv = await startServer({ demo: { employers: 1, members: 2, months: 1, seed: 29 } });
  op = await loginAs(srv, 'operator');
});
after(() => srv?.stop().catch(() => {}));

const draftPath = (dwzh, q = '') => `/api/v1/employers/${dwzh}/remittances/draft?period=${PERIOD}${q}`;
const postPath = (dwzh, period = PERIOD, total) =>
  `/api/v1/employers/${dwzh}/remittances?period=${period}${total === undefined ? '' : `&total=${total}`}`;

/** POST a CSV file (string or Buffer) as `sess`. */
function upload(sess, dwzh, body, { total, period = PERIOD, key = idemKey('csv'), type = 'text/csv' } = {}) {
  const headers = { 'content-type': type };
  if (key !== null) headers['Idempotency-Key'] = key;
  return sess.post(postPath(dwzh, period, total), body, { headers });
}

/** An RFC 4180 reader written for the test: records of fields. */
function readCsv(text) {
  const records = [];
  let rec = [];
  let f = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i++;
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') { f += '"'; i += 2; } else if (text[i] === '"') { i++; break; } else f += text[i++];
      }
    } else if (c === ',') { rec.push(f); f = ''; i++; } else if (c === '\r' && text[i + 1] === '\n') {
      rec.push(f); records.push(rec); rec = []; f = ''; i += 2;
    } else { f += c; i++; }
  }
  if (f || rec.length) { rec.push(f); records.push(rec); }
  return records;
}

// GBK bytes for the test's own files (Chinese Excel's "CSV (逗号分隔)" default): the reverse of
// the runtime's GBK decoder over every two-byte code.
let gbkMap;
function gbk(text) {
  if (!gbkMap) {
    gbkMap = new Map();
    const dec = new TextDecoder('gbk', { fatal: true });
    for (let a = 0x81; a <= 0xfe; a++) {
      for (let b = 0x40; b <= 0xfe; b++) {
        if (b === 0x7f) continue;
        try {
          const ch = dec.decode(Uint8Array.of(a, b));
          if (ch.length === 1 && !gbkMap.has(ch)) gbkMap.set(ch, [a, b]);
        } catch { /* not a GBK code */ }
      }
    }
  }
  const out = [];
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) out.push(ch.charCodeAt(0));
    else {
      const b = gbkMap.get(ch);
      assert.ok(b, `no GBK code for ${ch}`);
      out.push(...b);
    }
  }
  return Buffer.from(out);
}

describe(`roster CSV on ${STORE}`, () => {
  let e;
  let draft;

  before(async () => {
    e = await employerWithMembers(srv, op, { unitBp: 800, wages: ['6543.21', '25310.40', '1900.00'] });
    draft = assertOk(await e.agent.get(draftPath(e.dwzh)));
  });

  test('GET .../draft?format=csv: BOM, Chinese header, one CRLF row per member as the JSON draft', async () => {
    const res = await e.agent.get(draftPath(e.dwzh, '&format=csv'));
    assert.equal(res.status, 200, describeRes(res));
    assert.match(res.headers['content-type'], /^text\/csv; charset=utf-8$/);
    assert.match(res.headers['content-disposition'], new RegExp(`^attachment; filename="roster-${e.dwzh}-${PERIOD}\\.csv"$`));
    assert.ok(res.text.startsWith(BOM), 'a UTF-8 BOM, so that Excel reads UTF-8');
    const recs = readCsv(res.text.slice(1));
    assert.deepEqual(recs[0], ['个人账号', '姓名', '单位缴存额', '个人缴存额']);
    assert.equal(recs.length, 1 + draft.rows.length);
    draft.rows.forEach((r, i) => {
      assert.deepEqual(recs[i + 1], [`="${r.account_no}"`, r.name, r.unit, r.individual], `row ${i}`);
    });
    assert.deepEqual(assertOk(await e.agent.get(draftPath(e.dwzh, '&format=json'))), draft);
    assertProblem(await e.agent.get(draftPath(e.dwzh, '&format=xml')), 400, { field: 'format', rule: 'query.format' });
  });

  test('the downloaded file uploads as is: 202 pending, the operator approves, posted; the key replays', async () => {
    const file = (await e.agent.get(draftPath(e.dwzh, '&format=csv'))).raw;
    const key = idemKey('rt');
    const res = await upload(e.agent, e.dwzh, file, { total: draft.total, key });
    const a = assertOk(res, 202);
    assert.equal(a.status, 'pending');
    assert.equal(a.kind, 'remittance.post');
    assert.equal(a.result, null);
    const got = assertOk(await op.get(`/api/v1/approvals/${a.approval_id}`));
    assert.deepEqual(got.payload, { employer: e.dwzh, ...rosterFromDraft(draft) }, 'the same request as the JSON roster');
    // nothing posted yet
    assert.equal(assertOk(await op.get(`/api/v1/members/${draft.rows[0].account_no}`)).balance, '0.00');
    const done = assertOk(await approve(op, a.approval_id));
    assert.equal(done.status, 'approved');
    assert.equal(done.result.total, draft.total);
    assert.equal(done.result.members, draft.rows.length);
    for (const r of draft.rows) {
      assert.equal(assertOk(await op.get(`/api/v1/members/${r.account_no}`)).balance, r.total, r.account_no);
    }
    // The same file and key: a replay of the approved request, nothing stored.
    const again = await upload(e.agent, e.dwzh, file, { total: draft.total, key });
    assert.equal(again.status, 200, describeRes(again));
    assert.equal(again.headers['idempotent-replay'], 'true');
    assert.equal(again.json.approval_id, a.approval_id);
    assert.equal(again.json.result.serial, done.result.serial);
    // The same roster as JSON under the same key is the same request: one path for both.
    const json = await e.agent.post(`/api/v1/employers/${e.dwzh}/remittances`, rosterFromDraft(draft), { headers: { 'Idempotency-Key': key } });
    assert.equal(json.status, 200, describeRes(json));
    assert.equal(json.json.approval_id, a.approval_id);
    // Another roster under that key is refused.
    const other = Buffer.from(`account_no,unit,individual\n${draft.rows[0].account_no},${draft.rows[0].unit},${draft.rows[0].individual}\n`);
    assertProblem(await upload(e.agent, e.dwzh, other, { total: draft.rows[0].total, key }), 409, { rule: 'idempotency.key_reused' });
    assertProblem(await upload(e.agent, e.dwzh, file, { total: draft.total }), 409, { rule: 'remittance.period_posted', field: 'period' });
  });

  test('a GBK file (Chinese Excel) with the columns in another order is read', async () => {
    const g = await employerWithMembers(srv, op, { unitBp: 1200, wages: ['6543.21', '4000.00'] });
    const d = assertOk(await g.agent.get(draftPath(g.dwzh)));
    const lines = ['个人缴存额,姓名,个人账号,单位缴存额', ...d.rows.map((r) => `${r.individual},${r.name},${r.account_no},${r.unit}`)];
    const file = gbk(`${lines.join('\r\n')}\r\n\r\n`);
    assert.ok(file.some((b) => b >= 0x80) && !/个人/.test(file.toString('utf8')), 'the file is GBK, not UTF-8');
    const a = assertOk(await upload(g.agent, g.dwzh, file, { total: d.total }), 202);
    const got = assertOk(await op.get(`/api/v1/approvals/${a.approval_id}`));
    assert.deepEqual(got.payload, { employer: g.dwzh, ...rosterFromDraft(d) });
    const done = assertOk(await approve(op, a.approval_id));
    assert.equal(done.result.total, d.total);
  });

  describe('refusals store nothing', () => {
    let f;
    let d;
    before(async () => {
      f = await employerWithMembers(srv, op, { unitBp: 800, wages: ['6543.21', '25310.40', '1900.00'] });
      d = assertOk(await f.agent.get(draftPath(f.dwzh)));
    });

    async function nothingPending() {
      const list = assertOk(await op.get('/api/v1/approvals?status=pending&limit=200'));
      assert.ok(!list.items.some((a) => a.employer_account_no === f.dwzh), 'a refused file left an approval');
    }

    test('row errors: 422 whose errors list every bad row with line, column and rule', async () => {
      const [r0, r1, r2] = d.rows;
      const badCheck = r1.account_no.slice(0, 17) + (r1.account_no[17] === '0' ? '1' : '0');
      const text = [
        '个人账号,姓名,单位缴存额,个人缴存额',
        `${r0.account_no},"${r0.name}",1.234,${r0.individual}`,
        '',
        `${badCheck},"${r1.name}",${r1.unit},${r1.individual}`,
        `${r2.account_no},"多行`,
        `姓名",${r2.unit},-1`,
        `${r2.account_no},${r2.name},1e3,`,
      ].join('\n');
      const res = await upload(f.agent, f.dwzh, text, { total: d.total });
      const p = assertProblem(res, 422, { rule: 'roster.amount', field: '/rows/0/unit' });
      assert.ok(Array.isArray(p.errors), describeRes(res));
      const got = p.errors.map((x) => [x.pointer, x.line, x.column, x.rule]);
      assert.deepEqual(got, [
        ['/rows/0/unit', 2, '单位缴存额', 'roster.amount'],
        ['/rows/1/account_no', 4, '个人账号', 'roster.account_no'],
        ['/rows/2/name', 5, '姓名', 'roster.name'],
        ['/rows/2/individual', 5, '个人缴存额', 'roster.amount'],
        ['/rows/3/unit', 7, '单位缴存额', 'roster.amount'],
        ['/rows/3/individual', 7, '个人缴存额', 'roster.amount'],
      ]);
      for (const x of p.errors) assert.ok(typeof x.detail === 'string' && x.detail.length > 0);
      assert.match(p.errors[1].detail, /check character/);
      assert.equal(p.errors_total, 6);
      assert.match(p.detail, /^line 2, 单位缴存额: /);
      await nothingPending();
    });

    test('a business rule keeps its /rows/N pointer and gains the file line and column', async () => {
      const text = `account_no,name,unit,individual\n\n${d.rows[0].account_no},${d.rows[0].name},${d.rows[0].unit},${d.rows[0].individual}\n`
        + `${d.rows[1].account_no},${d.rows[1].name},1.00,${d.rows[1].individual}\n`;
      const p = assertProblem(await upload(f.agent, f.dwzh, text, { total: d.total }), 422,
        { rule: 'remittance.amount_mismatch', field: '/rows/1/unit' });
      assert.deepEqual(p.errors.map((x) => [x.pointer, x.line, x.column, x.rule]),
        [['/rows/1/unit', 4, 'unit', 'remittance.amount_mismatch']]);
      const all = (await f.agent.get(draftPath(f.dwzh, '&format=csv'))).raw;
      assertProblem(await upload(f.agent, f.dwzh, all, { total: '1.00' }), 422, { rule: 'remittance.total_mismatch', field: 'total' });
      await nothingPending();
    });

    test('header problems: unknown, duplicate and missing columns are named', async () => {
      const text = `个人账号,缴存基数,单位缴存额,个人缴存额,unit\n${d.rows[0].account_no},1,1,1,1\n`;
      const p = assertProblem(await upload(f.agent, f.dwzh, text, { total: '1.00' }), 422, { rule: 'roster.columns' });
      assert.deepEqual(p.errors.map((x) => [x.pointer, x.line, x.column, x.rule]),
        [['', 1, '缴存基数', 'roster.columns'], ['', 1, 'unit', 'roster.columns']]);
      assert.match(p.errors[0].detail, /缴存基数/);
    });

    test('empty files, wrong content type, missing parameters, too many rows', async () => {
      assertProblem(await upload(f.agent, f.dwzh, '', { total: '1.00' }), 422, { rule: 'roster.empty' });
      assertProblem(await upload(f.agent, f.dwzh, `${BOM}个人账号,单位缴存额,个人缴存额\r\n\r\n`, { total: '1.00' }), 422, { rule: 'roster.empty' });
      assertProblem(await upload(f.agent, f.dwzh, 'a,b\n', { total: '1.00', type: 'text/plain' }), 415, { rule: 'http.content_type' });
      assertProblem(await upload(f.agent, f.dwzh, 'a,b\n', { total: '1.00', type: 'application/vnd.ms-excel' }), 415, { rule: 'http.content_type' });
      const ok = (await f.agent.get(draftPath(f.dwzh, '&format=csv'))).raw;
      assertProblem(await upload(f.agent, f.dwzh, ok, {}), 400, { field: 'total', rule: 'money.format' });
      assertProblem(await upload(f.agent, f.dwzh, ok, { total: '1.234' }), 400, { field: 'total', rule: 'money.format' });
      assertProblem(await upload(f.agent, f.dwzh, ok, { total: d.total, period: '2026-13' }), 400, { field: 'period', rule: 'month.format' });
      assertProblem(await upload(f.agent, f.dwzh, ok, { total: d.total, key: null }), 400, { rule: 'idempotency.key_missing' });
      assertProblem(await upload(f.agent, f.dwzh, ok, { total: d.total, period: '2027-01' }), 422, { rule: 'remittance.period_future', field: 'period' });
      const many = ['account_no,unit,individual'];
      for (let i = 0; i < 5001; i++) many.push(`${d.rows[0].account_no},1,1`);
      const p = assertProblem(await upload(f.agent, f.dwzh, many.join('\n'), { total: '1.00' }), 413, { rule: 'roster.too_many_rows' });
      assert.equal(p.errors.at(-1).line, 5002);
      await nothingPending();
    });

    test('after all that, the right file is still accepted', async () => {
      const ok = (await f.agent.get(draftPath(f.dwzh, '&format=csv'))).raw;
      assertOk(await upload(f.agent, f.dwzh, ok, { total: d.total }), 202);
    });
  });
});
