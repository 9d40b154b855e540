// What the browser tests share: a server with its own hpf-sim (the SMS codes come back through
// it) and a Debian chromium driven by playwright-core, always both closed; logging in through
// the real login form with the second factor each role needs; fetching the API from inside the
// logged-in page.
//
//   await withBrowser(t, { demo, env }, async ({ srv, page, problems, openPage }) => { ... });
//   const page2 = await openPage();   // a second browser (own profile, own cookies): another login
//   await loginMember(page, srv, member);         // password, then the SMS code from the sim
//   await loginWithTotp(page, srv, agent, 'agent');   // password + authenticator code
//   const r = await pageFetch(page, '/api/v1/session');   // {status, body}
//
// TOTP codes come from the harness (tests/lib/server.mjs totpCode): it knows the demo secrets
// and never hands out a time step the server has already seen for that login.
//
// Every test fails on a JavaScript error or a Content-Security-Policy violation in the page. On
// failure a screenshot goes to tests/out/e2e-NAME.png.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { smsCode, startServer, totpCode } from '../lib/server.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'out');
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

/**
 * Start a server with its hpf-sim and a browser, run fn({srv, page, problems, openPage}), then
 * always close the browsers and stop the server (which stops its sim). openPage() starts one
 * more browser with a profile of its own (its own cookies: a second login at the same time) and
 * resolves its page; it is watched and closed like the first. A failure saves
 * tests/out/e2e-NAME.png (and e2e-NAME-2.png ... for the other browsers) first. When both the
 * test and the clean-up fail, the test's error is the one reported (with the clean-up's
 * appended).
 */
export async function withBrowser(t, { demo, env = {} }, fn) {
  const problems = []; // page errors and CSP violations
  const browsers = []; // {ctx, profile, page}, the first one is `page`
  let srv = null;
  let failure = null;

  async function openPage() {
    const b = { ctx: null, profile: fs.mkdtempSync(path.join(os.tmpdir(), 'hpf-e2e-')), page: null };
    browsers.push(b);
    const n = browsers.length;
    b.ctx = await chromium.launchPersistentContext(b.profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      ignoreHTTPSErrors: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    const page = b.ctx.pages()[0] ?? (await b.ctx.newPage());
    page.setDefaultTimeout(20000);
    const tag = n > 1 ? `browser ${n}: ` : '';
    page.on('pageerror', (e) => problems.push(`${tag}page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`${tag}CSP: ${m.text()}`);
    });
    b.page = page;
    return page;
  }

  try {
    srv = await startServer({ demo, env, sim: true });
    const page = await openPage();
    await fn({ srv, page, problems, openPage });
    assert.deepEqual(problems, [], 'no JavaScript error and no CSP violation in the page');
  } catch (e) {
    failure = e;
    const name = t.name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
    for (const [i, b] of browsers.entries()) {
      if (!b.page) continue;
      try {
        fs.mkdirSync(OUT, { recursive: true });
        await b.page.screenshot({ path: path.join(OUT, `e2e-${name}${i ? `-${i + 1}` : ''}.png`), fullPage: true, timeout: 10000 });
      } catch {
        // the screenshot is a help, not the verdict
      }
    }
  } finally {
    const cleanup = [];
    for (const b of browsers) {
      if (b.ctx) await b.ctx.close().catch((e) => cleanup.push(`closing the browser: ${e.message}`));
      fs.rmSync(b.profile, { recursive: true, force: true });
    }
    if (srv) await srv.stop().catch((e) => cleanup.push(`stopping the server: ${e.message}`));
    if (failure) {
      if (cleanup.length && failure instanceof Error) failure.message += `\n(clean-up also failed: ${cleanup.join('; ')})`;
      throw failure;
    }
    if (cleanup.length) throw new Error(cleanup.join('\n'));
  }
}

/** Fetch a JSON API path inside the page, with the browser's session cookie. */
export function pageFetch(page, urlPath) {
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

// ---- logging in through the form ----

/** Go to the login page unless the browser is there already (sent there by the app). */
async function toLogin(page, srv) {
  if (new URL(page.url(), srv.url).pathname !== '/login') await page.goto(`${srv.url}/login`);
  await page.getByTestId('login-form').waitFor({ state: 'visible' });
}

/** Operators and agents: password and authenticator code; waits for the role's home page. */
export async function loginWithTotp(page, srv, login, kind) {
  await toLogin(page, srv);
  await page.getByRole('tab', { name: kind === 'operator' ? '中心登录' : '单位登录' }).click();
  await page.locator('#login-username').fill(login.username);
  await page.getByLabel('密码', { exact: true }).fill(login.password);
  await page.getByLabel('动态验证码', { exact: true }).fill(await totpCode(srv, login.username));
  await page.getByTestId('login-submit').click();
  await page.waitForURL(new RegExp(`/${kind}$`));
}

/**
 * Members: password, then the SMS step. The page's 202 answer names the challenge; the code is
 * the one the sim received for it. Checks that the page shows the masked phone. Waits for
 * /member.
 */
export async function loginMember(page, srv, login) {
  await toLogin(page, srv);
  await page.getByLabel('身份证号', { exact: true }).fill(login.username);
  await page.getByLabel('密码', { exact: true }).fill(login.password);
  const answer = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/session');
  await page.getByTestId('login-submit').click();
  const res = await answer;
  assert.equal(res.status(), 202, 'a member login answers 202 with an SMS challenge');
  const challenge = await res.json();
  const otpForm = page.getByTestId('otp-form');
  await otpForm.waitFor({ state: 'visible' });
  assert.match(challenge.to ?? '', /^\d{3}\*{4}\d{4}$/, `the masked phone: ${JSON.stringify(challenge)}`);
  assert.ok((await otpForm.textContent()).includes(challenge.to), 'the page shows where the code went');
  await page.getByTestId('login-otp').fill(await smsCode(srv, challenge.challenge));
  await page.getByTestId('otp-submit').click();
  await page.waitForURL(/\/member$/);
}
