// Times the contacts page as a person sees it: rows visible after clicking "Contacts", and after "Next";
// and, as the baseline, a full load of `/` until the home page shows.
// Driven by bench/dashboard_contacts.py, which reads the JSON line this prints (prefixed BENCH_RESULT).
import { expect, test } from '@playwright/test';

const EMAIL = process.env.BENCH_EMAIL ?? '';
const PASSWORD = process.env.BENCH_PASSWORD ?? '';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '5');

test('contacts page timings', async ({ page }) => {
  const started = Date.now();
  await page.goto('/login');
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Account menu' })).toBeVisible();
  const loginMs = Date.now() - started;

  const home: number[] = [];
  const firstRows: number[] = [];
  const nextPage: number[] = [];
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  const table = page.getByRole('table', { name: 'Contacts' });
  for (let round = 0; round < ROUNDS; round++) {
    // A full load each round, so the query cache is empty and every figure includes the API call.
    let t = Date.now();
    await page.goto('/');
    await expect(page.getByRole('group', { name: 'Hot leads' })).toBeVisible();
    home.push(Date.now() - t);

    t = Date.now();
    await nav.getByRole('link', { name: 'Contacts' }).click();
    await expect(table.getByRole('row').nth(1)).toBeVisible();
    firstRows.push(Date.now() - t);

    const firstName = await table.getByRole('row').nth(1).getByRole('link').first().textContent();
    t = Date.now();
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(table.getByRole('row').nth(1).getByRole('link').first()).not.toHaveText(firstName ?? '');
    nextPage.push(Date.now() - t);
  }
  const rows = await table.getByRole('row').count();
  console.log(`BENCH_RESULT ${JSON.stringify({ login_ms: loginMs, home_ms: home, first_rows_ms: firstRows, next_page_ms: nextPage, rows_on_page: rows - 1 })}`);
});
