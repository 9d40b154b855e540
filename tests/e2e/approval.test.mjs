// Browser test of maker-checker (复核; web/src/views/ApprovalList.vue, ApprovalDetail.vue,
// PolicyNew.vue; server side docs/internals/approval.md). Helpers in browser.mjs.
//
// 1. A remittance: the demo agent submits the month in the browser (stored pending: 202); in
//    "My submissions" the request is pending with a Withdraw button, which takes it back; the
//    agent submits the month again (a new request). The demo operator, logged in in a second
//    browser, finds it under "Pending approvals" (the month and the total from the payload, the
//    withdrawn one not listed), opens it (the roster and the totals as submitted) and approves it
//    (a step-up dialog is answered if the server asks for one). The page shows the receipt with
//    the verification code and the SM2 signature as verified, both as the API reads them. The
//    agent's list then shows it approved, decided by the operator, with that code.
// 2. A policy change: the demo operator proposes one on /operator/policies/new (the form starts
//    from the version in force); the request shows the old and new values side by side; the
//    maker's Approve is refused with the translated approval.self_approval and nothing changes.
//    A second operator (`hpf user add-operator`), in a second browser, cannot reject without a
//    reason, then rejects with one: the page shows the reason and a valid signature.
//
// Also fails on a JavaScript error or a Content-Security-Policy violation in either browser.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoLogin, rememberTotp, runHpf, totpCode } from '../lib/server.mjs';
import { secretFromUri } from '../lib/totp.mjs';
import { loginWithTotp, pageFetch, withBrowser } from './browser.mjs';

const DEMO = { employers: 1, members: 3, months: 1, seed: 11 };

/** Poll cond() in node (not inside the page: its CSP refuses eval) for at most 10 s. */
async function until(cond, what) {
  const end = Date.now() + 10000;
  while (!(await cond())) {
    assert.ok(Date.now() < end, `waited 10 s for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** "¥ 12,345.60" → "12345.60": the digits of a money text as the API writes them. */
const plainMoney = (text) => text.replace(/[¥,\s]/g, '');

/**
 * On /agent/remit: load the draft of the month the employer owes and confirm it. Resolves
 * {approvalId, period, total, members} from the page and the draft API.
 */
async function submitRemittance(page, dwzh) {
  await page.getByRole('link', { name: '单位汇缴' }).first().click();
  await page.waitForURL(/\/agent\/remit$/);
  const employer = await pageFetch(page, `/api/v1/employers/${dwzh}`);
  assert.equal(employer.status, 200);
  const period = employer.body.next_period;
  assert.match(period ?? '', /^\d{4}-\d{2}$/, `the employer owes a month: ${JSON.stringify(employer.body)}`);
  await until(async () => (await page.getByTestId('period').inputValue()) === period, `the month field shows ${period}`);
  await page.getByTestId('load-draft').click();
  await page.getByTestId('roster').waitFor({ state: 'visible' });
  const draft = await pageFetch(page, `/api/v1/employers/${dwzh}/remittances/draft?period=${period}`);
  assert.equal(draft.status, 200);
  await page.getByTestId('confirm-remit').click();
  const submitted = page.getByTestId('remit-submitted');
  await submitted.waitFor({ state: 'visible' });
  const approvalId = (await submitted.getByTestId('approval-id').textContent()).trim();
  assert.match(approvalId, /^\d+$/);
  return { approvalId, period, total: draft.body.total, members: draft.body.rows.length };
}

/** The row of one request in the approvals table. */
const rowOf = (page, id) => page.getByTestId('approval-list').locator('tbody tr', { has: page.getByTestId(`approval-link-${id}`) });

/** The badge's state (data-state) of a request's row once it reads `want`. */
async function rowState(page, id, want) {
  const badge = rowOf(page, id).locator('.badge[data-state]');
  await until(async () => (await badge.getAttribute('data-state').catch(() => null)) === want, `request ${id} listed as ${want}`);
}

/** Click a decision button and answer the step-up dialog if the server asks for a fresh factor. */
async function decide(page, srv, username, button, done) {
  await button.click();
  const dialog = page.getByTestId('step-up');
  await dialog.or(done).first().waitFor({ state: 'visible' });
  if (await dialog.isVisible()) {
    await page.getByTestId('step-up-code').fill(await totpCode(srv, username));
    await page.getByTestId('step-up-submit').click();
    await done.waitFor({ state: 'visible' });
  }
}

test('an agent submits a remittance, an operator approves it from the pending list, the agent sees the verification code', async (t) => {
  await withBrowser(t, { demo: DEMO }, async ({ srv, page, openPage }) => {
    const agent = demoLogin(srv, 'agent');
    await loginWithTotp(page, srv, agent, 'agent');
    const me = await pageFetch(page, '/api/v1/session');
    const dwzh = me.body.user.employer_account_no;
    assert.match(dwzh ?? '', /^[0-9]{17}[0-9X]$/);

    // Submitted, then withdrawn from "My submissions".
    const first = await submitRemittance(page, dwzh);
    await page.getByTestId('to-mine').click();
    await page.waitForURL(/\/agent\/approvals$/);
    await rowState(page, first.approvalId, 'pending');
    const firstRow = rowOf(page, first.approvalId);
    assert.ok((await firstRow.textContent()).includes(first.period), 'the list names the month');
    await firstRow.getByTestId(`withdraw-${first.approvalId}`).click();
    await page.getByTestId('list-notice').waitFor({ state: 'visible' });
    await rowState(page, first.approvalId, 'withdrawn');
    const withdrawn = await pageFetch(page, `/api/v1/approvals/${first.approvalId}`);
    assert.equal(withdrawn.body.status, 'withdrawn', JSON.stringify(withdrawn.body));

    // Submitted again: a new request for the same month.
    const sub = await submitRemittance(page, dwzh);
    assert.notEqual(sub.approvalId, first.approvalId);
    assert.equal(sub.period, first.period);

    // The operator, in a browser of their own.
    const operator = demoLogin(srv, 'operator');
    const op = await openPage();
    await loginWithTotp(op, srv, operator, 'operator');
    await op.getByRole('link', { name: '待复核' }).click();
    await op.waitForURL(/\/operator\/approvals(\?|$)/);
    await rowState(op, sub.approvalId, 'pending');
    const row = rowOf(op, sub.approvalId);
    const rowText = await row.textContent();
    assert.ok(rowText.includes(sub.period), `the pending row names ${sub.period}: ${rowText}`);
    assert.ok(plainMoney(rowText).includes(sub.total), `the pending row shows the total ${sub.total}: ${rowText}`);
    assert.ok(rowText.includes(agent.username), 'the pending row names the maker');
    assert.equal(await rowOf(op, first.approvalId).count(), 0, 'the withdrawn request is not pending');

    await row.getByTestId(`approval-link-${sub.approvalId}`).click();
    await op.waitForURL(new RegExp(`/operator/approvals/${sub.approvalId}$`));
    const roster = op.getByTestId('approval-roster');
    await roster.waitFor({ state: 'visible' });
    assert.equal(await roster.locator('tbody tr').count(), sub.members, 'one roster row per member');
    assert.equal(plainMoney(await op.getByTestId('approval-total').textContent()), sub.total);
    assert.equal(await op.getByTestId('maker-note').count(), 0, 'the operator is not the maker');

    await decide(op, srv, operator.username, op.getByTestId('approve'), op.getByTestId('approval-result'));
    const result = op.getByTestId('approval-result');
    const code = (await result.getByTestId('verification-code').textContent()).trim();
    const sig = op.getByTestId('signature-valid');
    await sig.waitFor({ state: 'visible' });
    assert.equal(await sig.getAttribute('data-valid'), 'valid', 'the signature verifies');
    assert.equal(await op.locator('[data-testid="approval-status"]').getAttribute('data-state'), 'approved');

    const api = await pageFetch(op, `/api/v1/approvals/${sub.approvalId}`);
    assert.equal(api.status, 200);
    assert.equal(api.body.status, 'approved');
    assert.equal(api.body.signature_valid, true);
    assert.equal(api.body.decided_by.username, operator.username);
    assert.equal(api.body.result.verification_code, code, 'the page shows the receipt the API gives');
    assert.equal((await op.getByTestId('signature-key-id').textContent()).trim(), api.body.key_id);
    assert.equal((await result.getByTestId('result-serial').textContent()).trim(), api.body.result.serial);

    // The agent sees it approved, by the operator, with the code.
    await page.getByRole('link', { name: '我的申请' }).first().click();
    await page.waitForURL(/\/agent\/approvals$/);
    await rowState(page, sub.approvalId, 'approved');
    const mine = rowOf(page, sub.approvalId);
    assert.ok((await mine.textContent()).includes(operator.username), 'decided by the operator');
    assert.equal((await mine.getByTestId('verification-code').textContent()).trim(), code);
    assert.equal(await mine.getByRole('button', { name: '撤回' }).count(), 0, 'nothing to withdraw once approved');
  });
});

test('the maker of a policy change cannot approve it; a second operator rejects it with a reason', async (t) => {
  await withBrowser(t, { demo: DEMO }, async ({ srv, page, openPage }) => {
    const operator = demoLogin(srv, 'operator');
    await loginWithTotp(page, srv, operator, 'operator');
    const now = await pageFetch(page, '/api/v1/policy');
    assert.equal(now.status, 200);
    const newMin = now.body.min_wage === '2300.00' ? '2400.00' : '2300.00';

    await page.getByRole('link', { name: '待复核' }).click();
    await page.getByTestId('new-policy').click();
    await page.waitForURL(/\/operator\/policies\/new$/);
    await page.getByTestId('policy-current').waitFor({ state: 'visible' });
    assert.equal(await page.getByTestId('policy-min-wage').inputValue(), now.body.min_wage, 'the form starts from the version in force');
    await page.getByTestId('policy-from').fill('2026-12-01');
    await page.getByTestId('policy-min-wage').fill(newMin);
    await page.getByTestId('policy-note-input').fill('e2e：最低工资标准调整');
    await page.getByTestId('policy-submit').click();
    const submitted = page.getByTestId('policy-submitted');
    await submitted.waitFor({ state: 'visible' });
    const id = (await submitted.getByTestId('approval-id').textContent()).trim();
    assert.match(id, /^\d+$/);
    const stored = await pageFetch(page, `/api/v1/approvals/${id}`);
    assert.equal(stored.body.status, 'pending');
    assert.equal(stored.body.kind, 'policy.change');
    assert.equal(stored.body.payload.min_wage, newMin);
    assert.equal(stored.body.payload.unit_ratio_max_bp, now.body.unit_ratio_max_bp, 'the unchanged values as in force');

    // The request: old and new side by side, the changed line marked.
    await page.getByTestId('open-approval').click();
    await page.waitForURL(new RegExp(`/operator/approvals/${id}$`));
    const table = page.getByTestId('approval-policy');
    await table.waitFor({ state: 'visible' });
    const minRow = table.locator('tr[data-field="min_wage"]');
    assert.equal(await minRow.getAttribute('data-changed'), 'true');
    assert.equal(plainMoney(await minRow.locator('td[data-col="current"]').textContent()), now.body.min_wage);
    assert.equal(plainMoney(await minRow.locator('td[data-col="proposed"]').textContent()), newMin);
    assert.equal(await table.locator('tr[data-changed="true"]').count(), 1, 'only the minimum wage changed');
    await page.getByTestId('maker-note').waitFor({ state: 'visible' });

    // The maker's own Approve: refused, translated; still pending.
    await decide(page, srv, operator.username, page.getByTestId('approve'), page.getByTestId('error'));
    const err = page.getByTestId('approval-actions').getByTestId('error');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.textContent(), /不能复核自己提交的申请/);
    assert.equal((await pageFetch(page, `/api/v1/approvals/${id}`)).body.status, 'pending');

    // A second operator.
    const pw = 'Checker#2026second';
    const made = await runHpf(['user', 'add-operator', '--username', 'checker2', '--name', '复核员', ...srv.store.args], { input: `${pw}\n` });
    assert.equal(made.code, 0, made.stderr);
    rememberTotp(srv, 'checker2', secretFromUri(made.stdout.split('\n').find((l) => l.startsWith('otpauth://'))));
    const op2 = await openPage();
    await loginWithTotp(op2, srv, { username: 'checker2', password: pw }, 'operator');
    await op2.getByRole('link', { name: '待复核' }).click();
    await rowState(op2, id, 'pending');
    await rowOf(op2, id).getByTestId(`approval-link-${id}`).click();
    await op2.waitForURL(new RegExp(`/operator/approvals/${id}$`));
    await op2.getByTestId('approval-policy').waitFor({ state: 'visible' });
    assert.equal(await op2.getByTestId('maker-note').count(), 0);

    // Rejecting needs a reason.
    await op2.getByTestId('reject').click();
    await op2.getByTestId('reject-confirm').click();
    const e2 = op2.getByTestId('approval-actions').getByTestId('error');
    await e2.waitFor({ state: 'visible' });
    assert.match(await e2.textContent(), /请填写驳回理由/);
    const reason = '生效日期需与年度调整同步';
    await op2.getByTestId('reject-reason').fill(reason);
    await decide(op2, srv, 'checker2', op2.getByTestId('reject-confirm'), op2.getByTestId('decision-notice'));
    await op2.getByTestId('approval-reason').waitFor({ state: 'visible' });
    assert.equal((await op2.getByTestId('approval-reason').textContent()).trim(), reason);
    assert.equal(await op2.locator('[data-testid="approval-status"]').getAttribute('data-state'), 'rejected');
    assert.equal(await op2.getByTestId('signature-valid').getAttribute('data-valid'), 'valid');
    const after = await pageFetch(op2, `/api/v1/approvals/${id}`);
    assert.equal(after.body.status, 'rejected');
    assert.equal(after.body.decided_by.username, 'checker2');
    assert.equal(after.body.signature_valid, true);
    assert.equal(after.body.result, null, 'nothing ran');
    const policy = await pageFetch(op2, '/api/v1/policy?date=2026-12-01');
    assert.equal(policy.body.min_wage, now.body.min_wage, 'the policy in force is unchanged');
  });
});
