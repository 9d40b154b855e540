// Browser tests of the online hall (web/dist served by a real `hpf serve`), with Debian chromium
// driven by playwright-core (helpers in browser.mjs). Each test starts its own server with demo
// data, the peers simulator and its own browser profile, and always closes them.
//
//   1. The demo member logs in through the real login form: password, then the SMS code the
//      simulator received (the page shows the masked phone it went to); the member page shows
//      the balance the API returns for that member (read in the same logged-in browser), and the
//      statement has rows (as many as the API returns for the same default window).
//   2. Switching to English changes the heading and the labels (the authenticator code field
//      too); the choice survives a reload.
//
// Both also fail on a JavaScript error or a Content-Security-Policy violation in the page.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoLogin } from '../lib/server.mjs';
import { loginMember, pageFetch, withBrowser } from './browser.mjs';

const DEMO = { employers: 2, members: 20, months: 3, seed: 7 };

/** "1234567.80" → "1,234,567.80": the page's money format, by string operations only. */
function withSeparators(s) {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(s);
  assert.ok(m, `money string ${JSON.stringify(s)}`);
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (m[3] || '');
}

test('the demo member logs in and sees the balance the API returns, and a statement with rows', async (t) => {
  await withBrowser(t, { demo: DEMO }, async ({ srv, page }) => {
    const member = demoLogin(srv, 'member');

    // Not logged in: the app sends us to the login form.
    await page.goto(`${srv.url}/`);
    await page.waitForURL(/\/login(\?|$)/);

    // Password first, then the SMS code: the simulator holds what the server sent.
    await loginMember(page, srv, member);

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
  await withBrowser(t, { demo: DEMO }, async ({ srv, page }) => {
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
    await page.getByLabel('Authenticator code', { exact: true }).waitFor({ state: 'visible' });
    assert.equal((await page.getByTestId('verify-link').textContent()).trim(), 'Verify a document');

    await page.reload();
    await heading.waitFor({ state: 'visible' });
    assert.equal((await heading.textContent()).trim(), 'Housing Provident Fund Online Hall', 'English after a reload');

    await page.getByRole('button', { name: '中文', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('h1')?.textContent.trim() === '住房公积金网上服务大厅');
  });
});
