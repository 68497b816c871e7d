/** One scratch root for every DATA_DIR the tests create, removed when the run ends. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-tests-'));
  process.env['GATEWAY_TEST_TMP'] = root;
  return () => fs.rmSync(root, { recursive: true, force: true });
}
