import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { type Page, expect } from '@playwright/test';

export const ADMIN = { email: 'admin@greenline.local', password: 'greenline-demo' };
const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-artifacts');

export async function login(page: Page, email = ADMIN.email, password = ADMIN.password): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Account menu' })).toBeVisible();
}

/** A full-page screenshot under test-artifacts/, one per page the suite visits. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => undefined);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export function nav(page: Page) {
  return page.getByRole('navigation', { name: 'Main navigation' });
}
