// Browser test of the operator's side of the second factor (helpers in browser.mjs):
//   1. The operator's login with a wrong authenticator code fails with the translated
//      auth.bad_credentials and marks the code field; with a right code it opens the employer
//      list (the shared paged table: as many rows as the API's first page).
//   2. Registering an employer shows the new agent's authenticator secret once, as a secret and
//      as the otpauth:// URI holding that same secret.
//   3. Logged out, the new agent logs in through the form with a code computed from the secret
//      the page showed, and lands on the agent pages.
//
// Also fails on a JavaScript error or a Content-Security-Policy violation in the page.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uscc } from '../lib/ids.mjs';
import { demoLogin, rememberTotp } from '../lib/server.mjs';
import { secretFromUri, step, totp } from '../lib/totp.mjs';
import { loginWithTotp, pageFetch, withBrowser } from './browser.mjs';

const DEMO = { employers: 3, members: 6, months: 1, seed: 5 };

test('operator: a wrong code is refused, an employer is registered, its agent logs in with the secret shown', async (t) => {
  await withBrowser(t, { demo: DEMO }, async ({ srv, page }) => {
    const op = demoLogin(srv, 'operator');

    // 1. A code that is not the current one (nor a neighbour): refused, the field marked.
    await page.goto(`${srv.url}/login`);
    await page.getByRole('tab', { name: '中心登录' }).click();
    await page.locator('#login-username').fill(op.username);
    await page.getByLabel('密码', { exact: true }).fill(op.password);
    await page.getByLabel('动态验证码', { exact: true }).fill(totp(op.totp, step() + 10));
    await page.getByTestId('login-submit').click();
    const err = page.getByTestId('error');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.textContent(), /用户名、密码或验证码错误/);
    assert.equal(await page.getByTestId('login-totp').getAttribute('aria-invalid'), 'true');
    assert.match(page.url(), /\/login/);

    await loginWithTotp(page, srv, op, 'operator');
    const rows = page.getByTestId('employer-list').locator('tbody tr');
    await rows.locator('a').first().waitFor({ state: 'visible' });
    const first = await pageFetch(page, '/api/v1/employers?offset=0&limit=20');
    assert.equal(first.status, 200);
    assert.equal(await rows.count(), first.body.items.length, 'one row per employer of the first page');

    // 2. Register an employer: the agent's secret is shown once.
    const username = `agent-e2e-${process.pid}`;
    await page.getByTestId('register-employer').click();
    await page.locator('#er-name').fill('盐城浏览器测试科技有限公司');
    await page.locator('#er-uscc').fill(uscc(process.pid % 1000000));
    await page.locator('#er-au').fill(username);
    await page.locator('#er-ap').fill('Browser#2026e2e');
    await page.locator('#er-an').fill('王芳');
    await page.getByRole('button', { name: '确认登记' }).click();
    const shown = page.getByTestId('agent-totp');
    await shown.waitFor({ state: 'visible' });
    const secret = (await shown.getByTestId('agent-totp-secret').textContent()).replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/, 'a 20-byte secret in base32');
    assert.equal(secretFromUri((await shown.getByTestId('agent-totp-uri').textContent()).trim()), secret);
    await rows.filter({ hasText: '盐城浏览器测试科技有限公司' }).waitFor({ state: 'visible' });

    // 3. The new agent, with an authenticator fed the secret from the page.
    await page.getByTestId('logout').click();
    await page.waitForURL(/\/login(\?|$)/);
    rememberTotp(srv, username, secret);
    await loginWithTotp(page, srv, { username, password: 'Browser#2026e2e' }, 'agent');
    const me = await pageFetch(page, '/api/v1/session');
    assert.equal(me.body?.user?.username, username);
    assert.equal(me.body.user.role, 'agent');
  });
});
