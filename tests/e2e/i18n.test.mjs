// The online hall's message tables (web/src/i18n.js), without a browser: Chinese and English have
// the same keys, no empty text, the same {placeholders} per key; every literal key the sources
// pass to t('...') (and the column keys handed to PagedTable) exists; the problem rules of the
// login, step-up, verification and maker-checker flows have a translation.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from '../lib/server.mjs';

const WEB_SRC = path.join(REPO, 'web', 'src');
const { messages } = await import(path.join(WEB_SRC, 'i18n.js'));

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

function sources(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(vue|js)$/.test(e.name)) out.push(p);
  }
  return out;
}

test('zh and en have the same keys, each with text and the same placeholders', () => {
  const zh = Object.keys(messages.zh).sort();
  const en = Object.keys(messages.en).sort();
  assert.ok(zh.length > 100, `the zh table has its messages (${zh.length})`);
  assert.deepEqual(
    zh.filter((k) => !(k in messages.en)),
    [],
    'every zh key is in en',
  );
  assert.deepEqual(
    en.filter((k) => !(k in messages.zh)),
    [],
    'every en key is in zh',
  );
  for (const k of zh) {
    assert.ok(messages.zh[k].trim() && messages.en[k].trim(), `${k}: text in both`);
    assert.deepEqual(placeholders(messages.en[k]), placeholders(messages.zh[k]), `${k}: the same placeholders`);
  }
});

test("every literal key in t('...') exists", () => {
  const missing = [];
  for (const file of sources(WEB_SRC).filter((f) => path.basename(f) !== 'i18n.js')) {
    const text = fs.readFileSync(file, 'utf8');
    // t('a.b') and t('a.b', {...}); t('a.' + x) is completed at run time and not checked.
    for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z0-9_.]+)'(?!\s*\+)/g)) {
      if (!(m[1] in messages.zh)) missing.push(`${path.relative(REPO, file)}: ${m[1]}`);
    }
    // Column and caption keys handed to PagedTable: label: 'a.b', caption="a.b", empty="a.b".
    for (const m of text.matchAll(/\blabel: '([a-zA-Z0-9_.]+)'|\b(?:caption|empty)="([a-zA-Z0-9_.]+)"/g)) {
      const k = m[1] ?? m[2];
      if (!(k in messages.zh)) missing.push(`${path.relative(REPO, file)}: ${k}`);
    }
  }
  assert.deepEqual(missing, [], 'keys used in web/src that the tables do not have');
});

test('the login, step-up, verification and maker-checker rules are translated', () => {
  const rules = [
    'auth.totp_required',
    'auth.bad_credentials',
    'auth.otp_invalid',
    'auth.otp_expired',
    'auth.no_phone',
    'auth.locked',
    'auth.step_up_required',
    'document.unknown',
    // maker-checker (docs/openapi.yaml, the approvals and policies routes)
    'approval.unknown',
    'approval.decided',
    'approval.self_approval',
    'approval.not_maker',
    'approval.scope',
    'approval.reason',
    'sm2.no_key',
    'remittance.period_pending',
    'policy.invalid',
    'policy.note',
    'policy.effective_past',
    'policy.date_taken',
  ];
  for (const r of rules) assert.ok(`rule.${r}` in messages.zh && `rule.${r}` in messages.en, `rule.${r}`);
});
