// Campaigns end to end against the real API and the demo's simulated number: build a broadcast with a live
// audience count, catch a template mistake, preview it for a contact, start it, watch the funnel fill in,
// then pause, resume and stop it; and build a two-step drip.
import { expect, test } from '@playwright/test';

import { login, nav, shot } from './helpers';

test.describe.configure({ mode: 'serial' });

function count(text: string | null): number {
  return Number((text ?? '').replace(/[^\d]/g, ''));
}

test('create a broadcast, preview it, start it and watch it deliver; pause, resume, stop', async ({ page }) => {
  test.setTimeout(180_000);
  await login(page);
  await nav(page).getByRole('link', { name: 'Campaigns' }).click();
  await expect(page.getByRole('heading', { name: 'Campaigns' })).toBeVisible();
  await page.getByRole('link', { name: 'New campaign' }).click();

  const name = `E2E spring sale ${Date.now()}`;
  await page.getByLabel('Campaign name').fill(name);

  // The live count follows the picker: everyone, then only the vip tag, then everyone again.
  const size = page.getByLabel('Audience size');
  await expect(size).toHaveText(/^[\d,]+ contacts$/);
  const everyone = count(await size.textContent());
  expect(everyone).toBeGreaterThan(100);
  await page.locator('label', { hasText: /^Tags$/ }).click();
  await page.getByRole('textbox', { name: 'Contacts with any of these tags' }).fill('vip');
  await page.keyboard.press('Enter');
  await expect.poll(async () => count(await size.textContent())).toBeLessThan(everyone);
  await expect.poll(async () => count(await size.textContent())).toBeGreaterThan(0);
  await page.locator('label', { hasText: /^All contacts$/ }).click();
  await expect.poll(async () => count(await size.textContent())).toBe(everyone);

  // A misspelt variable comes back as a 422 shown on the message field.
  const message = page.getByRole('textbox', { name: 'Message', exact: true });
  await message.fill('Hi {{ frist_name }}');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page.getByText(/unknown variable 'frist_name'/)).toBeVisible();
  await shot(page, 'campaigns-01-template-error');

  await message.fill('Hi ');
  await page.getByRole('button', { name: 'Insert variable' }).click();
  await page.getByRole('menuitem', { name: 'first_name' }).click();
  await expect(message).toHaveValue('Hi {{ first_name }}');
  await message.fill("Hi {{ first_name | default('there') }}, {our spring sale starts today|the spring sale is on}!");
  await expect(page.getByText('2 spintax variations', { exact: false })).toBeVisible();
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page).toHaveURL(/\/campaigns\/\d+\/edit$/);

  // Preview for one contact: variables filled in, spintax resolved.
  await page.getByRole('textbox', { name: 'Preview contact' }).click();
  await page.getByRole('textbox', { name: 'Preview contact' }).fill('a');
  await page.getByRole('option').first().click();
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  const preview = page.getByLabel('Message preview');
  await expect(preview).toHaveText(/^Hi .+, (our spring sale starts today|the spring sale is on)!$/);
  await expect(preview).not.toContainText('{{');
  await shot(page, 'campaigns-02-editor-preview');

  await page.getByRole('link', { name: 'Open campaign' }).click();
  const status = page.getByLabel('Campaign status');
  await expect(status).toHaveText('draft');
  await page.getByRole('button', { name: 'Start now' }).click();
  await expect(status).toHaveText('running');

  // The simulated number reports deliveries and reads back; the stats page polls them in.
  const funnel = page.getByRole('table', { name: 'Funnel' });
  await expect.poll(async () => count(await funnel.getByLabel('Delivered').textContent()), { timeout: 60_000 }).toBeGreaterThan(0);
  await expect.poll(async () => count(await funnel.getByLabel('Read').textContent()), { timeout: 60_000 }).toBeGreaterThan(0);
  await expect(page.getByRole('group', { name: 'Throughput' })).toContainText('/min');
  await shot(page, 'campaigns-03-stats-running');

  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(status).toHaveText('paused');
  await expect(page.getByLabel('Pause reason')).toContainText('paused by a user');
  await expect(page.getByRole('group', { name: 'Projected finish' })).toContainText('paused');
  await shot(page, 'campaigns-04-paused');
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(status).toHaveText('running');
  await expect(page.getByLabel('Pause reason')).toHaveCount(0);

  await page.getByRole('button', { name: 'Stop' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Stop campaign' }).click();
  await expect(status).toHaveText(/stopped|completed/);

  await nav(page).getByRole('link', { name: 'Campaigns' }).click();
  const row = page.getByRole('table', { name: 'Campaigns' }).getByRole('row', { name: new RegExp(name) });
  await expect(row).toBeVisible();
  await expect(row.getByRole('progressbar')).toBeVisible();
  await shot(page, 'campaigns-05-list');
});

test('build a two-step drip with a delay and a condition', async ({ page }) => {
  await login(page);
  await page.goto('/campaigns/new');
  await page.getByLabel('Campaign name').fill(`E2E onboarding ${Date.now()}`);
  await page.locator('label', { hasText: /^Drip$/ }).click();
  await page.getByLabel('Enrol an audience when the campaign starts').uncheck();
  await page.getByRole('textbox', { name: 'Step 1 message' }).fill('Welcome {{ first_name }}!');
  await page.getByRole('button', { name: 'Add step' }).click();
  const second = page.getByRole('group', { name: 'Step 2' });
  await second.getByRole('textbox', { name: 'Step 2 message' }).fill('Still there? {Reply|Answer} YES for 10% off.');
  await second.getByLabel('Wait').fill('2');
  await second.getByRole('textbox', { name: 'Send only if' }).click();
  await page.getByRole('option', { name: 'the contact has not replied' }).click();
  await expect(second).toContainText('2 days after the previous step · only if the contact has not replied');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page).toHaveURL(/\/campaigns\/\d+\/edit$/);
  await shot(page, 'campaigns-06-drip-builder');

  await page.getByRole('link', { name: 'Open campaign' }).click();
  await expect(page.getByText('Step 2 · 2 days after the previous step · only if the contact has not replied')).toBeVisible();
  await expect(page.getByRole('table', { name: 'Step analytics' }).getByRole('row')).toHaveCount(3);
  await shot(page, 'campaigns-07-drip-detail');
});

test('a viewer sees campaigns and their stats but cannot change them', async ({ page }) => {
  const auth = await page.request.post('/api/v1/auth/login-json', { data: { email: 'admin@greenline.local', password: 'greenline-demo' } });
  const { access_token: token } = (await auth.json()) as { access_token: string };
  const email = `viewer-${Date.now()}@example.com`;
  const created = await page.request.post('/api/v1/users/', {
    headers: { Authorization: `Bearer ${token}` },
    data: { email, password: 'viewer-password-1', full_name: 'Vera Viewer', role: 'viewer' },
  });
  expect(created.status()).toBe(201);

  await login(page, email, 'viewer-password-1');
  await nav(page).getByRole('link', { name: 'Campaigns' }).click();
  await expect(page.getByRole('link', { name: 'New campaign' })).toHaveCount(0);
  await page.getByRole('table', { name: 'Campaigns' }).getByRole('link', { name: /E2E spring sale/ }).first().click();
  await expect(page.getByLabel('Campaign status')).toBeVisible();
  await expect(page.getByRole('table', { name: 'Funnel' })).toBeVisible();
  for (const action of ['Start now', 'Schedule', 'Pause', 'Resume', 'Stop', 'Duplicate']) {
    await expect(page.getByRole('button', { name: action })).toHaveCount(0);
  }
  await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  await shot(page, 'campaigns-08-viewer');
  // The editor is not theirs: its address leads back to the read-only view.
  const url = page.url();
  await page.goto(`${url}/edit`);
  await expect(page).toHaveURL(url);
});
