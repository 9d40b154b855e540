// Browser test of the operator's account-state panel (web/src/components/MemberStatePanel.vue;
// docs/internals/accounts.md): on the member lookup page a normal account offers 封存, 冻结 and
// 内部转移; sealing without a reason is refused by the server with the field marked; sealing
// with one shows the notice, the state 封存, the 启封 button instead and a history row with the
// reason; 启封 brings it back. Helpers in browser.mjs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoLogin } from '../lib/server.mjs';
import { loginWithTotp, pageFetch, withBrowser } from './browser.mjs';

const DEMO = { employers: 2, members: 4, months: 1, seed: 7 };

test('operator: seal a member with a reason, see the history, unseal it', async (t) => {
  await withBrowser(t, { demo: DEMO }, async ({ srv, page }) => {
    await loginWithTotp(page, srv, demoLogin(srv, 'operator'), 'operator');
    const emps = await pageFetch(page, '/api/v1/employers?limit=1');
    const dwzh = emps.body.items[0].account_no;
    const ms = await pageFetch(page, `/api/v1/employers/${dwzh}/members?limit=1`);
    const grzh = ms.body.items[0].account_no;

    await page.goto(`${srv.url}/operator/members?account=${grzh}`);
    const panel = page.getByTestId('member-state');
    await panel.waitFor({ state: 'visible' });
    assert.equal((await panel.getByTestId('state-code').textContent()).trim(), '正常');
    for (const a of ['seal', 'freeze', 'transfer']) assert.ok(await panel.getByTestId(`state-${a}`).isVisible(), `${a} offered`);
    assert.equal(await panel.getByTestId('state-unseal').count(), 0, 'no unseal for a normal account');
    await panel.getByTestId('state-history').getByText('暂无状态变更').waitFor({ state: 'visible' });

    // Without a reason: the server's 400 account.reason, the field marked.
    await panel.getByTestId('state-seal').click();
    await panel.getByTestId('state-submit').click();
    await panel.getByTestId('error').waitFor({ state: 'visible' });
    assert.equal(await panel.getByTestId('state-reason').getAttribute('aria-invalid'), 'true');

    await panel.getByTestId('state-reason').fill('劳动合同解除');
    await panel.getByTestId('state-submit').click();
    await panel.getByTestId('state-notice').waitFor({ state: 'visible' });
    assert.match(await panel.getByTestId('state-notice').textContent(), /封存/);
    await panel.getByTestId('state-unseal').waitFor({ state: 'visible' });
    assert.equal((await panel.getByTestId('state-code').textContent()).trim(), '封存');
    const row = panel.getByTestId('state-history').locator('tbody tr').first();
    await row.getByText('劳动合同解除').waitFor({ state: 'visible' });
    assert.match(await row.textContent(), /正常 → 封存/);
    const api = await pageFetch(page, `/api/v1/members/${grzh}`);
    assert.equal(api.body.state_code, '02');

    await panel.getByTestId('state-unseal').click();
    await panel.getByTestId('state-submit').click();
    await panel.getByTestId('state-seal').waitFor({ state: 'visible' });
    assert.equal((await panel.getByTestId('state-code').textContent()).trim(), '正常');
    assert.equal(await panel.getByTestId('state-history').locator('tbody tr').count(), 2);
  });
});
