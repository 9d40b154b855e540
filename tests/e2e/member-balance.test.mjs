// Browser tests of the online hall (web/dist served by a real `hpf serve`), with Debian chromium
// driven by playwright-core. Each test starts its own server with demo data and its own browser
// profile, and always closes both. On failure a screenshot goes to tests/out/.
//
//   1. The demo member logs in through the real login form; the member page shows the balance
//      the API returns for that member (read in the same logged-in browser), and the statement
//      has rows (as many as the API returns for the same default window).
//   2. Switching to English changes the heading; the choice survives a reload.
//
// Both also fail on a JavaScript error or a Content-Security-Policy violation in the page.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../lib/server.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'out');
const DEMO = { employers: 2, members: 20, months: 3, seed: 7 };
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** "1234567.80" → "1,234,567.80": the page's money format, by string operations only. */
function withSeparators(s) {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(s);
  assert.ok(m, `money string ${JSON.stringify(s)}`);
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (m[3] || '');
}

/**
 * Start a server and a browser, run fn({srv, page, problems}), then always close the browser and
 * stop the server. A failure saves tests/out/e2e-NAME.png first. When both the test and the
 * clean-up fail, the test's error is the one reported (with the clean-up's appended).
 */
async function withBrowser(t, fn) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hpf-e2e-'));
  const problems = []; // page errors and CSP violations
  let srv = null;
  let ctx = null;
  let page = null;
  let failure = null;
  try {
    srv = await startServer({ demo: DEMO });
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      ignoreHTTPSErrors: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.setDefaultTimeout(20000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
    });
    await fn({ srv, page, problems });
    assert.deepEqual(problems, [], 'no JavaScript error and no CSP violation in the page');
  } catch (e) {
    failure = e;
    if (page) {
      try {
        fs.mkdirSync(OUT, { recursive: true });
        const name = t.name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
        await page.screenshot({ path: path.join(OUT, `e2e-${name}.png`), fullPage: true, timeout: 10000 });
      } catch {
        // the screenshot is a help, not the verdict
      }
    }
  } finally {
    const cleanup = [];
    if (ctx) await ctx.close().catch((e) => cleanup.push(`closing the browser: ${e.message}`));
    fs.rmSync(profile, { recursive: true, force: true });
    if (srv) await srv.stop().catch((e) => cleanup.push(`stopping the server: ${e.message}`));
    if (failure) {
      if (cleanup.length && failure instanceof Error) failure.message += `\n(clean-up also failed: ${cleanup.join('; ')})`;
      throw failure;
    }
    if (cleanup.length) throw new Error(cleanup.join('\n'));
  }
}

/** Fetch a JSON API path inside the page, with the browser's session cookie. */
function pageFetch(page, urlPath) {
  return page.evaluate(async (p) => {
    const r = await fetch(p, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    let body = null;
    try {
      body = await r.json();
    } catch {
      body = null;
    }
    return { status: r.status, body };
  }, urlPath);
}

test('the demo member logs in and sees the balance the API returns, and a statement with rows', async (t) => {
  await withBrowser(t, async ({ srv, page }) => {
    const member = srv.logins.find((l) => l.role === 'member');
    assert.ok(member, `hpf demo printed a member login: ${JSON.stringify(srv.logins)}`);

    // Not logged in: the app sends us to the login form.
    await page.goto(`${srv.url}/`);
    await page.waitForURL(/\/login(\?|$)/);

    await page.getByLabel('身份证号', { exact: true }).fill(member.username);
    await page.getByLabel('密码', { exact: true }).fill(member.password);
    await page.getByTestId('login-submit').click();
    await page.waitForURL(/\/member$/);

    const balanceEl = page.getByTestId('balance');
    await balanceEl.waitFor({ state: 'visible' });
    const shown = (await balanceEl.textContent()).trim();

    // The same browser, the same session: who am I, and what does the API say about me?
    const session = await pageFetch(page, '/api/v1/session');
    assert.equal(session.status, 200, `GET /api/v1/session: ${JSON.stringify(session.body)}`);
    const acct = session.body.user.account_no;
    assert.match(acct ?? '', /^[0-9]{17}[0-9X]$/, 'the member session names its account');
    assert.equal(session.body.user.username, member.username);

    const api = await pageFetch(page, `/api/v1/members/${acct}`);
    assert.equal(api.status, 200, `GET /api/v1/members/${acct}: ${JSON.stringify(api.body)}`);
    assert.match(api.body.balance, /^\d+\.\d{2}$/);
    assert.notEqual(api.body.balance, '0.00', `${DEMO.months} demo months were remitted`);

    assert.equal(shown.replace(/,/g, ''), api.body.balance, 'the page shows the API balance');
    assert.equal(shown, withSeparators(api.body.balance), 'with thousands separators');
    assert.equal((await page.getByTestId('account-no').textContent()).trim(), acct);

    // The statement: rows in the table, as many as the API returns for the same default window.
    const rows = page.getByTestId('statement-row');
    await rows.first().waitFor({ state: 'visible' });
    const stmt = await pageFetch(page, `/api/v1/members/${acct}/statement`);
    assert.equal(stmt.status, 200, `GET statement: ${JSON.stringify(stmt.body)}`);
    assert.ok(stmt.body.items.length > 0, 'the API statement has items');
    assert.equal(await rows.count(), stmt.body.items.length, 'one table row per statement item');
    assert.equal(
      (await page.getByTestId('statement').locator('tbody tr').first().locator('td').nth(4).textContent()).trim(),
      withSeparators(stmt.body.items[0].balance),
      'the first row shows the running balance of the first item',
    );
  });
});

test('switching to English changes the heading, and the choice is kept', async (t) => {
  await withBrowser(t, async ({ srv, page }) => {
    await page.goto(`${srv.url}/login`);
    const heading = page.getByRole('heading', { level: 1 });
    await heading.waitFor({ state: 'visible' });
    assert.equal((await heading.textContent()).trim(), '住房公积金网上服务大厅');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');

    await page.getByRole('button', { name: 'English', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('h1')?.textContent.trim() !== '住房公积金网上服务大厅');
    assert.equal((await heading.textContent()).trim(), 'Housing Provident Fund Online Hall');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.getByTestId('login-submit').textContent().then((s) => s.trim()), 'Log in');

    await page.reload();
    await heading.waitFor({ state: 'visible' });
    assert.equal((await heading.textContent()).trim(), 'Housing Provident Fund Online Hall', 'English after a reload');

    await page.getByRole('button', { name: '中文', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('h1')?.textContent.trim() === '住房公积金网上服务大厅');
  });
});
