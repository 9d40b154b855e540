// Browser test of the administrator's pages (helpers in browser.mjs). The server runs with a
// step-up window of STEP_UP_S seconds, so the admin's second factor from the login goes stale.
//   1. The demo admin logs in through the form and lands on /admin: one row per operator of the
//      API's first page, each with its branch office in words (建湖 for the demo's branch
//      operator, "whole centre" for the centre's), in Chinese and, switched, in English.
//   2. New operator: the first submit (a weak password) opens the step-up dialog; after the
//      authenticator code the same POST goes again and its 400 password.weak is shown under the
//      password field with the server's detail; a taken username is shown under the username.
//      Then the operator is created for branch 02: the page shows the secret once, as text, as
//      the otpauth:// URI and as a QR code that zbarimg (Debian zbar-tools) decodes to that same
//      URI; nothing of it is in the address, localStorage, sessionStorage or the console.
//   3. In a second browser the new operator logs in with a TOTP code computed from that secret.
//   4. Back on the list, the admin disables it: Cancel on the question sends nothing; confirmed,
//      the notice names the login and one ended session; the operator's session is gone (401)
//      and its next login through the form fails with 401 auth.disabled, shown in words.
//   5. The admin's own username in "other logins" is refused (409 user.self_disable, in words).
//   6. Enabled again, the operator logs in.
//
// Also fails on a JavaScript error or a Content-Security-Policy violation in the page.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { demoLogin, rememberTotp, totpCode } from '../lib/server.mjs';
import { secretFromUri } from '../lib/totp.mjs';
import { loginWithTotp, pageFetch, withBrowser } from './browser.mjs';

const DEMO = { employers: 1, members: 2, months: 1, seed: 11 };
const STEP_UP_S = 5;
const ENV = { HPF_SESSION_STEP_UP_S: String(STEP_UP_S) };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Log in through the form (an administrator uses the centre's tab) and wait for /admin. */
async function loginAdmin(page, srv, admin) {
  await page.goto(`${srv.url}/login`);
  await page.getByTestId('login-form').waitFor({ state: 'visible' });
  await page.getByRole('tab', { name: '中心登录' }).click();
  await page.locator('#login-username').fill(admin.username);
  await page.getByLabel('密码', { exact: true }).fill(admin.password);
  await page.getByLabel('动态验证码', { exact: true }).fill(await totpCode(srv, admin.username));
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/\/admin$/);
}

/**
 * Run action(), then wait for `outcome` to show; when the step-up dialog comes first, type a
 * fresh authenticator code of `user` into it. Resolves whether the dialog was shown.
 */
async function stepUpIfAsked(page, srv, user, action, outcome) {
  await action();
  const dialog = page.getByTestId('step-up');
  await dialog.or(outcome).first().waitFor({ state: 'visible' });
  if (!(await dialog.isVisible())) return false;
  await page.getByTestId('step-up-code').fill(await totpCode(srv, user.username));
  await page.getByTestId('step-up-submit').click();
  await outcome.waitFor({ state: 'visible' });
  assert.equal(await dialog.count(), 0, 'the step-up dialog closed');
  return true;
}

/** The text a QR code in a PNG holds, read by zbarimg (an independent decoder). */
function decodeQr(png) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hpf-qr-')), 'qr.png');
  fs.writeFileSync(file, png);
  try {
    const r = spawnSync('zbarimg', ['--raw', '-q', file], { encoding: 'utf8' });
    assert.ok(!r.error, `zbarimg runs (Debian zbar-tools, scripts/deps.sh test): ${r.error?.message}`);
    assert.equal(r.status, 0, `zbarimg found a code: ${r.stderr}`);
    return r.stdout.trim();
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

test('admin: operators listed with branches, one created with a QR code it logs in with, disabled and enabled', async (t) => {
  await withBrowser(t, { demo: DEMO, env: ENV }, async ({ srv, page, openPage }) => {
    const admin = demoLogin(srv, 'admin');
    const logs = [];
    page.on('console', (m) => logs.push(m.text()));
    const userPosts = []; // every POST /api/v1/users/... the admin's page sends
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/v1/users/')) userPosts.push(new URL(r.url()).pathname);
    });

    // 1. The list, as the API has it.
    await loginAdmin(page, srv, admin);
    const loggedInAt = Date.now();
    const rows = page.getByTestId('operator-list').locator('tbody tr');
    const first = await pageFetch(page, '/api/v1/operators?offset=0&limit=20');
    assert.equal(first.status, 200);
    assert.ok(first.body.items.length >= 2, `the demo has the centre's and a branch's operator: ${JSON.stringify(first.body)}`);
    await rows.filter({ hasText: first.body.items[0].username }).waitFor({ state: 'visible' });
    assert.equal(await rows.count(), first.body.items.length, 'one row per operator of the first page');
    const branchOp = first.body.items.find((o) => o.branch === '01');
    const centreOp = first.body.items.find((o) => o.branch === null);
    assert.ok(branchOp && centreOp, 'a branch operator (01) and a centre one (null)');
    assert.match(await rows.filter({ hasText: branchOp.username }).textContent(), /01 建湖/);
    assert.match(await rows.filter({ hasText: centreOp.username }).textContent(), /全市（不限管理部）/);
    await page.getByTestId('lang-en').click();
    await page.getByTestId('heading').filter({ hasText: 'Operator logins' }).waitFor();
    assert.match(await rows.filter({ hasText: branchOp.username }).textContent(), /01 Jianhu \(建湖\)/);
    assert.match(await rows.filter({ hasText: branchOp.username }).textContent(), /Active/);
    await page.getByTestId('lang-zh').click();
    await page.getByTestId('heading').filter({ hasText: '柜员管理' }).waitFor();

    // 2. New operator. The login's factor is stale by now: the first submit asks for a code.
    const username = `op-e2e-${process.pid}`;
    const password = 'Counter#2026e2e';
    await page.getByTestId('new-operator').click();
    await page.waitForURL(/\/admin\/operators\/new$/);
    await page.getByTestId('operator-username').fill(username);
    await page.getByTestId('operator-name').fill('滨海测试柜员');
    await page.getByTestId('operator-branch').selectOption('02');
    await page.getByTestId('operator-password').fill('lowercase12345');
    await page.getByTestId('operator-password-repeat').fill('lowercase12345');
    // Whole seconds on the server (fresh while now - factor_at <= STEP_UP_S): wait one more.
    await sleep(Math.max(0, loggedInAt + (STEP_UP_S + 1) * 1000 + 200 - Date.now()));
    const weak = page.getByTestId('error-password');
    const asked = await stepUpIfAsked(page, srv, admin, () => page.getByTestId('operator-submit').click(), weak);
    assert.ok(asked, 'a stale second factor: the step-up dialog, then the same POST again');
    assert.match(await weak.textContent(), /密码强度不足: .*missing/, 'the rule in words and the server\'s detail');
    assert.equal(await page.getByTestId('operator-password').getAttribute('aria-invalid'), 'true');

    const taken = page.getByTestId('error-username');
    await page.getByTestId('operator-username').fill(centreOp.username);
    await page.getByTestId('operator-password').fill(password);
    await page.getByTestId('operator-password-repeat').fill(password);
    await stepUpIfAsked(page, srv, admin, () => page.getByTestId('operator-submit').click(), taken);
    assert.match(await taken.textContent(), /用户名已被使用/);

    await page.getByTestId('operator-username').fill(username);
    const created = page.getByTestId('operator-created');
    await stepUpIfAsked(page, srv, admin, () => page.getByTestId('operator-submit').click(), created);
    assert.match(await created.textContent(), new RegExp(`${username}.*02 滨海`));
    const enrol = page.getByTestId('totp-enrol');
    assert.match(await enrol.getByTestId('totp-once').textContent(), /只显示这一次/);
    const secret = (await enrol.getByTestId('totp-secret').textContent()).replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/, 'a 20-byte secret in base32');
    const uri = (await enrol.getByTestId('totp-uri').textContent()).trim();
    assert.equal(secretFromUri(uri), secret, 'the URI holds the secret shown');
    assert.ok(uri.startsWith(`otpauth://totp/HPF:${username}?`), uri);
    const qr = enrol.getByTestId('totp-qr');
    await qr.waitFor({ state: 'visible' });
    assert.equal(decodeQr(await qr.screenshot()), uri, 'the QR code holds the otpauth URI');
    // Shown, not kept: not in the address, the storages or the console.
    assert.ok(!page.url().includes(secret));
    const stored = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }]));
    assert.ok(!stored.includes(secret), `nothing of the secret in web storage: ${stored}`);
    assert.ok(!logs.some((m) => m.includes(secret)), 'nothing of the secret in the console');

    // 3. The new operator logs in with a code its authenticator would show.
    const op = await openPage();
    rememberTotp(srv, username, secret);
    await loginWithTotp(op, srv, { username, password }, 'operator');
    const opSession = await pageFetch(op, '/api/v1/session');
    assert.equal(opSession.body?.user?.username, username);
    assert.equal(opSession.body.user.branch, '02');

    // Enrolled: the secret leaves the page, the list shows the operator.
    await page.getByTestId('totp-done').click();
    await page.waitForURL(/\/admin$/);
    assert.equal(await page.getByTestId('totp-enrol').count(), 0);
    assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');
    const row = rows.filter({ hasText: username });
    await row.waitFor({ state: 'visible' });
    assert.match(await row.textContent(), /滨海测试柜员.*02 滨海.*正常/);

    // 4. Disable it: asked first, naming the login; Cancel sends nothing.
    const question = page.getByTestId('confirm-login');
    await page.getByTestId(`disable-${username}`).click();
    assert.match(await question.textContent(), new RegExp(`停用登录 ${username}.*滨海测试柜员（${username}）`));
    await page.getByTestId('confirm-login-no').click();
    assert.equal(await question.count(), 0);
    assert.deepEqual(userPosts, [], 'a cancelled question sends nothing');

    await page.getByTestId(`disable-${username}`).click();
    const notice = page.getByTestId('admin-notice');
    await stepUpIfAsked(page, srv, admin, () => page.getByTestId('confirm-login-yes').click(), notice);
    assert.match(await notice.textContent(), new RegExp(`已停用滨海测试柜员（${username}）的登录，结束会话 1 个`));
    await page.getByTestId(`status-${username}`).filter({ hasText: '已停用' }).waitFor();
    const listed = await pageFetch(page, '/api/v1/operators?offset=0&limit=100');
    assert.equal(listed.body.items.find((o) => o.username === username)?.disabled, true);

    // Its session ended; its next login is refused as disabled, in words.
    assert.equal((await pageFetch(op, '/api/v1/session')).status, 401, 'the operator\'s session ended');
    await op.goto(`${srv.url}/login`);
    await op.getByRole('tab', { name: '中心登录' }).click();
    await op.locator('#login-username').fill(username);
    await op.getByLabel('密码', { exact: true }).fill(password);
    await op.getByLabel('动态验证码', { exact: true }).fill(await totpCode(srv, username));
    const answer = op.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/session');
    await op.getByTestId('login-submit').click();
    const refused = await answer;
    assert.equal(refused.status(), 401);
    assert.equal((await refused.json()).rule, 'auth.disabled');
    assert.match(await op.getByTestId('error').textContent(), /该登录已被停用/);

    // 5. The admin's own login: refused by the server, in words.
    await page.getByTestId('other-username').fill(admin.username);
    await page.getByTestId('other-disable').click();
    assert.match(await question.textContent(), new RegExp(`停用登录 ${admin.username}`));
    const error = page.getByTestId('error');
    await stepUpIfAsked(page, srv, admin, () => page.getByTestId('confirm-login-yes').click(), error);
    assert.match(await error.textContent(), /不能停用或启用自己的登录/);

    // 6. Enable it again: it logs in.
    await page.getByTestId(`enable-${username}`).click();
    await stepUpIfAsked(page, srv, admin, () => page.getByTestId('confirm-login-yes').click(), notice);
    assert.match(await notice.textContent(), new RegExp(`已启用滨海测试柜员（${username}）的登录`));
    await page.getByTestId(`status-${username}`).filter({ hasText: '正常' }).waitFor();
    await loginWithTotp(op, srv, { username, password }, 'operator');
    assert.equal((await pageFetch(op, '/api/v1/session')).body?.user?.username, username);
    // One disable and one enable of the operator went out (each sent twice when a step-up
    // came between: the retry of the same request).
    const mine = userPosts.filter((p) => p.startsWith(`/api/v1/users/${username}/`)).map((p) => p.split('/').pop());
    assert.deepEqual(mine.filter((a, i) => a !== mine[i - 1]), ['disable', 'enable'], mine.join(' '));
  });
});
