// End-to-end tests: Debian's chromium (Playwright's own browser download does not work here) against a real
// `greenline demo` server on a free port, with a fresh embedded SQLite database seeded with the demo tenant.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { defineConfig } from '@playwright/test';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Computed once in the runner process; the workers inherit them through the environment.
if (!process.env.E2E_PORT) {
  process.env.E2E_PORT = execFileSync('python3', ['-c', "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
    .toString()
    .trim();
}
if (!process.env.E2E_DATA_DIR) process.env.E2E_DATA_DIR = mkdtempSync(path.join(tmpdir(), 'greenline-e2e-'));
const port = Number(process.env.E2E_PORT);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: './e2e',
  outputDir: path.join(root, 'test-artifacts', 'playwright'),
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL,
    viewport: { width: 1280, height: 860 },
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    },
  },
  webServer: {
    command: `${path.join(root, '.venv', 'bin', 'greenline')} demo --host 127.0.0.1 --port ${port}`,
    cwd: root,
    url: `${baseURL}/api/v1/health/health`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      GREENLINE_DATABASE_URL: `sqlite:///${path.join(process.env.E2E_DATA_DIR, 'e2e.db')}`,
      GREENLINE_DEMO_TRAFFIC: 'false',
      GREENLINE_LOG_LEVEL: 'WARNING',
    },
  },
});
