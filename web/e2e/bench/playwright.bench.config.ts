// Playwright config of the dashboard benchmark only (bench/dashboard_contacts.py starts the server and passes
// BENCH_BASE_URL); its `.bench.ts` files are not matched by the e2e suite's default `*.spec.ts` pattern.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { defineConfig } from '@playwright/test';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  testDir: here,
  testMatch: '*.bench.ts',
  outputDir: path.join(here, '..', '..', '..', 'test-artifacts', 'bench'),
  workers: 1,
  retries: 0,
  timeout: 300_000,
  expect: { timeout: 60_000 },
  reporter: [['line']],
  use: {
    baseURL: process.env.BENCH_BASE_URL,
    viewport: { width: 1280, height: 860 },
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    },
  },
});
