// Browser test of the step-up flow and of receipt verification (helpers in browser.mjs).
//
// The server runs with a step-up window of STEP_UP_S seconds, so an agent's second factor from
// the login goes stale while the test waits. Then:
//   1. Confirming the remittance answers 401 auth.step_up_required: the page shows the step-up
//      dialog, and the session stays (still on the page, GET /session still 200). Cancelling
//      leaves the translated error and sends nothing more.
//   2. Confirming again and typing a fresh authenticator code: the page sends the same POST
//      again, once, with the same Idempotency-Key as every earlier attempt; the server stores it
//      for approval (202, maker-checker) and the page says so, and nothing is posted yet.
//   3. An operator approves it (API): the month is posted once; the history page lists it with
//      the verification code the API gives; its link opens /verify, which says "authentic" and
//      shows the entry hash the public API returns (and the checkpoint, or that there is none
//      yet).
//   4. Logged out, the login page's "Verify a document" link reaches /verify, which still
//      checks the code (no login needed), and a code with one hex digit changed (the public API
//      answers 404 document.unknown) is shown as not authentic.
//
// Also fails on a JavaScript error or a Content-Security-Policy violation in the page.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoLogin, loginAs, totpCode } from '../lib/server.mjs';
import { loginWithTotp, pageFetch, withBrowser } from './browser.mjs';

const DEMO = { employers: 1, members: 3, months: 1, seed: 3 };
const STEP_UP_S = 2;
const STEP_UP_ENV = { HPF_SESSION_STEP_UP_S: String(STEP_UP_S) };

/**
 * Poll cond() (sync or async) in node until it holds, for at most 10 s. (page.waitForFunction
 * would poll through eval inside the page, which the page's CSP refuses.)
 */
async function until(cond, what) {
  const end = Date.now() + 10000;
  while (!(await cond())) {
    assert.ok(Date.now() < end, `waited 10 s for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The same code (SEQ-xxxx-xxxx-xxxx-xxxx, hex) with its last hex digit changed: well formed, unknown. */
function alteredCode(code) {
  const last = code[code.length - 1];
  assert.match(last, /[0-9a-fA-F]/, `a verification code ends in a hex digit: ${JSON.stringify(code)}`);
  return code.slice(0, -1) + (last === '0' ? '1' : '0');
}

test('a stale second factor: the step-up dialog, one retry with the same Idempotency-Key, a verifiable receipt', async (t) => {
  await withBrowser(t, { demo: DEMO, env: STEP_UP_ENV }, async ({ srv, page }) => {
    const agent = demoLogin(srv, 'agent');
    await loginWithTotp(page, srv, agent, 'agent');
    const me = await pageFetch(page, '/api/v1/session');
    assert.equal(me.status, 200);
    const dwzh = me.body.user.employer_account_no;
    assert.match(dwzh ?? '', /^[0-9]{17}[0-9X]$/, 'the agent session names its employer');

    // Every remittance POST the page sends, with its key and its answer.
    // (Recorded asynchronously: wait with postsAtLeast(n) before looking.)
    const posts = [];
    page.on('response', async (res) => {
      const req = res.request();
      if (req.method() !== 'POST' || !new URL(req.url()).pathname.endsWith(`/employers/${dwzh}/remittances`)) return;
      const entry = { key: undefined, status: res.status(), rule: null, done: false };
      posts.push(entry);
      entry.key = (await req.allHeaders())['idempotency-key'];
      entry.rule = await res.json().then((b) => b?.rule ?? null, () => null);
      entry.done = true;
    });
    const postsAtLeast = (n) => until(() => posts.length >= n && posts.every((p) => p.done), `${n} remittance POSTs seen`);

    await page.getByRole('link', { name: '单位汇缴' }).first().click();
    await page.waitForURL(/\/agent\/remit$/);
    const employer = await pageFetch(page, `/api/v1/employers/${dwzh}`);
    assert.equal(employer.status, 200);
    const period = employer.body.next_period;
    assert.match(period ?? '', /^\d{4}-\d{2}$/, `the employer owes a next month: ${JSON.stringify(employer.body)}`);
    await until(async () => (await page.getByTestId('period').inputValue()) === period, `the month field shows ${period}`);
    await page.getByTestId('load-draft').click();
    await page.getByTestId('roster').waitFor({ state: 'visible' });

    // Let the login's second factor go stale.
    await page.waitForTimeout((STEP_UP_S + 1) * 1000);

    // 1. The server wants a fresh factor: the dialog, not the login page. Cancel it.
    await page.getByTestId('confirm-remit').click();
    const dialog = page.getByTestId('step-up');
    await dialog.waitFor({ state: 'visible' });
    assert.match(page.url(), /\/agent\/remit$/, 'still on the remittance page');
    assert.equal((await pageFetch(page, '/api/v1/session')).status, 200, 'the session is still there');
    await page.getByTestId('step-up-cancel').click();
    await dialog.waitFor({ state: 'hidden' });
    const err = page.getByTestId('error');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.textContent(), /该业务需要再次验证身份/);
    assert.match(page.url(), /\/agent\/remit$/);
    await postsAtLeast(1);
    assert.deepEqual(
      posts.map((p) => [p.status, p.rule]),
      [[401, 'auth.step_up_required']],
      'one POST so far, answered with the step-up rule',
    );

    // 2. Again, this time with a fresh code (of a time step the login did not use: the server
    // takes each step once): the page retries once by itself.
    await page.getByTestId('confirm-remit').click();
    await dialog.waitFor({ state: 'visible' });
    await page.getByTestId('step-up-code').fill(await totpCode(srv, agent.username));
    await page.getByTestId('step-up-submit').click();
    const submitted = page.getByTestId('remit-submitted');
    await submitted.waitFor({ state: 'visible' });
    await dialog.waitFor({ state: 'hidden' });

    await postsAtLeast(3);
    assert.deepEqual(
      posts.map((p) => p.status),
      [401, 401, 202],
      `stale twice, then stored for approval: ${JSON.stringify(posts)}`,
    );
    assert.match(posts[0].key ?? '', /^[0-9a-f]{32}$/, 'an Idempotency-Key of 32 hex characters');
    assert.ok(
      posts.every((p) => p.key === posts[0].key),
      `every attempt of the one submission carries the same key: ${JSON.stringify(posts)}`,
    );
    const approvalId = (await submitted.getByTestId('approval-id').textContent()).trim();
    assert.match(approvalId, /^\d+$/);
    const before = await pageFetch(page, `/api/v1/employers/${dwzh}/remittances?limit=100`);
    assert.equal(before.status, 200);
    assert.deepEqual(
      before.body.items.filter((r) => r.period === period),
      [],
      `${period} is not posted before the approval`,
    );

    // Maker-checker: an operator approves it (through the API; the harness steps up for it).
    const op = await loginAs(srv, 'operator');
    const decided = await op.post(`/api/v1/approvals/${approvalId}/approve`, {});
    assert.equal(decided.status, 200, `approve: ${decided.status} ${decided.text}`);

    // 3. Posted exactly once; the history lists it with the verification code the API gives,
    // and that code checks out on /verify.
    const list = await pageFetch(page, `/api/v1/employers/${dwzh}/remittances?limit=100`);
    assert.equal(list.status, 200);
    const forPeriod = list.body.items.filter((r) => r.period === period);
    assert.equal(forPeriod.length, 1, `${period} posted exactly once: ${JSON.stringify(list.body.items)}`);
    const { serial, verification_code: code } = forPeriod[0];
    assert.ok(code, `the remittance list item carries verification_code: ${JSON.stringify(forPeriod[0])}`);
    assert.equal(decided.json?.result?.verification_code, code, 'the approval answers the same receipt');

    const pub = await pageFetch(page, `/api/v1/public/documents/${encodeURIComponent(code)}`);
    assert.equal(pub.status, 200, `GET /public/documents/${code}: ${JSON.stringify(pub.body)}`);
    assert.equal(pub.body.authentic, true);

    await submitted.getByRole('link', { name: '汇缴记录' }).click();
    await page.waitForURL(/\/agent\/remittances$/);
    const row = page.getByTestId('remittance-list').locator('tbody tr', { hasText: serial });
    await row.waitFor({ state: 'visible' });
    assert.equal((await row.getByTestId('verification-code').textContent()).trim(), code);
    await row.getByTestId('verify-code-link').click();
    await page.waitForURL((u) => u.pathname === '/verify' && u.searchParams.get('code') === code);
    await checkVerifyPage(page, pub.body);

    // 4. Logged out: the login page links to /verify, which needs no session.
    await page.getByTestId('logout').click();
    await page.waitForURL(/\/login(\?|$)/);
    await page.getByTestId('verify-link').click();
    await page.waitForURL((u) => u.pathname === '/verify');
    await page.getByTestId('verify-code').fill(code);
    await page.getByTestId('verify-submit').click();
    await checkVerifyPage(page, pub.body);

    const wrong = alteredCode(code);
    const miss = await pageFetch(page, `/api/v1/public/documents/${encodeURIComponent(wrong)}`);
    assert.equal(miss.status, 404, `an altered code is unknown: ${JSON.stringify(miss.body)}`);
    assert.equal(miss.body?.rule, 'document.unknown');
    await page.getByTestId('verify-code').fill(wrong);
    await page.getByTestId('verify-submit').click();
    await page.waitForURL((u) => u.searchParams.get('code') === wrong);
    const verdict = page.locator('[data-testid="verify-verdict"][data-verdict="unknown"]');
    await verdict.waitFor({ state: 'visible' });
    assert.match(await verdict.textContent(), /未找到该验证码/);
  });
});

/** /verify shows what the public API says about a known document. */
async function checkVerifyPage(page, doc) {
  await page.locator('[data-testid="verify-verdict"][data-verdict="authentic"]').waitFor({ state: 'visible' });
  assert.equal((await page.getByTestId('verify-entry-hash').textContent()).trim(), doc.entry_hash);
  assert.equal((await page.getByTestId('verify-recorded-at').textContent()).trim(), doc.recorded_at);
  if (doc.checkpoint) {
    assert.equal((await page.getByTestId('verify-checkpoint-day').textContent()).trim(), String(doc.checkpoint.day));
  } else {
    await page.getByTestId('verify-no-checkpoint').waitFor({ state: 'visible' });
  }
}
