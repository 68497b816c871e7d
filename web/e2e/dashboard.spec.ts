// The dashboard end to end, as a marketer and a sales user would use it, against the real API.
import { expect, test } from '@playwright/test';

import { ADMIN, login, nav, shot } from './helpers';

test.describe.configure({ mode: 'serial' });

test('log in, see the home page, and a wrong password is refused', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await shot(page, '00-login');

  await login(page);
  await expect(page.getByRole('heading', { name: 'Demo Company' })).toBeVisible();
  await expect(page.getByRole('group', { name: 'Hot leads' })).toBeVisible();
  // Campaign KPIs from /campaigns/overview: the demo's replayed campaigns give real rates.
  await expect(page.getByRole('group', { name: 'Delivery rate' })).toContainText(/\d+(\.\d)?%/);
  await expect(page.getByRole('group', { name: 'Read rate' })).toContainText(/\d+(\.\d)?%/);
  await expect(page.getByRole('group', { name: 'Running campaigns' })).toContainText(/\d/);
  await expect(page.getByRole('group', { name: 'Messages sent today' })).toContainText(/since midnight/);
  // Usage against the plan's monthly quotas, as progress bars.
  const quota = page.getByRole('region', { name: 'Usage vs plan' });
  await expect(quota).toContainText('API calls this month');
  await expect(quota.getByRole('progressbar', { name: 'Messages this month used of plan' })).toHaveAttribute('aria-valuenow', /^\d+(\.\d+)?$/);
  await shot(page, '01-home');

  // An expired access token is refreshed without the user noticing.
  const session = () => page.evaluate(() => JSON.parse(localStorage.getItem('greenline.session') ?? 'null'));
  const before = await session();
  await page.evaluate(() => {
    const stored = JSON.parse(localStorage.getItem('greenline.session')!);
    localStorage.setItem('greenline.session', JSON.stringify({ ...stored, accessToken: 'expired' }));
  });
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Demo Company' })).toBeVisible();
  const after = await session();
  expect(after.accessToken).not.toBe('expired');
  expect(after.refreshToken).not.toBe(before.refreshToken);

  // A session the server no longer accepts ends on the login page.
  await page.evaluate(() => localStorage.setItem('greenline.session', JSON.stringify({ accessToken: 'bad', refreshToken: 'bad', tenantId: null })));
  await page.goto('/contacts');
  await expect(page).toHaveURL(/\/login$/);
});

test('import a CSV, see the contacts, and download the error report', async ({ page }) => {
  await login(page);
  await page.goto('/contacts/import');
  const csv = ['Mobile,Full name,City', '+14155550181,Ada Lovelace,London', '+14155550182,Alan Turing,Wilmslow', 'not-a-phone,Bad Row,Nowhere'].join('\n');
  await page.locator('input[type=file]').setInputFiles({ name: 'e2e-contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await expect(page.getByLabel('Field for column Mobile')).toHaveValue('phone');
  await page.getByRole('textbox', { name: 'Tags added to every imported contact' }).fill('e2e-import');
  await page.keyboard.press('Enter');
  await shot(page, '02-import-mapping');
  await page.getByRole('button', { name: 'Start import' }).click();
  await expect(page.getByText('Import finished')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByLabel('Created')).toHaveText('2');
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download error report' }).click();
  expect((await download).suggestedFilename()).toMatch(/errors\.csv$/);
  await shot(page, '03-import-done');

  const started = Date.now();
  await page.getByRole('link', { name: 'See the contacts' }).click();
  await expect(page.getByRole('table', { name: 'Contacts' }).getByRole('row').nth(1)).toBeVisible();
  console.log(`contacts page: first page of rows shown ${Date.now() - started} ms after navigation`);
  await page.getByLabel('Search').fill('Lovelace');
  const table = page.getByRole('table', { name: 'Contacts' });
  await expect(table.getByRole('link', { name: 'Ada Lovelace' })).toBeVisible();
  await expect(table.getByRole('row')).toHaveCount(2);
  await shot(page, '04-contacts');

  await table.getByRole('link', { name: 'Ada Lovelace' }).click();
  await expect(page.getByRole('heading', { name: 'Ada Lovelace' })).toBeVisible();
  await expect(page.getByText('Subscribed')).toBeVisible();
  await page.getByRole('button', { name: 'Opt out' }).click();
  await expect(page.getByText('Opted out', { exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Record opt-in' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Campaigns' })).toBeVisible();
  await expect(page.getByText('This contact has not been in any campaign yet.')).toBeVisible();
  await shot(page, '05-contact-detail');

  // A demo contact enrolled in the replayed onboarding drip shows it, with its messages, in its history.
  const contactId = await page.evaluate(async () => {
    const token = JSON.parse(localStorage.getItem('greenline.session')!).accessToken as string;
    const get = async (url: string) => (await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).json();
    const campaigns = await get('/api/v1/campaigns/?q=Trial%20onboarding');
    const progress = await get(`/api/v1/multi-features/campaigns/${campaigns.items[0].id}/progress?limit=1`);
    return progress.items[0].contact_id as number;
  });
  await page.goto(`/contacts/${contactId}`);
  const history = page.getByRole('group', { name: 'Campaign Trial onboarding' });
  await expect(history.getByRole('link', { name: 'Trial onboarding' })).toBeVisible();
  await expect(history).toContainText('drip');
  await expect(history).toContainText('Step 1');
  await shot(page, '05b-contact-campaigns');
});

test('build a segment with a live count and save it', async ({ page }) => {
  await login(page);
  await nav(page).getByRole('link', { name: 'Segments' }).click();
  await page.getByLabel('Segment name').fill('E2E imported');
  await page.getByLabel('Value').fill('e2e-import');
  await expect(page.getByLabel('Matching contacts')).toHaveText('2 contacts');
  await page.getByRole('button', { name: 'Save segment' }).click();
  await expect(page.getByLabel('Saved segments').getByText('E2E imported')).toBeVisible();
  await shot(page, '06-segments');
  await page.getByRole('link', { name: 'View contacts' }).click();
  const rows = page.getByRole('table', { name: 'Contacts' }).getByRole('row');
  await expect(rows).toHaveCount(3);
  await expect(rows.filter({ hasText: 'Alan Turing' })).toBeVisible();
});

test('reply in the inbox', async ({ page }) => {
  await login(page);
  await nav(page).getByRole('link', { name: 'Inbox' }).click();
  await expect(page.getByRole('textbox', { name: 'Status' })).toHaveValue('open');
  await page.getByRole('list', { name: 'Conversations' }).getByRole('listitem').first().click();
  await expect(page).toHaveURL(/\/inbox\/\d+$/);
  const reply = `Thanks, we are on it (e2e ${Date.now()})`;
  await page.getByLabel('Reply').fill(reply);
  await page.getByRole('button', { name: 'Send' }).click();
  const log = page.getByRole('log', { name: 'Messages' });
  const bubble = log.locator('[data-message-id]', { hasText: reply });
  await expect(bubble).toBeVisible();
  // The simulated number reports the send back: the tick moves past "sending".
  await expect(bubble.locator('[data-status]')).toHaveAttribute('data-status', /^(sent|delivered|read)$/, { timeout: 30_000 });
  await expect(page.getByLabel('Reply')).toHaveValue('');
  await shot(page, '07-inbox');
});

test('move a lead across stages by dragging it', async ({ page }) => {
  await login(page);
  await nav(page).getByRole('link', { name: 'Leads' }).click();
  const from = page.getByRole('region', { name: 'Stage new' });
  const to = page.getByRole('region', { name: 'Stage contacted' });
  const card = from.locator('[data-lead-id]').first();
  await expect(card).toBeVisible();
  const leadId = await card.getAttribute('data-lead-id');
  const source = (await card.boundingBox())!;
  const target = (await to.boundingBox())!;
  await page.mouse.move(source.x + source.width / 2, source.y + 15);
  await page.mouse.down();
  await page.mouse.move(source.x + source.width / 2 + 20, source.y + 25, { steps: 5 });
  await page.mouse.move(target.x + target.width / 2, target.y + 60, { steps: 15 });
  await page.mouse.up();
  await expect(to.locator(`[data-lead-id="${leadId}"]`)).toBeVisible();
  await expect(from.locator(`[data-lead-id="${leadId}"]`)).toHaveCount(0);
  await shot(page, '08-leads-board');
  await page.getByRole('tab', { name: 'List' }).click();
  await expect(page.getByRole('table', { name: 'Leads' })).toBeVisible();
  await shot(page, '09-leads-list');
});

test('create an API key: the secret is shown once', async ({ page }) => {
  await login(page);
  await nav(page).getByRole('link', { name: 'Settings' }).click();
  await shot(page, '10-settings-profile');
  await page.getByRole('tab', { name: 'API keys' }).click();
  await page.getByRole('button', { name: 'Create API key' }).click();
  await page.getByLabel('Key name').fill('E2E shop backend');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = page.getByLabel('New API key', { exact: true });
  await expect(secret).toBeVisible();
  const key = (await secret.textContent()) ?? '';
  expect(key.length).toBeGreaterThan(20);
  await expect(page.getByRole('button', { name: 'Copy key' })).toBeVisible();
  await shot(page, '11-api-key-created');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('table', { name: 'API keys' }).getByText('E2E shop backend')).toBeVisible();
  await expect(page.getByText(key)).toHaveCount(0);
  // The key works against the API.
  const response = await page.request.get('/api/v1/contacts/?limit=1', { headers: { 'X-API-Key': key } });
  expect(response.status()).toBe(200);

  await page.getByRole('tab', { name: 'Users and roles' }).click();
  await expect(page.getByRole('table', { name: 'Users' })).toBeVisible();
  await shot(page, '12-settings-team');
  await page.getByRole('tab', { name: 'Webhooks' }).click();
  await expect(page.getByText('Delivery log')).toBeVisible();
  await shot(page, '13-settings-webhooks');
});

test('connect a simulated number', async ({ page }) => {
  await login(page);
  await nav(page).getByRole('link', { name: 'WhatsApp numbers' }).click();
  await page.getByRole('button', { name: 'Connect a number' }).click();
  await page.getByLabel('Name').fill('E2E simulated line');
  await page.getByLabel('Phone number').fill('+14155550199');
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  const card = page.getByRole('region', { name: 'Number E2E simulated line' });
  await expect(card).toBeVisible();
  await expect(card.getByLabel('Status connected')).toBeVisible();
  await expect(page.getByRole('dialog')).toBeHidden();
  await shot(page, '14-numbers');
});

test('the superadmin creates a tenant and switches to it', async ({ page }) => {
  await login(page);
  await nav(page).getByRole('link', { name: 'Tenants' }).click();
  const tenants = page.getByRole('table', { name: 'Tenants' });
  await expect(tenants.getByText('Demo Company')).toBeVisible();
  await page.getByRole('button', { name: 'New tenant' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name').fill('E2E Second Shop');
  await dialog.getByLabel("First admin's email (optional)").fill(ADMIN.email);
  await dialog.getByRole('button', { name: 'Create tenant' }).click();
  await expect(tenants.getByText('E2E Second Shop')).toBeVisible();
  await shot(page, '15-tenants');

  await page.getByRole('textbox', { name: 'Tenant' }).click();
  await page.getByRole('option', { name: /E2E Second Shop/ }).click();
  await expect(page.getByRole('heading', { name: 'E2E Second Shop' })).toBeVisible();
  await nav(page).getByRole('link', { name: 'Contacts' }).click();
  await expect(page.getByText('No contacts yet. Import a CSV or add a contact to get started.')).toBeVisible();
  await shot(page, '16-second-tenant-contacts');
  await page.getByRole('textbox', { name: 'Tenant' }).click();
  await page.getByRole('option', { name: /Demo Company/ }).click();
  await expect(page.getByRole('heading', { name: 'Demo Company' })).toBeVisible();
});

test("a sales user's view has no tenant settings", async ({ page }) => {
  await login(page);
  await nav(page).getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('tab', { name: 'Users and roles' }).click();
  await page.getByRole('button', { name: 'Add user' }).click();
  const email = `sales-${Date.now()}@example.com`;
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Email').fill(email);
  await dialog.getByLabel('Full name').fill('Sam Sales');
  await dialog.getByLabel('Initial password').fill('sales-password-1');
  await dialog.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByRole('table', { name: 'Users' }).getByText(email)).toBeVisible();

  await page.getByRole('button', { name: 'Account menu' }).click();
  await page.getByRole('menuitem', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await login(page, email, 'sales-password-1');
  const links = nav(page).getByRole('link');
  await expect(links.filter({ hasText: 'Leads' })).toBeVisible();
  await expect(links.filter({ hasText: 'Settings' })).toHaveCount(0);
  await expect(links.filter({ hasText: 'Tenants' })).toHaveCount(0);
  await expect(page.getByRole('group', { name: 'Messages sent today' })).toHaveCount(0);
  await shot(page, '17-sales-home');
  await page.goto('/settings/api-keys');
  await expect(page).toHaveURL(/\/$/);
  await nav(page).getByRole('link', { name: 'Inbox' }).click();
  await expect(page.getByRole('heading', { name: 'Inbox' })).toBeVisible();
  await shot(page, '18-sales-inbox');
});

test('on a phone the sidebar collapses behind a menu button', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await login(page);
  await expect(nav(page)).not.toBeInViewport();
  await page.getByRole('button', { name: 'Toggle navigation' }).click();
  await expect(nav(page)).toBeInViewport();
  await shot(page, '19-mobile-navigation');
  await nav(page).getByRole('link', { name: 'Contacts' }).click();
  await expect(page.getByRole('heading', { name: 'Contacts' })).toBeVisible();
  await expect(nav(page)).not.toBeInViewport();
  await shot(page, '20-mobile-contacts');
});
